"""Tail-index estimation (Hill) and the check that a measured tail index equals an exact one.

Hill's estimator of the index α of a Pareto-type tail P(X > t) = t^(−α) ℓ(t) from the k largest of n
samples: γ̂ = (1/k) Σ_{i≤k} log(X_(i)/X_(k+1)), α̂ = 1/γ̂ (Hill 1975, Ann. Statist. 3(5)).  For k → ∞,
k/n → 0 (and a second-order condition) √k (γ̂ − γ) → N(0, γ²) (de Haan & Ferreira 2006, Theorem 3.2.5),
which gives the interval γ̂ (1 ± z/√k), i.e. α̂ / (1 ± z/√k).  The estimate has a bias from the
second-order part of ℓ that shrinks as k/n does: a check against an exact index allows a relative
band ``rtol`` for it (and says so).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from ..checks.verdict import CONSISTENT, INCONCLUSIVE, VIOLATED, Checker, tightness
from ..engine.trace import Series
from ..errors import ConvsimError, positive, require


def hill_gamma(samples, k: int) -> np.ndarray:
    """Hill's γ̂ = 1/α̂ of abs(samples) along axis 0 from the k largest (host arrays; shape samples.shape[1:])."""
    x = np.abs(np.asarray(samples, dtype=np.float64))
    n = x.shape[0]
    k = positive("k", k, integer=True)
    require(k < n, f"Hill's estimator needs k < n, got k={k}, n={n}")
    top = -np.partition(-x, k, axis=0)[: k + 1]  # the k+1 largest, unordered but for the (k+1)-th
    threshold = np.min(top, axis=0)
    require(bool(np.all(threshold > 0)), "the (k+1)-th largest |sample| must be positive")
    return np.sum(np.log(top), axis=0) / k - (k + 1) / k * np.log(threshold)


def hill_index(samples, k: int) -> np.ndarray:
    """Hill's tail-index estimate α̂ = 1/γ̂ (see :func:`hill_gamma`)."""
    return 1.0 / hill_gamma(samples, k)


def hill_interval(alpha_hat, k: int, confidence: float = 0.95):
    """The asymptotic interval of the index: α̂ / (1 ± z/√k), z the two-sided normal quantile."""
    z = scipy.stats.norm.ppf(0.5 + confidence / 2) / math.sqrt(k)
    require(z < 1, f"k={k} is too small for a {confidence:g} interval")
    a = np.asarray(alpha_hat, dtype=np.float64)
    return a / (1.0 + z), a / (1.0 - z)


def index_series(samples, x, k: int, x_name: str) -> Series:
    """Hill's estimates from the ``k`` largest of each column of ``samples`` (n, P), as a one-row Series
    ``tail_index`` against ``x`` (constants ``k`` and ``n`` for the interval): what :class:`TailIndex` checks."""
    samples = np.asarray(samples, dtype=np.float64)
    est = hill_index(samples, k)
    return Series(np.asarray(x, dtype=np.float64), est[None, :], x_name, "tail_index", np.full(1, -1),
                  {"k": int(k), "n": int(samples.shape[0])})


class TailIndex(Checker):
    """Hill's tail-index estimates (a Series from :func:`index_series`) equal an exact index within a band.

    ``reference`` is the exact index at each abscissa (an array or a callable of ``x``).  At every
    point the estimate gets the asymptotic interval α̂ / (1 ± z/√k), Bonferroni-corrected over the
    points; the claim is the band ``reference · [1/(1+rtol), 1+rtol]``, ``rtol`` covering Hill's
    finite-k bias.  ``consistent`` when every interval lies inside its band, ``violated`` when some
    interval lies outside it, ``inconclusive`` otherwise.  Estimate and tightness: the ratio
    α̂/reference farthest from 1 (the decisive point).
    """

    kind = "tail-index"

    def __init__(self, reference, *, rtol: float = 0.15, what="exact tail index", **kw):
        super().__init__("tail_index", **kw)
        self.reference = reference
        self.rtol = positive("rtol", rtol)
        self.what = what
        self.claimed = f"tail index = {what} (rtol {self.rtol:g})"

    def check(self, data):
        s = self.series(data)
        k = s.constants.get("k")
        require(isinstance(k, int) and k > 0, "a tail-index Series carries the k of its Hill estimates")
        ref = np.asarray(self.reference(s.x) if callable(self.reference) else self.reference, dtype=np.float64)
        if ref.shape != s.x.shape or not np.all(ref > 0):
            raise ConvsimError(f"the reference index must be positive with shape {s.x.shape}, got {ref.shape}")
        est = s.values[0]
        lo, hi = hill_interval(est, k, 1 - (1 - self.confidence) / s.x.size)
        band_lo, band_hi = ref / (1 + self.rtol), ref * (1 + self.rtol)
        outside, inside = (hi < band_lo) | (lo > band_hi), (lo >= band_lo) & (hi <= band_hi)
        ratio = est / ref
        j = int(np.argmax(np.abs(np.log(ratio))))
        if outside.any():
            j = int(np.flatnonzero(outside)[np.argmax(np.abs(np.log(ratio[outside])))])
            decision = VIOLATED
            reason = (f"Hill index {est[j]:.4g} [{lo[j]:.4g}, {hi[j]:.4g}] at {s.x_name}={s.x[j]:g} is outside "
                      f"{self.what} {ref[j]:.4g} x/÷ {1 + self.rtol:g}")
        elif inside.all():
            decision = CONSISTENT
            reason = (f"Hill index within {self.what} x/÷ {1 + self.rtol:g} at all {s.x.size} points; largest "
                      f"deviation ratio {ratio[j]:.4g} at {s.x_name}={s.x[j]:g}")
        else:
            j = int(np.flatnonzero(~inside)[0])
            decision = INCONCLUSIVE
            reason = (f"the interval [{lo[j]:.4g}, {hi[j]:.4g}] at {s.x_name}={s.x[j]:g} straddles the band around "
                      f"{self.what} {ref[j]:.4g}: too few samples to resolve rtol {self.rtol:g}")
        window = (float(s.x[0]), float(s.x[-1]))
        verdict = self.verdict(decision, s, ratio[j], (lo[j] / ref[j], hi[j] / ref[j]), window,
                            reason + f" (Hill, k={k} of n={s.constants.get('n')})", claimed=self.claimed,
                            law="reference", claim=self.claimed, bound_x=s.x, bound_y=ref,
                            intervals=np.stack([lo, hi], axis=1),
                            tightness=tightness("ratio", float(ratio[j]), window, f"Hill index/{self.what}"))
        verdict.replicas = int(s.constants.get("n", verdict.replicas))  # the samples behind each estimate
        return verdict
