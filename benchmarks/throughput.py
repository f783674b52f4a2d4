"""Throughput of the batched engine against the floor set by the normal sampler.

SGD and Adam on a diagonal quadratic with additive Gaussian noise need one
standard normal per coordinate and step, so the backend's normal sampler alone
bounds their throughput.  This script measures, in one run, replica·dimension
updates per second of SGD, Adam, AdaBelief, Adan and Sophia (Gaussian Hutchinson
probe every k = 10 steps) and samples per second of the sampler at R·d = 10^6,
and prints the ratios.

    python benchmarks/throughput.py [--replicas 1000] [--dim 1000] [--steps 200] [--backend numpy] [--threads N]

``--threads`` is the engine's thread count (default: the usable cores); the sampler rows are
one thread, so a ratio above 1 is the thread pool at work.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import convsim as cs
from convsim.random import ReplicaStreams


def best_times(fns: dict, repeats: int, warmup: bool = False) -> dict:
    """Best wall time of each function over ``repeats`` interleaved rounds (machines are noisy),
    after one untimed round with ``warmup`` (lazy initialisation: optimizer state, JIT, thread pools)."""
    for fn in fns.values() if warmup else ():
        fn()
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args(argv)
    R, d, T = a.replicas, a.dim, a.steps
    xp = cs.backend.namespace(a.backend)
    sync = (lambda: __import__("cupy").cuda.Device().synchronize()) if a.backend == "cupy" else (lambda: None)

    if a.backend == "cupy":
        import cupy

        gen = cupy.random.default_rng(0)
        raw = lambda: [gen.standard_normal((R, d), dtype=a.dtype) for _ in range(T)] and sync()
    else:
        gen, buf = np.random.default_rng(0), np.empty((R, d), dtype=a.dtype)
        raw = lambda: [gen.standard_normal(out=buf, dtype=a.dtype) for _ in range(T)]
    streams = ReplicaStreams(xp, 0, 0, R, a.dtype)
    blocked = lambda: [streams.normal(d) for _ in range(T)] and sync()

    problem = cs.problems.Quadratic(cs.spectra.geometric(d, 1.0, 1e-3), noise=cs.noise.Gaussian(0.1))
    methods = {"sgd": cs.methods.SGD(0.1), "adam": cs.methods.Adam(1e-3),
               "sgd+momentum": cs.methods.SGD(0.1, momentum=0.9), "adabelief": cs.methods.AdaBelief(1e-3),
               "adan": cs.methods.Adan(1e-3), "sophia (hutchinson, k=10)": cs.methods.Sophia(1e-3)}
    run = lambda m: lambda: cs.simulate(problem, m, T, R, record=[T], metrics=["dist_sq"], backend=a.backend, dtype=a.dtype,
                                          threads=a.threads)

    fns = {"normal sampler (floor)": raw, "convsim block streams": blocked, **{n: run(m) for n, m in methods.items()}}
    rows = [(name, R * d * T / seconds) for name, seconds in best_times(fns, a.repeats).items()]
    floor = rows[0][1]
    threads = a.threads or cs.engine.default_threads(a.backend)
    print(f"backend={a.backend} dtype={a.dtype} replicas={R} dim={d} (R*d={R * d:.0e}) steps={T} threads={threads}")
    print(f"{'what':<24} {'per second':>14} {'ratio to floor':>15}")
    for name, rate in rows:
        print(f"{name:<24} {rate:>14.3e} {rate / floor:>15.3f}")


if __name__ == "__main__":
    main()
