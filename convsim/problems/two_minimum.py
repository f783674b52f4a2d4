"""A separable landscape with two global minima of chosen sharpness, batched over replicas.

Per coordinate, f is the lower of two parabolas,

    f(x) = Σ_i min(½ a (x_i + p)², ½ b (x_i − q)²),   q = p √(a/b),

a sharp well (curvature ``sharp``= a) at −p and a flat one (curvature ``flat`` = b < a) at +q, both
with value 0 (f* = 0, two global minima per coordinate: sharpness is all that tells them apart).  The
choice of q puts the ridge between them at x_i = 0 (√a p = √b q), barrier height ½ a p²; the two
parabolas cross once more, at x_i = −2√a p/(√a − √b), left of which the flat branch is the lower one
again.  The gradient is that of the active branch (the sharp one on ties), the Hessian is diagonal
with entries a or b, so the sharpness of a point is a where some coordinate sits on the sharp branch.

Gradient descent with η a < 1 never overshoots a minimum and ends in the well of its basin:
the sharp one from x_i < 0, the flat one from x_i > 0 (the ridge at 0 and the second crossing, from
where the flat branch pulls toward 0, bound the sharp basin's left side only if one starts there).

``noise`` adds i.i.d. Gaussian gradient noise of that standard deviation to ``stochastic_grad``.
``initial_points(replicas, low, high)`` draws the common starts uniformly from [low, high]^d (host,
from ``init_seed``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..errors import positive, require
from .base import Problem


@dataclass(frozen=True)
class TwoMinimum(Problem):
    """Σ_i min(½ a (x_i + p)², ½ b (x_i − q)²): a sharp (a) and a flat (b) global minimum per coordinate."""

    sharp: float = 10.0
    flat: float = 1.0
    sharp_distance: float = 1.0
    d: int = 1
    noise: float = 0.0
    init_seed: int = 0

    name = "two-minimum"
    description = "two global minima per coordinate, a sharp parabola and a flat one, ridge at 0"

    def __post_init__(self):
        positive("sharp", self.sharp)
        positive("flat", self.flat)
        require(self.flat < self.sharp, f"the flat curvature {self.flat!r} must be below the sharp one {self.sharp!r}")
        positive("sharp_distance", self.sharp_distance)
        positive("d", self.d, integer=True)
        require(self.noise >= 0, f"noise must be non-negative, got {self.noise!r}")
        flat_distance = self.sharp_distance * math.sqrt(self.sharp / self.flat)
        left_crossing = -2.0 * math.sqrt(self.sharp) * self.sharp_distance / (math.sqrt(self.sharp) - math.sqrt(self.flat))
        for key, value in {"dim": int(self.d), "flat_distance": flat_distance, "left_crossing": left_crossing,
                           "_f_star": 0.0, "_x_star": np.full(self.d, flat_distance)}.items():
            object.__setattr__(self, key, value)

    def _branches(self, x):
        """(on the sharp branch, sharp parabola, flat parabola) per coordinate."""
        sharp_part = 0.5 * self.sharp * (x + self.sharp_distance) ** 2
        flat_part = 0.5 * self.flat * (x - self.flat_distance) ** 2
        return sharp_part <= flat_part, sharp_part, flat_part

    def value(self, x):
        xp = self.namespace_of(x)
        on_sharp, sharp_part, flat_part = self._branches(x)
        return xp.sum(xp.where(on_sharp, sharp_part, flat_part), axis=-1)

    def grad(self, x):
        xp = self.namespace_of(x)
        on_sharp, _, _ = self._branches(x)
        return xp.where(on_sharp, self.sharp * (x + self.sharp_distance), self.flat * (x - self.flat_distance))

    def stochastic_grad(self, x, rng):
        g = self.grad(x)
        return g + self.noise * rng.normal(self.dim) if self.noise else g

    def curvature(self, x):
        """The Hessian's diagonal (a or b per coordinate), shape (R, d)."""
        xp = self.namespace_of(x)
        on_sharp, _, _ = self._branches(x)
        return xp.where(on_sharp, xp.full_like(x, self.sharp), xp.full_like(x, self.flat))

    def hvp(self, x, v):
        return self.curvature(x) * v

    def in_flat_well(self, x):
        """1 where every coordinate lies right of the ridge (the flat minimum's basin for GD), else 0."""
        xp = self.namespace_of(x)
        return xp.astype(xp.all(x > 0, axis=-1), x.dtype)

    def initial_points(self, replicas: int, low: float, high: float) -> np.ndarray:
        """Common starts, uniform on [low, high]^d (host array (replicas, d), from ``init_seed``)."""
        require(low < high, f"need low < high, got [{low}, {high}]")
        return np.random.default_rng(self.init_seed).uniform(low, high, size=(replicas, self.dim))

    def constants(self):
        return {"d": self.dim, "f_star": 0.0, "L": float(self.sharp), "sharp": float(self.sharp),
                "flat": float(self.flat), "sharp_distance": float(self.sharp_distance),
                "flat_distance": float(self.flat_distance), "barrier": 0.5 * self.sharp * self.sharp_distance**2}

    def spec(self):
        return {"name": self.name, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


def in_flat_well(problem, x):
    """Metric: 1 where the iterate lies in the flat minimum's basin (every coordinate right of the ridge)."""
    return problem.in_flat_well(x)
