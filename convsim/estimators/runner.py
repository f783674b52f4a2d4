"""Batched Monte Carlo of an estimator: one row per replica, its draws from the per-block replica streams."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..backend import namespace, to_numpy
from ..engine.trace import Series
from ..errors import positive, require
from ..random import BLOCK, ReplicaStreams

CHUNK = 64 * BLOCK
"""Replicas drawn at once (whole stream blocks, so the rows do not depend on the chunking)."""


def sample_rows(draw: Callable, replicas: int, *, seed: int = 0, backend: str = "numpy", dtype: str = "float64",
                chunk: int = CHUNK) -> np.ndarray:
    """``draw(rng, xp)`` (an array of shape ``(n, P)`` for the ``n`` replicas of ``rng``) over all replicas, chunk
    by chunk, as one host float64 array ``(replicas, P)``.  Every block of 64 replicas owns its stream, so the
    result is the same for any chunk size (a multiple of 64)."""
    replicas = positive("replicas", replicas, integer=True)
    require(chunk % BLOCK == 0 and chunk > 0, f"chunk must be a positive multiple of {BLOCK}")
    xp = namespace(backend)
    rows = []
    for lo in range(0, replicas, chunk):
        rng = ReplicaStreams(xp, seed, lo, min(chunk, replicas - lo), dtype)
        rows.append(np.asarray(to_numpy(draw(rng, xp)), dtype=np.float64).reshape(rng.count, -1))
    return np.concatenate(rows, axis=0)


def as_series(values: np.ndarray, x, x_name: str, metric: str, constants: dict | None = None) -> Series:
    """Per-replica values ``(R, P)`` against the abscissae ``x`` (no replica diverged) as a checkable Series."""
    values = np.asarray(values, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    require(values.shape[1:] == x.shape, f"values of shape {values.shape} do not match {x.size} abscissae")
    diverged = np.where(np.all(np.isfinite(values), axis=1), -1, 0)
    return Series(x, values, x_name, metric, diverged, dict(constants or {}))


def best_of(columns: Series, best: int, *, confidence: float = 0.95, seed: int = 0, reference=None):
    """The column ``best`` has the smallest mean: a paired :class:`~convsim.checks.Compare` (factor 1) against every
    other column, Bonferroni-corrected; ``consistent`` if it beats all, ``violated`` if one beats it (or ties),
    ``inconclusive`` otherwise.  Estimate and tightness: the ratio of the closest competitor's mean to its own.
    ``reference`` (the exact mean of every column, optional) is drawn in the figure; it does not enter the decision."""
    from ..checks import Compare
    from ..checks.verdict import CONSISTENT, INCONCLUSIVE, VIOLATED, tightness

    others = [j for j in range(columns.x.size) if j != best]
    conf = 1 - (1 - confidence) / len(others)

    def column(j):
        return Series(np.zeros(1), columns.values[:, j:j + 1], columns.x_name, columns.metric, columns.diverged_at,
                      columns.constants)

    verdicts = {j: Compare(columns.metric, 1.0, confidence=conf, seed=seed).check(column(best), column(j))
                for j in others}
    decisions = [v.verdict for v in verdicts.values()]
    decision = VIOLATED if VIOLATED in decisions else CONSISTENT if all(d == CONSISTENT for d in decisions) else INCONCLUSIVE
    closest = min(others, key=lambda j: verdicts[j].estimate)
    v = verdicts[closest]
    lost = [j for j in others if verdicts[j].verdict == VIOLATED]
    where = lambda j: f"{columns.x_name}={columns.x[j]:.4g}"
    if lost:
        reason = f"{where(best)} does not beat {', '.join(where(j) for j in lost)}: {verdicts[lost[0]].reason}"
    else:
        reason = f"{where(best)} against its closest competitor {where(closest)}: {v.reason}"
    details = {"x_name": columns.x_name, "law": "ratio", "ratios": {where(j): verdicts[j].estimate for j in others}}
    if reference is not None:
        details.update(law="reference", bound_x=columns.x, bound_y=np.asarray(reference, dtype=np.float64))
    verdict = v.__class__(decision, "best-of", columns.metric, f"{where(best)} has the smallest mean", v.estimate, v.ci,
                          confidence, (float(columns.x.min()), float(columns.x.max())), v.replicas, v.diverged,
                          reason, details,
                          tightness("ratio", v.estimate, None, "closest competitor's mean / claimed best's mean"))
    return verdict


def reference_at_every_point(metric: str, reference, *, rtol: float, what: str = "reference"):
    """:class:`~convsim.checks.Reference` for a Series whose abscissae are categories or parameters, not steps:
    its estimate and tightness are the mean/reference ratio farthest from 1 over all points."""
    from ..checks import Reference

    return Reference(metric, reference, rtol=rtol, what=what, decisive="all").check
