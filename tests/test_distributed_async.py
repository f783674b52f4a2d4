"""Asynchronous federated SGD: arrivals, stale updates draw for draw, the reweighted optimum, the exact law."""

import numpy as np
import pytest

import convsim as cs
from convsim.distributed import AsyncFedSGD, LocalSGD, WorkerQuadratics, async_moments, reweighted_optimum
from convsim.methods.base import Oracle
from convsim.random import ReplicaStreams

BACKENDS = ["numpy", "array_api_strict"]


def problem(sigma=0.3):
    return WorkerQuadratics.random(3, 4, mu=0.2, zeta=1.0, spread=0.5, sigma=sigma, seed=2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_update_draw_for_draw_against_a_numpy_restatement(backend):
    xp = cs.backend.namespace(backend)
    p, speeds, tau, R, T, eta = problem(), np.array([1.0, 3.0, 6.0]), 2, 8, 10, 0.1
    for unbiased in (False, True):
        method = AsyncFedSGD(eta, speeds, delay=tau, unbiased=unbiased)
        state = method.init(xp.asarray(np.tile(p.initial_point(), (R, 1))))
        oracle = Oracle(p, ReplicaStreams(xp, 5, 0, R))
        for t in range(T):
            state = method.step(state, oracle, t)
        draws = ReplicaStreams(cs.backend.namespace("numpy"), 5, 0, R)
        pi = speeds / speeds.sum()
        w = (1 / 3) / pi if unbiased else np.ones(3)
        xs = [np.tile(p.initial_point(), (R, 1))]
        for t in range(T):
            u = np.asarray(draws.uniform(1))[:, 0]
            m = np.searchsorted(np.cumsum(pi), u, side="right").clip(max=2)
            stale = xs[max(t - tau, 0)]
            noise = np.asarray(draws.normal(3, 4))
            g = p.curvatures[m] * (stale - p.optima[m]) + p.sigma * noise[np.arange(R), m]
            xs.append(xs[-1] - eta * w[m][:, None] * g)
        np.testing.assert_allclose(np.asarray(state.x), xs[-1], rtol=1e-12, atol=1e-14)


def test_arrival_frequencies_follow_the_speeds():
    p = problem(sigma=0.0)
    method = AsyncFedSGD(1e-3, np.array([1.0, 2.0, 5.0]))
    xp = cs.backend.namespace("numpy")
    R = 8192
    x0 = np.tile(p.initial_point(), (R, 1))
    x1 = np.asarray(method.step(method.init(x0), Oracle(p, ReplicaStreams(xp, 1, 0, R)), 0).x)
    candidates = x0[0] - 1e-3 * p.worker_grad(np.broadcast_to(x0[:1, None, :], (1, 3, 4)))[0]  # (3, d)
    who = np.argmin(((x1[:, None, :] - candidates[None]) ** 2).sum(axis=-1), axis=1)
    np.testing.assert_allclose(np.bincount(who, minlength=3) / R, [0.125, 0.25, 0.625], atol=0.015)


def test_reweighted_optimum_is_the_stationary_point_of_the_expected_step():
    p = problem()
    r = np.array([0.2, 0.3, 0.5])
    x = reweighted_optimum(p, r)
    np.testing.assert_allclose((r[:, None] * p.curvatures * (x - p.optima)).sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(reweighted_optimum(p, np.ones(3) / 3), p.x_star, rtol=1e-12)


def test_exact_law_limits_and_monte_carlo():
    p = problem()
    steps = cs.schedules.inverse_time(5.0, 20.0)
    # equal speeds, no delay: one uniformly chosen worker per step is SGD on the mean with sampling noise
    m = AsyncFedSGD(steps, np.ones(3), delay=3)
    tr = cs.simulate(p, m, 300, replicas=4096, metrics=["dist_sq"], record=8, seed=2)
    ex = async_moments(p, m, 300, record=8)["dist_sq"]
    np.testing.assert_allclose(tr.values("dist_sq").mean(axis=0)[1:], ex[1:], rtol=0.06)
    # a deterministic limit: sigma = 0 and one worker is plain GD on that worker
    single = WorkerQuadratics(p.curvatures[:1], p.optima[:1], sigma=0.0, x0=p.initial_point())
    gd = async_moments(single, AsyncFedSGD(0.3, np.ones(1)), 20, record=[20])["dist_sq"][-1]
    e = (1 - 0.3 * single.curvatures[0]) ** 20 * (single.initial_point() - single.x_star)
    assert gd == pytest.approx(e @ e, rel=1e-10)


def test_bad_input():
    with pytest.raises(cs.ConvsimError, match="speeds"):
        AsyncFedSGD(0.1, np.array([1.0, -1.0]))
    with pytest.raises(cs.ConvsimError, match="delay"):
        AsyncFedSGD(0.1, np.ones(2), delay=-1)
    with pytest.raises(cs.ConvsimError, match="workers"):
        cs.simulate(problem(), AsyncFedSGD(0.1, np.ones(2)), 2, replicas=2)
