"""Per-worker problems: M workers' objectives as one more batched axis.

A :class:`WorkerQuadratics` holds M diagonal quadratics f_m(x) = ½ Σ_j h_mj (x_j − b_mj)²
(curvatures ``h`` and optima ``b`` of shape (M, d)).  As a convsim Problem it is the global
objective f = (1/M) Σ_m f_m on iterates of shape (R, d); distributed methods reach the workers
through :meth:`worker_grad` / :meth:`worker_stochastic_grad` on iterates of shape (R, M, d).
Heterogeneity is ζ² = (1/M) Σ_m ‖∇f_m(x*)‖² (zero iff every worker shares x*), noise is additive
Gaussian with variance σ² per coordinate of each worker's gradient (σ²·d in all).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import finite_array, positive, require
from ..problems.base import Problem, array_digest


@dataclass(frozen=True, eq=False)
class WorkerQuadratics(Problem):
    """M diagonal quadratics with per-worker curvatures and optima, additive Gaussian gradient noise."""

    curvatures: np.ndarray  # (M, d), positive
    optima: np.ndarray  # (M, d)
    sigma: float = 0.0
    x0: np.ndarray | None = None

    name = "worker-quadratics"
    description = "M heterogeneous diagonal quadratics (workers as an array axis), Gaussian gradient noise"

    def __post_init__(self):
        h = finite_array("curvatures", self.curvatures)
        b = finite_array("optima", self.optima)
        require(h.ndim == 2 and h.shape == b.shape, f"curvatures and optima must both be (M, d), got {h.shape}, {b.shape}")
        require(bool(np.all(h > 0)), "curvatures must be positive")
        require(self.sigma >= 0, f"sigma must be non-negative, got {self.sigma}")
        object.__setattr__(self, "curvatures", h)
        object.__setattr__(self, "optima", b)
        x0 = np.zeros(h.shape[1]) if self.x0 is None else finite_array("x0", self.x0, (h.shape[1],))
        object.__setattr__(self, "x0", x0)

    # -- shapes and known answers ---------------------------------------------------------
    @property
    def workers(self) -> int:
        return self.curvatures.shape[0]

    @property
    def dim(self) -> int:
        return self.curvatures.shape[1]

    @property
    def mean_curvature(self) -> np.ndarray:
        return self.curvatures.mean(axis=0)

    @property
    def x_star(self) -> np.ndarray:
        h, b = self.curvatures, self.optima
        return (h * b).sum(axis=0) / h.sum(axis=0)

    @property
    def f_star(self) -> float:
        return float(self._value_host(self.x_star))

    def initial_point(self) -> np.ndarray:
        return self.x0

    def worker_grads_at_optimum(self) -> np.ndarray:
        """∇f_m(x*) for every worker, shape (M, d); their mean is zero."""
        return self.curvatures * (self.x_star[None, :] - self.optima)

    def _value_host(self, x):
        return 0.5 * float(np.mean(np.sum(self.curvatures * (x[None, :] - self.optima) ** 2, axis=1)))

    def constants(self):
        hbar = self.mean_curvature
        g = self.worker_grads_at_optimum()
        e0 = self.x0 - self.x_star
        return {"d": self.dim, "workers": self.workers, "L": float(hbar.max()), "mu": float(hbar.min()),
                "kappa": float(hbar.max() / hbar.min()), "L_max": float(self.curvatures.max()),
                "zeta2": float(np.mean(np.sum(g * g, axis=1))), "sigma2": float(self.sigma**2 * self.dim),
                "r0_sq": float(e0 @ e0), "f_star": self.f_star}

    def spec(self):
        return {"name": self.name, "workers": self.workers, "d": self.dim, "curvatures": array_digest(self.curvatures),
                "optima": array_digest(self.optima), "sigma": self.sigma, "x0": array_digest(self.x0)}

    # -- the global objective on (R, d) -----------------------------------------------------
    def value(self, x):
        xp = self.namespace_of(x)
        hbar = self.on(x, "hbar", self.mean_curvature)
        xs = self.x_star_on(x)
        return 0.5 * xp.sum(hbar * (x - xs) ** 2, axis=-1) + self.f_star

    def grad(self, x):
        return self.on(x, "hbar", self.mean_curvature) * (x - self.x_star_on(x))

    def stochastic_grad(self, x, rng):
        """The mean of the M workers' stochastic gradients at x: a minibatch of one sample per worker."""
        xp = self.namespace_of(x)
        X = xp.broadcast_to(x[:, None, :], (x.shape[0], self.workers, self.dim))
        return xp.mean(self.worker_stochastic_grad(X, rng), axis=1)

    def hvp(self, x, v):
        return self.on(x, "hbar", self.mean_curvature) * v

    # -- the workers on (R, M, d) ------------------------------------------------------------
    def worker_grad(self, X):
        return self.on(X, "h", self.curvatures) * (X - self.on(X, "b", self.optima))

    def worker_stochastic_grad(self, X, rng):
        g = self.worker_grad(X)
        if self.sigma:
            g = g + self.sigma * rng.normal(self.workers, self.dim)
        return g

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def random(cls, workers: int, d: int, *, mu: float = 0.1, L: float = 1.0, zeta: float = 0.0,
               spread: float = 0.0, sigma: float = 0.0, r0: float = 1.0, seed: int = 0) -> "WorkerQuadratics":
        """Workers with curvatures μ..L (log-spaced over coordinates) times exp(spread·U(−1, 1)) each,
        optima shifted so that ζ² = (1/M) Σ‖∇f_m(x*)‖² equals ``zeta``² exactly, and ‖x0 − x*‖ = r0."""
        workers, d = positive("workers", workers, integer=True), positive("d", d, integer=True)
        rng = np.random.default_rng(seed)
        base = np.geomspace(L, mu, d) if d > 1 else np.array([L])
        h = base[None, :] * np.exp(spread * rng.uniform(-1.0, 1.0, (workers, d)))
        delta = rng.standard_normal((workers, d))
        delta -= delta.mean(axis=0)
        b = np.zeros((workers, d))
        if zeta > 0 and workers > 1:
            probe = cls(h, delta)
            delta *= zeta / np.sqrt(probe.constants()["zeta2"])
            b = delta
        x_star = (h * b).sum(axis=0) / h.sum(axis=0)
        direction = rng.standard_normal(d)
        x0 = x_star + r0 * direction / np.linalg.norm(direction)
        return cls(h, b, sigma=float(sigma), x0=x0)
