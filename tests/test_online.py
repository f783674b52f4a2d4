import math

import numpy as np
import pytest
import scipy.optimize

import convsim as cs
from convsim import mutations as mu

on = cs.online
XP = cs.backend.namespace("numpy")


def _play(learner, domain, grads):
    """Feed a fixed gradient sequence (T, R, d) to a learner; the plays x_1..x_{T+1}."""
    state = learner.init(grads.shape[1], domain, XP, XP.float64)
    plays = [state.x.copy()]
    for t, g in enumerate(grads):
        state = learner.update(state, g, t, XP, domain)
        plays.append(state.x.copy())
    return np.stack(plays)


def test_ogd_on_a_fixed_quadratic_follows_the_closed_form_and_its_regret():
    # f(x) = ½‖x − c‖² − ½‖c‖² (a = 1, m = −c), no noise, no adversary; OGD with step η from 0:
    # x_t − c = (1 − η)^(t−1) (x_1 − c) inside the ball, and the comparator is c.
    c, eta, T = np.array([0.3, -0.4]), 0.2, 30
    losses = on.SEAQuadratic(on.Ball(2, 1.0), a=1.0, m=tuple(-c))
    tr = on.simulate_online(losses, on.OGD(cs.schedules.constant(eta)), T, 3, record=list(range(T + 1)))
    dist_sq = np.sum(c**2) * (1 - eta) ** (2 * np.arange(T))
    np.testing.assert_allclose(tr.metrics["regret"][:, 1:], np.tile(np.cumsum(0.5 * dist_sq), (3, 1)), rtol=1e-12)
    # the per-round minimizer is c as well: dynamic regret = static regret
    np.testing.assert_allclose(tr.metrics["dynamic_regret"], tr.metrics["regret"], rtol=1e-12)


def test_entropic_omd_is_hedge_and_equals_entropic_ftrl():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(12, 4, 5))
    simplex, eta = on.Simplex(5), 0.3
    omd = _play(on.OMD(cs.schedules.constant(eta), "entropic"), simplex, grads)
    ftrl = _play(on.FTRL(cs.schedules.constant(eta), "entropic"), simplex, grads)
    cum = np.concatenate([np.zeros((1, 4, 5)), np.cumsum(grads, axis=0)])
    hedge = np.exp(-eta * cum) / np.sum(np.exp(-eta * cum), axis=2, keepdims=True)
    np.testing.assert_allclose(omd, hedge, rtol=1e-12)
    np.testing.assert_allclose(ftrl, hedge, rtol=1e-12)


def test_euclidean_ftrl_is_the_projected_scaled_gradient_sum_and_matches_ogd_inside_the_ball():
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(10, 3, 4))
    ball = on.Ball(4, 0.5)
    ftrl = _play(on.FTRL(cs.schedules.constant(0.2)), ball, grads)
    y = -0.2 * np.cumsum(grads, axis=0)
    expected = y * np.minimum(1, 0.5 / np.linalg.norm(y, axis=2, keepdims=True))
    np.testing.assert_allclose(ftrl[1:], expected, rtol=1e-12)
    small = 1e-3 * grads  # never leaves the ball: lazy and greedy projections coincide
    np.testing.assert_allclose(_play(on.FTRL(cs.schedules.constant(0.2)), ball, small),
                               _play(on.OGD(cs.schedules.constant(0.2)), ball, small), rtol=1e-12)


def test_optimistic_omd_and_ftrl_follow_their_update_equations():
    rng = np.random.default_rng(2)
    grads = 3 * rng.normal(size=(15, 2, 3))
    ball, step = on.Ball(3, 1.0), on.Adaptive(D=2.0, delta=1.0, cap=0.25)
    plays = _play(on.OptimisticOMD(step), ball, grads)
    proj = lambda y: y * min(1.0, 1.0 / max(np.linalg.norm(y), 1e-300))
    for r in range(2):  # the equations of the docstring, one replica at a time
        hat, hint, acc = np.zeros(3), np.zeros(3), 0.0
        eta = lambda acc: min(0.25, 2.0 / math.sqrt(1.0 + acc))
        for t, g in enumerate(grads[:, r]):
            np.testing.assert_allclose(plays[t, r], proj(hat - eta(acc) * hint), rtol=1e-12, atol=1e-15)
            hat = proj(hat - eta(acc) * g)
            acc += np.sum((g - hint) ** 2)
            hint = g
    ftrl = _play(on.FTRL(cs.schedules.constant(0.1), optimistic=True), ball, grads)
    G = np.cumsum(grads, axis=0)
    y = -0.1 * (G + grads)  # argmin ⟨G_t + g_t, x⟩ + ‖x‖²/(2η)
    np.testing.assert_allclose(ftrl[1:], y * np.minimum(1, 1 / np.linalg.norm(y, axis=2, keepdims=True)), rtol=1e-12)


def _norm_projection(y, A, radius):  # SLSQP, made feasible
    res = scipy.optimize.minimize(lambda x: (x - y) @ A @ (x - y), y * min(1, radius / np.linalg.norm(y)),
                                  jac=lambda x: 2 * A @ (x - y), method="SLSQP",
                                  constraints=[{"type": "ineq", "fun": lambda x: radius**2 - x @ x,
                                                "jac": lambda x: -2 * x}], options={"ftol": 1e-15, "maxiter": 500})
    return res.x / max(1.0, np.linalg.norm(res.x) / radius)


@pytest.mark.parametrize("optimistic", [False, True])
def test_online_newton_step_against_a_direct_computation(optimistic):
    rng = np.random.default_rng(3)
    d, T, gamma, eps, radius = 3, 6, 0.5, 0.7, 1.0
    grads = 2 * rng.normal(size=(T, 1, d))
    plays = _play(on.ONS(gamma, eps, optimistic), on.Ball(d, radius), grads)
    A, hat, hint = eps * np.eye(d), np.zeros(d), np.zeros(d)
    for t, g in enumerate(grads[:, 0]):
        A = A + np.outer(g - hint, g - hint)
        hat = _norm_projection(hat - np.linalg.solve(A, g) / gamma, A, radius)
        x = _norm_projection(hat - np.linalg.solve(A, g) / gamma, A, radius) if optimistic else hat
        hint = g if optimistic else hint
        np.testing.assert_allclose(plays[t + 1, 0], x, atol=1e-6)


def test_norm_projection_matches_scipy_on_ill_conditioned_matrices():
    rng = np.random.default_rng(4)
    ball = on.Ball(4, 1.0)
    for scale in (0.5, 3.0, 100.0):
        M = rng.normal(size=(4, 4))
        A = M @ M.T + np.diag([1e-3, 1.0, 10.0, 1e3])
        y = scale * rng.normal(size=4)
        lam, Q = np.linalg.eigh(A)
        ours = ball.project_in_norm(y[None], lam[None], Q[None], XP)[0]
        ref = _norm_projection(y, A, 1.0)
        assert np.linalg.norm(ours) <= 1.0 + 1e-12
        assert (ours - y) @ A @ (ours - y) <= (ref - y) @ A @ (ref - y) * (1 + 1e-9)
        np.testing.assert_allclose(ours, ref, atol=1e-4)  # A has a flat direction: the objective decides


@pytest.mark.parametrize("domain", [on.Ball(3, 0.8), on.Simplex(4)])
@pytest.mark.parametrize("a", [0.0, 0.7])
def test_exact_comparator_matches_scipy(domain, a):
    rng = np.random.default_rng(5)
    losses = on.SEAQuadratic(domain, a=a)
    B = 3 * rng.normal(size=(5, domain.d))
    t = 7
    ours = losses.best_value(t, B, XP)
    for b, v in zip(B, ours):
        f = lambda x: 0.5 * t * a * x @ x + b @ x
        if isinstance(domain, on.Ball):
            cons = [{"type": "ineq", "fun": lambda x: domain.radius**2 - x @ x}]
            x0 = np.zeros(domain.d)
        else:
            cons = [{"type": "eq", "fun": lambda x: np.sum(x) - 1}]
            x0 = np.full(domain.d, 1 / domain.d)
        bounds = None if isinstance(domain, on.Ball) else [(0, 1)] * domain.d
        ref = scipy.optimize.minimize(f, x0, method="SLSQP", constraints=cons, bounds=bounds,
                                      options={"ftol": 1e-14, "maxiter": 500})
        x = ref.x / max(1.0, np.linalg.norm(ref.x) / domain.radius) if isinstance(domain, on.Ball) else \
            np.clip(ref.x, 0, None) / np.sum(np.clip(ref.x, 0, None))  # SLSQP may end slightly infeasible
        assert v <= f(x) + 1e-12
        assert v == pytest.approx(f(x), abs=1e-6)


def test_sea_variances_equal_their_definitions():
    T, R = 40, 256
    losses = on.SEAQuadratic.tuned(on.Ball(3, 1.0), T, sigma2_total=6.0, Sigma2_total=2.5, a=0.5, m=(0.1, 0.0, -0.2),
                                   period=3)
    assert losses.sigma2_cumulative(T) == pytest.approx(6.0)
    assert losses.Sigma2_cumulative(T) == pytest.approx(2.5)
    rng = cs.random.ReplicaStreams(XP, 0, 0, R)
    probe = np.random.default_rng(6).normal(size=(R, 3))  # points x at which the sup is taken
    sigma2, Sigma2, prev = 0.0, 0.0, None
    for t in range(1, T + 1):
        b = losses.linear_term(XP, rng, t, XP.float64)
        F = losses.expected_grad(probe, t, XP)
        dev = np.sum((losses.grad(probe, b) - F) ** 2, axis=1)  # ‖∇f_t(x) − ∇F_t(x)‖², the same for every x
        sigma2 += dev.mean()
        if prev is not None:
            Sigma2 += np.max(np.sum((F - prev) ** 2, axis=1))
        prev = F
    assert sigma2 == pytest.approx(6.0, rel=1e-12)  # random signs: ‖ξ_t‖² = σ_t² exactly
    assert Sigma2 == pytest.approx(2.5, rel=1e-12)
    np.testing.assert_allclose(losses.Sigma2_cumulative(np.arange(1, T + 1))[-1], Sigma2)
    assert losses.gradient_bound() >= np.max(np.linalg.norm(losses.grad(probe / np.linalg.norm(probe, axis=1,
                                                                                                keepdims=True), b), axis=1))


def test_simulator_is_backend_and_chunk_invariant(backend):
    losses = on.SEAQuadratic.tuned(on.Ball(2, 1.0), 50, 5.0, 3.0, a=1.0, m=(-0.3, 0.2))
    for learner in (on.OptimisticOMD(on.Adaptive(2.0, cap=0.25)), on.ONS.tuned(0.1, 2.0, 2.0, optimistic=True),
                    on.FTRL(cs.schedules.inverse_sqrt(1.0), optimistic=True)):
        a = on.simulate_online(losses, learner, 50, 70, seed=3)
        b = on.simulate_online(losses, learner, 50, 70, seed=3, backend=backend, chunk_size=64)
        np.testing.assert_allclose(a.metrics["regret"], b.metrics["regret"], rtol=1e-9, atol=1e-12)
    simplex = on.SEAQuadratic(on.Simplex(3), a=0.5, m=(0.2, 0.0, 0.1), sigma2=0.5)
    for learner in (on.OMD(cs.schedules.inverse_sqrt(1.0), "entropic"), on.OGD(cs.schedules.inverse_sqrt(1.0))):
        a = on.simulate_online(simplex, learner, 40, 64, seed=1)
        b = on.simulate_online(simplex, learner, 40, 64, seed=1, backend=backend)
        np.testing.assert_allclose(a.metrics["dynamic_regret"], b.metrics["dynamic_regret"], rtol=1e-9)


def test_online_errors_are_one_line():
    with pytest.raises(cs.ConvsimError, match="entropic mirror map lives on the simplex"):
        on.simulate_online(on.SEAQuadratic(on.Ball(2)), on.OMD(cs.schedules.constant(0.1), "entropic"), 5)
    with pytest.raises(cs.ConvsimError, match="step size must be"):
        on.OGD(0.1)
    with pytest.raises(cs.ConvsimError, match="m must have 2 entries"):
        on.SEAQuadratic(on.Ball(2), m=(1.0, 2.0, 3.0))
    with pytest.raises(cs.ConvsimError, match="unknown abscissa"):
        on.against(on.simulate_online(on.SEAQuadratic(on.Ball(2)), on.OGD(cs.schedules.constant(0.1)), 5), x="T")


def test_dynamic_regret_against_each_rounds_minimizer_under_a_flipping_adversary():
    # F_t(x) = ½‖x‖² + ⟨m + u_t, x⟩, no noise: the round-t minimizer is c_t = −(m + u_t) (inside the
    # ball), so f_t(x_t) − min f_t = ½‖x_t − c_t‖²; the static comparator minimizes the sum instead.
    T, m = 12, np.array([0.1, -0.2])
    losses = on.SEAQuadratic(on.Ball(2, 1.0), a=1.0, m=tuple(m), rho=0.3, period=2)
    learner = on.OGD(cs.schedules.constant(0.5))
    tr = on.simulate_online(losses, learner, T, 1, record=[T])
    x, dyn, total, B = np.zeros(2), 0.0, 0.0, np.zeros(2)
    for t in range(1, T + 1):
        b = m + losses.adversary(t)
        dyn += 0.5 * np.sum((x + b) ** 2)
        total += 0.5 * x @ x + b @ x
        B += b
        x = x - 0.5 * (x + b)  # never leaves the ball here
    static = total - (-0.5 * B @ B / T)  # min of (T/2)‖x‖² + ⟨B, x⟩ at x = −B/T (inside the ball)
    assert tr.metrics["dynamic_regret"][0, -1] == pytest.approx(dyn, rel=1e-12)
    assert tr.metrics["regret"][0, -1] == pytest.approx(static, rel=1e-12)
    assert losses.Sigma2_cumulative(T) == pytest.approx(4 * 0.3**2 * ((T - 1) // 2))


# The plantable fields of the learners (mutations): a dropped hint is plain OMD, exactly.

def test_optimistic_omd_without_its_hint_is_omd_with_the_same_adaptive_step():
    grads = np.random.default_rng(4).normal(size=(40, 3, 2)) * 2.0
    ball, step = on.Ball(2, 1.0), on.Adaptive(D=2.0, delta=1.0, cap=0.25)
    plain = _play(on.OMD(step), ball, grads)
    hintless = _play(on.OptimisticOMD(step, optimistic=False), ball, grads)
    np.testing.assert_allclose(hintless, plain, rtol=0, atol=1e-14)
    optimistic = _play(on.OptimisticOMD(step), ball, grads)
    assert np.abs(optimistic - plain).max() > 1e-3  # the hint does change the plays


def test_the_hint_field_and_the_regularizer_scale_are_reachable_by_mutations():
    learner = on.OptimisticOMD(on.Adaptive(D=2.0, cap=0.25))
    assert "optimistic" not in learner.spec()  # the paper's learner keeps its spec (and its stored runs)
    dropped, hits = mu.set_field("optimistic", False).apply(learner)
    assert hits == 1 and dropped.spec()["optimistic"] is False
    scaled, hits = mu.scale("D", 0.25).apply(learner)
    assert hits == 1 and scaled.step.D == 0.5
    const, hits = mu.custom("constant", lambda a: cs.schedules.constant(a.cap), on="Adaptive").apply(learner)
    assert hits == 1 and const.step(7) == 0.25
