"""Test functions: gradients and Hessian-vector products against finite differences, known minima."""

import numpy as np
import pytest

from convsim.backend import namespace, to_numpy
from convsim.problems.test_functions import Ackley, Rastrigin, StrictSaddle

PROBLEMS = [Rastrigin(3, shift=np.array([0.2, -0.1, 0.4])), Ackley(3, shift=np.array([0.5, 0.0, -0.3])),
            StrictSaddle(np.array([1.0, -0.5, 2.0, -1.5]), quartic=2.0)]


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_gradient_matches_central_differences(problem, backend):
    xp = namespace(backend)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, problem.dim))
    g = to_numpy(problem.grad(xp.asarray(x)))
    h = 1e-6
    for i in range(problem.dim):
        e = np.zeros(problem.dim)
        e[i] = h
        fd = (to_numpy(problem.value(xp.asarray(x + e))) - to_numpy(problem.value(xp.asarray(x - e)))) / (2 * h)
        np.testing.assert_allclose(g[:, i], fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_known_minimum(problem):
    xs = problem.x_star[None, :]
    assert float(problem.value(xs)[0]) == pytest.approx(problem.f_star, abs=1e-12)
    np.testing.assert_allclose(problem.grad(xs), 0.0, atol=1e-12)
    rng = np.random.default_rng(1)  # no sampled point is below the global minimum
    assert np.all(problem.value(xs + rng.normal(scale=2.0, size=(2000, problem.dim))) >= problem.f_star - 1e-12)


@pytest.mark.parametrize("problem", [PROBLEMS[0], PROBLEMS[2]], ids=lambda p: p.name)
def test_hvp_matches_gradient_differences(problem):
    rng = np.random.default_rng(2)
    x, v = rng.normal(size=(4, problem.dim)), rng.normal(size=(4, problem.dim))
    h = 1e-6
    fd = (problem.grad(x + h * v) - problem.grad(x - h * v)) / (2 * h)
    np.testing.assert_allclose(problem.hvp(x, v), fd, rtol=1e-5, atol=1e-6)


def test_strict_saddle_has_negative_curvature_at_the_origin():
    p = PROBLEMS[2]
    v = np.zeros((1, p.dim))
    v[0, 3] = 1.0
    assert float((v * p.hvp(np.zeros((1, p.dim)), v)).sum()) == pytest.approx(-1.5)
