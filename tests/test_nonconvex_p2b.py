"""Nonconvex family, part 2b: the sharpness metric (convsim.curvature.top_hessian_eigenvalue) against dense
eigvalsh, and the problems behind sam-flat, sgd-sparse, gfs-sharpness and large-lr (TwoMinimum,
ScalarNetwork, DiagonalNetwork) against finite differences, restated Hessians and closed forms."""

import numpy as np
import pytest

import convsim as cs
from convsim.curvature import Sharpness, top_hessian_eigenvalue
from convsim.problems.diagonal_network import DiagonalNetwork, l1_norm
from convsim.problems.matrix_sensing import MatrixSensing
from convsim.problems.scalar_network import ScalarNetwork, gfs_sharpness
from convsim.problems.two_minimum import TwoMinimum, in_flat_well
from convsim.random import ReplicaStreams


def host(a):
    return cs.backend.to_numpy(a)


def fd_grad(p, x, h=1e-6):
    eye = np.eye(x.shape[1])
    return np.stack([(p.value(x + h * eye[i]) - p.value(x - h * eye[i])) / (2 * h) for i in range(x.shape[1])], axis=1)


def dense_hessian(p, x):
    """Row r: the dense Hessian at x[r] from unit-vector products (R, d, d)."""
    d = x.shape[1]
    return np.stack([p.hvp(x, np.broadcast_to(np.eye(d)[i], x.shape).copy()) for i in range(d)], axis=1)


def check_derivatives(p, x, v, rtol=1e-6):
    scale = np.abs(p.grad(x)).max() + 1.0
    np.testing.assert_allclose(p.grad(x), fd_grad(p, x), atol=rtol * scale)
    h = 1e-6
    np.testing.assert_allclose(p.hvp(x, v), (p.grad(x + h * v) - p.grad(x - h * v)) / (2 * h),
                               atol=rtol * (np.abs(p.hvp(x, v)).max() + 1.0))


# -- sharpness by power iteration -------------------------------------------------------------------------
def test_top_eigenvalue_matches_eigvalsh(backend):
    xp = cs.backend.namespace(backend)
    q = cs.problems.Quadratic(np.array([3.0, 5.0, 1.0, 0.5, 4.2]), rotate=True, seed=1)
    got = host(top_hessian_eigenvalue(q, xp.asarray(np.zeros((3, 5))), 300))
    np.testing.assert_allclose(got, np.linalg.eigvalsh(q.hessian())[-1], rtol=1e-10)
    sn = ScalarNetwork(4, 1.0)  # indefinite Hessians away from the minimizers
    x = np.random.default_rng(0).uniform(-1.5, 1.5, (6, 4))
    want = np.linalg.eigvalsh(dense_hessian(sn, x))[:, -1]
    np.testing.assert_allclose(host(top_hessian_eigenvalue(sn, xp.asarray(x), 400)), want, rtol=1e-8)


def test_top_eigenvalue_of_matrix_sensing_hessians():
    ms = MatrixSensing(4, 2, 3, measurements=30, condition=3.0)
    x = np.random.default_rng(0).standard_normal((4, ms.dim))
    want = [np.linalg.eigvalsh(ms.hessian_host(row))[-1] for row in x]
    np.testing.assert_allclose(top_hessian_eigenvalue(ms, x, 3000), want, rtol=1e-6)


def test_top_eigenvalue_of_a_negative_definite_hessian_is_the_least_negative():
    p = cs.problems.StrictSaddle([-4.0, -1.0, -2.0])
    np.testing.assert_allclose(top_hessian_eigenvalue(p, np.zeros((2, 3)), 200), -1.0, rtol=1e-10)


def test_sharpness_metric_runs_through_the_engine(backend):
    p = ScalarNetwork(3, 1.0)
    x0 = np.random.default_rng(1).uniform(0.5, 1.2, (8, 3))
    ref = cs.simulate(p, cs.methods.GD(0.1), 5, 8, x0=x0, metrics={"s": Sharpness(50)}, record=np.arange(6))
    run = cs.simulate(p, cs.methods.GD(0.1), 5, 8, x0=x0, metrics={"s": Sharpness(50)}, record=np.arange(6),
                      backend=backend)
    np.testing.assert_allclose(run.values("s"), ref.values("s"), rtol=1e-10)
    xT = x0.copy()
    for _ in range(5):
        xT = xT - 0.1 * p.grad(xT)
    np.testing.assert_allclose(ref.values("s")[:, -1], np.linalg.eigvalsh(dense_hessian(p, xT))[:, -1], rtol=1e-8)


# -- two minima ------------------------------------------------------------------------------------------------
def test_two_minimum_closed_forms(backend):
    p = TwoMinimum(10.0, 1.0, 1.0, d=2)
    xp = cs.backend.namespace(backend)
    q = np.sqrt(10.0)
    pts = np.array([[-1.0, q], [q, -1.0], [0.0, 0.0]])
    np.testing.assert_allclose(host(p.value(xp.asarray(pts))), [0.0, 0.0, 10.0], atol=1e-12)  # ridge: 2 x 5
    np.testing.assert_allclose(host(p.curvature(xp.asarray(pts[:2]))), [[10.0, 1.0], [1.0, 10.0]])
    np.testing.assert_allclose(p.left_crossing, -2 * np.sqrt(10) / (np.sqrt(10) - 1))
    x = np.random.default_rng(2).uniform(-4, 4, (20, 2))
    x = x[np.all(np.abs(x) > 1e-3, axis=1) & np.all(np.abs(x - p.left_crossing) > 1e-3, axis=1)]
    check_derivatives(p, x, np.random.default_rng(3).standard_normal(x.shape))
    np.testing.assert_allclose(host(p.in_flat_well(xp.asarray(np.array([[0.1, 2.0], [0.1, -0.1]])))), [1.0, 0.0])


def test_two_minimum_gd_ends_in_the_well_of_its_basin_and_noise_is_unbiased(rng):
    p = TwoMinimum(10.0, 1.0, 1.0)
    x0 = p.initial_points(200, -2.0, 2.0)
    tr = cs.simulate(p, cs.methods.GD(0.05), 400, 200, x0=x0, metrics={"flat": in_flat_well})
    np.testing.assert_array_equal(tr.values("flat")[:, -1], (x0[:, 0] > 0).astype(float))
    noisy = TwoMinimum(10.0, 1.0, 1.0, noise=0.3)
    xp = cs.backend.namespace("numpy")
    R = 40_000
    x = np.full((R, 1), 0.4)
    g = noisy.stochastic_grad(x, ReplicaStreams(xp, 0, 0, R))
    assert abs(g.mean() - p.grad(x[:1])[0, 0]) < 5 * 0.3 / np.sqrt(R)
    np.testing.assert_allclose(g.std(), 0.3, rtol=0.02)


# -- scalar networks ----------------------------------------------------------------------------------------
def scalar_hessian_restated(w, y):
    """∇π∇πᵀ + (π − y)∇²π with explicit products, one replica."""
    D = w.size
    pi = np.prod(w)
    dpi = np.array([np.prod(np.delete(w, i)) for i in range(D)])
    H2 = np.array([[0.0 if i == j else np.prod(np.delete(w, [i, j])) for j in range(D)] for i in range(D)])
    return np.outer(dpi, dpi) + (pi - y) * H2


@pytest.mark.parametrize("depth", [2, 3, 5])
def test_scalar_network_derivatives(depth, backend):
    p = ScalarNetwork(depth, 1.5)
    rng = np.random.default_rng(depth)
    x = rng.uniform(-1.5, 1.5, (6, depth))
    v = rng.standard_normal((6, depth))
    check_derivatives(p, x, v)
    H = np.stack([scalar_hessian_restated(w, 1.5) for w in x])
    np.testing.assert_allclose(dense_hessian(p, x), H, rtol=1e-12, atol=1e-12)
    xp = cs.backend.namespace(backend)
    np.testing.assert_allclose(host(p.hvp(xp.asarray(x), xp.asarray(v))), np.einsum("rij,rj->ri", H, v), rtol=1e-12)


def test_gfs_point_keeps_the_balances_and_fits_the_target(backend):
    p = ScalarNetwork(4, 2.0)
    xp = cs.backend.namespace(backend)
    x = np.random.default_rng(5).uniform(0.3, 1.8, (10, 4))
    w = host(p.gfs_point(xp.asarray(x)))
    np.testing.assert_allclose(np.prod(w, axis=1), 2.0, rtol=1e-13)
    np.testing.assert_allclose(w**2 - w[:, :1] ** 2, x**2 - x[:, :1] ** 2, atol=1e-13)
    # its sharpness is the top eigenvalue of the Hessian there (rank one: ‖∇π‖²)
    want = np.linalg.eigvalsh(dense_hessian(p, w))[:, -1]
    np.testing.assert_allclose(host(p.gfs_sharpness(xp.asarray(x))), want, rtol=1e-12)
    assert p.minimum_sharpness == pytest.approx(4 * 2.0 ** 1.5)
    assert np.all(want >= p.minimum_sharpness - 1e-12)


def test_gradient_flow_ends_where_the_gfs_sharpness_says():
    """Tiny-step GD approximates gradient flow: the GFS sharpness stays put and the limit's sharpness is it."""
    p = ScalarNetwork(3, 1.0)
    x0 = np.random.default_rng(6).uniform(0.4, 1.2, (5, 3))
    tr = cs.simulate(p, cs.methods.GD(5e-3), 4000, 5, x0=x0, metrics={"gfs": gfs_sharpness, "s": Sharpness(80)})
    np.testing.assert_allclose(tr.values("gfs")[:, -1], p.gfs_sharpness(x0), rtol=2e-2)
    np.testing.assert_allclose(tr.values("s")[:, -1], tr.values("gfs")[:, -1], rtol=1e-8)


# -- diagonal networks ------------------------------------------------------------------------------------
def dln_hessian_restated(u, v, A, y):
    """The 2d × 2d Hessian of (1/2n)‖A(u⊙v) − y‖² in blocks (u first)."""
    n = A.shape[0]
    G = A.T @ A
    g = A.T @ (A @ (u * v) - y)
    top = np.hstack([np.diag(v) @ G @ np.diag(v), np.diag(v) @ G @ np.diag(u) + np.diag(g)])
    bottom = np.hstack([np.diag(u) @ G @ np.diag(v) + np.diag(g), np.diag(u) @ G @ np.diag(u)])
    return np.vstack([top, bottom]) / n


def test_diagonal_network_derivatives_and_hessian(backend):
    p = DiagonalNetwork(6, 8, 2, 0.3, seed=1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, p.dim))
    v = rng.standard_normal((4, p.dim))
    check_derivatives(p, x, v)
    H = np.stack([dln_hessian_restated(r[:8], r[8:], p.A, p.y) for r in x])
    xp = cs.backend.namespace(backend)
    np.testing.assert_allclose(host(p.hvp(xp.asarray(x), xp.asarray(v))), np.einsum("rij,rj->ri", H, v), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(host(p.value(xp.asarray(x))), p.value(x), rtol=1e-12)


def test_diagonal_network_single_sample_gradients_average_to_the_full_one():
    p = DiagonalNetwork(5, 7, 2, 0.3, seed=3)
    x = np.random.default_rng(4).standard_normal((1, p.dim))
    u, v = x[0, :7], x[0, 7:]
    per_sample = [np.concatenate([(p.A[i] @ (u * v) - p.y[i]) * p.A[i] * v, (p.A[i] @ (u * v) - p.y[i]) * p.A[i] * u])
                  for i in range(p.n)]
    np.testing.assert_allclose(np.mean(per_sample, axis=0), p.grad(x)[0], rtol=1e-12)
    xp = cs.backend.namespace("numpy")
    R = 2000
    g = p.stochastic_grad(np.repeat(x, R, axis=0), ReplicaStreams(xp, 0, 0, R))
    rows = {tuple(np.round(r, 10)) for r in g}
    assert rows <= {tuple(np.round(s, 10)) for s in per_sample} and len(rows) == p.n  # each draw is one sample's


def test_flow_limit_is_the_mirror_interpolator():
    p = DiagonalNetwork(10, 20, 2, 0.5, seed=0)
    beta = p.flow_limit()
    np.testing.assert_allclose(p.A @ beta, p.y, atol=1e-8)
    s2 = 0.5**2 / 4
    mirror = np.arcsinh(beta / (2 * s2))  # ∇Q(β) must lie in the row space of A (KKT)
    coef = np.linalg.lstsq(p.A.T, mirror, rcond=None)[0]
    np.testing.assert_allclose(p.A.T @ coef, mirror, atol=1e-7)
    # small-step GD from u = α1, v = 0 converges there (gradient flow's limit)
    tr = cs.simulate(p, cs.methods.GD(0.02), 10_000, 1, metrics={"l1": l1_norm})
    assert tr.values("l1")[0, -1] == pytest.approx(np.abs(beta).sum(), rel=1e-2)


def test_stochastic_runs_agree_across_backends(backend):
    """Single-sample SGD on the diagonal network and noisy SAM on the two-minimum toy draw the same samples on
    every backend (per-block replica streams), so the runs agree."""
    p = DiagonalNetwork(6, 8, 2, 0.3, seed=1)
    ref = cs.simulate(p, cs.methods.SGD(0.05), 50, 8, metrics={"l1": l1_norm})
    run = cs.simulate(p, cs.methods.SGD(0.05), 50, 8, metrics={"l1": l1_norm}, backend=backend)
    np.testing.assert_allclose(run.values("l1"), ref.values("l1"), rtol=1e-10)
    q = TwoMinimum(10.0, 1.0, 1.0, noise=0.2)
    x0 = q.initial_points(8, -2.0, 2.0)
    kw = dict(x0=x0, metrics={"value": lambda pr, x: pr.value(x)})
    ref = cs.simulate(q, cs.methods.SAM(0.05, rho=0.3), 50, 8, **kw)
    run = cs.simulate(q, cs.methods.SAM(0.05, rho=0.3), 50, 8, backend=backend, **kw)
    np.testing.assert_allclose(run.values("value"), ref.values("value"), rtol=1e-10, atol=1e-14)
