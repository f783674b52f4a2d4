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

from ..backend import cached_on, device_cache
from ..errors import positive, require

DIFFERENCES = ("central", "forward")


def _values_at(oracle, x, points):
    """f at ``points`` of shape (R, n, d), as (R, n): one batched oracle call of R·n rows."""
    xp = array_namespace(x)
    R, n, d = points.shape
    return xp.reshape(oracle.value(xp.reshape(points, (R * n, d))), (R, n))


def directional_differences(oracle, x, directions, smoothing, difference):
    """δ_k per replica and direction: [f(x+εv_k) − f(x−εv_k)]/(2ε) or [f(x+εv_k) − f(x)]/ε, shape (R, n)."""
    xp = array_namespace(x)
    centre = xp.expand_dims(x, axis=1)
    plus = _values_at(oracle, x, centre + smoothing * directions)
    if difference == "central":
        minus = _values_at(oracle, x, centre - smoothing * directions)
        return (plus - minus) / (2.0 * smoothing)
    return (plus - xp.expand_dims(oracle.value(x), axis=1)) / smoothing


def unit_sphere(xp, z):
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
        delta = directional_differences(oracle, x, z, self.smoothing, self.difference)
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
        u = unit_sphere(xp, oracle.rng.normal(self.directions, d))
        delta = directional_differences(oracle, x, u, self.smoothing, self.difference)
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
        u = unit_sphere(xp, oracle.rng.normal(1, d))
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
        return directional_differences(oracle, x, basis, self.smoothing, self.difference)

    def evaluation_counts(self):
        return (0, 2) if self.difference == "central" else (1, 1)


RANK_WEIGHTS = ("dag", "code")


def ranking_weights(queries: int, top: int, rule: str = "dag"):
    """Host weights w_r of the ranking estimator g = Σ_r w_r z_(r) / #E by rank r = 0..m−1 (0 = lowest f; ranks ≥ k
    are unranked), and #E = k(k−1)/2 + k(m−k), the number of edges of the comparison graph the top-k ranking
    implies.  ``"dag"``: w_r = (times the point loses) − (times it wins) = 2r − m + 1 for ranked points, k for
    unranked ones (they sum to 0: g = Σ_edges (z_loser − z_winner)/#E); ``"code"``: the authors' code
    (TZW1998/Taming-Stable-Diffusion-with-Human-Ranking-Feedback optimizer.py), whose ascent weights m − 2r and −k
    are, for descent, 2r − m on ranked points and k on unranked ones (they sum to −k: an extra zero-mean term)."""
    import numpy as np

    m, k = int(queries), int(top)
    r = np.arange(m, dtype=np.float64)
    ranked = (2.0 * r - m + 1.0) if rule == "dag" else (2.0 * r - m)
    w = np.where(r < k, ranked, float(k))
    return w, k * (k - 1) / 2.0 + k * (m - k)


@dataclass(frozen=True)
class RankingOracle(Estimator):
    """ZO-RankSGD's rank-based estimator: only the order of the m values f(x + μ z_i) is used.

    m Gaussian queries z_i ~ N(0, I) at radius μ (``smoothing``); the (m, k) ranking oracle reveals the indices of
    the k lowest values in order; g = (1/#E) Σ_{(i better than j)} (z_j − z_i) over the edges of the comparison
    graph (:func:`ranking_weights`).  For small μ (exactly, for linear f) E g = κ(m, k) ∇f/‖∇f‖ with κ the
    order-statistic constant of :func:`convsim.zeroth_order.theory.ranking_mean_factor`: a direction, not a
    gradient (the oracle sees no scale).  One estimate costs m queries.
    """

    smoothing: float = 1e-3
    queries: int = 5
    top: int = 3
    weights: str = "dag"
    lowest_first: bool = True  # False reads the oracle's order backwards (an ascent direction: a planted bug)

    name = "zo-ranking"
    description = "ranking-oracle estimator (m Gaussian queries, top-k order, comparison-graph weights; ZO-RankSGD)"
    source = ("Tang, Rybin & Chang, Zeroth-Order Optimization Meets Human Feedback: Provable Learning via Ranking "
              "Oracles (arXiv 2303.03751) Algorithm 1; authors' code RankSGD.rank_feedback")

    def __post_init__(self):
        positive("smoothing", self.smoothing)
        positive("queries", self.queries, integer=True)
        positive("top", self.top, integer=True)
        require(2 <= self.queries and self.top <= self.queries,
                f"a ranking estimator needs m >= 2 queries and 1 <= k <= m, got m={self.queries}, k={self.top}")
        require(self.weights in RANK_WEIGHTS, f"weights must be one of {', '.join(RANK_WEIGHTS)}")

    def estimate(self, oracle, x):
        xp = array_namespace(x)
        m = self.queries
        z = oracle.rng.normal(m, x.shape[-1])
        f = _values_at(oracle, x, xp.expand_dims(x, axis=1) + self.smoothing * z)
        # rank of each query (0 = lowest value): the oracle's answer; ties have probability 0
        rank = xp.argsort(xp.argsort(f if self.lowest_first else -f, axis=1), axis=1)
        w, edges = ranking_weights(m, self.top, self.weights)
        table = cached_on(device_cache(self), x, "rank_weights", w / edges)
        coeff = xp.take(table, xp.reshape(rank, (-1,)), axis=0)
        coeff = xp.reshape(coeff, f.shape)
        return xp.sum(xp.expand_dims(coeff, axis=-1) * z, axis=1)

    def evaluation_counts(self):
        return (self.queries, 0)


@dataclass(frozen=True)
class MaskedTwoPoint(Estimator):
    """Two-point Gaussian estimator on a fixed coordinate mask: z_i ~ N(0, 1) for i in ``support``, 0 elsewhere.

    g = (1/n) Σ_k δ_k z_k as :class:`GaussianTwoPoint`, with the perturbation restricted to the mask: the
    sparse-perturbation ZO of Sparse MeZO / SensZOQ (a fixed set of sensitive coordinates).  On a quadratic with
    central differences E g = P ∇f and E‖g‖² = ((s + 2)/n + 1 − 1/n)‖P∇f‖², P the mask's projection, s = #support.
    ``support=()`` means the full space (the estimator is then :class:`GaussianTwoPoint`).
    """

    support: tuple = ()
    smoothing: float = 1e-3
    directions: int = 1
    difference: str = "central"

    name = "zo-masked"
    description = "two-point Gaussian estimator restricted to a fixed coordinate mask (sparse ZO, SensZOQ-style)"
    source = ("Liu et al., Sparse MeZO (arXiv 2402.15751); Guo et al., Zeroth-order fine-tuning of LLMs with "
              "extreme sparsity (SensZOQ, arXiv 2406.02913)")

    def __post_init__(self):
        _check_two_point(self)
        object.__setattr__(self, "support", tuple(int(i) for i in self.support))
        require(len(set(self.support)) == len(self.support) and all(i >= 0 for i in self.support),
                "support must list distinct non-negative coordinates")

    def mask(self, d: int):
        import numpy as np

        require(all(i < d for i in self.support), f"support has coordinates beyond d = {d}")
        out = np.zeros(d) if self.support else np.ones(d)
        out[list(self.support)] = 1.0
        return out

    def estimate(self, oracle, x):
        xp = array_namespace(x)
        d = x.shape[-1]
        z = oracle.rng.normal(self.directions, d) * cached_on(device_cache(self), x, "mask", lambda: self.mask(d))
        delta = directional_differences(oracle, x, z, self.smoothing, self.difference)
        return xp.sum(xp.expand_dims(delta, axis=-1) * z, axis=1) / self.directions

    def evaluation_counts(self):
        return (2 * self.directions if self.difference == "central" else self.directions + 1, 0)


ESTIMATORS = (GaussianTwoPoint, SphereTwoPoint, OnePoint, CoordinateWise, RankingOracle, MaskedTwoPoint)

__all__ = ["Estimator", "GaussianTwoPoint", "SphereTwoPoint", "OnePoint", "CoordinateWise", "RankingOracle",
           "MaskedTwoPoint", "ranking_weights", "directional_differences", "unit_sphere", "ESTIMATORS"]
