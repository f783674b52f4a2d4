"""Batched bandit runs: R replicas × T rounds, regret recorded at checkpoints."""

from __future__ import annotations

import time

import numpy as np

from ..backend import backend_name, dtype_of, namespace, to_numpy
from ..engine.checkpoints import checkpoints
from ..engine.simulate import divergence_steps, map_rows, resolve_threads, run_versions
from ..engine.trace import Trace
from ..errors import ConvsimError, positive
from ..random import BLOCK, ReplicaStreams


def simulate_bandit(env, learner, rounds: int, replicas: int = 1, *, record="log", seed: int = 0,
                    backend: str = "numpy", dtype: str = "float64", chunk_size: int | None = None,
                    executor=None, threads: int | None = None) -> Trace:
    """Play ``learner`` against ``env`` for ``rounds`` rounds in ``replicas`` independent replicas.

    Metrics: ``regret`` — for stochastic environments the pseudo-regret Σ_t Δ_{a_t}; for
    an oblivious adversary the regret against the best fixed arm in hindsight,
    max_k Σ_{s≤t} x_{s,k} − Σ_{s≤t} x_{s,a_s}; ``reward``, the cumulative reward; and for an
    oblivious adversary ``dynamic_regret``, against the best arm of every round,
    Σ_{s≤t} max_k x_{s,k} − Σ_{s≤t} x_{s,a_s}.  ``executor`` (a ``concurrent.futures`` executor or a
    ``dask.distributed.Client``) plays the chunks of replicas on its workers, with the Trace of a
    local run bit for bit (see :func:`convsim.engine.simulate.map_rows`); without one the chunks run on
    ``threads`` threads (default: the usable cores), with the same numbers.
    """
    rounds = positive("rounds", rounds, integer=True)
    replicas = positive("replicas", replicas, integer=True)
    xp = namespace(backend)
    dt = dtype_of(xp, dtype)
    grid = checkpoints(rounds, record)
    K = env.arms
    chunk = max(BLOCK, (chunk_size or 4096) // BLOCK * BLOCK)
    adversarial = env.expected(xp, xp.zeros((1,), dtype=xp.int64), dt) is None
    best_cum = np.zeros(grid.size)
    if adversarial:  # best fixed arm in hindsight, per checkpoint
        if rounds > env.table.shape[0]:
            raise ConvsimError(f"the adversary's table has {env.table.shape[0]} rounds; {rounds} asked")
        cums = np.vstack([np.zeros(K), np.cumsum(env.table[:rounds], axis=0)])
        best_cum = cums[grid].max(axis=1)
    began = time.perf_counter()
    threads = resolve_threads(threads, backend_name(xp), executor)
    out, _ = map_rows(bandit_rows, replicas, chunk, executor, threads=threads, env=env, learner=learner, grid=grid,
                      best_cum=best_cum, seed=seed, backend=backend, dtype=dtype, chunk=chunk)
    if adversarial:
        best_each = np.concatenate([[0.0], np.cumsum(env.table[:rounds].max(axis=1))])
        out["dynamic_regret"] = best_each[grid][None, :] - out["reward"]
    meta = {"environment": env.spec(), "learner": learner.spec(), "rounds": rounds, "replicas": replicas, "seed": seed,
            "backend": backend, "dtype": dtype, "seconds": time.perf_counter() - began, "versions": run_versions(backend),
            "metrics": list(out)}
    return Trace(grid, out, divergence_steps(out, grid), {**env.constants(), "horizon": rounds}, meta)


def bandit_rows(lo: int, count: int, *, env, learner, grid, best_cum, seed: int, backend: str, dtype: str, chunk: int):
    """The ``regret`` and ``reward`` rows (host float64, (count, checkpoints)) of replicas lo..lo+count-1,
    chunk by chunk: the unit of work of :func:`simulate_bandit`, locally or on a worker.  ``best_cum``
    is the best fixed arm's cumulative reward at each checkpoint (an oblivious adversary; else unused).
    Returns ``(rows, None)`` for :func:`~convsim.engine.simulate.map_rows`."""
    xp = namespace(backend)
    dt = dtype_of(xp, dtype)
    K = env.arms
    adversarial = env.expected(xp, xp.zeros((1,), dtype=xp.int64), dt) is None
    best_mean = None if adversarial else max(env.means)
    out = {"regret": np.empty((count, grid.size)), "reward": np.empty((count, grid.size))}
    for first in range(0, count, chunk):
        n = min(chunk, count - first)
        rng = ReplicaStreams(xp, seed, lo + first, n, dtype)
        state = learner.init(n, K, xp, dt)
        pseudo = xp.zeros((n,), dtype=dt)
        total = xp.zeros((n,), dtype=dt)
        rec_r, rec_g = xp.zeros((grid.size, n), dtype=dt), xp.zeros((grid.size, n), dtype=dt)
        t = 0
        for c, target in enumerate(grid):
            while t < target:
                arms = learner.select(state, rng, t, xp)
                rewards = env.rewards(xp, rng, arms, t)
                state = learner.update(state, arms, rewards, t, xp)
                total = total + rewards
                if not adversarial:
                    pseudo = pseudo + (best_mean - env.expected(xp, arms, dt))
                t += 1
            rec_r[c, :] = (float(best_cum[c]) - total) if adversarial else pseudo  # a host float: any backend
            rec_g[c, :] = total
        out["regret"][first:first + n] = to_numpy(rec_r).T
        out["reward"][first:first + n] = to_numpy(rec_g).T
    return out, None
