"""Estimator toys of convsim.estimators against independent references (quadrature, enumeration, scipy)."""

import itertools
import math

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.stats

import convsim as cs
from convsim.backend import namespace, to_numpy
from convsim.estimators import ScalarLSA, TailIndex, hill_index, index_series, kesten_index, log_abs_normal_moment
from convsim.estimators.column_row import ColumnRowSampler
from convsim.estimators.elbo import GaussianELBO, ReparameterizationGradient, ScoreFunctionGradient, gradient_draws
from convsim.estimators.mfac import MFAC, dense_ihvp
from convsim.estimators.mixing import GaussianPair, OptimalMixingWeight, mixture_squared_errors, optimal_weight
from convsim.estimators.runner import as_series, best_of, sample_rows
from convsim.random import ReplicaStreams


def normal_expectation(fn, mean=0.0, std=1.0):
    return scipy.integrate.quad(lambda z: fn(z) * scipy.stats.norm.pdf(z, mean, std), mean - 12 * std,
                                mean + 12 * std, points=[1.0], limit=400)[0]


# -- LSA tails ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p, mean, std", [(0.5, 0.3, 1.2), (2.0, -0.1, 0.4), (3.7, 0.05, 1.1)])
def test_abs_normal_moment_matches_quadrature(p, mean, std):
    exact = math.exp(float(log_abs_normal_moment(p, mean, std)))
    assert exact == pytest.approx(normal_expectation(lambda z: abs(z) ** p, mean, std), rel=1e-7)


@pytest.mark.parametrize("eta", [0.8, 1.1, 1.4])
def test_kesten_index_solves_the_moment_equation_and_falls_with_the_step(eta):
    kappa = kesten_index(eta)
    moment = normal_expectation(lambda a: abs(1 - eta * a) ** kappa, 1.0, 1.0)
    assert moment == pytest.approx(1.0, abs=1e-7)
    assert kesten_index(1.05 * eta) < kappa


def test_kesten_index_refuses_a_step_without_stationary_law():
    with pytest.raises(cs.ConvsimError):
        kesten_index(3.0)


def test_hill_on_pareto_samples_and_against_a_generalized_pareto_fit():
    rng = np.random.default_rng(4)
    x = scipy.stats.pareto.rvs(1.7, size=(200_000, 1), random_state=rng)
    k = 4000
    est = float(hill_index(x, k)[0])
    assert abs(est - 1.7) < 3 * 1.7 / math.sqrt(k)
    top = np.sort(x[:, 0])[::-1]
    shape, _, _ = scipy.stats.genpareto.fit(top[:k] - top[k], floc=0.0)  # exceedances: GPD with shape 1/alpha
    assert 1.0 / shape == pytest.approx(est, rel=0.08)


def test_tail_index_check_accepts_the_truth_and_rejects_a_near_miss():
    rng = np.random.default_rng(5)
    alphas = np.array([0.8, 1.5, 2.5])
    samples = np.stack([scipy.stats.pareto.rvs(a, size=50_000, random_state=rng) for a in alphas], axis=1)
    data = index_series(samples, [1.0, 2.0, 3.0], 2000, "case")
    assert TailIndex(alphas, rtol=0.1).check(data).verdict == "consistent"
    assert TailIndex(1.3 * alphas, rtol=0.1).check(data).verdict == "violated"


def test_scalar_lsa_step_is_the_lsa_recursion(backend):
    xp = namespace(backend)
    problem, eta = ScalarLSA(a_mean=0.7, a_std=0.4, b_mean=0.3, b_std=0.8), 0.3
    theta = xp.asarray(np.linspace(-1, 1, 128)[:, None])
    g = problem.stochastic_grad(theta, ReplicaStreams(xp, 3, 0, 128))
    z = to_numpy(ReplicaStreams(xp, 3, 0, 128).normal(2))
    a, b = 0.7 + 0.4 * z[:, :1], 0.3 + 0.8 * z[:, 1:]
    np.testing.assert_allclose(to_numpy(theta) - eta * to_numpy(g), to_numpy(theta) - eta * (a * to_numpy(theta) - b))
    assert problem.x_star[0] == pytest.approx(0.3 / 0.7)


# -- mixing ----------------------------------------------------------------------------------------------------
def test_mixture_mse_is_the_quadratic_and_the_closed_form_weight_minimizes_it():
    pair = GaussianPair(dim=7, sigma_t=1.5, sigma_e=0.7, rho=-0.2, bias=0.6)
    best = scipy.optimize.minimize_scalar(lambda a: float(pair.mse(a)), bounds=(-2, 3), method="bounded",
                                          options={"xatol": 1e-10}).x
    assert optimal_weight(pair.moments()) == pytest.approx(best, abs=1e-6)
    values = sample_rows(lambda rng, xp: mixture_squared_errors(pair, [0.0, 0.4, 1.0], rng, xp, xp.ones(7)), 2**15)
    np.testing.assert_allclose(values.mean(axis=0), pair.mse([0.0, 0.4, 1.0]), rtol=0.03)
    wrong = OptimalMixingWeight(include_bias=False)(pair.moments())
    assert pair.mse(wrong) > pair.mse(best)


def test_best_of_tells_the_smallest_column():
    rng = np.random.default_rng(0)
    base = rng.exponential(size=(4096, 1))
    data = as_series(base * np.array([1.3, 1.0, 1.5]), [0.0, 1.0, 2.0], "option", "loss")
    assert best_of(data, 1).verdict == "consistent"
    assert best_of(data, 0).verdict == "violated"


# -- column-row sampling ----------------------------------------------------------------------------------------
def enumerated_moments(sampler, A, B):
    """E[est] and E||est - AB||^2 by enumerating every tuple of draws (small n, s)."""
    plan = sampler.plan(A, B)
    rest, q, w, s = plan["rest"], plan["q"], plan["weight"], plan["s"]
    kept = A[:, plan["kept"]] @ B[plan["kept"]]
    mean, second = np.zeros_like(A @ B), 0.0
    for tup in itertools.product(range(rest.size), repeat=s):
        prob = np.prod(q[list(tup)])
        est = kept + sum(w[t] * np.outer(A[:, rest[t]], B[rest[t]]) for t in tup)
        mean += prob * est
        second += prob * np.sum((est - A @ B) ** 2)
    return mean, second


@pytest.mark.parametrize("sampler", [ColumnRowSampler(3, "uniform"), ColumnRowSampler(3, "norm"),
                                     ColumnRowSampler(3, "norm", 1), ColumnRowSampler(3, "norm", "adaptive")])
def test_column_row_estimators_are_unbiased_with_the_closed_form_variance(sampler):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((3, 6)) * np.array([4.0, 2.0, 1.0, 0.5, 0.3, 0.2])
    B = rng.standard_normal((6, 2))
    mean, second = enumerated_moments(sampler, A, B)
    np.testing.assert_allclose(mean, A @ B, atol=1e-12)
    assert sampler.exact_variance(A, B) == pytest.approx(second, rel=1e-10)


def test_column_row_monte_carlo_matches_on_every_backend(backend):
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((4, 10)) / np.arange(1, 11), rng.standard_normal((10, 3))
    sampler = ColumnRowSampler(4, "norm", "adaptive")
    v = sample_rows(lambda r, xp: sampler.squared_errors(A, B, r, xp)[:, None], 2**14, backend=backend)
    assert v.mean() == pytest.approx(sampler.exact_variance(A, B), rel=0.05)


def test_sample_rows_does_not_depend_on_the_chunking():
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((4, 10)), rng.standard_normal((10, 3))
    sampler = ColumnRowSampler(4)
    draw = lambda r, xp: sampler.squared_errors(A, B, r, xp)[:, None]
    np.testing.assert_array_equal(sample_rows(draw, 640, chunk=64), sample_rows(draw, 640, chunk=4096))


# -- ELBO gradients ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("baseline", [0.0, 0.7])
def test_elbo_gradient_moments_match_quadrature(baseline):
    model = GaussianELBO(target_mean=0.4, target_std=1.3, mu=-0.2, sigma=0.6)
    sf, rep = ScoreFunctionGradient(baseline=baseline), ReparameterizationGradient()
    g = model.grad_mu()
    assert normal_expectation(lambda e: sf(model, e)) == pytest.approx(g, rel=1e-8)
    assert normal_expectation(lambda e: rep(model, e)) == pytest.approx(g, rel=1e-8)
    assert normal_expectation(lambda e: (sf(model, e) - g) ** 2) == pytest.approx(
        model.variance_score_function(baseline), rel=1e-8)
    assert normal_expectation(lambda e: (rep(model, e) - g) ** 2) == pytest.approx(
        model.variance_reparameterization(), rel=1e-8)
    # the ELBO's mu-derivative by finite differences of its closed form
    def elbo(mu):
        m, s, sg = model.target_mean, model.target_std, model.sigma
        return -((mu - m) ** 2 + sg**2) / (2 * s * s) - math.log(s) + math.log(sg) + 0.5
    assert (elbo(model.mu + 1e-6) - elbo(model.mu - 1e-6)) / 2e-6 == pytest.approx(g, rel=1e-6)


def test_gradient_draws_on_every_backend(backend):
    model = GaussianELBO()
    v = sample_rows(lambda r, xp: gradient_draws(model, [ScoreFunctionGradient(), ReparameterizationGradient()], r, xp),
                    2**12, backend=backend)
    assert v.shape == (4096, 2) and abs(v[:, 1].mean() - 1.0) < 0.05


# -- M-FAC -------------------------------------------------------------------------------------------------------
def test_mfac_ihvp_equals_the_dense_solve(backend):
    xp = namespace(backend)
    rng = np.random.default_rng(6)
    g, x = rng.standard_normal((3, 5, 12)), rng.standard_normal((3, 12))
    y = to_numpy(MFAC(0.05).ihvp(xp.asarray(g), xp.asarray(x), xp))
    F = 0.05 * np.eye(12) + np.einsum("rmi,rmj->rij", g, g) / 5
    np.testing.assert_allclose(y, np.linalg.solve(F, x[..., None])[..., 0], rtol=1e-10)
    np.testing.assert_allclose(dense_ihvp(g, x, 0.05), y, rtol=1e-10)


# -- Taylor-mode Laplacian ---------------------------------------------------------------------------------------
def test_jet_second_coefficient_is_the_directional_second_derivative(backend):
    from convsim.estimators.taylor import Jet2, QuarticTest

    xp = namespace(backend)
    rng = np.random.default_rng(8)
    Q = rng.standard_normal((5, 5))
    Q = Q + Q.T
    f = QuarticTest(Q, 0.7, rng.standard_normal(5))
    v = rng.standard_normal((2, 3, 5))
    jet = Jet2(xp.asarray(np.broadcast_to(f.x, v.shape).copy()), xp.asarray(v), xp.asarray(np.zeros_like(v)))
    out = f.on_jet(jet, xp, xp.asarray(Q))
    second = 2 * to_numpy(out.a2)
    np.testing.assert_allclose(second, np.einsum("rni,ij,rnj->rn", v, f.hessian(), v), rtol=1e-12)
    # the value and first coefficient are f(x) and the directional derivative (finite differences)
    value = lambda y: 0.5 * y @ Q @ y + 0.7 / 4 * np.sum(y**4)
    np.testing.assert_allclose(to_numpy(out.a0), np.full((2, 3), value(f.x)))
    h = 1e-6
    fd = (value(f.x + h * v[0, 0]) - value(f.x - h * v[0, 0])) / (2 * h)
    assert to_numpy(out.a1)[0, 0] == pytest.approx(fd, rel=1e-6)


@pytest.mark.parametrize("probe", ["rademacher", "gaussian"])
def test_stde_laplacian_moments(probe):
    from convsim.backend import dtype_of
    from convsim.estimators.taylor import QuarticTest, STDELaplacian

    rng = np.random.default_rng(9)
    Q = rng.standard_normal((4, 4))
    f = QuarticTest(Q + Q.T, 0.3, rng.standard_normal(4))
    assert f.laplacian() == pytest.approx(np.trace(Q + Q.T) + 0.9 * np.sum(f.x**2))
    est = STDELaplacian(3, probe)
    v = sample_rows(lambda r, xp: est.estimate(f, r, xp, dtype_of(xp, "float64"))[:, None], 2**15)
    se = math.sqrt(f.probe_variance(probe) / 3 / v.size)
    assert abs(v.mean() - f.laplacian()) < 4 * se
    assert np.mean((v - f.laplacian()) ** 2) == pytest.approx(f.probe_variance(probe) / 3, rel=0.06)


# -- OU time averages ---------------------------------------------------------------------------------------------
def test_ou_time_average_error_matches_the_chain_covariance_sum():
    from convsim.estimators.ou import ThermodynamicSolver, time_average_mse

    rng = np.random.default_rng(10)
    M = rng.standard_normal((3, 3))
    F, g = M @ M.T / 3 + 0.4 * np.eye(3), rng.standard_normal(3)
    solver = ThermodynamicSolver(0.7, 0.3)
    mean, E, L, root = solver.transition(F, g)
    stationary = root @ root.T
    np.testing.assert_allclose(mean, np.linalg.solve(F, g))
    np.testing.assert_allclose(F @ stationary + stationary @ F, 2 * 0.3 * np.eye(3), atol=1e-12)  # Lyapunov
    np.testing.assert_allclose(E @ stationary @ E.T + L @ L.T, stationary, atol=1e-12)          # stationarity
    for N in (1, 3, 10):
        # Cov(x_j, x_k) = E^{k-j} Σ for k >= j: sum every pair's trace
        total = sum(np.trace(np.linalg.matrix_power(E, abs(k - j)) @ stationary) for j in range(N) for k in range(N))
        assert time_average_mse(F, 0.3, 0.7, [N])[0] == pytest.approx(total / N**2, rel=1e-10)


def test_ou_running_errors_on_every_backend(backend):
    from convsim.estimators.ou import ThermodynamicSolver, time_average_mse

    F, g = np.diag([0.5, 1.0, 2.0]), np.array([1.0, -1.0, 0.5])
    solver = ThermodynamicSolver(0.5, 0.2)
    v = sample_rows(lambda r, xp: solver.running_errors(F, g, [1, 4, 16], r, xp, "float64"), 2**13, backend=backend)
    np.testing.assert_allclose(v.mean(axis=0), time_average_mse(F, 0.2, 0.5, [1, 4, 16]), rtol=0.08)


# -- sliced Wasserstein control variates ----------------------------------------------------------------------------
def test_sliced_estimators_and_their_control_variate_means(backend):
    from convsim.estimators.sliced import SlicedWasserstein, sliced_reference

    rng = np.random.default_rng(13)
    X, Y = rng.standard_normal((32, 4)), rng.standard_normal((32, 4)) * 1.5 + 0.5
    ref, se = sliced_reference(X, Y, projections=2**14)
    plain = sample_rows(lambda r, xp: SlicedWasserstein(4).estimate(X, Y, r, xp, "float64")[:, None], 2**12,
                        backend=backend)
    assert abs(plain.mean() - ref) < 4 * (plain.std() / math.sqrt(plain.size) + se)
    # E_theta (theta^T v)^2 = |v|^2/d for theta uniform on the sphere: the variates' known means
    th = rng.standard_normal((200_000, 4))
    th /= np.linalg.norm(th, axis=1, keepdims=True)
    v = X.mean(axis=0) - Y.mean(axis=0)
    assert np.mean((th @ v) ** 2) == pytest.approx(v @ v / 4, rel=0.01)
    for control in ("lower", "upper"):
        cv = sample_rows(lambda r, xp: SlicedWasserstein(4, control).estimate(X, Y, r, xp, "float64")[:, None],
                         2**12, backend=backend)
        assert np.mean((cv - ref) ** 2) < np.mean((plain - ref) ** 2)
