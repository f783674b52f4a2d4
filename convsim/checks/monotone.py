"""Monotonicity of a metric along a run: does each replica's metric never go up (or never go down)?

Data: a Trace or Series whose checkpoints are consecutive steps (record every step to test every step).
A replica's *excursion* is its worst step against the stated direction, relative to the value it left:
max_t (y_{t+1} − y_t)/|y_t| for ``direction="nonincreasing"`` (max_t (y_t − y_{t+1})/|y_t| for
``"nondecreasing"``).  The replica is monotone when its excursion is at most ``rtol`` (rounding: a
quantity computed to float64 resolution wobbles by ~1e-15 relative even when it is constant); a negative
``rtol`` demands more, a strict change by at least |rtol| relative at every step.  A replica
that diverged or whose metric turned non-finite counts against the claim (never dropped).  The claim is
P(monotone) ≥ ``level``; the frequency over replicas gets an exact Clopper–Pearson interval:
``consistent`` when it lies above ``level``, ``violated`` when below, ``inconclusive`` otherwise.
Tightness: the ``level``-quantile of the excursions minus ``rtol`` (difference; ≤ 0 means at least a
fraction ``level`` of the replicas is monotone to ``rtol``, 0 is tight; for a negative control, the margin).
"""

from __future__ import annotations

import numpy as np

from ..errors import in_range, require
from .event import clopper_pearson
from .verdict import Checker, decide, tightness

DIRECTIONS = ("nonincreasing", "nondecreasing")


def excursions(values: np.ndarray, direction: str = "nonincreasing") -> np.ndarray:
    """Per replica (rows): the worst relative step against ``direction``; +inf where a value is non-finite."""
    require(direction in DIRECTIONS, f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    y = np.asarray(values, dtype=float)
    step = np.diff(y, axis=1) if direction == "nonincreasing" else -np.diff(y, axis=1)
    scale = np.abs(y[:, :-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, step / np.where(scale > 0, scale, 1.0), np.where(step > 0, np.inf, 0.0))
    worst = np.max(rel, axis=1) if rel.shape[1] else np.full(y.shape[0], -np.inf)
    return np.where(np.all(np.isfinite(y), axis=1), worst, np.inf)


class Monotone(Checker):
    """P(a replica's metric is monotone in ``direction`` up to ``rtol``) ≥ ``level`` (exact binomial interval).

    ``window=(lo, hi)`` restricts the run to the checkpoints in [lo, hi].
    """

    kind = "monotone"

    def __init__(self, metric: str, *, direction: str = "nonincreasing", level: float = 0.95, rtol: float = 1e-12,
                 window=None, **kw):
        super().__init__(metric, **kw)
        require(direction in DIRECTIONS, f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
        self.direction = direction
        self.level = in_range("level", level, 0.0, 1.0, closed_low=False)
        self.rtol = in_range("rtol", rtol, -1.0, np.inf)
        self.window = window

    def claimed_repr(self):
        return f"P({self.metric} {self.direction} to rtol {self.rtol:g}) >= {self.level:g}"

    def check(self, data):
        s = self.series(data)
        mask = np.ones(s.x.size, bool) if self.window is None else (s.x >= self.window[0]) & (s.x <= self.window[1])
        require(int(mask.sum()) >= 2, "a monotonicity check needs at least two checkpoints in its window")
        x = s.x[mask]
        values = np.where(s.diverged[:, None], np.nan, s.values[:, mask])
        worst = excursions(values, self.direction)
        monotone = worst <= self.rtol
        n, k = monotone.size, int(monotone.sum())
        lo, hi = clopper_pearson(k, n, self.confidence)
        decision = decide(lo, hi, self.level, "lower", 0.0, 0.0)
        at_level = float(np.quantile(worst, self.level, method="higher"))
        finite = worst[np.isfinite(worst)]
        reason = (f"{k} of {n} replicas are {self.direction} to rtol {self.rtol:g} ({k / n:.3f} [{lo:.3f}, {hi:.3f}]) "
                  f"vs claimed level {self.level:g} over {x.size} checkpoints; worst relative excursion "
                  f"{(float(finite.max()) if finite.size else float('nan')):.3g}, {n - finite.size} non-finite")
        return self.verdict(decision, s, k / n, (lo, hi), (x[0], x[-1]), reason, law="monotone",
                            claim=self.claimed_repr(), level=self.level, rtol=self.rtol, direction=self.direction,
                            excursion_at_level=at_level,
                            tightness=tightness("difference", at_level - self.rtol, (x[0], x[-1]),
                                                f"{self.level:g}-quantile of the worst relative excursion - rtol"))
