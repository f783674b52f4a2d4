"""Differentially private SGD on finite sums: per-sample clipping plus Gaussian noise, and DiceSGD.

Both methods need the per-sample gradients of a :class:`~convsim.problems.FiniteSum` (least
squares, logistic regression): g_i(x) = ℓ'(a_iᵀx, y_i) a_i + reg·x, shape (R, B, d) for a batch of B
indices drawn uniformly with replacement (or all n samples, ``batch_size=None``: full batch).

* :class:`DPSGD` (DPSGD-GC; Abadi et al. 2016, Algorithm 1): v = (1/B) Σ clip(g_i, C),
  x ← x − γ_t (v + w), w ~ N(0, (z C / B)² I) — the Gaussian mechanism on the sum of clipped
  gradients (sensitivity C) with noise multiplier z, divided by B.
* :class:`DiceSGD` (Zhang, Bu, Wu, Hong, arXiv 2311.14632, Algorithm 1): v = (1/B) Σ clip(g_i, C₁)
  + clip(e, C₂), x ← x − γ_t (v + w), e ← e + (1/B) Σ g_i − v, e₀ = 0, C₂ ≥ C₁; the same noise
  law as DPSGD (the paper calibrates σ with its own RDP analysis of the hidden state e).

clip(v, C) = min(1, C/‖v‖) v.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..errors import positive, require
from ..methods.base import Method
from ..schedules import Schedule


def clip_rows(v, threshold: float):
    """clip(v, C) = min(1, C/‖v‖) v along the last axis."""
    xp = array_namespace(v)
    norm = xp.sqrt(xp.sum(v * v, axis=-1, keepdims=True))
    return v * xp.minimum(xp.ones_like(norm), threshold / xp.maximum(norm, xp.full_like(norm, 1e-300)))


def per_sample_grads(problem, x, rng, batch_size):
    """Per-sample gradients (R, B, d) of a finite sum at x (R, d): all n samples, or B drawn with replacement."""
    require(hasattr(problem, "A") and hasattr(problem, "dloss"),
            f"per-sample gradients need a finite sum (LeastSquares, LogisticRegression), not {problem.name!r}")
    xp = array_namespace(x)
    A = problem.on(x, "A", problem.A)  # (n, d)
    y = problem.on(x, "y", problem.y)
    if batch_size is None:
        margin = x @ A.T  # (R, n)
        g = problem.dloss(xp, margin, y[None, :])[:, :, None] * A[None, :, :]
    else:
        idx = rng.integers(problem.n, batch_size)  # (R, B)
        rows = xp.take(A, xp.reshape(idx, (-1,)), axis=0)
        a = xp.reshape(rows, (x.shape[0], batch_size, A.shape[1]))
        yb = xp.reshape(xp.take(y, xp.reshape(idx, (-1,)), axis=0), (x.shape[0], batch_size))
        margin = xp.sum(a * x[:, None, :], axis=-1)
        g = problem.dloss(xp, margin, yb)[:, :, None] * a
    if problem.reg:
        g = g + problem.reg * x[:, None, :]
    return g


class DPState(NamedTuple):
    x: Any


class DiceState(NamedTuple):
    x: Any
    error: Any


def _noise(method, x, rng, batch):
    if not method.noise_multiplier:
        return 0.0
    return (method.noise_multiplier * method.clip / batch) * rng.normal(x.shape[1])


@dataclass(frozen=True)
class DPSGD(Method):
    """DP-SGD with per-sample gradient clipping (DPSGD-GC)."""

    step_size: Schedule | float
    clip: float
    noise_multiplier: float = 0.0
    batch_size: int | None = None

    name = "dp-sgd"
    description = "DP-SGD: per-sample clipping at C plus Gaussian noise z C / B (DPSGD-GC)"
    source = "Abadi et al., Deep Learning with Differential Privacy (arXiv 1607.00133), Algorithm 1"

    def __post_init__(self):
        self._schedule_step_size()
        positive("clip", self.clip)
        require(self.noise_multiplier >= 0, f"noise_multiplier must be >= 0, got {self.noise_multiplier}")
        if self.batch_size is not None:
            positive("batch_size", self.batch_size, integer=True)

    def init(self, x0):
        return DPState(x0)

    def step(self, state, oracle, t):
        x = state.x
        g = per_sample_grads(oracle.problem, x, oracle.rng, self.batch_size)
        xp = array_namespace(x)
        v = xp.mean(clip_rows(g, self.clip), axis=1)
        return DPState(x - self.step_size(t) * (v + _noise(self, x, oracle.rng, g.shape[1])))


@dataclass(frozen=True)
class DiceSGD(Method):
    """DiceSGD: DP-SGD with clipped error feedback of the clipping error (no constant clipping bias)."""

    step_size: Schedule | float
    clip: float
    clip_error: float
    noise_multiplier: float = 0.0
    batch_size: int | None = None
    error_feedback: bool = True

    name = "dice-sgd"
    description = "DiceSGD: DP-SGD plus the clipped accumulated clipping error fed back (C2 >= C1)"
    source = "Zhang, Bu, Wu, Hong, DP-SGD Without Clipping Bias: An Error-Feedback Approach (arXiv 2311.14632), Algorithm 1"

    def __post_init__(self):
        self._schedule_step_size()
        positive("clip", self.clip)
        positive("clip_error", self.clip_error)
        require(self.clip_error >= self.clip, f"DiceSGD needs C2 >= C1, got C2 = {self.clip_error} < C1 = {self.clip}")
        require(self.noise_multiplier >= 0, f"noise_multiplier must be >= 0, got {self.noise_multiplier}")
        if self.batch_size is not None:
            positive("batch_size", self.batch_size, integer=True)

    def init(self, x0):
        return DiceState(x0, array_namespace(x0).zeros_like(x0))

    def step(self, state, oracle, t):
        x, e = state
        xp = array_namespace(x)
        g = per_sample_grads(oracle.problem, x, oracle.rng, self.batch_size)
        v = xp.mean(clip_rows(g, self.clip), axis=1)
        if self.error_feedback:
            v = v + clip_rows(e, self.clip_error)
        x_new = x - self.step_size(t) * (v + _noise(self, x, oracle.rng, g.shape[1]))
        e_new = e + xp.mean(g, axis=1) - v if self.error_feedback else e
        return DiceState(x_new, e_new)
