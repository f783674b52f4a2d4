"""Approximate and accelerated second-order methods: gradient-normalized-smoothness Newton ([S3]) and the
accelerated stochastic cubic Newton ([S71]), against independent numpy restatements and optimality conditions."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize

import convsim as cs
from convsim.errors import ConvsimError
from convsim.methods.accelerated_newton import AcceleratedStochasticNewton, solve_regularized_model
from convsim.methods.approximate_newton import GradNormSmoothNewton, fisher_matrix

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(f"so_p3_{name}", ROOT / "experiments" / "first_order" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def logistic(seed=0, n=40, d=4, reg=1e-3):
    base = cs.problems.LogisticRegression.random(n, d, reg=reg, seed=seed, separation=2.0)
    x0 = 2.0 * np.random.default_rng(seed).standard_normal(d)
    return cs.problems.LogisticRegression(base.A, base.y, reg=reg, x0=x0)


def authors_search_run(problem, steps, hessian, gamma0=1.0, max_halvings=24):
    """The sequential search of the authors' grad_norm_smooth, restated in plain numpy (peer implementation)."""
    f = lambda x: float(problem.value(x[None])[0])
    grad = lambda x: problem.grad(x[None])[0]
    x, gamma, out = problem.initial_point().copy(), gamma0, []
    for _ in range(steps):
        g = grad(x)
        H = hessian(x)
        for i in range(max_halvings):
            lam = np.linalg.norm(g) / gamma
            dx = -np.linalg.solve(H + lam * np.eye(x.size), g)
            g_new = grad(x + dx)
            if f(x) - f(x + dx) >= g_new @ g_new / (8.0 * lam) or i == max_halvings - 1:
                gamma *= 2.0
                break
            gamma *= 0.5
        x = x + dx
        out.append(x.copy())
    return np.array(out)


def numpy_fisher(problem, x):
    margins = problem.A @ x
    w = (problem.y * (-1.0) / (1.0 + np.exp(problem.y * margins))) ** 2  # ℓ'(m)² with ℓ' = −y σ(−y m)
    return (problem.A.T * w) @ problem.A / problem.n + problem.reg * np.eye(problem.dim)


def test_fisher_matrix_is_the_mean_outer_product_of_per_sample_gradients():
    p = logistic()
    x = np.random.default_rng(1).standard_normal((3, p.dim))
    F = fisher_matrix(p, x)
    for r in range(3):
        per_sample = [(-p.y[i] / (1.0 + np.exp(p.y[i] * p.A[i] @ x[r]))) * p.A[i] for i in range(p.n)]
        expected = np.mean([np.outer(v, v) for v in per_sample], axis=0) + p.reg * np.eye(p.dim)
        np.testing.assert_allclose(F[r], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("hessian", ["fisher", "exact"])
def test_batched_gamma_search_reproduces_the_authors_sequential_search(backend, hessian):
    p = logistic(seed=2)
    exact = lambda x: ((p.A.T * (1 / (1 + np.exp(-p.A @ x)) * (1 / (1 + np.exp(p.A @ x))))) @ p.A / p.n
                       + p.reg * np.eye(p.dim))
    reference = authors_search_run(p, 8, (lambda x: numpy_fisher(p, x)) if hessian == "fisher" else exact)
    run = cs.simulate(p, GradNormSmoothNewton(hessian=hessian), 8, 1, backend=backend, metrics=["dist_sq"],
                      record=np.arange(9))
    dist_ref = np.sum((reference - p.x_star) ** 2, axis=1)
    np.testing.assert_allclose(run.values("dist_sq")[0, 1:], dist_ref, rtol=1e-8, atol=1e-20)


def test_zero_hessian_step_is_a_normalized_gradient_step_of_length_gamma():
    p = logistic(seed=3)
    x = p.initial_point()[None]
    method = GradNormSmoothNewton(hessian="zero", adaptive=False, gamma0=0.3)
    state = method.step(method.init(x), cs.methods.base.Oracle(p, None), 0)
    g = p.grad(x)[0]
    np.testing.assert_allclose(state.x[0], x[0] - 0.3 * g / np.linalg.norm(g), rtol=1e-12)


def test_fisher_run_converges_linearly_on_logistic_regression():
    p = logistic(seed=4, reg=1e-4)
    run = cs.simulate(p, GradNormSmoothNewton(hessian="fisher"), 30, 1, metrics=["suboptimality"])
    assert run.values("suboptimality")[0, -1] < 1e-10


def test_bad_hessian_name_is_a_one_line_error():
    with pytest.raises(ConvsimError, match="hessian must be one of"):
        GradNormSmoothNewton(hessian="bfgs")
    with pytest.raises(ConvsimError, match="needs a regularizer"):
        AcceleratedStochasticNewton()


@pytest.mark.parametrize("cubic", [0.0, 0.7])
def test_regularized_model_step_is_the_minimizer(cubic):
    rng = np.random.default_rng(5)
    d = 4
    B = rng.standard_normal((2, d, d))
    H = B @ np.transpose(B, (0, 2, 1)) - 0.5 * np.eye(d)  # indefinite possible; quad makes H + quad I ≻ 0
    g = rng.standard_normal((2, d))
    quad = np.array([3.0, 4.0])
    s = solve_regularized_model(H, g, quad, cubic)
    for r in range(2):
        model = lambda u: g[r] @ u + 0.5 * u @ H[r] @ u + 0.5 * quad[r] * u @ u + cubic / 6 * np.linalg.norm(u) ** 3
        best = scipy.optimize.minimize(model, np.zeros(d), method="BFGS", options={"gtol": 1e-12}).x
        np.testing.assert_allclose(s[r], best, rtol=1e-6, atol=1e-8)
        stationarity = g[r] + H[r] @ s[r] + (quad[r] + 0.5 * cubic * np.linalg.norm(s[r])) * s[r]
        assert np.linalg.norm(stationarity) < 1e-9


def scalar_accelerated_run(lam, x_star, steps, theta, sigma2, radius, accelerated=True):
    """The same accelerated scheme per eigenmode of a diagonal quadratic (all updates decouple when M = 0)."""
    x = np.zeros_like(x_star)
    y, s = x.copy(), np.zeros_like(x)
    grad = lambda z: lam * (z - x_star)
    delta = lambda t: 2.0 * sigma2
    for t in range(steps):
        alpha = 3.0 / (t + 3.0) if accelerated else 0.0
        v = (1 - alpha) * x + alpha * y
        x = v - grad(v) / ((1 - theta) * lam + delta(t))
        s = s + (t + 1.0) * (t + 2.0) / 2.0 * grad(x)
        y = -s / (2.0 * (t + 4.0) * delta(t + 1)) if accelerated else x
    return x


@pytest.mark.parametrize("accelerated", [True, False])
def test_accelerated_method_matches_the_per_mode_recursion(backend, accelerated):
    lam = np.array([1.0, 0.3, 0.05, 0.002])
    x_star = np.array([1.0, -2.0, 0.5, 3.0])
    p = cs.problems.Quadratic(lam, x_star=x_star, x0=np.zeros(4))
    radius = float(np.linalg.norm(x_star))
    m = AcceleratedStochasticNewton(sigma2=0.5, radius=radius, hessian_shrink=0.5, accelerated=accelerated)
    run = cs.simulate(p, m, 12, 1, backend=backend, metrics=["dist_sq"], record=np.array([12]))
    x_ref = scalar_accelerated_run(lam, x_star, 12, 0.5, 0.5, radius, accelerated)
    np.testing.assert_allclose(run.values("dist_sq")[0, -1], np.sum((x_ref - x_star) ** 2), rtol=1e-9)


def test_stochastic_hessian_is_symmetric_unbiased_with_the_declared_scale():
    from convsim.random import ReplicaStreams
    lam = np.array([2.0, 1.0, 0.5])
    p = cs.problems.Quadratic(lam, x0=np.ones(3))
    m = AcceleratedStochasticNewton(sigma2=0.1, hessian_noise=0.4)
    R = 4096
    rng = ReplicaStreams(np, 3, 0, R)
    H = m.inexact_hessian(cs.methods.base.Oracle(p, rng), np.ones((R, 3)))
    np.testing.assert_allclose(H, np.transpose(H, (0, 2, 1)), atol=1e-14)
    E = H - np.diag(lam)
    assert np.abs(E.mean(axis=0)).max() < 5 * 0.4 / np.sqrt(R)
    # off-diagonal entries have variance (0.4)^2 / (4 d) by construction: (Z + Z^T)/(2 sqrt(2d)) * 0.4
    np.testing.assert_allclose(E[:, 0, 1].var(), 0.4 ** 2 / (4 * 3), rtol=0.1)


def test_gn_smooth_paper_rate_uses_m1_times_distance():
    gn = load("gn_smooth")
    p = gn.problem_for(100, 8, 3.0)
    m1 = np.max(np.linalg.norm(p.A, axis=1))
    dist = np.linalg.norm(p.initial_point() - p.x_star)
    assert gn.paper_rate(p) == pytest.approx(np.exp(-1 / (m1 * dist)), rel=1e-12)
