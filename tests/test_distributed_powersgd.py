"""PowerSGD: the compression's exactness, idempotence and projection structure, its power iteration against the SVD,
error feedback's conservation, and full rank against uncompressed distributed SGD draw for draw."""

import numpy as np
import pytest

import convsim as cs
from convsim.distributed import LocalSGD, PowerSGD, WorkerQuadratics, powersgd_step
from convsim.methods.base import Oracle
from convsim.random import ReplicaStreams

BACKENDS = ["numpy", "array_api_strict"]


def compress(xp, updates, q):
    approx, q_new = powersgd_step(xp.asarray(updates), xp.asarray(q))
    return np.asarray(approx), np.asarray(q_new)


@pytest.mark.parametrize("backend", BACKENDS)
def test_compression_is_the_projection_of_the_mean_update_onto_span_of_mean_times_q(backend):
    xp = cs.backend.namespace(backend)
    rng = np.random.default_rng(0)
    M = rng.standard_normal((3, 5, 6, 4))  # R = 3 replicas, 5 workers, 6x4 matrices
    q = rng.standard_normal((3, 4, 2))
    approx, q_new = compress(xp, M, q)
    mean = M.mean(axis=1)
    for r in range(3):  # a NumPy restatement of Algorithm 1
        p_hat = np.linalg.qr(mean[r] @ q[r])[0]
        np.testing.assert_allclose(approx[r], p_hat @ p_hat.T @ mean[r], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(q_new[r], mean[r].T @ p_hat, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(p_hat.T @ (mean[r] - approx[r]), 0.0, atol=1e-12)  # residual orthogonal to P̂
        assert np.linalg.norm(mean[r] - approx[r]) <= np.linalg.norm(mean[r])  # contractive
        assert np.linalg.matrix_rank(approx[r]) == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_exact_when_the_mean_update_has_rank_at_most_r_and_idempotent(backend):
    xp = cs.backend.namespace(backend)
    rng = np.random.default_rng(1)
    u, v = rng.standard_normal((2, 6, 1)), rng.standard_normal((2, 1, 5))
    low_rank = u @ v  # (R, 6, 5) of rank 1
    spread = rng.standard_normal((2, 4, 6, 5))
    M = low_rank[:, None] + spread - spread.mean(axis=1, keepdims=True)  # workers differ, their mean is rank 1
    q = rng.standard_normal((2, 5, 1))
    approx, _ = compress(xp, M, q)
    np.testing.assert_allclose(approx, low_rank, rtol=1e-10, atol=1e-12)
    # compressing the decompressed update again returns it (from any warm start)
    full = rng.standard_normal((2, 4, 6, 5))
    once, _ = compress(xp, full, rng.standard_normal((2, 5, 2)))
    twice, _ = compress(xp, np.repeat(once[:, None], 4, axis=1), rng.standard_normal((2, 5, 2)))
    np.testing.assert_allclose(twice, once, rtol=1e-9, atol=1e-12)


def test_warm_started_power_iteration_reaches_the_best_rank_r_approximation():
    xp = cs.backend.namespace("numpy")
    rng = np.random.default_rng(2)
    U, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    V, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    mean = U[:, :6] @ np.diag([5.0, 3.0, 1.0, 0.5, 0.2, 0.1]) @ V.T
    M = np.repeat(mean[None, None], 3, axis=1)
    q = rng.standard_normal((1, 6, 2))
    for _ in range(60):  # the factor persists across steps: subspace iteration on the same matrix
        approx, q = compress(xp, M, q)
    u, s, vt = np.linalg.svd(mean)
    np.testing.assert_allclose(approx[0], (u[:, :2] * s[:2]) @ vt[:2], rtol=1e-8, atol=1e-10)  # Eckart–Young


def test_error_feedback_conserves_the_sum_of_updates():
    # Σ_t applied_t + mean error_T = Σ_t mean gradient_t: nothing a worker computes is lost
    p = WorkerQuadratics.random(3, 12, zeta=1.0, sigma=0.5, seed=1)
    method = PowerSGD(0.1, 3, (4, 3), rank=1)
    xp = cs.backend.namespace("numpy")
    R = 5
    state = method.init(xp.asarray(np.tile(p.initial_point(), (R, 1))))
    oracle, replay = Oracle(p, ReplicaStreams(xp, 3, 0, R)), ReplicaStreams(xp, 3, 0, R)
    applied, grads = np.zeros((R, 12)), np.zeros((R, 12))
    for t in range(20):
        X = np.broadcast_to(state.x[:, None, :], (R, 3, 12))
        grads += p.worker_stochastic_grad(X, replay).mean(axis=1)
        new = method.step(state, oracle, t)
        applied += (state.x - new.x) / 0.1
        state = new
    np.testing.assert_allclose(applied + state.error.mean(axis=1), grads, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_full_rank_powersgd_is_uncompressed_distributed_sgd(backend):
    p = WorkerQuadratics.random(4, 12, zeta=1.0, spread=0.5, sigma=0.3, seed=2)
    kw = dict(replicas=64, metrics=["dist_sq"], record=8, seed=4, backend=backend)
    a = cs.simulate(p, PowerSGD(0.1, 4, (4, 3), rank=3), 64, **kw)
    b = cs.simulate(p, LocalSGD(0.1, 4, 1), 64, **kw)
    np.testing.assert_allclose(a.values("dist_sq"), b.values("dist_sq"), rtol=1e-8)


def test_bits_and_bad_input():
    m = PowerSGD(0.1, 4, (8, 8), rank=2)
    assert m.bits(10, 64) == 10 * 4 * 64 * 2 * 16
    with pytest.raises(cs.ConvsimError, match="rank"):
        PowerSGD(0.1, 4, (8, 2), rank=3)
    with pytest.raises(cs.ConvsimError, match="shape"):
        PowerSGD(0.1, 4, (64,))
    with pytest.raises(cs.ConvsimError, match="d = 64"):
        cs.simulate(WorkerQuadratics.random(4, 12), m, 2, replicas=2)


def test_runs_do_not_depend_on_the_chunk_size():
    p = WorkerQuadratics.random(3, 12, zeta=1.0, sigma=0.3, seed=1)
    method = PowerSGD(0.1, 3, (4, 3), rank=1)
    a = cs.simulate(p, method, 30, replicas=192, metrics=["dist_sq"], record=8, seed=1, chunk_size=64)
    b = cs.simulate(p, method, 30, replicas=192, metrics=["dist_sq"], record=8, seed=1, chunk_size=192)
    np.testing.assert_allclose(a.values("dist_sq"), b.values("dist_sq"), rtol=1e-12)
