"""Rate checks: power-law exponents (log-log slopes) and geometric rates."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConvsimError, finite, positive
from .verdict import INCONCLUSIVE, Checker, bootstrap, check_bound, decide, tightness


def _window_mask(x: np.ndarray, window, default_log: bool) -> np.ndarray:
    pos = x > 0 if default_log else np.ones_like(x, dtype=bool)
    if window is None:
        xs = x[pos]
        if xs.size == 0:
            return pos
        lo = math.sqrt(xs.min() * xs.max()) if default_log else 0.5 * (xs.min() + xs.max())
        return pos & (x >= lo)
    lo, hi = window
    return pos & (x >= lo) & (x <= hi)


def ols_slope(u: np.ndarray, v: np.ndarray) -> tuple:
    """Slope and intercept of v ≈ a u + b along the last axis (vectorized over leading axes)."""
    uc = u - u.mean()
    a = np.sum(uc * (v - v.mean(axis=-1, keepdims=True)), axis=-1) / np.sum(uc * uc)
    return a, v.mean(axis=-1) - a * u.mean()


class _LogFit(Checker):
    """Fit log(mean metric) against a transform of x on a window; bootstrap over replicas."""

    log_x: bool

    def __init__(self, metric, claimed, *, bound="tight", window=None, **kw):
        super().__init__(metric, **kw)
        self.claimed = finite("claimed", claimed)
        self.bound = check_bound(bound)
        self.window = window

    def fit_statistic(self, u, x_w):
        def stat(mean):  # the resampled means, (resamples, checkpoints)
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.log(mean) - self.log_correction(x_w)
            return ols_slope(u, v)[0]

        return stat

    def log_correction(self, x):
        return 0.0

    def check(self, data):
        s = self.series(data)
        y, bad = self.healthy(s)
        if bad is not None:
            return bad
        mask = _window_mask(s.x, self.window, self.log_x)
        if mask.sum() < 3:
            return self.verdict(INCONCLUSIVE, s, None, None, None, "fewer than 3 checkpoints in the fit window")
        x_w, y_w = s.x[mask], y[:, mask]
        mean = y_w.mean(axis=0)
        if np.any(mean <= 0) or not np.all(np.isfinite(mean)):
            return self.verdict(INCONCLUSIVE, s, None, None, (x_w[0], x_w[-1]),
                                "the mean metric is zero or non-finite in the fit window (hit machine precision?)")
        u = np.log(x_w) if self.log_x else x_w
        est, lo, hi = bootstrap((y_w,), self.fit_statistic(u, x_w), self.confidence, self.seed, self.n_resamples,
                               of_means=True)
        slope, intercept = ols_slope(u, np.log(mean) - self.log_correction(x_w))
        return self.decide(s, est, lo, hi, (x_w[0], x_w[-1]), float(intercept))


class Exponent(_LogFit):
    """Power law ``metric ~ C x^claimed (log x)^log_power`` on a window of x (T, ε, d, κ, B, ...).

    ``bound="upper"`` tests O(x^a): the fitted slope may not exceed ``claimed +
    tolerance``; ``"lower"`` tests Ω(x^a); ``"tight"`` tests Θ(x^a) with the band
    ``claimed ± tolerance``.  The slope of log E[metric] is fitted by least squares
    on the window (default: the upper half of the x range in log scale) and its
    confidence interval comes from a percentile bootstrap over replicas.
    ``tolerance`` is the resolution of the test: finite windows carry
    pre-asymptotic curvature, so exponents are decided to within it.
    """

    kind = "exponent"
    log_x = True

    def __init__(self, metric, claimed, *, bound="tight", window=None, log_power=0.0, tolerance=0.1, **kw):
        super().__init__(metric, claimed, bound=bound, window=window, **kw)
        self.log_power = float(log_power)
        self.tolerance = positive("tolerance", tolerance)

    def log_correction(self, x):
        if not self.log_power:
            return 0.0
        if np.any(x <= 1):
            raise ConvsimError("log factors need a window with x > 1")
        return self.log_power * np.log(np.log(x))

    def claimed_repr(self):
        x = self.vs or "t"
        law = f"{x}^{self.claimed:g}" + (f" (log {x})^{self.log_power:g}" if self.log_power else "")
        return {"upper": "O", "lower": "Omega", "tight": "Theta"}[self.bound] + f"({law})"

    def decide(self, s, est, lo, hi, window, intercept):
        decision = decide(lo, hi, self.claimed, self.bound, self.tolerance, self.tolerance)
        reason = (f"fitted exponent {est:.3f} [{lo:.3f}, {hi:.3f}] vs claimed {self.claimed:g} "
                  f"({self.bound}, tolerance {self.tolerance:g})")
        return self.verdict(decision, s, est, (lo, hi), window, reason, claimed=self.claimed,
                            slope=est, intercept=intercept, log_power=self.log_power, law="power",
                            claim=self.claimed_repr(),
                            tightness=tightness("difference", est - self.claimed, window, "fitted - claimed exponent"))


class Linear(_LogFit):
    """Geometric rate ``metric ~ C ρ^t`` against a claimed ρ per step.

    The log-rate ``log ρ̂`` is the least-squares slope of log E[metric] against t
    on the window (default: the second half of the run).  ``bound="upper"`` tests
    that the metric contracts at least as fast as ρ (ρ̂ ≤ ρ), ``"lower"`` at most
    as fast, ``"tight"`` both; ``rtol`` is the relative tolerance on log ρ.
    """

    kind = "linear"
    log_x = False

    def __init__(self, metric, claimed, *, bound="upper", window=None, rtol=0.05, **kw):
        super().__init__(metric, claimed, bound=bound, window=window, **kw)
        if not 0 < self.claimed < 1:
            raise ConvsimError(f"a claimed linear rate must lie in (0, 1), got {claimed!r}")
        self.rtol = positive("rtol", rtol)

    def claimed_repr(self):
        return self.claimed

    def decide(self, s, est, lo, hi, window, intercept):
        log_rho = math.log(self.claimed)  # < 0; the band is log ρ · (1 ± rtol)
        decision = decide(lo, hi, log_rho, self.bound, self.rtol * abs(log_rho), self.rtol * abs(log_rho))
        rate, rate_lo, rate_hi = math.exp(est), math.exp(lo), math.exp(hi)
        reason = (f"fitted rate {rate:.6g} [{rate_lo:.6g}, {rate_hi:.6g}] per step vs claimed {self.claimed:.6g} "
                  f"({self.bound}, rtol {self.rtol:g} on log rate)")
        return self.verdict(decision, s, rate, (rate_lo, rate_hi), window, reason, claimed=self.claimed,
                            slope=est, intercept=intercept, law="geometric",
                            tightness=tightness("ratio", est / log_rho, window, "fitted/claimed log-rate"))
