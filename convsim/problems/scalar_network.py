"""Scalar (width-one) deep linear networks with the squared loss, batched over replicas.

f(w) = ½ (π(w) − y)²,  π(w) = ∏_{i=1}^D w_i,  w ∈ R^D (one row per replica), target y ≠ 0.

With π_{−i} = ∏_{j≠i} w_j and π_{−ij} = ∏_{k≠i,j} w_k:

    ∇f = (π − y) (π_{−i})_i,   ∇²f = ∇π ∇πᵀ + (π − y) ∇²π,   (∇²π)_{ij} = π_{−ij} (i ≠ j), 0 on the diagonal.

Every minimizer has π = y; there the Hessian is ∇π∇πᵀ, so its sharpness (top eigenvalue) is
‖∇π‖² = Σ_i π_{−i}² = y² Σ_i 1/w_i².

Gradient flow ẇ = −∇f conserves the balances w_i² − w_j² (d/dt w_i² = −2(π − y)π for every i), so
the gradient-flow solution (GFS) reached from w is w_i(∞)² = w_i² + c with the signs of w kept and c
the root of Σ_i log(w_i² + c) = 2 log abs(y), unique on (−min_i w_i², ∞) when sign π(w) = sign y (the
left side increases in c).  ``gfs_sharpness(w)`` = y² Σ_i 1/(w_i² + c) is the sharpness of that
minimizer (Kreisler, Shpigel Nacson, Soudry & Carmon 2023, arXiv 2305.13064, who call it the GFS
sharpness); c is found by batched bisection to float64 resolution.  ``minimum_sharpness`` is the
smallest sharpness over all minimizers, D abs(y)^{2 − 2/D} at the balanced abs(w_i) = abs(y)^{1/D}.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import positive, require
from .base import Problem


def _products_except(xp, w):
    """π_{−i} for every coordinate i: (R, D), without dividing (a zero weight is allowed)."""
    D = w.shape[-1]
    ones = xp.ones_like(w[:, :1])
    cols = []
    for i in range(D):
        others = [w[:, j:j + 1] for j in range(D) if j != i]
        p = ones
        for col in others:
            p = p * col
        cols.append(p)
    return xp.concat(cols, axis=-1)


@dataclass(frozen=True)
class ScalarNetwork(Problem):
    """½ (w_1 w_2 ⋯ w_D − y)²: a depth-D scalar linear network with the squared loss."""

    depth: int = 2
    target: float = 1.0
    init: tuple = ()
    bisection_steps: int = 80

    name = "scalar-network"
    description = "depth-D scalar linear network, squared loss 0.5 (w1...wD - y)^2; GFS sharpness in closed form"

    def __post_init__(self):
        positive("depth", self.depth, integer=True)
        require(self.depth >= 2, f"a scalar network needs depth >= 2, got {self.depth!r}")
        require(self.target != 0, "the target must be non-zero")
        require(len(self.init) in (0, self.depth), f"init must have {self.depth} weights, got {len(self.init)}")
        positive("bisection_steps", self.bisection_steps, integer=True)
        x0 = np.asarray(self.init, dtype=np.float64) if self.init else np.full(self.depth, 0.5)
        object.__setattr__(self, "dim", int(self.depth))
        object.__setattr__(self, "_f_star", 0.0)
        object.__setattr__(self, "_x0", x0)

    def output(self, x):
        xp = self.namespace_of(x)
        return xp.prod(x, axis=-1)

    def value(self, x):
        r = self.output(x) - self.target
        return 0.5 * r * r

    def grad(self, x):
        xp = self.namespace_of(x)
        r = self.output(x) - self.target
        return r[:, None] * _products_except(xp, x)

    def hvp(self, x, v):
        xp = self.namespace_of(x)
        r = self.output(x) - self.target
        dpi = _products_except(xp, x)
        D = self.depth
        cols = []
        for i in range(D):  # (∇²π v)_i = Σ_{j≠i} π_{−ij} v_j
            total = xp.zeros_like(x[:, :1])
            for j in range(D):
                if j == i:
                    continue
                p = xp.ones_like(x[:, :1])
                for k in range(D):
                    if k not in (i, j):
                        p = p * x[:, k:k + 1]
                total = total + p * v[:, j:j + 1]
            cols.append(total)
        second = xp.concat(cols, axis=-1)
        return dpi * xp.sum(dpi * v, axis=-1, keepdims=True) + r[:, None] * second

    def gfs_shift(self, x):
        """c with Σ_i log(w_i² + c) = 2 log abs(y) per row (R,), by bisection on (−min w_i², abs(y)^{2/D}]."""
        xp = self.namespace_of(x)
        sq = x * x
        lo = -xp.min(sq, axis=-1)
        hi = xp.zeros_like(lo) + abs(self.target) ** (2.0 / self.depth)
        goal = 2.0 * float(np.log(abs(self.target)))
        for _ in range(self.bisection_steps):
            mid = 0.5 * (lo + hi)
            above = xp.sum(xp.log(xp.maximum(sq + mid[:, None], xp.zeros_like(sq) + 1e-300)), axis=-1) > goal
            hi = xp.where(above, mid, hi)
            lo = xp.where(above, lo, mid)
        return 0.5 * (lo + hi)

    def gfs_point(self, x):
        """The gradient-flow solution from each row: abs(w_i) → √(w_i² + c), signs kept (R, D)."""
        xp = self.namespace_of(x)
        c = self.gfs_shift(x)
        return xp.sign(x) * xp.sqrt(xp.maximum(x * x + c[:, None], xp.zeros_like(x)))

    def gfs_sharpness(self, x):
        """Sharpness of the gradient-flow solution reached from each row: y² Σ_i 1/(w_i² + c) (R,)."""
        xp = self.namespace_of(x)
        c = self.gfs_shift(x)
        return self.target**2 * xp.sum(1.0 / (x * x + c[:, None]), axis=-1)

    def minimizer_sharpness(self, x):
        """Sharpness y² Σ 1/w_i² of a point on the minimizing set (meaningful where π(x) = y) (R,)."""
        xp = self.namespace_of(x)
        return self.target**2 * xp.sum(1.0 / (x * x), axis=-1)

    @property
    def minimum_sharpness(self) -> float:
        """The flattest minimizer's sharpness, D abs(y)^{2 − 2/D} (all abs(w_i) = abs(y)^{1/D})."""
        return float(self.depth * abs(self.target) ** (2.0 - 2.0 / self.depth))

    def constants(self):
        return {"d": self.dim, "f_star": 0.0, "depth": self.depth, "target": float(self.target),
                "minimum_sharpness": self.minimum_sharpness}

    def spec(self):
        return {"name": self.name, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


def gfs_sharpness(problem, x):
    """Metric: the GFS sharpness of each replica's iterate (see :class:`ScalarNetwork`)."""
    return problem.gfs_sharpness(x)
