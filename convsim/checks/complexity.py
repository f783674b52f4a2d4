"""Complexity checks: the cost (iterations or oracle calls) to reach ε, as a power of ε.

A complexity bound such as "O(ε^−7/2) oracle calls to reach E‖∇h‖² ≤ ε" is a statement
about the first-passage cost N(ε) = min{cost at t : metric_t ≤ ε}.  :func:`hitting_costs`
turns a run into the Series of N(ε) per replica at chosen levels ε, and
:class:`Complexity` fits the exponent of N(ε) in ε on that Series with the same
bootstrap and decision rule as :class:`~convsim.checks.Exponent`.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine.trace import Series, Trace
from ..errors import ConvsimError, finite, in_range, positive, require
from .rates import ols_slope
from .verdict import INCONCLUSIVE, Checker, bootstrap, check_bound, decide, tightness

STATISTICS = ("median", "mean")


def first_passage(y: np.ndarray, c: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """Cost at which each curve ``y[..., :]`` first drops to each level: shape ``(..., E)``.

    ``c`` (broadcastable to ``y``) is the non-decreasing cost at each checkpoint.  Between
    two checkpoints the passage is interpolated linearly in log-cost against log-metric;
    a level never reached gives ``inf``, one met at the first checkpoint that cost.
    """
    c = np.broadcast_to(c, y.shape)
    with np.errstate(invalid="ignore"):
        below = y[..., None, :] <= eps[:, None]  # (..., E, P); NaN (diverged) never counts as reached
    reached = below.any(axis=-1)
    j = np.argmax(below, axis=-1)[..., None]  # first checkpoint at or below ε
    jp = np.maximum(j - 1, 0)
    take = lambda a, k: np.take_along_axis(np.broadcast_to(a[..., None, :], below.shape), k, axis=-1)[..., 0]
    y_at, c_at, y_prev, c_prev = take(y, j), take(c, j), take(y, jp), take(c, jp)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (np.log(y_prev) - np.log(eps)) / (np.log(y_prev) - np.log(y_at))
        interpolated = np.exp(np.log(c_prev) + frac * (np.log(c_at) - np.log(c_prev)))
    usable = (j[..., 0] > 0) & (c_prev > 0) & (y_at > 0) & np.isfinite(interpolated)
    return np.where(reached, np.where(usable, interpolated, c_at), np.inf)


def _levels(eps) -> np.ndarray:
    eps = np.sort(np.asarray(eps, dtype=np.float64).ravel())[::-1]
    require(eps.size >= 1 and bool(np.all(eps > 0)), "eps levels must be positive")
    return eps


def _cost_of(trace: Trace, metric: str, cost: str | None) -> np.ndarray:
    y = trace.values(metric)
    c = np.broadcast_to(trace.steps.astype(np.float64), y.shape) if cost is None else trace.values(cost)
    require(bool(np.all(np.diff(c, axis=1) >= 0)), f"cost {cost!r} must not decrease along the run")
    return c


def hitting_costs(trace: Trace, metric: str, eps, *, cost: str | None = None) -> Series:
    """The cost at which each replica's ``metric`` first drops to each level in ``eps``.

    ``cost`` names a recorded metric that counts the work done by each checkpoint (such
    as ``"calls_total"``); ``None`` uses the step count.  See :func:`first_passage`.
    Returns a Series against ``eps`` (x_name ``"eps"``, metric ``"cost_to_<metric>"``).

    For a noisy metric, a replica's first passage comes earlier than the time at which
    the *expected* metric reaches ε (a fluctuation suffices); to test a bound on E[metric]
    with stochastic methods, consider ``Complexity(..., of="mean")`` on the Trace.
    """
    eps = _levels(eps)
    out = first_passage(trace.values(metric), _cost_of(trace, metric, cost), eps)
    return Series(eps, out, "eps", f"cost_to_{metric}", trace.diverged_at.copy(),
                  {**trace.constants, "cost": cost or "steps"})


class Complexity(Checker):
    """Cost to reach ε as a power law: N(ε) ~ C ε^claimed (``claimed`` < 0, e.g. −3.5 for O(ε^−7/2)).

    The data is a Series from :func:`hitting_costs` (or a Trace, converted with the
    ``eps`` and ``cost`` given here).  The centre of N(ε) across replicas (the median by
    default, robust to a few replicas that never reach ε; or the mean) is fitted against ε
    on log-log axes; the interval on the slope is a percentile bootstrap over replicas.

    ``bound="upper"`` tests O(ε^claimed): as ε → 0 the cost grows no faster, i.e. the
    fitted slope is ≥ claimed − tolerance; ``"lower"`` tests Ω(ε^claimed); ``"tight"`` Θ.
    If more than ``max_unreached`` of the healthy replicas never reach some level, the
    verdict is inconclusive (a censored median or mean would flatter the method); with
    ``statistic="mean"`` any unreached replica makes it inconclusive.

    ``of="mean"`` measures instead the cost at which the *mean* metric over replicas (an
    estimate of E[metric]) reaches ε, as in bounds on E‖∇h‖² ≤ ε; it needs a Trace, and the
    bootstrap resamples replicas before averaging.  Per-replica first passages of a noisy
    metric come earlier than that (a fluctuation suffices); when the relative fluctuations
    grow as the metric falls (stochastic methods near their noise level) this flattens the
    fitted exponent and so favours upper-bound claims; ``of="mean"`` avoids it.
    """

    kind = "complexity"

    def __init__(self, metric, claimed, *, eps=None, cost=None, bound="upper", tolerance=0.1, statistic="median",
                 max_unreached=0.05, of="replica", **kw):
        super().__init__(metric, **kw)
        self.claimed = finite("claimed", claimed)
        require(self.claimed < 0, f"a complexity exponent of eps must be negative (cost grows as eps -> 0), "
                                  f"got {claimed!r}")
        self.eps = None if eps is None else np.asarray(eps, dtype=np.float64)
        self.cost = cost
        self.bound = check_bound(bound)
        self.tolerance = positive("tolerance", tolerance)
        require(statistic in STATISTICS, f"statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
        self.statistic = statistic
        self.max_unreached = in_range("max_unreached", max_unreached, 0.0, 0.5)
        require(of in ("replica", "mean"), f"of must be 'replica' or 'mean', got {of!r}")
        self.of = of

    def claimed_repr(self):
        return {"upper": "O", "lower": "Omega", "tight": "Theta"}[self.bound] + f"(eps^{self.claimed:g})"

    def costs(self, data) -> Series:
        if isinstance(data, Trace):
            require(self.eps is not None, "Complexity on a Trace needs the eps levels (eps=[...])")
            return hitting_costs(data, self.metric, self.eps, cost=self.cost)
        if isinstance(data, Series) and data.x_name == "eps":
            require(data.metric == f"cost_to_{self.metric}",
                    f"this check is about {self.metric!r}, the data holds {data.metric!r}")
            return data
        raise ConvsimError("Complexity needs a Trace or a Series from convsim.checks.hitting_costs")

    def _center(self, log_n):
        """Centre over replicas (axis −2) of log costs: shape (..., E)."""
        if self.statistic == "median":
            return np.median(log_n, axis=-2)
        return np.log(np.mean(np.exp(log_n), axis=-2))

    def check(self, data):
        if self.of == "mean":
            return self._check_mean(data)
        s = self.costs(data)
        n, bad = self.healthy(s)
        if bad is not None:
            return bad
        eps = s.x
        if eps.size < 3:
            return self.verdict(INCONCLUSIVE, s, None, None, None, "fewer than 3 eps levels")
        unreached = np.mean(~np.isfinite(n), axis=0)
        allowed = 0.0 if self.statistic == "mean" else self.max_unreached
        if np.any(unreached > allowed):
            k = int(np.argmax(unreached > allowed))
            return self.verdict(INCONCLUSIVE, s, None, None, (eps.min(), eps.max()),
                                f"{unreached[k]:.0%} of {n.shape[0]} replicas never reach eps={eps[k]:.3g} "
                                f"(allowed {allowed:.0%}); run longer or choose larger eps")
        if np.any(n <= 0):
            return self.verdict(INCONCLUSIVE, s, None, None, (eps.min(), eps.max()),
                                "some replica meets the largest eps at zero cost; choose smaller eps")
        u = np.log(eps)
        log_n = np.log(n)

        def slope(a):
            return ols_slope(u, self._center(a))[0]

        est, lo, hi = bootstrap((log_n,), slope, self.confidence, self.seed, self.n_resamples)
        fit_slope, intercept = ols_slope(u, self._center(log_n))
        return self._decide(s, eps, est, lo, hi, fit_slope, intercept, f"{self.statistic} cost",
                            f"at most {unreached.max():.0%} of replicas unreached", law="power", unreached=unreached,
                            statistic=self.statistic)

    def _check_mean(self, data):
        """Cost at which the mean metric over replicas reaches each ε; bootstrap resamples whole replicas."""
        require(isinstance(data, Trace) and self.eps is not None,
                "Complexity(of='mean') needs a Trace and the eps levels (eps=[...])")
        s = data.series(self.metric)
        y, bad = self.healthy(s)
        if bad is not None:
            return bad
        c = _cost_of(data, self.metric, self.cost)[~s.diverged]
        require(bool(np.all(c == c[:1])), "Complexity(of='mean') needs a cost that is the same for every replica")
        eps = _levels(self.eps)
        if eps.size < 3:
            return self.verdict(INCONCLUSIVE, s, None, None, None, "fewer than 3 eps levels")
        n = first_passage(y.mean(axis=0), c[0], eps)
        if not np.all(np.isfinite(n)):
            k = int(np.argmax(~np.isfinite(n)))
            return self.verdict(INCONCLUSIVE, s, None, None, (eps.min(), eps.max()),
                                f"the mean never reaches eps={eps[k]:.3g}; run longer or choose larger eps")
        if np.any(n <= 0):
            return self.verdict(INCONCLUSIVE, s, None, None, (eps.min(), eps.max()),
                                "the mean meets the largest eps at zero cost; choose smaller eps")
        u = np.log(eps)

        def slope(mean):  # of the resampled mean curves
            with np.errstate(divide="ignore", invalid="ignore"):
                return ols_slope(u, np.log(first_passage(mean, c[0], eps)))[0]

        est, lo, hi = bootstrap((y,), slope, self.confidence, self.seed, self.n_resamples, of_means=True)
        fit_slope, intercept = ols_slope(u, np.log(n))
        # The data plotted with this verdict is the metric against t, so no eps-axis line is drawn (law).
        return self._decide(s, eps, est, lo, hi, fit_slope, intercept, "cost for the mean", f"costs {np.round(n, 1)}",
                            law="complexity-mean", costs=n)

    def _decide(self, s, eps, est, lo, hi, fit_slope, intercept, what, note, **details):
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return self.verdict(INCONCLUSIVE, s, None, None, (eps.min(), eps.max()),
                                "bootstrap resamples hit unreached levels; too many censored replicas")
        # O(eps^a) bounds the growth as eps -> 0 (decreasing eps): a flatter (larger) slope is allowed.
        flipped = {"upper": "lower", "lower": "upper", "tight": "tight"}[self.bound]
        decision = decide(lo, hi, self.claimed, flipped, self.tolerance, self.tolerance)
        reason = (f"{what} to reach eps ~ eps^{est:.3f} [{lo:.3f}, {hi:.3f}] vs claimed {self.claimed_repr()} "
                  f"(tolerance {self.tolerance:g}); {eps.size} levels {eps.max():.3g}..{eps.min():.3g}, "
                  f"cost {self.cost or s.constants.get('cost', 'steps')}, {note}")
        return self.verdict(decision, s, est, (lo, hi), (eps.min(), eps.max()), reason, claimed=self.claimed,
                            slope=float(fit_slope), intercept=float(intercept), log_power=0.0,
                            claim=self.claimed_repr(), eps=eps,
                            tightness=tightness("difference", est - self.claimed, (eps.min(), eps.max()),
                                                "fitted - claimed exponent"), **details)
