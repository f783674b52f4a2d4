"""Regret statistics shared by the bandit claims."""

from __future__ import annotations

import numpy as np

from ..checks.rates import ols_slope
from ..engine.trace import Series


def late_slope(trace, width: int = 16) -> Series:
    """Per-replica least-squares slope of the regret against ln t over [T/width, T], for each checkpoint T.

    Per replica the slope is linear in the regret, so the mean of the per-replica slopes is the
    slope of E[R_t] in ln t, and a bootstrap over replicas gives its interval.  Checkpoints
    T ≥ width·K with at least three checkpoints in their window are kept.
    """
    t, regret = trace.steps.astype(float), trace.metrics["regret"]
    windows = [(j, (t >= T / width) & (t <= T)) for j, T in enumerate(t) if T >= width * trace.constants["K"]]
    windows = [(j, mask) for j, mask in windows if mask.sum() >= 3]
    ends = [j for j, _ in windows]
    cols = [ols_slope(np.log(t[mask]), regret[:, mask])[0] for _, mask in windows]
    return Series(t[ends], np.stack(cols, axis=1), "T", "regret_slope", trace.diverged_at, dict(trace.constants))
