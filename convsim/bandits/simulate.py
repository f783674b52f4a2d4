"""Batched bandit runs: R replicas × T rounds, regret recorded at checkpoints."""

from __future__ import annotations

import time

import numpy as np

from ..backend import dtype_of, namespace, to_numpy
from ..engine.checkpoints import checkpoints
from ..engine.simulate import divergence_steps, run_versions
from ..engine.trace import Trace
from ..errors import ConvsimError, positive
from ..random import BLOCK, ReplicaStreams


def simulate_bandit(env, learner, rounds: int, replicas: int = 1, *, record="log", seed: int = 0,
                    backend: str = "numpy", dtype: str = "float64", chunk_size: int | None = None) -> Trace:
    """Play ``learner`` against ``env`` for ``rounds`` rounds in ``replicas`` independent replicas.

    Metrics: ``regret`` — for stochastic environments the pseudo-regret Σ_t Δ_{a_t}; for
    an oblivious adversary the regret against the best fixed arm in hindsight,
    max_k Σ_{s≤t} x_{s,k} − Σ_{s≤t} x_{s,a_s}; ``reward``, the cumulative reward; and for an
    oblivious adversary ``dynamic_regret``, against the best arm of every round,
    Σ_{s≤t} max_k x_{s,k} − Σ_{s≤t} x_{s,a_s}.
    """
    rounds = positive("rounds", rounds, integer=True)
    replicas = positive("replicas", replicas, integer=True)
    xp = namespace(backend)
    dt = dtype_of(xp, dtype)
    grid = checkpoints(rounds, record)
    K = env.arms
    chunk = max(BLOCK, (chunk_size or 4096) // BLOCK * BLOCK)
    out = {"regret": np.empty((replicas, grid.size)), "reward": np.empty((replicas, grid.size))}
    adversarial = env.expected(xp, xp.zeros((1,), dtype=xp.int64), dt) is None
    best_cum = np.zeros(grid.size)
    if adversarial:  # best fixed arm in hindsight, per checkpoint
        if rounds > env.table.shape[0]:
            raise ConvsimError(f"the adversary's table has {env.table.shape[0]} rounds; {rounds} asked")
        cums = np.vstack([np.zeros(K), np.cumsum(env.table[:rounds], axis=0)])
        best_cum = cums[grid].max(axis=1)
    best_mean = None if adversarial else max(env.means)
    began = time.perf_counter()
    for lo in range(0, replicas, chunk):
        count = min(chunk, replicas - lo)
        rng = ReplicaStreams(xp, seed, lo, count, dtype)
        state = learner.init(count, K, xp, dt)
        pseudo = xp.zeros((count,), dtype=dt)
        total = xp.zeros((count,), dtype=dt)
        rec_r, rec_g = xp.zeros((grid.size, count), dtype=dt), xp.zeros((grid.size, count), dtype=dt)
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
        out["regret"][lo:lo + count] = to_numpy(rec_r).T
        out["reward"][lo:lo + count] = to_numpy(rec_g).T
    if adversarial:
        best_each = np.concatenate([[0.0], np.cumsum(env.table[:rounds].max(axis=1))])
        out["dynamic_regret"] = best_each[grid][None, :] - out["reward"]
    meta = {"environment": env.spec(), "learner": learner.spec(), "rounds": rounds, "replicas": replicas, "seed": seed,
            "backend": backend, "dtype": dtype, "seconds": time.perf_counter() - began, "versions": run_versions(backend),
            "metrics": list(out)}
    return Trace(grid, out, divergence_steps(out, grid), {**env.constants(), "horizon": rounds}, meta)
