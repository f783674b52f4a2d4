"""Stochastic differential equations dX = f(X, t) dt + g(X, t) dW, batched over paths.

Terms are separate from the solvers that integrate them (as in diffrax): a solver only
calls ``drift``, ``diffusion`` and, for Milstein, ``diffusion_derivative``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.linalg

from ..backend import cached_on
from ..errors import ConvsimError, require


@dataclass(frozen=True)
class SDE:
    """dX = drift(X, t) dt + diffusion(X, t, dW) with Brownian increments dW of shape (R, m).

    ``noise="diagonal"``: ``diffusion(X, t)`` returns g of shape (R, d) and the noise
    term is g ⊙ dW (m = d); Milstein also needs ``diffusion_derivative`` (∂g_i/∂x_i).
    ``noise="general"``: ``diffusion(X, t, dW)`` returns the noise term itself.
    """

    dim: int
    drift: Callable
    diffusion: Callable
    noise: str = "diagonal"
    noise_dim: int | None = None
    diffusion_derivative: Callable | None = None
    name: str = "sde"

    def __post_init__(self):
        require(self.noise in ("diagonal", "general"), f"unknown noise structure {self.noise!r}")
        if self.noise_dim is None:
            object.__setattr__(self, "noise_dim", self.dim)

    def noise_term(self, x, t, dw):
        if self.noise == "diagonal":
            return self.diffusion(x, t) * dw
        return self.diffusion(x, t, dw)

    def spec(self) -> dict:
        return {"name": self.name, "dim": self.dim, "noise": self.noise}


@dataclass(frozen=True)
class LinearSDE:
    """The Ornstein–Uhlenbeck process dX = −(A + correction)(X − mean) dt + B dW, with host matrices
    A (d×d), B (d×m) and an optional drift ``correction`` (d×d, default none).

    The correction is kept apart from A because it is what a modified equation adds to the
    leading drift (the −(η/2)H² of SGD's second-order SME, the −ρH² of USAM's SDE): a field a
    mutation can drop or scale on its own.  ``drift_matrix`` is their sum.  Its stationary
    covariance Σ solves the continuous Lyapunov equation AΣ + ΣAᵀ = BBᵀ (A the drift matrix,
    when it is stable), and its transition over dt is Gaussian and known exactly.
    """

    A: np.ndarray
    B: np.ndarray
    mean: np.ndarray | None = None
    name: str = "ornstein-uhlenbeck"
    correction: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        A, B = np.atleast_2d(np.asarray(self.A, float)), np.atleast_2d(np.asarray(self.B, float))
        require(A.shape[0] == A.shape[1] == B.shape[0], f"need A (d, d) and B (d, m), got {A.shape} and {B.shape}")
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", B)
        mean = np.zeros(A.shape[0]) if self.mean is None else np.asarray(self.mean, float)
        object.__setattr__(self, "mean", mean)
        if self.correction is not None:
            K = np.atleast_2d(np.asarray(self.correction, float))
            require(K.shape == A.shape, f"the drift correction must have A's shape {A.shape}, got {K.shape}")
            object.__setattr__(self, "correction", K)

    @property
    def drift_matrix(self) -> np.ndarray:
        """A + correction: the process is dX = −drift_matrix (X − mean) dt + B dW."""
        return self.A if self.correction is None else self.A + self.correction

    @property
    def dim(self) -> int:
        return self.A.shape[0]

    @property
    def noise_dim(self) -> int:
        return self.B.shape[1]

    def stationary_covariance(self) -> np.ndarray:
        A = self.drift_matrix
        if np.any(np.linalg.eigvals(A).real <= 0):
            raise ConvsimError("the OU process has no stationary law: A is not stable")
        return scipy.linalg.solve_continuous_lyapunov(A, self.B @ self.B.T)

    def moments(self, x0, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Exact mean and covariance of X_t started at the point x0."""
        A = self.drift_matrix
        E = scipy.linalg.expm(-A * t)
        Q = self.B @ self.B.T
        cov = scipy.linalg.solve_continuous_lyapunov(A, Q - E @ Q @ E.T)
        return self.mean + E @ (np.asarray(x0, float) - self.mean), 0.5 * (cov + cov.T)

    def transition(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """(e^{−A dt}, a square-root factor of the transition covariance over dt), cached per dt."""
        if dt not in self._cache:
            A = self.drift_matrix
            E = scipy.linalg.expm(-A * dt)
            Q = self.B @ self.B.T
            # Σ_dt solves A Σ + Σ Aᵀ = Q − E Q Eᵀ (covariance accumulated over one step).
            cov = scipy.linalg.solve_continuous_lyapunov(A, Q - E @ Q @ E.T)
            cov = 0.5 * (cov + cov.T)
            w, V = np.linalg.eigh(cov)
            self._cache[dt] = (E, V * np.sqrt(np.clip(w, 0.0, None)))
        return self._cache[dt]

    def on(self, like, name: str, host_value):
        """Device copy of a host matrix, cached (see :func:`convsim.backend.cached_on`)."""
        return cached_on(self._cache, like, name, host_value)

    def as_sde(self) -> SDE:
        """The same process as a general SDE (for Euler–Maruyama and friends)."""

        def drift(x, t):
            return -(x - self.on(x, "mean", self.mean)) @ self.on(x, "A^T", lambda: self.drift_matrix.T)

        def diffusion(x, t, dw):
            return dw @ self.on(dw, "B^T", lambda: self.B.T)

        return SDE(self.dim, drift, diffusion, noise="general", noise_dim=self.noise_dim, name=self.name)

    def spec(self) -> dict:
        from ..problems.base import array_digest

        spec = {"name": self.name, "A": array_digest(self.A), "B": array_digest(self.B), "mean": array_digest(self.mean)}
        if self.correction is not None:
            spec["correction"] = array_digest(self.correction)
        return spec
