"""Ranking, masked and low-rank (LOZO) zeroth-order estimators against closed forms; the P2 toy problems."""

import numpy as np
import pytest

import convsim as cs
from convsim import zeroth_order as zo
from convsim.backend import namespace, to_numpy
from convsim.methods import Oracle
from convsim.random import ReplicaStreams
from convsim.zeroth_order.methods import LowRankZO
from convsim.zeroth_order.problems import CauchyLoss, LinearFunction, NonsmoothTwoWell

R = 8192


def _batch(x, backend):
    xp = namespace(backend)
    return xp, xp.asarray(np.broadcast_to(x, (R, x.size)).copy(), dtype=xp.float64)


def _estimates(estimator, problem, x, backend, seed=5):
    xp, xb = _batch(x, backend)
    return to_numpy(estimator.estimate(Oracle(problem, ReplicaStreams(xp, seed, 0, R)), xb))


def _close(mean, exact, sd, k=5.0):
    assert np.all(np.abs(mean - exact) <= k * sd / np.sqrt(R) + 1e-10), (mean, exact)


def test_normal_order_means_match_known_values():
    np.testing.assert_allclose(zo.normal_order_means(2), [-1 / np.sqrt(np.pi), 1 / np.sqrt(np.pi)], atol=1e-10)
    np.testing.assert_allclose(zo.normal_order_means(3)[2], 1.5 / np.sqrt(np.pi), atol=1e-10)  # E max of 3
    assert abs(zo.ranking_mean_factor(2, 1) - 2 / np.sqrt(np.pi)) < 1e-10


@pytest.mark.parametrize("m,k", [(2, 1), (5, 3), (6, 6)])
def test_graph_weights_sum_to_zero_and_count_edges(m, k):
    w, edges = zo.ranking_weights(m, k)
    assert abs(w.sum()) < 1e-12
    # brute force: edges of the graph a top-k ranking implies (every pair but two unranked points)
    assert edges == sum(1 for i in range(m) for j in range(i + 1, m) if i < k)


@pytest.mark.parametrize("rule", ["dag", "code"])
def test_ranking_estimator_mean_and_orthogonal_moment_on_a_linear_function(backend, rule):
    d, m, k = 6, 5, 3
    a = np.linspace(1.0, -0.5, d)
    p = LinearFunction(a, 2.0)
    g = _estimates(zo.RankingOracle(0.7, m, k, rule), p, np.linspace(-1, 1, d), backend)
    u = a / np.linalg.norm(a)
    _close(g.mean(0), zo.ranking_mean_factor(m, k, rule) * u, g.std(0))
    orth = g - np.outer(g @ u, u)
    sq = np.sum(orth * orth, axis=1)
    _close(sq.mean(), zo.ranking_orthogonal_second_moment(m, k, d, rule), sq.std())


def test_ranking_estimator_points_along_the_gradient_on_a_quadratic_for_small_smoothing(backend):
    p = cs.problems.Quadratic(cs.spectra.geometric(5, 1.0, 0.2), rotate=True, seed=1)
    x = np.linspace(-1.0, 1.0, 5)
    grad = p.hessian() @ x
    g = _estimates(zo.RankingOracle(1e-5, 4, 2), p, x, backend)
    _close(g.mean(0), zo.ranking_mean_factor(4, 2) * grad / np.linalg.norm(grad), g.std(0))


def test_ranking_estimator_read_backwards_is_an_ascent_direction():
    p = LinearFunction(np.ones(4))
    g = _estimates(zo.RankingOracle(0.1, 5, 3, lowest_first=False), p, np.zeros(4), "numpy")
    _close(g.mean(0), -zo.ranking_mean_factor(5, 3) * np.ones(4) / 2.0, g.std(0))


def test_ranking_estimator_is_invariant_under_monotone_transforms_of_f():
    class Warped(cs.problems.Quadratic):
        def value(self, x):
            return np.exp(super().value(x))  # same order, other values

    x = np.linspace(-1.0, 1.0, 4)
    est = zo.RankingOracle(0.3, 5, 2)
    a = _estimates(est, cs.problems.Quadratic(np.arange(1.0, 5.0)), x, "numpy")
    b = _estimates(est, Warped(np.arange(1.0, 5.0)), x, "numpy")
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n", [1, 3])
def test_masked_estimator_moments_on_a_quadratic(backend, n):
    d, support = 7, (0, 2, 5)
    p = cs.problems.Quadratic(cs.spectra.geometric(d, 1.0, 0.3), rotate=True, seed=3)
    x = np.linspace(-1.0, 1.0, d)
    g = _estimates(zo.MaskedTwoPoint(support, 0.2, n), p, x, backend)
    pg = np.zeros(d)
    pg[list(support)] = (p.hessian() @ x)[list(support)]
    _close(g.mean(0), pg, g.std(0))
    assert np.all(g[:, [1, 3, 4, 6]] == 0)
    sq = np.sum(g * g, axis=1)
    s = len(support)
    _close(sq.mean(), ((s + 2) / n + 1 - 1 / n) * pg @ pg, sq.std())


def test_masked_estimator_with_empty_support_is_the_gaussian_estimator():
    p = cs.problems.Quadratic(np.arange(1.0, 5.0))
    x = np.linspace(-1.0, 1.0, 4)
    np.testing.assert_array_equal(_estimates(zo.MaskedTwoPoint((), 0.1, 2), p, x, "numpy"),
                                  _estimates(zo.GaussianTwoPoint(0.1, 2), p, x, "numpy"))


def test_lozo_step_is_unbiased_with_the_exact_second_moment(backend):
    rows, cols, r = 3, 4, 2
    p = cs.problems.Quadratic(np.ones(rows * cols))
    x = np.linspace(-1.0, 1.0, rows * cols)
    xp, xb = _batch(x, backend)
    method = LowRankZO(1.0, rows, cols, r, 1, 1e-3)
    new = method.step(method.init(xb), Oracle(p, ReplicaStreams(xp, 2, 0, R)), 0)
    g = np.broadcast_to(x, (R, x.size)) - to_numpy(new.x)  # eta = 1: the step is the estimate
    _close(g.mean(0), x, g.std(0))
    sq = np.sum(g * g, axis=1)
    _close(sq.mean(), zo.theory.lozo_second_moment_factor(rows, cols, r) * x @ x, sq.std(), k=6.0)


def test_lozo_keeps_its_right_factor_for_interval_steps():
    p = cs.problems.Quadratic(np.ones(6))
    method = LowRankZO(0.01, 2, 3, 1, 3, 1e-3)
    xb = np.ones((64, 6))
    oracle = Oracle(p, ReplicaStreams(np, 0, 0, 64))
    s0 = method.step(method.init(xb), oracle, 0)
    s1 = method.step(s0, oracle, 1)
    s3 = method.step(method.step(s1, oracle, 2), oracle, 3)
    np.testing.assert_array_equal(s0.right, s1.right)
    assert not np.array_equal(s1.right, s3.right)
    # the step moves only along rows of span(V): X - X0 has its rows in the column space of V
    delta = (s1.x - xb).reshape(64, 2, 3)
    v = s0.right[:, :, 0]
    resid = delta - np.einsum("rij,rj,rk->rik", delta, v, v) / np.sum(v * v, axis=1)[:, None, None]
    assert np.abs(resid).max() < 1e-12


def test_lozo_matches_its_exact_recursion_and_is_chunk_invariant():
    p = cs.problems.Quadratic(np.ones(12), r0=1.0)
    c = zo.theory.lozo_second_moment_factor(3, 4, 2)
    eta = 1.0 / c
    m = LowRankZO(eta, 3, 4, 2)
    tr = cs.simulate(p, m, 30, 4096, metrics=["suboptimality"], record=[0, 10, 30])
    exact = 0.5 * (1 - 2 * eta + eta**2 * c) ** tr.steps.astype(float)
    se = tr.values("suboptimality").std(0) / np.sqrt(4096)
    assert np.all(np.abs(tr.mean("suboptimality") - exact) <= 5 * se + 1e-12)
    a = cs.simulate(p, m, 10, 128, chunk_size=64).values("suboptimality")
    np.testing.assert_array_equal(a, cs.simulate(p, m, 10, 128, chunk_size=128).values("suboptimality"))


def test_cauchy_loss_gradient_and_hessian_by_finite_differences(backend):
    p = CauchyLoss(np.array([0.5, -1.0, 2.0]))
    xp = namespace(backend)
    x = np.array([[3.0, 0.2, -1.0]])
    h = 1e-6
    fd = np.array([(to_numpy(p.value(xp.asarray(x + h * e))) - to_numpy(p.value(xp.asarray(x - h * e))))[0] / (2 * h)
                   for e in np.eye(3)])
    np.testing.assert_allclose(to_numpy(p.grad(xp.asarray(x)))[0], fd, rtol=1e-6)
    v = np.array([[1.0, -2.0, 0.5]])
    fd_h = (to_numpy(p.grad(xp.asarray(x + h * v))) - to_numpy(p.grad(xp.asarray(x - h * v)))) / (2 * h)
    np.testing.assert_allclose(to_numpy(p.hvp(xp.asarray(x), xp.asarray(v))), fd_h, rtol=1e-5)


def test_nonsmooth_two_well_values_and_minimizers(backend):
    p = NonsmoothTwoWell(np.array([1.0, 2.0]))
    xp = namespace(backend)
    x = xp.asarray(np.array([[1.0, -1.0], [0.0, 0.0], [2.0, 0.5]]))
    np.testing.assert_allclose(to_numpy(p.value(x)), [0.0, 3.0, 2.0])
    np.testing.assert_allclose(to_numpy(p.grad(x))[2], [1.0, -2.0])


def test_registry_lists_the_new_estimators():
    for name in ("zo-ranking", "zo-masked", "zo-sgd-perturbed", "zo-sgd-quantized", "lozo", "gfm-plus"):
        assert name in zo.REGISTRY and zo.REGISTRY[name].source


def _ball_points(n, d, rng):
    z = rng.standard_normal((n, d))
    return z / np.linalg.norm(z, axis=1, keepdims=True) * rng.uniform(size=(n, 1)) ** (1.0 / d)


@pytest.mark.parametrize("d", [3, 5])
def test_smoothed_grad_of_the_two_well_matches_monte_carlo(backend, d):
    p = NonsmoothTwoWell(np.linspace(1.0, 2.0, d))
    delta = 0.3
    x = np.linspace(-1.1, 1.2, d)
    y = x + delta * _ball_points(400000, d, np.random.default_rng(0))
    mc = np.mean(p.weights * np.sign(np.abs(y) - 1.0) * np.sign(y), axis=0)
    xp = namespace(backend)
    exact = to_numpy(p.smoothed_grad(xp.asarray(x[None, :]), delta))[0]
    np.testing.assert_allclose(exact, mc, atol=5 * 2.0 / np.sqrt(400000))


def test_gfm_sphere_estimator_is_unbiased_for_the_smoothed_gradient(backend):
    d, delta = 5, 0.2
    p = NonsmoothTwoWell(np.ones(d))
    x = np.array([1.05, -0.1, 2.0, 0.9, -1.15])
    g = _estimates(zo.SphereTwoPoint(delta, 1), p, x, backend)
    xp = namespace(backend)
    _close(g.mean(0), to_numpy(p.smoothed_grad(xp.asarray(x[None, :]), delta))[0], g.std(0))


def test_gfm_plus_with_period_one_is_gfm_with_a_batch_of_directions():
    from convsim.zeroth_order.methods import GFMPlus

    p = NonsmoothTwoWell(np.ones(5))
    a = cs.simulate(p, GFMPlus(0.02, 0.1, batch=3, inner_batch=1, period=1), 20, 64, metrics=["value"])
    b = cs.simulate(p, zo.ZOSGD(0.02, zo.SphereTwoPoint(0.1, 3)), 20, 64, metrics=["value"])
    np.testing.assert_allclose(a.values("value"), b.values("value"), rtol=1e-12)


def test_gfm_plus_corrections_vanish_on_a_linear_function_and_cost_is_averaged():
    from convsim.zeroth_order.methods import GFMPlus

    p = LinearFunction(np.linspace(1.0, -1.0, 4))
    m = GFMPlus(0.1, 0.1, batch=8, inner_batch=2, period=4)
    oracle = Oracle(p, ReplicaStreams(np, 0, 0, 64))
    s = m.step(m.init(np.zeros((64, 4))), oracle, 0)
    v0 = s.direction.copy()
    for t in (1, 2, 3):
        s = m.step(s, oracle, t)
        np.testing.assert_allclose(s.direction, v0, atol=1e-9)  # g(x_t; w) = g(x_{t-1}; w) for linear f
    assert m.evaluation_counts() == ((2 * 8 + 4 * 2 * 3) / 4, 0)
    trace = cs.simulate(p, m, 8, 64, metrics=["value"], record=[0, 8])
    np.testing.assert_allclose(zo.with_evaluations(trace).values("evaluations")[0], [0, 80])


def test_perturbed_zo_sgd_leaves_the_saddle_only_with_its_perturbation(backend):
    from convsim.problems.test_functions import StrictSaddle
    from convsim.zeroth_order.methods import PerturbedZOSGD

    p = StrictSaddle(np.array([-1.0, 1.0, 1.0, 0.5]))
    still = cs.simulate(p, PerturbedZOSGD(0.1, zo.GaussianTwoPoint(1e-3, 2)), 30, 64, metrics=["dist_sq"],
                        backend=backend, record=[0, 30])
    x_star_sq = float(np.sum(p.x_star ** 2))
    np.testing.assert_allclose(still.values("dist_sq")[:, -1], x_star_sq, rtol=0, atol=1e-14)  # exactly at 0
    r = 0.05
    one = cs.simulate(p, PerturbedZOSGD(0.1, zo.GaussianTwoPoint(1e-3, 2), perturbation=r), 1, 4096,
                      metrics={"sq": lambda q, x: q.namespace_of(x).sum(x * x, axis=-1)}, backend=backend, record=[0, 1])
    sq = one.values("sq")[:, -1]
    _close_R = 5 * sq.std() / np.sqrt(sq.size)
    assert abs(sq.mean() - r * r) <= _close_R  # the estimate is 0 at the saddle: x1 = r xi/sqrt(d), E||x1||^2 = r^2


def test_ranking_zo_sgd_is_chunk_invariant():
    p = CauchyLoss(np.zeros(4))
    m = zo.ZOSGD(0.05, zo.RankingOracle(1e-3, 5, 3))
    a = cs.simulate(p, m, 20, 192, chunk_size=64).values("suboptimality")
    np.testing.assert_array_equal(a, cs.simulate(p, m, 20, 192, chunk_size=192).values("suboptimality"))


def _p2_methods():
    from convsim.zeroth_order.methods import GFMPlus, LowRankZO, PerturbedZOSGD, QuantizedZOSGD

    return [QuantizedZOSGD(0.05, zo.GaussianTwoPoint(1e-3, 1), grid=0.01),zo.ZOSGD(0.05, zo.RankingOracle(1e-3, 4, 2)), zo.ZOSGD(0.05, zo.MaskedTwoPoint((0, 3), 1e-3, 2)),
            PerturbedZOSGD(0.05, zo.GaussianTwoPoint(1e-3, 2), perturbation=0.01), LowRankZO(0.05, 2, 3, 1, 2),
            GFMPlus(0.05, 0.1, batch=4, inner_batch=2, period=3)]


@pytest.mark.parametrize("method", _p2_methods(), ids=lambda m: m.name)
def test_p2_methods_agree_across_backends(method):
    p = cs.problems.Quadratic(cs.spectra.geometric(6, 1.0, 0.2), rotate=True, seed=2)
    a = cs.simulate(p, method, 12, 64, backend="numpy", metrics=["dist_sq"]).values("dist_sq")
    b = cs.simulate(p, method, 12, 64, backend="array_api_strict", metrics=["dist_sq"]).values("dist_sq")
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_stochastic_rounding_is_unbiased_with_the_bernoulli_variance(backend):
    from convsim.zeroth_order.methods import QuantizedZOSGD

    grid = 0.1
    q = QuantizedZOSGD(0.1, zo.GaussianTwoPoint(), grid=grid)
    y = np.array([0.03, -0.27, 0.5, 1.0])
    xp, yb = _batch(y, backend)
    out = to_numpy(q.quantize(yb, Oracle(LinearFunction(np.ones(4)), ReplicaStreams(xp, 4, 0, R))))
    assert np.allclose(np.round(out / grid), out / grid)  # on the grid
    frac = y / grid - np.floor(y / grid)
    _close(out.mean(0), y, out.std(0) + 1e-12)
    _close(out.var(0), frac * (1 - frac) * grid**2, np.full(4, grid**2))
    nearest = QuantizedZOSGD(0.1, zo.GaussianTwoPoint(), grid=grid, rounding="nearest")
    np.testing.assert_allclose(to_numpy(nearest.quantize(yb, None))[0], grid * np.round(y / grid))


def test_nearest_rounding_stalls_where_updates_are_below_half_a_grid_step():
    from convsim.zeroth_order.methods import QuantizedZOSGD

    # exact gradients through coordinate-wise differences: GD with RTN freezes once eta*|x_i - x*_i| < grid/2
    p = cs.problems.Quadratic(np.ones(3), x_star=np.zeros(3), x0=np.array([0.3, -0.2, 0.1]))
    m = QuantizedZOSGD(0.1, zo.CoordinateWise(1e-4), grid=0.01, rounding="nearest")
    tr = cs.simulate(p, m, 400, 64, metrics=["dist_sq"], record=[200, 400])
    d = tr.values("dist_sq")[:, -2:]  # steps 200 and 400 (step 0 is always recorded first)
    assert np.all(d[:, 0] == d[:, 1]) and np.all(d[:, 1] > 0)  # frozen, off the optimum
    assert np.all(np.sqrt(d[:, 1]) <= np.sqrt(3) * 0.01 / (2 * 0.1) + 1e-9)  # within grid/(2 eta) per coordinate
