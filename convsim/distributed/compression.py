"""Gradient compressors over the last axis and compressed SGD with or without error feedback.

* :class:`TopK` — keeps the k entries largest in magnitude (biased; ‖C(v) − v‖² ≤ (1 − k/d)‖v‖²);
* :class:`RandomK` — k uniformly chosen entries scaled by d/k (unbiased; E‖C(v) − v‖² = (d/k − 1)‖v‖²);
* :class:`EightBit` — stochastic rounding to 255 steps of the vector's range [−max|v|, max|v|]
  (unbiased; E‖C(v) − v‖² ≤ d Δ²/4, Δ = 2 max|v| / 255).

:class:`CompressedSGD`: every worker sends C(ĝ_m + e_m) to the server, which steps with their mean;
with error feedback the residual e_m ← e_m + ĝ_m − C(ĝ_m + e_m) is kept for the next step (Seide et
al. 2014; Karimireddy et al. 2019, arXiv 1901.09847, Algorithm 2), without it e ≡ 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

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
