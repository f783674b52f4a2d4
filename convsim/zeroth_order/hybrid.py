"""Hybrid first-order / zeroth-order updates: exact gradients on some coordinates, a ZO estimate on the rest.

:class:`HybridZO` is ElasticZO's split (Sugiura & Matsutani, arXiv 2501.04287): the parameters of the last layers
are trained with back-propagated gradients, the remaining ones with a two-point estimate along ONE shared Gaussian
direction that perturbs only those remaining parameters.  With F the first-order coordinates and Z the others,

    z ~ N(0, P_Z),   δ = [f(x + εz) − f(x − εz)]/(2ε),   x ← x − γ_t (P_F ∇f(x) + δ z)

(``directions`` = n averages n such δ z).  ``first_order=()`` is plain Gaussian ZO-SGD; F = every coordinate is
gradient descent.  ``first_order_oracle="zeroth-order"`` is an ablation: the F block gets its own two-point
estimate (independent directions on F) in place of its gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

from array_api_compat import array_namespace

from ..backend import cached_on, device_cache
from ..errors import positive, require
from ..methods.base import Method
from ..schedules import Schedule
from .estimators import directional_differences
from .methods import Iterate

FIRST_ORDER_ORACLES = ("gradient", "zeroth-order")


@dataclass(frozen=True)
class HybridZO(Method):
    """ElasticZO: x ← x − γ_t (P_F ∇f + δ z), z Gaussian on the zeroth-order coordinates only."""

    step_size: Schedule | float
    first_order: tuple = ()
    smoothing: float = 1e-3
    directions: int = 1
    first_order_oracle: str = "gradient"

    name = "zo-hybrid"
    description = ("hybrid: exact gradients on a fixed coordinate set, a shared two-point Gaussian ZO estimate "
                   "on the rest (ElasticZO's BP last layers + ZO first layers)")
    source = ("Sugiura & Matsutani, ElasticZO: A Memory-Efficient On-Device Learning with Combined Zeroth- and "
              "First-Order Optimization (arXiv 2501.04287)")

    def __post_init__(self):
        self._schedule_step_size()
        positive("smoothing", self.smoothing)
        positive("directions", self.directions, integer=True)
        object.__setattr__(self, "first_order", tuple(int(i) for i in self.first_order))
        require(len(set(self.first_order)) == len(self.first_order) and all(i >= 0 for i in self.first_order),
                "first_order must list distinct non-negative coordinates")
        require(self.first_order_oracle in FIRST_ORDER_ORACLES,
                f"first_order_oracle must be one of {', '.join(FIRST_ORDER_ORACLES)}, got {self.first_order_oracle!r}")

    def first_order_mask(self, d: int):
        import numpy as np

        require(all(i < d for i in self.first_order), f"first_order has coordinates beyond d = {d}")
        out = np.zeros(d)
        out[list(self.first_order)] = 1.0
        return out

    def init(self, x0):
        return Iterate(x0)

    def _two_point(self, oracle, x, mask):
        xp = array_namespace(x)
        z = oracle.rng.normal(self.directions, x.shape[-1]) * mask
        delta = directional_differences(oracle, x, z, self.smoothing, "central")
        return xp.sum(xp.expand_dims(delta, axis=-1) * z, axis=1) / self.directions

    def step(self, state, oracle, t):
        x = state.x
        d = x.shape[-1]
        fo = cached_on(device_cache(self), x, "first_order_mask", lambda: self.first_order_mask(d))
        g = self._two_point(oracle, x, 1.0 - fo)
        if self.first_order_oracle == "gradient":
            g = g + fo * oracle.grad(x)
        else:
            g = g + self._two_point(oracle, x, fo)
        return Iterate(x - self.step_size(t) * g)

    def evaluation_counts(self) -> tuple[int, int]:
        """Function values per step (the gradient on F is not counted: it is a backward pass, not a value)."""
        return (2 * self.directions * (1 if self.first_order_oracle == "gradient" else 2), 0)

    def spec(self):
        return {**super().spec(), "evaluations": list(self.evaluation_counts())}
