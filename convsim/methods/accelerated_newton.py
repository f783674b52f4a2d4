"""Accelerated stochastic cubic-regularized Newton with inexact gradients and Hessians, in the estimating-sequence
form of Agafonov, Kamzolov, Gasnikov, Kavis, Antonakopoulos, Cevher & Takáč, "Advancing the lower bounds: an
accelerated, stochastic, second-order method with optimal adaptation to inexactness", arXiv 2309.01570, Alg. 1.

With A_t = t(t+1)(t+2)/6, a_t = A_{t+1} − A_t and α_t = a_t/A_{t+1} = 3/(t+3):

    v_t     = (1 − α_t) x_t + α_t y_t,
    x_{t+1} = argmin_y ⟨g(v_t), y − v_t⟩ + ½⟨H(v_t)(y − v_t), y − v_t⟩ + (δ̄_t/2)‖y − v_t‖² + (M/6)‖y − v_t‖³,
    ψ_{t+1}(x) = ψ_t(x) + a_t ⟨g(x_{t+1}), x − x_{t+1}⟩  (aggregated stochastic linear models),
    y_{t+1} = argmin ψ_{t+1},   ψ_t's regularizer (κ₂,t/2)‖x − x_0‖² + (κ₃/6)‖x − x_0‖³,

g a stochastic gradient (variance σ₁²), H an inexact Hessian (error δ = σ₂).  The model with the δ̄-quadratic and
M-cubic terms is the paper's subproblem (as quoted by its reviewers); the schedules are reconstructed here from
the balance of the rate O(σ₁R/√T + σ₂R²/T² + L₂R³/T³) because the full text's constants were not readable:
δ̄_t = 2 σ₂ + σ₁ (t+3)^{3/2}/R, κ₂,t = 2 (t+3) δ̄_t (≥ a_t²/A_{t+1} δ̄_t, the accelerated-gradient condition) and
κ₃ = 4 M.  ``accelerated=False`` drops the extrapolation (v_t = x_t: the plain regularized Newton step).

The cubic subproblem is solved exactly through the eigendecomposition of H + δ̄ I and a bisection on
r = ‖y − v‖ (the secular equation r = ‖(H + (δ̄ + M r/2) I)^{−1} g‖); M = 0 is a linear solve.
Inexact Hessians: ``hessian_shrink`` θ uses H = (1 − θ)∇²f (error θ‖∇²f‖), ``hessian_noise`` adds a
symmetric Gaussian matrix of operator-norm scale ``hessian_noise`` (a stochastic Hessian).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..errors import in_range, positive, require
from .base import Method
from .lazy_newton import LazyRegularizedNewton

BISECTIONS = 60


class AccStochasticNewtonState(NamedTuple):
    x: Any
    y: Any
    x0: Any
    s: Any  # Σ_j a_j g(x_{j+1}), the slope of the aggregated linear models


def solve_regularized_model(H, g, quad, cubic):
    """argmin_s ⟨g, s⟩ + ½ sᵀHs + (quad/2)‖s‖² + (cubic/6)‖s‖³ for H + quad·I ≻ 0 (batched (R, d, d), (R, d))."""
    xp = array_namespace(g)
    d = g.shape[-1]
    eye = xp.eye(d, dtype=g.dtype)[None, ...]
    if cubic == 0:
        return -xp.linalg.solve(H + quad[:, None, None] * eye, g[..., None])[..., 0]
    lam, Q = xp.linalg.eigh(H + quad[:, None, None] * eye)
    c = xp.sum(Q * g[:, :, None], axis=1)  # Qᵀg, (R, d)
    norm_at = lambda r: xp.sqrt(xp.sum(c * c / (lam + 0.5 * cubic * r[:, None]) ** 2, axis=-1))
    lo = xp.zeros_like(quad)
    hi = xp.sqrt(2.0 * xp.sqrt(xp.sum(g * g, axis=-1)) / cubic) + norm_at(lo)  # r(hi) < hi
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = norm_at(mid) > mid
        lo, hi = xp.where(above, mid, lo), xp.where(above, hi, mid)
    r = 0.5 * (lo + hi)
    return -xp.sum(Q * (c / (lam + 0.5 * cubic * r[:, None]))[:, None, :], axis=-1)


@dataclass(frozen=True)
class AcceleratedStochasticNewton(Method):
    """Alg. 1 of arXiv 2309.01570 (estimating sequences + cubic model with the δ̄-quadratic term)."""

    sigma1: float = 0.0           # gradient-noise level the schedules assume
    sigma2: float = 0.0           # Hessian inexactness the schedules assume (δ in δ̄ = 2δ + ...)
    radius: float = 1.0           # R ≥ ‖x_0 − x*‖
    cubic: float = 0.0            # M (≥ the Hessian's Lipschitz constant; 0 on quadratics)
    hessian_shrink: float = 0.0   # θ: H = (1 − θ)∇²f
    hessian_noise: float = 0.0    # scale of a symmetric Gaussian Hessian perturbation
    stochastic: bool = False      # use the problem's stochastic gradients
    accelerated: bool = True
    step_regularization: float = 1.0  # multiplies δ̄_t (a mutation target)

    name = "accelerated-stochastic-newton"
    description = "accelerated stochastic cubic Newton with inexact gradients and Hessians (estimating sequences)"
    source = "Agafonov et al. (2023), arXiv 2309.01570, Alg. 1"

    def __post_init__(self):
        for field in ("sigma1", "sigma2", "cubic", "hessian_noise"):
            in_range(field, getattr(self, field), 0.0, float("inf"))
        positive("radius", self.radius)
        in_range("hessian_shrink", self.hessian_shrink, 0.0, 1.0)
        in_range("step_regularization", self.step_regularization, 0.0, float("inf"), closed_low=False)
        require(self.sigma1 > 0 or self.sigma2 > 0 or self.cubic > 0,
                "the estimating sequence needs a regularizer: give sigma1, sigma2 or cubic > 0")

    def init(self, x0):
        return AccStochasticNewtonState(x0, x0, x0, 0.0 * x0)

    def gradient(self, oracle, x):
        return oracle.stochastic_grad(x) if self.stochastic else oracle.grad(x)

    def inexact_hessian(self, oracle, x):
        xp = array_namespace(x)
        H = (1.0 - self.hessian_shrink) * LazyRegularizedNewton.hessian_from_hvps(oracle, x)
        if self.hessian_noise:
            R, d = x.shape
            Z = xp.reshape(xp.astype(oracle.rng.normal(d * d), x.dtype), (R, d, d))
            H = H + self.hessian_noise * (Z + xp.matrix_transpose(Z)) / (2.0 * (2.0 * d) ** 0.5)
        return H

    def delta_bar(self, t):
        return self.step_regularization * (2.0 * self.sigma2 + self.sigma1 * (t + 3.0) ** 1.5 / self.radius)

    def step(self, state, oracle, t):
        x, y, x0, s = state
        xp = array_namespace(x)
        alpha = 3.0 / (t + 3.0) if self.accelerated else 0.0
        v = (1.0 - alpha) * x + alpha * y
        g = self.gradient(oracle, v)
        quad = self.delta_bar(t) * xp.ones((x.shape[0],), dtype=x.dtype)
        x_next = v + solve_regularized_model(self.inexact_hessian(oracle, v), g, quad, self.cubic)
        a_t = (t + 1.0) * (t + 2.0) / 2.0
        s = s + a_t * self.gradient(oracle, x_next)
        # y = argmin (κ₂/2)‖x − x0‖² + (κ₃/6)‖x − x0‖³ + ⟨s, x⟩ = x0 − r s/‖s‖, κ₂ r + (κ₃/2) r² = ‖s‖
        kappa2, kappa3 = 2.0 * (t + 4.0) * self.delta_bar(t + 1), 4.0 * self.cubic
        s_norm = xp.sqrt(xp.sum(s * s, axis=-1))
        if kappa3 > 0:
            r = 2.0 * s_norm / (kappa2 + xp.sqrt(kappa2 ** 2 + 2.0 * kappa3 * s_norm))
        else:
            r = s_norm / kappa2
        y_next = x0 - (r / xp.where(s_norm > 0, s_norm, 1.0))[:, None] * s
        return AccStochasticNewtonState(x_next, y_next if self.accelerated else x_next, x0, s)
