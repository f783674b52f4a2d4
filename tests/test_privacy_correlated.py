"""Toeplitz-correlated privacy noise (Noisy-FTRL / ν-DP-FTRL): coefficients, sensitivity, the update draw for draw,
its exact law against Monte Carlo and convsim.exact, and the frequency-domain limit against the recursion."""

import numpy as np
import pytest
import scipy.linalg
import scipy.special

import convsim as cs
from convsim.methods.base import Oracle
from convsim.privacy import (CorrelatedNoiseSGD, correlated_noise_moments, inverse_coefficients,
                             nu_dp_ftrl_coefficients, stationary_error_lti, toeplitz_sensitivity)
from convsim.random import ReplicaStreams

BACKENDS = ["numpy", "array_api_strict"]


def test_nu_dp_ftrl_coefficients_are_the_binomial_series_of_the_damped_square_root():
    nu, t = 0.05, np.arange(40)
    expected = (-1.0) ** t * scipy.special.binom(0.5, t) * (1 - nu) ** t
    np.testing.assert_allclose(nu_dp_ftrl_coefficients(nu, 40), expected, rtol=1e-12, atol=1e-300)
    # squared, the series is 1 - (1 - nu) z: convolving beta with itself gives (1, -(1 - nu), 0, 0, ...)
    b = nu_dp_ftrl_coefficients(nu, 200)
    np.testing.assert_allclose(np.convolve(b, b)[:200], np.r_[1.0, -(1 - nu), np.zeros(198)], atol=1e-12)


def test_inverse_coefficients_and_sensitivity_against_the_dense_toeplitz_inverse():
    beta, T = nu_dp_ftrl_coefficients(0.1, 12), 30
    B = scipy.linalg.toeplitz(np.r_[beta, np.zeros(T - beta.size)], np.zeros(T))
    Binv = np.linalg.inv(B)
    np.testing.assert_allclose(inverse_coefficients(beta, T), Binv[:, 0], rtol=1e-10, atol=1e-14)
    assert toeplitz_sensitivity(beta, T) == pytest.approx(np.linalg.norm(Binv, axis=0).max(), rel=1e-12)
    # nu -> 0: 1/beta is (1 - z)^(-1/2), coefficients C(2t, t)/4^t, and gamma_T^2 grows like log(T)/pi
    t = np.arange(T)
    c = inverse_coefficients(nu_dp_ftrl_coefficients(1e-15, T), T)
    np.testing.assert_allclose(c, scipy.special.comb(2 * t, t) / 4.0**t, rtol=1e-9)
    assert toeplitz_sensitivity(np.ones(1), 100) == 1.0  # Noisy-SGD: B = I


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_update_draw_for_draw_against_a_numpy_restatement(backend):
    xp = cs.backend.namespace(backend)
    lam = np.array([1.0, 0.5, 0.2])
    p = cs.problems.Quadratic(lam)  # exact gradients: the method draws only its noise
    beta, eta, s, R, T = nu_dp_ftrl_coefficients(0.2, 5), 0.3, 0.7, 4, 12
    method = CorrelatedNoiseSGD(eta, s, beta)
    x0 = np.tile(p.initial_point(), (R, 1))
    state = method.init(xp.asarray(x0))
    oracle = Oracle(p, ReplicaStreams(xp, 7, 0, R))
    for t in range(T):
        state = method.step(state, oracle, t)
    draws = ReplicaStreams(cs.backend.namespace("numpy"), 7, 0, R)
    x, past = x0.copy(), []
    for t in range(T):
        past.insert(0, s * np.asarray(draws.normal(3)))
        noise = sum(beta[k] * past[k] for k in range(min(beta.size, len(past))))
        x = x - eta * (lam * x + noise)
    np.testing.assert_allclose(np.asarray(method.point(state)), x, rtol=1e-12, atol=1e-14)


def test_independent_noise_without_noise_is_sgd_and_the_exact_law_is_convsim_exact():
    for noise in (cs.noise.LinearRegression(0.3), cs.noise.Gaussian(0.3, power=1.0)):
        p = cs.problems.Quadratic(cs.spectra.geometric(d=5, L=1.0, mu=0.1), noise=noise)
        ref = cs.exact.moments(p, cs.methods.SGD(0.2), 300, record=16)
        ours = correlated_noise_moments(p, 0.2, [1.0], 0.0, 300, record=16)
        np.testing.assert_allclose(ours["suboptimality"], ref.expected("suboptimality"), rtol=1e-10)
        np.testing.assert_allclose(ours["dist_sq"], ref.expected("dist_sq"), rtol=1e-10)
        # independent DP noise N(0, s^2 I) is additive isotropic noise: SGD's law with the two noises summed
        a = correlated_noise_moments(p, 0.2, [1.0], 0.5, 300, record=16)["suboptimality"]
        b = correlated_noise_moments(p, 0.2, [1.0], 0.0, 300, record=16)["suboptimality"]
        lam, eta = p.eigenvalues, 0.2
        var = 0.25 * eta**2 * (1 - (1 - eta * lam) ** (2 * ref.steps[:, None])) / (1 - (1 - eta * lam) ** 2)
        if type(noise) is cs.noise.Gaussian:  # no multiplicative coupling: the two laws add exactly
            np.testing.assert_allclose(a - b, 0.5 * var @ lam, rtol=1e-10)
        else:
            assert np.all(a[1:] > b[1:] + 0.5 * var[1:] @ lam * 0.999)  # the features amplify the DP noise too


@pytest.mark.parametrize("backend", BACKENDS)
def test_monte_carlo_matches_the_exact_law_on_streaming_regression(backend):
    p = cs.problems.Quadratic(cs.spectra.geometric(d=4, L=1.0, mu=0.2), noise=cs.noise.LinearRegression(0.2))
    beta = nu_dp_ftrl_coefficients(0.05, 16)
    tr = cs.simulate(p, CorrelatedNoiseSGD(0.2, 0.5, beta), 200, replicas=4096, metrics=["suboptimality"], record=8,
                     seed=3, backend=backend)
    exact = correlated_noise_moments(p, 0.2, beta, 0.5, 200, record=tr.steps)["suboptimality"]
    mc = tr.values("suboptimality").mean(axis=0)
    np.testing.assert_allclose(mc[1:], exact[1:], rtol=0.08)


def test_frequency_domain_limit_equals_the_recursion_run_to_stationarity():
    lam = np.array([1.0, 0.3, 0.1])
    p = cs.problems.Quadratic(lam, noise=cs.noise.Gaussian(0.2, power=1.0))
    for beta in (np.ones(1), nu_dp_ftrl_coefficients(0.02, 50), np.array([1.0, 0.5, 0.25])):
        lim = stationary_error_lti(lam, 0.25, beta, 0.8, 0.04 * lam)
        run = correlated_noise_moments(p, 0.25, beta, 0.8, 4000, record=[4000])
        assert run["suboptimality"][-1] == pytest.approx(lim["suboptimality"], rel=1e-8)
        assert run["dist_sq"][-1] == pytest.approx(lim["dist_sq"], rel=1e-8)
    # Noisy-SGD closed form: eta^2 s^2 / (1 - a^2) per eigendirection
    a = 1 - 0.25 * lam
    assert stationary_error_lti(lam, 0.25, [1.0], 0.8)["dist_sq"] == pytest.approx(np.sum(0.0625 * 0.64 / (1 - a * a)))


def test_bad_input_is_a_one_line_error():
    with pytest.raises(cs.ConvsimError, match="beta_0"):
        CorrelatedNoiseSGD(0.1, 1.0, np.array([0.0, 1.0]))
    with pytest.raises(cs.ConvsimError, match="nu"):
        nu_dp_ftrl_coefficients(0.0, 4)
    with pytest.raises(cs.ConvsimError, match="diagonal"):
        correlated_noise_moments(cs.problems.Quadratic([1.0, 0.5], rotate=True), 0.1, [1.0], 1.0, 10)


def test_runs_do_not_depend_on_the_chunk_size():
    p = cs.problems.Quadratic(cs.spectra.geometric(d=3, L=1.0, mu=0.2), noise=cs.noise.LinearRegression(0.2))
    method = CorrelatedNoiseSGD(0.2, 0.5, nu_dp_ftrl_coefficients(0.05, 8))
    a = cs.simulate(p, method, 40, replicas=192, metrics=["dist_sq"], record=8, seed=1, chunk_size=64)
    b = cs.simulate(p, method, 40, replicas=192, metrics=["dist_sq"], record=8, seed=1, chunk_size=192)
    np.testing.assert_array_equal(a.values("dist_sq"), b.values("dist_sq"))
