"""Entropic OT on the dual (convsim.estimators.optimal_transport): derivatives, solvers against each other, the
exact Sinkhorn rate, Newton's quadratic convergence, and the sparsification.

The solvers are host-side NumPy (dense linear solves in float64), so there is no backend parametrization."""

import numpy as np
import pytest

from convsim.estimators.optimal_transport import (EntropicOT, Sinkhorn, SinkhornNewtonSparse, iterations_to,
                                                   linear_rate, sinkhorn_contraction, sparsified_hessian,
                                                   squared_cost)


def clouds(replicas=3, n=12, seed=0):
    rng = np.random.default_rng(seed)
    return squared_cost(rng.random((replicas, n, 2)), rng.random((replicas, n, 2)))


def test_gradient_and_hessian_match_finite_differences():
    problem, cost = EntropicOT(20.0), clouds(replicas=1, n=5)
    rng = np.random.default_rng(1)
    x, y = 0.05 * rng.standard_normal((1, 5)), 0.05 * rng.standard_normal((1, 5))
    z = np.concatenate([x, y], 1)[0]
    split = lambda v: (v[None, :5], v[None, 5:])
    h = 1e-6
    fd_grad = np.array([(problem.potential(cost, *split(z + h * e)) - problem.potential(cost, *split(z - h * e)))[0]
                        / (2 * h) for e in np.eye(10)])
    np.testing.assert_allclose(np.concatenate(problem.gradient(cost, x, y), 1)[0], fd_grad, rtol=1e-6, atol=1e-9)
    fd_hess = np.stack([(np.concatenate(problem.gradient(cost, *split(z + h * e)), 1)
                         - np.concatenate(problem.gradient(cost, *split(z - h * e)), 1))[0] / (2 * h)
                        for e in np.eye(10)], axis=1)
    dense = problem.eta * sparsified_hessian(problem.plan(cost, x, y), 1.0)[0]
    np.testing.assert_allclose(-dense, fd_hess, rtol=1e-5, atol=1e-7)


def test_sinkhorn_and_newton_reach_the_same_plan_with_exact_marginals():
    problem, cost = EntropicOT(30.0), clouds()
    e_sk, (xs, ys) = Sinkhorn().run(problem, cost, 3000, 5e-14)
    e_nt, (xn, yn) = SinkhornNewtonSparse(newton_steps=30, density=1.0).run(problem, cost, 50)
    assert e_sk[:, -1].max() < 1e-13 and e_nt[:, -1].max() < 1e-13
    np.testing.assert_allclose(problem.plan(cost, xn, yn), problem.plan(cost, xs, ys), atol=1e-13)
    # potentials agree up to the gauge x + t, y - t
    shift = (xs - xn).mean(1, keepdims=True)
    np.testing.assert_allclose(xs - shift, xn, atol=1e-10)
    np.testing.assert_allclose(ys + shift, yn, atol=1e-10)


def test_sinkhorn_rate_is_the_squared_second_singular_value_at_the_solution():
    problem, cost = EntropicOT(40.0), clouds(replicas=4, n=16, seed=3)
    errors, (x, y) = Sinkhorn().run(problem, cost, 4000, 1e-12)
    rate = linear_rate(errors, (1e-11, 1e-5))
    np.testing.assert_allclose(rate, sinkhorn_contraction(problem, cost, x, y), rtol=2e-3)
    # the un-squared singular value is a different (slower) rate: the check can tell them apart
    sigma = np.sqrt(sinkhorn_contraction(problem, cost, x, y))
    assert np.all(np.abs(rate / sigma - 1) > 0.005)


def test_dense_newton_stage_converges_quadratically():
    problem, cost = EntropicOT(50.0), clouds(replicas=2, n=16, seed=4)
    errors, _ = SinkhornNewtonSparse(sinkhorn_steps=40, newton_steps=20, density=1.0).run(problem, cost, 60)
    for e in errors:
        stage = e[40:]
        # consecutive pairs inside [1e-12, 1e-3]: e_{k+1} <= K e_k^2 with one K, while a linear rate would need
        # e_{k+1}/e_k fixed; quadratic means the ratio itself shrinks at least as fast as e_k
        pairs = [(a, b) for a, b in zip(stage[:-1], stage[1:]) if 1e-12 < b and a < 1e-3]
        assert len(pairs) >= 2
        ratios = np.array([b / a ** 2 for a, b in pairs])
        assert ratios.max() < 1e3
        assert pairs[-1][1] / pairs[-1][0] < 0.1 * pairs[0][1] / pairs[0][0]


def test_sparsify_keeps_the_largest_entries_and_exact_diagonal():
    plan = np.random.default_rng(5).random((2, 6, 6))
    H = sparsified_hessian(plan, 0.25)
    kept = round(0.25 * 36)
    off = H[:, :6, 6:]
    assert np.all((off != 0).sum((1, 2)) == kept)
    for p, o in zip(plan, off):
        assert o[o != 0].min() >= np.sort(p.ravel())[-kept]
    np.testing.assert_allclose(np.diagonal(H[:, :6, :6], axis1=1, axis2=2), plan.sum(2))
    np.testing.assert_allclose(np.diagonal(H[:, 6:, 6:], axis1=1, axis2=2), plan.sum(1))
    assert np.all(sparsified_hessian(plan, 0.0)[:, :6, 6:] == 0)


def test_sns_beats_sinkhorn_and_the_mutations_undo_it():
    problem, cost = EntropicOT(100.0), clouds(replicas=2, n=24, seed=6)
    plain = iterations_to(Sinkhorn().run(problem, cost, 400, 1e-9)[0], 1e-9)
    sns = iterations_to(SinkhornNewtonSparse().run(problem, cost, 400, 1e-9)[0], 1e-9)
    stalled = iterations_to(SinkhornNewtonSparse(density=0.05).run(problem, cost, 400, 1e-9)[0], 1e-9)
    no_newton = iterations_to(SinkhornNewtonSparse(newton_steps=0).run(problem, cost, 400, 1e-9)[0], 1e-9)
    assert np.all(plain > 5 * sns)
    assert np.all(stalled > 3 * sns)
    np.testing.assert_array_equal(no_newton, plain)


def test_iterations_to_counts_from_one_and_flags_misses():
    errors = np.array([[1.0, 0.1, 0.01], [1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(iterations_to(errors, 0.5), [2.0, 4.0])


def test_rejects_bad_settings():
    with pytest.raises(Exception):
        EntropicOT(-1.0)
    with pytest.raises(Exception):
        SinkhornNewtonSparse(density=1.5)


@pytest.mark.parametrize("axis", [1, 2, (1, 2)])
def test_logsumexp_matches_scipy(axis):
    import scipy.special

    from convsim.estimators.optimal_transport import logsumexp

    a = -300.0 * clouds()  # large exponents: the unshifted sum would underflow to log(0)
    np.testing.assert_allclose(logsumexp(a, axis), scipy.special.logsumexp(a, axis=axis), rtol=1e-13, atol=1e-13)
