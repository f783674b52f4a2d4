"""The cost of zeroth-order runs in function evaluations (the unit of these papers' complexity bounds)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..engine.trace import Trace
from ..errors import require

METRIC = "evaluations"


def evaluations_per_step(trace: Trace) -> float:
    """Function values one step of the run's method costs per replica, read from the run's metadata (so a
    mutated method is counted as it ran); an average over steps for methods whose steps differ in cost (GFM+)."""
    counts = trace.meta.get("method", {}).get("evaluations")
    require(counts is not None, "this run's method reports no function-evaluation count (not a zeroth-order method)")
    a, b = counts
    d = trace.meta.get("problem", {}).get("d", trace.constants.get("d"))
    require(d is not None or not b, "the run records no dimension d, which this method's cost depends on")
    per_step = float(a) + float(b) * int(d or 0)
    return int(per_step) if per_step.is_integer() else per_step


def with_evaluations(trace: Trace) -> Trace:
    """The trace with a metric ``evaluations``: function values spent by each checkpoint (a cost for
    :class:`~convsim.checks.Complexity`, ``cost="evaluations"``)."""
    per_step = evaluations_per_step(trace)
    counts = np.broadcast_to(per_step * trace.steps.astype(np.float64), (trace.replicas, trace.steps.size)).copy()
    return dataclasses.replace(trace, metrics={**trace.metrics, METRIC: counts})
