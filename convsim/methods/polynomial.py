"""Gradient descent preconditioned by a polynomial in the Hessian (Doikov & Rodomanov 2023, arXiv 2301.13194).

The preconditioner P = Σ_i c_i H^i is applied to the gradient by Horner's rule with ``degree``
Hessian-vector products per step, so the method never forms a matrix.  The symmetric-polynomial
preconditioner of the paper, P_τ(H) = ∇σ_{τ+1}(H) = Σ_{i=0}^{τ} (−1)^i σ_{τ−i}(H) H^i (σ_k the
elementary symmetric polynomials of the eigenvalues), needs only the power traces tr(H^k), k ≤ τ + 1:
:func:`symmetric_polynomial_preconditioner` turns them into its coefficients by Newton's identities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import ConvsimError, positive, require
from ..schedules import Schedule
from .base import Method


class PolynomialIterate(NamedTuple):
    x: Any


def elementary_symmetric_from_power_sums(power_sums) -> tuple[float, ...]:
    """σ_0..σ_n from the power sums p_1..p_n (p_k = tr(H^k)) by Newton's identities k σ_k = Σ_i (−1)^{i−1} σ_{k−i} p_i."""
    p = [float(v) for v in power_sums]
    sigma = [1.0]
    for k in range(1, len(p) + 1):
        sigma.append(sum((-1) ** (i - 1) * sigma[k - i] * p[i - 1] for i in range(1, k + 1)) / k)
    return tuple(sigma)


def symmetric_polynomial_preconditioner(power_sums, degree: int) -> tuple[tuple[float, ...], float]:
    """Coefficients (c_0..c_τ) of P_τ(H) = ∇σ_{τ+1}(H), c_i = (−1)^i σ_{τ−i}(H), and σ_{τ+1}(H).

    ``power_sums`` are tr(H^k) for k = 1..τ+1.  On the eigenvector q_j of H, P_τ(H) H has the
    eigenvalue λ_j σ_τ(λ without λ_j) ∈ (0, σ_{τ+1}(λ)], so 1/σ_{τ+1}(H) is the step of the paper's
    preconditioned gradient method (its smoothness constant relative to P_τ^{−1}, equal to 1 when the
    preconditioner is normalised by σ_{τ+1}).
    """
    tau = positive("degree", degree + 1, integer=True) - 1
    require(len(power_sums) >= tau + 1, f"a degree-{tau} symmetric preconditioner needs tr(H^k) for k = 1..{tau + 1}, "
                                        f"got {len(power_sums)} traces")
    sigma = elementary_symmetric_from_power_sums(list(power_sums)[:tau + 1])
    if not sigma[tau + 1] > 0:
        raise ConvsimError(f"sigma_{tau + 1}(H) = {sigma[tau + 1]:g} is not positive: H is not positive definite "
                           "or its traces lost precision")
    return tuple((-1) ** i * sigma[tau - i] for i in range(tau + 1)), sigma[tau + 1]


@dataclass(frozen=True)
class PolynomialPreconditionedGD(Method):
    """x_{t+1} = x_t − γ_t P(∇²f(x_t)) ĝ(x_t), P(H) = Σ_{i=0}^{k} c_i H^i (k = len(coefficients) − 1 HVPs a step).

    With the coefficients of :func:`symmetric_polynomial_preconditioner` and γ = 1/σ_{τ+1}(H) this is the
    paper's gradient method with the symmetric polynomial preconditioner; other coefficients give any
    polynomial preconditioner (c = (1,) is plain GD).
    """

    step_size: Schedule | float
    coefficients: tuple[float, ...] = (1.0,)

    name = "polynomial-precond-gd"
    description = "gradient descent preconditioned by a polynomial in the Hessian, applied through HVPs (Horner)"
    source = "Doikov & Rodomanov (2023), arXiv 2301.13194"

    def __post_init__(self):
        self._schedule_step_size()
        coefficients = tuple(float(c) for c in self.coefficients)
        require(len(coefficients) >= 1 and all(math.isfinite(c) for c in coefficients),
                f"coefficients must be a non-empty tuple of finite numbers, got {self.coefficients!r}")
        object.__setattr__(self, "coefficients", coefficients)

    @property
    def degree(self) -> int:
        return len(self.coefficients) - 1

    def init(self, x0):
        return PolynomialIterate(x0)

    def precondition(self, oracle, x, g):
        """P(∇²f(x)) g by Horner's rule: v ← c_k g, then v ← c_i g + H v for i = k−1..0."""
        *lower, top = self.coefficients
        v = top * g
        for c in reversed(lower):
            v = c * g + oracle.hvp(x, v)
        return v

    def step(self, state, oracle, t):
        x = state.x
        return PolynomialIterate(x - self.step_size(t) * self.precondition(oracle, x, oracle.stochastic_grad(x)))
