"""Chunks on a thread pool give the serial run's numbers bit for bit, for any chunk size."""

import os

import numpy as np
import pytest

import convsim as cs
from convsim.engine import default_threads, run_chunks

CASES = {
    "sgd, rotated quadratic (BLAS)": (
        lambda: cs.problems.Quadratic(cs.spectra.geometric(24, 1.0, 0.01), rotate=True,
                                      noise=cs.noise.Gaussian(0.3, power=1)),
        lambda: cs.methods.SGD(0.05, momentum=0.5)),
    "adam, diagonal quadratic": (
        lambda: cs.problems.Quadratic(cs.spectra.geometric(16, 1.0, 0.01), noise=cs.noise.Gaussian(0.3)),
        lambda: cs.methods.Adam(1e-2)),
    # Nesterov's convex momentum extends a host-side λ-sequence: every chunk needs its own copy
    "nesterov, least squares": (lambda: cs.problems.LeastSquares.random(150, 12, noise_std=0.5, seed=1),
                                lambda: cs.methods.Nesterov(0.01)),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(CASES))
def test_threads_and_chunk_sizes_give_identical_traces(case, dtype):
    make_problem, make_method = CASES[case]
    p, m = make_problem(), make_method()
    # LeastSquares evaluates f and ∇f with one (rows x n) BLAS product whose last bits depend on the
    # number of rows (the tail tiles of the kernel): its exact metrics vary with the chunk size, not
    # with threads, so across chunk sizes it is compared on the iterates (dist_sq)
    metrics = ["dist_sq"] if case == "nesterov, least squares" else None
    runs = [cs.simulate(p, m, 60, 333, seed=4, dtype=dtype, chunk_size=chunk, threads=threads, record=8,
                        metrics=metrics)
            for threads, chunk in ((1, 64), (2, 64), (2, 128), (3, 192), (1, None))]  # 333: not a multiple
    same_chunks = [cs.simulate(p, m, 60, 333, seed=4, dtype=dtype, chunk_size=64, threads=threads, record=8)
                   for threads in (1, 2, 3)]
    for other in same_chunks[1:]:
        for name in same_chunks[0].metrics:
            np.testing.assert_array_equal(same_chunks[0].metrics[name], other.metrics[name])
    for other in runs[1:]:
        for name in runs[0].metrics:
            np.testing.assert_array_equal(runs[0].metrics[name], other.metrics[name])
        np.testing.assert_array_equal(runs[0].diverged_at, other.diverged_at)
    assert runs[1].meta["threads"] == 2 and "threads" not in runs[0].meta


def test_threads_on_the_strict_backend():
    p, m = CASES["adam, diagonal quadratic"][0](), cs.methods.SGD(0.1, momentum=0.9)
    serial = cs.simulate(p, m, 30, 200, chunk_size=64, threads=1, backend="array_api_strict")
    pooled = cs.simulate(p, m, 30, 200, chunk_size=64, threads=2, backend="array_api_strict")
    np.testing.assert_array_equal(serial.metrics["dist_sq"], pooled.metrics["dist_sq"])
    np.testing.assert_array_equal(serial.metrics["dist_sq"], cs.simulate(p, m, 30, 200, threads=1).metrics["dist_sq"])


@pytest.mark.parametrize("generator", [None, "torch"])
def test_threads_on_cpu_torch_hold_its_own_pool_at_one_thread(generator):
    torch = pytest.importorskip("torch")
    p, m = CASES["sgd, rotated quadratic (BLAS)"][0](), cs.methods.Adam(1e-2)
    seen = []

    def pool_size(problem, x):  # a metric: what torch's intra-op pool is while a chunk computes
        seen.append(torch.get_num_threads())
        return x[:, 0] * 0

    before = torch.get_num_threads()
    runs = [cs.simulate(p, m, 40, 333, seed=2, backend="torch", dtype="float32", chunk_size=chunk, threads=threads,
                        generator=generator, record=8, metrics={"dist_sq": None, "pool": pool_size})
            for threads, chunk in ((1, 64), (2, 64), (3, 128), (None, None))]
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].metrics["dist_sq"], other.metrics["dist_sq"])
    assert set(seen) == {1} and torch.get_num_threads() == before
    assert default_threads("torch") == default_threads("numpy")


def test_a_threaded_run_has_a_chunk_per_thread():
    p = CASES["adam, diagonal quadratic"][0]()
    assert cs.simulate(p, cs.methods.SGD(0.1), 5, 256, threads=2).meta["chunk_size"] == 128
    assert cs.simulate(p, cs.methods.SGD(0.1), 5, 256, threads=1).meta["chunk_size"] == 256
    assert cs.simulate(p, cs.methods.SGD(0.1), 5, 256, threads=2, chunk_size=256).meta["chunk_size"] == 256


def test_default_threads_follow_the_affinity_and_the_executor():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_threads("numpy") == cores
    assert default_threads("numpy", executor=object()) == 1
    assert default_threads("cupy") == 1


def test_the_environment_sets_the_default_threads(monkeypatch):
    monkeypatch.setenv("CONVSIM_THREADS", "3")
    assert default_threads("numpy") == 3 and default_threads("numpy", executor=object()) == 1


def test_run_chunks_keeps_the_order_of_the_rows():
    seen = run_chunks(lambda lo, n: (lo, n), 333, 64, threads=3)
    assert seen == [(lo, (lo, min(64, 333 - lo))) for lo in range(0, 333, 64)]


@pytest.mark.parametrize("threads", [0, -1, 1.5])
def test_bad_thread_counts_are_one_line_errors(threads):
    p = CASES["adam, diagonal quadratic"][0]()
    with pytest.raises(cs.ConvsimError, match="threads must be a positive integer"):
        cs.simulate(p, cs.methods.SGD(0.1), 10, 4, threads=threads)


def test_an_executor_and_threads_are_exclusive():
    from concurrent.futures import ThreadPoolExecutor

    p = CASES["adam, diagonal quadratic"][0]()
    with ThreadPoolExecutor(1) as pool, pytest.raises(cs.ConvsimError, match="either an executor or threads"):
        cs.simulate(p, cs.methods.SGD(0.1), 10, 4, threads=2, executor=pool)
