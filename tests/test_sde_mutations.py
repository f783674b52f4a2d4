"""The SDE pieces that issue #11's mutations act on, and the exact references of the sde claims, against closed forms."""

import math
import sys

import numpy as np
import pytest
import scipy.linalg

import convsim as cs
from convsim import mutations as mu
from convsim.claims import discover
from convsim.sde.adaptive import adam_sde_moments, partly_affine_moments, rmsprop_sde_moments


def _module_of(claim_id):
    return sys.modules[discover()[claim_id].experiment.__module__]


def _adaptive_problem(eta):
    return cs.problems.Quadratic(np.array([1.0, 0.3]), noise=cs.noise.Gaussian(0.2 / eta), r0=3.0)


@pytest.mark.parametrize("kind", ["adam", "rmsprop"])
def test_moments_read_off_the_sde_object_equal_the_closed_form_moments(kind):
    eta = 0.1
    p = _adaptive_problem(eta)
    b1, b2, eps = 1 - 4 * eta**2, 1 - 2 * eta**2, 0.5 / eta
    theta0 = p.initial_point()
    if kind == "adam":
        sde, k = cs.sde.adam_sde(p, eta, b1, b2, eps), 4
        want = adam_sde_moments(p, eta, b1, b2, eps, 1.0)
    else:
        sde, k = cs.sde.rmsprop_sde(p, eta, b2, eps), 2
        want = rmsprop_sde_moments(p, eta, b2, eps, 1.0)
    z0 = np.concatenate([theta0, np.zeros(sde.dim - 2)])
    mean, cov = partly_affine_moments(sde, z0, 1.0, random=slice(0, k), t0=1e-9)
    np.testing.assert_allclose(mean[:2], want[0], rtol=1e-7)
    np.testing.assert_allclose(cov[:2, :2], want[1], rtol=1e-6, atol=1e-12)
    # The diffusion dropped through the mutation API: same mean, no covariance at all.
    dropped, hits = mu.drop("diffusion", on="SDE").apply(sde)
    assert hits == 1
    mean0, cov0 = partly_affine_moments(dropped, z0, 1.0, random=slice(0, k), t0=1e-9)
    np.testing.assert_allclose(mean0[:2], want[0], rtol=1e-7)
    assert np.abs(cov0).max() == 0.0


def test_linear_sde_correction_is_part_of_the_drift_and_order_two_sme_matches_sgd_locally():
    p = cs.problems.Quadratic(cs.spectra.geometric(3, 1.0, 0.2), rotate=True, seed=2, noise=cs.noise.Gaussian(0.5, 1.0))
    H, eta = p.hessian(), 0.05
    two = cs.sde.sgd_sde(p, eta, order=2)
    np.testing.assert_allclose(two.drift_matrix, H + 0.5 * eta * H @ H, rtol=1e-12)
    np.testing.assert_allclose(two.stationary_covariance(),
                               scipy.linalg.solve_continuous_lyapunov(H + 0.5 * eta * H @ H, eta * 0.25 * H), rtol=1e-10)
    assert cs.sde.sgd_sde(p, eta).correction is None
    first, hits = mu.drop("correction", on="LinearSDE").apply(two)
    assert hits == 1
    np.testing.assert_allclose(first.drift_matrix, H, atol=1e-15)
    # One step of SGD's mean map I - eta H against the SMEs' exp(-eta A): O(eta^2) for order 1, O(eta^3) for order 2.
    for order, power in ((1, 2), (2, 3)):
        gaps = []
        for h in (0.02, 0.01):
            A = cs.sde.sgd_sde(p, h, order=order).drift_matrix
            gaps.append(np.abs(scipy.linalg.expm(-h * A) - (np.eye(3) - h * H)).max())
        assert gaps[0] / gaps[1] == pytest.approx(2**power, rel=0.05)


def test_sgd_exact_weak_reference_is_the_exact_sgd_law():
    module = _module_of("sgd-sde-weak-order2")
    s = {"d": 3, "sigma": 0.5}
    p = module.problem_for(s)
    H, eta, k = p.hessian(), 0.1, 7
    e0 = p.initial_point() - p.x_star
    M = np.eye(3) - eta * H
    S = sum(np.linalg.matrix_power(M, j) @ (eta**2 * 0.25 * H) @ np.linalg.matrix_power(M, j).T for j in range(k))
    e = np.linalg.matrix_power(M, k) @ e0
    assert module.sgd_exact_value(p, 0.5, eta, k) == pytest.approx(0.5 * (e @ H @ e + np.trace(H @ S)), rel=1e-12)


def test_sam_exact_law_one_step_and_usam_recursion():
    module = _module_of("sam-sde-noise")
    eta, rho, s = 0.1, 0.1, 0.5
    # One SAM step from 0: x1 = -eta (u + rho sign u), u ~ N(0, s^2): E x1^2/2 = eta^2 (s^2 + 2 rho s sqrt(2/pi) + rho^2)/2.
    want = 0.5 * eta**2 * (s**2 + 2 * rho * s * math.sqrt(2 / math.pi) + rho**2)
    assert module.sam_exact_value(eta, rho, s, 0.0, eta, 1001) == pytest.approx(want, rel=2e-3)
    # USAM's recursion against a direct Monte Carlo of x <- x - eta (I + rho H)(H x + xi).
    p = module.usam_problem({"d": 2, "noise": 0.2, "r0": 1.0})
    H, rng, x = p.hessian(), np.random.default_rng(0), np.tile(p.initial_point(), (100_000, 1))
    root = np.linalg.cholesky(0.04 * H)
    for _ in range(5):
        g = x @ H + rng.standard_normal(x.shape) @ root.T
        x = x - 0.2 * (g + 0.5 * g @ H)
    mc = 0.5 * np.mean(np.sum((x @ H) * x, axis=1))
    assert module.usam_exact_value(p, 0.2, 0.5, 0.2, 1.0) == pytest.approx(mc, rel=1e-2)


def test_sharpness_drift_fields_are_what_the_mutations_rewrite():
    p = cs.problems.Quadratic(np.array([1.0, 0.4]), noise=cs.noise.Gaussian(0.3), r0=1.0)
    x = np.array([[0.3, -0.2], [1.0, 0.5]])
    H = p.hessian()
    usam = cs.sde.usam_sde(p, 0.01, 0.3)
    np.testing.assert_allclose(usam.drift(x, 0.0), -(x @ H) @ (np.eye(2) + 0.3 * H), rtol=1e-12)
    no_rho, hits = mu.set_field("rho", 0.0, on="SharpnessDrift").apply(usam)
    assert hits == 1
    np.testing.assert_allclose(no_rho.drift(x, 0.0), -(x @ H), rtol=1e-12)
    dnsam = cs.sde.dnsam_sde(p, 0.01, 0.3)
    as_usam, _ = mu.set_field("normalization", "none", on="SharpnessDrift").apply(dnsam)
    np.testing.assert_allclose(as_usam.drift(x, 0.0), usam.drift(x, 0.0), rtol=1e-12)
    with pytest.raises(cs.ConvsimError, match="normalization"):
        cs.sde.sharpness.SharpnessDrift(usam.drift.noisy, 0.1, "sideways")


def test_scaling_rule_objects_reproduce_the_rules_and_can_be_mutated():
    assert cs.sde.SQUARE_ROOT.apply(4, 1e-3, beta1=0.9, beta2=0.999, eps=1e-8) == cs.sde.sqrt_rule(
        1e-3, 4, beta1=0.9, beta2=0.999, eps=1e-8)
    assert cs.sde.LINEAR.apply(8, 0.1) == cs.sde.linear_rule(0.1, 8)
    wrong, hits = mu.set_field("eta_power", 1.0, on="ScalingRule").apply(cs.sde.SQUARE_ROOT)
    assert hits == 1 and wrong.apply(4, 1e-3)["eta"] == pytest.approx(4e-3)
    with pytest.raises(cs.ConvsimError, match="square-root rule needs"):
        cs.sde.SQUARE_ROOT.apply(20, 0.01, beta1=0.9)
