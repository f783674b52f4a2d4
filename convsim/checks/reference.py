"""Agreement with an exact reference curve: the sharp companion of a loose bound."""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from ..errors import ConvsimError, positive
from .verdict import CONSISTENT, INCONCLUSIVE, VIOLATED, Checker, tightness


class Reference(Checker):
    """``E[metric]`` equals a reference curve (a closed form, an exact moment recursion) within ``rtol``.

    ``reference`` is an array aligned with the data's abscissae, or a callable of them
    (host float arrays).  At every point of the window the Monte Carlo mean gets a
    two-sided t-interval, Bonferroni-corrected over the points; the claim is the band
    ``reference · [1/(1+rtol), 1+rtol]``.  ``consistent`` when every interval lies inside
    the band, ``violated`` when some interval lies entirely outside it, ``inconclusive``
    otherwise (too few replicas to resolve ``rtol``).  The estimate and tightness are the
    largest ratio mean/reference away from 1 on the decisive window: with ``decisive="late"`` the
    upper half of the points in log scale, where a curve in time has left its starting value; with
    ``decisive="all"`` every point (abscissae that are categories or parameters, not steps).

    A reference must come from the problem (its constants, closed forms), never from
    the object under test: then a planted bug moves the run but not the reference.
    """

    kind = "reference"

    def __init__(self, metric, reference, *, rtol=0.05, window=None, what="reference", decisive="late", **kw):
        super().__init__(metric, **kw)
        if decisive not in ("late", "all"):
            raise ConvsimError(f"decisive must be 'late' or 'all', got {decisive!r}")
        self.decisive = decisive
        self.reference = reference
        self.rtol = positive("rtol", rtol)
        self.window = window
        self.what = what
        self.claimed = f"E[{metric}] = {what} (rtol {self.rtol:g})"

    def _reference_on(self, x):
        ref = self.reference(x) if callable(self.reference) else self.reference
        ref = np.asarray(ref, dtype=np.float64)
        if ref.shape != x.shape:
            raise ConvsimError(f"the reference has shape {ref.shape}; the data has {x.shape} points")
        return ref

    def check(self, data):
        s = self.series(data)
        y, bad = self.healthy(s)
        if bad is not None:
            return bad
        ref_all = self._reference_on(s.x)
        mask = np.ones(s.x.size, bool) if self.window is None else (s.x >= self.window[0]) & (s.x <= self.window[1])
        mask &= ref_all > 0
        if not mask.any():
            return self.verdict(INCONCLUSIVE, s, None, None, None, "no point with a positive reference in the window")
        x, ref, y = s.x[mask], ref_all[mask], y[:, mask]
        n = y.shape[0]
        mean = y.mean(axis=0)
        if n > 1:
            alpha = (1 - self.confidence) / x.size
            half = scipy.stats.t.ppf(1 - alpha / 2, n - 1) * y.std(axis=0, ddof=1) / math.sqrt(n)
        else:
            half = np.zeros_like(mean)
        lo, hi = mean - half, mean + half
        band_lo, band_hi = ref / (1 + self.rtol), ref * (1 + self.rtol)
        outside = (hi < band_lo) | (lo > band_hi)
        inside = (lo >= band_lo) & (hi <= band_hi)
        ratio = mean / ref
        decisive = _upper_log_half(x) if self.decisive == "late" else np.ones(x.size, bool)
        j_dec = np.flatnonzero(decisive)[np.argmax(np.abs(np.log(np.maximum(ratio[decisive], 1e-300))))]
        if outside.any():
            j = int(np.flatnonzero(outside)[np.argmax(np.abs(np.log(np.maximum(ratio[outside], 1e-300))))])
            decision = VIOLATED
            reason = (f"mean {mean[j]:.4g} [{lo[j]:.4g}, {hi[j]:.4g}] at {s.x_name}={x[j]:g} is outside "
                      f"{self.what} {ref[j]:.4g} x/÷ {1 + self.rtol:g}")
        elif inside.all():
            j = int(j_dec)
            decision = CONSISTENT
            reason = (f"mean within {self.what} x/÷ {1 + self.rtol:g} at all {x.size} points; "
                      f"largest deviation on the decisive window: ratio {ratio[j]:.4g} at {s.x_name}={x[j]:g}")
        else:
            j = int(np.flatnonzero(~inside)[0])
            decision = INCONCLUSIVE
            reason = (f"the interval [{lo[j]:.4g}, {hi[j]:.4g}] at {s.x_name}={x[j]:g} straddles the band around "
                      f"{self.what} {ref[j]:.4g}: too few replicas to resolve rtol {self.rtol:g}")
        window = (x[decisive][0], x[decisive][-1])
        return self.verdict(decision, s, ratio[j], (lo[j] / ref[j], hi[j] / ref[j]), (x[0], x[-1]), reason,
                            claimed=self.claimed, law="reference", claim=self.claimed, bound_x=x, bound_y=ref,
                            tightness=tightness("ratio", float(ratio[j_dec]), window, f"mean/{self.what}"))


def _upper_log_half(x: np.ndarray) -> np.ndarray:
    """The decisive points: the upper half in log scale of the positive abscissae (all points if none is positive)."""
    pos = x > 0
    if not pos.any():
        return np.ones(x.size, bool)
    lo = math.sqrt(x[pos].min() * x[pos].max())
    keep = pos & (x >= lo)
    return keep if keep.any() else pos


def farthest_from_one(ratio) -> np.ndarray:
    """Per column of ``ratio`` (replicas, P), the entry farthest from 1 in ``|log|``, as a ``(1, P)`` row.

    For a pathwise identity (a run against its restatement on the same random numbers): it must hold on every
    replica, so the check reads the worst one, a one-row Series for :class:`Reference` with no Monte Carlo
    interval, and one replica off is a difference, never sampling error.  A non-finite, zero or negative entry
    counts as farthest (no identity holds there); a non-finite one is returned as ``inf``.
    """
    ratio = np.asarray(ratio, dtype=np.float64)
    if ratio.ndim != 2:
        raise ConvsimError(f"ratio must have shape (replicas, points), got {ratio.shape}")
    healthy = np.isfinite(ratio) & (ratio > 0)
    distance = np.where(healthy, np.abs(np.log(np.where(healthy, ratio, 1.0))), np.inf)
    worst = np.take_along_axis(ratio, np.argmax(distance, axis=0)[None, :], axis=0)
    return np.where(np.isfinite(worst), worst, np.inf)
