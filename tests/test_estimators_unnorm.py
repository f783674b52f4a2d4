"""Compositional MLE and NCE for a 1-d Gaussian mean (convsim.estimators.unnormalized): closed forms, a scipy
minimizer of the NCE loss, finite differences of both objectives, and every backend."""

import math

import numpy as np
import pytest
import scipy.optimize

from convsim.backend import to_numpy
from convsim.estimators.runner import sample_rows
from convsim.estimators.unnormalized import (NCE, CompositionalMLE, GaussianMeanEstimation, NCEState,
                                             nce_asymptotic_variance, scaled_estimation_errors, squared_errors)


@pytest.mark.parametrize("nu", [0.5, 1.0, 4.0])
def test_asymptotic_variance_with_noise_equal_to_data_is_one_plus_one_over_nu(nu):
    # q = p_d: P_nu is the constant nu/(1 + nu), so Sigma = (1 + 1/nu) Cov(T)^-1 and Sigma_11 = 1 + 1/nu
    problem = GaussianMeanEstimation(true_mean=0.7, noise_mean=0.7, noise_std=1.0)
    assert nce_asymptotic_variance(problem, nu) == pytest.approx(1 + 1 / nu, rel=1e-8)


def test_asymptotic_variance_falls_to_the_mle_as_the_noise_ratio_grows():
    problem = GaussianMeanEstimation(true_mean=1.0, noise_std=2.0)
    values = [nce_asymptotic_variance(problem, nu) for nu in (0.5, 1.0, 4.0, 64.0, 1e6)]
    assert all(a > b for a, b in zip(values, values[1:]))
    assert values[-1] == pytest.approx(1.0, abs=1e-4)


def _nce_loss(problem, nu, eta, x, y):
    def logit(u):
        return -u * u / 2 + eta[0] * u + eta[1] - to_numpy(problem.log_noise(u, np)) - math.log(nu)
    return np.mean(np.logaddexp(0, -logit(x))) + nu * np.mean(np.logaddexp(0, logit(y)))


@pytest.mark.parametrize("nu", [1.0, 2.0])
def test_nce_estimate_is_the_minimizer_of_the_nce_loss(nu):
    problem = GaussianMeanEstimation(true_mean=1.0, noise_std=2.0)
    rng = np.random.default_rng(3)
    x = 1.0 + rng.standard_normal((3, 60))
    y = 2.0 * rng.standard_normal((3, int(60 * nu)))
    theta = NCE(noise_ratio=nu).estimate(problem, x, y, np)
    for r in range(3):
        best = scipy.optimize.minimize(lambda e: _nce_loss(problem, nu, e, x[r], y[r]), [0.0, -1.0],
                                       method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})
        assert theta[r] == pytest.approx(best.x[0], abs=1e-6)


def test_nce_gradient_matches_finite_differences_and_sgd_moves_along_it():
    problem = GaussianMeanEstimation(true_mean=1.0, noise_std=2.0)
    rng = np.random.default_rng(4)
    x, y = 1.0 + rng.standard_normal((1, 20)), 2.0 * rng.standard_normal((1, 20))
    nce = NCE(step=0.1, noise_ratio=1.0)
    eta = np.array([0.3, -1.2])
    g1, g0 = nce.gradient(problem, eta[:1], eta[1:], x, y, np)
    h = 1e-6
    loss = lambda e: _nce_loss(problem, 1.0, e, x[0], y[0])
    fd = [(loss(eta + h * e) - loss(eta - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose([g1[0], g0[0]], fd, rtol=1e-6)
    # one SGD step in (theta, c), log p_m = -(u - theta)^2/2 + c, against finite differences in those coordinates
    theta, c = 0.3, -1.2 + 0.3**2 / 2
    loss_tc = lambda t, cc: _nce_loss(problem, 1.0, np.array([t, cc - t * t / 2]), x[0], y[0])
    d_theta = (loss_tc(theta + h, c) - loss_tc(theta - h, c)) / (2 * h)
    d_c = (loss_tc(theta, c + h) - loss_tc(theta, c - h)) / (2 * h)
    new = nce.update(problem, NCEState(np.array([theta]), np.array([-1.2])), x, y, np)
    assert new.eta1[0] == pytest.approx(theta - 0.1 * d_theta, abs=1e-8)
    assert new.eta0[0] + new.eta1[0] ** 2 / 2 == pytest.approx(c - 0.1 * d_c, abs=1e-8)


def test_compositional_first_step_is_the_gradient_of_the_sampled_log_likelihood():
    # with u = Z_hat (the first step) the step is -eta d/dtheta [mean (x - theta)^2/2 + log Z_hat(theta)]
    problem = GaussianMeanEstimation(true_mean=2.0, noise_std=2.0)
    rng = np.random.default_rng(5)
    x, y = 2.0 + rng.standard_normal((1, 8)), 2.0 * rng.standard_normal((1, 8))
    method = CompositionalMLE(step=0.1, average=0.3)
    state = method.init(problem, np, np.zeros(1))
    nll = lambda t: np.mean((x[0] - t) ** 2) / 2 + np.log(np.mean(np.exp(-(y[0] - t) ** 2 / 2
                                                                          - to_numpy(problem.log_noise(y[0], np)))))
    h = 1e-6
    new = method.update(problem, state, x, y, np)
    assert new.theta[0] == pytest.approx(-0.1 * (nll(h) - nll(-h)) / (2 * h), abs=1e-8)


def test_partition_estimate_is_unbiased_and_the_population_gradient_is_the_data_term():
    # Z(theta) = sqrt(2 pi) for every theta: E u = sqrt(2 pi), and the mean step is -eta (theta - theta*) (1 + O(1/m))
    problem = GaussianMeanEstimation(true_mean=1.5, noise_std=2.0, data_batch=4, noise_batch=4096)
    method = CompositionalMLE(step=0.5)

    def draw(rng, xp):
        x, y = problem.draw(rng, xp)
        new = method.update(problem, method.init(problem, xp, x[:, 0]), x, y, xp)
        return xp.stack([new.partition, new.theta], axis=1)
    v = sample_rows(draw, 1024)
    assert v[:, 0].mean() == pytest.approx(math.sqrt(2 * math.pi), rel=2e-3)
    assert v[:, 1].mean() == pytest.approx(0.5 * 1.5, abs=0.02)


def test_both_experiments_agree_on_every_backend(backend):
    problem = GaussianMeanEstimation(true_mean=3.0, noise_std=2.0)
    run = lambda b: sample_rows(lambda rng, xp: squared_errors(problem, [CompositionalMLE(), NCE()], 5, rng, xp),
                                128, backend=b)
    np.testing.assert_allclose(run(backend), run("numpy"), rtol=1e-6, atol=1e-12)
    small = GaussianMeanEstimation(true_mean=1.0, noise_std=2.0)
    est = lambda b: sample_rows(lambda rng, xp: scaled_estimation_errors(small, NCE(), 30, 30, rng, xp), 64, backend=b)
    np.testing.assert_allclose(est(backend), est("numpy"), rtol=1e-6, atol=1e-12)
