"""Exact moments of penalty-Lagrangian iterations on the quadratic bilevel problem.

F2SA (arXiv:2301.10945, Algorithm 1) and the penalty method (arXiv:2309.01753) both iterate

    (T times)  y ← y − a_f ∇_y f(x, y) − a_g ∇_y g(x, y),     z ← z − a_z ∇_y g(x, z)
               x ← x − a_x (∇_x f(x, y) + λ (∇_x g(x, y) − ∇_x g(x, z)))

with per-step coefficients (F2SA: a_f = α_k, a_g = α_k λ_k, a_z = γ_k, a_x = ξ α_k; the penalty
method: a_f = η σ, a_g = a_z = η, a_x = lr_k, λ = 1/σ).  On :class:`~convsim.bilevel.QuadraticBilevel`
with the quadratic upper level every gradient is affine in the state s = (x, y, z), and the
oracle noise is additive, independent and state-free (E‖noise‖² = σ² per call, isotropic), so
the mean and the covariance of s follow an exact recursion

    m ← G m + g,     S ← G S Gᵀ + Q,

and E‖∇h(x_k)‖² = ‖P m_x + q‖² + tr(P S_xx P) exactly (∇h(x) = P x + q).  The recursion is
written here from the update equations, independently of the algorithm classes: it is the
reference a sharp companion claim compares a simulated run with (a bug planted in the classes
moves the run, not this).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..errors import require


@dataclass(frozen=True)
class PenaltyStep:
    """The coefficients of one outer step (module docstring)."""

    a_f: float
    a_g: float
    a_z: float
    a_x: float
    lam: float
    inner: int = 1


class _Basis:
    """The constant matrices of the plain iteration's affine maps; one step's maps are their
    combinations with the step's scalar coefficients (built once, not per step)."""

    def __init__(self, p):
        dx, dy = p.dim_x, p.dim_y
        self.n = n = dx + 2 * dy
        X, Y, Z = slice(0, dx), slice(dx, dx + dy), slice(dx + dy, n)
        A, B, C = p.A, p.B, p.C  # ∇_y g = A y + B x + b, ∇_x g = Bᵀ y, ∇_y f = C (y − t)
        zero = lambda: np.zeros((n, n))  # noqa: E731
        # lower update: Gl = I + a_f Lf + a_g Lg + a_z Lz, gl = a_f lf + a_g lg + a_z lz
        self.Lf, self.Lg, self.Lz = zero(), zero(), zero()
        self.Lf[Y, Y] = -C
        self.Lg[Y, Y], self.Lg[Y, X] = -A, -B
        self.Lz[Z, Z], self.Lz[Z, X] = -A, -B
        self.lf, self.lg, self.lz = np.zeros(n), np.zeros(n), np.zeros(n)
        self.lf[Y], self.lg[Y], self.lz[Z] = C @ p.y_target, -p.b, -p.b
        # x update: Gx = I + a_x Xf + a_x λ Xg, gx = a_x xf (∇_x f = μ_x x + c for the quadratic upper level)
        self.Xf, self.Xg = zero(), zero()
        self.Xf[X, X] = -p.mu_x * np.eye(dx)
        self.Xg[X, Y], self.Xg[X, Z] = -B.T, B.T
        self.xf = np.zeros(n)
        self.xf[X] = -p.c
        # noise per unit coefficient² (isotropic per call, E‖noise‖² = σ²): diagonal masks
        self.qy, self.qz, self.qx = np.zeros(n), np.zeros(n), np.zeros(n)
        self.qy[Y], self.qz[Z], self.qx[X] = 1.0 / dy, 1.0 / dy, 1.0 / dx
        self.sf2, self.sg2 = p.sigma_f ** 2, p.sigma_g ** 2

    def maps(self, c: PenaltyStep):
        """(G, g, Q) of one outer step in the column state s = (x, y, z)."""
        eye = np.eye(self.n)
        Gl = eye + c.a_f * self.Lf + c.a_g * self.Lg + c.a_z * self.Lz
        gl = c.a_f * self.lf + c.a_g * self.lg + c.a_z * self.lz
        # y gets −a_f n_fy − a_g n_gy, z gets −a_z n_gy' (independent draws)
        Ql = np.diag((c.a_f ** 2 * self.sf2 + c.a_g ** 2 * self.sg2) * self.qy + c.a_z ** 2 * self.sg2 * self.qz)
        G, g, Q = eye, np.zeros(self.n), np.zeros((self.n, self.n))
        for _ in range(c.inner):  # y and z read the same x: their updates commute
            G, g, Q = Gl @ G, Gl @ g + gl, Gl @ Q @ Gl.T + Ql
        Gx = eye + c.a_x * self.Xf + c.a_x * c.lam * self.Xg
        Qx = np.diag(c.a_x ** 2 * (self.sf2 + 2.0 * c.lam ** 2 * self.sg2) * self.qx)
        return Gx @ G, Gx @ g + c.a_x * self.xf, Gx @ Q @ Gx.T + Qx


def _check_problem(problem):
    require(getattr(problem, "upper", None) == "quadratic" and getattr(problem, "n_samples_f", None) is None,
            "exact moments need a QuadraticBilevel with the quadratic upper level and streaming noise")


def _grad_sq(problem, m, S, noisy: bool) -> float:
    """E‖∇h(x)‖² = ‖P m_x + q‖² + tr(P S_xx P) for x with mean m_x and covariance S_xx."""
    dx = problem.dim_x
    grad = problem.P @ m[:dx] + problem.q
    return float(grad @ grad + (np.trace(problem.P @ S[:dx, :dx] @ problem.P) if noisy else 0.0))


def penalty_moments(problem, coefficients: Callable[[int], PenaltyStep], x0, y0, z0, record: Sequence[int]):
    """E‖∇h(x_k)‖² at the steps ``record`` (exact; see the module docstring).

    ``coefficients(k)`` gives the step k's :class:`PenaltyStep`; (x0, y0, z0) the deterministic start."""
    _check_problem(problem)
    basis = _Basis(problem)
    m = np.concatenate([np.asarray(x0, float), np.asarray(y0, float), np.asarray(z0, float)])
    S = np.zeros((m.size, m.size))
    noisy = problem.sigma_f > 0 or problem.sigma_g > 0
    out, k = {}, 0
    for target in sorted(set(int(k) for k in record)):
        while k < target:
            G, g, Q = basis.maps(coefficients(k))
            m = G @ m + g
            if noisy:
                S = G @ S @ G.T + Q
            k += 1
        out[target] = _grad_sq(problem, m, S, noisy)
    return np.array([out[int(k)] for k in record])


def f2sa_coefficients(alpha0: float, a: float, gamma0: float, c: float, k0: float, xi: float = 1.0, inner: int = 1):
    """F2SA's coefficients with α_k = alpha0 (k + k0)^−a, γ_k = gamma0 (k + k0)^−c, λ_k = γ_k/α_k."""
    def at(k):
        alpha, gamma = alpha0 * (k + k0) ** (-a), gamma0 * (k + k0) ** (-c)
        lam = gamma / alpha
        return PenaltyStep(a_f=alpha, a_g=alpha * lam, a_z=gamma, a_x=xi * alpha, lam=lam, inner=inner)
    return at


def penalty_coefficients(sigma: float, lr: float, inner: int, inner_lr: float):
    """The penalty method's (constant) coefficients: y on σf + g and z on g with step inner_lr, x with lr, λ = 1/σ."""
    step = PenaltyStep(a_f=inner_lr * sigma, a_g=inner_lr, a_z=inner_lr, a_x=lr, lam=1.0 / sigma, inner=inner)
    return lambda k: step


def f2sa_momentum_moments(problem, coefficients: Callable[[int], PenaltyStep], eta: Callable[[int], float], x0, y0,
                          record: Sequence[int]):
    """E‖∇h(x_k)‖² of momentum-assisted F2SA (arXiv:2301.10945, Algorithm 2) at the steps ``record``, exactly.

    All six directions are formed at the current (x, y, z) and the three variables move at once.  With
    additive, state-free noise the same-sample recursion h̃ᵏ = ∇(sᵏ; ξᵏ) + (1 − η_k)(h̃ᵏ⁻¹ − ∇(sᵏ⁻¹; ξᵏ))
    leaves an error eᵏ = h̃ᵏ − ∇(sᵏ) with eᵏ = η_k nᵏ + (1 − η_k) eᵏ⁻¹ (e⁰ = n⁰: plain samples first),
    so (s, e) is again an affine-Gaussian recursion.  ``coefficients(k).inner`` must be 1."""
    _check_problem(problem)
    p = problem
    dx, dy = p.dim_x, p.dim_y
    ns = dx + 2 * dy
    X, Y, Z = slice(0, dx), slice(dx, dx + dy), slice(dx + dy, ns)
    # error blocks, in the order of F2SAMomentumState.est: e_z, e_fy, e_gy (dy each), e_fx, e_gxy, e_gxz (dx each)
    sizes = (dy, dy, dy, dx, dx, dx)
    levels = (p.sigma_g, p.sigma_f, p.sigma_g, p.sigma_f, p.sigma_g, p.sigma_g)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    E = [slice(int(a), int(b)) for a, b in zip(offsets[:-1], offsets[1:])]
    ne = int(offsets[-1])
    noise_var = np.concatenate([np.full(d, s ** 2 / d) for d, s in zip(sizes, levels)])
    A, B, C = p.A, p.B, p.C
    # G = I + a_z Gz + a_f Gf + a_g Gg + a_x Gx + a_x λ Gxl (exact gradients); H likewise on the errors
    zs, ze = (lambda: np.zeros((ns, ns))), (lambda: np.zeros((ns, ne)))  # noqa: E731
    Gz, Gf, Gg, Gx, Gxl = zs(), zs(), zs(), zs(), zs()
    Hz, Hf, Hg, Hx, Hxl = ze(), ze(), ze(), ze(), ze()
    gz, gf, gg, gx = np.zeros(ns), np.zeros(ns), np.zeros(ns), np.zeros(ns)
    Gz[Z, Z], Gz[Z, X], gz[Z], Hz[Z, E[0]] = -A, -B, -p.b, -np.eye(dy)           # z ← z − γ (∇_y g(x, z) + e_z)
    Gf[Y, Y], gf[Y], Hf[Y, E[1]] = -C, C @ p.y_target, -np.eye(dy)               # y ← y − α (∇_y f + e_fy)
    Gg[Y, Y], Gg[Y, X], gg[Y], Hg[Y, E[2]] = -A, -B, -p.b, -np.eye(dy)           #     − αλ (∇_y g(x, y) + e_gy)
    Gx[X, X], gx[X], Hx[X, E[3]] = -p.mu_x * np.eye(dx), -p.c, -np.eye(dx)       # x ← x − ξα (∇_x f + e_fx
    Gxl[X, Y], Gxl[X, Z], Hxl[X, E[4]], Hxl[X, E[5]] = -B.T, B.T, -np.eye(dx), np.eye(dx)  # + λ(∇_x g(y) − ∇_x g(z) + e..))
    n = ns + ne
    m = np.concatenate([np.asarray(x0, float), np.asarray(y0, float), np.asarray(y0, float), np.zeros(ne)])
    S = np.zeros((n, n))
    noisy = bool(noise_var.any())
    out, k = {}, 0
    for target in sorted(set(int(k) for k in record)):
        while k < target:
            c = coefficients(k)
            require(c.inner == 1, "momentum-assisted F2SA takes one inner step per iteration")
            G = np.eye(ns) + c.a_z * Gz + c.a_f * Gf + c.a_g * Gg + c.a_x * Gx + c.a_x * c.lam * Gxl
            g = c.a_z * gz + c.a_f * gf + c.a_g * gg + c.a_x * gx
            H = c.a_z * Hz + c.a_f * Hf + c.a_g * Hg + c.a_x * Hx + c.a_x * c.lam * Hxl
            keep = 0.0 if k == 0 else 1.0 - eta(k)
            # e' = keep e + (1 − keep) n;  s' = G s + g + H e'
            F = np.zeros((n, n))
            F[:ns, :ns], F[:ns, ns:], F[ns:, ns:] = G, keep * H, keep * np.eye(ne)
            m = F @ m
            m[:ns] += g
            if noisy:
                Nn = np.concatenate([(1.0 - keep) * H, (1.0 - keep) * np.eye(ne)])
                S = F @ S @ F.T + (Nn * noise_var) @ Nn.T
            k += 1
        out[target] = _grad_sq(p, m, S, noisy)
    return np.array([out[int(k)] for k in record])
