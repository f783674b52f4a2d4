"""Throughput of local SGD and gossip D-SGD over a worker axis against the normal sampler's floor.

Every step draws one standard normal per worker, replica and coordinate, so the sampler alone bounds
the throughput; this script measures worker·replica·dimension updates per second of local SGD
(H = 8), D-SGD on a ring and on a complete graph (a dense M×M mix per step), and samples per second
of the sampler for the same (R, M, d) shape, and prints the ratios.

    python benchmarks/distributed_methods.py [--replicas 256] [--workers 16] [--dim 64] [--steps 100] [--backend numpy]
"""

from __future__ import annotations

import argparse
import time

import convsim as cs
from convsim.distributed import GossipSGD, LocalSGD, WorkerQuadratics, graphs
from convsim.random import ReplicaStreams


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=256)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    R, M, d, T = a.replicas, a.workers, a.dim, a.steps
    problem = WorkerQuadratics.random(M, d, zeta=1.0, spread=0.5, sigma=1.0, seed=0)
    methods = {"local SGD (H = 8)": LocalSGD(0.1, M, 8), "D-SGD ring": GossipSGD(0.1, graphs.ring(M)),
               "D-SGD complete": GossipSGD(0.1, graphs.complete(M))}
    xp = cs.backend.namespace(a.backend)
    rng = ReplicaStreams(xp, 0, 0, R)

    def sample():
        for _ in range(T):
            rng.normal(M, d)

    updates = R * M * d * T
    floor = updates / best_time(sample, a.repeats)
    print(f"R = {R}, M = {M}, d = {d}, {T} steps, backend {a.backend}")
    print(f"{'normal sampler':24s} {floor:12.3e} samples/s")
    for name, method in methods.items():
        run = lambda: cs.simulate(problem, method, T, replicas=R, backend=a.backend, metrics=["dist_sq"], record=2)
        rate = updates / best_time(run, a.repeats)
        print(f"{name:24s} {rate:12.3e} updates/s   {rate / floor:5.2f} x the sampler floor")


if __name__ == "__main__":
    main()
