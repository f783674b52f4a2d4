"""Closed forms behind the group-C first-order claims: the exact SGD second-moment recursion on
interpolating least squares, DoG's frozen-distance switch, and the Cauchy median variance."""

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest

import convsim as cs
from convsim.methods.base import Oracle
from convsim.problems.interpolating import sgd_second_moments


def _one_step_by_enumeration(A, S, eta, batch):
    """E[(I − ηĤ) S (I − ηĤ)] over every ordered B-tuple of indices drawn with replacement."""
    n, d = A.shape
    out = np.zeros((d, d))
    for idx in itertools.product(range(n), repeat=batch):
        Hb = sum(np.outer(A[i], A[i]) for i in idx) / batch
        P = np.eye(d) - eta * Hb
        out += P @ S @ P.T
    return out / n**batch


@pytest.mark.parametrize("batch", [1, 2])
def test_second_moment_recursion_matches_exact_enumeration(batch):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 3))
    S0 = np.cov(rng.standard_normal((3, 10))) + np.eye(3)
    eta = 0.15
    S1 = _one_step_by_enumeration(A, S0, eta, batch)
    S2 = _one_step_by_enumeration(A, S1, eta, batch)
    curve = sgd_second_moments(A, eta, 2, batch_size=batch, S0=S0)
    np.testing.assert_allclose(curve, [np.trace(S0), np.trace(S1), np.trace(S2)], rtol=1e-12)


def test_second_moment_recursion_agrees_with_monte_carlo_sgd():
    p = cs.problems.InterpolatingLeastSquares.random(40, 5, seed=2)
    eta, steps, R = 0.2, 30, 4096
    x0 = p.x_star + np.random.default_rng(1).standard_normal((R, 5)) / np.sqrt(5)
    tr = cs.simulate(p, cs.methods.SGD(eta), steps, R, x0=x0, metrics=["dist_sq"], record=[0, 10, 30], seed=0)
    exact = sgd_second_moments(p.A, eta, steps)[[0, 10, 30]]
    mc = tr.values("dist_sq").mean(axis=0)
    se = tr.values("dist_sq").std(axis=0) / np.sqrt(R)
    assert np.all(np.abs(mc - exact) < 4 * se + 1e-3 * exact)


def test_dog_fixed_distance_is_adagrad_norm_with_that_scale():
    problem = cs.problems.Quadratic([1.0, 0.5], r0=2.0)
    x0 = np.array([[1.0, -2.0]])
    D = 0.3
    method = cs.methods.DoG(fixed_distance=D)
    state = method.init(x0)
    oracle = Oracle(problem, None)
    x, g_sum = x0.copy(), 0.0
    for t in range(3):
        g = problem.grad(x)
        g_sum += float(np.sum(g * g))
        x = x - D / np.sqrt(g_sum) * g
        state = method.step(state, oracle, t)
        np.testing.assert_allclose(state.x, x, rtol=1e-13)


def test_dog_default_still_tracks_the_distance():
    """Without fixed_distance the step is max(r_eps(1 + ||x0||), max_i ||x_i - x0||) / sqrt(sum ||g_i||^2)."""
    problem = cs.problems.Quadratic([1.0, 0.5], r0=2.0)
    x0 = np.array([[1.0, -2.0]])
    method = cs.methods.DoG(r_eps=0.1)
    state = method.init(x0)
    oracle = Oracle(problem, None)
    x, g_sum, rbar = x0.copy(), 0.0, 0.1 * (1 + np.linalg.norm(x0))
    for t in range(4):
        rbar = max(rbar, float(np.linalg.norm(x - x0)))
        g = problem.grad(x)
        g_sum += float(np.sum(g * g))
        x = x - rbar / np.sqrt(g_sum) * g
        state = method.step(state, oracle, t)
        np.testing.assert_allclose(state.x, x, rtol=1e-13)
    assert rbar > 0.1 * (1 + np.linalg.norm(x0))  # the distance estimate did move


def _claim_module(name):
    path = Path(__file__).resolve().parent.parent / "experiments" / "first_order" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_test_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cauchy_median_variance_matches_sampling():
    clip = _claim_module("clip_median")
    draws = np.random.default_rng(0).standard_cauchy((400_000, 9))
    mc = np.median(draws, axis=1).var()
    assert abs(clip.cauchy_median_variance(9) - mc) < 0.02 * mc
    assert clip.cauchy_median_variance(9) < clip.cauchy_median_variance(5)  # more draws, a tighter median
