"""The subgradient method with geometrically decaying steps (for sharp nonsmooth losses)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import in_range, positive
from .gradient import Iterate, descend
from .base import Method


@dataclass(frozen=True)
class GeometricSubgradient(Method):
    """x_{t+1} = x_t − η_0 q^t g_t, g_t a subgradient of f at x_t (the problem's ``grad``).

    The geometric schedule η_t = η_0 q^t is the one under which subgradient methods on sharp
    (weakly convex) losses converge linearly, at rate q, once q is close enough to 1; q = 1 is the
    constant step, which only reaches an O(η_0) neighbourhood of a nonsmooth minimum.
    """

    step_size: float
    decay: float = 1.0

    name = "subgradient-geometric"
    description = "subgradient method with geometrically decaying steps eta_0 q^t"
    source = ("Goffin (1977); Davis, Drusvyatskiy, MacPhee & Paquette (arXiv 1707.06625); "
              "Ma & Fattahi (arXiv 2202.08788)")

    def __post_init__(self):
        positive("step_size", self.step_size)
        in_range("decay", self.decay, 0.0, 1.0, closed_low=False, closed_high=True)

    def init(self, x0):
        return Iterate(x0)

    def step(self, state, oracle, t):
        return Iterate(descend(state.x, self.step_size * self.decay ** t, oracle.grad(state.x)))
