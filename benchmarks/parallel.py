"""Parallel speedups, measured in one run: the quick catalogue serial vs `--jobs N`, and one SGD run of R
replicas in one process vs a two-worker dask.distributed LocalCluster, over R (where the cluster starts to pay).

    python benchmarks/parallel.py [--jobs 2] [--skip-catalogue] [--replicas 10000 100000 1000000] [--repeats 2]
                                  [--steps 200] [--dim 100]

Needs `pip install 'convsim[dask]'` for the cluster part. Times are wall-clock seconds (the best of
``--repeats``); ratios are serial / parallel from the same invocation, printed with the load averages
of the machine (a shared machine is noisy: compare ratios, not seconds).  "One process" runs its
chunks one at a time (threads=1), and, where the engine has chunk threads, also on a thread per core.
"""

import argparse
import inspect
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import convsim as cs

def catalogue(jobs: int) -> tuple[float, float]:
    times = []
    for n in (1, jobs):
        with tempfile.TemporaryDirectory() as out:
            began = time.perf_counter()
            subprocess.run([sys.executable, "-m", "convsim", "verify", "--all", "--quick", "--no-figures", "--jobs",
                            str(n), "--out", out], check=False, capture_output=True)
            times.append(time.perf_counter() - began)
    return times[0], times[1]


HAS_THREADS = "threads" in inspect.signature(cs.simulate).parameters


def sgd(replicas: int, executor=None, threads=1, steps: int = 200, dim: int = 100) -> float:
    p = cs.problems.Quadratic(cs.spectra.geometric(dim, 1.0, 0.01), noise=cs.noise.Gaussian(0.1))
    spread = {"executor": executor} if executor is not None else {"threads": threads} if HAS_THREADS else {}
    began = time.perf_counter()
    cs.simulate(p, cs.methods.SGD(0.1), steps, replicas, chunk_size=max(64, replicas // 8), **spread)
    return time.perf_counter() - began


def load() -> str:
    return "load averages %.2f %.2f %.2f" % os.getloadavg()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip-catalogue", action="store_true")
    ap.add_argument("--replicas", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--steps", type=int, default=200, help="SGD steps (fewer on a loaded machine)")
    ap.add_argument("--dim", type=int, default=100)
    a = ap.parse_args()
    print(f"{os.cpu_count()} cores; {load()}", flush=True)
    if not a.skip_catalogue:
        serial, parallel = catalogue(a.jobs)
        print(f"verify --all --quick: serial {serial:.1f} s, --jobs {a.jobs} {parallel:.1f} s, "
              f"speedup {serial / parallel:.2f}x ({load()})", flush=True)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=50) as cluster, Client(cluster) as client:
        sgd(1000, client)  # warm the workers' imports
        size = {"steps": a.steps, "dim": a.dim}
        for r in a.replicas:
            one = min(sgd(r, **size) for _ in range(a.repeats))
            two = min(sgd(r, client, **size) for _ in range(a.repeats))
            threaded = ""
            if HAS_THREADS:
                many = min(sgd(r, threads=os.cpu_count(), **size) for _ in range(a.repeats))
                threaded = f", one process on {os.cpu_count()} threads {many:.2f} s ({one / many:.2f}x)"
            print(f"SGD d={a.dim}, {a.steps} steps, R={r:>9,}: one process {one:.2f} s, 2-worker LocalCluster {two:.2f} s, "
                  f"speedup {one / two:.2f}x{threaded} ({load()})", flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
