"""Matrix sensing (convsim.problems.MatrixSensing): closed forms, finite differences, backends, dynamics."""

import numpy as np
import pytest

import convsim as cs
from convsim.problems.matrix_sensing import MatrixSensing, recovery_error

CASES = [
    dict(n=5, rank=2, width=3, symmetric=True, measurements=None, condition=3.0),
    dict(n=5, rank=2, width=3, symmetric=True, measurements=40, condition=3.0),
    dict(n=5, rank=2, width=3, symmetric=False, n2=4, measurements=None, condition=3.0),
    dict(n=5, rank=2, width=3, symmetric=False, n2=4, measurements=40, condition=3.0),
]


def factors_host(p, x):
    if p.symmetric:
        X = x.reshape(p.n, p.width)
        return X, X
    return x[:p.n * p.width].reshape(p.n, p.width), x[p.n * p.width:].reshape(p.cols, p.width)


def loss_restated(p, x):
    """The loss written from the definition, one replica at a time."""
    F, G = factors_host(p, x)
    M = F @ G.T
    w = 0.25 if p.symmetric else 0.5
    if p.measurements is None:
        return w * np.sum((M - p.target) ** 2)
    r = [np.sum(A.reshape(p.n, p.cols) * M) - np.sum(A.reshape(p.n, p.cols) * p.target) for A in p.sensing]
    return w / p.measurements * np.sum(np.square(r))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"sym={c['symmetric']}-m={c['measurements']}")
def test_value_grad_hvp_against_definition_and_finite_differences(case, backend):
    p = MatrixSensing(**case)
    xp = cs.backend.namespace(backend)
    rng = np.random.default_rng(3)
    x, v = rng.standard_normal((3, p.dim)), rng.standard_normal((3, p.dim))
    X, V = xp.asarray(x), xp.asarray(v)
    to = cs.backend.to_numpy
    np.testing.assert_allclose(to(p.value(X)), [loss_restated(p, row) for row in x], rtol=1e-12)
    h = 1e-6
    fd = (to(p.value(xp.asarray(x + h * v))) - to(p.value(xp.asarray(x - h * v)))) / (2 * h)
    np.testing.assert_allclose(np.sum(to(p.grad(X)) * v, axis=1), fd, rtol=1e-6, atol=1e-8)
    fd_h = (to(p.grad(xp.asarray(x + h * v))) - to(p.grad(xp.asarray(x - h * v)))) / (2 * h)
    np.testing.assert_allclose(to(p.hvp(X, V)), fd_h, rtol=1e-5, atol=1e-7)
    F, G = factors_host(p, x[0])
    np.testing.assert_allclose(to(recovery_error(p, X))[0], np.sum((F @ G.T - p.target) ** 2), rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"sym={c['symmetric']}-m={c['measurements']}")
def test_ground_truth_is_a_global_minimizer_with_the_stated_spectrum(case):
    p = MatrixSensing(**case)
    x = p.ground_truth_point()[None]
    assert p.value(x)[0] < 1e-28 and np.max(np.abs(p.grad(x))) < 1e-13
    np.testing.assert_allclose(np.linalg.svd(p.target, compute_uv=False)[:p.rank],
                               np.geomspace(1.0, 1.0 / 3.0, p.rank), rtol=1e-12)
    assert np.linalg.matrix_rank(p.target, tol=1e-10) == p.rank


def test_population_loss_is_the_expected_gaussian_sensing_loss():
    """E_A ⟨A, Δ⟩² = ‖Δ‖²_F: with many measurements the sensing loss approaches the population one."""
    sensing = MatrixSensing(4, 1, 2, measurements=40000, seed=5)
    population = MatrixSensing(4, 1, 2, seed=5)
    x = np.random.default_rng(0).standard_normal((2, sensing.dim))
    np.testing.assert_allclose(sensing.value(x), population.value(x), rtol=0.03)


def test_exact_parameterization_hessian_is_flat_only_along_rotations():
    """k = r: the loss is invariant under X → XQ, so the Hessian at X* has r(r−1)/2 zero eigenvalues, the rest
    (population case) are σ_i (out of the column space) and positive combinations within it."""
    p = MatrixSensing(6, 3, 3, condition=4.0)
    lam = np.linalg.eigvalsh(p.hessian_host(p.ground_truth_point()))
    assert np.sum(np.abs(lam) < 1e-10) == 3
    assert np.min(lam[np.abs(lam) >= 1e-10]) == pytest.approx(p.singular_values.min(), rel=1e-10)


def test_gd_step_on_surplus_directions_is_the_cubic_recursion():
    """Signal converged, surplus E in the orthogonal complement: one GD step maps E to E − η E Eᵀ E exactly."""
    p = MatrixSensing(6, 2, 4, condition=2.0)
    eta = 0.1
    complement = np.linalg.svd(p.left, full_matrices=True)[0][:, p.rank:]
    X = np.zeros((p.n, p.width))
    X[:, :2] = p.left * np.sqrt(p.singular_values)
    E = complement @ np.random.default_rng(1).standard_normal((p.n - p.rank, 2)) * 0.1
    X[:, 2:] = E
    step = cs.methods.GD(eta).step(cs.methods.gradient.Iterate(X.reshape(1, -1)), cs.methods.Oracle(p, None), 0).x
    expected = X.copy()
    expected[:, 2:] = E - eta * E @ E.T @ E
    np.testing.assert_allclose(step.reshape(p.n, p.width), expected, atol=1e-15)


def test_initialization_scale_and_balance():
    p = MatrixSensing(5, 1, 3, symmetric=False, n2=5, init_scale=0.01)
    q = MatrixSensing(5, 1, 3, symmetric=False, n2=5, init_scale=0.04)
    np.testing.assert_allclose(q.initial_points(7), 4 * p.initial_points(7), rtol=1e-14)
    draw = MatrixSensing(5, 1, 3, symmetric=False, n2=5, init_scale=1.0).initial_points(4000)
    assert np.var(draw) == pytest.approx(1 / 3, rel=0.03)  # entries N(0, α²/k)
    balanced = MatrixSensing(5, 1, 3, symmetric=False, n2=5, balanced_init=True).initial_points(2)
    F, G = factors_host(p, balanced[0])
    np.testing.assert_allclose(F.T @ F - G.T @ G, 0.0, atol=1e-15)
    with pytest.raises(cs.ConvsimError):
        MatrixSensing(5, 1, 3, balanced_init=True)
    with pytest.raises(cs.ConvsimError):
        MatrixSensing(3, 4, 4)


def test_simulation_is_chunk_invariant_and_converges():
    p = MatrixSensing(5, 1, 2, init_scale=0.3)
    x0 = p.initial_points(128)
    runs = [cs.simulate(p, cs.methods.GD(0.2), 200, 128, x0=x0, metrics={"err": recovery_error}, chunk_size=c)
            for c in (64, 128)]
    np.testing.assert_array_equal(runs[0].values("err"), runs[1].values("err"))
    assert np.all(runs[0].values("err")[:, -1] < 1e-3 * runs[0].values("err")[:, 0])


# -- separable logistic regression ---------------------------------------------------------------
from convsim.problems.classification import SeparableLogistic, direction_loss, misclassified  # noqa: E402


def test_separable_logistic_against_definition_and_finite_differences(backend):
    p = SeparableLogistic(30, 4, margin=0.05, spread=0.1, seed=2)
    xp = cs.backend.namespace(backend)
    to = cs.backend.to_numpy
    rng = np.random.default_rng(4)
    x, v = 3 * rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    X = xp.asarray(x)
    expected = [np.mean(np.log1p(np.exp(-(p.labels * (p.points @ row))))) for row in x]
    np.testing.assert_allclose(to(p.value(X)), expected, rtol=1e-12)
    h = 1e-6
    fd = (to(p.value(xp.asarray(x + h * v))) - to(p.value(xp.asarray(x - h * v)))) / (2 * h)
    np.testing.assert_allclose(np.sum(to(p.grad(X)) * v, axis=1), fd, rtol=1e-6, atol=1e-9)
    fd_h = (to(p.grad(xp.asarray(x + h * v))) - to(p.grad(xp.asarray(x - h * v)))) / (2 * h)
    np.testing.assert_allclose(to(p.hvp(X, xp.asarray(v))), fd_h, rtol=1e-5, atol=1e-8)
    assert to(misclassified(p, X)).tolist() == [float(np.sum(p.labels * (p.points @ row) <= 0)) for row in x]
    np.testing.assert_allclose(to(direction_loss(p, xp.asarray(np.zeros((1, 4))))), [1.0])


def test_separable_data_have_the_stated_margin_and_the_gradient_stays_finite():
    p = SeparableLogistic(200, 5, margin=0.02, spread=0.05, seed=1)
    assert np.min(p.labels * (p.points @ p.separator)) >= 0.02 - 1e-15
    assert np.min(p.labels * (p.points @ p.separator)) < 0.02 + 0.05 * 0.05  # some point sits near the margin
    huge = 1e8 * np.stack([p.separator, -p.separator])
    g = p.grad(huge)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(p.value(huge)))
    assert p.value(huge)[0] < 1e-300 or p.value(huge)[0] == 0.0


def test_large_step_gd_takes_the_batch_perceptron_step():
    """x/γ after one GD step from γw equals w + (1/n) Σ 1[⟨z_i, w⟩ < 0] z_i when no margin is near zero."""
    p = SeparableLogistic(40, 3, margin=0.05, seed=0)
    w = np.random.default_rng(2).standard_normal(3)
    gamma = 1e9
    x = cs.methods.GD(gamma).step(cs.methods.gradient.Iterate(gamma * w[None]), cs.methods.Oracle(p, None), 0).x
    z = p.labels[:, None] * p.points
    np.testing.assert_allclose(x[0] / gamma, w + ((z @ w) < 0).astype(float) @ z / p.n, rtol=1e-12)
