"""Batched online convex optimization runs: R replicas × T rounds, regret recorded at checkpoints."""

from __future__ import annotations

import time

import numpy as np

from ..backend import dtype_of, namespace, to_numpy
from ..engine.checkpoints import checkpoints
from ..engine.simulate import divergence_steps, run_versions
from ..engine.trace import Series, Trace
from ..errors import ConvsimError, positive
from ..random import BLOCK, ReplicaStreams


def simulate_online(losses, learner, rounds: int, replicas: int = 1, *, record="log", seed: int = 0,
                    backend: str = "numpy", dtype: str = "float64", chunk_size: int | None = None) -> Trace:
    """Play ``learner`` on the loss sequence ``losses`` (e.g. :class:`SEAQuadratic`) for ``rounds`` rounds.

    Metrics at each checkpoint t:
      ``regret``          Σ_{s≤t} f_s(x_s) − min_{x ∈ domain} Σ_{s≤t} f_s(x)   (the comparator exact);
      ``dynamic_regret``  Σ_{s≤t} [f_s(x_s) − min_{x ∈ domain} f_s(x)]          (per-round minimizers);
      ``sigma2``, ``Sigma2``  the cumulative stochastic variance σ²_{1:t} and adversarial
                          variation Σ²_{1:t} of the sequence (closed forms; equal across replicas).
    """
    rounds = positive("rounds", rounds, integer=True)
    replicas = positive("replicas", replicas, integer=True)
    xp = namespace(backend)
    dt = dtype_of(xp, dtype)
    grid = checkpoints(rounds, record)
    domain = losses.domain
    chunk = max(BLOCK, (chunk_size or 4096) // BLOCK * BLOCK)
    out = {k: np.empty((replicas, grid.size)) for k in ("regret", "dynamic_regret")}
    began = time.perf_counter()
    for lo in range(0, replicas, chunk):
        count = min(chunk, replicas - lo)
        rng = ReplicaStreams(xp, seed, lo, count, dtype)
        state = learner.init(count, domain, xp, dt)
        B = xp.zeros((count, domain.d), dtype=dt)  # Σ_{s≤t} b_s: the cumulative loss is (t a/2)‖x‖² + ⟨B, x⟩
        total = xp.zeros((count,), dtype=dt)
        dynamic = xp.zeros((count,), dtype=dt)
        rec = {k: xp.zeros((grid.size, count), dtype=dt) for k in out}
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
            out[k][lo:lo + count] = to_numpy(rec[k]).T
    div = divergence_steps(out, grid)
    out["sigma2"] = np.broadcast_to(losses.sigma2_cumulative(grid), (replicas, grid.size)).copy()
    out["Sigma2"] = np.broadcast_to(losses.Sigma2_cumulative(grid), (replicas, grid.size)).copy()
    meta = {"losses": losses.spec(), "learner": learner.spec(), "rounds": rounds, "replicas": replicas, "seed": seed,
            "backend": backend, "dtype": dtype, "seconds": time.perf_counter() - began, "versions": run_versions(backend),
            "metrics": list(out)}
    return Trace(grid, out, div, {**losses.constants(), "horizon": rounds}, meta)


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
    replica override), stored and reused through ``ctx.cached``."""
    replicas = ctx.replicas or replicas
    kw.setdefault("seed", ctx.seed)
    losses, learner = ctx.mutate(losses), ctx.mutate(learner)
    config = {"simulator": "online", "losses": losses.spec(), "learner": learner.spec(), "rounds": rounds,
              "replicas": replicas}
    return ctx.cached(config, lambda: simulate_online(losses, learner, rounds, replicas, backend=ctx.backend,
                                                      dtype=ctx.dtype, **kw), **kw)
