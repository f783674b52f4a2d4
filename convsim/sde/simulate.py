"""Many SDE paths at once, recorded at checkpoints like :func:`convsim.simulate`."""

from __future__ import annotations

import math
import time

import numpy as np

from ..backend import asarray, backend_name, dtype_of, namespace, to_numpy
from ..engine.checkpoints import checkpoints
from ..engine.simulate import divergence_steps, map_rows, resolve_threads, run_versions, sum_sq
from ..engine.trace import Trace
from ..errors import positive, require
from ..random import BLOCK, ReplicaStreams
from .terms import LinearSDE

SDE_METRICS = {
    "sq_norm": lambda sde, x: sum_sq(x),
    "dist_sq": lambda sde, x: sum_sq(x - _mean_on(sde, x)),
}


def _mean_on(sde, x):
    return 0.0 * x if getattr(sde, "mean", None) is None else sde.on(x, "mean", sde.mean)


def simulate_sde(sde, solver, x0, t1: float, dt: float, paths: int = 1, *, record="log", metrics=("sq_norm",),
                 seed: int = 0, backend: str = "numpy", dtype: str = "float64", chunk_size: int | None = None,
                 executor=None, threads: int | None = None) -> Trace:
    """Integrate ``paths`` copies of ``sde`` from ``x0`` over [0, t1] with step ``dt``.

    The recorded steps are step counts (time = step · dt, stored in ``meta["dt"]``);
    metrics are ``fn(sde, x) -> (R,)`` or names from ``SDE_METRICS``.  Brownian
    increments come from the same block-seeded streams as the engine, so a run does
    not depend on chunking.  ``executor`` (a ``concurrent.futures`` executor or a
    ``dask.distributed.Client``) integrates the chunks of paths on its workers, with the
    Trace of a local run bit for bit (see :func:`convsim.engine.simulate.map_rows`).  A process pool pickles its
    arguments: give metrics by name or as module-level functions, and an SDE of closures (such as
    ``LinearSDE.as_sde()``) needs Dask, whose cloudpickle carries them.  Without an executor the
    chunks run on ``threads`` threads (default: the usable cores), with the same numbers.
    """
    dt, t1 = positive("dt", dt), positive("t1", t1)
    paths = positive("paths", paths, integer=True)
    n = int(round(t1 / dt))
    require(n >= 1 and abs(n * dt - t1) <= 1e-9 * t1, f"t1 = {t1} is not a whole number of steps dt = {dt}")
    dtype_of(namespace(backend), dtype)  # an unknown backend or dtype: a one-line error before any work
    grid = checkpoints(n, record)
    names = list(_metric_fns(metrics))
    d = sde.dim
    start = np.asarray(x0, dtype=np.float64)
    require(start.shape in ((d,), (paths, d)), f"x0 must have shape ({d},) or ({paths}, {d}), got {start.shape}")
    chunk = chunk_size or max(BLOCK, (2**19 // max(1, 8 * d)) // BLOCK * BLOCK)
    chunk = max(BLOCK, chunk // BLOCK * BLOCK)
    began = time.perf_counter()
    threads = resolve_threads(threads, backend_name(namespace(backend)), executor)
    out, _ = map_rows(sde_rows, paths, chunk, executor, sliced=("start",), threads=threads, sde=sde, solver=solver,
                      grid=grid, start=start, dt=dt, metrics=metrics, seed=seed, backend=backend, dtype=dtype, chunk=chunk)
    diverged = divergence_steps(out, grid)
    meta = {"sde": sde.spec(), "solver": solver.name, "dt": dt, "t1": t1, "steps": n, "replicas": paths, "seed": seed,
            "backend": backend, "dtype": dtype, "seconds": time.perf_counter() - began, "versions": run_versions(backend),
            "metrics": names}
    constants = {"dt": dt, "d": d}
    if isinstance(sde, LinearSDE):
        try:
            constants["stationary_trace"] = float(np.trace(sde.stationary_covariance()))
        except Exception:
            pass
    return Trace(grid, out, diverged, constants, meta)


def _metric_fns(metrics) -> dict:
    if isinstance(metrics, dict):
        return metrics
    return {m: SDE_METRICS[m] if isinstance(m, str) else m for m in metrics}


def sde_rows(lo: int, count: int, *, sde, solver, grid, start, dt: float, metrics, seed: int, backend: str,
             dtype: str, chunk: int):
    """The metric rows (host float64, (count, checkpoints)) of paths lo..lo+count-1, chunk by chunk: the
    unit of work of :func:`simulate_sde`, locally or on a worker.  ``start`` is one point (d,) or
    these paths' rows (count, d).  Returns ``(rows, None)`` for :func:`~convsim.engine.simulate.map_rows`."""
    xp = namespace(backend)
    dt_ = dtype_of(xp, dtype)
    fns = _metric_fns(metrics)
    d, m = sde.dim, sde.noise_dim
    out = {name: np.empty((count, grid.size)) for name in fns}
    sq = math.sqrt(dt)
    increment = getattr(solver, "increment", None)  # a solver with its own driving noise (Lévy)
    with np.errstate(all="ignore"):
        for first in range(0, count, chunk):
            n = min(chunk, count - first)
            x = asarray(xp, np.broadcast_to(start if start.ndim == 1 else start[first:first + n], (n, d)), dt_)
            rng = ReplicaStreams(xp, seed, lo + first, n, dtype)
            rec = {name: xp.zeros((grid.size, n), dtype=dt_) for name in fns}
            k = 0
            for c, target in enumerate(grid):
                while k < target:
                    dw = sq * rng.normal(m) if increment is None else increment(rng, m, dt)
                    x = solver.step(sde, x, k * dt, dt, dw)
                    k += 1
                for name, fn in fns.items():
                    rec[name][c, :] = fn(sde, x)
            for name, v in rec.items():
                out[name][first:first + n] = to_numpy(v).T
    return out, None
