"""Stationary levels and paired comparisons."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConvsimError, positive
from .bounds import evaluate_bound
from .verdict import INCONCLUSIVE, VIOLATED, Checker, bootstrap, check_bound, decide, tightness


class Level(Checker):
    """A stationary value of the metric against a closed form.

    The level is the mean over replicas of each replica's time average over the
    window (default: the second half of the checkpoints).  ``claimed`` is a number
    or a sympy expression in the problem's constants (and ``constants``);
    ``bound="tight"`` accepts a relative band ``± rtol``, ``"upper"``/``"lower"``
    one side of it.  The interval is a percentile bootstrap over replicas.
    """

    kind = "level"

    def __init__(self, metric, claimed, *, bound="tight", rtol=0.1, window=None, constants=None, **kw):
        super().__init__(metric, **kw)
        self.claimed_expr = claimed
        self.bound = check_bound(bound)
        self.rtol = positive("rtol", rtol)
        self.window = window
        self.extra_constants = dict(constants or {})

    def claimed_repr(self):
        return str(self.claimed_expr)

    def check(self, data):
        s = self.series(data)
        y, bad = self.healthy(s)
        if bad is not None:
            return bad
        if self.window is None:
            mask = np.arange(s.x.size) >= s.x.size // 2
        else:
            mask = (s.x >= self.window[0]) & (s.x <= self.window[1])
        if not mask.any():
            return self.verdict(INCONCLUSIVE, s, None, None, None, "no checkpoint in the window")
        consts = {**{k: v for k, v in s.constants.items() if isinstance(v, (int, float))}, **self.extra_constants}
        value = float(evaluate_bound(str(self.claimed_expr), s.x_name, np.zeros(1), consts)[0][0])
        if not math.isfinite(value) or value <= 0:
            raise ConvsimError(f"claimed level {self.claimed_expr} evaluates to {value}; it must be positive and finite")
        per_replica = y[:, mask].mean(axis=1)
        est, lo, hi = bootstrap((per_replica,), lambda m: m, self.confidence, self.seed, self.n_resamples, of_means=True)
        # Decide on the log scale, so the band is relative: [v/(1+rtol), v(1+rtol)].
        if lo <= 0:
            return self.verdict(INCONCLUSIVE, s, est, (lo, hi), (s.x[mask][0], s.x[mask][-1]), "level not positive")
        m = math.log1p(self.rtol)
        decision = decide(math.log(lo), math.log(hi), math.log(value), self.bound, m, m)
        reason = f"stationary level {est:.4g} [{lo:.4g}, {hi:.4g}] vs claimed {value:.4g} ({self.bound}, rtol {self.rtol:g})"
        window = (s.x[mask][0], s.x[mask][-1])
        return self.verdict(decision, s, est, (lo, hi), window, reason, claimed=value,
                            law="level", claim=str(self.claimed_expr),
                            tightness=tightness("ratio", est / value, window, "measured/claimed level"))


class Compare(Checker):
    """Method A beats method B by at least ``factor`` on paired replicas.

    The statistic is ``mean_B / mean_A`` of the metric averaged over the window
    (default: the last checkpoint); replicas are paired (same seed: common random
    numbers) and resampled together.  ``consistent`` if the interval lies above
    ``factor``, ``violated`` if below, ``inconclusive`` if it straddles it.
    """

    kind = "compare"

    def __init__(self, metric, factor=1.0, *, window=None, **kw):
        super().__init__(metric, **kw)
        self.factor = positive("factor", factor)
        self.claimed = self.factor
        self.window = window

    def check(self, a, b):
        sa, sb = self.series(a), self.series(b)
        if sa.values.shape != sb.values.shape or not np.array_equal(sa.x, sb.x):
            raise ConvsimError("compared runs must have the same replicas and checkpoints")
        both_ok = ~(sa.diverged | sb.diverged)
        merged = type(sa)(sa.x, sa.values, sa.x_name, sa.metric,
                          np.where(both_ok, -1, np.maximum(sa.diverged_at, sb.diverged_at)), sa.constants)
        _, bad = self.healthy(merged)
        if bad is not None:
            return bad
        mask = (sa.x == sa.x[-1]) if self.window is None else (sa.x >= self.window[0]) & (sa.x <= self.window[1])
        ya = sa.values[both_ok][:, mask].mean(axis=1)
        yb = sb.values[both_ok][:, mask].mean(axis=1)
        window = (sa.x[mask][0], sa.x[mask][-1])
        if np.array_equal(ya, yb):  # a bug that makes A and B the same run must not pass as "A beats B"
            return self.verdict(VIOLATED, merged, 1.0, (1.0, 1.0), window,
                                f"A and B are identical on all {ya.size} paired replicas: a tie, not a win by "
                                f"{self.factor:g}", claimed=self.factor, law="ratio",
                                tightness=tightness("ratio", 1.0 / self.factor, window, "measured/claimed factor"))
        if ya.mean() <= 0 or yb.mean() <= 0:
            return self.verdict(INCONCLUSIVE, merged, None, None, None, "a mean is not positive")
        stat = lambda p, q: np.log(q) - np.log(p)  # of the resampled means
        est, lo, hi = bootstrap((ya, yb), stat, self.confidence, self.seed, self.n_resamples, of_means=True)
        decision = decide(lo, hi, math.log(self.factor), "lower", 0.0, 0.0)
        if decision == "consistent" and lo <= math.log(self.factor):  # the interval must clear the factor strictly
            decision = INCONCLUSIVE
        reason = (f"B/A ratio {math.exp(est):.4g} [{math.exp(lo):.4g}, {math.exp(hi):.4g}] vs claimed factor "
                  f"{self.factor:g}, {both_ok.sum()} paired replicas")
        return self.verdict(decision, merged, math.exp(est), (math.exp(lo), math.exp(hi)),
                            window, reason, claimed=self.factor, law="ratio",
                            tightness=tightness("ratio", math.exp(est) / self.factor, window, "measured/claimed factor"))
