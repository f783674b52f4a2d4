"""Preconditioned gradient methods on factorized low-rank parameters.

ScaledGD(λ) (Xu, Shen, Chi & Ma, "The Power of Preconditioning in Overparameterized Low-Rank
Matrix Sensing", arXiv:2302.01186): gradient descent on the factor X ∈ R^{n×k} of M = X Xᵀ,
right-preconditioned by the damped inverse Gram matrix of the factor,

    X ← X − η ∇_X f(X) (XᵀX + λ I_k)⁻¹,

with a fixed damping λ > 0 (λ = 0 is the undamped ScaledGD of Tong, Ma & Chi, arXiv:2005.08898,
which needs an invertible XᵀX and so a spectral initialization of the exact rank).  For an
asymmetric factorization M = F Gᵀ each factor is preconditioned by the other's Gram matrix,
F ← F − η ∇_F f (GᵀG + λI)⁻¹, G ← G − η ∇_G f (FᵀF + λI)⁻¹ (both from the same iterate), as in
ScaledGD for F Gᵀ.

The problem must expose its factors: ``problem.factors(x)`` returning the batched factor matrices
(R, n, k), (R, n2, k) of a flat parameter array, and ``problem.symmetric`` (as
:class:`convsim.problems.matrix_sensing.MatrixSensing` does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from array_api_compat import array_namespace

from ..errors import ConvsimError, in_range
from ..schedules import Schedule
from .base import Method
from .gradient import Iterate


def damped_right_solve(xp, G, X, damping: float):
    """G (XᵀX + λI)⁻¹ for batched G (R, n, k), X (R, m, k), by a linear solve (the Gram matrix is symmetric)."""
    k = X.shape[-1]
    gram = X.mT @ X + damping * xp.eye(k, dtype=X.dtype)
    return xp.linalg.solve(gram, G.mT).mT


@dataclass(frozen=True)
class ScaledGD(Method):
    """ScaledGD(λ): X ← X − η ∇f(X) (XᵀX + λI)⁻¹ on factor parameters (F, G: each by the other's Gram)."""

    step_size: Schedule | float
    damping: float = 0.0

    name = "scaledgd"
    description = "scaled (preconditioned) gradient descent on low-rank factors, with damping lambda"
    source = "Tong, Ma & Chi (arXiv 2005.08898); ScaledGD(lambda): Xu, Shen, Chi & Ma (arXiv 2302.01186)"

    def __post_init__(self):
        self._schedule_step_size()
        in_range("damping", self.damping, 0.0, math.inf)

    def init(self, x0):
        return Iterate(x0)

    def step(self, state, oracle, t):
        problem, x = oracle.problem, state.x
        if not hasattr(problem, "factors"):
            raise ConvsimError(f"ScaledGD needs a factorized problem (with factors(x)); {problem.name!r} has none")
        xp = array_namespace(x)
        F, G = problem.factors(x)
        dF, dG = problem.factors(oracle.grad(x))
        eta, R = self.step_size(t), x.shape[0]
        if problem.symmetric:
            F_new = F - eta * damped_right_solve(xp, dF, F, self.damping)
            return Iterate(xp.reshape(F_new, (R, -1)))
        F_new = F - eta * damped_right_solve(xp, dF, G, self.damping)
        G_new = G - eta * damped_right_solve(xp, dG, F, self.damping)
        return Iterate(xp.concat([xp.reshape(F_new, (R, -1)), xp.reshape(G_new, (R, -1))], axis=1))
