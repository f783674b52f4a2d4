"""SSO: stochastic surrogate optimization in target space (Lavington, Vaswani, Babanezhad, Schmidt & Le Roux 2023,
arXiv 2302.02607, Alg. "SSO"; the authors' code: WilderLavington/Target-Based-Surrogates-For-Stochastic-Optimization,
``optimizers/sgd_fmdopt.py``).

For a linear model the targets are the logits z = Xθ ∈ ℝⁿ of all n examples.  Each outer step draws one
minibatch, takes its (expensive) target-space gradient ∇ℓ̂_t(z_t) once, and builds the surrogate

    g_t(ω) = ⟨∇ℓ̂_t(z_t), Xω⟩ + (1/(2η)) ‖Xω − z_t‖²,   z_t = Xθ_t,

whose minimizer over ω is the Euclidean projection onto the realizable targets {Xω} of the target-space SGD
step z_t − η∇ℓ̂_t(z_t) (the paper's "projected SGD in target space").  The surrogate is minimized by
``inner_steps`` (m) gradient steps of size ``inner_step_size`` from ω_0 = θ_t; θ_{t+1} = ω_m.  Because the model
is linear, Xᵀ∇ℓ̂_t(z_t) is the minibatch gradient in θ at θ_t (the oracle's stochastic gradient), and the
proximity term's gradient is (1/η) XᵀX (ω − θ_t): the inner steps need no further loss gradients, which is the
amortization the paper is about.  ``proximal=False`` drops the proximity (projection) term: the inner steps then
repeat the stale gradient m times (a planted bug, not the paper's method).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from array_api_compat import array_namespace

from ..errors import in_range, positive, require
from .base import Method


class SurrogateState(NamedTuple):
    x: Any
    gradients: Any   # (R,): expensive (loss) gradients taken, one per outer step


@dataclass(frozen=True)
class TargetSurrogateSGD(Method):
    """SSO for linear models: a target-space SGD step of size ``eta`` projected by ``inner_steps`` GD steps."""

    eta: float = 1.0
    inner_steps: int = 10
    inner_step_size: float = 1.0
    proximal: bool = True

    name = "sso"
    description = "target-space stochastic surrogate optimization (projected SGD in logit space, m inner GD steps)"
    source = "Lavington, Vaswani, Babanezhad, Schmidt & Le Roux (2023), arXiv 2302.02607"

    def __post_init__(self):
        positive("eta", self.eta)
        in_range("inner_steps", self.inner_steps, 0, float("inf"))
        require(int(self.inner_steps) == self.inner_steps, f"inner_steps must be an integer, got {self.inner_steps!r}")
        positive("inner_step_size", self.inner_step_size)

    def init(self, x0):
        xp = array_namespace(x0)
        return SurrogateState(x0, xp.zeros((x0.shape[0],), dtype=x0.dtype))

    @staticmethod
    def gram(problem, x):
        """XᵀX of the problem's design (a linear model's target Jacobian), cached on the device of ``x``."""
        require(hasattr(problem, "A"), f"SSO needs a linear model with a design matrix A; {problem.name!r} has none")
        return problem.on(x, "sso_gram", lambda: np.asarray(problem.A).T @ np.asarray(problem.A))

    def step(self, state, oracle, t):
        theta, gradients = state
        g = oracle.stochastic_grad(theta)          # Xᵀ ∇ℓ̂_t(z_t): the one expensive gradient of this step
        gram = self.gram(oracle.problem, theta)
        omega = theta
        for _ in range(int(self.inner_steps)):
            surrogate_grad = g + (((omega - theta) @ gram) / self.eta if self.proximal else 0.0)
            omega = omega - self.inner_step_size * surrogate_grad
        return SurrogateState(omega, gradients + 1.0)


def sso_preconditioner(gram, eta: float, inner_steps: int, inner_step_size: float):
    """The matrix P_m with θ_{t+1} = θ_t − P_m ĝ_t for SSO on a linear model (host numpy):

    m GD steps on the quadratic surrogate from θ_t give P_m = η (I − (I − αXᵀX/η)^m) (XᵀX)⁻¹, computed here in
    the eigenbasis of XᵀX (the closed form behind the exact companion claims)."""
    lam, Q = np.linalg.eigh(np.asarray(gram, dtype=np.float64))
    factor = eta * (1.0 - (1.0 - inner_step_size * lam / eta) ** int(inner_steps)) / lam
    return (Q * factor) @ Q.T
