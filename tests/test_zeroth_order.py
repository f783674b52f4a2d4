"""Zeroth-order estimators against closed forms on quadratics; ZO-SGD against its exact moment recursion."""

import numpy as np
import pytest

import convsim as cs
from convsim import zeroth_order as zo
from convsim.backend import namespace, to_numpy
from convsim.methods import Oracle
from convsim.random import ReplicaStreams

R = 4096


def _estimates(estimator, problem, x, backend, seed=3):
    xp = namespace(backend)
    xb = xp.asarray(np.broadcast_to(x, (R, x.size)).copy(), dtype=xp.float64)
    oracle = Oracle(problem, ReplicaStreams(xp, seed, 0, R))
    return to_numpy(estimator.estimate(oracle, xb))


def _close(sample_mean, exact, sample_sd, k=5.0):
    """Monte Carlo means within k standard errors (plus float slack) of the closed form."""
    se = sample_sd / np.sqrt(R)
    assert np.all(np.abs(sample_mean - exact) <= k * se + 1e-10), (sample_mean, exact, se)


def _problem(d=6):
    return cs.problems.Quadratic(cs.spectra.geometric(d, 1.0, 0.2), rotate=True, seed=2)


X = np.linspace(-1.0, 1.5, 6)


@pytest.mark.parametrize("n", [1, 3])
def test_gaussian_two_point_mean_and_second_moment(backend, n):
    p = _problem()
    g = _estimates(zo.GaussianTwoPoint(0.3, n), p, X, backend)
    grad = p.hessian() @ X
    _close(g.mean(0), grad, g.std(0))
    sq = np.sum(g * g, axis=1)
    d = X.size  # E||g||^2 = ((d + 2)/n + 1 - 1/n) ||grad||^2, exact for central differences on a quadratic
    _close(sq.mean(), ((d + 2) / n + 1 - 1 / n) * grad @ grad, sq.std())


@pytest.mark.parametrize("n", [1, 4])
def test_sphere_two_point_matches_mezo_lemma_2(backend, n):
    p = _problem()
    g = _estimates(zo.SphereTwoPoint(0.3, n), p, X, backend)
    grad = p.hessian() @ X
    _close(g.mean(0), grad, g.std(0))
    sq = np.sum(g * g, axis=1)
    _close(sq.mean(), (X.size + n - 1) / n * grad @ grad, sq.std())  # MeZO Lemma 2: (d + n - 1)/n


def test_sphere_without_dimension_factor_is_biased_by_one_over_d(backend):
    p = _problem()
    g = _estimates(zo.SphereTwoPoint(0.3, 1, dimension_scaled=False), p, X, backend)
    _close(g.mean(0), p.hessian() @ X / X.size, g.std(0))


def test_gaussian_forward_difference_finite_smoothing_closed_form(backend):
    # f = ||x||^2/2: delta = z.x + (eps/2)||z||^2, so E g = x and E||g||^2 = (d+2)||x||^2 + eps^2/4 d(d+2)(d+4)
    d, eps = 5, 0.7
    p = cs.problems.Quadratic(np.ones(d))
    x = np.linspace(0.5, -1.0, d)
    g = _estimates(zo.GaussianTwoPoint(eps, 1, "forward"), p, x, backend)
    _close(g.mean(0), x, g.std(0))
    sq = np.sum(g * g, axis=1)
    _close(sq.mean(), (d + 2) * x @ x + eps**2 / 4 * d * (d + 2) * (d + 4), sq.std())


def test_coordinate_wise_is_exact_central_and_biased_forward(backend):
    p = _problem()
    H = p.hessian()
    g = _estimates(zo.CoordinateWise(0.1), p, X, backend)
    np.testing.assert_allclose(g, np.broadcast_to(H @ X, g.shape), atol=1e-10)
    g = _estimates(zo.CoordinateWise(0.1, "forward"), p, X, backend)  # f(x + eps e_i) - f(x) = eps grad_i + eps^2 H_ii/2
    np.testing.assert_allclose(g[0], H @ X + 0.05 * np.diag(H), atol=1e-10)


def test_one_point_is_unbiased_for_the_ball_smoothed_quadratic(backend):
    # the ball-smoothed quadratic differs from f by a constant, so E[(d/eps) f(x + eps u) u] = grad f exactly
    d = 3
    p = cs.problems.Quadratic(np.array([1.0, 0.5, 0.25]))
    x = np.array([0.3, -0.2, 0.1])
    g = _estimates(zo.OnePoint(0.5), p, x, backend)
    _close(g.mean(0), p.hessian() @ x, g.std(0))


def test_evaluation_counts():
    assert zo.GaussianTwoPoint(directions=3).evaluations(10) == 6
    assert zo.SphereTwoPoint(directions=3, difference="forward").evaluations(10) == 4
    assert zo.OnePoint().evaluations(10) == 1
    assert zo.CoordinateWise().evaluations(10) == 20
    assert zo.CoordinateWise(difference="forward").evaluations(10) == 11


def test_with_evaluations_counts_the_method_as_it_ran():
    p = _problem()
    trace = cs.simulate(p, zo.ZOSGD(0.05, zo.GaussianTwoPoint(directions=2)), 20, 64, record=[0, 5, 20])
    np.testing.assert_array_equal(zo.with_evaluations(trace).values("evaluations")[0], [0, 20, 80])
    mutated, hits = cs.mutations.scale("directions", 3.0).apply(zo.ZOSGD(0.05, zo.GaussianTwoPoint(directions=2)))
    assert hits == 1
    trace = cs.simulate(p, mutated, 20, 64, record=[0, 20])
    assert zo.evaluations_per_step(trace) == 12


@pytest.mark.parametrize("law,estimator", [("gaussian", zo.GaussianTwoPoint(1e-3, 2)),
                                           ("sphere", zo.SphereTwoPoint(1e-3, 1))])
def test_zo_sgd_matches_exact_moment_recursion(law, estimator):
    p = cs.problems.Quadratic(cs.spectra.uniform(8, 0.3, 1.0), rotate=True, seed=4, r0=2.0)
    eta = 0.08
    trace = cs.simulate(p, zo.ZOSGD(eta, estimator), 60, 4096, metrics=["suboptimality"], record=[0, 10, 30, 60])
    exact = zo.zo_sgd_suboptimality(p, eta, law=law, directions=estimator.directions, record=trace.steps)
    mc, se = trace.mean("suboptimality"), trace.values("suboptimality").std(0) / np.sqrt(trace.replicas)
    assert np.all(np.abs(mc - exact) <= 5 * se + 1e-12), (mc, exact, se)


def test_exact_recursion_reduces_to_gd_with_infinitely_many_directions():
    p = cs.problems.Quadratic(cs.spectra.uniform(5, 0.5, 1.0))
    rec = np.arange(6)
    zo_inf = zo.zo_sgd_suboptimality(p, 0.5, law="gaussian", directions=10**12, record=rec)
    gd = cs.simulate(p, cs.methods.GD(0.5), 5, 1, metrics=["suboptimality"], record=rec).mean("suboptimality")
    np.testing.assert_allclose(zo_inf, gd, rtol=1e-9)


def test_zo_sgd_is_chunk_invariant():
    p = _problem()
    m = zo.ZOSGD(0.05, zo.SphereTwoPoint(1e-3, 2))
    a = cs.simulate(p, m, 30, 192, chunk_size=64).values("suboptimality")
    b = cs.simulate(p, m, 30, 192, chunk_size=192).values("suboptimality")
    np.testing.assert_array_equal(a, b)


def test_mezo_gamma_is_the_worst_case_sphere_second_moment():
    # E[g^T H g] = (1/n) d/(d+2) (2 grad^T H grad + tr H ||grad||^2) + (1 - 1/n) grad^T H grad; with grad along the
    # top eigenvector it equals l * gamma * ||grad||^2, gamma = (d r + d - 2)/(n (d + 2)) + 1
    lam = np.array([1.0, 0.6, 0.3, 0.1])
    d, n, r = lam.size, 3, zo.effective_rank(lam)
    worst = (1 / n) * d / (d + 2) * (2 * 1.0 + lam.sum()) + (1 - 1 / n) * 1.0
    assert zo.mezo_gamma(d, r, n) == pytest.approx(worst)


def test_bad_estimator_arguments_are_one_line_errors():
    with pytest.raises(cs.ConvsimError):
        zo.GaussianTwoPoint(smoothing=0.0)
    with pytest.raises(cs.ConvsimError):
        zo.SphereTwoPoint(difference="backward")
    with pytest.raises(cs.ConvsimError):
        zo.ZOSGD(0.1, "gaussian")


def _particles(backend, R=64, N=5, d=3, seed=0):
    xp = namespace(backend)
    return xp, xp.asarray(np.random.default_rng(seed).normal(size=(R, N, d)))


def test_cbo_consensus_limits(backend):
    p = cs.problems.Quadratic(np.array([1.0, 0.5, 0.2]))
    xp, X = _particles(backend)
    oracle = Oracle(p, ReplicaStreams(xp, 0, 0, 64))
    Xn = to_numpy(X)
    mean = to_numpy(zo.CBO(alpha=0.0).consensus(oracle, X))  # alpha = 0: the plain particle mean
    np.testing.assert_allclose(mean, Xn.mean(axis=1), atol=1e-12)
    best = to_numpy(zo.CBO(alpha=1e8).consensus(oracle, X))  # alpha -> inf: the best particle (Laplace principle)
    f = 0.5 * np.sum(np.array([1.0, 0.5, 0.2]) * Xn**2, axis=-1)
    np.testing.assert_allclose(best, Xn[np.arange(64), f.argmin(axis=1)], atol=1e-9)


def test_cbo_without_noise_contracts_particles_to_a_fixed_consensus_at_rate_one_minus_lambda_dt():
    # alpha = 0 and no noise: v is the mean, which the drift keeps fixed; X_i - v shrinks by (1 - lambda dt) per step
    p = cs.problems.Quadratic(np.array([1.0, 0.5, 0.2]))
    m = zo.CBO(drift=2.0, noise=0.0, alpha=0.0, dt=0.1, particles=7, spread=1.0)
    xp = namespace("numpy")
    oracle = Oracle(p, ReplicaStreams(xp, 1, 0, 64))
    state = m.init(xp.asarray(np.zeros((64, 3))))
    state = m.step(state, oracle, 0)
    spread1 = state.particles - state.x[:, None, :]
    for t in range(1, 6):
        state = m.step(state, oracle, t)
    np.testing.assert_allclose(state.particles - state.x[:, None, :], 0.8**5 * spread1, atol=1e-12)


def test_linear_minimizers_against_brute_force(backend):
    from convsim.zeroth_order.methods import linear_minimizer

    xp = namespace(backend)
    d = np.random.default_rng(5).normal(size=(64, 4))
    ball = to_numpy(linear_minimizer(xp, xp.asarray(d), "ball", 2.0))
    np.testing.assert_allclose(np.sum(ball * d, axis=1), -2.0 * np.linalg.norm(d, axis=1), rtol=1e-12)
    simplex = to_numpy(linear_minimizer(xp, xp.asarray(d), "simplex", 1.0))  # the best vertex of the simplex
    np.testing.assert_allclose(np.sum(simplex * d, axis=1), d.min(axis=1), rtol=1e-12)


def test_zo_frank_wolfe_with_exact_differences_is_classical_frank_wolfe():
    from convsim.problems.test_functions import BallQuadratic

    p = BallQuadratic(np.array([1.5, -0.5, 1.0]))
    m = zo.ZOFrankWolfe(cs.schedules.inverse_time(2.0, 2.0), 1.0, 1e-4, zo.CoordinateWise(), constraint="ball")
    trace = cs.simulate(p, m, 25, 64, metrics={"x0": lambda pr, x: x[:, 0]}, record=[25])
    x = np.zeros(3)  # classical FW with exact gradients and gamma_t = 2/(t+2)
    for t in range(25):
        g = x - p.center
        x = (1 - 2 / (t + 2)) * x + 2 / (t + 2) * (-g / np.linalg.norm(g))
    np.testing.assert_allclose(trace.values("x0")[:, -1], x[0], rtol=1e-6)


@pytest.mark.parametrize("method", [zo.ZOSGD(0.05, zo.SphereTwoPoint(1e-3, 2)),
                                    zo.ZOSGD(cs.schedules.inverse_time(1.0, 20.0), zo.GaussianTwoPoint(1e-3, 1, "forward")),
                                    zo.CBO(alpha=10.0, dt=0.05, particles=4, noise=0.3)], ids=lambda m: m.name)
def test_zeroth_order_methods_agree_across_backends(method):
    p = _problem()
    a = cs.simulate(p, method, 15, 64, backend="numpy", metrics=["dist_sq"]).values("dist_sq")
    b = cs.simulate(p, method, 15, 64, backend="array_api_strict", metrics=["dist_sq"]).values("dist_sq")
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_registry_lists_every_estimator_and_method_with_a_source():
    assert set(zo.REGISTRY) == {"zo-gaussian", "zo-sphere", "zo-one-point", "zo-coordinate", "zo-sgd",
                                "zo-frank-wolfe", "cbo", "zo-ranking", "zo-masked", "zo-sgd-perturbed",
                                "zo-sgd-quantized", "lozo", "gfm-plus", "zo-hybrid", "zo-sah"}
    assert all(c.description and c.source for c in zo.REGISTRY.values())
