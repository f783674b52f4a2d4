"""SDEs of SAM, USAM and DNSAM (Compagnoni, Biggio, Orvieto, Proske, Kersting & Lucchi, "An SDE for
Modeling SAM: Theory and Insights", ICML 2023, arXiv 2301.08203, Sec. 3).

Each method is x_{k+1} = x_k − η G(x_k, γ_k) with G the minibatch gradient at the ascent
point (same minibatch at both points):  USAM: ∇f_γ(x + ρ∇f_γ(x));  SAM: ∇f_γ(x + ρ∇f_γ/‖∇f_γ‖);
DNSAM: ∇f_γ(x + ρ∇f_γ/‖∇f(x)‖).  Its first-order SDE (time t = kη) is

    dX = −E[G(X, γ)] dt + √η Cov[G(X, γ)]^½ dW,

where the drift is the gradient of an implicitly regularized loss:
USAM f + (ρ/2) E‖∇f_γ‖², SAM f + ρ E‖∇f_γ‖, DNSAM f + ρ‖∇f‖ (to first order in ρ).

convsim's maps use additive gradient noise (∇f_γ = ∇f + ξ, Cov ξ = C independent of x,
so the minibatch Hessian is H).  Then, to first order in ρ around x (exactly on a quadratic):
    USAM:  E G = (I + ρH)∇f = ∇(f + (ρ/2)‖∇f‖²),  Cov G = (I + ρH) C (I + ρH);
    DNSAM: E G = (I + ρH/‖∇f‖)∇f = ∇(f + ρ‖∇f‖),   Cov G = (I + ρH/‖∇f‖) C (I + ρH/‖∇f‖).
The paper writes the covariances to first order in ρ, C + ρ(HC + CH) (USAM) and
C + (ρ/‖∇f‖)(HC + CH) (DNSAM); ``covariance="paper"`` selects that form, the default
``"exact"`` keeps the ρ² term, which makes the SDE's one-step moments those of the method
on a quadratic.  SAM's expectations (of ∇f_γ/‖∇f_γ‖) have closed forms in one dimension
only (folded normal): :func:`sam_sde` is exact in law per step for d = 1 and any f.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.special
from array_api_compat import array_namespace

from ..backend import backend_name, cached_on
from ..errors import ConvsimError, positive, require
from ..problems.quadratic import Quadratic
from .maps import GradientNoise, _psd_sqrt, as_gradient_noise
from .terms import SDE, LinearSDE


def _setup(problem, eta, rho, covariance, what):
    """Validated (η, ρ, problem as GradientNoise) for the SAM-family maps, which need additive noise."""
    eta, rho = positive("eta", eta), positive("rho", rho)
    require(covariance in ("exact", "paper"), f"covariance must be 'exact' or 'paper', got {covariance!r}")
    noisy = as_gradient_noise(problem)
    require(noisy.constant, f"the {what} map needs state-independent gradient noise (a constant covariance)")
    return eta, rho, noisy


NORMALIZATIONS = ("none", "full-gradient", "minibatch")


@dataclass(frozen=True)
class SharpnessDrift:
    """The drift −E[G(x, γ)] of a SAM-family SDE, a callable ``(x, t) -> (R, d)`` with its ρ and its
    normalization as fields (so a mutation can change the sharpness term of the SDE alone):

    * ``"none"`` (USAM): −(∇f + ρH∇f) = −∇(f + (ρ/2)‖∇f‖²);
    * ``"full-gradient"`` (DNSAM): −(∇f + ρH∇f/‖∇f‖) = −∇(f + ρ‖∇f‖);
    * ``"minibatch"`` (SAM, d = 1, additive N(0, s²) noise): −E G from :func:`sam_increment_moments`.

    ρ = 0 gives SGD's drift −∇f for every normalization.
    """

    noisy: GradientNoise
    rho: float
    normalization: str = "none"

    def __post_init__(self):
        require(self.normalization in NORMALIZATIONS,
                f"normalization must be one of {', '.join(NORMALIZATIONS)}, got {self.normalization!r}")
        require(self.normalization != "minibatch" or (self.noisy.dim == 1 and self.noisy.constant),
                "the minibatch-normalized (SAM) drift has closed-form moments for d = 1 and constant noise only")

    def __call__(self, x, t):
        g = self.noisy.grad(x)
        if self.normalization == "minibatch":
            s = float(np.sqrt(self.noisy.covariance[0, 0]))
            return -sam_increment_moments(self.noisy.grad, x, s, self.rho)[0]
        scale = self.rho
        if self.normalization == "full-gradient":
            xp = array_namespace(x)
            scale = self.rho / xp.sqrt(xp.sum(g * g, axis=-1, keepdims=True))
        return -(g + scale * _hess_times(self.noisy, x, g))


def usam_sde(problem, eta: float, rho: float, *, covariance: str = "exact") -> SDE:
    """USAM's SDE: dX = −(∇f + ρ H∇f) dt + √η Σ_USAM^½ dW, time t = kη (Compagnoni et al. 2023, USAM SDE)."""
    eta, rho, noisy = _setup(problem, eta, rho, covariance, "USAM")
    root = eta**0.5
    drift = SharpnessDrift(noisy, rho, "none")

    if covariance == "exact":
        def diffusion(x, t, dw):
            xi = noisy.noise(x, dw)
            return root * (xi + rho * _hess_times(noisy, x, xi))
    else:
        require(not callable(noisy.hessian), "the paper's USAM covariance map needs a constant Hessian")
        H, C = noisy.hessian, noisy.covariance
        S = _psd_sqrt(C + rho * (H @ C + C @ H))
        cache = {}

        def diffusion(x, t, dw):
            return root * (dw @ cached_on(cache, dw, "S", S))

    return SDE(noisy.dim, drift, diffusion, noise="general",
               name=f"usam-sde(eta={eta:g},rho={rho:g},{covariance},{noisy.digest()})")


def _hess_times(noisy, x, v):
    H = noisy.hess(x)
    if H.ndim == 2:
        return v @ H  # H symmetric
    return (H @ v[:, :, None])[:, :, 0]  # (R, d, d) @ (R, d, 1)


def usam_linear_sde(problem: Quadratic, eta: float, rho: float, *, covariance: str = "exact") -> LinearSDE:
    """USAM's SDE on a quadratic as an OU process: drift matrix H + ρH² (A = H, the sharpness term ρH² as the
    LinearSDE's ``correction``), B Bᵀ = η Σ_USAM (exact moments, ExactOU)."""
    eta, rho, noisy = _setup(problem, eta, rho, covariance, "USAM")
    H, C = problem.hessian(), noisy.covariance
    M = np.eye(problem.dim) + rho * H
    cov = M @ C @ M if covariance == "exact" else C + rho * (H @ C + C @ H)
    return LinearSDE(H, eta**0.5 * _psd_sqrt(cov), problem.x_star,
                     name=f"usam-sde(eta={eta:g},rho={rho:g},{covariance},{noisy.digest()})", correction=rho * H @ H)


def dnsam_sde(problem, eta: float, rho: float, *, covariance: str = "exact") -> SDE:
    """DNSAM's SDE: dX = −(∇f + ρ H∇f/‖∇f‖) dt + √η Σ_DNSAM^½ dW, time t = kη (Compagnoni et al. 2023).

    The regularizer ρ‖∇f‖ and the noise ρHC/‖∇f‖ blow up where ∇f = 0: the source of
    DNSAM's attraction to saddles (the paper's Sec. 4)."""
    eta, rho, noisy = _setup(problem, eta, rho, covariance, "DNSAM")
    root = eta**0.5

    def scale(x, g):
        xp = array_namespace(x)
        return rho / xp.sqrt(xp.sum(g * g, axis=-1, keepdims=True))

    drift = SharpnessDrift(noisy, rho, "full-gradient")

    def diffusion(x, t, dw):
        c = scale(x, noisy.grad(x))
        xi = noisy.noise(x, dw)
        if covariance == "exact":
            return root * (xi + c * _hess_times(noisy, x, xi))
        # C + c(HC + CH) per path: symmetric square root, batched (d small).
        xp = array_namespace(x)
        H, C = noisy.hess(x), noisy.cov(x)
        HC = H @ C
        cov = C + c[:, :, None] * (HC + xp.matrix_transpose(HC))
        w, V = xp.linalg.eigh(cov)
        R = (V * xp.sqrt(xp.clip(w, 0.0, None))[:, None, :]) @ xp.matrix_transpose(V)
        return root * (R @ dw[:, :, None])[:, :, 0]

    return SDE(noisy.dim, drift, diffusion, noise="general",
               name=f"dnsam-sde(eta={eta:g},rho={rho:g},{covariance},{noisy.digest()})")


def sam_increment_moments(grad, x, s: float, rho: float):
    """Mean and variance of SAM's increment G = f'(x + ρ sign(g)) + ξ, g = f'(x) + ξ, ξ ~ N(0, s²), d = 1.

    With p = P(g > 0) = Φ(f'(x)/s), a = f'(x + ρ), b = f'(x − ρ), D = a − b:
    E G = b + D p = ∇(f + ρ E|f'_γ|) to first order in ρ;  Var G = s² + 2 D s φ(f'(x)/s) + D² p(1 − p)
    (E[ξ 1{g > 0}] = s φ(f'/s)).  Host or device arrays of shape (R, 1).
    """
    xp = array_namespace(x)
    mu = grad(x)
    a, b = grad(x + rho), grad(x - rho)
    z = mu / s
    p = 0.5 * (1.0 + _erf(xp, z / math.sqrt(2.0)))
    phi = xp.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    D = a - b
    return b + D * p, s * s + 2.0 * D * s * phi + D * D * p * (1.0 - p)


def _erf(xp, z):
    """erf is not in the array API: scipy on NumPy, cupyx on CuPy, a host round trip otherwise (tests)."""
    name = backend_name(xp)
    if name == "numpy":
        return scipy.special.erf(z)
    if name == "cupy":  # pragma: no cover - needs a GPU
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(z)
    return xp.asarray(scipy.special.erf(np.asarray(z)), dtype=z.dtype)


def sam_sde(problem, eta: float, rho: float) -> SDE:
    """SAM's first-order SDE in one dimension: dX = −E G dt + √(η Var G) dW, time t = kη, with the exact
    per-step moments of :func:`sam_increment_moments` (Compagnoni et al. 2023, SAM SDE, whose drift is
    ∇(f + ρ E‖∇f_γ‖) and whose noise is Hessian-dependent)."""
    eta, rho = positive("eta", eta), positive("rho", rho)
    noisy = as_gradient_noise(problem)
    if noisy.dim != 1 or not noisy.constant:
        raise ConvsimError("sam_sde has closed-form moments for one-dimensional problems with constant noise only")
    s = float(np.sqrt(noisy.covariance[0, 0]))
    root = eta**0.5

    drift = SharpnessDrift(noisy, rho, "minibatch")

    def diffusion(x, t, dw):
        xp = array_namespace(x)
        return root * xp.sqrt(sam_increment_moments(noisy.grad, x, s, rho)[1]) * dw

    return SDE(1, drift, diffusion, noise="general", name=f"sam-sde(eta={eta:g},rho={rho:g},{noisy.digest()})")
