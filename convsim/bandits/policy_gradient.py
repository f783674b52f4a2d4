"""Clipped policy-gradient learners (PPO / GPPO with GRPO advantages) on a softmax K-armed bandit.

Every ``batch`` rounds the learner has sampled a group of arms from its frozen policy π_old
(one per round), computes GRPO advantages A_i = (x_i − mean x)/(std x + 10⁻⁶) over the group, and
takes ``epochs`` full-batch gradient-ascent steps of size ``step`` on the token-mean surrogate

    J(θ) = (1/N) Σ_i ℓ(r_{a_i}(θ), A_i),   r_a = π_θ(a)/π_old(a),

with, for A > 0, ℓ = A·min(r, 1 + ε) and, for A < 0, ℓ = A·min(c, max(r, 1 − ε)) (PPO's clip with
the dual clip c of the verl trainer).  ``gradient="ppo"`` differentiates ℓ as written: a clipped
sample contributes nothing.  ``gradient="gppo"`` is GPPO (Su et al., Klear-Reasoner, arXiv:2508.07629;
authors' code ``verl/trainer/ppo/core_algos.py: compute_gppo_loss``): the clipped value is written
(1 ± ε)/sg(r) · r, the same number, whose gradient (1 ± ε)∇log π is kept.  Samples are aggregated
per arm (their ratio is the arm's), so a step costs O(K) per replica; rewards must be 0 or 1
(Bernoulli arms), which is what the per-arm split of the advantages assumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import positive, require


class PGState(NamedTuple):
    logits: Any  # (R, K) current policy θ
    old_logits: Any  # (R, K) sampling policy of the current group
    reward_sums: Any  # (R, K) reward sums per arm in the current group
    counts: Any  # (R, K) pulls per arm in the current group
    sq: Any  # (R,) sum of squared rewards in the current group


def _softmax(xp, z):
    z = z - xp.max(z, axis=1, keepdims=True)
    e = xp.exp(z)
    return e / xp.sum(e, axis=1, keepdims=True)


@dataclass(frozen=True)
class ClippedPolicyGradient:
    """PPO-clip or GPPO on a softmax policy over the arms (see the module docstring)."""

    gradient: str = "ppo"
    batch: int = 16
    epochs: int = 8
    step: float = 1.0
    clip: float = 0.2
    dual_clip: float = 3.0
    name = "clipped-pg"

    def __post_init__(self):
        require(self.gradient in ("ppo", "gppo"), f"gradient must be 'ppo' or 'gppo', got {self.gradient!r}")
        positive("batch", self.batch, integer=True)
        positive("epochs", self.epochs, integer=True)
        positive("step", self.step)
        require(0 < self.clip < 1, f"clip must lie in (0, 1), got {self.clip}")
        require(self.dual_clip > 1, f"the dual clip must exceed 1, got {self.dual_clip}")

    def init(self, R, K, xp, dtype):
        zeros = xp.zeros((R, K), dtype=dtype)
        return PGState(zeros, zeros, zeros, zeros, xp.zeros((R,), dtype=dtype))

    def select(self, state, rng, t, xp):
        cdf = xp.cumulative_sum(_softmax(xp, state.old_logits), axis=1)
        u = rng.uniform()
        return xp.astype(xp.sum(xp.astype(cdf[:, :-1] < u[:, None], xp.int64), axis=1), xp.int64)

    def update(self, state, arms, rewards, t, xp):
        K = state.logits.shape[1]
        hot = xp.astype(xp.arange(K)[None, :] == arms[:, None], state.logits.dtype)
        sums, counts = state.reward_sums + hot * rewards[:, None], state.counts + hot
        sq = state.sq + rewards * rewards
        if (t + 1) % self.batch:
            return PGState(state.logits, state.old_logits, sums, counts, sq)
        logits = self.improve(state.logits, state.old_logits, sums, counts, sq, xp)
        zeros = xp.zeros_like(sums)
        return PGState(logits, logits, zeros, zeros, xp.zeros_like(sq))

    def advantage_sums(self, sums, counts, sq, xp):
        """Per arm, the sums of the group's positive and negative GRPO advantages, for rewards in {0, 1}."""
        N = float(self.batch)
        mean = xp.sum(sums, axis=1) / N
        std = xp.sqrt(xp.clip(sq / N - mean * mean, 0.0, None))  # the group's (population) std
        # every sample of arm a with reward x has advantage (x − mean)/(std + 1e-6); with rewards in {0, 1}
        # an arm's samples split into sums[a] ones and counts[a] − sums[a] zeros
        scale = 1.0 / (std + 1e-6)
        a_one, a_zero = (1.0 - mean) * scale, (0.0 - mean) * scale  # (R,)
        ones, zeros = sums, counts - sums
        pos = ones * xp.clip(a_one, 0.0, None)[:, None] + zeros * xp.clip(a_zero, 0.0, None)[:, None]
        neg = ones * xp.clip(a_one, None, 0.0)[:, None] + zeros * xp.clip(a_zero, None, 0.0)[:, None]
        return pos, neg

    def surrogate_slope(self, ratio, pos, neg, xp):
        """∂J/∂r_a per arm (times N): the derivative of Σ_i ℓ(r_{a_i}, A_i) in the arm's ratio."""
        eps, c = self.clip, self.dual_clip
        one = xp.ones_like(ratio)
        up_free = xp.astype(ratio < 1.0 + eps, ratio.dtype)
        down_free = xp.astype((ratio > 1.0 - eps) & (ratio < c), ratio.dtype)
        if self.gradient == "ppo":
            return pos * up_free + neg * down_free
        down_low = xp.astype(ratio <= 1.0 - eps, ratio.dtype)
        return (pos * (up_free + (one - up_free) * (1.0 + eps) / ratio)
                + neg * (down_free + down_low * (1.0 - eps) / ratio))

    def improve(self, logits, old_logits, sums, counts, sq, xp):
        pos, neg = self.advantage_sums(sums, counts, sq, xp)
        old = _softmax(xp, old_logits)
        for _ in range(self.epochs):
            pi = _softmax(xp, logits)
            ratio = pi / old
            weight = self.surrogate_slope(ratio, pos, neg, xp) * ratio  # ∂J/∂r_a · r_a
            grad = (weight - pi * xp.sum(weight, axis=1, keepdims=True)) / float(self.batch)
            logits = logits + self.step * grad
        return logits

    def spec(self):
        return {"name": self.name, "gradient": self.gradient, "batch": self.batch, "epochs": self.epochs,
                "step": self.step, "clip": self.clip, "dual_clip": self.dual_clip}
