"""SDEs of RMSprop and Adam (Malladi, Lyu, Panigrahi & Arora, "On the SDEs and Scaling Rules for
Adaptive Gradient Algorithms", NeurIPS 2022, arXiv 2205.10287, Sec. 4).

Parametrization (theirs): the stochastic gradient is g = ∇f(θ) + σ z with Cov(z) = Σ(θ);
with learning rate η the SDE keeps σ0 = ση, ε0 = εη and c_i = (1 − β_i)/η² fixed and
runs on the time scale t = kη² (one step is η² of SDE time).

RMSprop (v ← βv + (1−β)g², θ ← θ − η g/(√v + ε)):
    dθ = −P⁻¹ (∇f(θ) dt + σ0 Σ(θ)^½ dW),   du = c2 (diag Σ(θ) − u) dt,   P = σ0 diag(u)^½ + ε0 I.
Adam (bias-corrected, as torch.optim.Adam):
    dθ = −(√γ2(t)/γ1(t)) P⁻¹ m dt,   dm = c1 (∇f(θ) − m) dt + σ0 c1 Σ(θ)^½ dW,
    du = c2 (diag Σ(θ) − u) dt,   P = σ0 diag(u)^½ + ε0 √γ2(t) I,   γ_i(t) = 1 − e^{−c_i t}.

convsim takes σ = 1, so Σ is the full covariance C of one minibatch gradient, σ0 = η,
ε0 = εη, and the state u is the method's own second-moment average v (and m its
first moment).  The SDE state is the concatenation [θ, u] (RMSprop) or [θ, m, u]
(Adam), started at [θ0, 0] / [θ0, 0, 0] like the methods.  Any split C = σ²Σ gives the
same SDE (u scales as σ⁻², σ0 √u does not).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.integrate
from array_api_compat import array_namespace

from ..errors import ConvsimError, in_range, positive
from ..problems.quadratic import Quadratic
from .maps import GradientNoise, _psd_sqrt, as_gradient_noise
from .terms import SDE


def rmsprop_parameters(eta: float, beta: float, eps: float) -> dict:
    """(σ0, ε0, c2) of RMSprop with step η, decay β, ε (σ = 1): σ0 = η, ε0 = εη, c2 = (1 − β)/η²."""
    eta, beta = positive("eta", eta), in_range("beta", beta, 0.0, 1.0)
    return {"sigma0": eta, "eps0": positive("eps", eps) * eta, "c2": (1.0 - beta) / eta**2}


def adam_parameters(eta: float, beta1: float, beta2: float, eps: float) -> dict:
    """(σ0, ε0, c1, c2) of Adam: σ0 = η, ε0 = εη, c_i = (1 − β_i)/η²."""
    p = rmsprop_parameters(eta, beta2, eps)
    return {**p, "c1": (1.0 - in_range("beta1", beta1, 0.0, 1.0)) / eta**2}


def _sqrt_plus(xp, u):
    return xp.sqrt(xp.clip(u, 0.0, None))  # u stays ≥ 0 exactly; Euler round-off must not give NaN


def rmsprop_sde(problem, eta: float, beta: float = 0.99, eps: float = 1e-8) -> SDE:
    """RMSprop's SDE (Malladi et al. 2022, Sec. 4) on state [θ, u] of dimension 2d, time t = kη²."""
    noisy = as_gradient_noise(problem)
    p = rmsprop_parameters(eta, beta, eps)
    s0, e0, c2, d = p["sigma0"], p["eps0"], p["c2"], noisy.dim

    def drift(x, t):
        xp = array_namespace(x)
        theta, u = x[:, :d], x[:, d:]
        P = s0 * _sqrt_plus(xp, u) + e0
        return xp.concat([-noisy.grad(theta) / P, c2 * (noisy.variances(theta) - u)], axis=1)

    def diffusion(x, t, dw):
        xp = array_namespace(x)
        theta, u = x[:, :d], x[:, d:]
        P = s0 * _sqrt_plus(xp, u) + e0
        return xp.concat([-s0 * noisy.noise(theta, dw) / P, 0.0 * u], axis=1)

    return SDE(2 * d, drift, diffusion, noise="general", noise_dim=d,
               name=f"rmsprop-sde(eta={eta:g},beta={beta:g},eps={eps:g},{noisy.digest()})")


def _gammas(t, c1, c2):
    return -math.expm1(-c1 * t), -math.expm1(-c2 * t)


def adam_sde(problem, eta: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> SDE:
    """Adam's SDE (Malladi et al. 2022, Sec. 4) on state [θ, m, u] of dimension 3d, time t = kη².

    The bias corrections γ_i(t) = 1 − e^{−c_i t} make the θ-drift 0/0 at t = 0; there they are
    evaluated one method step later (t = η²), as the method divides by 1 − β_i^{k+1}
    after its first update.
    """
    noisy = as_gradient_noise(problem)
    p = adam_parameters(eta, beta1, beta2, eps)
    s0, e0, c1, c2, d = p["sigma0"], p["eps0"], p["c1"], p["c2"], noisy.dim

    def drift(x, t):
        xp = array_namespace(x)
        theta, m, u = x[:, :d], x[:, d:2 * d], x[:, 2 * d:]
        g1, g2 = _gammas(t if t > 0 else eta**2, c1, c2)
        P = s0 * _sqrt_plus(xp, u) + e0 * math.sqrt(g2)
        dtheta = -(math.sqrt(g2) / g1) * m / P
        return xp.concat([dtheta, c1 * (noisy.grad(theta) - m), c2 * (noisy.variances(theta) - u)], axis=1)

    def diffusion(x, t, dw):
        theta = x[:, :d]
        zero = 0.0 * theta
        return array_namespace(x).concat([zero, (s0 * c1) * noisy.noise(theta, dw), zero], axis=1)

    return SDE(3 * d, drift, diffusion, noise="general", noise_dim=d,
               name=f"adam-sde(eta={eta:g},beta1={beta1:g},beta2={beta2:g},eps={eps:g},{noisy.digest()})")


# -- exact moments on quadratics -----------------------------------------------------------

def _linear_moments(A, b, B, z0, T, *, t0=0.0, rtol=1e-10, atol=1e-13, method="DOP853"):
    """Mean and covariance at T of dZ = (A(t) Z + b(t)) dt + B(t) dW from the point z0 at t0.

    m' = A m + b,  S' = A S + S Aᵀ + B Bᵀ, integrated with scipy's DOP853 (explicit, order 8).
    """
    n = z0.size

    def rhs(t, y):
        m, S = y[:n], y[n:].reshape(n, n)
        At, Bt = A(t), B(t)
        dS = At @ S + S @ At.T + Bt @ Bt.T
        return np.concatenate([At @ m + b(t), dS.ravel()])

    y0 = np.concatenate([z0, np.zeros(n * n)])
    sol = scipy.integrate.solve_ivp(rhs, (t0, T), y0, method=method, rtol=rtol, atol=atol)
    if not sol.success:
        raise ConvsimError(f"moment ODE failed: {sol.message}")
    m, S = sol.y[:n, -1], sol.y[n:, -1].reshape(n, n)
    return m, 0.5 * (S + S.T)


def _quadratic_parts(problem):
    if not isinstance(problem, Quadratic):
        raise ConvsimError("exact SDE moments need a Quadratic with Gaussian noise (constant covariance)")
    noisy = GradientNoise.from_quadratic(problem)
    return problem.hessian(), problem.x_star, noisy.covariance


def rmsprop_sde_moments(problem: Quadratic, eta: float, beta: float, eps: float, T: float):
    """Mean and covariance of θ_T for RMSprop's SDE on a quadratic with constant noise covariance C.

    There u is deterministic, u(t) = diag C (1 − e^{−c2 t}) from u(0) = 0, and θ is a linear
    SDE with the time-varying preconditioner P(t)⁻¹: its moments solve linear ODEs.
    """
    H, x_star, C = _quadratic_parts(problem)
    p = rmsprop_parameters(eta, beta, eps)
    s0, e0, c2 = p["sigma0"], p["eps0"], p["c2"]
    diagC, root = np.diag(C), _psd_sqrt(C)

    def inv_P(t):
        return 1.0 / (s0 * np.sqrt(diagC * -math.expm1(-c2 * t)) + e0)

    A = lambda t: -inv_P(t)[:, None] * H
    b = lambda t: inv_P(t) * (H @ x_star)
    B = lambda t: -s0 * inv_P(t)[:, None] * root
    return _linear_moments(A, b, B, problem.initial_point(), T)


def adam_sde_moments(problem: Quadratic, eta: float, beta1: float, beta2: float, eps: float, T: float):
    """Mean and covariance of θ_T for Adam's SDE on a quadratic with constant noise covariance C.

    u(t) = diag C · γ2(t) is deterministic and (θ, m) is a linear SDE.  Its θ-drift
    coefficient √γ2/(γ1 P) behaves as 1/t at t = 0 while m(t) = O(t), so the ODE
    starts at t0 = 10⁻⁹ T from (θ0, 0) (an O(t0) error).
    """
    H, x_star, C = _quadratic_parts(problem)
    p = adam_parameters(eta, beta1, beta2, eps)
    s0, e0, c1, c2 = p["sigma0"], p["eps0"], p["c1"], p["c2"]
    d = H.shape[0]
    diagC, root, I, Z = np.diag(C), _psd_sqrt(C), np.eye(d), np.zeros((d, d))

    def coeff(t):
        g1, g2 = _gammas(t, c1, c2)
        return math.sqrt(g2) / (g1 * (s0 * np.sqrt(diagC * g2) + e0 * math.sqrt(g2)))

    A = lambda t: np.block([[Z, -np.diag(coeff(t))], [c1 * H, -c1 * I]])
    b_const = np.concatenate([np.zeros(d), -c1 * (H @ x_star)])
    B_const = np.vstack([Z, s0 * c1 * root])
    z0 = np.concatenate([problem.initial_point(), np.zeros(d)])
    m, S = _linear_moments(A, lambda t: b_const, lambda t: B_const, z0, T, t0=1e-9 * T)
    return m[:d], S[:d, :d]


def partly_affine_moments(sde, z0, T: float, *, random: slice, t0: float = 0.0, rtol=1e-10, atol=1e-13):
    """Mean and covariance at T of the coordinates ``random`` of an SDE object (any map's output, mutated or
    not) whose other coordinates are deterministic (no diffusion, a drift that does not depend on the
    random block) and whose random block is affine in itself with additive noise given them: Adam's SDE
    [θ, m, u] on a quadratic with constant noise covariance (random = θ, m; u deterministic), RMSprop's [θ, u].

    Everything is read off the object's own terms by probing, one path per probe: the drift at the
    current mean and at unit offsets of the random block gives A(t) and b(t) (exact for an affine drift),
    the noise term at unit increments gives B(t).  The moments then solve m' = A m + b, S' = A S + S Aᵀ + BBᵀ
    jointly with the deterministic coordinates' own drift.  ``t0 > 0`` starts past a singular t = 0.
    """
    z0 = np.asarray(z0, dtype=np.float64)
    n, idx = z0.size, np.arange(z0.size)[random]
    k, m_dim = idx.size, sde.noise_dim
    det = np.setdiff1d(np.arange(n), idx)

    def probes(t, y):
        det_state, mean = y[:det.size], y[det.size:det.size + k]
        base = np.empty(n)
        base[det], base[idx] = det_state, mean
        points = np.tile(base, (k + 1, 1))
        points[1:, idx] += np.eye(k)
        drift = np.asarray(sde.drift(points, t))
        noise = np.asarray(sde.noise_term(np.tile(base, (m_dim, 1)), t, np.eye(m_dim)))  # row j: g e_j
        A = (drift[1:, idx] - drift[0, idx]).T            # ∂(drift of the random block)/∂(random block)
        return drift[0], A, noise[:, idx].T               # B(t): (k, m)

    def rhs(t, y):
        drift, A, B = probes(t, y)
        S = y[det.size + k:].reshape(k, k)
        dS = A @ S + S @ A.T + B @ B.T
        return np.concatenate([drift[det], drift[idx], dS.ravel()])

    y0 = np.concatenate([z0[det], z0[idx], np.zeros(k * k)])
    sol = scipy.integrate.solve_ivp(rhs, (t0, T), y0, method="DOP853", rtol=rtol, atol=atol)
    if not sol.success:
        raise ConvsimError(f"moment ODE failed: {sol.message}")
    y = sol.y[:, -1]
    S = y[det.size + k:].reshape(k, k)
    return y[det.size:det.size + k], 0.5 * (S + S.T)
