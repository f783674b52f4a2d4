"""Toy problems of the zeroth-order claims (batch-first, array-API, known stationary points).

* :class:`CauchyLoss` — f(x) = Σ_i log(1 + (x_i − c_i)²): smooth (L = 2), lower bounded (f* = 0 at c), nonconvex
  where |x_i − c_i| > 1 (the second derivative 2(1 − e²)/(1 + e²)² is negative there); its only stationary point
  is c, so ‖∇f‖ measures the distance to stationarity the ZO-RankSGD theorem bounds.
* :class:`LinearFunction` — f(x) = aᵀx + b: the ranking of any set of perturbed points is that of their
  projections on a, for every smoothing radius, so ranking estimators have exact moments (tests).
* :class:`NonsmoothTwoWell` — f(x) = Σ_i w_i | |x_i| − 1 |: nonsmooth, nonconvex, Lipschitz (G = ‖w‖); its
  Clarke-stationary points are the 3^d points with every x_i ∈ {−1, 0, 1}; the minimizers (f* = 0) those with
  every |x_i| = 1.  ``smoothed_grad`` gives ∇f_δ of its uniform-ball smoothing in closed form (odd d), an element of
  the Goldstein δ-subdifferential, so ‖∇f_δ‖ bounds the (δ, ε)-Goldstein stationarity measure from above.
"""

from __future__ import annotations

import numpy as np

from ..errors import positive, require
from ..problems.base import Problem, array_digest


class CauchyLoss(Problem):
    """Σ log(1 + (x − c)²): smooth, nonconvex, lower bounded; the single stationary point c is the minimizer."""

    name = "cauchy-loss"
    description = "sum log(1 + (x - c)^2): smooth (L = 2) nonconvex, lower bounded, single stationary point c"

    def __init__(self, center, *, x0=None):
        self.center = np.asarray(center, dtype=np.float64).ravel()
        self.dim = int(self.center.size)
        require(self.dim > 0, "CauchyLoss needs a non-empty centre")
        self._x_star, self._f_star = self.center.copy(), 0.0
        self._x0 = self.center + 3.0 if x0 is None else np.asarray(x0, dtype=np.float64)
        require(self._x0.shape == (self.dim,), f"x0 must have shape ({self.dim},)")

    def value(self, x):
        xp = self.namespace_of(x)
        e = x - self.x_star_on(x)
        return xp.sum(xp.log1p(e * e), axis=-1)

    def grad(self, x):
        e = x - self.x_star_on(x)
        return 2.0 * e / (1.0 + e * e)

    def hvp(self, x, v):
        e2 = (x - self.x_star_on(x)) ** 2
        return 2.0 * (1.0 - e2) / (1.0 + e2) ** 2 * v

    def constants(self):
        return {"d": self.dim, "f_star": 0.0, "L": 2.0,
                "f0_gap": float(np.sum(np.log1p((self._x0 - self.center) ** 2)))}

    def spec(self):
        return {"name": self.name, "d": self.dim, "center": array_digest(self.center), "x0": array_digest(self._x0)}


class LinearFunction(Problem):
    """aᵀx + b (no minimizer): exact moments for ranking and two-point estimators."""

    name = "linear"
    description = "linear function a.x + b (exact moments of ZO estimators)"

    def __init__(self, slope, offset=0.0, *, x0=None):
        self.slope = np.asarray(slope, dtype=np.float64).ravel()
        self.dim = int(self.slope.size)
        self.offset = float(offset)
        self._x0 = np.zeros(self.dim) if x0 is None else np.asarray(x0, dtype=np.float64)

    def value(self, x):
        return x @ self.on(x, "a", self.slope) + self.offset

    def grad(self, x):
        xp = self.namespace_of(x)
        return xp.broadcast_to(self.on(x, "a", self.slope), x.shape)

    def spec(self):
        return {"name": self.name, "d": self.dim, "slope": array_digest(self.slope), "offset": self.offset,
                "x0": array_digest(self._x0)}


class NonsmoothTwoWell(Problem):
    """Σ_i w_i | |x_i| − 1 |: Lipschitz, nonsmooth, nonconvex, minimizers at |x_i| = 1 (f* = 0)."""

    name = "nonsmooth-two-well"
    description = "sum w_i | |x_i| - 1 |: nonsmooth nonconvex Lipschitz, Clarke points x_i in {-1, 0, 1}"

    def __init__(self, weights, *, x0=None):
        self.weights = np.asarray(weights, dtype=np.float64).ravel()
        require(self.weights.size > 0 and bool(np.all(self.weights > 0)), "weights must be positive")
        self.dim = int(self.weights.size)
        self._f_star = 0.0
        self._x_star = np.ones(self.dim)  # one of the 2^d minimizers (the one nearest a positive start)
        self._x0 = 2.5 * np.ones(self.dim) if x0 is None else np.asarray(x0, dtype=np.float64)

    def value(self, x):
        xp = self.namespace_of(x)
        return xp.sum(self.on(x, "w", self.weights) * xp.abs(xp.abs(x) - 1.0), axis=-1)

    def grad(self, x):
        xp = self.namespace_of(x)
        return self.on(x, "w", self.weights) * xp.sign(xp.abs(x) - 1.0) * xp.sign(x)

    def constants(self):
        return {"d": self.dim, "f_star": 0.0, "G": float(np.linalg.norm(self.weights))}

    def smoothed_grad(self, x, delta: float):
        """∇f_δ(x) of the uniform-ball smoothing f_δ(x) = E f(x + δY), Y uniform in the unit ball (the function
        whose gradient GFM's sphere estimator is unbiased for, and an element of the Goldstein δ-subdifferential).
        Coordinate-wise: ∂_i f_δ = w_i (1 − 2G(1) + 2G(0) − 2G(−1)), G(c) = P(x_i + δY_1 < c), with Y_1's CDF a
        polynomial for odd d (density ∝ (1 − t²)^((d−1)/2)), evaluated in the array's namespace."""
        xp = self.namespace_of(x)
        coeffs = self.on(x, "ball_cdf", lambda: ball_marginal_cdf_coefficients(self.dim))

        def cdf(c):
            t = xp.clip((c - x) / delta, -1.0, 1.0)
            out = xp.zeros_like(t)
            for k in range(coeffs.shape[0] - 1, -1, -1):  # Horner, highest power first
                out = out * t + coeffs[k]
            return out

        return self.on(x, "w", self.weights) * (1.0 - 2.0 * cdf(1.0) + 2.0 * cdf(0.0) - 2.0 * cdf(-1.0))

    def spec(self):
        return {"name": self.name, "d": self.dim, "weights": array_digest(self.weights), "x0": array_digest(self._x0)}


def ball_marginal_cdf_coefficients(d: int) -> np.ndarray:
    """Power-series coefficients (lowest first) of the CDF on [−1, 1] of one coordinate of a point uniform in the
    unit ball of R^d, d odd: density Γ(d/2 + 1)/(√π Γ((d + 1)/2)) (1 − t²)^((d − 1)/2)."""
    from numpy.polynomial import polynomial as P
    from scipy.special import gammaln

    require(int(d) % 2 == 1, f"the ball marginal's CDF is a polynomial for odd d only, got d = {d}")
    k = (int(d) - 1) // 2
    density = P.polypow([1.0, 0.0, -1.0], k) * np.exp(gammaln(d / 2 + 1) - 0.5 * np.log(np.pi) - gammaln((d + 1) / 2))
    cdf = P.polyint(density)
    cdf[0] -= P.polyval(-1.0, cdf)
    return cdf
