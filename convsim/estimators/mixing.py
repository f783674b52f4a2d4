"""Mixing two gradient estimators with the MSE-optimal weight (BVPO, Zhu et al., arXiv:2510.05095).

Two estimators of a gradient g ∈ R^d: a trace-based g_t (unbiased, high variance) and an
empty-trace g_e (biased by b, low variance), mixed as g_c = α g_t + (1 − α) g_e.  Its mean squared
error relative to g is the quadratic

    MSE(α) = α² V_t + (1 − α)² (V_e + ‖b‖²) + 2 α (1 − α) C,

V_t = E‖g_t − g‖², V_e = E‖g_e − E g_e‖², C = E⟨g_t − g, g_e − E g_e⟩ (b = E g_e − g), minimized at

    α* = (V_e + ‖b‖² − C) / (V_t + V_e + ‖b‖² − 2C)

(the denominator is E‖g_t − g_e‖² > 0).  :class:`GaussianPair` draws the pair with exactly these
moments; :class:`OptimalMixingWeight` is the closed-form rule, with switches to leave out the bias or
the covariance (the mistakes a mutation plants).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import in_range, positive, require


@dataclass(frozen=True)
class GaussianPair:
    """g_t = g + σ_t z₁, g_e = g + b + σ_e (ρ z₁ + √(1 − ρ²) z₂) with z₁, z₂ independent N(0, I_d)."""

    dim: int = 10
    sigma_t: float = 2.0
    sigma_e: float = 1.0
    rho: float = 0.6
    bias: float = 1.0
    """‖b‖/√d: b = bias · (1, …, 1)."""

    def __post_init__(self):
        positive("dim", self.dim, integer=True)
        require(self.sigma_t >= 0 and self.sigma_e >= 0, "the noise scales must be non-negative")
        in_range("rho", self.rho, -1.0, 1.0, closed_high=True)

    def moments(self) -> dict:
        """V_t, V_e, C and ‖b‖² (exact)."""
        d = self.dim
        return {"V_t": d * self.sigma_t**2, "V_e": d * self.sigma_e**2, "C": d * self.rho * self.sigma_t * self.sigma_e,
                "B": d * self.bias**2}

    def mse(self, alpha):
        """The exact MSE(α) of α g_t + (1 − α) g_e (array in, array out)."""
        m = self.moments()
        a = np.asarray(alpha, dtype=np.float64)
        return a**2 * m["V_t"] + (1 - a) ** 2 * (m["V_e"] + m["B"]) + 2 * a * (1 - a) * m["C"]

    def draw(self, rng, xp, g):
        """(g_t, g_e) of shape (R, d) each around the true gradient ``g`` (shape (d,))."""
        z = rng.normal(2, self.dim)
        z1, z2 = z[:, 0, :], z[:, 1, :]
        g_t = g + self.sigma_t * z1
        g_e = g + self.bias + self.sigma_e * (self.rho * z1 + math.sqrt(1.0 - self.rho**2) * z2)
        return g_t, g_e


@dataclass(frozen=True)
class OptimalMixingWeight:
    """The closed-form MSE-optimal weight α* from the pair's moments (``include_bias``/``include_covariance``
    False: the weight a derivation that forgets the bias or the correlation would give)."""

    include_bias: bool = True
    include_covariance: bool = True

    def __call__(self, moments: dict) -> float:
        B = moments["B"] if self.include_bias else 0.0
        C = moments["C"] if self.include_covariance else 0.0
        return (moments["V_e"] + B - C) / (moments["V_t"] + moments["V_e"] + B - 2 * C)


def optimal_weight(moments: dict) -> float:
    """α* of the module docstring (the reference: never a mutated rule)."""
    return OptimalMixingWeight()(moments)


def mixture_squared_errors(pair: GaussianPair, alphas, rng, xp, g):
    """‖α g_t + (1 − α) g_e − g‖² for each replica and each α (shape (R, len(alphas))), one draw shared by all α."""
    g_t, g_e = pair.draw(rng, xp, g)
    cols = []
    for a in alphas:
        e = a * g_t + (1.0 - a) * g_e - g
        cols.append(xp.sum(e * e, axis=-1))
    return xp.stack(cols, axis=1)
