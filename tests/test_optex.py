"""OptEx (Shu et al. 2024, arXiv 2402.11427): the GP gradient estimator against dense closed forms and scipy's
general Matérn kernel, a round against its definition, the exactness on quadratics, backends."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import scipy.spatial.distance
import scipy.special

import convsim as cs
from convsim.methods.optex import OptEx, kernel_matrix, posterior_mean, posterior_weights

ROOT = Path(__file__).resolve().parent.parent


def _claim_module():
    spec = importlib.util.spec_from_file_location("fo_optex", ROOT / "experiments" / "first_order" / "optex.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _matern_general(a, b, nu, length_scale):
    """The Matérn kernel in its general Bessel form, 2^{1−ν}/Γ(ν) (√(2ν) r/ℓ)^ν K_ν(√(2ν) r/ℓ), k(0) = 1."""
    r = scipy.spatial.distance.cdist(a, b) / length_scale
    s = np.sqrt(2.0 * nu) * np.maximum(r, 1e-300)
    with np.errstate(invalid="ignore", over="ignore"):  # r = 0 gives inf * 0, replaced by k(0) = 1 below
        k = 2.0 ** (1.0 - nu) / scipy.special.gamma(nu) * s ** nu * scipy.special.kv(nu, s)
    return np.where(r == 0.0, 1.0, k)


def test_matern52_matches_the_general_bessel_form(rng):
    a, b = rng.normal(size=(7, 5)), rng.normal(size=(4, 5))
    for ls in (0.3, 1.0, 4.0):
        ours = kernel_matrix("matern52", ls, a[None], b[None])[0]
        np.testing.assert_allclose(ours, _matern_general(a, b, 2.5, ls), rtol=1e-10, atol=1e-14)
    # the diagonal of K(X, X): exactly 1 (no negative squared distances from cancellation)
    assert np.allclose(np.diag(kernel_matrix("matern52", 1.0, a[None], a[None])[0]), 1.0, rtol=0, atol=1e-12)


def test_posterior_mean_is_the_dense_gp_solve_and_ignores_empty_slots(rng):
    d, T0, filled, noise, ls = 6, 9, 5, 1e-3, 1.3
    X, G, z = rng.normal(size=(T0, d)), rng.normal(size=(T0, d)), rng.normal(size=(3, d))
    stored = np.zeros(T0)
    stored[T0 - filled:] = 1.0  # the newest `filled` slots hold pairs; the others are junk that must not count
    Xs, Gs = X[T0 - filled:], G[T0 - filled:]
    expected = _matern_general(z, Xs, 2.5, ls) @ scipy.linalg.solve(
        _matern_general(Xs, Xs, 2.5, ls) + noise * np.eye(filled), Gs, assume_a="pos")
    w = posterior_weights("matern52", ls, noise, np.repeat(X[None], 3, 0), np.repeat(G[None], 3, 0),
                          np.repeat(stored[None], 3, 0))
    ours = posterior_mean("matern52", ls, z, np.repeat(X[None], 3, 0), w, np.repeat(stored[None], 3, 0))
    np.testing.assert_allclose(ours, expected, rtol=1e-9)


def test_noiseless_gp_interpolates_and_affine_kernel_recovers_an_affine_field(rng):
    d = 4
    X = rng.normal(size=(1, 8, d))
    A, c = rng.normal(size=(d, d)), rng.normal(size=d)
    G = X @ A.T + c
    stored = np.ones((1, 8))
    # Matérn, noise 0: the posterior mean passes through the data
    w = posterior_weights("matern52", 1.0, 0.0, X, G, stored)
    for i in range(8):
        np.testing.assert_allclose(posterior_mean("matern52", 1.0, X[:, i], X, w, stored), G[:, i], rtol=1e-7, atol=1e-9)
    # affine kernel, 8 > d + 1 points (rank-deficient K, pinv): exact at NEW points
    w = posterior_weights("affine", 1.0, 0.0, X, G, stored)
    z = rng.normal(size=(1, d))
    np.testing.assert_allclose(posterior_mean("affine", 1.0, z, X, w, stored), z @ A.T + c, rtol=1e-9)


def _round_by_definition(x, grad, history_x, history_g, lr, n, ls, noise):
    """One OptEx round written from its definition on one replica (dense solve, lists; no masks)."""
    def mu(z):
        if len(history_x) < 2:
            return np.zeros_like(z)
        Xh, Gh = np.array(history_x), np.array(history_g)
        Kinv_G = np.linalg.pinv(_matern_general(Xh, Xh, 2.5, ls) + noise * np.eye(len(Xh))) @ Gh
        return (_matern_general(z[None], Xh, 2.5, ls) @ Kinv_G)[0]
    zs = [x]
    for _ in range(n - 1):
        zs.append(zs[-1] - lr * mu(zs[-1]))
    gs = [grad(z) for z in zs]
    return zs[-1] - lr * gs[-1], zs, gs


def test_rounds_follow_the_definition_with_a_rolling_history(rng):
    d, n, T0, lr = 3, 3, 5, 0.2  # T0 < 2n: the history window drops old pairs after two rounds
    problem = cs.problems.Quadratic(np.array([2.0, 1.0, 0.5]), rotate=True, seed=2)
    x0 = rng.uniform(-1, 1, d)
    method = OptEx(step_size=lr, parallelism=n, history=T0, length_scale=0.7)
    trace_x = []
    state = method.init(x0[None])
    oracle = cs.methods.base.Oracle(problem, None)
    for t in range(5):
        state = method.step(state, oracle, t)
        trace_x.append(np.array(state.x[0]))
    x, hx, hg = x0, [], []
    for t in range(5):
        x, zs, gs = _round_by_definition(x, lambda z: problem.grad(z[None])[0], hx, hg, lr, n, 0.7, 1e-3)
        hx, hg = (hx + zs)[-T0:], (hg + gs)[-T0:]
        np.testing.assert_allclose(trace_x[t], x, rtol=1e-9, atol=1e-12)
    assert float(state.evaluations[0]) == 5 * n


def test_one_parallel_evaluation_is_gradient_descent(rng):
    problem = cs.problems.Quadratic(np.geomspace(3.0, 0.3, 5), rotate=True, seed=0)
    x0 = rng.uniform(-1, 1, (3, 5))
    ours = cs.simulate(problem, OptEx(step_size=0.3, parallelism=1), 20, 3, x0=x0, metrics=["dist_sq"])
    gd = cs.simulate(problem, cs.methods.GD(0.3), 20, 3, x0=x0, metrics=["dist_sq"])
    np.testing.assert_allclose(ours.values("dist_sq"), gd.values("dist_sq"), rtol=1e-12)


def test_stale_estimator_steps_along_the_newest_gradient(rng):
    problem = cs.problems.Quadratic(np.array([1.0, 0.5]), seed=0)
    method = OptEx(step_size=0.1, parallelism=3, estimator="last")
    oracle = cs.methods.base.Oracle(problem, None)
    state = method.step(method.init(rng.normal(size=(1, 2))), oracle, 0)
    newest = np.array(state.grads[0, -1])
    after = method.step(state, oracle, 1)
    start = np.array(state.x[0])
    np.testing.assert_allclose(after.points[0, -3], start)
    np.testing.assert_allclose(after.points[0, -2], start - 0.1 * newest)
    np.testing.assert_allclose(after.points[0, -1], start - 0.2 * newest)


def test_same_trajectory_on_every_backend(backend, rng):
    problem = cs.problems.Quadratic(np.geomspace(2.0, 0.2, 4), rotate=True, seed=1)
    x0 = rng.uniform(-1, 1, (2, 4))
    for kernel in ("matern52", "affine"):
        method = OptEx(step_size=0.25, parallelism=3, history=8, kernel=kernel)
        ref = cs.simulate(problem, method, 6, 2, x0=x0, metrics=["dist_sq"])
        got = cs.simulate(problem, method, 6, 2, x0=x0, metrics=["dist_sq"], backend=backend)
        np.testing.assert_allclose(got.values("dist_sq"), ref.values("dist_sq"), rtol=1e-9)


def test_bad_options_are_user_errors():
    with pytest.raises(cs.ConvsimError, match="kernel"):
        OptEx(kernel="rbf")
    with pytest.raises(cs.ConvsimError, match="estimator"):
        OptEx(estimator="oracle")
    with pytest.raises(cs.ConvsimError):
        OptEx(parallelism=0)


def test_claims_verdicts_and_the_sharp_identity():
    module = _claim_module()
    ctx = cs.Context()
    for claim in (module.claim, module.negative, module.large_n, module.exact, module.exact_negative):
        outcome = claim.run(ctx, quick=True)
        assert outcome.as_expected, (claim.id, outcome.verdict.reason)
