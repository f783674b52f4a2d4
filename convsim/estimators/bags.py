"""Learning from aggregate responses: instance-level and bag-level squared losses (Javanmard et al., arXiv:2401.11081).

n samples in B = n/k bags of k (consecutive rows); only the bag means ȳ_b of the responses are seen.  For a linear
model θ (arrays batch-first: x (R, n, d), y (R, n), θ (R, d)):
  bag-level      L_bag(θ)  = (1/n) Σ_b k (ȳ_b − θᵀx̄_b)²,
  instance-level L_inst(θ) = (1/n) Σ_b Σ_{i∈b} (ȳ_b − θᵀx_i)²,
  regularizer    R(θ)      = (1/n) Σ_b Σ_{i∈b} (θᵀ(x_i − x̄_b))²,
and L_inst = L_bag + R exactly (the within-bag variance splits off).
"""

from __future__ import annotations

from dataclasses import dataclass

from array_api_compat import array_namespace
from ..errors import positive, require


@dataclass(frozen=True)
class BagLosses:
    """The two losses on bags of ``bag_size``; ``regularizer_weight`` 1 is the identity's (ρ of the interpolating
    estimator L_bag + ρ R, ρ = 1 being the instance-level loss); ``aggregate_scale`` 1 averages the responses in a bag
    (k would sum them, a planted bug)."""

    bag_size: int
    regularizer_weight: float = 1.0
    aggregate_scale: float = 1.0

    def __post_init__(self):
        positive("bag_size", self.bag_size, integer=True)

    def _bags(self, a):
        xp = array_namespace(a)
        n = a.shape[1]
        require(n % self.bag_size == 0, f"{n} samples do not split into bags of {self.bag_size}")
        return xp, xp.reshape(a, (a.shape[0], n // self.bag_size, self.bag_size) + tuple(a.shape[2:]))

    def bag_means(self, y):
        xp, yb = self._bags(y)
        return self.aggregate_scale * xp.mean(yb, axis=2)                               # (R, B)

    def bag_level(self, theta, x, y):
        xp, xb = self._bags(x)
        fitted = xp.sum(xp.mean(xb, axis=2) * theta[:, None, :], axis=-1)              # θᵀx̄_b
        return self.bag_size * xp.sum((self.bag_means(y) - fitted) ** 2, axis=1) / x.shape[1]

    def instance_level(self, theta, x, y):
        xp, xb = self._bags(x)
        fitted = xp.sum(xb * theta[:, None, None, :], axis=-1)                        # θᵀx_i (R, B, k)
        return xp.sum((self.bag_means(y)[:, :, None] - fitted) ** 2, axis=(1, 2)) / x.shape[1]

    def regularizer(self, theta, x):
        xp, xb = self._bags(x)
        centred = xb - xp.mean(xb, axis=2, keepdims=True)
        return xp.sum(xp.sum(centred * theta[:, None, None, :], axis=-1) ** 2, axis=(1, 2)) / x.shape[1]

    def regularized_bag_level(self, theta, x, y):
        """L_bag + ρ R (ρ = ``regularizer_weight``)."""
        return self.bag_level(theta, x, y) + self.regularizer_weight * self.regularizer(theta, x)
