"""Gradient compressors over the last axis and compressed SGD with or without error feedback.

* :class:`TopK` — keeps the k entries largest in magnitude (biased; ‖C(v) − v‖² ≤ (1 − k/d)‖v‖²);
* :class:`RandomK` — k uniformly chosen entries scaled by d/k (unbiased; E‖C(v) − v‖² = (d/k − 1)‖v‖²);
* :class:`EightBit` — stochastic rounding to 255 steps of the vector's range [−max|v|, max|v|]
  (unbiased; E‖C(v) − v‖² ≤ d Δ²/4, Δ = 2 max|v| / 255).

:class:`CompressedSGD`: every worker sends C(ĝ_m + e_m) to the server, which steps with their mean;
with error feedback the residual e_m ← e_m + ĝ_m − C(ĝ_m + e_m) is kept for the next step (Seide et
al. 2014; Karimireddy et al. 2019, arXiv 1901.09847, Algorithm 2), without it e ≡ 0.

:class:`PowerSGD` (Vogels, Karimireddy, Jaggi, arXiv 1905.13727, Algorithms 1 and 2) compresses the workers'
matrix-shaped updates M_m = ĝ_m + e_m (the d-vector viewed as ``shape`` = (n, k)) jointly, since the
low-rank factors are all-reduced: with the previous step's Q ∈ R^{k×r} (warm start),
P = mean_m(M_m Q), P̂ = orthonormal basis of P (QR), Q ← mean_m(M_mᵀ P̂), and every worker applies the
decompressed mean P̂ Qᵀ = P̂ P̂ᵀ M̄ (a projection of the mean update); with error feedback each worker keeps
e_m ← M_m − P̂ Qᵀ.  :func:`powersgd_step` is that compression on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from array_api_compat import array_namespace

from ..backend import cached_on, device_cache
from ..errors import positive, require
from ..methods.base import Method
from ..schedules import Schedule


@dataclass(frozen=True)
class TopK:
    k: int

    def __post_init__(self):
        positive("k", self.k, integer=True)

    def __call__(self, v, rng):
        xp = array_namespace(v)
        a = xp.abs(v)
        threshold = xp.sort(a, axis=-1, descending=True)[..., self.k - 1:self.k]
        return xp.where(a >= threshold, v, xp.zeros_like(v))  # ties at the threshold are kept too

    def bits(self, d: int) -> int:
        return self.k * (64 + 32)  # value and index


@dataclass(frozen=True)
class RandomK:
    k: int

    def __post_init__(self):
        positive("k", self.k, integer=True)

    def __call__(self, v, rng):
        xp = array_namespace(v)
        d = v.shape[-1]
        u = rng.uniform(*v.shape[1:])
        threshold = xp.sort(u, axis=-1)[..., self.k - 1:self.k]
        return xp.where(u <= threshold, (d / self.k) * v, xp.zeros_like(v))

    def bits(self, d: int) -> int:
        return self.k * 64  # the indices follow from a shared seed


@dataclass(frozen=True)
class EightBit:
    def __call__(self, v, rng):
        xp = array_namespace(v)
        scale = xp.max(xp.abs(v), axis=-1, keepdims=True)
        step = 2.0 * scale / 255.0
        safe = xp.where(step > 0, step, xp.ones_like(step))
        level = (v + scale) / safe
        low = xp.floor(level)
        up = xp.astype(rng.uniform(*v.shape[1:]) < (level - low), v.dtype)
        return xp.where(step > 0, (low + up) * safe - scale, xp.zeros_like(v))

    def bits(self, d: int) -> int:
        return 8 * d + 64


class CompressedState(NamedTuple):
    x: Any  # (R, d)
    error: Any  # (R, M, d)


@dataclass(frozen=True)
class CompressedSGD(Method):
    """Server SGD on the mean of the workers' compressed gradients, optionally with error feedback."""

    step_size: Schedule | float
    workers: int
    compressor: Any
    error_feedback: bool = True

    name = "compressed-sgd"
    description = "distributed SGD with compressed worker gradients (top-k, random-k, 8-bit), optional error feedback"
    source = "Karimireddy et al., Error Feedback Fixes SignSGD (arXiv 1901.09847), Algorithm 2 (EF-SGD)"

    def __post_init__(self):
        self._schedule_step_size()
        positive("workers", self.workers, integer=True)
        require(callable(self.compressor), f"a compressor is callable as C(v, rng), got {self.compressor!r}")

    def init(self, x0):
        xp = array_namespace(x0)
        return CompressedState(x0, xp.zeros((x0.shape[0], self.workers, x0.shape[1]), dtype=x0.dtype))

    def step(self, state, oracle, t):
        xp = array_namespace(state.x)
        problem = oracle.problem
        require(getattr(problem, "workers", None) == self.workers,
                f"compressed SGD with {self.workers} workers needs a problem with as many workers")
        X = xp.broadcast_to(state.x[:, None, :], state.error.shape)
        g = problem.worker_stochastic_grad(X, oracle.rng)
        sent = self.compressor(g + state.error, oracle.rng)
        error = state.error + g - sent if self.error_feedback else state.error
        return CompressedState(state.x - self.step_size(t) * xp.mean(sent, axis=1), error)


def powersgd_step(updates, q):
    """One rank-r PowerSGD compression of the workers' matrices ``updates`` (R, M, n, k) with the warm-start factor
    ``q`` (R, k, r): returns (the decompressed mean update P̂ Qᵀ (R, n, k), the new Q (R, k, r))."""
    xp = array_namespace(updates)
    p = xp.mean(xp.matmul(updates, q[:, None, :, :]), axis=1)  # all-reduce mean of M_m Q
    p_hat = xp.linalg.qr(p)[0]  # (R, n, r) orthonormal columns spanning P
    q_new = xp.mean(xp.matmul(xp.matrix_transpose(updates), p_hat[:, None, :, :]), axis=1)  # mean of M_mᵀ P̂
    return xp.matmul(p_hat, xp.matrix_transpose(q_new)), q_new


class PowerSGDState(NamedTuple):
    x: Any  # (R, d)
    error: Any  # (R, M, d)
    q: Any  # (R, k, r): the warm-start factor


@dataclass(frozen=True)
class PowerSGD(Method):
    """Distributed SGD with rank-r PowerSGD compression of the (n, k)-shaped worker updates, optional error feedback."""

    step_size: Schedule | float
    workers: int
    shape: tuple
    rank: int = 1
    error_feedback: bool = True
    seed: int = 0

    name = "powersgd"
    description = "distributed SGD with rank-r PowerSGD (warm-started power iteration, all-reduced factors) and error feedback"
    source = "Vogels, Karimireddy, Jaggi, PowerSGD (arXiv 1905.13727), Algorithms 1 and 2 (momentum 0)"

    def __post_init__(self):
        self._schedule_step_size()
        positive("workers", self.workers, integer=True)
        positive("rank", self.rank, integer=True)
        require(len(self.shape) == 2 and all(isinstance(n, int) and n > 0 for n in self.shape),
                f"PowerSGD views each update as an (n, k) matrix; shape must be two positive ints, got {self.shape!r}")
        require(self.rank <= min(self.shape), f"rank {self.rank} exceeds min{tuple(self.shape)}")

    def initial_factor(self) -> np.ndarray:
        """Q₀ ~ N(0, 1)^{k×r} from ``seed`` (the same for every replica, as one shared generator would give)."""
        return np.random.default_rng(self.seed).standard_normal((self.shape[1], self.rank))

    def init(self, x0):
        xp = array_namespace(x0)
        require(x0.shape[1] == self.shape[0] * self.shape[1], f"a {self.shape} matrix needs d = "
                f"{self.shape[0] * self.shape[1]}, got d = {x0.shape[1]}")
        q0 = cached_on(device_cache(self), x0, "q0", self.initial_factor)
        R = x0.shape[0]
        return PowerSGDState(x0, xp.zeros((R, self.workers, x0.shape[1]), dtype=x0.dtype),
                             xp.broadcast_to(q0[None, :, :], (R, *q0.shape)))

    def step(self, state, oracle, t):
        xp = array_namespace(state.x)
        problem = oracle.problem
        require(getattr(problem, "workers", None) == self.workers,
                f"PowerSGD with {self.workers} workers needs a problem with as many workers")
        R, d = state.x.shape
        X = xp.broadcast_to(state.x[:, None, :], state.error.shape)
        updates = problem.worker_stochastic_grad(X, oracle.rng) + state.error
        approx, q = powersgd_step(xp.reshape(updates, (R, self.workers, *self.shape)), state.q)
        approx = xp.reshape(approx, (R, d))
        error = updates - approx[:, None, :] if self.error_feedback else state.error
        return PowerSGDState(state.x - self.step_size(t) * approx, error, q)

    def bits(self, steps: int, d: int) -> int:
        """Bits all-reduced: every worker sends its P and Q factors (float64) each step."""
        n, k = self.shape
        return int(steps) * self.workers * 64 * self.rank * (n + k)
