"""Explicit bounds: mean envelopes and high-probability (quantile) bounds, as sympy expressions."""

from __future__ import annotations

import math

import numpy as np
import scipy.stats
import sympy
from sympy.parsing.sympy_parser import parse_expr

from ..errors import ConvsimError, in_range
from .verdict import CONSISTENT, INCONCLUSIVE, VIOLATED, Checker, tightness


def evaluate_bound(expr, x_name: str, x: np.ndarray, constants: dict) -> tuple[np.ndarray, str]:
    """Evaluate a bound given as a sympy expression (or string) in ``x_name`` and named constants.

    Names are always symbols (``gamma`` is a step size here, not Γ); a name that is
    neither the abscissa nor a known constant is a one-line error.
    """
    constants = {k: v for k, v in constants.items() if k != x_name}  # the abscissa is never a constant
    names = {x_name, *constants}
    local = {n: sympy.Symbol(n) for n in names}
    try:
        e = parse_expr(expr, local_dict=local) if isinstance(expr, str) else sympy.sympify(expr)
    except Exception as exc:  # SyntaxError, TokenError, ...
        raise ConvsimError(f"cannot parse bound {expr!r}: {exc}") from None
    unknown = sorted(str(s) for s in e.free_symbols if str(s) not in names)
    if unknown:
        raise ConvsimError(f"bound {expr!s} uses unknown names {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    e_num = e.subs({sympy.Symbol(k): v for k, v in constants.items() if sympy.Symbol(k) in e.free_symbols})
    f = sympy.lambdify(sympy.Symbol(x_name), e_num, "numpy")
    with np.errstate(all="ignore"):
        values = np.broadcast_to(np.asarray(f(x), dtype=np.float64), x.shape).copy()
    return values, str(e)


class _BoundCheck(Checker):
    def __init__(self, metric, bound, *, constants=None, window=None, rtol=1e-9, **kw):
        super().__init__(metric, **kw)
        self.bound_expr = bound
        self.extra_constants = dict(constants or {})
        self.window = window
        self.rtol = in_range("rtol", rtol, 0.0, 1.0)

    def claimed_repr(self):
        return str(self.bound_expr)

    def prepare(self, data):
        s = self.series(data)
        y, bad = self.healthy(s)
        if bad is not None:
            return s, None, None, None, bad
        consts = {**{k: v for k, v in s.constants.items() if isinstance(v, (int, float))}, **self.extra_constants}
        mask = np.ones_like(s.x, dtype=bool) if self.window is None else (s.x >= self.window[0]) & (s.x <= self.window[1])
        bound, text = evaluate_bound(self.bound_expr, s.x_name, s.x[mask], consts)
        if not np.all(np.isfinite(bound)):
            return s, None, None, None, self.verdict(INCONCLUSIVE, s, None, None, None, "the bound is not finite on the window")
        return s, y[:, mask], s.x[mask], bound, None

    def decide(self, s, x, bound, lower, upper, center, what):
        tol = bound * (1 + self.rtol) + 1e-300
        ratio = center / bound
        worst = int(np.nanargmax(np.where(bound > 0, ratio, np.inf)))
        if np.any(lower > tol):
            i = int(np.argmax(lower / bound))
            decision, reason = VIOLATED, (f"{what} exceeds the bound significantly at {s.x_name}={x[i]:g}: "
                                          f"{center[i]:.4g} (lower limit {lower[i]:.4g}) > {bound[i]:.4g}")
            worst = i
        elif np.all(upper <= tol):
            decision, reason = CONSISTENT, (f"{what} stays below the bound at all {x.size} checkpoints; "
                                            f"largest ratio {ratio[worst]:.3g} at {s.x_name}={x[worst]:g}")
        else:
            i = int(np.argmax(upper / bound))
            decision, reason = INCONCLUSIVE, (f"the upper limit of the {what} crosses the bound at "
                                              f"{s.x_name}={x[i]:g} without a significant excess")
        return self.verdict(decision, s, ratio[worst], (lower[worst] / bound[worst], upper[worst] / bound[worst]),
                            (x[0], x[-1]), reason, bound_x=x, bound_y=bound, law="bound", claim=str(self.bound_expr),
                            tightness=self.decisive_ratio(x, ratio, what))

    @staticmethod
    def decisive_ratio(x, ratio, what):
        """Largest measured/bound ratio over the decisive window: the upper half of the checkpoints
        in log scale (x > 0), so the start of a run (where every bound is met trivially) never
        decides how tight a bound is."""
        pos = x > 0
        if not pos.any():
            return None
        lo = math.sqrt(x[pos].min() * x[pos].max())
        keep = pos & (x >= lo) & np.isfinite(ratio)
        if not keep.any():
            return None
        return tightness("ratio", float(np.max(ratio[keep])), (x[keep][0], x[keep][-1]), f"largest {what}/bound")


class Envelope(_BoundCheck):
    """``E[metric] ≤ bound`` at every checkpoint of the window.

    The bound is a sympy expression in the abscissa (``t``) and the problem's
    constants (``L``, ``mu``, ``sigma_star2``, ``r0_sq``, ... plus ``constants``
    given here, such as the step size).  Simultaneous one-sided t-intervals on the
    mean (Bonferroni over checkpoints) decide: ``violated`` if the mean is
    significantly above the bound somewhere, ``consistent`` if its upper limit is
    below the bound everywhere.  The estimate is the largest ratio mean/bound.
    """

    kind = "envelope"

    def check(self, data):
        s, y, x, bound, bad = self.prepare(data)
        if bad is not None:
            return bad
        n = y.shape[0]
        mean = y.mean(axis=0)
        alpha = (1 - self.confidence) / x.size
        if n > 1:
            half = scipy.stats.t.ppf(1 - alpha, n - 1) * y.std(axis=0, ddof=1) / np.sqrt(n)
        else:
            half = np.zeros_like(mean)
        return self.decide(s, x, bound, mean - half, mean + half, mean, "mean")


class Quantile(_BoundCheck):
    """High-probability bound: the ``1 - delta`` quantile of the metric ≤ bound at every checkpoint.

    Distribution-free confidence intervals for the quantile come from order
    statistics (``scipy.stats.quantile_test``), Bonferroni-corrected over checkpoints.
    """

    kind = "quantile"

    def __init__(self, metric, bound, *, delta=0.05, **kw):
        super().__init__(metric, bound, **kw)
        self.delta = in_range("delta", delta, 0.0, 1.0, closed_low=False)

    def check(self, data):
        s, y, x, bound, bad = self.prepare(data)
        if bad is not None:
            return bad
        level = 1 - (1 - self.confidence) / x.size
        q = np.quantile(y, 1 - self.delta, axis=0)
        lower, upper = np.empty_like(q), np.empty_like(q)
        for j in range(x.size):
            col = y[:, j]
            if np.all(col == col[0]):
                lower[j] = upper[j] = col[0]
                continue
            ci = scipy.stats.quantile_test(col, q=q[j], p=1 - self.delta).confidence_interval(level)
            lower[j], upper[j] = ci.low, ci.high
        if np.any(np.isnan(upper)) and not np.any(lower > bound * (1 + self.rtol)):
            return self.verdict(INCONCLUSIVE, s, None, None, (x[0], x[-1]),
                                f"too few replicas ({y.shape[0]}) for a {level:.4f}-confidence interval on the "
                                f"{1 - self.delta:g}-quantile")
        upper = np.where(np.isnan(upper), np.inf, upper)
        lower = np.where(np.isnan(lower), -np.inf, lower)
        return self.decide(s, x, bound, lower, upper, q, f"{1 - self.delta:g}-quantile")
