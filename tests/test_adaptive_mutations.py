"""The ablation fields added for mutation tests (Adam.bias_correction, Adan.difference, Sophia.clip) and the
Hutchinson estimator object: each default is the published update, each ablation is the stated formula."""

import math

import numpy as np

import convsim as cs
from convsim.curvature import HutchinsonDiagonal, hutchinson_diagonal
from convsim.methods import Oracle
from convsim.random import ReplicaStreams


def _steps(method, problem, x0, n):
    oracle = Oracle(problem, ReplicaStreams(np, 0, 0, x0.shape[0]))
    state = method.init(x0)
    for t in range(n):
        state = method.step(state, oracle, t)
    return state


def test_adam_without_bias_correction_is_the_uncorrected_recursion():
    p = cs.problems.Quadratic(np.array([1.0, 0.1, 0.01]))
    x0 = np.array([[1.0, -2.0, 3.0]])
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    x, m, v = x0[0].copy(), np.zeros(3), np.zeros(3)
    for _ in range(5):
        g = p.eigenvalues * x
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        x = x - lr * m / (np.sqrt(v) + eps)
    out = _steps(cs.methods.Adam(lr, b1, b2, eps, bias_correction=False), p, x0, 5)
    np.testing.assert_allclose(out.x[0], x, rtol=1e-12)
    corrected = _steps(cs.methods.Adam(lr, b1, b2, eps), p, x0, 5)
    assert not np.allclose(corrected.x, out.x)  # the default keeps torch's bias correction


def test_adan_without_difference_keeps_v_zero_and_n_the_ema_of_g2():
    p = cs.problems.Quadratic(np.array([1.0, 0.5]))
    x0 = np.array([[1.0, 1.0]])
    b1, b2, b3, lr, eps = 0.02, 0.08, 0.01, 0.1, 1e-8
    x = x0[0].copy()
    for k in range(4):
        g = p.eigenvalues * x
        if k == 0:
            m, n = g, g * g
        else:
            m, n = (1 - b1) * m + b1 * g, (1 - b3) * n + b3 * g * g
        x = x - lr * m / (np.sqrt(n) + eps)
    out = _steps(cs.methods.Adan(lr, b1, b2, b3, eps, difference=False), p, x0, 4)
    np.testing.assert_allclose(out.v, 0.0)
    np.testing.assert_allclose(out.x[0], x, rtol=1e-12)


def test_sophia_clip_threshold_and_its_removal():
    p = cs.problems.Quadratic(np.array([1.0, 0.01]))
    x0 = np.array([[5.0, 5.0]])
    clipped = _steps(cs.methods.Sophia(0.1, gamma=1.0, beta1=0.0, beta2=0.0, k=1,
                                       estimator="hutchinson-rademacher"), p, x0, 1)
    np.testing.assert_allclose(clipped.x[0], [4.9, 4.9])  # m/h = x = 5, clipped to 1
    free = _steps(cs.methods.Sophia(0.1, gamma=1.0, beta1=0.0, beta2=0.0, k=1, estimator="hutchinson-rademacher",
                                    clip=math.inf), p, x0, 1)
    np.testing.assert_allclose(free.x[0], [4.5, 4.5])  # the Newton step eta * x


def test_hutchinson_estimator_object_matches_the_function():
    p = cs.problems.Quadratic(cs.spectra.geometric(5, 1.0, 0.1), rotate=True, seed=1)
    x = np.zeros((3, 5))
    a = HutchinsonDiagonal(4, "gaussian")(p, x, ReplicaStreams(np, 7, 0, 3))
    b = hutchinson_diagonal(p, x, ReplicaStreams(np, 7, 0, 3), 4, "gaussian")
    np.testing.assert_array_equal(a, b)
    assert HutchinsonDiagonal(4, "gaussian").spec() == {"name": "hutchinson-diagonal", "probes": 4,
                                                         "distribution": "gaussian"}
