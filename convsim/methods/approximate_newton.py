"""Gradient-regularized Newton with approximate Hessians and the gradient-normalized step γ_k
(Semenov, Jaggi & Doikov 2025, "Gradient-Normalized Smoothness for Optimization with Approximate Hessians",
arXiv 2506.13710, Algorithm 1 with the adaptive search of the authors' code, epfml/grad-norm-smooth
``src/methods.py::grad_norm_smooth``):

    x_{k+1} = x_k − (H(x_k) + λ_k I)^{−1} ∇f(x_k),   λ_k = ‖∇f(x_k)‖ / γ_k,

where H(x_k) ⪰ 0 approximates the Hessian and γ_k (the "second-order step size", ‖x_{k+1} − x_k‖ ≤ γ_k) is
searched: starting from the γ carried over, halve γ until f(x_k) − f(x_{k+1}) ≥ ‖∇f(x_{k+1})‖² / (8 λ_k),
then carry 2γ to the next step.  The halvings are evaluated together (a fixed batch of ``search`` trial
values γ, γ/2, ..., γ/2^{search−1}, the first accepted one wins, the last one if none is): the same sequence
as the sequential search of the authors' code whenever it accepts within ``search`` halvings, and no
host synchronisation.

Hessian approximations (``hessian``):
  - "exact": ∇²f from d Hessian-vector products;
  - "fisher": the empirical Fisher of a finite sum, (1/n) Σ_i ℓ'(a_iᵀx)² a_i a_iᵀ, plus reg·I for the
    ℓ2 term (whose Hessian is exact and free) — the paper's approximation for logistic regression;
  - "identity": H = I (the approximation dropped: a regularized gradient step);
  - "zero": H = 0 (the step becomes −γ_k ∇f/‖∇f‖, normalized gradient descent with the searched radius).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..errors import in_range, positive, require
from .base import Method
from .lazy_newton import LazyRegularizedNewton

HESSIAN_APPROXIMATIONS = ("exact", "fisher", "identity", "zero")


class GradNormSmoothState(NamedTuple):
    x: Any
    gamma: Any  # (R,): the step size γ carried to the next search (2 × the last accepted one)


def fisher_matrix(problem, x):
    """(R, d, d) empirical Fisher (1/n) Σ ℓ'(a_iᵀx)² a_i a_iᵀ of a finite sum, plus reg·I."""
    xp = array_namespace(x)
    A, y = problem.on(x, "A", problem.A), problem.on(x, "y", problem.y)
    w = problem.dloss(xp, x @ A.T, y) ** 2 / problem.n  # (R, n)
    out = xp.matmul(xp.matrix_transpose(A[None, ...] * w[..., None]), A[None, ...])
    d = x.shape[-1]
    return out + problem.reg * xp.eye(d, dtype=x.dtype)[None, ...] if problem.reg else out


@dataclass(frozen=True)
class GradNormSmoothNewton(Method):
    """Algorithm 1 of arXiv 2506.13710: x ← x − (H + ‖∇f‖/γ · I)^{−1} ∇f with the adaptive γ search."""

    hessian: str = "fisher"
    gamma0: float = 1.0
    regularization: float = 1.0   # multiplies λ_k (1 in the paper; a mutation target)
    adaptive: bool = True         # False: γ_k = gamma0 at every step (no search)
    search: int = 24              # trial halvings evaluated per step (the authors' code allows 40)
    acceptance: float = 8.0       # the 8 of the test f(x) − f(x⁺) ≥ ‖∇f(x⁺)‖²/(8 λ)

    name = "grad-norm-smooth-newton"
    description = "gradient-regularized Newton with approximate Hessians and the gradient-normalized step search"
    source = "Semenov, Jaggi & Doikov (2025), arXiv 2506.13710, Alg. 1 (code: epfml/grad-norm-smooth)"

    def __post_init__(self):
        require(self.hessian in HESSIAN_APPROXIMATIONS,
                f"hessian must be one of {', '.join(HESSIAN_APPROXIMATIONS)}, got {self.hessian!r}")
        positive("gamma0", self.gamma0)
        in_range("regularization", self.regularization, 0.0, float("inf"), closed_low=False)
        positive("search", self.search, integer=True)
        positive("acceptance", self.acceptance)

    def init(self, x0):
        xp = array_namespace(x0)
        return GradNormSmoothState(x0, self.gamma0 * xp.ones((x0.shape[0],), dtype=x0.dtype))

    def approximate_hessian(self, oracle, x):
        xp = array_namespace(x)
        R, d = x.shape
        if self.hessian == "exact":
            return LazyRegularizedNewton.hessian_from_hvps(oracle, x)
        if self.hessian == "fisher":
            require(hasattr(oracle.problem, "A") and hasattr(oracle.problem, "dloss"),
                    f"the Fisher approximation needs a finite sum (a_i, loss'), not {oracle.problem.name!r}")
            return fisher_matrix(oracle.problem, x)
        scale = 1.0 if self.hessian == "identity" else 0.0
        return xp.broadcast_to(scale * xp.eye(d, dtype=x.dtype)[None, ...], (R, d, d))

    def step(self, state, oracle, t):
        x, gamma = state
        xp = array_namespace(x)
        R, d = x.shape
        K = self.search if self.adaptive else 1
        g = oracle.grad(x)
        g_norm = xp.sqrt(xp.sum(g * g, axis=-1))
        f = oracle.value(x)
        H = self.approximate_hessian(oracle, x)
        halvings = xp.asarray([0.5 ** j for j in range(K)], dtype=x.dtype)
        gammas = (gamma if self.adaptive else self.gamma0 * xp.ones_like(gamma))[:, None] * halvings[None, :]
        lam = self.regularization * g_norm[:, None] / gammas                          # (R, K)
        eye = xp.eye(d, dtype=x.dtype)
        systems = H[:, None, ...] + lam[..., None, None] * eye[None, None, ...]       # (R, K, d, d)
        rhs = xp.broadcast_to(g[:, None, :, None], (R, K, d, 1))
        steps = xp.linalg.solve(systems, rhs)[..., 0]                                  # (R, K, d)
        trial = xp.reshape(x[:, None, :] - steps, (R * K, d))
        f_new = xp.reshape(oracle.value(trial), (R, K))
        g_new = xp.reshape(oracle.grad(trial), (R, K, d))
        accepted = (f[:, None] - f_new) >= xp.sum(g_new * g_new, axis=-1) / (self.acceptance * lam)
        accepted = accepted | (xp.arange(K)[None, :] == K - 1)                          # the last trial if none
        first = xp.argmax(xp.astype(accepted, xp.int32), axis=-1)                       # (R,)
        chosen = xp.arange(K)[None, :] == first[:, None]                                # one-hot (R, K)
        pick = xp.astype(chosen, x.dtype)
        x_new = x - xp.sum(steps * pick[..., None], axis=1)
        gamma_used = xp.sum(gammas * pick, axis=-1)
        return GradNormSmoothState(x_new, 2.0 * gamma_used if self.adaptive else gamma)
