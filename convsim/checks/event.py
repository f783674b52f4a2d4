"""Event probabilities: how often something happens to a replica (divergence, escape, success) against a claim."""

from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.stats

from ..engine.sweep import Sweep
from ..engine.trace import Trace
from ..errors import ConvsimError, in_range, require
from .verdict import CONSISTENT, INCONCLUSIVE, VIOLATED, Checker, check_bound, decide, tightness


def escape_metric(cap: float):
    """A metric ``‖x − x*‖²`` that turns into +inf beyond ``cap``, so the engine's divergence detection
    records the first checkpoint at which a replica escaped (for :class:`Event` with ``event="diverged"``)."""
    cap = float(cap)

    def escaped_dist_sq(problem, x):
        xp = problem.namespace_of(x)
        e = x - problem.x_star_on(x)
        d = xp.sum(e * e, axis=-1)
        return xp.where(d > cap, xp.full_like(d, xp.inf), d)

    return escaped_dist_sq


def clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Exact two-sided binomial interval for k successes out of n."""
    ci = scipy.stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


class Event(Checker):
    """The probability of an event per replica, at every point of a sweep, against a claimed probability.

    The event is divergence (``event="diverged"``: the engine marked the replica's
    metrics non-finite) or ``event(values)``, a predicate on each replica's final value
    of ``metric`` that returns a boolean array (a diverged replica always counts as an
    event).  ``bound="lower"`` claims P(event) ≥ ``claimed`` at every point of the
    window, ``"upper"`` P(event) ≤ ``claimed``, ``"tight"`` both; ``tolerance`` widens
    the band as in the rate checks.  Each point gets an exact Clopper–Pearson interval,
    Bonferroni-corrected over the points, so the whole statement holds at the stated
    confidence: ``violated`` if some interval lies outside the band, ``consistent`` if
    every interval lies inside it.  The estimate is the proportion at the point that
    decides (the one farthest outside the band, else the one closest to its edge).

    Data: a :class:`Sweep` (``vs`` names the swept parameter) or a dict ``{x: Trace}``.
    """

    kind = "event"

    def __init__(self, claimed: float, *, bound: str = "lower", event: str | Callable = "diverged",
                 metric: str = "dist_sq", tolerance: float = 0.0, window=None, **kw):
        super().__init__(metric, **kw)
        self.claimed = in_range("claimed probability", claimed, 0.0, 1.0, closed_high=True)
        self.bound = check_bound(bound)
        require(event == "diverged" or callable(event), f"event must be 'diverged' or a predicate, got {event!r}")
        self.event = event
        self.tolerance = in_range("tolerance", tolerance, 0.0, 1.0, closed_high=True)
        self.window = window

    def claimed_repr(self):
        what = "diverges" if self.event == "diverged" else "event"
        rel = {"lower": ">=", "upper": "<=", "tight": "="}[self.bound]
        return f"P({what}) {rel} {self.claimed:g}"

    def events(self, data) -> tuple[np.ndarray, np.ndarray, str]:
        """Abscissae (P,), event indicators (R, P) and the abscissa's name."""
        if isinstance(data, Sweep):
            require(self.vs is None or self.vs in data.parameters, f"unknown swept parameter {self.vs!r}")
            name = self.vs or data.parameters[0]
            pairs = [(float(p[name]), tr) for p, tr in zip(data.points, data.traces)]
        elif isinstance(data, dict) and all(isinstance(v, Trace) for v in data.values()):
            name = self.vs or "x"
            pairs = sorted((float(k), v) for k, v in data.items())
        else:
            raise ConvsimError(f"an event check needs a Sweep or a dict of Traces, got {type(data).__name__}")
        require(len({tr.replicas for _, tr in pairs}) == 1, "every run of an event check needs the same replicas")
        cols = []
        for _, tr in pairs:
            hit = tr.diverged_at >= 0
            if self.event != "diverged":
                final = tr.values(self.metric)[:, -1]
                with np.errstate(invalid="ignore"):
                    hit = hit | np.asarray(self.event(final), dtype=bool)
            cols.append(hit)
        return np.array([x for x, _ in pairs]), np.stack(cols, axis=1), name

    def check(self, data):
        x, hits, name = self.events(data)
        mask = np.ones(x.size, bool) if self.window is None else (x >= self.window[0]) & (x <= self.window[1])
        n = hits.shape[0]
        if not mask.any():
            return self._verdict(INCONCLUSIVE, x, hits, name, None, None, None, "no point in the window")
        x, hits = x[mask], hits[:, mask]
        level = 1 - (1 - self.confidence) / x.size
        k = hits.sum(axis=0)
        p = k / n
        cis = [clopper_pearson(kj, n, level) for kj in k]
        decisions = [decide(lo, hi, self.claimed, self.bound, self.tolerance, self.tolerance) for lo, hi in cis]
        if VIOLATED in decisions:
            decision = VIOLATED
        elif all(d == CONSISTENT for d in decisions):
            decision = CONSISTENT
        else:
            decision = INCONCLUSIVE
        # the deciding point: farthest beyond the band if violated, else nearest its edge
        edge_low, edge_high = self.claimed - self.tolerance, self.claimed + self.tolerance
        slack = np.array([min(lo - edge_low if self.bound != "upper" else np.inf,
                              edge_high - hi if self.bound != "lower" else np.inf) for lo, hi in cis])
        j = int(np.argmin(slack))
        table = ", ".join(f"{name}={xi:.4g}: {pi:.3f}" for xi, pi in zip(x, p))
        reason = (f"event frequency at {name}={x[j]:.4g} is {p[j]:.3f} [{cis[j][0]:.3f}, {cis[j][1]:.3f}] vs claimed "
                  f"{self.claimed_repr()} (tolerance {self.tolerance:g}, {x.size} points, Bonferroni); all: {table}")
        return self._verdict(decision, x, hits, name, p[j], cis[j], (x[0], x[-1]), reason,
                             proportions=p, intervals=cis, points=x,
                             tightness=tightness("difference", float(p[j]) - self.claimed, (x[0], x[-1]),
                                                 "frequency - claimed probability at the deciding point"))

    def _verdict(self, decision, x, hits, name, est, ci, window, reason, **details):
        from ..engine.trace import Series

        s = Series(x, hits.astype(float), name, self.metric, np.full(hits.shape[0], -1), {})
        return self.verdict(decision, s, est, ci, window, reason, law="event", claim=self.claimed_repr(),
                            probability=self.claimed, bound=self.bound, tolerance=self.tolerance,
                            event="diverges" if self.event == "diverged" else "event", **details)
