"""Known answers for the distributed package: local SGD with H = 1 is minibatch SGD, the exact worker
recursion against Monte Carlo and against convsim.exact, gossip's consensus contraction at λ₂,
compressors' variance bounds, communication counts, and chunk invariance."""

import numpy as np
import pytest

import convsim as cs
import convsim.exact
from convsim.distributed import (CompressedSGD, EightBit, GossipSGD, LocalSGD, RandomK, TopK, WorkerQuadratics, graphs,
                                 worker_moments)
from convsim.random import ReplicaStreams

BACKENDS = ["numpy", "array_api_strict"]


def shared_problem(M=4, d=3, sigma=0.5):
    return WorkerQuadratics.random(M, d, mu=0.2, L=1.0, sigma=sigma, seed=2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_local_sgd_with_one_local_step_is_minibatch_sgd_draw_for_draw(backend):
    # the problem's global stochastic gradient is the mean of one draw per worker, so H = 1 local SGD and
    # SGD on that gradient consume the same random numbers and must agree to rounding
    p = WorkerQuadratics.random(4, 3, zeta=0.7, spread=0.5, sigma=0.5, seed=1)
    a = cs.simulate(p, LocalSGD(0.3, 4, 1), 50, replicas=64, backend=backend, metrics=["dist_sq"])
    b = cs.simulate(p, cs.methods.SGD(0.3), 50, replicas=64, backend=backend, metrics=["dist_sq"])
    np.testing.assert_allclose(a.values("dist_sq"), b.values("dist_sq"), rtol=1e-10)


def test_local_sgd_with_one_local_step_has_minibatch_sgds_law():
    # shared Hessian: the exact law of minibatch SGD with batch M on the Quadratic of the same spectrum
    # (convsim.exact, an independent recursion) equals the worker recursion's
    M, d, sigma, gamma, T = 4, 3, 0.5, 0.3, 200
    p = shared_problem(M, d, sigma)
    q = cs.problems.Quadratic(cs.spectra.explicit(p.mean_curvature), noise=cs.noise.Gaussian(sigma),
                              batch_size=M, x_star=p.x_star, x0=p.initial_point())
    ref = cs.exact.moments(q, cs.methods.SGD(gamma), T).expected("dist_sq")
    ours = worker_moments(p, LocalSGD(gamma, M, 1), T)["dist_sq"]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    # identical workers: the average's law does not depend on the number of local steps
    np.testing.assert_allclose(worker_moments(p, LocalSGD(gamma, M, 7), T)["dist_sq"], ref, rtol=1e-10)


@pytest.mark.parametrize("method", [LocalSGD(0.2, 6, 5), GossipSGD(0.2, graphs.ring(6))])
def test_exact_worker_moments_match_monte_carlo(method):
    p = WorkerQuadratics.random(6, 3, zeta=1.0, spread=0.6, sigma=0.4, seed=4)
    tr = cs.simulate(p, method, 300, replicas=4096, metrics=["dist_sq", "suboptimality"], record=8)
    ex = worker_moments(p, method, 300, record=8)
    for metric in ("dist_sq", "suboptimality"):
        vals = tr.values(metric)
        se = vals.std(axis=0) / np.sqrt(vals.shape[0])
        assert np.all(np.abs(vals.mean(axis=0) - ex[metric]) < 5 * se + 1e-12), metric


def test_heterogeneity_is_the_requested_zeta():
    p = WorkerQuadratics.random(5, 4, zeta=1.7, spread=0.4, seed=0)
    assert p.constants()["zeta2"] == pytest.approx(1.7**2)
    np.testing.assert_allclose(p.worker_grads_at_optimum().mean(axis=0), 0.0, atol=1e-12)
    # finite differences of the global value give the global gradient
    x = np.random.default_rng(0).standard_normal((2, 4))
    h = 1e-6
    fd = np.stack([(p.value(x + h * e) - p.value(x - h * e)) / (2 * h) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(fd, p.grad(x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("W", [graphs.ring(8), graphs.torus(3, 4), graphs.complete(5), graphs.erdos_renyi(10, 0.4, 1)],
                         ids=["ring", "torus", "complete", "erdos-renyi"])
def test_noiseless_gossip_consensus_contracts_at_the_second_eigenvalue(W):
    M = W.shape[0]
    lam2 = graphs.second_eigenvalue(W)
    J = np.full((M, M), 1.0 / M)
    assert np.allclose(W, W.T) and np.allclose(W.sum(0), 1) and np.allclose(W.sum(1), 1)
    X = np.random.default_rng(1).standard_normal((M, 3))
    errs = []
    for _ in range(40):
        X = W @ X
        errs.append(np.linalg.norm(X - J @ X))
    errs = np.array(errs)
    if lam2 < 1e-12:
        assert errs.max() < 1e-12
        return
    assert np.all(errs[1:] <= lam2 * errs[:-1] * (1 + 1e-9))  # never faster than a λ₂ contraction allows...
    rate = (errs[-1] / errs[-11]) ** 0.1
    assert rate == pytest.approx(lam2, rel=0.02)  # ...and asymptotically exactly λ₂


def test_ring_second_eigenvalue_closed_form():
    for M in (5, 8, 13):  # eigenvalues (1 + 2 cos(2πk/M))/3
        k = np.arange(M)
        lam = np.sort(np.abs((1 + 2 * np.cos(2 * np.pi * k / M)) / 3))[::-1]
        assert graphs.second_eigenvalue(graphs.ring(M)) == pytest.approx(lam[1])


def test_exact_consensus_error_matches_monte_carlo_on_a_ring():
    p = WorkerQuadratics.random(6, 2, zeta=1.0, spread=0.5, sigma=0.3, seed=7)
    m = GossipSGD(0.2, graphs.ring(6))
    ex = worker_moments(p, m, 100, record=[100])
    rng = ReplicaStreams(np, 0, 0, 2048)
    from array_api_compat import numpy as anp
    oracle = cs.methods.base.Oracle(p, rng)
    state = m.init(anp.asarray(np.broadcast_to(p.initial_point(), (2048, 2)).copy()))
    for t in range(100):
        state = m.step(state, oracle, t)
    X = np.asarray(state.x)
    c = np.mean(np.sum((X - X.mean(axis=1, keepdims=True)) ** 2, axis=-1), axis=1)  # (1/M) Σ ‖x_m − x̄‖²
    assert c.mean() == pytest.approx(ex["consensus"][-1], abs=4 * c.std() / np.sqrt(c.size))


@pytest.mark.parametrize("backend", BACKENDS)
def test_compressors_variance_bounds(backend):
    xp = cs.backend.namespace(backend)
    R, d, k = 256, 10, 3
    v_host = np.random.default_rng(3).standard_normal((R, 1, d))
    v = xp.asarray(v_host)
    rng = ReplicaStreams(xp, 0, 0, R)
    norm2 = np.sum(v_host**2, axis=-1)
    top = np.asarray(TopK(k)(v, rng))
    assert np.all(np.sum((top - v_host) ** 2, axis=-1) <= (1 - k / d) * norm2 + 1e-12)
    assert np.all(np.count_nonzero(top, axis=-1) == k)
    draws = np.stack([np.asarray(RandomK(k)(v, rng)) for _ in range(400)])
    sd = np.abs(v_host) * np.sqrt(d / k - 1) / np.sqrt(draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0) - v_host) <= 5 * sd + 1e-12)  # unbiased
    err = np.sum((draws - v_host) ** 2, axis=-1).mean(axis=0)
    assert err.mean() / norm2.mean() == pytest.approx(d / k - 1, rel=0.1)  # E‖C(v) − v‖² = (d/k − 1)‖v‖²
    q = np.stack([np.asarray(EightBit()(v, rng)) for _ in range(200)])
    step = 2 * np.abs(v_host).max(axis=-1, keepdims=True) / 255
    assert np.all(np.abs(q - v_host) <= step + 1e-12)
    assert np.all(np.abs(q.mean(axis=0) - v_host) <= 5 * (step / 2) / np.sqrt(q.shape[0]) + 1e-12)  # unbiased
    assert np.all(np.sum((q - v_host) ** 2, axis=-1).mean(axis=0) <= d * step[..., 0] ** 2 / 4 * 1.2)


def test_error_feedback_removes_the_bias_of_a_biased_compressor():
    # noiseless heterogeneous workers: at x* every worker's gradient is non-zero (their mean is zero), so
    # top-k without feedback stalls away from x*, while the fed-back residual drives the error down
    p = WorkerQuadratics.random(4, 6, zeta=1.0, spread=0.3, sigma=0.0, seed=0)
    runs = {ef: cs.simulate(p, CompressedSGD(0.1, 4, TopK(3), error_feedback=ef), 3000, replicas=64,
                            metrics=["dist_sq"]).mean("dist_sq") for ef in (True, False)}
    assert runs[True][-1] < 1e-2 * runs[False][-1]
    assert runs[True][-1] < runs[True][len(runs[True]) // 2]  # still decreasing
    assert runs[False][-1] > 0.1 * runs[False][0]  # stalls (or cycles) far from x*


def test_communication_counts():
    m = LocalSGD(0.1, 8, 16)
    assert m.rounds(1024) == 64 and m.bits(1024, 10) == 64 * 2 * 8 * 64 * 10
    g = GossipSGD(0.1, graphs.ring(8))
    assert g.rounds(100) == 100 and g.bits(100, 10) == 100 * 16 * 64 * 10


def test_chunk_invariance_and_validation():
    p = WorkerQuadratics.random(3, 2, zeta=0.5, sigma=0.5, seed=0)
    a = cs.simulate(p, LocalSGD(0.2, 3, 2), 20, replicas=192, chunk_size=64, metrics=["dist_sq"])
    b = cs.simulate(p, LocalSGD(0.2, 3, 2), 20, replicas=192, metrics=["dist_sq"])
    np.testing.assert_array_equal(a.values("dist_sq"), b.values("dist_sq"))
    with pytest.raises(cs.ConvsimError, match="workers"):
        cs.simulate(p, LocalSGD(0.2, 4, 2), 5, replicas=64)
    with pytest.raises(cs.ConvsimError, match="doubly stochastic"):
        GossipSGD(0.1, np.eye(3) * 0.5)


@pytest.mark.parametrize("method", [LocalSGD(0.2, 4, 3), GossipSGD(0.2, graphs.ring(4)),
                                    CompressedSGD(0.1, 4, TopK(2)), CompressedSGD(0.1, 4, RandomK(2), error_feedback=False),
                                    CompressedSGD(0.1, 4, EightBit())],
                         ids=["local", "gossip", "topk-ef", "randk", "8bit"])
def test_every_method_agrees_across_backends(method):
    p = WorkerQuadratics.random(4, 5, zeta=0.8, spread=0.4, sigma=0.3, seed=3)
    ref = cs.simulate(p, method, 25, replicas=64, metrics=["dist_sq"])
    strict = cs.simulate(p, method, 25, replicas=64, metrics=["dist_sq"], backend="array_api_strict")
    np.testing.assert_allclose(strict.values("dist_sq"), ref.values("dist_sq"), rtol=1e-9)


def test_registries_name_their_methods():
    import convsim.distributed
    import convsim.privacy

    for registry in (convsim.distributed.REGISTRY, convsim.privacy.REGISTRY):
        for name, cls in registry.items():
            assert cls.name == name and cls.description and cls.source
