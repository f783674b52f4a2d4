"""Batched runs of bilevel algorithms: R replicas as one leading axis, metrics at checkpoints."""

from __future__ import annotations

import contextlib
import time
from typing import Callable

import numpy as np
from array_api_compat import array_namespace

from ..backend import asarray, backend_name, dtype_of, namespace, to_numpy
from ..engine.checkpoints import checkpoints
from ..engine.simulate import chunk_rows, divergence_steps, map_rows, resolve_metrics, resolve_threads, run_versions
from ..engine.trace import Trace
from ..errors import ConvsimError, positive, require
from ..problems.base import array_digest
from ..random import ReplicaStreams
from .protocol import FIRST_ORDER, KINDS, SECOND_ORDER, BilevelMethod, BilevelOracle, BilevelProblem, sum_sq

MetricFn = Callable[[BilevelProblem, object], object]


def _hg_err_sq(p, state):
    return sum_sq(state.hg - p.hypergrad(state.hg_x))


def _hg_rel_err(p, state):
    exact = p.hypergrad(state.hg_x)
    return array_namespace(exact).sqrt(sum_sq(state.hg - exact) / sum_sq(exact))


BILEVEL_METRICS: dict[str, tuple[str, Callable]] = {
    "grad_h_sq": ("||grad h(x)||^2", lambda p, x, y, s: sum_sq(p.hypergrad(x))),
    "y_err_sq": ("||y - y*(x)||^2", lambda p, x, y, s: sum_sq(y - p.y_star(x))),
    "h_gap": ("h(x) - h*", lambda p, x, y, s: p.h(x) - p.h_star),
    "dist_sq": ("||x - x*||^2", lambda p, x, y, s: sum_sq(x - p.on(x, "x_star", p.x_star))),
    "h": ("h(x) = f(x, y*(x))", lambda p, x, y, s: p.h(x)),
    "hg_err_sq": ("||estimate - grad h(x_est)||^2", lambda p, x, y, s: _hg_err_sq(p, s)),
    "hg_rel_err": ("||estimate - grad h|| / ||grad h||", lambda p, x, y, s: _hg_rel_err(p, s)),
}
"""Built-in metrics, each ``fn(problem, x, y, state)``; ``hg_*`` need state fields ``hg`` and ``hg_x``."""

CALL_GROUPS = {"calls_first_order": FIRST_ORDER, "calls_second_order": SECOND_ORDER, "calls_total": KINDS}
"""Recorded with every run (besides ``calls_<kind>`` for each kind used): oracle samples per replica."""


def _resolve(problem, method, metrics, has_hg: bool) -> dict[str, Callable]:
    default = ["grad_h_sq", "y_err_sq"] + (["h_gap"] if problem.h_star is not None else [])
    default += ["hg_err_sq"] if has_hg else []

    def unavailable(name):
        if name in ("h_gap", "dist_sq") and problem.x_star is None:
            return f"needs x* and h*, which problem {problem.name!r} does not know"
        if name.startswith("hg_") and not has_hg:
            return f"needs a method whose state holds fields hg and hg_x; {method.name!r} does not"
        return None

    return resolve_metrics(metrics, default, BILEVEL_METRICS, signature="fn(problem, x, y, state)",
                           unavailable=unavailable)


def simulate_bilevel(problem: BilevelProblem, method: BilevelMethod, steps: int, replicas: int = 1, *, record="log",
                     metrics=None, seed: int = 0, backend: str = "numpy", dtype: str = "float64",
                     chunk_size: int | None = None, x0=None, y0=None, executor=None,
                     threads: int | None = None) -> Trace:
    """Run ``replicas`` copies of a bilevel ``method`` on ``problem`` for ``steps`` outer steps.

    Records the metrics (default: ‖∇h(x)‖², ‖y − y*(x)‖², h(x) − h* when known, and the
    hypergradient-estimate error when the state carries one) at the checkpoints of
    ``record``, plus the oracle samples used per replica by then: ``calls_<kind>`` for
    every kind used and the groups of :data:`CALL_GROUPS`.  Replicas run in chunks of
    whole random-stream blocks; the result does not depend on the chunk size.  ``executor`` (a
    ``concurrent.futures`` executor or a ``dask.distributed.Client``) runs the chunks on its
    workers, with the Trace of a local run bit for bit (see :func:`convsim.engine.simulate.map_rows`);
    without one the chunks run on ``threads`` threads (default: the usable cores), with the same numbers.
    """
    require(isinstance(problem, BilevelProblem), f"expected a BilevelProblem, got {type(problem).__name__}")
    require(isinstance(method, BilevelMethod), f"expected a BilevelMethod, got {type(method).__name__}")
    replicas = positive("replicas", replicas, integer=True)
    require(isinstance(seed, (int, np.integer)) and seed >= 0, f"seed must be a non-negative integer, got {seed!r}")
    xp = namespace(backend)
    dtype_of(xp, dtype)  # an unknown dtype: a one-line error before any work
    grid = checkpoints(steps, record)
    dx, dy = problem.dim_x, problem.dim_y
    hx, hy = problem.initial_point()
    starts = []
    for name, given, default, d in (("x0", x0, hx, dx), ("y0", y0, hy, dy)):
        a = np.asarray(default if given is None else given, dtype=np.float64)
        require(a.shape in ((d,), (replicas, d)), f"{name} must have shape ({d},) or ({replicas}, {d}), got {a.shape}")
        starts.append(a)
    chunk = chunk_rows(replicas, dx + dy, np.dtype(dtype).itemsize, chunk_size, backend_name(xp))

    began = time.perf_counter()
    threads = resolve_threads(threads, backend_name(xp), executor)
    recorded, calls_per_task = map_rows(bilevel_rows, replicas, chunk, executor, sliced=("x0", "y0"), threads=threads,
                                        problem=problem,
                                        method=method, metrics=metrics, grid=grid, x0=starts[0], y0=starts[1],
                                        seed=seed, backend=backend, dtype=dtype, chunk=chunk)
    calls = _same_calls(calls_per_task, method)
    seconds = time.perf_counter() - began

    diverged_at = divergence_steps(recorded, grid)  # on the metrics only: call counts never diverge
    for j, kind in enumerate(KINDS):
        if calls[-1, j]:
            recorded[f"calls_{kind}"] = np.broadcast_to(calls[:, j].astype(np.float64), (replicas, grid.size)).copy()
    for group, kinds in CALL_GROUPS.items():
        cols = [KINDS.index(k) for k in kinds]
        recorded[group] = np.broadcast_to(calls[:, cols].sum(axis=1).astype(np.float64), (replicas, grid.size)).copy()
    meta = {"problem": problem.spec(), "method": method.spec(), "steps": int(grid[-1]), "replicas": replicas,
            "seed": int(seed), "backend": backend, "dtype": dtype, "chunk_size": chunk,
            "record": [int(s) for s in grid], "metrics": list(recorded), "seconds": seconds,
            "versions": run_versions(backend)}
    return Trace(grid, recorded, diverged_at, problem.constants(), meta)


def bilevel_rows(lo: int, count: int, *, problem, method, metrics, grid, x0, y0, seed: int, backend: str, dtype: str,
                 chunk: int):
    """The metric rows (host float64, (count, checkpoints)) of replicas lo..lo+count-1, chunk by chunk, and
    their oracle calls per checkpoint (one row per checkpoint, a column per kind of ``KINDS``): the unit
    of work of :func:`simulate_bilevel`, locally or on a worker.  ``x0``/``y0`` are one point or these
    replicas' rows.  Returns ``(rows, calls)`` for :func:`~convsim.engine.simulate.map_rows`."""
    xp = namespace(backend)
    dt = dtype_of(xp, dtype)
    recorded: dict[str, np.ndarray] = {}
    calls = []
    quiet = np.errstate(all="ignore") if backend_name(xp) != "cupy" else contextlib.nullcontext()
    with quiet:
        for first in range(0, count, chunk):
            n = min(chunk, count - first)
            x, y = (asarray(xp, np.broadcast_to(a if a.ndim == 1 else a[first:first + n], (n, a.shape[-1])), dt)
                    for a in (x0, y0))
            oracle = BilevelOracle(problem, ReplicaStreams(xp, seed, lo + first, n, dtype))
            rows, chunk_calls = _run_chunk(problem, method, metrics, xp, x, y, oracle, grid)
            calls.append(chunk_calls)
            for name, block in rows.items():
                recorded.setdefault(name, np.empty((count, grid.size)))[first:first + n] = block
    return recorded, _same_calls(calls, method)


def _same_calls(calls: list, method) -> np.ndarray:
    """The oracle calls of every chunk, which must agree: counts are per step, identical for every replica."""
    if any(not np.array_equal(calls[0], other) for other in calls[1:]):
        raise ConvsimError(f"method {method.name!r} made a different number of oracle calls in another chunk")
    return calls[0]


def _run_chunk(problem, method, metrics, xp, x, y, oracle, grid):
    state = method.init(x, y, oracle)
    fns = _resolve(problem, method, metrics, hasattr(state, "hg") and hasattr(state, "hg_x"))
    out = {name: xp.zeros((grid.size, x.shape[0]), dtype=x.dtype) for name in fns}
    calls = np.zeros((grid.size, len(KINDS)), dtype=np.int64)
    t = 0
    for c, target in enumerate(grid):
        while t < target:  # the hot loop: device work only
            state = method.step(state, oracle, t)
            t += 1
        px, py = method.point(state)
        for name, fn in fns.items():
            value = fn(problem, px, py, state)
            if c == 0:
                require(tuple(value.shape) == (x.shape[0],),
                        f"metric {name!r} returned shape {tuple(value.shape)}; expected ({x.shape[0]},)")
            out[name][c, :] = value
        calls[c] = [oracle.calls[k] for k in KINDS]
    return {name: to_numpy(v).T.astype(np.float64) for name, v in out.items()}, calls


def run_bilevel(ctx, problem: BilevelProblem, method: BilevelMethod, steps: int, replicas: int, **kw) -> Trace:
    """:func:`simulate_bilevel` under a claim's :class:`~convsim.Context`: its backend, dtype,
    seed, replica override, chunk size and executor, with the result cached by ``ctx.cached``.

    Starting points ``x0``/``y0`` of shape ``(R, d)`` must match the replica count after the
    context's override (``ctx.replicas or replicas``); they enter the cache key by content.
    """
    replicas = ctx.replicas or replicas
    kw.setdefault("seed", ctx.seed)
    problem, method = ctx.mutate(problem), ctx.mutate(method)
    starts = {k: kw.pop(k) for k in ("x0", "y0") if kw.get(k) is not None}
    config = {"simulator": "bilevel", "problem": problem.spec(), "method": method.spec(), "steps": steps,
              "replicas": replicas, **{k: array_digest(v) for k, v in starts.items()}}
    if ctx.chunk_size is not None:  # CLI --chunk-size, where the run does not set its own
        kw.setdefault("chunk_size", ctx.chunk_size)
    spread = ctx.spread(kw)  # executor or threads: no part of the result's key
    return ctx.cached(config, lambda: simulate_bilevel(problem, method, steps, replicas, backend=ctx.backend,
                                                       dtype=ctx.dtype, **spread, **kw, **starts), **kw)
