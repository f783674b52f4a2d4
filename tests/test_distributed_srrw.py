"""The self-repellent random walk and token SGD: the kernel's definition, the base chain's known laws
(one-step transition law, the Markov-chain CLT variance), convergence of the walk's measure to μ,
and backend agreement."""

import numpy as np
import pytest
from scipy import stats

import convsim as cs
from convsim.distributed import WorkerQuadratics, graphs
from convsim.distributed.random_walk import SRRWSGD, srrw_kernel, stationary_law
from convsim.schedules import power_decay


def test_stationary_law_solves_pi_p_equals_pi():
    rng = np.random.default_rng(0)
    P = rng.uniform(size=(5, 5))
    P /= P.sum(axis=1, keepdims=True)
    pi = stationary_law(P)
    np.testing.assert_allclose(pi @ P, pi, atol=1e-12)
    np.testing.assert_allclose(stationary_law(graphs.ring(6)), np.full(6, 1 / 6), atol=1e-12)


def test_kernel_is_the_base_chain_at_the_target_and_repels_overvisited_nodes():
    P, mu = graphs.ring(6), np.full(6, 1 / 6)
    np.testing.assert_allclose(srrw_kernel(P, mu, mu, 5.0), P, atol=1e-12)
    x = np.array([0.3, 0.1, 0.15, 0.15, 0.15, 0.15])
    K = srrw_kernel(P, mu, x, 2.0)
    np.testing.assert_allclose(K.sum(axis=1), 1.0)
    np.testing.assert_allclose(srrw_kernel(P, mu, x, 0.0), P)
    # restated definition: K(i, j) ∝ P(i, j) (x_j/μ_j)^(−α)
    ref = P * (x / mu) ** -2.0
    np.testing.assert_allclose(K, ref / ref.sum(axis=1, keepdims=True), rtol=1e-12)
    assert K[1, 0] < P[1, 0] and K[1, 1] > P[1, 1]  # node 0 was overvisited, node 1 undervisited


def problem(M=6):
    return WorkerQuadratics.random(M, 2, mu=1.0, L=1.0, zeta=1.0, spread=0.0, sigma=0.0, seed=1)


@pytest.mark.parametrize("alpha", [0.0, 3.0])
def test_first_move_follows_the_base_chain_row(alpha):
    # the measure starts at μ, so the first move's law is P(0, ·) for every α; read it off θ_1 = b_X (β_1 = 1)
    p, P = problem(), graphs.ring(6)
    tr = cs.simulate(p, SRRWSGD(power_decay(1.0, 1.0, 1.0), P, alpha), 1, replicas=6000, metrics=["dist_sq"])
    d1 = tr.values("dist_sq")[:, -1]
    targets = np.sum((p.optima - p.x_star) ** 2, axis=1)
    counts = np.array([np.sum(np.isclose(d1, v)) for v in targets])
    assert counts.sum() == 6000
    expected = 6000 * P[0]
    mask = expected > 0
    assert np.all(counts[~mask] == 0)
    assert stats.chisquare(counts[mask], expected[mask]).pvalue > 1e-3


def test_base_chain_token_sgd_has_the_markov_chain_clt_variance():
    # α = 0, unit curvature, β_n = 1/(n + 2): θ_n is the ergodic average of b_X, whose (n + 2)-scaled
    # variance tends to Σ_i (1 + λ_i)/(1 − λ_i) ‖v_iᵀ f‖² / M for a symmetric P (classical CLT)
    M, T, R = 6, 2048, 2048
    p, P = problem(M), graphs.ring(M)
    lam, vecs = np.linalg.eigh(P)
    keep = np.abs(lam - 1) > 1e-9
    proj = np.sum((vecs.T @ (p.optima - p.x_star)) ** 2, axis=1)[keep]
    clt = float(np.sum((1 + lam[keep]) / (1 - lam[keep]) * proj) / M)
    tr = cs.simulate(p, SRRWSGD(power_decay(1.0, 1.0, 2.0), P, 0.0), T, replicas=R, metrics=["dist_sq"], record=4)
    v = tr.values("dist_sq")[:, -1] * (T + 1)
    assert abs(v.mean() - clt) < 4 * v.std() / np.sqrt(R) + 0.02 * clt


def test_repellence_drives_the_measure_to_the_target_faster_than_the_base_chain():
    M = 6
    p, P = problem(M), graphs.ring(M)
    errs = {}
    for alpha in (0.0, 4.0):
        m = SRRWSGD(power_decay(1.0, 1.0, 2.0), P, alpha)
        tr = cs.simulate(p, m, 400, replicas=512, metrics=["dist_sq"], record=4)
        errs[alpha] = tr.values("dist_sq")[:, -1].mean()
    assert errs[4.0] < errs[0.0] / 3


def test_strict_backend_agrees_with_numpy_draw_for_draw():
    p, P = problem(), graphs.ring(6)
    m = SRRWSGD(power_decay(1.0, 1.0, 2.0), P, 2.0, power_decay(1.0, 0.6, 2.0))
    a = cs.simulate(p, m, 40, replicas=32, metrics=["dist_sq"]).values("dist_sq")
    b = cs.simulate(p, m, 40, replicas=32, metrics=["dist_sq"], backend="array_api_strict").values("dist_sq")
    np.testing.assert_allclose(a, b, rtol=1e-9)


def test_srrw_validates_its_arguments():
    with pytest.raises(cs.ConvsimError):
        SRRWSGD(0.1, np.array([[0.5, 0.4], [0.5, 0.5]]))
    with pytest.raises(cs.ConvsimError):
        SRRWSGD(0.1, graphs.ring(4), alpha=-1.0)
