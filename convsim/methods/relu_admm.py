"""ADMM for the convex (group-lasso) reformulation of two-layer ReLU training (Bai, Gautam & Sojoudi).

Splitting of  min ½‖F u − y‖² + β Σ_j ‖v_j‖ + 1[s ≥ 0]  s.t.  u = v,  G u = s  (scaled duals λ, ν):

    u ← (FᵀF + ρI + ρGᵀG)⁻¹ (Fᵀy + ρ(v − λ) + ρGᵀ(s − ν))
    v ← group soft-threshold of u + λ at β/ρ,     s ← max(G u + ν, 0)
    λ ← λ + γ (u − v),                             ν ← ν + γ (G u − s)

γ = ``dual_step`` (1 is standard ADMM; 0 drops the dual update, leaving a fixed-penalty method).
The problem supplies F, G, y, β and the factorized u-system (``admm_system``); see
convsim.problems.relu_convex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import in_range, positive
from .base import Method


class ADMMState(NamedTuple):
    x: Any        # v, the group-lasso copy (the recorded point)
    u: Any
    slack: Any
    dual_copy: Any
    dual_slack: Any


@dataclass(frozen=True)
class ConvexReluADMM(Method):
    """Scaled-form ADMM on the convex ReLU program (module docstring), penalty ρ, dual step γ."""

    penalty: float = 1.0
    dual_step: float = 1.0

    name = "convex-relu-admm"
    description = "ADMM on the group-lasso convex reformulation of two-layer ReLU training"
    source = "Bai, Gautam & Sojoudi (arXiv 2201.01965), Section 3; Pilanci & Ergen (arXiv 2002.10553)"

    def __post_init__(self):
        positive("penalty", self.penalty)
        in_range("dual_step", self.dual_step, 0.0, 2.0, closed_low=True, closed_high=False)

    def init(self, x0):
        zeros = x0 * 0.0
        return ADMMState(x0, x0, None, zeros, None)

    def step(self, state, oracle, t):
        problem = oracle.problem
        xp = problem.namespace_of(state.x)
        fit, cone, targets, inverse = problem.admm_system(state.x, self.penalty)
        cone_t = xp.permute_dims(cone, (1, 0))
        slack = xp.maximum(state.x @ cone_t, xp.zeros(1, dtype=state.x.dtype)) if state.slack is None else state.slack
        dual_slack = slack * 0.0 if state.dual_slack is None else state.dual_slack
        rho = self.penalty
        right = (targets @ fit)[None, :] + rho * (state.x - state.dual_copy) + rho * ((slack - dual_slack) @ cone)
        u = right @ inverse                                           # the system matrix is symmetric
        shifted = u + state.dual_copy
        grouped = xp.reshape(shifted, (shifted.shape[0], problem.groups, -1))
        norms = xp.sqrt(xp.sum(grouped * grouped, axis=-1, keepdims=True))
        shrink = xp.maximum(1.0 - (problem.regularization / rho) / xp.maximum(norms, xp.full_like(norms, 1e-300)),
                            xp.zeros_like(norms))
        v = xp.reshape(grouped * shrink, shifted.shape)
        cone_u = u @ cone_t
        new_slack = xp.maximum(cone_u + dual_slack, xp.zeros_like(cone_u))
        return ADMMState(v, u, new_slack, state.dual_copy + self.dual_step * (u - v),
                         dual_slack + self.dual_step * (cone_u - new_slack))
