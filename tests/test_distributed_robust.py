"""Robust aggregators against restated definitions and their robustness properties; Byzantine attacks;
MoNNA's known answers (f = 0 and far attacks reduce it to attack-free momentum SGD) and its exact law."""


import numpy as np
import pytest
from scipy import stats

import convsim as cs
from convsim.distributed import WorkerQuadratics
from convsim.distributed import aggregators as agg
from convsim.distributed.byzantine import (ALittleIsEnough, LargeConstant, MoNNA, SignFlip, agreeing_moments,
                                           alie_z)

BACKENDS = ["numpy", "array_api_strict"]


def on(backend, a):
    return cs.backend.namespace(backend).asarray(a)


def host(a):
    return np.asarray(a.__array__() if hasattr(a, "__array__") else a)


def vectors(R=5, n=9, d=3, seed=0):
    return np.random.default_rng(seed).standard_normal((R, n, d))


@pytest.mark.parametrize("backend", BACKENDS)
def test_median_and_trimmed_mean_match_numpy_and_scipy(backend):
    for n in (9, 10):
        V = vectors(n=n)
        np.testing.assert_allclose(host(agg.coordinate_median(on(backend, V))), np.median(V, axis=1), rtol=1e-12)
        for f in (0, 1, 2, 4):
            # scipy cuts int(proportion * n) values from each end: exactly f here
            ref = stats.trim_mean(V, (f + 0.5) / n, axis=1)
            np.testing.assert_allclose(host(agg.trimmed_mean(on(backend, V), f)), ref, rtol=1e-12)


def brute_krum(V, f):
    n = V.shape[0]
    scores = []
    for i in range(n):
        dist = sorted(float(np.sum((V[i] - V[j]) ** 2)) for j in range(n) if j != i)
        scores.append(sum(dist[:n - f - 2]))
    return V[int(np.argmin(scores))]


def brute_nna(V, f, pivot):
    dist = [float(np.sum((v - pivot) ** 2)) for v in V]
    order = sorted(range(len(V)), key=lambda j: (dist[j], j))
    return V[order[:len(V) - f]].mean(axis=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_krum_and_nearest_neighbour_average_match_their_definitions(backend):
    V = vectors(n=9)
    for f in (1, 2, 3):
        np.testing.assert_allclose(host(agg.krum(on(backend, V), f)), [brute_krum(v, f) for v in V], rtol=1e-12)
        nnm = host(agg.nearest_neighbour_average(on(backend, V), f))
        ref = [[brute_nna(v, f, v[i]) for i in range(v.shape[0])] for v in V]
        np.testing.assert_allclose(nnm, ref, rtol=1e-12)


def test_nearest_mask_breaks_ties_by_index_and_keeps_exactly_n_minus_f():
    D = np.array([[[1.0, 0.0, 1.0, 1.0, 2.0]]])
    np.testing.assert_array_equal(agg.nearest_mask(D, 3), [[[1.0, 1.0, 1.0, 0.0, 0.0]]])


@pytest.mark.parametrize("rule", ["median", "trimmed-mean", "krum"])
@pytest.mark.parametrize("pre_nnm", [False, True])
def test_robust_rules_stay_in_the_honest_box_whatever_f_outliers_send(rule, pre_nnm):
    # f < n/2 arbitrary vectors cannot drag a robust rule outside the honest coordinate-wise range
    # (median, trimmed mean) or off the honest points (Krum's pick is honest when outliers are far);
    # the plain mean goes wherever the outliers push it
    rng = np.random.default_rng(1)
    n, f, d = 11, 3, 4
    honest = rng.standard_normal((64, n - f, d))
    for far in (1e3, -1e6):
        V = np.concatenate([honest, np.full((64, f, d), far) + rng.standard_normal((64, f, d))], axis=1)
        out = agg.aggregate(rule, V, f, pre_nnm=pre_nnm)
        assert np.all(out >= honest.min(axis=1) - 1e-9) and np.all(out <= honest.max(axis=1) + 1e-9)
        assert np.abs(agg.mean(V) - honest.mean(axis=1)).max() > 100


def test_nnm_with_far_outliers_returns_the_honest_mean_for_every_honest_vector():
    rng = np.random.default_rng(2)
    honest = rng.standard_normal((8, 7, 3))
    V = np.concatenate([honest, np.full((8, 2, 3), 50.0)], axis=1)
    out = agg.nearest_neighbour_average(V, 2)[:, :7]
    np.testing.assert_allclose(out, np.broadcast_to(honest.mean(axis=1, keepdims=True), out.shape), rtol=1e-12)


def test_aggregators_reject_a_faulty_majority():
    with pytest.raises(cs.ConvsimError):
        agg.trimmed_mean(vectors(n=6), 3)
    with pytest.raises(cs.ConvsimError):
        agg.aggregate("geomed", vectors(), 1)


def test_attacks_follow_their_definitions():
    honest = vectors(R=4, n=8, d=3)
    mu, sd = honest.mean(axis=1), honest.std(axis=1)
    np.testing.assert_allclose(SignFlip(2.0)(honest, 2), np.repeat(-2.0 * mu[:, None], 2, axis=1))
    np.testing.assert_allclose(LargeConstant(7.0)(honest, 3), np.full((4, 3, 3), 7.0))
    # Baruch et al.: n = 10, f = 2 gives s = 4 and z_max = Φ⁻¹(0.6)
    assert alie_z(10, 2) == pytest.approx(stats.norm.ppf(0.6))
    np.testing.assert_allclose(ALittleIsEnough()(honest, 2)[:, 0], mu - stats.norm.ppf(0.6) * sd, rtol=1e-12)


def problem():
    return WorkerQuadratics.random(6, 3, mu=0.2, L=1.0, zeta=1.0, spread=0.5, sigma=0.7, seed=3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_monna_under_a_far_attack_is_attack_free_momentum_sgd_draw_for_draw(backend):
    # NNA keeps exactly the honest half steps when the faulty ones are far; the gradient draws are
    # the honest workers' only, so the runs must agree to rounding
    p = problem()
    run = lambda m: cs.simulate(p, m, 60, replicas=32, backend=backend, metrics=["dist_sq"]).values("dist_sq")
    clean = run(MoNNA(0.1, 6, 0, mixing="mean"))
    np.testing.assert_allclose(run(MoNNA(0.1, 6, 2, attack=LargeConstant(1e3))), clean, rtol=1e-9)
    np.testing.assert_allclose(run(MoNNA(0.1, 6, 0)), clean, rtol=1e-9)  # NNA with f = 0 keeps everyone


def test_plain_averaging_under_a_constant_attack_matches_its_exact_law():
    p = problem()
    for method in (MoNNA(0.1, 6, 2, attack=LargeConstant(5.0), mixing="mean"), MoNNA(0.1, 6, 0, momentum=0.5)):
        vals = cs.simulate(p, method, 200, replicas=4096, metrics=["dist_sq"], record=8).values("dist_sq")
        ex = agreeing_moments(p, method, 200, record=8)["dist_sq"]
        se = vals.std(axis=0) / np.sqrt(vals.shape[0])
        assert np.all(np.abs(vals.mean(axis=0) - ex) < 5 * se + 1e-12)


def test_exact_plain_averaging_fixed_point_is_the_closed_form_bias():
    # stationary mean of e solves e (f/n) + (H/n) γ h̄ e = (f/n)(c − x*): e = f (c − x*) / (f + H γ h̄)
    p = WorkerQuadratics.random(6, 3, mu=0.2, L=1.0, zeta=1.0, spread=0.5, sigma=0.0, seed=3)
    m = MoNNA(0.1, 6, 2, attack=LargeConstant(5.0), mixing="mean")
    e = 2 * (5.0 - p.x_star) / (2 + 6 * 0.1 * p.mean_curvature)
    assert agreeing_moments(p, m, 3000, record=4)["dist_sq"][-1] == pytest.approx(float(e @ e), rel=1e-9)


def test_monna_validates_its_arguments():
    for bad in (dict(faulty=6), dict(momentum=1.0), dict(mixing="median")):
        kw = {"step_size": 0.1, "honest": 6, "faulty": 1, **bad}
        with pytest.raises(cs.ConvsimError):
            MoNNA(**kw)
