"""Logistic regression on linearly separable data with a known margin, batched over replicas.

Data: a unit vector w* (random, from ``seed``), labels y_i = ±1 with probability ½, and signed
points z_i = y_i a_i = P⊥ g_i + (margin + spread·|h_i|) w* with g_i ~ N(0, I_d) (P⊥ the projection
orthogonal to w*) and h_i ~ N(0, 1): w* separates the data with margin at least ``margin`` (the
largest margin may be larger), and a small ``spread`` against the unit orthogonal noise makes the
data hard to separate (many perceptron steps).  With z_i = y_i a_i,

    f(x) = (1/n) Σ_i log(1 + exp(−⟨z_i, x⟩)),   ∇f(x) = −(1/n) Σ_i σ(−⟨z_i, x⟩) z_i,

σ the logistic function.  inf f = 0 is not attained (x → ∞ along any separator), so there is no
x*; ``misclassified`` counts the points with ⟨z_i, x⟩ ≤ 0.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import positive, require
from .base import Problem


@dataclass(frozen=True)
class SeparableLogistic(Problem):
    """Unregularized logistic regression on separable data with a known separator and margin."""

    n: int
    d: int
    margin: float = 0.1
    spread: float = 0.1
    seed: int = 0

    name = "separable-logistic"
    description = "logistic regression on linearly separable data with a known margin (no minimizer)"

    def __post_init__(self):
        positive("n", self.n, integer=True)
        positive("d", self.d, integer=True)
        positive("margin", self.margin)
        require(self.spread >= 0, f"spread must be non-negative, got {self.spread!r}")
        rng = np.random.default_rng(self.seed)
        w = rng.standard_normal(self.d)
        w /= np.linalg.norm(w)
        g = rng.standard_normal((self.n, self.d))
        z = g - np.outer(g @ w, w) + np.outer(self.margin + self.spread * np.abs(rng.standard_normal(self.n)), w)
        y = np.where(rng.uniform(size=self.n) < 0.5, 1.0, -1.0)
        a = y[:, None] * z
        for key, value in {"separator": w, "points": a, "labels": y, "signed": z, "dim": self.d,
                           "_f_star": 0.0}.items():
            object.__setattr__(self, key, value)

    def margins(self, x):
        """⟨z_i, x⟩ per replica and point: (R, n)."""
        return x @ self.on(x, "signed_T", lambda: np.ascontiguousarray(self.signed.T))

    def value(self, x):
        xp = self.namespace_of(x)
        return xp.mean(xp.logaddexp(xp.zeros_like(x[:, :1]), -self.margins(x)), axis=-1)

    def grad(self, x):
        xp = self.namespace_of(x)
        m = self.margins(x)
        weight = xp.exp(-xp.logaddexp(xp.zeros_like(m), m))  # σ(−m), without overflow
        return -(weight @ self.on(x, "signed", self.signed)) / self.n

    def hvp(self, x, v):
        xp = self.namespace_of(x)
        m = self.margins(x)
        s = xp.exp(-xp.logaddexp(xp.zeros_like(m), m))
        curvature = s * (1.0 - s)  # σ'(m) = σ(m)σ(−m)
        return ((v @ self.on(x, "signed_T", lambda: np.ascontiguousarray(self.signed.T))) * curvature) @ \
            self.on(x, "signed", self.signed) / self.n

    def misclassified(self, x):
        """Number of points with ⟨z_i, x⟩ ≤ 0, per replica."""
        xp = self.namespace_of(x)
        return xp.sum(xp.astype(self.margins(x) <= 0, x.dtype), axis=-1)

    def constants(self):
        return {"d": self.d, "n": self.n, "margin": float(self.margin), "f_star": 0.0,
                "L": float(np.linalg.eigvalsh(self.signed.T @ self.signed / self.n)[-1] / 4.0),
                "R_max": float(np.max(np.linalg.norm(self.points, axis=1)))}

    def spec(self):
        return {"name": self.name, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


def misclassified(problem, x):
    """Metric: the number of points on the wrong side of (or on) the hyperplane ⟨·, x⟩ = 0."""
    return problem.misclassified(x)


def direction_loss(problem, x):
    """Metric: (1/n) Σ exp(−⟨z_i, x⟩/‖x‖), a positive function of the direction of x only (1 at x = 0)."""
    xp = problem.namespace_of(x)
    norm = xp.sqrt(xp.sum(x * x, axis=-1, keepdims=True))
    unit = x / xp.where(norm > 0, norm, xp.ones_like(norm))
    return xp.mean(xp.exp(-problem.margins(unit)), axis=-1)
