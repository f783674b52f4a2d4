"""Interpolating least squares: every sample is fitted exactly at x* (σ*² = 0), with a known growth constant.

Under interpolation the stochastic gradients of ``f_i(x) = ½(a_iᵀx − b_i)²`` with
``b_i = a_iᵀx*`` vanish at x*, and they obey the *strong growth condition*

    E‖ĝ(x)‖² ≤ ρ ‖∇f(x)‖²   for all x

(Schmidt & Le Roux 2013; Vaswani, Bach & Schmidt 2019).  With ``e = x − x*``,
``∇f = H e`` for ``H = (1/n) Σ a_i a_iᵀ`` and ``E‖∇f_i‖² = eᵀ M e`` for
``M = (1/n) Σ ‖a_i‖² a_i a_iᵀ``, so the smallest such constant for single samples is
the generalized eigenvalue

    ρ₁ = λ_max(H⁺ M H⁺)   on the range of H

(directions outside it have ∇f_i = 0 for every i).  A minibatch of B indices drawn
with replacement has ``E‖ĝ_B‖² = (1 − 1/B)‖∇f‖² + (1/B) E‖∇f_i‖²``, hence exactly
``ρ_B = 1 + (ρ₁ − 1)/B``; without replacement (a uniformly random B-subset, the
marginal law of one step of reshuffling) the finite-population factor gives
``ρ_B = 1 + (ρ₁ − 1)(n − B)/(B(n − 1))``.

:meth:`InterpolatingLeastSquares.with_growth` builds a design with a prescribed ρ₁
and Hessian spectrum; :meth:`InterpolatingLeastSquares.random` a Gaussian design
whose ρ₁ is computed from the formula above.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from ..errors import positive, require
from ..spectra import explicit
from .finite_sum import LeastSquares


def growth_constant(A) -> float:
    """ρ₁ = λ_max(H⁺ M H⁺) on range(H) for the rows ``a_i`` of ``A`` (single-sample strong growth)."""
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[0]
    H = A.T @ A / n
    M = (A.T * np.sum(A**2, axis=1)) @ A / n
    lam, V = np.linalg.eigh(H)
    keep = lam > lam[-1] * 1e-12 * max(A.shape)
    W = V[:, keep] / lam[keep]  # columns v_k / λ_k: H⁺ restricted to range(H)
    return float(np.linalg.eigvalsh(W.T @ M @ W)[-1])


def sgd_second_moments(A, eta: float, steps: int, *, batch_size: int = 1, S0=None) -> np.ndarray:
    """tr E[e_t e_tᵀ], t = 0..steps, for SGD with constant step ``eta`` on interpolating least squares, exactly.

    With e = x − x* one step is e' = (I − η Ĥ) e, Ĥ = (1/B) Σ_j a_{i_j} a_{i_j}ᵀ with B indices drawn
    uniformly with replacement, so S = E[e eᵀ] obeys the linear recursion (the linearized
    dynamics of the mean-square stability analysis; Wu, Ma & E 2018; Mulayoff & Michaeli 2023,
    arXiv 2306.07850)

        S' = S − η(HS + SH) + η² [(1 − 1/B) H S H + (1/B)(1/n) Σ_i (a_iᵀ S a_i) a_i a_iᵀ].

    ``S0`` is E[e_0 e_0ᵀ] (default I/d).  Computed from the design alone, never from a method.
    """
    A = np.asarray(A, dtype=np.float64)
    n, d = A.shape
    B = positive("batch_size", batch_size, integer=True)
    H = A.T @ A / n
    S = np.eye(d) / d if S0 is None else np.array(S0, dtype=np.float64)
    out = [np.trace(S)]
    for _ in range(int(steps)):
        q = np.sum((A @ S) * A, axis=1)  # a_iᵀ S a_i
        HS = H @ S
        S = S - eta * (HS + HS.T) + eta**2 * ((1.0 - 1.0 / B) * HS @ H + (A.T * q) @ A / (n * B))
        out.append(np.trace(S))
    return np.array(out)


def minibatch_growth(rho_1: float, n: int, batch_size: int, with_replacement: bool) -> float:
    """ρ_B from ρ₁ for minibatches drawn with or without replacement (see the module docstring)."""
    if with_replacement:
        return 1.0 + (rho_1 - 1.0) / batch_size
    return 1.0 + (rho_1 - 1.0) * (n - batch_size) / (batch_size * (n - 1)) if n > 1 else 1.0


class InterpolatingLeastSquares(LeastSquares):
    """Least squares ``(1/2n)‖A(x − x*)‖²`` whose labels ``b = A w`` are fitted exactly (σ*² = 0).

    When ``A`` has full column rank x* = w; otherwise x* is the solution closest to
    ``x0`` (the one SGD-type methods started at x0 converge to, since they move in
    the row space of A).  ``constants()`` adds ``rho_1`` (single-sample strong growth)
    and ``rho`` (for this problem's batch size and sampling).
    """

    name = "interpolating-least-squares"
    description = "least squares with b = A w (interpolation, sigma*=0) and a closed-form strong-growth constant rho"

    def __init__(self, A, w, *, batch_size=1, x0=None, sampling="with-replacement"):
        A = np.asarray(A, dtype=np.float64)
        self.w = np.asarray(w, dtype=np.float64)
        require(A.ndim == 2 and self.w.shape == (A.shape[1],), f"w must have shape ({A.shape[1]},), got {self.w.shape}")
        super().__init__(A, A @ self.w, batch_size=batch_size, x0=x0, sampling=sampling)

    @classmethod
    def random(cls, n, d, *, spectrum=None, batch_size=1, seed=0, x0=None, sampling="with-replacement"):
        """Gaussian design with feature covariance ``diag(spectrum)``; planted w ~ N(0, I/d), x0 = w + N(0, I/d)."""
        n, d = positive("n", n, integer=True), positive("d", d, integer=True)
        rng = np.random.default_rng(seed)
        scale = np.ones(d) if spectrum is None else np.sqrt(explicit(spectrum))
        require(scale.shape == (d,), f"spectrum must have {d} entries, got {scale.shape}")
        A = rng.standard_normal((n, d)) * scale
        w = rng.standard_normal(d) / np.sqrt(d)
        if x0 is None:
            x0 = w + rng.standard_normal(d) / np.sqrt(d)
        return cls(A, w, batch_size=batch_size, x0=x0, sampling=sampling)

    @classmethod
    def with_growth(cls, rho, d, *, rows_per_dim=4, spectrum=None, batch_size=1, seed=0, x0=None,
                    sampling="with-replacement"):
        """A design with single-sample strong growth exactly ``rho`` and Hessian eigenvalues ``spectrum``.

        In a Haar-random orthonormal basis q_1..q_d, each direction j gets ``m =
        rows_per_dim`` rows c_j s_i q_j with s_1² = u and s_i² = 1 otherwise, so H = Σ_j
        λ_j q_j q_jᵀ and ρ₁ = n (u² + m − 1)/(u + m − 1)² with n = m d.  Solving for u
        covers every ρ₁ in [d, n): d is the smallest value any interpolating design with
        H ∝ I can have (tr M = E‖a‖⁴ ≥ (tr H)²), and n the limit of one dominant row.
        """
        d = positive("d", d, integer=True)
        m = positive("rows_per_dim", rows_per_dim, integer=True)
        n = m * d
        rho = float(rho)
        require(d <= rho < n or (m == 1 and rho == d),
                f"a {m}-rows-per-direction design reaches strong growth rho in [{d}, {n}); got {rho!r}")
        lam = np.ones(d) if spectrum is None else explicit(spectrum)
        require(lam.shape == (d,) and bool(np.all(lam > 0)), f"spectrum must have {d} positive entries")
        r = rho / n  # solve (1 − r)u² − 2r(m − 1)u + (m − 1)(1 − r(m − 1)) = 0 for the larger root u ≥ 1
        u = 1.0 if m == 1 else (r * (m - 1) + np.sqrt(max((m - 1) * (r * m - 1), 0.0))) / (1 - r)
        s2 = np.ones(m)
        s2[0] = u
        c2 = lam * n / (u + m - 1)  # so that H_jj = c_j² Σ s_i² / n = λ_j
        Q = scipy.stats.special_ortho_group.rvs(d, random_state=seed) if d > 1 else np.ones((1, 1))
        A = (np.sqrt(np.repeat(c2, m) * np.tile(s2, d)))[:, None] * np.repeat(Q.T, m, axis=0)
        rng = np.random.default_rng(seed)
        w = rng.standard_normal(d) / np.sqrt(d)
        if x0 is None:
            x0 = w + rng.standard_normal(d) / np.sqrt(d)
        return cls(A, w, batch_size=batch_size, x0=x0, sampling=sampling)

    # Under interpolation f(x) = ½ (x − x*)ᵀ H (x − x*) exactly, so the full gradient and value need
    # only the d×d matrix H instead of a pass over the n samples.
    def value(self, x):
        xp = self.namespace_of(x)
        e = x - self.x_star_on(x)
        return 0.5 * xp.sum(e * (e @ self.on(x, "H", self._hessian)), axis=-1)

    def grad(self, x):
        return (x - self.x_star_on(x)) @ self.on(x, "H", self._hessian)

    def hvp(self, x, v):
        return v @ self.on(x, "H", self._hessian)

    def _hessian(self):
        return self.A.T @ self.A / self.n

    def _solve(self):
        if np.linalg.matrix_rank(self.A) == self.dim:
            return self.w.copy()
        return self._x0 - np.linalg.pinv(self.A) @ (self.A @ self._x0 - self.y)  # nearest solution to x0

    def constants(self):
        # computed once: the eigendecompositions dominate a short run otherwise (the problem is immutable)
        if "_constants" not in self.__dict__:
            c = super().constants()
            rho_1 = growth_constant(self.A)
            c.update(sigma_star2=0.0, rho_1=rho_1,
                     rho=minibatch_growth(rho_1, self.n, self.batch_size, self.sampling == "with-replacement"))
            self._constants = c
        return dict(self._constants)
