"""Convex reformulation of two-layer ReLU regression and its ADMM (relu-convex)."""

import functools

import numpy as np
import pytest
import scipy.optimize

import convsim as cs
from convsim.methods.relu_admm import ConvexReluADMM
from convsim.problems.relu_convex import ConvexReluRegression, enumerate_patterns_2d, objective_gap


@pytest.fixture(scope="module")
def problem():
    return ConvexReluRegression()


def test_pattern_enumeration_is_complete(problem):
    # 2-d points in general position through-origin arrangement: exactly 2n patterns, and dense
    # random sampling of h finds no pattern outside the enumeration
    assert problem.patterns.shape == (2 * problem.samples, problem.samples)
    h = np.random.default_rng(0).standard_normal((20000, 2))
    sampled = {tuple(row) for row in (problem.data @ h.T >= 0).T.astype(float) if row.any()}
    assert sampled == {tuple(row) for row in problem.patterns}


def test_pattern_enumeration_rejects_higher_dimensions():
    with pytest.raises(cs.ConvsimError):
        enumerate_patterns_2d(np.ones((4, 3)))


def test_value_and_grad_match_finite_differences(problem):
    x = np.random.default_rng(1).standard_normal((3, problem.dim))
    value = problem.value(x)
    grouped = x.reshape(3, problem.groups, 2)
    direct = 0.5 * np.sum((x @ problem.fit_matrix.T - problem.targets) ** 2, axis=1) \
        + problem.regularization * np.linalg.norm(grouped, axis=2).sum(axis=1)
    np.testing.assert_allclose(value, direct, rtol=1e-12)
    grad = problem.grad(x)
    for row in range(3):
        numeric = scipy.optimize.approx_fprime(x[row], lambda z: problem.value(z[None])[0], 1e-7)
        np.testing.assert_allclose(grad[row], numeric, rtol=1e-4, atol=1e-5)


def test_reference_is_certified_and_is_the_network_optimum(problem):
    point, lower, upper = problem.reference_optimum()
    assert 0 <= upper - lower <= 1e-10
    assert problem.cone_violation(point[None])[0] <= 1e-10
    # the ReLU net read off the convex solution has the same (nonconvex) training loss
    first, second = problem.network_weights(point)
    assert problem.network_loss(first, second) == pytest.approx(upper, rel=1e-9)
    # and no random small network beats the certified bound (weak duality in action)
    rng = np.random.default_rng(2)
    for _ in range(20):
        w1, w2 = rng.standard_normal((4, 2)), rng.standard_normal(4)
        assert problem.network_loss(w1, w2) >= lower - 1e-12
    # gradient descent on the nonconvex net from many starts never goes below the convex optimum
    def loss(z):
        return problem.network_loss(z[:8].reshape(4, 2), z[8:])
    best = min(scipy.optimize.minimize(loss, rng.standard_normal(12), method="BFGS").fun for _ in range(5))
    assert best >= lower - 1e-7


def test_dual_bound_is_a_lower_bound_everywhere(problem):
    _, lower, _ = problem.reference_optimum()
    rng = np.random.default_rng(3)
    for _ in range(10):
        assert problem.dual_lower_bound(rng.standard_normal(problem.dim)) <= lower + 1e-12


def test_admm_step_matches_restated_update(problem):
    # one step from a generic state against the scaled-form ADMM written out in numpy
    method, rho = ConvexReluADMM(0.3), 0.3
    rng = np.random.default_rng(4)
    v0, lam = rng.standard_normal((2, problem.dim)), rng.standard_normal((2, problem.dim))
    s0 = rng.random((2, problem.cone_matrix.shape[0]))
    nu = rng.standard_normal(s0.shape)
    state = method.step(method.init(v0)._replace(dual_copy=lam, slack=s0, dual_slack=nu),
                        cs.methods.base.Oracle(problem, None), 0)
    F, G, y, beta = problem.fit_matrix, problem.cone_matrix, problem.targets, problem.regularization
    for r in range(2):
        u = np.linalg.solve(F.T @ F + rho * np.eye(problem.dim) + rho * G.T @ G,
                            F.T @ y + rho * (v0[r] - lam[r]) + rho * G.T @ (s0[r] - nu[r]))
        z = (u + lam[r]).reshape(-1, 2)
        v = np.array([max(0.0, 1 - beta / rho / np.linalg.norm(g)) * g for g in z]).ravel()
        s = np.maximum(G @ u + nu[r], 0)
        np.testing.assert_allclose(state.u[r], u, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(state.x[r], v, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(state.slack[r], s, atol=1e-11)
        np.testing.assert_allclose(state.dual_copy[r], lam[r] + u - v, atol=1e-10)
        np.testing.assert_allclose(state.dual_slack[r], nu[r] + G @ u - s, atol=1e-10)


def test_admm_reaches_certified_optimum_on_every_backend(problem, backend):
    _, _, optimum = problem.reference_optimum()
    trace = cs.simulate(problem, ConvexReluADMM(0.1), 650, 4, backend=backend, dtype="float64", record=5,
                        metrics={"gap": functools.partial(objective_gap, optimum=optimum)},
                        x0=problem.initial_points(4))
    assert np.all(np.asarray(trace.metrics["gap"])[:, -1] <= 1e-9)


def test_missing_patterns_raise_the_optimum(problem):
    # the dropped patterns include one active at the optimum: the restricted program's certified
    # lower bound (weak duality at a long ADMM run's point) lies above the full optimum
    _, _, full = problem.reference_optimum()
    restricted = ConvexReluRegression(drop_patterns=4)
    method, oracle = ConvexReluADMM(0.1), cs.methods.base.Oracle(restricted, None)
    state = method.init(np.zeros((1, restricted.dim)))
    for t in range(3000):
        state = method.step(state, oracle, t)
    assert restricted.dual_lower_bound(state.x[0]) > full + 1e-2


@pytest.mark.parametrize("field, value", [("regularization", 0.0), ("drop_patterns", 20)])
def test_invalid_settings_raise(field, value):
    with pytest.raises(cs.ConvsimError):
        ConvexReluRegression(**{field: value})


def test_invalid_method_settings_raise():
    for kwargs in ({"penalty": 0.0}, {"dual_step": 2.5}):
        with pytest.raises(cs.ConvsimError):
            ConvexReluADMM(**kwargs)


def test_admm_runs_are_chunk_invariant(problem):
    _, _, optimum = problem.reference_optimum()
    runs = [cs.simulate(problem, ConvexReluADMM(0.1), 300, 6, dtype="float64", record=4, chunk_size=chunk,
                        metrics={"gap": functools.partial(objective_gap, optimum=optimum)},
                        x0=problem.initial_points(6)) for chunk in (None, 4)]
    np.testing.assert_allclose(runs[0].metrics["gap"], runs[1].metrics["gap"], rtol=1e-12, atol=1e-15)
