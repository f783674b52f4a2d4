"""HiPPO-LegS and perturb-then-diagonalize (convsim.estimators.hippo) against independent structure and bounds."""

import numpy as np
import pytest

from convsim.backend import to_numpy
from convsim.estimators.hippo import PerturbThenDiagonalize, davies_bound, eigenvector_condition, legs_matrix
from convsim.estimators.runner import sample_rows


@pytest.mark.parametrize("n", [1, 5, 12])
def test_legs_matrix_spectrum_and_normal_plus_low_rank_form(n):
    A = legs_matrix(n)
    np.testing.assert_allclose(np.sort(np.linalg.eigvals(A).real), -np.arange(n, 0, -1.0), atol=1e-8)
    # S4's NPLR form (Gu, Goel & Re, arXiv:2111.00396): A + P P^T + I/2 is skew-symmetric, P_k = sqrt(k + 1/2)
    P = np.sqrt(np.arange(n) + 0.5)
    S = A + np.outer(P, P) + 0.5 * np.eye(n)
    np.testing.assert_allclose(S, -S.T, atol=1e-12)


def test_eigenvector_condition_of_normal_and_of_legs():
    rng = np.random.default_rng(1)
    H = rng.standard_normal((8, 8))
    assert eigenvector_condition(H + H.T)[0] == pytest.approx(1.0, abs=1e-10)
    kappas = [eigenvector_condition(legs_matrix(n))[0] for n in (4, 8, 12, 16)]
    assert all(b > 30 * a for a, b in zip(kappas, kappas[1:]))   # exponential growth in N


@pytest.mark.parametrize("delta", [1e-1, 1e-2])
def test_ptd_backward_error_is_the_perturbation_and_kappa_is_within_davies_bound(delta):
    rng = np.random.default_rng(2)
    n = 16
    for _ in range(5):
        G = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / np.sqrt(2 * n)
        kappa, backward = PerturbThenDiagonalize(delta).diagonalize(legs_matrix(n), G)
        assert backward == pytest.approx(delta, rel=1e-8)
        assert kappa < davies_bound(n, delta) < eigenvector_condition(legs_matrix(n))[0]


def test_ptd_draws_on_every_backend(backend):
    def draw(rng, xp):
        z = to_numpy(rng.normal(2, 6, 6))
        G = (z[:, 0] + 1j * z[:, 1]) / np.sqrt(12)
        return np.array([PerturbThenDiagonalize(0.05).diagonalize(legs_matrix(6), g) for g in G])
    v = sample_rows(draw, 128, backend=backend)
    assert v.shape == (128, 2)
    np.testing.assert_allclose(v[:, 1], 0.05, rtol=1e-8)
    assert np.all(v[:, 0] < davies_bound(6, 0.05))


# -- comp-sum H-consistency --------------------------------------------------------------------------------------
import scipy.optimize  # noqa: E402

from convsim.estimators.consistency import CompSumLoss, error_transformation, worst_case, zero_one_regret  # noqa: E402


@pytest.mark.parametrize("tau", [0.0, 0.5, 1.0, 1.5, 2.0])
def test_bayes_conditional_risk_is_the_minimum_over_the_simplex(tau):
    loss = CompSumLoss(tau)
    p = np.array([0.5, 0.3, 0.15, 0.05])
    objective = lambda z: loss.conditional_risk(p, np.exp(z) / np.exp(z).sum())
    best = min(scipy.optimize.minimize(objective, z0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12,
                                                                                    "maxiter": 20000}).fun
               for z0 in (np.zeros(4), np.log(p), np.array([3.0, 0, 0, -3.0])))
    assert loss.bayes_conditional_risk(p) == pytest.approx(best, abs=1e-6)


@pytest.mark.parametrize("tau", [0.0, 0.5, 1.0, 2.0])
def test_error_transformation_is_the_infimum_of_the_conditional_regret(tau):
    """T_tau(t) against a constrained numerical infimum over (p, s) with zero-one regret >= t, n = 3 classes."""
    n, t, loss = 3, 0.25, CompSumLoss(tau)
    p, s = worst_case(tau, t, n)
    attained = loss.conditional_risk(p, s) - loss.bayes_conditional_risk(p)
    assert zero_one_regret(p, s) == pytest.approx(t, abs=1e-9)
    assert attained == pytest.approx(error_transformation(tau, t, n), rel=1e-6)
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.full(n, 0.7), size=200000)
    S = rng.dirichlet(np.full(n, 0.7), size=200000)
    regret01 = zero_one_regret(P, S)
    surrogate = loss.conditional_risk(P, S) - loss.bayes_conditional_risk(P)
    assert np.all(error_transformation(tau, regret01, n) <= surrogate * (1 + 1e-9) + 1e-12)


def test_cross_entropy_transformation_is_the_binary_kl_and_square_root_growth():
    t = np.array([1e-3, 0.1, 0.6])
    kl = (1 + t) / 2 * np.log(1 + t) + (1 - t) / 2 * np.log(1 - t)      # KL((1+t)/2, (1-t)/2 || 1/2, 1/2)
    np.testing.assert_allclose(error_transformation(1.0, t, 5), kl, rtol=1e-7)  # kl cancels at small t
    assert error_transformation(1.0, 1e-3, 5) == pytest.approx(1e-6 / 2, rel=1e-3)   # T(t) ~ t^2/2: Gamma ~ sqrt(2 s)


# -- 4-bit Shampoo roots -------------------------------------------------------------------------------------------
import scipy.linalg  # noqa: E402

from convsim.estimators.quantized_preconditioner import (BlockQuantizer, EigenQuantizedRoot,  # noqa: E402
                                                         MatrixQuantizedRoot, exact_root, relative_error)


def test_linear_square_code_and_roundtrip():
    code = BlockQuantizer().code()
    assert code.size == 16 and code[7] == 0.0 and code[0] == -1.0 and code[-1] == 1.0
    np.testing.assert_allclose(code[8:], (np.linspace(-1, 1, 16)[8:]) ** 2)
    rng = np.random.default_rng(4)
    M = rng.standard_normal((3, 128))
    Q = BlockQuantizer().roundtrip(M)
    np.testing.assert_array_equal(BlockQuantizer().roundtrip(Q), Q)              # code points are fixed points
    scale = np.abs(M.reshape(3, 2, 64)).max(-1, keepdims=True)
    gap = np.max(np.diff(code))
    assert np.all(np.abs(Q - M).reshape(3, 2, 64) <= gap / 2 * scale + 1e-15)
    assert np.all(np.abs(Q).reshape(3, 2, 64).max(-1, keepdims=True) == scale)   # each block's absmax is exact
    keep = np.zeros_like(M, dtype=bool)
    keep[:, 5] = True
    np.testing.assert_array_equal(BlockQuantizer().roundtrip(M, keep=keep)[:, 5], M[:, 5])


def test_exact_root_matches_scipy_and_quantized_roots_are_close():
    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(rng.standard_normal((64, 64)))
    A = (Q * np.geomspace(1e-3, 1, 64)) @ Q.T
    ref = scipy.linalg.fractional_matrix_power(A + 1e-6 * np.eye(64), -0.25).real
    np.testing.assert_allclose(exact_root(A), ref, rtol=1e-8, atol=1e-10)
    rect, plain, matrix = (relative_error(m(A), ref) for m in (EigenQuantizedRoot(), EigenQuantizedRoot(rectify=0),
                                                                MatrixQuantizedRoot()))
    assert rect < plain < matrix < 1.0
    assert relative_error(EigenQuantizedRoot(BlockQuantizer(bits=8))(A), ref) < 0.02   # more bits: closer


def test_bjorck_steps_restore_orthogonality():
    rng = np.random.default_rng(6)
    Q, _ = np.linalg.qr(rng.standard_normal((64, 64)))
    V = BlockQuantizer().roundtrip(Q)
    defects = []
    for _ in range(4):
        defects.append(np.linalg.norm(V @ V.T - np.eye(64)))
        V = 1.5 * V - 0.5 * V @ V.T @ V
    assert all(b < a for a, b in zip(defects, defects[1:])) and defects[-1] < 1e-3 * defects[0]


# -- aggregate responses (bags) ----------------------------------------------------------------------------------
from convsim.backend import namespace  # noqa: E402
from convsim.estimators.bags import BagLosses  # noqa: E402


def _loop_losses(theta, x, y, k):
    n = x.shape[0]
    inst = bag = 0.0
    for b in range(n // k):
        rows = slice(b * k, (b + 1) * k)
        ybar, xbar = y[rows].mean(), x[rows].mean(axis=0)
        inst += sum((ybar - x[i] @ theta) ** 2 for i in range(b * k, (b + 1) * k))
        bag += k * (ybar - xbar @ theta) ** 2
    return inst / n, bag / n


def test_bag_losses_match_explicit_loops_and_split_exactly(backend):
    xp = namespace(backend)
    rng = np.random.default_rng(7)
    x, y, theta = rng.standard_normal((2, 12, 3)), rng.standard_normal((2, 12)), rng.standard_normal((2, 3))
    losses = BagLosses(4)
    args = tuple(xp.asarray(a) for a in (theta, x, y))
    inst, bag = to_numpy(losses.instance_level(*args)), to_numpy(losses.bag_level(*args))
    for r in range(2):
        np.testing.assert_allclose((inst[r], bag[r]), _loop_losses(theta[r], x[r], y[r], 4), rtol=1e-12)
    np.testing.assert_allclose(inst, to_numpy(losses.regularized_bag_level(*args)), rtol=1e-12)


def test_instance_level_minimizer_is_the_regularized_bag_level_minimizer():
    """lstsq on the instance-level design (each x_i against its bag mean) = the normal equations of L_bag + R."""
    rng = np.random.default_rng(8)
    n, d, k = 40, 5, 4
    x, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    ybar = np.repeat(y.reshape(-1, k).mean(axis=1), k)
    instance = np.linalg.lstsq(x, ybar, rcond=None)[0]
    xbar = x.reshape(-1, k, d).mean(axis=1)
    centred = (x.reshape(-1, k, d) - xbar[:, None, :]).reshape(n, d)
    gram = k * xbar.T @ xbar + centred.T @ centred
    regularized = np.linalg.solve(gram, k * xbar.T @ y.reshape(-1, k).mean(axis=1))
    np.testing.assert_allclose(instance, regularized, rtol=1e-10)
    losses = BagLosses(k)
    grad = lambda t: (losses.instance_level(t[None] + 1e-6 * np.eye(d), x[None].repeat(d, 0), y[None].repeat(d, 0))
                      - losses.instance_level(t[None] - 1e-6 * np.eye(d), x[None].repeat(d, 0), y[None].repeat(d, 0))) / 2e-6
    np.testing.assert_allclose(grad(regularized), 0.0, atol=1e-6)
