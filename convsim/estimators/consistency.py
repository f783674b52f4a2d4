"""Comp-sum losses and their H-consistency error transformations (Mao, Mohri & Zhong, arXiv:2304.07288).

A comp-sum loss scores a hypothesis h (class scores) at a labelled point by Φ^τ(Σ_{y'≠y} e^{h_{y'} − h_y}); written
with the softmax s = softmax(h) it is φ_τ(s_y) with φ_τ(s) = (s^{τ−1} − 1)/(1 − τ) for τ ≠ 1 and −log s for τ = 1
(τ = 0: sum-exponential, τ = 1: cross-entropy/logistic, τ = 2: mean absolute error 1 − s_y).  For the complete
hypothesis set the minimizability gaps vanish and the bound reads T_τ(R_{0-1}(h) − R*_{0-1}) ≤ R_τ(h) − R*_τ, with
  T_τ(t) = 2^{1−τ}/(1−τ) · [1 − (((1+t)^{1/(2−τ)} + (1−t)^{1/(2−τ)})/2)^{2−τ}]   (τ ∈ [0, 1)),
  T_1(t) = (1+t)/2 · log(1+t) + (1−t)/2 · log(1−t),       T_2(t) = t/n   (n classes).
Conditional (pointwise) quantities take the class probabilities ``p`` and softmax outputs ``s`` as arrays (..., n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import require


@dataclass(frozen=True)
class CompSumLoss:
    """φ_τ(s_y) times ``scale`` (1 for the paper's loss; a planted bug sets it off)."""

    tau: float
    scale: float = 1.0
    minimizer_exponent: float | None = None   # None: the exact 1/(2 − τ); a planted bug sets it (e.g. 1, as for τ = 1)

    def __post_init__(self):
        require(0.0 <= self.tau <= 2.0, f"comp-sum parameter tau must lie in [0, 2], got {self.tau}")

    def phi(self, s):
        s = np.asarray(s, dtype=np.float64)
        if self.tau == 1.0:
            return -self.scale * np.log(s)
        return self.scale * (s ** (self.tau - 1.0) - 1.0) / (1.0 - self.tau)

    def conditional_risk(self, p, s):
        """Σ_y p_y φ_τ(s_y) (terms with p_y = 0 contribute 0)."""
        p = np.asarray(p, dtype=np.float64)
        return np.sum(np.where(p > 0, p * self.phi(np.where(p > 0, s, 1.0)), 0.0), axis=-1)

    def bayes_conditional_risk(self, p):
        """inf_s Σ_y p_y φ_τ(s_y): s ∝ p^{1/(2−τ)} for τ < 2 (stationarity of the convex problem), 1 − max p for τ = 2."""
        p = np.asarray(p, dtype=np.float64)
        if self.tau == 2.0:
            return self.scale * (1.0 - p.max(axis=-1))
        exponent = 1.0 / (2.0 - self.tau) if self.minimizer_exponent is None else self.minimizer_exponent
        w = p ** exponent
        return self.conditional_risk(p, w / w.sum(axis=-1, keepdims=True))


def zero_one_regret(p, s):
    """max_y p_y − p_{argmax s} (ties broken to the lowest index, as numpy's argmax)."""
    p = np.asarray(p, dtype=np.float64)
    chosen = np.take_along_axis(p, np.argmax(s, axis=-1)[..., None], axis=-1)[..., 0]
    return p.max(axis=-1) - chosen


def error_transformation(tau: float, t, n_classes: int):
    """The paper's T_τ(t) for τ ∈ [0, 1] and τ = 2 (complete hypothesis set)."""
    t = np.asarray(t, dtype=np.float64)
    if tau == 1.0:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(t < 1, (1 + t) / 2 * np.log1p(t) + (1 - t) / 2 * np.log1p(-np.minimum(t, 1 - 1e-300)),
                            np.log(2.0))
    if tau == 2.0:
        return t / n_classes
    require(0.0 <= tau < 1.0, f"no closed-form error transformation encoded for tau = {tau}")
    q = 1.0 / (2.0 - tau)
    return 2.0 ** (1.0 - tau) / (1.0 - tau) * (1.0 - (((1 + t) ** q + (1 - t) ** q) / 2.0) ** (2.0 - tau))


def worst_case(tau: float, t: float, n_classes: int, tie_gap: float = 1e-9):
    """A conditional distribution p and softmax s whose regrets attain T_τ(t) (up to ``tie_gap``): for τ ≤ 1 the mass on
    two classes, ((1+t)/2, (1−t)/2), with s tied on them and argmax the smaller; for τ = 2, p = (a, …, a, a − t) and
    s uniform with argmax the last class."""
    p, s = np.zeros(n_classes), np.full(n_classes, 1e-12)
    if tau == 2.0:
        a = (1.0 + t) / n_classes
        p[:] = a
        p[-1] = a - t
        s[:] = 1.0
        s[-1] += tie_gap
    else:
        p[0], p[1] = (1 + t) / 2, (1 - t) / 2
        s[0], s[1] = 1.0, 1.0 + tie_gap
    return p, s / s.sum()
