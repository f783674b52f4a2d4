"""The simulation engine: batched runs, checkpoints, sweeps."""

from .checkpoints import checkpoints
from .batched import NotBatchable
from .simulate import BUILTIN_METRICS, StateMetric, default_threads, map_rows, run_chunks, simulate, simulate_points, submitter
from .sweep import Experiment, Sweep, sweep
from .trace import Series, Trace

__all__ = ["simulate", "simulate_points", "checkpoints", "sweep", "Sweep", "Experiment", "Trace", "Series",
           "BUILTIN_METRICS", "NotBatchable", "default_threads", "run_chunks", "map_rows", "submitter", "StateMetric"]
