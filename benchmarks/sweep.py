"""A step-size sweep batched into one run against the same sweep point by point.

64 step sizes of SGD (and of Adam) at R = 16 replicas on a d = 10 diagonal quadratic with
Gaussian noise: the batched sweep (``cs.sweep(Experiment(...), grid)``) runs the 64 points as
1024 rows of one simulation, the point-by-point sweep (``batch=False``) runs 64 simulations.
Both give the same numbers bit for bit (checked here too); the script prints the speed-up.

    python benchmarks/sweep.py [--points 64] [--replicas 16] [--dim 10] [--steps 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import convsim as cs
from convsim.engine import Experiment


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=64)
    ap.add_argument("--replicas", type=int, default=16)
    ap.add_argument("--dim", type=int, default=10)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dtype", default="float64")
    a = ap.parse_args(argv)
    problem = cs.problems.Quadratic(cs.spectra.geometric(a.dim, 1.0, 0.01), noise=cs.noise.Gaussian(0.3))
    grid = {"step_size": [float(v) for v in np.geomspace(1e-3, 1.0, a.points)]}
    makers = {"sgd": lambda step_size: cs.methods.SGD(step_size),
              "sgd+momentum": lambda step_size: cs.methods.SGD(step_size, momentum=0.9),
              "adam": lambda step_size: cs.methods.Adam(step_size)}
    print(f"{a.points}-point step-size sweep, R={a.replicas}, d={a.dim}, steps={a.steps}, dtype={a.dtype}, "
          f"best of {a.repeats}")
    print(f"{'method':<14} {'point by point':>15} {'batched':>10} {'speed-up':>9}  identical")
    for name, make in makers.items():
        experiment = Experiment(problem, make, a.steps, a.replicas, seed=0, dtype=a.dtype, metrics=["dist_sq"])
        best = {True: np.inf, False: np.inf}
        sweeps = {}
        for _ in range(a.repeats):
            for batch in (False, True):
                t0 = time.perf_counter()
                sweeps[batch] = cs.sweep(experiment, grid, batch=batch)
                best[batch] = min(best[batch], time.perf_counter() - t0)
        identical = sweeps[True].batched and all(
            np.array_equal(p.metrics["dist_sq"], b.metrics["dist_sq"], equal_nan=True)
            for p, b in zip(sweeps[False].traces, sweeps[True].traces))
        print(f"{name:<14} {best[False]:>14.3f}s {best[True]:>9.3f}s {best[False] / best[True]:>8.1f}x  {identical}")


if __name__ == "__main__":
    main()
