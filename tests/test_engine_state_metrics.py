"""Metrics that read the method's state (convsim.engine.simulate.StateMetric): what they see, and that runs
recording them keep the engine's guarantees (chunks, threads, executors, batched points, backends)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import convsim as cs
from convsim import zeroth_order as zo
from convsim.backend import namespace
from convsim.engine import simulate_points
from convsim.engine.simulate import StateMetric, sum_sq
from convsim.methods.base import Oracle
from convsim.problems.test_functions import Rastrigin
from convsim.random import ReplicaStreams
from convsim.store import canonical


def momentum_sq(problem, x, state):
    """‖momentum buffer‖² (0 before the first step, whose buffer does not exist yet)."""
    return 0.0 * sum_sq(x) if state.buf is None else sum_sq(state.buf)


def _rastrigin():
    return Rastrigin(3, amplitude=2.5, shift=np.array([0.2, -0.1, 0.3]), start_distance=1.0)


CBO = zo.CBO(drift=1.0, noise=0.4, alpha=30.0, dt=0.05, particles=6, spread=1.5)


def test_a_state_metric_sees_the_state_of_the_checkpoint_step():
    # the particles' energy recorded by the engine equals the one of a hand-written loop over the same streams
    p, steps = _rastrigin(), [0, 1, 4, 9]
    trace = cs.simulate(p, CBO, 9, 64, record=steps[1:], metrics={"energy": zo.PARTICLE_ENERGY}, seed=3)
    xp = namespace("numpy")
    oracle = Oracle(p, ReplicaStreams(xp, 3, 0, 64))
    state = CBO.init(np.broadcast_to(p.initial_point(), (64, 3)).copy())
    expected = []
    for t in range(10):
        if t in steps:
            e = state.particles - p.x_star
            expected.append(0.5 * np.mean(np.sum(e * e, axis=-1), axis=1))
        state = CBO.step(state, oracle, t)
    np.testing.assert_array_equal(trace.values("energy"), np.stack(expected, axis=1))
    assert np.all(trace.values("energy")[:, 0] == 0.5 * np.sum((p.initial_point() - p.x_star) ** 2))


def test_state_and_point_metrics_are_recorded_side_by_side():
    p = cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1))
    m = cs.methods.SGD(0.3, momentum=0.5)
    trace = cs.simulate(p, m, 20, 8, metrics={"buf": StateMetric(momentum_sq), "dist_sq": None},
                        record=[1, 20])
    assert set(trace.metrics) == {"buf", "dist_sq"}
    # after one heavy-ball step from x0 the buffer is the first gradient, H (x0 - x*)
    g0 = p.hessian() @ (p.initial_point() - p.x_star)
    np.testing.assert_allclose(trace.values("buf")[:, 1], np.sum(g0**2), rtol=1e-12)


def test_state_metric_runs_keep_chunk_thread_and_executor_identity():
    p = _rastrigin()
    metrics = {"energy": zo.PARTICLE_ENERGY, "dist_sq": None}
    base = cs.simulate(p, CBO, 12, 150, metrics=metrics, chunk_size=64, threads=1, seed=1)
    runs = [cs.simulate(p, CBO, 12, 150, metrics=metrics, chunk_size=128, threads=2, seed=1),
            cs.simulate(p, CBO, 12, 150, metrics=metrics, threads=1, seed=1)]
    with ThreadPoolExecutor(2) as pool:
        runs.append(cs.simulate(p, CBO, 12, 150, metrics=metrics, chunk_size=64, executor=pool, seed=1))
    for run in runs:
        for name in metrics:
            np.testing.assert_array_equal(run.metrics[name], base.metrics[name])


def test_batched_points_give_each_point_its_own_state_metric():
    p = cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1))
    methods = [cs.methods.SGD(eta, momentum=0.5) for eta in (0.1, 0.3)]
    metrics = {"buf": StateMetric(momentum_sq)}
    batched = simulate_points(p, methods, 15, 64, metrics=metrics, seed=2)
    for m, trace in zip(methods, batched):
        alone = cs.simulate(p, m, 15, 64, metrics=metrics, seed=2)
        np.testing.assert_array_equal(trace.metrics["buf"], alone.metrics["buf"])


def test_state_metric_agrees_across_backends(backend):
    p = _rastrigin()
    a = cs.simulate(p, CBO, 10, 64, metrics={"energy": zo.PARTICLE_ENERGY}, backend="numpy").values("energy")
    b = cs.simulate(p, CBO, 10, 64, metrics={"energy": zo.PARTICLE_ENERGY}, backend=backend).values("energy")
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_a_state_metric_is_keyed_apart_from_its_function_and_checked():
    assert canonical(StateMetric(momentum_sq)) != canonical(momentum_sq)
    with pytest.raises(cs.ConvsimError, match="StateMetric needs a function"):
        StateMetric(3.0)
    p = cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1))
    with pytest.raises(cs.ConvsimError, match="returned shape"):
        cs.simulate(p, cs.methods.SGD(0.1, momentum=0.5), 5, 2, metrics={"bad": StateMetric(lambda pr, x, s: x)})
