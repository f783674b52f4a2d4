"""The order of events: do a replica's events happen in the stated order (ranks learned one by one)?

Data: a Series whose abscissae label the events (say the rank index i = 1..r) and whose values are
each replica's event times (a non-finite time: the event never happened).  A replica follows the
stated order when its times increase strictly along it, each by more than ``min_gap`` (a relative
separation, so that a near tie does not count as an order).  The claim is that a replica follows
the order with probability at least ``level``; the frequency over replicas gets an exact
Clopper–Pearson interval: ``consistent`` when the interval lies above ``level``, ``violated`` when it
lies below, ``inconclusive`` otherwise.
"""

from __future__ import annotations

import numpy as np

from ..errors import in_range, require
from .event import clopper_pearson
from .verdict import Checker, decide, tightness


def order_margins(times: np.ndarray, positions, min_gap: float = 0.0) -> np.ndarray:
    """Per replica: min over consecutive events (in the order ``positions``) of t_next / (t_prev (1 + min_gap)).

    Above 1 the replica follows the order with the required separation; an event that never happened
    (non-finite time) gives 0, a first event at time 0 followed by a later one gives +inf.
    """
    t = np.asarray(times, dtype=float)[:, list(positions)]
    prev, nxt = t[:, :-1] * (1.0 + min_gap), t[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(prev > 0, nxt / prev, np.where(nxt > 0, np.inf, 0.0))
    ratio = np.where(np.isfinite(prev) & np.isfinite(nxt), ratio, 0.0)
    return np.min(ratio, axis=1)


def follows_order(times: np.ndarray, positions, min_gap: float = 0.0) -> np.ndarray:
    """Per replica (rows of ``times``): whether the events at columns ``positions[0], positions[1], ...``
    happen in that order, each later than the previous one by more than ``min_gap`` × the previous time."""
    return order_margins(times, positions, min_gap) > 1.0


class Order(Checker):
    """P(a replica's events happen in ``order``) ≥ ``level`` (exact binomial interval).

    ``order`` lists the event labels (the Series' abscissae) in the stated order; ``None``:
    ascending abscissae.  ``min_gap`` ≥ 0 is the relative separation an event needs over the
    previous one to count as later.
    """

    kind = "order"

    def __init__(self, metric: str, *, order=None, level: float = 0.9, min_gap: float = 0.0, **kw):
        super().__init__(metric, **kw)
        self.order = None if order is None else tuple(float(o) for o in order)
        self.level = in_range("level", level, 0.0, 1.0, closed_low=False)
        self.min_gap = in_range("min_gap", min_gap, 0.0, np.inf)

    def claimed_repr(self):
        labels = "ascending" if self.order is None else " < ".join(f"{o:g}" for o in self.order)
        return f"P(events in order {labels}) >= {self.level:g}"

    def check(self, data):
        s = self.series(data)
        labels = [float(v) for v in s.x]
        order = tuple(sorted(labels)) if self.order is None else self.order
        require(sorted(order) == sorted(labels),
                f"the stated order {order} must list the events {tuple(labels)} once each")
        positions = [labels.index(o) for o in order]
        # a replica whose event never happened (non-finite time) counts against the order, never dropped
        margins = order_margins(s.values, positions, self.min_gap)
        ordered = margins > 1.0
        n, k = ordered.size, int(ordered.sum())
        lo, hi = clopper_pearson(k, n, self.confidence)
        decision = decide(lo, hi, self.level, "lower", 0.0, 0.0)
        frequency = k / n
        # the margin at the claimed level: the order holds with the required gap in a fraction `level`
        # of replicas exactly when this quantile exceeds 1 (ratio tightness: 1 is tight)
        at_level = float(np.quantile(margins, 1.0 - self.level, method="lower"))
        t = s.values[:, positions]
        with np.errstate(divide="ignore", invalid="ignore"):
            steps = np.where(np.isfinite(t[:, 1:] / t[:, :-1]), t[:, 1:] / t[:, :-1], np.nan)
        ratios = [float(np.median(c[np.isfinite(c)])) if np.isfinite(c).any() else float("nan") for c in steps.T]
        reason = (f"{k} of {n} replicas follow the order ({frequency:.3f} [{lo:.3f}, {hi:.3f}]) vs claimed "
                  f"{self.claimed_repr()} (relative gap > {self.min_gap:g}); median ratios of consecutive event "
                  f"times: {', '.join(f'{r:.3g}' for r in ratios)}")
        return self.verdict(decision, s, frequency, (lo, hi), (min(labels), max(labels)), reason, law="order",
                            claim=self.claimed_repr(), level=self.level, min_gap=self.min_gap,
                            order=list(order), consecutive_ratios=ratios, margin_at_level=at_level,
                            tightness=tightness("ratio", at_level, (min(labels), max(labels)),
                                                f"{1 - self.level:g}-quantile of min t_next/(t_prev (1+gap))"))
