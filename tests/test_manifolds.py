"""convsim.manifolds: Poincaré-ball closed forms against their definitions, finite differences and geoopt;
RAMSGRAD against Euclidean AMSGrad on a geodesic; SPD momentum's positive definiteness."""

import numpy as np
import pytest
import scipy.stats

import convsim as cs
from convsim.backend import namespace, to_numpy
from convsim.manifolds import (RAMSGRAD, FrechetBall, GaussianPrecision, SPDMomentum,
                               geodesic_dist_sq, max_component_norm, min_eigenvalue, poincare)


def ball_points(rng, shape, radius=0.9):
    x = rng.normal(size=shape)
    return x / np.linalg.norm(x, axis=-1, keepdims=True) * radius * rng.uniform(0.05, 1.0, shape[:-1] + (1,))


@pytest.fixture
def triple():
    rng = np.random.default_rng(0)
    return ball_points(rng, (6, 3)), ball_points(rng, (6, 3)), rng.normal(size=(6, 3))


def test_closed_forms_on_every_backend(backend, triple):
    xp = namespace(backend)
    x, y, v = (xp.asarray(a) for a in triple)
    # log inverts exp; the geodesic exp_x(v) is at distance ‖v‖_x from x
    back = poincare.logmap(x, poincare.expmap(x, 0.3 * v))
    np.testing.assert_allclose(to_numpy(back), 0.3 * triple[2], rtol=1e-9, atol=1e-12)
    d = poincare.distance(x, poincare.expmap(x, 0.3 * v))
    np.testing.assert_allclose(to_numpy(d), to_numpy(xp.sqrt(poincare.norm_sq(x, 0.3 * v))[:, 0]), rtol=1e-9)
    # parallel transport is an isometry between tangent spaces, and back-transport undoes it
    w = poincare.transport(x, y, v)
    np.testing.assert_allclose(to_numpy(poincare.norm_sq(y, w)), to_numpy(poincare.norm_sq(x, v)), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(poincare.transport(y, x, w)), triple[2], rtol=1e-9, atol=1e-12)
    # the closed-form gyration equals its Möbius definition ⊖(u ⊕ v) ⊕ (u ⊕ (v ⊕ w))
    definition = poincare.mobius_add(-poincare.mobius_add(x, y), poincare.mobius_add(x, poincare.mobius_add(y, 0.1 * v)))
    np.testing.assert_allclose(to_numpy(poincare.gyration(x, y, 0.1 * v)), to_numpy(definition), rtol=1e-9,
                               atol=1e-12)


def test_squared_distance_gradient_matches_finite_differences(triple):
    x, y, _ = triple
    g = poincare.squared_distance_egrad(x, y)
    h = 1e-6
    fd = np.stack([(poincare.distance(x + h * e, y) ** 2 - poincare.distance(x - h * e, y) ** 2) / (2 * h)
                   for e in np.eye(3)], axis=-1)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)
    # the Riemannian gradient of d(·, y)² is −2 log_x(y)
    np.testing.assert_allclose(poincare.riemannian_grad(x, g), -2.0 * poincare.logmap(x, y), rtol=1e-8, atol=1e-10)


def test_against_geoopt(triple):
    geoopt = pytest.importorskip("geoopt")
    torch = pytest.importorskip("torch")
    x, y, v = triple
    ball = geoopt.PoincareBall(c=1.0)
    T = torch.tensor
    pairs = [(poincare.distance(x, y), ball.dist(T(x), T(y))), (poincare.expmap(x, v), ball.expmap(T(x), T(v))),
             (poincare.logmap(x, y), ball.logmap(T(x), T(y))), (poincare.transport(x, y, v), ball.transp(T(x), T(y), T(v))),
             (poincare.riemannian_grad(x, v), ball.egrad2rgrad(T(x), T(v))),
             (poincare.norm_sq(x, v), ball.component_inner(T(x), T(v))),
             (poincare.projected_retraction(x, 5 * v), ball.retr(T(x), T(5 * v)))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-6, atol=1e-9)


def test_frechet_problem_gradient_and_closed_forms(rng_seed=3):
    rng = np.random.default_rng(rng_seed)
    p = FrechetBall(ball_points(rng, (2, 4, 3), 0.8), ball_points(rng, (2, 3)).reshape(-1))
    x = ball_points(rng, (5, 2, 3), 0.7).reshape(5, 6)
    h = 1e-6
    fd = np.stack([(p.value(x + h * e) - p.value(x - h * e)) / (2 * h) for e in np.eye(6)], axis=-1)
    np.testing.assert_allclose(p.grad(x), fd, rtol=1e-6, atol=1e-7)
    sym = FrechetBall.symmetric(3, 2, 0.6, np.full(6, 0.2))
    np.testing.assert_allclose(sym.value(np.zeros((1, 6))), [sym.f_star], rtol=1e-12)
    np.testing.assert_allclose(sym.grad(np.zeros((1, 6))), 0.0, atol=1e-12)
    line = FrechetBall.collinear([[-0.3, 0.1, 0.6], [0.2, 0.7, 0.85]], 2, [0.0, 0.0])
    star = line.x_star[None, :]
    np.testing.assert_allclose(line.grad(star), 0.0, atol=1e-12)
    np.testing.assert_allclose(line.value(star), [line.f_star], rtol=1e-12)


def test_ramsgrad_on_a_diameter_is_euclidean_amsgrad():
    """An independent peer: convsim's Adam (AMSGrad, no bias correction) on the Euclidean quadratic of the
    arc-length coordinates u = 2 artanh x, f(u) = Σ_k mean_j (u_k − u_kj)² (Hessian 2I)."""
    t = np.array([[-0.3, 0.1, 0.6], [0.2, 0.7, 0.85]])
    start = np.array([0.9, -0.6])
    ball = FrechetBall.collinear(t, 2, start, stochastic=False)
    steps = 60
    method = RAMSGRAD(cs.schedules.inverse_sqrt(0.3), ball_dim=2, beta1=0.9, beta2=0.99)
    traj = cs.simulate(ball, method, steps, 1, metrics={"x1": lambda p, x: x[:, 0], "x2": lambda p, x: x[:, 2]},
                       record=np.arange(steps + 1))
    u = 2 * np.arctanh(t)
    quad = cs.problems.Quadratic(2.0 * np.ones(2), x_star=u.mean(axis=1), x0=2 * np.arctanh(start))
    adam = cs.methods.Adam(cs.schedules.inverse_sqrt(0.3), beta1=0.9, beta2=0.99, amsgrad=True, bias_correction=False)
    ref = cs.simulate(quad, adam, steps, 1, metrics={"u1": lambda p, x: x[:, 0], "u2": lambda p, x: x[:, 1]},
                      record=np.arange(steps + 1))
    np.testing.assert_allclose(2 * np.arctanh(traj.values("x1")), ref.values("u1"), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(2 * np.arctanh(traj.values("x2")), ref.values("u2"), rtol=1e-9, atol=1e-12)
    # the geometry matters: the Euclidean gradient or a dropped transport leave the peer
    for bug in ({"riemannian": False}, {"transport": False}, {"exp": False}):
        bad = cs.simulate(ball, RAMSGRAD(cs.schedules.inverse_sqrt(0.3), ball_dim=2, beta1=0.9, beta2=0.99, **bug),
                          steps, 1, metrics={"x1": lambda p, x: x[:, 0]}, record=np.arange(steps + 1))
        assert np.max(np.abs(2 * np.arctanh(bad.values("x1")) - ref.values("u1"))) > 1e-4


def test_ramsgrad_is_invariant_under_rotations_and_coordinate_adaptivity_is_not():
    rng = np.random.default_rng(5)
    points = ball_points(rng, (2, 5, 2), 0.8)
    x0 = np.array([[0.6, -0.2], [-0.1, 0.7]])
    Q = scipy.stats.special_ortho_group.rvs(2, random_state=1)
    runs = {}
    for adaptivity in ("manifold", "coordinate"):
        m = RAMSGRAD(cs.schedules.inverse_sqrt(0.3), ball_dim=2, adaptivity=adaptivity)
        runs[adaptivity] = [cs.simulate(FrechetBall(pts, x, stochastic=True), m, 100, 8, metrics=["value"], seed=2)
                            .values("value") for pts, x in ((points, x0), (points @ Q.T, x0 @ Q.T))]
    np.testing.assert_allclose(runs["manifold"][0], runs["manifold"][1], rtol=1e-10)
    assert np.max(np.abs(runs["coordinate"][0] / runs["coordinate"][1] - 1)) > 1e-3


def test_ramsgrad_backends_agree_and_stay_in_the_ball(backend):
    p = FrechetBall.symmetric(3, 2, 0.6, np.tile([0.5, 0.3], 3))
    m = RAMSGRAD(cs.schedules.inverse_sqrt(2.0), ball_dim=2, beta2=0.99)
    metrics = {"norm": max_component_norm, "geodesic_dist_sq": geodesic_dist_sq}
    ref = cs.simulate(p, m, 50, 64, metrics=metrics, seed=1)
    got = cs.simulate(p, m, 50, 64, metrics=metrics, seed=1, backend=backend)
    np.testing.assert_allclose(got.values("geodesic_dist_sq"), ref.values("geodesic_dist_sq"), rtol=1e-9)
    assert np.all(got.values("norm") < 1.0) and not np.any(got.diverged_at >= 0)


def test_gaussian_precision_gradient_and_spd_momentum():
    Q = scipy.stats.special_ortho_group.rvs(3, random_state=0)
    C = Q @ np.diag([0.3, 1.0, 4.0]) @ Q.T
    p = GaussianPrecision(C)
    S = (np.eye(3) + 0.2 * np.ones((3, 3))).reshape(1, -1)
    h = 1e-6
    fd = np.array([(p.value(S + h * e) - p.value(S - h * e))[0] / (2 * h) for e in np.eye(9)])
    np.testing.assert_allclose(p.grad(S)[0], fd, rtol=1e-6, atol=1e-8)
    # deterministic SPD momentum converges to S* = Σ⁻¹ and stays positive definite
    tr = cs.simulate(p, SPDMomentum(0.05, 0.9), 400, 1, metrics={"min_eig": min_eigenvalue, "dist_sq": None})
    assert tr.values("dist_sq")[0, -1] < 1e-12 and np.all(np.isfinite(tr.values("min_eig")))
    # with stochastic gradients and a step where Euclidean momentum leaves the cone, SPD momentum does not
    noisy = GaussianPrecision(C, stochastic=True)
    spd = cs.simulate(noisy, SPDMomentum(0.02, 0.9), 200, 64, metrics={"min_eig": min_eigenvalue})
    euc = cs.simulate(noisy, cs.methods.SGD(0.02, momentum=0.9), 200, 64, metrics={"min_eig": min_eigenvalue})
    assert not np.any(spd.diverged_at >= 0)
    assert np.mean(euc.diverged_at >= 0) > 0.5


def test_bad_input_is_a_one_line_error():
    with pytest.raises(cs.ConvsimError):
        FrechetBall(np.full((1, 2, 2), 0.9), np.zeros(2))  # anchors outside the ball
    with pytest.raises(cs.ConvsimError):
        RAMSGRAD(0.1, adaptivity="diagonal")
    with pytest.raises(cs.ConvsimError):
        GaussianPrecision(-np.eye(2))


def test_spd_momentum_backends_agree(backend):
    Q = scipy.stats.special_ortho_group.rvs(3, random_state=2)
    p = GaussianPrecision(Q @ np.diag([0.5, 1.0, 2.0]) @ Q.T, stochastic=True)
    metrics = {"min_eig": min_eigenvalue, "suboptimality": None}
    ref = cs.simulate(p, SPDMomentum(0.02, 0.9), 40, 64, metrics=metrics, seed=4)
    got = cs.simulate(p, SPDMomentum(0.02, 0.9), 40, 64, metrics=metrics, seed=4, backend=backend)
    np.testing.assert_allclose(got.values("suboptimality"), ref.values("suboptimality"), rtol=1e-8, atol=1e-12)
    assert np.all(got.values("min_eig") > 0)


def test_one_spd_step_in_closed_form_and_the_additive_step_leaves_the_cone():
    """From S_0 = I with exact gradients, G = ½(Σ − I): the congruence step gives S_1 = h(−βG)², eigenvalues
    h(−β(σ − 1)/2)² with h(m) = 1 + m + m²/2 > 0; the additive step gives I − βG, negative once β(σ − 1)/2 > 1."""
    sigma, beta = np.array([0.2, 1.0, 5.0]), 1.0
    Q = scipy.stats.special_ortho_group.rvs(3, random_state=3)
    p = GaussianPrecision(Q @ np.diag(sigma) @ Q.T)
    m = -beta * (sigma - 1.0) / 2.0
    one = cs.simulate(p, SPDMomentum(beta, 0.9), 1, 1, metrics={"min_eig": min_eigenvalue}, record=[1])
    np.testing.assert_allclose(one.values("min_eig")[0, 0], np.min((1 + m + m * m / 2) ** 2), rtol=1e-12)
    bad = cs.simulate(p, SPDMomentum(beta, 0.9, update="additive"), 1, 1, metrics={"min_eig": min_eigenvalue},
                      record=[1])
    assert bad.diverged_at[0] == 1 and np.min(1 + m) < 0  # left the cone at the first step, no LAPACK error
