"""BO-REP: bilevel optimization with lower-level initialization REfinement and Periodic updates,
for upper levels with unbounded ((L0, L1)) smoothness.

Source: J. Hao, X. Gong, M. Liu, "Bilevel Optimization under Unbounded Smoothness: A New
Algorithm and Convergence Analysis", ICLR 2024, arXiv:2401.09587 (Algorithm 1; the structure
below follows the abstract and the authors' public implementation; the theorem's parameter
choices were not available to us).

One iteration t:

* lower variable, only when t is a multiple of the period I: ``refine_steps`` stochastic
  gradient steps on g(x_t, ·) at t = 0 (initialization refinement), ``periodic_steps`` later;
* linear-system variable v ≈ [∇²_yy g]⁻¹ ∇_y f: one stochastic step v ← v − ν (∇²_yy g v − ∇_y f);
* hypergradient estimate ĥ = ∇_x f − ∇²_xy g v, momentum m ← β m + (1 − β) ĥ;
* normalized step x ← x − η m / ‖m‖ (per replica).

The normalized step moves x by exactly η whatever the gradient's size, which is what keeps
the method stable where the curvature grows with the gradient (L0 + L1‖∇f‖).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from array_api_compat import array_namespace

from ..errors import in_range, positive
from ..schedules import Schedule, as_schedule
from .protocol import BilevelMethod, sum_sq


class BOREPState(NamedTuple):
    x: object
    y: object
    v: object
    m: object
    hg: object
    hg_x: object


@dataclass(frozen=True)
class BOREP(BilevelMethod):
    """BO-REP (arXiv:2401.09587, Algorithm 1): see the module docstring for the update."""

    lr: Schedule = 0.01          # η, the length of every x step
    beta: float = 0.9            # momentum β
    period: int = 5              # I
    refine_steps: int = 100      # lower steps at t = 0
    periodic_steps: int = 5      # lower steps every I iterations afterwards
    inner_step: float = 0.5      # lower-level SGD step
    linear_step: float = 0.5     # ν
    normalize: bool = True       # x moves by η m/‖m‖ (Algorithm 1); False: x − η m (for mutation tests)

    name = "bo-rep"
    description = "normalized-momentum hypergradient method with refined, periodically updated lower variable"
    source = "Hao, Gong, Liu, ICLR 2024, arXiv:2401.09587, Algorithm 1"

    def __post_init__(self):
        object.__setattr__(self, "lr", as_schedule(self.lr))
        in_range("beta", self.beta, 0.0, 1.0, closed_low=True, closed_high=False)
        for name in ("period", "refine_steps", "periodic_steps"):
            positive(name, getattr(self, name), integer=True)
        positive("inner_step", self.inner_step)
        positive("linear_step", self.linear_step)

    def init(self, x0, y0, oracle):
        return BOREPState(x0, y0, y0 * 0.0, x0 * 0.0, x0 * 0.0, x0)

    def step(self, state, oracle, t):
        x, y, v = state.x, state.y, state.v
        if t % self.period == 0:
            for _ in range(self.refine_steps if t == 0 else self.periodic_steps):
                y = y - self.inner_step * oracle.grad_g_y(x, y)
        gx, gy = oracle.grad_f(x, y)
        v = v - self.linear_step * (oracle.hvp_yy(x, y, v) - gy)
        hg = gx - oracle.cross_xy(x, y, v)
        m = self.beta * state.m + (1.0 - self.beta) * hg
        direction = m / (array_namespace(m).sqrt(sum_sq(m))[:, None] + 1e-30) if self.normalize else m
        return BOREPState(x - self.lr(t) * direction, y, v, m, hg, x)
