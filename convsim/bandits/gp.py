"""Gaussian-process bandits on a finite domain: a GP-sampled objective and GP-UCB.

The domain is a finite set of points (a grid of [0, 1]^d); an arm is a point, and the
objective f is one sample of GP(0, k) on it (drawn once, from a seeded host generator, then fixed
like an adversary's table): the environment is :class:`~convsim.bandits.environments.GaussianBandit`
with means f(points), so regret runs through :func:`~convsim.bandits.simulate_bandit` unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..backend import cached_in, device_cache
from ..errors import positive, require
from .environments import GaussianBandit


def grid_points(d: int, per_axis: int) -> np.ndarray:
    """The per_axis^d points of a regular grid of [0, 1]^d, shape (per_axis^d, d)."""
    axis = np.linspace(0.0, 1.0, positive("per_axis", per_axis, integer=True))
    mesh = np.meshgrid(*([axis] * positive("d", d, integer=True)), indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def squared_exponential(points: np.ndarray, lengthscale: float, variance: float = 1.0) -> np.ndarray:
    """k(x, x') = variance · exp(−‖x − x'‖² / (2 lengthscale²)) on the points (host matrix)."""
    positive("lengthscale", lengthscale)
    sq = np.sum((points[:, None, :] - points[None, :, :]) ** 2, axis=-1)
    return positive("variance", variance) * np.exp(-sq / (2.0 * lengthscale**2))


def gp_sample_bandit(points: np.ndarray, lengthscale: float, noise: float, seed: int) -> GaussianBandit:
    """Arms at ``points`` whose means are one draw of GP(0, k_SE) (seeded), rewards f(x) + N(0, noise²)."""
    kernel = squared_exponential(points, lengthscale)
    root = np.linalg.cholesky(kernel + 1e-10 * np.eye(len(points)))
    f = root @ np.random.default_rng(seed).standard_normal(len(points))
    return GaussianBandit(tuple(f), sigma=noise)


def srinivas_beta(t: int, arms: int, delta: float) -> float:
    """β_t = 2 log(|D| t² π² / (6δ)) of Srinivas et al. (2010), Theorem 1 (finite D), t ≥ 1."""
    return 2.0 * math.log(arms * t**2 * math.pi**2 / (6.0 * delta))


class GPState(NamedTuple):
    mean: Any  # (R, K) posterior mean at every point
    cov: Any  # (R, K, K) posterior covariance


@dataclass(frozen=True)
class GPUCB:
    """GP-UCB (Srinivas, Krause, Kakade & Seeger 2010, Algorithm 1) on a finite domain.

    Round t = 1, 2, ... picks argmax_x μ_{t−1}(x) + √β_t σ_{t−1}(x) with β_t of their Theorem 1
    (:func:`srinivas_beta`, scaled by ``beta_scale``, 1 in the paper), then updates the Gaussian
    posterior of f given y = f(x) + N(0, noise²) exactly (a rank-one update of the covariance).
    ``kernel`` is the prior covariance of f on the arms (host K×K matrix).
    """

    kernel: np.ndarray
    noise: float
    delta: float = 0.1
    beta_scale: float = 1.0
    name = "gp-ucb"

    def __post_init__(self):
        k = np.asarray(self.kernel, dtype=float)
        require(k.ndim == 2 and k.shape[0] == k.shape[1] >= 2, f"the kernel must be a (K, K) matrix, got {k.shape}")
        object.__setattr__(self, "kernel", k)
        positive("noise", self.noise)
        require(0 < self.delta < 1, f"delta must lie in (0, 1), got {self.delta}")
        require(self.beta_scale >= 0, f"beta_scale must be non-negative, got {self.beta_scale}")

    def init(self, R, K, xp, dtype):
        require(K == self.kernel.shape[0], f"the kernel covers {self.kernel.shape[0]} points; the bandit has {K} arms")
        prior = cached_in(device_cache(self), xp, dtype, "kernel", self.kernel)
        return GPState(xp.zeros((R, K), dtype=dtype), xp.broadcast_to(prior[None, ...], (R, K, K)))

    def select(self, state, rng, t, xp):
        beta = self.beta_scale * srinivas_beta(t + 1, self.kernel.shape[0], self.delta)
        sd = xp.sqrt(xp.clip(xp.linalg.diagonal(state.cov), 0.0, None))
        return xp.argmax(state.mean + math.sqrt(beta) * sd, axis=1)

    def update(self, state, arms, rewards, t, xp):
        R, K = state.mean.shape
        hot = xp.astype(xp.arange(K)[None, :] == arms[:, None], state.mean.dtype)  # (R, K)
        column = xp.sum(state.cov * hot[:, None, :], axis=2)  # Σ[:, x_t]
        var = xp.sum(column * hot, axis=1) + self.noise**2  # Σ[x_t, x_t] + σ²
        gain = column / var[:, None]
        residual = rewards - xp.sum(state.mean * hot, axis=1)
        mean = state.mean + gain * residual[:, None]
        cov = state.cov - gain[:, :, None] * column[:, None, :]
        return GPState(mean, cov)

    def spec(self):
        from ..problems.base import array_digest

        return {"name": self.name, "kernel": array_digest(self.kernel), "noise": self.noise, "delta": self.delta,
                "beta_scale": self.beta_scale}
