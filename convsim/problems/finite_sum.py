"""Finite sums ``f(x) = (1/n) Σ_i ℓ(a_iᵀx; y_i) + (reg/2)‖x‖²`` of generalized linear losses.

The stochastic oracle draws ``batch_size`` indices per replica and call, with
``sampling``:

* ``"with-replacement"`` (default): uniform i.i.d. indices, the sampling of the
  Handbook's SGD analysis (Garrigos & Gower, 2023, §5);
* ``"reshuffle"``: random reshuffling, a fresh permutation per replica every epoch;
* ``"shuffle-once"``: one permutation per replica, reused every epoch.

Without replacement, ``batch_size`` must divide ``n`` so that epochs are whole.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
from scipy.special import expit, log_expit

from ..errors import finite_array, positive, require
from .base import Problem, array_digest

SAMPLINGS = ("with-replacement", "reshuffle", "shuffle-once")


class FiniteSum(Problem):
    """Shared machinery; subclasses define the per-sample loss of the margin ``aᵀx``."""

    curvature_bound = 1.0  # sup ℓ'' (1 for squares, 1/4 for the logistic loss)

    def __init__(self, A, y, *, reg=0.0, batch_size=1, x0=None, sampling="with-replacement"):
        self.A = finite_array("A", A)  # NaN data would only surface as a LAPACK failure in the solve
        self.y = finite_array("labels y", y)
        require(self.A.ndim == 2, f"A must be a matrix, got shape {self.A.shape}")
        self.n, self.dim = self.A.shape
        require(self.y.shape == (self.n,), f"labels must have shape ({self.n},), got {self.y.shape}")
        require(reg >= 0, f"reg must be non-negative, got {reg!r}")
        self.reg = float(reg)
        self.batch_size = positive("batch_size", batch_size, integer=True)
        require(sampling in SAMPLINGS, f"unknown sampling {sampling!r}; choose one of {', '.join(SAMPLINGS)}")
        require(sampling == "with-replacement" or self.n % self.batch_size == 0,
                f"sampling without replacement needs batch_size dividing n={self.n}, got {self.batch_size}")
        self.sampling = sampling
        self._x0 = np.zeros(self.dim) if x0 is None else finite_array("x0", x0, (self.dim,))
        self._x_star = self._solve()
        self._f_star = float(self._value_host(self._x_star))

    # -- per-sample loss (host and device versions share these formulas) ---------------
    def loss(self, xp, margin, y):
        raise NotImplementedError

    def dloss(self, xp, margin, y):
        raise NotImplementedError

    # -- protocol ---------------------------------------------------------------------
    def value(self, x):
        xp = self.namespace_of(x)
        A, y = self.on(x, "A", self.A), self.on(x, "y", self.y)
        out = xp.mean(self.loss(xp, x @ A.T, y), axis=-1)
        return out + 0.5 * self.reg * xp.sum(x * x, axis=-1) if self.reg else out

    def grad(self, x):
        xp = self.namespace_of(x)
        A, y = self.on(x, "A", self.A), self.on(x, "y", self.y)
        g = (self.dloss(xp, x @ A.T, y) @ A) / self.n
        return g + self.reg * x if self.reg else g

    def _minibatch(self, x, rng):
        """Rows (R, B, d), margins (R, B) and labels (R, B) of each replica's next minibatch."""
        xp = self.namespace_of(x)
        A, y = self.on(x, "A", self.A), self.on(x, "y", self.y)
        R, B = x.shape[0], self.batch_size
        idx = xp.reshape(self._indices(xp, rng, B), (R * B,))
        rows = xp.reshape(xp.take(A, idx, axis=0), (R, B, self.dim))
        return rows, xp.sum(rows * x[:, None, :], axis=-1), xp.reshape(xp.take(y, idx), (R, B))

    def stochastic_grad(self, x, rng):
        xp = self.namespace_of(x)
        rows, margins, labels = self._minibatch(x, rng)
        g = xp.sum(rows * self.dloss(xp, margins, labels)[..., None], axis=1) / self.batch_size
        return g + self.reg * x if self.reg else g

    def stochastic_value_and_grad(self, x, rng):
        """The minibatch loss f_ξ(x) and its gradient on ONE minibatch ξ (Polyak step sizes need both)."""
        xp = self.namespace_of(x)
        rows, margins, labels = self._minibatch(x, rng)
        loss = xp.mean(self.loss(xp, margins, labels), axis=-1)
        g = xp.sum(rows * self.dloss(xp, margins, labels)[..., None], axis=1) / self.batch_size
        if self.reg:
            return loss + 0.5 * self.reg * xp.sum(x * x, axis=-1), g + self.reg * x
        return loss, g

    def _indices(self, xp, rng, B):
        """(R, B) sample indices; without replacement, an epoch position kept with the stream."""
        if self.sampling == "with-replacement":
            return rng.integers(self.n, B)
        key = ("epoch", id(self))
        perm, pos = rng.scratch.get(key, (None, self.n))
        if pos + B > self.n:  # a new epoch
            if perm is None or self.sampling == "reshuffle":
                perm = xp.argsort(rng.uniform(self.n), axis=1)
            pos = 0
        rng.scratch[key] = (perm, pos + B)
        return perm[:, pos:pos + B]

    def hvp(self, x, v):
        xp = self.namespace_of(x)
        A, y = self.on(x, "A", self.A), self.on(x, "y", self.y)
        w = self.d2loss(xp, x @ A.T, y)  # (R, n)
        out = ((v @ A.T) * w) @ A / self.n
        return out + self.reg * v if self.reg else out

    def constants(self):
        gram = self.A.T @ self.A / self.n
        eig = np.linalg.eigvalsh(gram)
        L = self.curvature_bound * float(eig[-1]) + self.reg
        mu = self._strong_convexity(eig)
        per_sample = self.dloss(np, self.A @ self._x_star, self.y)[:, None] * self.A + self.reg * self._x_star
        r0_sq = float(np.sum((self._x0 - self._x_star) ** 2))
        return {
            "d": self.dim, "n": self.n, "L": L, "mu": mu, "kappa": L / mu if mu > 0 else float("inf"),
            "L_max": self.curvature_bound * float(np.max(np.sum(self.A**2, axis=1))) + self.reg,
            "f_star": self._f_star, "r0_sq": r0_sq, "f0_gap": float(self._value_host(self._x0) - self._f_star),
            "sigma_star2": float(np.mean(np.sum(per_sample**2, axis=1)) / self.batch_size),
            "batch_size": self.batch_size,
        }

    def spec(self):
        return {"name": self.name, "n": self.n, "d": self.dim, "A": array_digest(self.A), "y": array_digest(self.y),
                "reg": self.reg, "batch_size": self.batch_size, "sampling": self.sampling, "x0": array_digest(self._x0)}

    # -- host-side solves ---------------------------------------------------------------
    def _value_host(self, x):
        return float(np.mean(self.loss(np, self.A @ x, self.y)) + 0.5 * self.reg * x @ x)

    def _solve(self):
        raise NotImplementedError

    def _strong_convexity(self, gram_eigenvalues):
        raise NotImplementedError


class LeastSquares(FiniteSum):
    """``f(x) = (1/2n) ‖Ax - b‖² (+ reg/2 ‖x‖²)`` with per-sample losses ``½(a_iᵀx - b_i)²``."""

    name = "least-squares"
    description = "finite-sum least squares (1/2n)||Ax-b||^2, uniform sampling with replacement"

    @classmethod
    def random(cls, n, d, *, spectrum=None, noise_std=0.1, batch_size=1, seed=0, reg=0.0, x0=None,
               sampling="with-replacement"):
        """Gaussian design with feature covariance ``diag(spectrum)`` (identity by default)."""
        n, d = positive("n", n, integer=True), positive("d", d, integer=True)
        rng = np.random.default_rng(seed)
        scale = np.ones(d) if spectrum is None else np.sqrt(np.asarray(spectrum, dtype=np.float64))
        require(scale.shape == (d,), f"spectrum must have {d} entries, got {scale.shape}")
        A = rng.standard_normal((n, d)) * scale
        w = rng.standard_normal(d) / np.sqrt(d)
        b = A @ w + noise_std * rng.standard_normal(n)
        if x0 is None:
            x0 = w + rng.standard_normal(d) / np.sqrt(d)
        return cls(A, b, reg=reg, batch_size=batch_size, x0=x0, sampling=sampling)

    def loss(self, xp, margin, y):
        return 0.5 * (margin - y) ** 2

    def dloss(self, xp, margin, y):
        return margin - y

    def d2loss(self, xp, margin, y):
        return xp.ones_like(margin)

    def _solve(self):
        if self.reg:
            return np.linalg.solve(self.A.T @ self.A / self.n + self.reg * np.eye(self.dim), self.A.T @ self.y / self.n)
        return np.linalg.lstsq(self.A, self.y, rcond=None)[0]

    def _strong_convexity(self, eig):
        return max(float(eig[0]), 0.0) + self.reg


class LogisticRegression(FiniteSum):
    """``f(x) = (1/n) Σ log(1 + exp(-y_i a_iᵀx)) + (reg/2)‖x‖²`` with labels ±1."""

    name = "logistic-regression"
    description = "l2-regularized logistic regression, uniform sampling with replacement"
    curvature_bound = 0.25

    @classmethod
    def random(cls, n, d, *, reg=1e-2, batch_size=1, seed=0, separation=1.0, x0=None, sampling="with-replacement"):
        """Gaussian features, labels from a logistic model with weight norm ``separation``."""
        n, d = positive("n", n, integer=True), positive("d", d, integer=True)
        rng = np.random.default_rng(seed)
        A = rng.standard_normal((n, d))
        w = rng.standard_normal(d)
        w *= separation / np.linalg.norm(w)
        y = np.where(rng.random(n) < expit(A @ w), 1.0, -1.0)
        return cls(A, y, reg=positive("reg", reg), batch_size=batch_size, x0=x0, sampling=sampling)

    def __init__(self, A, y, *, reg=1e-2, batch_size=1, x0=None, sampling="with-replacement"):
        require(bool(np.all(np.isin(np.asarray(y), (-1.0, 1.0)))), "logistic labels must be -1 or +1")
        super().__init__(A, y, reg=reg, batch_size=batch_size, x0=x0, sampling=sampling)

    def loss(self, xp, margin, y):
        if xp is np:
            return -log_expit(y * margin)
        return xp.logaddexp(xp.zeros_like(margin), -y * margin)

    def dloss(self, xp, margin, y):
        # -y σ(-y m), with σ(z) = exp(-log(1+exp(-z))) to stay finite for large |m|.
        if xp is np:
            return -y * expit(-y * margin)
        return -y * xp.exp(-xp.logaddexp(xp.zeros_like(margin), y * margin))

    def d2loss(self, xp, margin, y):
        s = xp.exp(-xp.logaddexp(xp.zeros_like(margin), -margin))
        return s * (1 - s)

    def _solve(self):
        fun = lambda x: self._value_host(x)
        jac = lambda x: self.A.T @ self.dloss(np, self.A @ x, self.y) / self.n + self.reg * x
        hess = lambda x: (self.A.T * expit(self.A @ x) * expit(-(self.A @ x))) @ self.A / self.n + self.reg * np.eye(self.dim)
        res = scipy.optimize.minimize(fun, np.zeros(self.dim), jac=jac, hess=hess, method="trust-exact", options={"gtol": 1e-12})
        return res.x

    def _strong_convexity(self, eig):
        return self.reg
