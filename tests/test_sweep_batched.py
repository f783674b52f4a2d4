"""A grid batched into one run gives every point's own run bit for bit, or falls back to point by point."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import convsim as cs
from convsim.engine import Experiment, NotBatchable, simulate_points
from convsim.engine.batched import MethodGroups, PerGroup, SharedStreams
from convsim.random import ReplicaStreams


def quadratic(d=10):
    return cs.problems.Quadratic(cs.spectra.geometric(d, 1.0, 0.01), noise=cs.noise.Gaussian(0.3))


def assert_same_sweeps(a, b):
    assert a.points == b.points
    for x, y in zip(a.traces, b.traces):
        assert set(x.metrics) == set(y.metrics)
        for name in x.metrics:
            np.testing.assert_array_equal(x.metrics[name], y.metrics[name])
        np.testing.assert_array_equal(x.diverged_at, y.diverged_at)


GRIDS = {
    "sgd step size": (lambda eta: cs.methods.SGD(eta), {"eta": list(np.geomspace(1e-3, 2.5, 9))}),  # some diverge
    "momentum and step": (lambda eta, mu: cs.methods.SGD(eta, momentum=mu), {"eta": [0.01, 0.1], "mu": [0.5, 0.9]}),
    "schedule constant": (lambda c: cs.methods.SGD(cs.schedules.inverse_time(c, 10.0)), {"c": [0.5, 1.0, 3.0]}),
    # NumPy-scalar hyperparameters are strongly typed: the point runs promote float32 state to float64
    "adam beta1 (numpy scalars)": (lambda b: cs.methods.Adam(1e-2, beta1=b), {"b": list(np.linspace(0.0, 0.95, 4))}),
    "nesterov step": (lambda eta: cs.methods.Nesterov(eta), {"eta": [0.01, 0.1, 0.5]}),
    "averaged sgd": (lambda eta: cs.methods.Averaged(cs.methods.SGD(eta)), {"eta": [0.01, 0.1]}),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("grid", list(GRIDS))
def test_a_batched_grid_gives_the_point_by_point_numbers(grid, dtype):
    make, values = GRIDS[grid]
    experiment = Experiment(quadratic(), make, 120, 70, seed=2, dtype=dtype, record=10,
                            metrics=["dist_sq", "suboptimality"])  # 70 replicas: a 6-row remainder block
    batched, serial = cs.sweep(experiment, values), cs.sweep(experiment, values, batch=False)
    assert batched.batched and not serial.batched
    assert_same_sweeps(batched, serial)
    assert [t.meta["method"] for t in batched.traces] == [t.meta["method"] for t in serial.traces]


def test_batched_chunks_threads_and_the_strict_backend_agree():
    etas = [0.01, 0.05, 0.2]
    serial = [cs.simulate(quadratic(), cs.methods.SGD(e, momentum=0.5), 50, 200, seed=1) for e in etas]
    for options in (dict(chunk_size=64, threads=1), dict(chunk_size=128, threads=2), dict(backend="array_api_strict")):
        runs = simulate_points(quadratic(), [cs.methods.SGD(e, momentum=0.5) for e in etas], 50, 200, seed=1, **options)
        for a, b in zip(serial, runs):
            np.testing.assert_array_equal(a.metrics["dist_sq"], b.metrics["dist_sq"])


@pytest.mark.parametrize("make, grid", [
    (lambda mu: cs.methods.SGD(0.05, momentum=mu), {"mu": [0.0, 0.9]}),  # momentum 0 changes the state's form
    (lambda nesterov: cs.methods.SGD(0.05, momentum=0.5, nesterov=nesterov), {"nesterov": [False, True]}),
    (lambda k: cs.methods.SGD(0.05) if k == 0 else cs.methods.Adam(0.05), {"k": [0, 1]}),  # two kinds
])
def test_grids_that_cannot_be_batched_run_point_by_point(make, grid):
    experiment = Experiment(quadratic(), make, 40, 20, seed=0)
    swept = cs.sweep(experiment, grid)
    assert not swept.batched
    assert_same_sweeps(swept, cs.sweep(experiment, grid, batch=False))


def test_a_hyperparameter_used_as_a_python_number_is_refused():
    value = PerGroup([0.1, 0.2], rows=3)
    for use in (float, int, lambda v: v > 0.15, lambda v: v == 0.1, lambda v: np.asarray(v)):
        with pytest.raises(NotBatchable):
            use(value)
    assert bool(value) and value > 0 and not (value == 0.3)  # a branch every point takes alike
    with pytest.raises(NotBatchable, match="one row per replica"):
        value * np.ones((5, 2))  # 5 rows, not 2 groups x 3
    col = (1.0 - value) * np.ones((6, 2), dtype=np.float32)
    assert col.dtype == np.float32 and np.array_equal(col[:, 0], np.float32([0.9] * 3 + [0.8] * 3))
    assert (value * np.float64(2.0)).weak is False and (value * 2.0).weak is True


def test_shared_streams_repeat_each_replicas_draws_for_every_group():
    xp = cs.backend.namespace("numpy")
    own, shared = ReplicaStreams(xp, 7, 64, 70), SharedStreams(ReplicaStreams(xp, 7, 64, 70), 3)
    z, zs = own.normal(4).copy(), shared.normal(4)
    assert zs.shape == (210, 4) and all(np.array_equal(zs[g * 70:(g + 1) * 70], z) for g in range(3))
    with pytest.raises(NotBatchable):
        shared.gamma_of(np.ones((210, 4)))


def test_method_groups_refuse_differing_derived_attributes():
    class Cached(cs.methods.SGD):
        def __post_init__(self):
            super().__post_init__()
            object.__setattr__(self, "twice", 2 * self.momentum)  # derived at construction: not rebound

    with pytest.raises(NotBatchable, match="derived attribute"):
        MethodGroups.of([Cached(0.1, momentum=0.1), Cached(0.1, momentum=0.2)])


def test_a_sweep_spreads_over_an_executor_with_the_local_numbers():
    experiment = Experiment(quadratic(), lambda eta: cs.methods.SGD(eta), 40, 150, seed=3, chunk_size=64)
    grid = {"eta": [0.01, 0.1, 0.3]}
    local = cs.sweep(experiment, grid, batch=False)
    with ThreadPoolExecutor(2) as pool:
        assert_same_sweeps(local, cs.sweep(experiment, grid, executor=pool))  # batched, by replica chunks
        assert_same_sweeps(local, cs.sweep(experiment, grid, executor=pool, batch=False))  # by points
        assert_same_sweeps(local, cs.sweep(lambda eta: experiment(eta=eta), grid, executor=pool))
