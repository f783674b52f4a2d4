"""DP-SGD and DiceSGD against their equations, and the clipping fixed point (accounting: test_privacy_accounting.py)."""


import numpy as np
import pytest

import convsim as cs
from convsim.privacy import DPSGD, DiceSGD, clip_rows, clipped_fixed_point, per_sample_grads
from convsim.random import ReplicaStreams

BACKENDS = ["numpy", "array_api_strict"]


def problem():
    return cs.problems.LeastSquares.random(16, 3, noise_std=1.0, seed=1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_per_sample_gradients_average_to_the_gradient_and_clip_has_norm_min(backend):
    xp = cs.backend.namespace(backend)
    p = problem()
    x = xp.asarray(np.random.default_rng(0).standard_normal((64, 3)))
    g = per_sample_grads(p, x, None, None)
    np.testing.assert_allclose(np.asarray(xp.mean(g, axis=1)), np.asarray(p.grad(x)), rtol=1e-10, atol=1e-12)
    c = np.asarray(clip_rows(g, 0.5))
    gn, cn = np.linalg.norm(np.asarray(g), axis=-1), np.linalg.norm(c, axis=-1)
    np.testing.assert_allclose(cn, np.minimum(gn, 0.5), rtol=1e-12)
    # a sampled batch: rows of the full per-sample matrix
    rng = ReplicaStreams(xp, 0, 0, 64)
    gb = np.asarray(per_sample_grads(p, x, rng, 5))
    idx = np.asarray(ReplicaStreams(xp, 0, 0, 64).integers(p.n, 5))
    np.testing.assert_allclose(gb, np.asarray(g)[np.arange(64)[:, None], idx], rtol=1e-12)


def test_dpsgd_with_a_large_threshold_and_no_noise_is_gradient_descent():
    p = problem()
    a = cs.simulate(p, DPSGD(0.1, clip=1e6), 100, replicas=64, metrics=["dist_sq"])
    b = cs.simulate(p, cs.methods.GD(0.1), 100, replicas=64, metrics=["dist_sq"])
    np.testing.assert_allclose(a.values("dist_sq"), b.values("dist_sq"), rtol=1e-9)


def test_dpsgd_noise_has_the_gaussian_mechanisms_scale():
    # one step from x* with full batch and C huge: x1 − x* = −γ w, w ~ N(0, (zC/n)² I)
    p = problem()
    z, C, gamma = 1.5, 2.0, 0.1
    tr = cs.simulate(p, DPSGD(gamma, clip=C, noise_multiplier=z), 1, replicas=8192, metrics=["dist_sq"],
                     x0=p.x_star)
    # ‖x1 − x*‖²: clipped mean gradient at x* is (1/n) Σ clip(g_i) (not zero when some are clipped)
    g = per_sample_grads(p, p.x_star[None, :], None, None)
    v = np.asarray(clip_rows(g, C)).mean(axis=1)[0]
    expected = gamma**2 * (v @ v + 3 * (z * C / p.n) ** 2)
    assert tr.mean("dist_sq")[-1] == pytest.approx(expected, rel=0.05)


def test_dicesgd_equations_step_by_step():
    # restate Algorithm 1 of arXiv 2311.14632 in plain NumPy and compare one noisy minibatch trajectory
    p = problem()
    m = DiceSGD(0.05, clip=0.3, clip_error=0.6, noise_multiplier=1.0, batch_size=4)
    R = 64
    rng = ReplicaStreams(np, 5, 0, R)
    mirror = ReplicaStreams(np, 5, 0, R)
    oracle = cs.methods.base.Oracle(p, rng)
    state = m.init(np.zeros((R, 3)))
    x, e = np.zeros((R, 3)), np.zeros((R, 3))
    clip = lambda v, c: v * np.minimum(1, c / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-300))
    for t in range(20):
        state = m.step(state, oracle, t)
        idx = mirror.integers(p.n, 4).copy()
        a = p.A[idx]
        g = (np.sum(a * x[:, None, :], axis=-1) - p.y[idx])[:, :, None] * a
        v = clip(g, 0.3).mean(axis=1) + clip(e, 0.6)
        w = (1.0 * 0.3 / 4) * mirror.normal(3)
        x, e = x - 0.05 * (v + w), e + g.mean(axis=1) - v
    np.testing.assert_allclose(state.x, x, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(state.error, e, rtol=1e-10, atol=1e-13)
    with pytest.raises(cs.ConvsimError, match="C2 >= C1"):
        DiceSGD(0.1, clip=1.0, clip_error=0.5)


def test_clipped_fixed_point_zeroes_the_mean_clipped_gradient_and_is_x_star_for_large_thresholds():
    p = problem()
    for C in (0.2, 0.7):
        xc = clipped_fixed_point(p, C)
        g = per_sample_grads(p, xc[None, :], None, None)
        assert np.linalg.norm(np.asarray(clip_rows(g, C)).mean(axis=1)) < 1e-9
        assert np.linalg.norm(xc - p.x_star) > 1e-3  # a genuine bias at these thresholds
    np.testing.assert_allclose(clipped_fixed_point(p, 1e3), p.x_star, atol=1e-8)
    # noiseless full-batch DPSGD-GC converges to it
    tr = cs.simulate(p, DPSGD(0.3, clip=0.7), 3000, replicas=64, metrics={"dist_xc": lambda q, x: np.sum(
        (x - clipped_fixed_point(p, 0.7)) ** 2, axis=-1)})
    assert tr.mean("dist_xc")[-1] < 1e-16


@pytest.mark.parametrize("method", [DPSGD(0.05, clip=0.5, noise_multiplier=1.0, batch_size=4),
                                    DiceSGD(0.05, clip=0.5, clip_error=1.0, noise_multiplier=1.0, batch_size=4)],
                         ids=["dpsgd", "dicesgd"])
def test_backends_and_chunks_agree(method):
    p = problem()
    ref = cs.simulate(p, method, 30, replicas=128, metrics=["dist_sq"])
    strict = cs.simulate(p, method, 30, replicas=128, metrics=["dist_sq"], backend="array_api_strict")
    chunked = cs.simulate(p, method, 30, replicas=128, metrics=["dist_sq"], chunk_size=64)
    np.testing.assert_allclose(strict.values("dist_sq"), ref.values("dist_sq"), rtol=1e-10)
    np.testing.assert_array_equal(chunked.values("dist_sq"), ref.values("dist_sq"))
