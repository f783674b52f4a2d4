"""Batched online convex optimization runs: R replicas × T rounds, regret recorded at checkpoints."""

from __future__ import annotations

import time

import numpy as np

from ..backend import backend_name, dtype_of, namespace, to_numpy
from ..engine.checkpoints import checkpoints
from ..engine.simulate import divergence_steps, map_rows, resolve_threads, run_versions
from ..engine.trace import Series, Trace
from ..errors import ConvsimError, positive
from ..random import BLOCK, ReplicaStreams


def simulate_online(losses, learner, rounds: int, replicas: int = 1, *, record="log", seed: int = 0,
                    backend: str = "numpy", dtype: str = "float64", chunk_size: int | None = None,
                    executor=None, threads: int | None = None) -> Trace:
    """Play ``learner`` on the loss sequence ``losses`` (e.g. :class:`SEAQuadratic`) for ``rounds`` rounds.

    Metrics at each checkpoint t:
      ``regret``          Σ_{s≤t} f_s(x_s) − min_{x ∈ domain} Σ_{s≤t} f_s(x)   (the comparator exact);
      ``dynamic_regret``  Σ_{s≤t} [f_s(x_s) − min_{x ∈ domain} f_s(x)]          (per-round minimizers);
      ``sigma2``, ``Sigma2``  the cumulative stochastic variance σ²_{1:t} and adversarial
                          variation Σ²_{1:t} of the sequence (closed forms; equal across replicas).

    ``executor`` (a ``concurrent.futures`` executor or a ``dask.distributed.Client``) plays the
    chunks of replicas on its workers, with the Trace of a local run bit for bit (see
    :func:`convsim.engine.simulate.map_rows`); without one the chunks run on ``threads`` threads
    (default: the usable cores), with the same numbers.
    """
    rounds = positive("rounds", rounds, integer=True)
    replicas = positive("replicas", replicas, integer=True)
    dtype_of(namespace(backend), dtype)  # an unknown backend or dtype: a one-line error before any work
    grid = checkpoints(rounds, record)
    chunk = max(BLOCK, (chunk_size or 4096) // BLOCK * BLOCK)
    began = time.perf_counter()
    threads = resolve_threads(threads, backend_name(namespace(backend)), executor)
    out, _ = map_rows(online_rows, replicas, chunk, executor, threads=threads, losses=losses, learner=learner,
                      grid=grid, seed=seed, backend=backend, dtype=dtype, chunk=chunk)
    div = divergence_steps(out, grid)
    out["sigma2"] = np.broadcast_to(losses.sigma2_cumulative(grid), (replicas, grid.size)).copy()
    out["Sigma2"] = np.broadcast_to(losses.Sigma2_cumulative(grid), (replicas, grid.size)).copy()
    meta = {"losses": losses.spec(), "learner": learner.spec(), "rounds": rounds, "replicas": replicas, "seed": seed,
            "backend": backend, "dtype": dtype, "seconds": time.perf_counter() - began, "versions": run_versions(backend),
            "metrics": list(out)}
    return Trace(grid, out, div, {**losses.constants(), "horizon": rounds}, meta)


def online_rows(lo: int, count: int, *, losses, learner, grid, seed: int, backend: str, dtype: str, chunk: int):
    """The ``regret`` and ``dynamic_regret`` rows (host float64, (count, checkpoints)) of replicas
    lo..lo+count-1, chunk by chunk: the unit of work of :func:`simulate_online`, locally or on a
    worker.  Returns ``(rows, None)`` for :func:`~convsim.engine.simulate.map_rows`."""
    xp = namespace(backend)
    dt = dtype_of(xp, dtype)
    domain = losses.domain
    out = {k: np.empty((count, grid.size)) for k in ("regret", "dynamic_regret")}
    for first in range(0, count, chunk):
        n = min(chunk, count - first)
        rng = ReplicaStreams(xp, seed, lo + first, n, dtype)
        state = learner.init(n, domain, xp, dt)
        B = xp.zeros((n, domain.d), dtype=dt)  # Σ_{s≤t} b_s: the cumulative loss is (t a/2)‖x‖² + ⟨B, x⟩
        total = xp.zeros((n,), dtype=dt)
        dynamic = xp.zeros((n,), dtype=dt)
        rec = {k: xp.zeros((grid.size, n), dtype=dt) for k in out}
        t = 0
        for c, target in enumerate(grid):
            while t < target:
                b = losses.linear_term(xp, rng, t + 1, dt)
                loss = losses.value(state.x, b, xp)
                total = total + loss
                dynamic = dynamic + loss - losses.best_value(1, b, xp)
                B = B + b
                state = learner.update(state, losses.grad(state.x, b), t, xp, domain)
                t += 1
            rec["regret"][c, :] = total - losses.best_value(t, B, xp) if t else total
            rec["dynamic_regret"][c, :] = dynamic
        for k in out:
            out[k][first:first + n] = to_numpy(rec[k]).T
    return out, None


def against(trace: Trace, metric: str = "regret", x: str = "sigma2", window=None) -> Series:
    """The metric against a cumulative SEA quantity (``"sigma2"``: σ²_{1:t}, ``"Sigma2"``: Σ²_{1:t},
    ``"variation"``: their sum) at the checkpoints where it is positive, for the checkers."""
    if x == "variation":
        xs = trace.values("sigma2")[0] + trace.values("Sigma2")[0]
    elif x in ("sigma2", "Sigma2"):
        xs = trace.values(x)[0]
    else:
        raise ConvsimError(f"unknown abscissa {x!r}; use 'sigma2', 'Sigma2' or 'variation'")
    keep = xs > 0
    return Series(xs[keep], trace.values(metric)[:, keep], x, metric, trace.diverged_at, trace.constants)


def run(ctx, losses, learner, rounds: int, replicas: int, **kw) -> Trace:
    """:func:`simulate_online` under a claim's :class:`convsim.Context` (backend, dtype, seed,
    replica override, chunk size, executor), stored and reused through ``ctx.cached``."""
    replicas = ctx.replicas or replicas
    kw.setdefault("seed", ctx.seed)
    losses, learner = ctx.mutate(losses), ctx.mutate(learner)
    config = {"simulator": "online", "losses": losses.spec(), "learner": learner.spec(), "rounds": rounds,
              "replicas": replicas}
    if ctx.chunk_size is not None:  # CLI --chunk-size, where the run does not set its own
        kw.setdefault("chunk_size", ctx.chunk_size)
    spread = ctx.spread(kw)  # executor or threads: no part of the result's key
    return ctx.cached(config, lambda: simulate_online(losses, learner, rounds, replicas, backend=ctx.backend,
                                                      dtype=ctx.dtype, **spread, **kw), **kw)
