"""Geodesically convex problems on manifolds, in the batched Problem protocol of :mod:`convsim.problems`.

:class:`FrechetBall` is the Fréchet (Karcher) variance on a product of K Poincaré balls: the iterate
row of shape ``(K·n,)`` holds K points of the n-ball, and f(x) = Σ_k (1/m) Σ_j d(x_k, y_kj)².
d(·, y)² is geodesically (strongly) convex on a Hadamard manifold, so f has one minimizer, the
Fréchet mean of each component's anchors.  ``grad`` is the EUCLIDEAN gradient (the Problem
protocol); a Riemannian method converts it (:func:`convsim.manifolds.poincare.riemannian_grad`).

:class:`GaussianPrecision` is f(S) = ½ tr(S Σ) − ½ log det S on SPD matrices (the negative
log-likelihood of a zero-mean Gaussian in its precision S; S* = Σ⁻¹, f* = ½(d + log det Σ)),
geodesically convex for the affine-invariant metric.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from ..errors import require
from ..problems.base import Problem, array_digest
from . import poincare


class FrechetBall(Problem):
    """Σ_k (1/m) Σ_j d(x_k, y_kj)² on a product of K Poincaré n-balls (anchors ``points`` of shape (K, m, n)).

    ``stochastic=True``: each step samples one anchor j per component and replica, uniformly (the online
    losses f_t(x) = Σ_k d(x_k, y_{k j_t})², i.i.d.); otherwise the stochastic gradient is the exact one.
    ``x_star``/``f_star``: the known minimizer and value, where a closed form gives them
    (:meth:`symmetric`, :meth:`collinear`)."""

    name = "frechet-ball"
    description = "Frechet variance on a product of Poincare balls (geodesically convex)"

    def __init__(self, points, x0, *, stochastic: bool = True, x_star=None, f_star=None):
        self.points = np.asarray(points, dtype=np.float64)
        require(self.points.ndim == 3, "points must have shape (components, anchors, ball dimension)")
        require(bool(np.all(np.linalg.norm(self.points, axis=-1) < 1.0)), "anchors must lie inside the unit ball")
        self.components, self.anchors, self.ball_dim = self.points.shape
        self.dim = self.components * self.ball_dim
        self._x0 = np.asarray(x0, dtype=np.float64).reshape(-1)
        require(self._x0.shape == (self.dim,), f"x0 must have {self.dim} entries")
        require(bool(np.all(np.linalg.norm(self._x0.reshape(self.components, -1), axis=-1) < 1.0)),
                "x0 must lie inside the unit ball in every component")
        self.stochastic = bool(stochastic)
        self._x_star = None if x_star is None else np.asarray(x_star, dtype=np.float64).reshape(-1)
        self._f_star = None if f_star is None else float(f_star)

    @classmethod
    def symmetric(cls, components: int, ball_dim: int, radius: float, x0, **kw):
        """Anchors ±r e_i (i = 1..n) in every component: by symmetry the Fréchet mean is the origin and
        f* = K (2 artanh r)²."""
        anchors = np.concatenate([radius * np.eye(ball_dim), -radius * np.eye(ball_dim)])
        points = np.broadcast_to(anchors, (components, *anchors.shape))
        f_star = components * (2.0 * np.arctanh(radius)) ** 2
        return cls(points, x0, x_star=np.zeros(components * ball_dim), f_star=f_star, **kw)

    @classmethod
    def collinear(cls, coordinates, ball_dim: int, x0_coordinates, **kw):
        """Anchors t_kj e_1 on one diameter per component (``coordinates`` of shape (K, m), abs(t) < 1), start
        x0_k e_1.  The diameter is a geodesic isometric to R by u = 2 artanh t, so the Fréchet mean is
        tanh(mean_j artanh t_kj) e_1 and f* = Σ_k var_j(u_kj) (population variance)."""
        t = np.asarray(coordinates, dtype=np.float64)
        K, m = t.shape
        points = np.zeros((K, m, ball_dim))
        points[:, :, 0] = t
        u = 2.0 * np.arctanh(t)
        star = np.zeros((K, ball_dim))
        star[:, 0] = np.tanh(u.mean(axis=1) / 2.0)
        start = np.zeros((K, ball_dim))
        start[:, 0] = np.asarray(x0_coordinates, dtype=np.float64)
        return cls(points, start, x_star=star, f_star=float(np.sum(u.var(axis=1))), **kw)

    def _split(self, x):
        xp = self.namespace_of(x)
        return xp.reshape(x, (x.shape[0], self.components, 1, self.ball_dim))

    def value(self, x):
        xp = self.namespace_of(x)
        y = self.on(x, "points", self.points)[None, ...]
        return xp.sum(xp.mean(poincare.distance(self._split(x), y) ** 2, axis=-1), axis=-1)

    def grad(self, x):
        xp = self.namespace_of(x)
        y = self.on(x, "points", self.points)[None, ...]
        g = xp.mean(poincare.squared_distance_egrad(self._split(x), y), axis=2)
        return xp.reshape(g, x.shape)

    def stochastic_grad(self, x, rng):
        if not self.stochastic:
            return self.grad(x)
        xp = self.namespace_of(x)
        R, K, n = x.shape[0], self.components, self.ball_dim
        j = rng.integers(self.anchors, K)  # (R, K): one anchor per component
        offsets = self.on(x, "anchor_offsets", lambda: np.arange(K) * self.anchors)
        flat = xp.reshape(xp.astype(offsets, j.dtype)[None, :] + j, (R * K,))
        y = xp.take(self.on(x, "flat_points", self.points.reshape(-1, n)), flat, axis=0)
        g = poincare.squared_distance_egrad(xp.reshape(x, (R * K, n)), y)
        return xp.reshape(g, x.shape)

    def constants(self):
        out = {"d": self.dim, "components": self.components, "ball_dim": self.ball_dim}
        if self._f_star is not None:
            out["f_star"] = self._f_star
        return out

    def spec(self):
        return {"name": self.name, "points": array_digest(self.points), "x0": array_digest(self._x0),
                "stochastic": self.stochastic}


def max_component_norm(problem, x):
    """max_k ‖x_k‖ over the components of each row, +inf once it reaches 1 (the iterate left the product of
    balls): the engine's divergence detection then records the exit (for ``cs.checks.Event``)."""
    xp = problem.namespace_of(x)
    parts = xp.reshape(x, (x.shape[0], problem.components, problem.ball_dim))
    r = xp.max(xp.sqrt(xp.sum(parts * parts, axis=-1)), axis=-1)
    return xp.where(r < 1.0, r, xp.full_like(r, xp.inf))


def geodesic_dist_sq(problem, x):
    """Σ_k d(x_k, x*_k)², the squared geodesic distance to the minimizer on the product manifold."""
    xp = problem.namespace_of(x)
    star = problem.x_star_on(x)
    parts = xp.reshape(x, (x.shape[0], problem.components, problem.ball_dim))
    ref = xp.reshape(star, (1, problem.components, problem.ball_dim))
    return xp.sum(poincare.distance(parts, ref) ** 2, axis=-1)


class GaussianPrecision(Problem):
    """f(S) = ½ tr(S Σ) − ½ log det S over SPD S (d×d, flattened row-major): ∇f = ½(Σ − S⁻¹), S* = Σ⁻¹.

    Outside the SPD cone f is +inf (log det undefined); the gradient formula is still evaluated there."""

    name = "gaussian-precision"
    description = "Gaussian negative log-likelihood in the precision matrix (geodesically convex on SPD)"

    def __init__(self, covariance, x0=None, *, stochastic: bool = False):
        self.stochastic = bool(stochastic)
        self.covariance = np.asarray(covariance, dtype=np.float64)
        n = self.covariance.shape[0]
        require(self.covariance.shape == (n, n) and np.allclose(self.covariance, self.covariance.T),
                "the covariance must be a symmetric square matrix")
        require(bool(np.linalg.eigvalsh(self.covariance).min() > 0), "the covariance must be positive definite")
        self.n = n
        self.dim = n * n
        self._x0 = np.eye(n).reshape(-1) if x0 is None else np.asarray(x0, dtype=np.float64).reshape(-1)
        star = np.linalg.inv(self.covariance)
        self._x_star = star.reshape(-1)
        self._f_star = 0.5 * (n + float(np.linalg.slogdet(self.covariance)[1]))

    def _matrices(self, x):
        xp = self.namespace_of(x)
        return xp.reshape(x, (x.shape[0], self.n, self.n))

    def value(self, x):
        xp = self.namespace_of(x)
        S = self._matrices(x)
        C = self.on(x, "covariance", self.covariance)
        lam = _eigenvalues(S)
        ok = xp.min(lam, axis=-1) > 0
        logdet = xp.sum(xp.log(xp.where(lam > 0, lam, xp.ones_like(lam))), axis=-1)
        val = 0.5 * xp.sum(S * C[None, ...], axis=(-2, -1)) - 0.5 * logdet
        return xp.where(ok, val, xp.full_like(val, xp.inf))

    def grad(self, x):
        xp = self.namespace_of(x)
        S = self._matrices(x)
        C = self.on(x, "covariance", self.covariance)
        return xp.reshape(0.5 * (C[None, ...] - self._inverse(S)), x.shape)

    @staticmethod
    def _inverse(S):
        """S⁻¹ through the eigendecomposition of its symmetric part, which never raises: a singular or
        non-finite S (an iterate that left the cone) gives a non-finite inverse, and the run marks it."""
        xp = array_namespace(S)
        finite = xp.all(xp.isfinite(S), axis=(-2, -1), keepdims=True)
        safe = xp.where(finite, S, xp.zeros_like(S))
        lam, Q = xp.linalg.eigh((safe + xp.matrix_transpose(safe)) / 2.0)
        inv_lam = xp.where(lam != 0.0, 1.0 / xp.where(lam != 0.0, lam, xp.ones_like(lam)), xp.full_like(lam, xp.inf))
        out = (Q * inv_lam[..., None, :]) @ xp.matrix_transpose(Q)
        return xp.where(finite, out, xp.full_like(out, xp.nan))

    def stochastic_grad(self, x, rng):
        """½(z zᵀ − S⁻¹) with z ~ N(0, Σ), one sample per row (``stochastic=True``; else the exact gradient)."""
        if not self.stochastic:
            return self.grad(x)
        xp = self.namespace_of(x)
        root = self.on(x, "covariance_root", lambda: np.linalg.cholesky(self.covariance))
        z = rng.normal(self.n) @ xp.matrix_transpose(root)
        S = self._matrices(x)
        return xp.reshape(0.5 * (z[:, :, None] * z[:, None, :] - self._inverse(S)), x.shape)

    def spec(self):
        return {"name": self.name, "covariance": array_digest(self.covariance), "x0": array_digest(self._x0),
                "stochastic": self.stochastic}


def min_eigenvalue(problem, x):
    """The smallest eigenvalue of the symmetric part of each row's matrix, +inf once it is ≤ 0 (S left the
    SPD cone): the engine's divergence detection then records the exit (for ``cs.checks.Event``)."""
    xp = problem.namespace_of(x)
    S = xp.reshape(x, (x.shape[0], problem.n, problem.n))
    lam = xp.min(_eigenvalues(S), axis=-1)
    return xp.where(lam > 0.0, lam, xp.full_like(lam, xp.inf))


def _eigenvalues(S):
    """Eigenvalues of the symmetric part of each matrix; NaN for a non-finite matrix (where LAPACK would raise)."""
    xp = array_namespace(S)
    finite = xp.all(xp.isfinite(S), axis=(-2, -1))
    safe = xp.where(finite[:, None, None], S, xp.zeros_like(S))
    lam = xp.linalg.eigvalsh((safe + xp.matrix_transpose(safe)) / 2.0)
    return xp.where(finite[:, None], lam, xp.full_like(lam, xp.nan))
