"""The batched simulation engine: R replicas of a method on a problem, as one leading axis."""

from __future__ import annotations

import contextlib
import copy
import os
import platform
import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
from array_api_compat import array_namespace

from ..version import __version__
from ..backend import asarray, backend_name, dtype_of, namespace, to_numpy
from ..errors import ConvsimError, finite_array, positive, require
from ..methods.base import Method, Oracle
from ..problems.base import Problem
from ..random import BLOCK, GENERATORS, ReplicaStreams, stream_family
from .batched import MethodGroups, SharedStreams
from .checkpoints import checkpoints
from .memory import require_memory
from .trace import Trace

MetricFn = Callable[[Problem, object], object]


@dataclass(frozen=True)
class StateMetric:
    """A metric that reads the method's state too: ``fn(problem, x, state)``, where ``x`` is
    ``method.point(state)`` (R, d) and ``state`` the method's explicit state for the same R rows (for
    example the particles of :class:`~convsim.zeroth_order.CBO`, shape (R, N, d)).  Give it wherever a
    metric function goes (``metrics={"name": StateMetric(fn)}``); it returns one value per row, like
    any metric.  A wrapper rather than a flag on ``fn``, so that the run's cache key tells the two kinds
    apart; it pickles whenever ``fn`` does (module-level functions for a process pool)."""

    fn: Callable

    def __post_init__(self):
        require(callable(self.fn), "StateMetric needs a function fn(problem, x, state)")

    def __call__(self, problem, x, state):
        return self.fn(problem, x, state)


def evaluate_metric(fn, problem, point, state):
    """The value of metric ``fn`` at a checkpoint: ``fn(problem, point)``, or for a
    :class:`StateMetric` ``fn(problem, point, state)``."""
    return fn(problem, point, state) if isinstance(fn, StateMetric) else fn(problem, point)


BUILTIN_METRICS: dict[str, tuple[str, MetricFn]] = {
    "suboptimality": ("f(x) - f*", lambda p, x: p.value(x) - p.f_star),
    "dist_sq": ("||x - x*||^2", lambda p, x: sum_sq(x - p.x_star_on(x))),
    "grad_norm_sq": ("||grad f(x)||^2", lambda p, x: sum_sq(p.grad(x))),
    "value": ("f(x)", lambda p, x: p.value(x)),
}

THREADED_BACKENDS = ("numpy", "array_api_strict", "torch")
"""Backends whose chunks run on a thread pool by default (CPU arrays; CPU PyTorch's own intra-op threads are
held at one while chunks run, see :data:`single_threaded_libraries`)."""

CHUNK_BYTES = {"numpy": 2**19, "array_api_strict": 2**19, "torch": 2**22, "cupy": 256 * 2**20,
               "torch-cuda": 256 * 2**20}
"""Default size of one chunk's iterate array.  On the CPU a chunk that fits in cache makes
every elementwise pass of a step cheap next to the sampler (measured in
benchmarks/throughput.py); eager torch pays more per operation, so its chunks are larger;
on a GPU large chunks keep the kernels busy."""


def sum_sq(v):
    """‖v‖² along the last axis, in the namespace of ``v``."""
    return array_namespace(v).sum(v * v, axis=-1)


def resolve_metrics(requested, default: list[str], builtin: dict, *, signature: str,
                    unavailable: Callable[[str], str | None] = lambda name: None) -> dict[str, Callable]:
    """Metric functions by name: ``requested`` is None (``default``), a name, a list of names, or a
    mapping name -> function (None for a built-in).  ``builtin[name] = (description, fn)``;
    ``unavailable(name)`` says why a built-in cannot be recorded here (a one-line error), or None."""
    if requested is None:
        requested = default
    if isinstance(requested, str):
        requested = [requested]
    items = requested.items() if isinstance(requested, Mapping) else ((m, None) for m in requested)
    resolved = {}
    for name, fn in items:
        if fn is not None:
            require(callable(fn), f"metric {name!r} must be callable as {signature}")
            resolved[name] = fn
            continue
        if name not in builtin:
            raise ConvsimError(f"unknown metric {name!r}; built-in metrics: {', '.join(builtin)}")
        why = unavailable(name)
        if why:
            raise ConvsimError(f"metric {name!r} {why}")
        resolved[name] = builtin[name][1]
    require(bool(resolved), "at least one metric must be recorded")
    return resolved


def _resolve_metrics(problem: Problem, metrics) -> dict[str, MetricFn]:
    default = [m for m, ok in (("suboptimality", problem.f_star is not None),
                               ("dist_sq", problem.x_star is not None), ("grad_norm_sq", True)) if ok]

    def unavailable(name):
        if name == "suboptimality" and problem.f_star is None:
            return f"needs f*, which problem {problem.name!r} does not know"
        if name == "dist_sq" and problem.x_star is None:
            return f"needs x*, which problem {problem.name!r} does not know"
        return None

    return resolve_metrics(metrics, default, BUILTIN_METRICS, signature="fn(problem, x) or StateMetric(fn)",
                           unavailable=unavailable)


def chunk_rows(replicas: int, dim: int, itemsize: int, chunk_size, backend: str) -> int:
    """Replicas per chunk: whole blocks of 64, sized to the cache (CPU) or to keep a GPU busy, unless given."""
    if chunk_size is None:
        chunk_size = max(1, CHUNK_BYTES.get(backend, CHUNK_BYTES["numpy"]) // max(1, dim * itemsize))
    chunk_size = positive("chunk_size", chunk_size, integer=True)
    chunk_size = max(BLOCK, chunk_size // BLOCK * BLOCK)  # whole random-stream blocks
    return min(chunk_size, -(-replicas // BLOCK) * BLOCK)


def run_versions(backend: str) -> dict:
    """Versions of what computed a run (convsim, Python, NumPy, SciPy and the backend's library)."""
    import scipy

    v = {"convsim": __version__, "python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
         "streams": stream_family()}
    if backend in ("torch", "torch-cuda"):
        import torch

        v["torch"] = torch.__version__
    if backend == "cupy":
        import cupy

        v["cupy"] = cupy.__version__
    return v


def default_threads(backend: str = "numpy", executor=None) -> int:
    """Threads a local run uses by default: the cores this process may run on (``os.sched_getaffinity``),
    or the environment's ``CONVSIM_THREADS`` (worker processes that share the cores set it to 1);
    1 when an executor distributes the chunks or on a GPU backend."""
    if executor is not None or backend not in THREADED_BACKENDS:
        return 1
    if os.environ.get("CONVSIM_THREADS"):
        return positive("CONVSIM_THREADS", int(os.environ["CONVSIM_THREADS"]), integer=True)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads, backend: str, executor) -> int:
    if threads is None:
        return default_threads(backend, executor)
    threads = positive("threads", threads, integer=True)
    require(executor is None or threads == 1, "give either an executor or threads > 1, not both")
    return threads


class _SingleThreadedLibraries:
    """BLAS, and CPU PyTorch's intra-op pool where torch is loaded, limited to one thread while any
    chunk of a run computes (a reentrant, thread-safe count).

    Chunks bring their own parallelism, and a library whose thread count changes with the load can
    split a product or a reduction differently and change its last bits: with the limit, the numbers
    do not depend on the chunk size, the thread count or other runs, and chunk threads do not
    oversubscribe the cores.  BLAS needs threadpoolctl (without it BLAS keeps its own threads; only
    matrix-product problems such as rotated quadratics call it); torch's limit is process-wide
    (``torch.set_num_threads``), restored when the last chunk ends.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._limiter = None
        self._torch_threads = None
        self._controller = None

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                self._limiter = self._limit()
                self._torch_threads = self._limit_torch()
            self._depth += 1

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                if self._limiter is not None:
                    self._limiter.restore_original_limits()
                    self._limiter = None
                if self._torch_threads is not None:
                    sys.modules["torch"].set_num_threads(self._torch_threads)
                    self._torch_threads = None

    @staticmethod
    def _limit_torch():
        """Torch's intra-op threads before the limit, or None where torch is not loaded (never imported here)."""
        torch = sys.modules.get("torch")
        if torch is None or not hasattr(torch, "set_num_threads"):
            return None
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        return before

    def _limit(self):
        if self._controller is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                self._controller = False
            else:
                self._controller = ThreadpoolController()  # scanning the loaded libraries once costs ~6 ms
        return self._controller.limit(limits=1, user_api="blas") if self._controller else None


single_threaded_libraries = _SingleThreadedLibraries()


def run_chunks(work: Callable[[int, int], object], replicas: int, chunk: int, threads: int = 1) -> list:
    """``[(lo, work(lo, count)) ...]`` for the chunks ``[lo, lo + count)`` of ``replicas`` rows, in order.

    With ``threads > 1`` the chunks run concurrently on a thread pool (NumPy's samplers and ufuncs
    release the GIL); since every chunk owns its random streams the results are those of the serial
    loop.  ``work`` must not share mutable host state between chunks (give each call its own copies)
    and should hold :data:`single_threaded_libraries` while it computes.
    The engine's row runner; the other simulators can run their chunks through it too."""
    ranges = [(lo, min(chunk, replicas - lo)) for lo in range(0, replicas, chunk)]
    threads = min(int(threads), len(ranges))
    if threads <= 1:
        return [(lo, work(lo, n)) for lo, n in ranges]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="convsim") as pool:
        futures = [(lo, pool.submit(work, lo, n)) for lo, n in ranges]
        return [(lo, f.result()) for lo, f in futures]


def submitter(executor):
    """The ``submit`` of a ``concurrent.futures`` executor, or of a ``dask.distributed.Client`` (through its
    ``concurrent.futures`` view, so results come back as ordinary futures)."""
    return (executor.get_executor() if hasattr(executor, "get_executor") else executor).submit


def map_rows(rows, replicas: int, chunk: int, executor=None, /, *, sliced: tuple = (), threads: int = 1, **kw):
    """Every replica's rows from ``rows(lo, count, **kw) -> (rows, extra)``, where ``rows`` maps names
    to host arrays with one row per replica ``lo..lo+count-1``; returns ``(rows of all replicas,
    [extra of each call])``.

    Without an executor it is one local call over all replicas, or with ``threads > 1`` one call per
    thread's share of whole random-stream blocks on a thread pool (:func:`run_chunks`; each call gets
    its own deep copy of ``kw``, so no host-side state is shared).  With an executor (a
    ``concurrent.futures`` executor, or a ``dask.distributed.Client``) it is one task per chunk of
    whole random-stream blocks, gathered in replica order: the split the engine's
    :func:`convsim.simulate` uses, so the numbers are the local ones bit for bit, and a worker holds
    one chunk and returns only its recorded rows.  Arguments named in ``sliced`` that hold one row
    per replica (2-d) travel as the task's rows only."""
    def task_args(lo, n):
        return {k: v[lo:lo + n] if k in sliced and np.ndim(v) == 2 else v for k, v in kw.items()}

    if executor is None and threads > 1:
        per_thread = -(-replicas // threads)
        share = min(chunk, -(-per_thread // BLOCK) * BLOCK)  # whole random-stream blocks

        # Copied here, before any thread runs: a running share may touch an original through a closure
        # (a term's lambda over the problem fills that problem's device cache), which must not happen
        # while another thread deep-copies it.
        copies = {lo: copy.deepcopy(task_args(lo, min(share, replicas - lo))) for lo in range(0, replicas, share)}

        def work(lo, n):
            with single_threaded_libraries:
                return rows(lo, n, **copies.pop(lo))

        done = run_chunks(work, replicas, share, threads)
    elif executor is None:
        part, extra = rows(0, replicas, **kw)
        return part, [extra]
    else:
        submit = submitter(executor)
        done = [(lo, submit(rows, lo, min(chunk, replicas - lo), **task_args(lo, chunk)))
                for lo in range(0, replicas, chunk)]
        done = [(lo, future.result()) for lo, future in done]
    out, extras = {}, []
    for lo, (part, extra) in done:
        extras.append(extra)
        for name, block in part.items():
            out.setdefault(name, np.empty((replicas, *block.shape[1:]), dtype=block.dtype))[lo:lo + len(block)] = block
    return out, extras


def simulate(problem: Problem, method: Method, steps: int, replicas: int = 1, *, record="log", metrics=None,
             seed: int = 0, backend: str = "numpy", dtype: str = "float64", chunk_size: int | None = None,
             x0=None, progress: bool = False, executor=None, threads: int | None = None,
             generator: str | None = None) -> Trace:
    """Run ``replicas`` independent copies of ``method`` on ``problem`` for ``steps`` steps.

    Metrics are evaluated only at the checkpoints given by ``record`` (see
    :func:`convsim.engine.checkpoints.checkpoints`) and stay on the device until a
    chunk of replicas finishes, so nothing syncs with the host in between.
    Replicas are processed in chunks of whole random-stream blocks to bound
    memory; the result does not depend on the chunk size.  Replicas whose metrics
    become non-finite are marked diverged (``Trace.diverged_at``).

    ``threads`` chunks run at once on a thread pool (default: the usable cores on the CPU
    backends, see :func:`default_threads`); the Trace is the serial one, bit for bit.  Each
    chunk gets its own copy of the method; the problem and metric functions are shared, so
    they must not keep mutable host state between calls (device caches of constants are fine).

    ``executor`` (a ``concurrent.futures`` executor, or a ``dask.distributed.Client``) runs
    the chunks on its workers instead: each returns only its rows of the metrics at the
    checkpoints, and the Trace is the one a local run gives, bit for bit (random streams
    belong to blocks of 64 replicas, never to a worker).  A process pool pickles its
    arguments: give metrics by name or as module-level functions (Dask also takes lambdas).
    A metric wrapped in :class:`StateMetric` is called as ``fn(problem, x, state)`` and sees the
    method's state (particles, buffers) besides its point.

    ``generator`` is where the random numbers come from (:data:`convsim.random.GENERATORS`): by
    default the NumPy streams on the CPU backends (CPU PyTorch too, so its runs match NumPy runs)
    and the device's own generators on CUDA; ``"torch"`` draws a CPU PyTorch run from one
    ``torch.Generator`` per block: other numbers (reproducible, chunk-invariant), and float32
    normals about twice as fast as NumPy's.
    """
    require(isinstance(method, Method), f"expected a convsim Method, got {type(method).__name__}")
    return _simulate(problem, method, steps, replicas, record=record, metrics=metrics, seed=seed, backend=backend,
                     dtype=dtype, chunk_size=chunk_size, x0=x0, progress=progress, executor=executor,
                     threads=threads, generator=generator)[0]


def simulate_points(problem: Problem, methods, steps: int, replicas: int = 1, **options) -> list[Trace]:
    """``[simulate(problem, m, steps, replicas, **options) for m in methods]`` as ONE batched run.

    The methods must be of one kind and differ only in numeric hyperparameters (step sizes,
    momenta, schedule constants): the G points then run as G·R rows, every random number is
    drawn once and shared by the G points (they have the same seed), and each hyperparameter
    is a value per group of rows (:mod:`convsim.engine.batched`).  Every Trace equals the
    point's own run bit for bit; :class:`~convsim.engine.batched.NotBatchable` is raised when
    that cannot be guaranteed (the caller then runs the points one by one, as ``sweep`` does).
    """
    methods = list(methods)
    require(bool(methods) and all(isinstance(m, Method) for m in methods), "simulate_points needs convsim Methods")
    groups = MethodGroups.of(methods)
    if not groups.leaves:  # the same method G times: one run, G copies of its Trace
        trace = simulate(problem, methods[0], steps, replicas, **options)
        return [copy.deepcopy(trace) for _ in methods]
    traces = _simulate(problem, groups, steps, replicas, **options)
    for trace, m in zip(traces, methods):
        trace.meta["method"] = m.spec()
    return traces


def _simulate(problem, method, steps, replicas, *, record="log", metrics=None, seed=0, backend="numpy",
              dtype="float64", chunk_size=None, x0=None, progress=False, executor=None, threads=None,
              generator=None) -> list[Trace]:
    """The run of :func:`simulate` (a Method) or :func:`simulate_points` (MethodGroups: a Trace per group)."""
    require(isinstance(problem, Problem), f"expected a convsim Problem, got {type(problem).__name__}")
    replicas = positive("replicas", replicas, integer=True)
    require(isinstance(seed, (int, np.integer)) and seed >= 0, f"seed must be a non-negative integer, got {seed!r}")
    xp = namespace(backend)
    dtype_of(xp, dtype)
    allowed = GENERATORS.get(backend_name(xp), ("numpy",))
    require(generator is None or generator in allowed,
            f"backend {backend_name(xp)!r} cannot draw from {generator!r} generators (it can: {', '.join(allowed)})")
    threads = resolve_threads(threads, backend_name(xp), executor)
    grid = checkpoints(steps, record)
    steps = int(grid[-1])
    metric_fns = _resolve_metrics(problem, metrics)
    d = int(problem.dim)
    start_point = finite_array("x0", problem.initial_point() if x0 is None else x0)
    require(start_point.shape in ((d,), (replicas, d)),
            f"x0 must have shape ({d},) or ({replicas}, {d}), got {start_point.shape}")
    G = method.groups if isinstance(method, MethodGroups) else 1
    itemsize = np.dtype(dtype).itemsize
    chunk = chunk_rows(replicas, d * G, itemsize, chunk_size, backend_name(xp))  # G·chunk rows in flight
    if chunk_size is None and threads > 1:  # a chunk per thread at least (chunks never change the numbers)
        chunk = min(chunk, -(-replicas // (threads * BLOCK)) * BLOCK)
    # host results (float64) plus a chunk's iterates, state and temporaries (about 16 copies) per thread
    require_memory(8.0 * G * replicas * grid.size * len(metric_fns) + 16.0 * threads * G * chunk * d * itemsize,
                   f"a run of {G * replicas} replicas x {grid.size} checkpoints x {len(metric_fns)} metrics (d = {d})")

    recorded = [{name: np.empty((replicas, grid.size)) for name in metric_fns} for _ in range(G)]
    n_chunks = -(-replicas // chunk)
    rows_of = dict(metrics=metrics, seed=seed, backend=backend, dtype=dtype, chunk=chunk, generator=generator)
    began = time.perf_counter()
    if executor is None:
        bar = _progress(progress, steps * n_chunks)

        # one copy of the method's host-side state per thread, made before any thread runs (see map_rows)
        # and handed from chunk to chunk, as the serial loop reuses the method itself
        owns = None
        if threads > 1:
            owns = queue.SimpleQueue()
            for _ in range(min(threads, n_chunks)):
                owns.put(copy.deepcopy(method))

        def work(lo, n):
            own = method if owns is None else owns.get()
            try:
                return simulate_rows(problem, own, grid, lo, n, start_point=_rows(start_point, lo, n), bar=bar,
                                     **rows_of)
            finally:
                if owns is not None:
                    owns.put(own)

        # held here too, so the limits are set once for the run, not once per chunk
        with single_threaded_libraries if backend_name(xp) in THREADED_BACKENDS else contextlib.nullcontext():
            results = run_chunks(work, replicas, chunk, threads)
        if bar is not None:
            bar.close()
    else:
        submit = submitter(executor)
        futures = [(lo, submit(simulate_rows, problem, method, grid, lo, min(chunk, replicas - lo),
                               start_point=_rows(start_point, lo, chunk), **rows_of))
                   for lo in range(0, replicas, chunk)]
        results = [(lo, future.result()) for lo, future in futures]
    for lo, rows in results:
        for name, block in rows.items():
            for g in range(G):
                recorded[g][name][lo:lo + block.shape[-2]] = block[g] if G > 1 else block
    seconds = time.perf_counter() - began

    traces = []
    for g in range(G):
        diverged_at = divergence_steps(recorded[g], grid)
        meta = {
            "problem": problem.spec(), "method": (method.template if G > 1 else method).spec(), "steps": steps,
            "replicas": replicas, "seed": int(seed), "backend": backend, "dtype": dtype, "chunk_size": chunk,
            "record": [int(s) for s in grid], "metrics": list(metric_fns), "seconds": seconds / G,
            "versions": run_versions(backend),
        }
        if generator is not None:
            meta["generator"] = generator
        if threads > 1:
            meta["threads"] = threads
        traces.append(Trace(grid, recorded[g], diverged_at, problem.constants(), meta))
    return traces


def _rows(start_point, lo, n):
    return start_point if start_point.ndim == 1 else start_point[lo:lo + n]


def simulate_rows(problem: Problem, method, grid: np.ndarray, lo: int, count: int, *, metrics, seed: int,
                  backend: str, dtype: str, chunk: int, start_point: np.ndarray, bar=None,
                  generator: str | None = None) -> dict:
    """The metric rows (host float64, shape (count, checkpoints)) of replicas lo..lo+count-1, chunk by chunk.

    The unit of work of :func:`simulate`, locally or on a worker: replica r always draws from
    the stream of its block of 64, so any split into such ranges gives the same numbers.
    ``start_point`` is one point (d,) or the rows (count, d) of these replicas.  For
    :class:`~convsim.engine.batched.MethodGroups` (G methods) the rows have shape (G, count, checkpoints).
    """
    xp = namespace(backend)
    dt = dtype_of(xp, dtype)
    metric_fns = _resolve_metrics(problem, metrics)
    d = int(problem.dim)
    G = method.groups if isinstance(method, MethodGroups) else 1
    out = {name: np.empty((G, count, grid.size)) for name in metric_fns}
    on_cpu = backend_name(xp) in THREADED_BACKENDS
    quiet = np.errstate(all="ignore") if backend_name(xp) != "cupy" else contextlib.nullcontext()
    with quiet, (single_threaded_libraries if on_cpu else contextlib.nullcontext()):
        for start in range(0, count, chunk):
            n = min(chunk, count - start)
            x_init = start_point if start_point.ndim == 1 else start_point[start:start + n]
            # a C-ordered start on every backend (asarray of a broadcast view would keep its column order)
            host = np.empty((G, n, d), dtype=np.dtype(dtype))
            host[...] = x_init
            x = asarray(xp, host.reshape(G * n, d), dt)
            streams = ReplicaStreams(xp, seed, lo + start, n, dtype, generator=generator)
            if G > 1:
                chunk_method, rng = method.bind(n), SharedStreams(streams, G)
            else:
                chunk_method, rng = method, streams
            rows = _run_chunk(problem, chunk_method, metric_fns, xp, x, rng, grid, bar,
                              check_shapes=(lo + start == 0))
            for name, block in rows.items():
                out[name][:, start:start + n] = block.reshape(G, n, grid.size)
    return out if G > 1 else {name: v[0] for name, v in out.items()}


def _run_chunk(problem, method, metric_fns, xp, x, rng, grid, bar, check_shapes):
    oracle = Oracle(problem, rng)
    if check_shapes:  # on a throw-away stream, so the run's random numbers stay chunk-invariant
        _check_problem_shapes(problem, x, Oracle(problem, ReplicaStreams(xp, 2**32 + 1, 0, x.shape[0], rng.dtype_name)))
    out = {name: xp.zeros((grid.size, x.shape[0]), dtype=x.dtype) for name in metric_fns}
    state = method.init(x)
    c, t = 0, 0
    for c, target in enumerate(grid):
        while t < target:  # the hot loop: device work only
            state = method.step(state, oracle, t)
            t += 1
        point = method.point(state)
        for name, fn in metric_fns.items():
            value = evaluate_metric(fn, problem, point, state)
            if c == 0:
                shape = shape_of(value, f"metric {name!r}")
                require(shape == (x.shape[0],), f"metric {name!r} returned shape {shape}; expected ({x.shape[0]},)")
            out[name][c, :] = value
        if bar is not None:
            bar.update(int(target - (grid[c - 1] if c else 0)))
    return {name: to_numpy(v).T.astype(np.float64) for name, v in out.items()}


def shape_of(value, what: str) -> tuple:
    """The shape of an array a user function returned; a one-line error for a scalar, list or None."""
    shape = getattr(value, "shape", None)
    if shape is None or not hasattr(value, "dtype"):
        raise ConvsimError(f"{what} returned a {type(value).__name__}; it must return an array of the "
                           "input's namespace (one value per replica)")
    return tuple(shape)


def _check_problem_shapes(problem, x, oracle):
    R, d = x.shape
    for what, fn in (("value", lambda: problem.value(x)), ("grad", lambda: problem.grad(x)),
                     ("stochastic_grad", lambda: oracle.stochastic_grad(x))):
        shape = shape_of(fn(), f"problem {problem.name!r}: {what}")
        expected = (R,) if what == "value" else (R, d)
        require(shape == expected, f"problem {problem.name!r}: {what} returned shape {shape} for a batch of "
                                   f"shape {(R, d)}; expected {expected}")


DIVERGENCE_FACTOR = 1e20
"""A replica has diverged once a metric is non-finite or exceeds ``DIVERGENCE_FACTOR × max(1, |its
value at the first checkpoint|)``: a threshold both float32 and float64 can represent, so the two
dtypes count the same replicas as diverged instead of one overflowing and the other not."""


def divergence_threshold(first: np.ndarray) -> np.ndarray:
    return DIVERGENCE_FACTOR * np.maximum(1.0, np.abs(np.nan_to_num(first, nan=0.0, posinf=0.0, neginf=0.0)))


def divergence_steps(recorded: dict, grid: np.ndarray) -> np.ndarray:
    """The checkpoint step at which each replica diverged (-1: never), NaN-ing its metrics from there on."""
    bad = np.zeros(next(iter(recorded.values())).shape, dtype=bool)
    for v in recorded.values():
        with np.errstate(invalid="ignore"):
            bad |= ~np.isfinite(v) | (np.abs(v) > divergence_threshold(v[:, :1]))
    first = np.where(bad.any(axis=1), bad.argmax(axis=1), -1)
    for v in recorded.values():  # a diverged replica stays diverged
        v[np.arange(v.shape[1])[None, :] >= np.where(first < 0, v.shape[1], first)[:, None]] = np.nan
    return np.where(first >= 0, grid[np.maximum(first, 0)], -1).astype(np.int64)


def _progress(enabled: bool, total: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", leave=False, disable=None)

