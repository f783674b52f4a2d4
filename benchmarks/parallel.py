"""Parallel speedups, measured in one run: the quick catalogue serial vs `--jobs N`, and one SGD run of R
replicas in one process vs a two-worker dask.distributed LocalCluster, over R (where the cluster starts to pay).

    python benchmarks/parallel.py [--jobs 2] [--skip-catalogue] [--replicas 10000 100000 1000000]

Needs `pip install 'convsim[dask]'` for the cluster part. Times are wall-clock seconds; ratios are
serial / parallel from the same invocation (machines are noisy: compare ratios, not seconds).
"""

import argparse
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


def sgd(replicas: int, executor=None) -> float:
    p = cs.problems.Quadratic(cs.spectra.geometric(100, 1.0, 0.01), noise=cs.noise.Gaussian(0.1))
    began = time.perf_counter()
    cs.simulate(p, cs.methods.SGD(0.1), 200, replicas, executor=executor, chunk_size=max(64, replicas // 8))
    return time.perf_counter() - began


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip-catalogue", action="store_true")
    ap.add_argument("--replicas", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    a = ap.parse_args()
    if not a.skip_catalogue:
        serial, parallel = catalogue(a.jobs)
        print(f"verify --all --quick: serial {serial:.1f} s, --jobs {a.jobs} {parallel:.1f} s, "
              f"speedup {serial / parallel:.2f}x")
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=50) as cluster, Client(cluster) as client:
        sgd(1000, client)  # warm the workers' imports
        for r in a.replicas:
            one = min(sgd(r) for _ in range(2))
            two = min(sgd(r, client) for _ in range(2))
            print(f"SGD d=100, 200 steps, R={r:>9,}: one process {one:.2f} s, 2-worker LocalCluster {two:.2f} s, "
                  f"speedup {one / two:.2f}x")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
