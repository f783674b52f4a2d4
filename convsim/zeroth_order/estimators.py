"""Zeroth-order gradient estimators: gradients from function values only, batched over replicas and directions.

Every estimator takes the iterates ``x`` of shape ``(R, d)`` and an :class:`~convsim.methods.Oracle`, draws its
random directions from the oracle's per-block replica streams (so runs are seeded and chunk-invariant), evaluates
f at all perturbed points of all replicas in ONE batched ``oracle.value`` call of shape ``(R·n, d)``, and returns
``(R, d)``.  ``evaluations(d)`` is the number of function values one estimate costs per replica: a Python integer
fixed by the estimator's fields and d, so counting the cost never reads anything back from the device.

Two-point estimators with ``n`` directions and smoothing radius ε (the cost unit is one f value):

* :class:`GaussianTwoPoint` — z ~ N(0, I):  g = (1/n) Σ_k δ_k z_k, with δ_k = [f(x+εz_k) − f(x−εz_k)]/(2ε)
  (``difference="central"``, 2n values) or [f(x+εz_k) − f(x)]/ε (``"forward"``, n + 1 values).  Nesterov &
  Spokoiny's random gradient-free oracle; MeZO's SPSA estimate (Malladi et al. 2023, Definition 1, with n-SPSA
  averaging n directions).
* :class:`SphereTwoPoint` — u uniform on the unit sphere:  g = (d/n) Σ_k δ_k u_k (the factor d makes it unbiased
  for the smoothed function; ``dimension_scaled=False`` removes it, a planted bug for the claims).
* :class:`OnePoint` — g = (d/ε) f(x + εu) u, one value per estimate (Flaxman, Kalai & McMahan 2005).
* :class:`CoordinateWise` — g_i = [f(x+εe_i) − f(x−εe_i)]/(2ε) (2d values) or forward (d + 1 values).

Closed forms the tests check (exact on quadratics f = ½ xᵀHx, central differences, any ε): Gaussian E g = ∇f and
E‖g‖² = ((d + 2)/n + 1 − 1/n)‖∇f‖²; sphere E g = ∇f, E‖g‖² = ((d − 1)/n + 1)‖∇f‖² (MeZO Lemma 2's (d+n−1)/n).
"""

from __future__ import annotations

from dataclasses import dataclass

from array_api_compat import array_namespace

from ..errors import positive, require

DIFFERENCES = ("central", "forward")


def _values_at(oracle, x, points):
    """f at ``points`` of shape (R, n, d), as (R, n): one batched oracle call of R·n rows."""
    xp = array_namespace(x)
    R, n, d = points.shape
    return xp.reshape(oracle.value(xp.reshape(points, (R * n, d))), (R, n))


def _directional_differences(oracle, x, directions, smoothing, difference):
    """δ_k per replica and direction: [f(x+εv_k) − f(x−εv_k)]/(2ε) or [f(x+εv_k) − f(x)]/ε, shape (R, n)."""
    xp = array_namespace(x)
    centre = xp.expand_dims(x, axis=1)
    plus = _values_at(oracle, x, centre + smoothing * directions)
    if difference == "central":
        minus = _values_at(oracle, x, centre - smoothing * directions)
        return (plus - minus) / (2.0 * smoothing)
    return (plus - xp.expand_dims(oracle.value(x), axis=1)) / smoothing


def _unit_sphere(xp, z):
    """Rows of ``z`` (R, n, d) normalised: Gaussian directions become uniform on the unit sphere."""
    return z / xp.sqrt(xp.sum(z * z, axis=-1, keepdims=True))


class Estimator:
    """Base class: frozen dataclasses with ``estimate(oracle, x)`` and ``evaluations(d)``."""

    name: str = "estimator"
    description: str = ""
    source: str = ""

    def estimate(self, oracle, x):
        raise NotImplementedError

    def evaluation_counts(self) -> tuple[int, int]:
        """(a, b): one estimate costs a + b·d function values per replica."""
        raise NotImplementedError

    def evaluations(self, d: int) -> int:
        a, b = self.evaluation_counts()
        return a + b * int(d)

    def spec(self) -> dict:
        from dataclasses import fields

        return {"name": self.name, **{f.name: repr(getattr(self, f.name)) for f in fields(self)},
                "evaluations": list(self.evaluation_counts())}


def _check_two_point(est):
    positive("smoothing", est.smoothing)
    positive("directions", est.directions, integer=True)
    require(est.difference in DIFFERENCES, f"difference must be one of {', '.join(DIFFERENCES)}, got {est.difference!r}")


@dataclass(frozen=True)
class GaussianTwoPoint(Estimator):
    """Gaussian two-point (SPSA / MeZO) estimator with ``directions`` directions averaged."""

    smoothing: float = 1e-3
    directions: int = 1
    difference: str = "central"

    name = "zo-gaussian"
    description = "two-point Gaussian random-direction estimator (SPSA / MeZO n-SPSA), central or forward"
    source = ("Nesterov & Spokoiny, Random gradient-free minimization of convex functions (FoCM 2017) eq. (30); "
              "Malladi et al., MeZO (arXiv 2305.17333) Definition 1")

    def __post_init__(self):
        _check_two_point(self)

    def estimate(self, oracle, x):
        xp = array_namespace(x)
        z = oracle.rng.normal(self.directions, x.shape[-1])
        delta = _directional_differences(oracle, x, z, self.smoothing, self.difference)
        return xp.sum(xp.expand_dims(delta, axis=-1) * z, axis=1) / self.directions

    def evaluation_counts(self):
        return (2 * self.directions if self.difference == "central" else self.directions + 1, 0)


@dataclass(frozen=True)
class SphereTwoPoint(Estimator):
    """Two-point estimator along directions uniform on the unit sphere, scaled by d."""

    smoothing: float = 1e-3
    directions: int = 1
    difference: str = "central"
    dimension_scaled: bool = True

    name = "zo-sphere"
    description = "two-point estimator along uniform unit-sphere directions, times d (central or forward)"
    source = ("Flaxman, Kalai & McMahan (SODA 2005); Shamir (JMLR 2017); Malladi et al., MeZO "
              "(arXiv 2305.17333) Lemma 2 / Theorem 1 (z of norm sqrt(d))")

    def __post_init__(self):
        _check_two_point(self)

    def estimate(self, oracle, x):
        xp = array_namespace(x)
        d = x.shape[-1]
        u = _unit_sphere(xp, oracle.rng.normal(self.directions, d))
        delta = _directional_differences(oracle, x, u, self.smoothing, self.difference)
        scale = d / self.directions if self.dimension_scaled else 1.0 / self.directions
        return scale * xp.sum(xp.expand_dims(delta, axis=-1) * u, axis=1)

    def evaluation_counts(self):
        return (2 * self.directions if self.difference == "central" else self.directions + 1, 0)


@dataclass(frozen=True)
class OnePoint(Estimator):
    """One-point estimator g = (d/ε) f(x + εu) u (unbiased for the ball-smoothed f, variance ~ (d f/ε)²)."""

    smoothing: float = 1e-2

    name = "zo-one-point"
    description = "one-point sphere estimator (d/eps) f(x + eps u) u"
    source = "Flaxman, Kalai & McMahan, Online convex optimization in the bandit setting (SODA 2005)"

    def __post_init__(self):
        positive("smoothing", self.smoothing)

    def estimate(self, oracle, x):
        xp = array_namespace(x)
        d = x.shape[-1]
        u = _unit_sphere(xp, oracle.rng.normal(1, d))
        f = _values_at(oracle, x, xp.expand_dims(x, axis=1) + self.smoothing * u)
        return (d / self.smoothing) * f * u[:, 0, :]

    def evaluation_counts(self):
        return (1, 0)


@dataclass(frozen=True)
class CoordinateWise(Estimator):
    """Finite differences along every coordinate (deterministic; 2d or d + 1 values)."""

    smoothing: float = 1e-3
    difference: str = "central"

    name = "zo-coordinate"
    description = "coordinate-wise finite differences (central: 2d values, forward: d + 1)"
    source = "Kiefer & Wolfowitz (1952); Liu et al., A primer on ZO optimization (arXiv 2006.06224) §III"

    def __post_init__(self):
        positive("smoothing", self.smoothing)
        require(self.difference in DIFFERENCES, f"difference must be one of {', '.join(DIFFERENCES)}")

    def estimate(self, oracle, x):
        xp = array_namespace(x)
        R, d = x.shape
        basis = xp.broadcast_to(xp.expand_dims(xp.eye(d, dtype=x.dtype), axis=0), (R, d, d))
        return _directional_differences(oracle, x, basis, self.smoothing, self.difference)

    def evaluation_counts(self):
        return (0, 2) if self.difference == "central" else (1, 1)


ESTIMATORS = (GaussianTwoPoint, SphereTwoPoint, OnePoint, CoordinateWise)

__all__ = ["Estimator", "GaussianTwoPoint", "SphereTwoPoint", "OnePoint", "CoordinateWise", "ESTIMATORS"]
