"""Methods torch lacks, checked against their papers' update equations stated independently here."""

import math

import numpy as np
import pytest

import convsim as cs
from convsim.methods import Oracle
from test_methods import Scripted, run_scripted


@pytest.fixture
def script(rng):
    return rng.standard_normal((2, 4)), rng.standard_normal((25, 2, 4))


def test_adabelief(script):
    x0, grads = script
    b1, b2, eps, lr = 0.9, 0.999, 1e-16, 1e-2
    x, m, s = x0.copy(), 0 * x0, 0 * x0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        s = b2 * s + (1 - b2) * (g - m) ** 2 + eps
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
    np.testing.assert_allclose(run_scripted(cs.methods.AdaBelief(lr), x0, grads)[-1], x, rtol=1e-12)


def test_diffgrad(script):
    x0, grads = script
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 1e-2
    x, m, v, prev = x0.copy(), 0 * x0, 0 * x0, 0 * x0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        xi = 1 / (1 + np.exp(-np.abs(prev - g)))
        x = x - lr * math.sqrt(1 - b2**t) / (1 - b1**t) * xi * m / (np.sqrt(v) + eps)
        prev = g
    np.testing.assert_allclose(run_scripted(cs.methods.DiffGrad(lr), x0, grads)[-1], x, rtol=1e-12)


def test_adan_follows_the_papers_algorithm_1(script):
    x0, grads = script
    b1, b2, b3, eps, lr, lam = 0.02, 0.08, 0.01, 1e-8, 1e-2, 0.1
    x = x0.copy()
    m, v, n = grads[0], 0 * x0, grads[0] ** 2
    x = (x - lr / (np.sqrt(n) + eps) * (m + (1 - b2) * v)) / (1 + lam * lr)
    for k in range(1, len(grads)):
        g, d = grads[k], grads[k] - grads[k - 1]
        m = (1 - b1) * m + b1 * g
        v = (1 - b2) * v + b2 * d
        n = (1 - b3) * n + b3 * (g + (1 - b2) * d) ** 2
        x = (x - lr / (np.sqrt(n) + eps) * (m + (1 - b2) * v)) / (1 + lam * lr)
    np.testing.assert_allclose(run_scripted(cs.methods.Adan(lr, weight_decay=lam), x0, grads)[-1], x, rtol=1e-12)


def test_adan_leaves_the_state_it_is_given_untouched(rng):
    """Adan updates its new arrays in place; the incoming state (which a wrapper may keep) must not change."""
    problem = cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1), noise=cs.noise.Gaussian(0.3))
    oracle = Oracle(problem, cs.random.ReplicaStreams(np, 0, 0, 3, "float64"))
    method = cs.methods.Adan(0.1, weight_decay=0.01)
    state = method.init(rng.standard_normal((3, 4)))
    for t in range(4):
        before = [np.array(a, copy=True) for a in state]
        new = method.step(state, oracle, t)
        for a, b in zip(state, before):
            np.testing.assert_array_equal(a, b)
        assert all(n is not a for n, a in zip(new[:4], state[:4]))
        state = new


def test_lookahead_algorithm_1(script):
    x0, grads = script
    k, alpha, lr = 5, 0.5, 0.1
    slow, fast = x0.copy(), x0.copy()
    for t, g in enumerate(grads):
        fast = fast - lr * g
        if (t + 1) % k == 0:
            slow = slow + alpha * (fast - slow)
            fast = slow.copy()
    out = run_scripted(cs.methods.Lookahead(cs.methods.SGD(lr), k=k, alpha=alpha), x0, grads)
    np.testing.assert_allclose(out[-1], slow, rtol=1e-12)


def test_dog_step_size(script):
    x0, grads = script
    x, rbar, gsum = x0.copy(), 1e-6 * (1 + np.linalg.norm(x0, axis=1, keepdims=True)), 0.0
    for g in grads:
        rbar = np.maximum(rbar, np.linalg.norm(x - x0, axis=1, keepdims=True))
        gsum = gsum + np.sum(g * g, axis=1, keepdims=True)
        x = x - rbar / np.sqrt(gsum) * g
    np.testing.assert_allclose(run_scripted(cs.methods.DoG(), x0, grads)[-1], x, rtol=1e-12)


def test_dog_weighted_average_iterate(script):
    # x̄_t = Σ_{i<t} r̄_i x_i / Σ_{i<t} r̄_i (Ivgi, Hinder & Carmon 2023), restated with explicit sums
    x0, grads = script
    x, rbar, gsum, xs, ws = x0.copy(), 1e-6 * (1 + np.linalg.norm(x0, axis=1, keepdims=True)), 0.0, [], []
    for g in grads:
        rbar = np.maximum(rbar, np.linalg.norm(x - x0, axis=1, keepdims=True))
        xs.append(x), ws.append(rbar)
        gsum = gsum + np.sum(g * g, axis=1, keepdims=True)
        x = x - rbar / np.sqrt(gsum) * g
    xbar = sum(w * p for w, p in zip(ws, xs)) / sum(ws)
    np.testing.assert_allclose(run_scripted(cs.methods.DoG(average=True), x0, grads)[-1], xbar, rtol=1e-10)


def test_clipping_and_median_wrappers(script):
    x0, grads = script
    big = 10 * grads
    out = run_scripted(cs.methods.Clipped(cs.methods.SGD(1.0), threshold=0.5), x0, big[:1])[0]
    np.testing.assert_allclose(np.linalg.norm(out - x0, axis=1), 0.5, rtol=1e-12)
    out = run_scripted(cs.methods.Clipped(cs.methods.SGD(1.0), threshold=0.5, mode="coordinate"), x0, big[:1])[0]
    np.testing.assert_allclose(out, x0 - np.clip(big[0], -0.5, 0.5))
    for k in (3, 4):  # one step consumes k scripted gradients
        method = cs.methods.MedianOfBatches(cs.methods.SGD(1.0), batches=k)
        out = method.step(method.init(x0), Oracle(Scripted(grads[:k]), None), 0).x
        np.testing.assert_allclose(out, x0 - np.median(grads[:k], axis=0))


@pytest.mark.parametrize("make, message", [
    (lambda: cs.methods.Lookahead(cs.methods.SGD(0.1), k=0), "k must be a positive integer"),
    (lambda: cs.methods.Lookahead(cs.methods.SGD(0.1), alpha=1.5), "alpha must lie in"),
    (lambda: cs.methods.Clipped(cs.methods.SGD(0.1), mode="elementwise"), "clipping mode"),
    (lambda: cs.methods.Adan(0.1, beta1=0.0), "beta1 must lie in"),
    (lambda: cs.methods.MedianOfBatches(cs.methods.SGD(0.1), batches=0), "batches must be"),
    (lambda: cs.methods.Lookahead("sgd"), "wraps a convsim method"),
])
def test_bad_wrapper_arguments(make, message):
    with pytest.raises(cs.ConvsimError, match=message):
        make()


def test_lookahead_needs_an_iterate_field():
    p = cs.problems.Quadratic(cs.spectra.geometric(3, 1.0, 0.1))
    with pytest.raises(cs.ConvsimError, match="iterate field 'x'"):
        cs.simulate(p, cs.methods.Lookahead(cs.methods.Averaged(cs.methods.SGD(0.1))), 10)


def test_swa_with_its_cyclic_schedule(script):
    x0, grads = script
    sched = cs.schedules.cyclic(0.1, 0.01, cycle=5)
    assert sched(4) == pytest.approx(0.01) and sched(0) == pytest.approx(0.082) and sched(5) == pytest.approx(0.082)
    w, swa, n = x0.copy(), x0.copy(), 0
    for i, g in enumerate(grads, start=1):
        w = w - sched(i - 1) * g
        if i % 5 == 0:
            n = i // 5
            swa = (n * swa + w) / (n + 1)
    out = run_scripted(cs.methods.SWA(cs.methods.SGD(sched), cycle=5), x0, grads)
    np.testing.assert_allclose(out[-1], swa, rtol=1e-12)


# -- sharpness-aware minimization ------------------------------------------------------------

def _sam_reference(kind, x, H, xi, eta, rho):
    """One step of SAM / USAM / DNSAM on f = ½xᵀHx with additive minibatch noise xi (the same at both points)."""
    g = x @ H + xi
    scale = {"sam": rho / np.linalg.norm(g, axis=1, keepdims=True),
             "usam": rho,
             "dnsam": rho / np.linalg.norm(x @ H, axis=1, keepdims=True)}[kind]
    y = x + scale * g
    return x - eta * (y @ H + xi)


@pytest.mark.parametrize("kind", ["sam", "usam", "dnsam"])
def test_sam_variants_use_one_minibatch_at_both_points(kind, backend):
    xp = cs.backend.namespace(backend)
    R, d, sigma, eta, rho, steps = 3, 4, 0.3, 0.2, 0.1, 12
    problem = cs.problems.Quadratic([2.0, 1.0, 0.5, 0.1], noise=cs.noise.Gaussian(sigma), rotate=True, seed=3)
    H = problem.hessian()
    method = cs.methods.REGISTRY[kind](eta, rho=rho)
    oracle = Oracle(problem, cs.random.ReplicaStreams(xp, 7, 0, R))
    noise = cs.random.ReplicaStreams(np, 7, 0, R)  # the same stream, drawn here by hand: one N(0, I) per step
    x0 = np.tile(problem.initial_point(), (R, 1))
    state, x = method.init(xp.asarray(x0)), x0
    for t in range(steps):
        state = method.step(state, oracle, t)
        x = _sam_reference(kind, x, H, sigma * noise.normal(d).copy(), eta, rho)
    np.testing.assert_allclose(cs.backend.to_numpy(method.point(state)), x, rtol=1e-12, atol=1e-15)


def test_gam_core_update_restated(backend):
    """GAM (arXiv 2303.03108): g + alpha rho H g_adv/|g_adv| at theta_adv = theta + rho f/|f|, f = H g/|g|."""
    xp = cs.backend.namespace(backend)
    R, d, sigma, eta, rho, alpha, steps = 3, 4, 0.3, 0.2, 0.1, 0.5, 12
    problem = cs.problems.Quadratic([2.0, 1.0, 0.5, 0.1], noise=cs.noise.Gaussian(sigma), rotate=True, seed=3)
    H = problem.hessian()
    method = cs.methods.GAM(eta, alpha=alpha, rho=rho)
    oracle = Oracle(problem, cs.random.ReplicaStreams(xp, 7, 0, R))
    noise = cs.random.ReplicaStreams(np, 7, 0, R)
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)
    state, x = method.init(xp.asarray(np.tile(problem.initial_point(), (R, 1)))), np.tile(problem.initial_point(), (R, 1))
    for t in range(steps):
        state = method.step(state, oracle, t)
        xi = sigma * noise.normal(d).copy()
        g = x @ H + xi
        x_adv = x + rho * unit(unit(g) @ H)
        x = x - eta * (g + alpha * rho * (unit(x_adv @ H + xi) @ H))
    np.testing.assert_allclose(cs.backend.to_numpy(method.point(state)), x, rtol=1e-10, atol=1e-14)


def test_sam_wraps_any_method_with_the_ascent_gradient():
    # SAM around Adam: Adam receives ∇f(x + ρ g/‖g‖) (exact gradients here).
    problem = cs.problems.Quadratic([3.0, 1.0, 0.2])
    H, rho = problem.hessian(), 0.05
    x0 = np.tile(problem.initial_point(), (2, 1))
    sam, adam = cs.methods.SAM(cs.methods.Adam(0.01), rho=rho), cs.methods.Adam(0.01)
    s_sam, s_ref = sam.init(x0.copy()), adam.init(x0.copy())

    class AscentOracle(Oracle):
        def stochastic_grad(self, x):
            g = x @ H
            return (x + rho * g / np.linalg.norm(g, axis=1, keepdims=True)) @ H

    for t in range(20):
        s_sam = sam.step(s_sam, Oracle(problem, cs.random.ReplicaStreams(np, 0, 0, 2)), t)
        s_ref = adam.step(s_ref, AscentOracle(problem, None), t)
    np.testing.assert_allclose(s_sam.x, s_ref.x, rtol=1e-12)


@pytest.mark.parametrize("sampling", ["with-replacement", "reshuffle"])
def test_same_sample_grads_replays_the_minibatch_and_advances_the_stream_once(sampling):
    problem = cs.problems.LeastSquares.random(12, 3, batch_size=4, seed=1, sampling=sampling)
    x = np.random.default_rng(0).standard_normal((64, 3))
    paired = Oracle(problem, cs.random.ReplicaStreams(np, 5, 0, 64))
    plain = Oracle(problem, cs.random.ReplicaStreams(np, 5, 0, 64))
    for _ in range(5):  # crosses epoch boundaries for the without-replacement sampler
        g, y, g_same = paired.same_sample_grads(x, lambda g: x + 0.0 * g)
        np.testing.assert_array_equal(g_same, g)  # same point, same minibatch: identical gradients
        np.testing.assert_array_equal(g, plain.stochastic_grad(x))  # the run's stream advanced exactly once


def test_same_sample_grads_at_a_new_point_use_the_same_data_row():
    # Least squares with one sample i: ĝ(x) = a_i(a_iᵀx − b_i) and ĝ(y) − ĝ(x) = a_i a_iᵀ(y − x),
    # so both are parallel to a_i; with a fresh sample at y they would not be.
    problem = cs.problems.LeastSquares.random(50, 4, batch_size=1, seed=2)
    x = np.random.default_rng(1).standard_normal((64, 4))
    oracle = Oracle(problem, cs.random.ReplicaStreams(np, 9, 0, 64))
    g, y, g_y = oracle.same_sample_grads(x, lambda g: x - 0.3 * g + 0.1)
    diff = g_y - g
    cos = np.sum(diff * g, axis=1) / (np.linalg.norm(diff, axis=1) * np.linalg.norm(g, axis=1))
    np.testing.assert_allclose(np.abs(cos), 1.0, rtol=1e-10)


def test_sam_needs_positive_rho():
    with pytest.raises(cs.ConvsimError, match="rho must be"):
        cs.methods.SAM(0.1, rho=0.0)


# -- Polyak step sizes ---------------------------------------------------------------------

def _minibatch(A, b, x, idx):
    """Least-squares minibatch loss (R,) and gradient (R, d) for per-replica index rows idx (R, B)."""
    rows, labels = A[idx], b[idx]  # (R, B, d), (R, B)
    resid = np.einsum("rbd,rd->rb", rows, x) - labels
    return 0.5 * np.mean(resid**2, axis=1), np.einsum("rbd,rb->rd", rows, resid) / idx.shape[1]


def test_sps_max_restated(backend):
    xp = cs.backend.namespace(backend)
    problem = cs.problems.InterpolatingLeastSquares.random(30, 5, batch_size=3, seed=4)
    A, b, R, c, cap = problem.A, problem.y, 64, 0.5, 2.0
    method = cs.methods.SPS(c=c, gamma_max=cap)
    oracle = Oracle(problem, cs.random.ReplicaStreams(xp, 11, 0, R))
    draws = cs.random.ReplicaStreams(np, 11, 0, R)  # the sampler's draws, by hand
    x = np.tile(problem.initial_point(), (R, 1))
    state = method.init(xp.asarray(x))
    for t in range(15):
        state = method.step(state, oracle, t)
        f, g = _minibatch(A, b, x, draws.integers(30, 3))
        gamma = np.minimum(f / (c * np.sum(g * g, axis=1)), cap)
        x = x - gamma[:, None] * g
    np.testing.assert_allclose(cs.backend.to_numpy(state.x), x, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("kind", ["hutchinson", "adam", "adagrad", "identity"])
def test_psps_restated_and_projects_onto_the_linearization(kind):
    problem = cs.problems.InterpolatingLeastSquares.random(20, 4, spectrum=[4.0, 1.0, 0.3, 0.05], seed=5)
    A, b, R, beta, alpha, eps, m0 = problem.A, problem.y, 64, 0.9, 1e-3, 1e-8, 7
    H = A.T @ A / 20
    method = cs.methods.PSPS(kind, beta=beta, alpha=alpha, eps=eps, init_probes=m0)
    oracle = Oracle(problem, cs.random.ReplicaStreams(np, 2, 0, R))
    draws = cs.random.ReplicaStreams(np, 2, 0, R)
    rademacher = lambda: draws.rademacher(4).copy()  # noqa: E731  (the stream's Rademacher draw)
    x = np.tile(problem.initial_point(), (R, 1))
    state, stat = method.init(x.copy()), np.zeros_like(x)
    for t in range(12):
        state = method.step(state, oracle, t)
        f, g = _minibatch(A, b, x, draws.integers(20, 1))
        if kind == "hutchinson":
            if t == 0:
                stat = np.mean([z * (z @ H) for z in (rademacher() for _ in range(m0))], axis=0)
            z = rademacher()
            stat = beta * stat + (1 - beta) * z * (z @ H)
            D = np.maximum(np.abs(stat), alpha)
        elif kind == "adam":
            stat = beta * stat + (1 - beta) * g * g
            D = np.sqrt(stat / (1 - beta ** (t + 1))) + eps
        elif kind == "adagrad":
            stat = stat + g * g
            D = np.sqrt(stat) + eps
        else:
            D = np.ones_like(x)
        x_next = x - (f / np.sum(g * g / D, axis=1))[:, None] * g / D
        # the preconditioned Polyak step zeroes the minibatch loss's linearization (f_i* = 0)
        np.testing.assert_allclose(f + np.sum(g * (x_next - x), axis=1), 0.0, atol=1e-12 * np.max(f))
        x = x_next
    np.testing.assert_allclose(state.x, x, rtol=1e-10, atol=1e-14)


def test_polyak_steps_need_a_minibatch_loss():
    problem = cs.problems.Quadratic([1.0, 0.5], noise=cs.noise.Gaussian(0.1))
    with pytest.raises(cs.ConvsimError, match="no minibatch loss"):
        cs.simulate(problem, cs.methods.SPS(), 3)
    with pytest.raises(cs.ConvsimError, match="preconditioner must be one of"):
        cs.methods.PSPS("newton")


# -- AdaHessian and Sophia ------------------------------------------------------------------

def _gaussian_and_rademacher(draws, d):
    return lambda: draws.normal(d).copy(), lambda: draws.rademacher(d).copy()


@pytest.mark.parametrize("block, power, wd", [(1, 1.0, 0.0), (2, 0.5, 0.01)])
def test_adahessian_algorithm_1(block, power, wd):
    problem = cs.problems.Quadratic([3.0, 1.0, 0.5, 0.2], noise=cs.noise.Gaussian(0.1), rotate=True, seed=1)
    H, R, d = problem.hessian(), 64, 4
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-4
    method = cs.methods.AdaHessian(lr, weight_decay=wd, hessian_power=power, block=block)
    oracle = Oracle(problem, cs.random.ReplicaStreams(np, 3, 0, R))
    draws = cs.random.ReplicaStreams(np, 3, 0, R)
    gaussian, rademacher = _gaussian_and_rademacher(draws, d)
    x = np.tile(problem.initial_point(), (R, 1))
    state, m, v = method.init(x.copy()), 0 * x, 0 * x
    for t in range(1, 21):
        state = method.step(state, oracle, t - 1)
        g = x @ H + 0.1 * gaussian()  # the Gaussian noise model's draw, then the Hutchinson probe
        z = rademacher()
        D = z * (z @ H)
        D = np.repeat(D.reshape(R, d // block, block).mean(axis=2), block, axis=1)  # spatial averaging
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * D * D
        x = x - lr * ((m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) ** power + eps) + wd * x)
    np.testing.assert_allclose(state.x, x, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("estimator", ["hutchinson", "gnb"])
def test_sophia_algorithm_3(estimator):
    problem = cs.problems.Quadratic([4.0, 1.0, 0.25], noise=cs.noise.Gaussian(0.2), rotate=True, seed=2)
    H, R, d, B = problem.hessian(), 64, 3, 1
    lr, gamma, b1, b2, eps, k, lam = 0.05, 0.5, 0.9, 0.95, 1e-12, 3, 0.1
    method = cs.methods.Sophia(lr, gamma=gamma, beta1=b1, beta2=b2, eps=eps, k=k, weight_decay=lam, estimator=estimator)
    oracle = Oracle(problem, cs.random.ReplicaStreams(np, 4, 0, R))
    draws = cs.random.ReplicaStreams(np, 4, 0, R)
    gaussian, _ = _gaussian_and_rademacher(draws, d)
    evals, Q = np.linalg.eigh(H)
    sqrtH = (Q * np.sqrt(evals)) @ Q.T
    x = np.tile(problem.initial_point(), (R, 1))
    state, m, h = method.init(x.copy()), 0 * x, 0 * x
    for t in range(1, 31):
        state = method.step(state, oracle, t - 1)
        g = x @ H + 0.2 * gaussian()
        m = b1 * m + (1 - b1) * g
        if t % k == 1:
            if estimator == "hutchinson":  # Alg. 1: u ~ N(0, I), ĥ = u ⊙ (H u)
                u = gaussian()
                h_hat = u * (u @ H)
            else:  # Alg. 2 for ½E(aᵀe − ŷ)², a ~ N(0, H), ŷ ~ N(aᵀe, 1): ĥ = B ĝ⊙ĝ, ĝ = −(1/B) Σ a_b ξ_b
                a = draws.normal(B, d).copy() @ sqrtH
                g_hat = -np.einsum("rbd,rb->rd", a, draws.normal(B).copy()) / B
                h_hat = B * g_hat * g_hat
            h = b2 * h + (1 - b2) * h_hat
        x = x - lr * lam * x
        x = x - lr * np.clip(m / np.maximum(gamma * h, eps), -1, 1)
    np.testing.assert_allclose(state.x, x, rtol=1e-10, atol=1e-13)


def test_gauss_newton_bartlett_is_unbiased_for_the_gauss_newton_diagonal():
    from convsim.curvature import gauss_newton_bartlett_diagonal
    R = 20_000
    ls = cs.problems.LeastSquares.random(15, 3, batch_size=4, seed=3)
    logit = cs.problems.LogisticRegression.random(15, 3, batch_size=4, seed=3, reg=0.1)
    x = np.tile(np.array([0.3, -0.2, 0.5]), (R, 1))
    for problem, curvature in ((ls, np.ones(15)), (logit, None)):
        est = gauss_newton_bartlett_diagonal(problem, x, cs.random.ReplicaStreams(np, 0, 0, R))
        A = problem.A
        if curvature is None:
            s = 1 / (1 + np.exp(-A @ x[0]))
            curvature = s * (1 - s)
        target = np.sum(A**2 * curvature[:, None], axis=0) / 15 + problem.reg
        np.testing.assert_allclose(est.mean(axis=0), target, rtol=5 * est.std(axis=0).max() / np.sqrt(R) / target.min())


# -- momentum variants -----------------------------------------------------------------------

def test_asgd_jain_algorithm_1(script):
    x0, grads = script
    a, b, c, dl = 0.6, 0.2, 0.3, 0.1
    w, v = x0.copy(), x0.copy()
    for g in grads:  # the scripted gradient stands for ĝ(ȳ)
        y = a * w + (1 - a) * v
        w, v = y - dl * g, b * y + (1 - b) * v - c * g
    np.testing.assert_allclose(run_scripted(cs.methods.ASGD(a, b, c, dl), x0, grads)[-1], w, rtol=1e-12)


@pytest.mark.parametrize("gamma0", [None, 3.0])
def test_stochastic_agd_estimating_sequences(script, gamma0):
    """Mishkin et al. (2404.02378) / Nesterov (2.2.19): alpha_k^2 = eta((1 - alpha_k) gamma_k + alpha_k mu)."""
    x0, grads = script
    eta, mu = 0.2, 0.5
    gam = mu if gamma0 is None else gamma0
    x, v = x0.copy(), x0.copy()
    for g in grads:  # the scripted gradient stands for ĝ(y_k)
        alpha = max(np.roots([1.0, eta * (gam - mu), -eta * gam]).real)
        assert 0 < alpha < 1 and math.isclose(alpha**2, eta * ((1 - alpha) * gam + alpha * mu))
        gam_next = (1 - alpha) * gam + alpha * mu
        y = (alpha * gam * v + gam_next * x) / (gam + alpha * mu)
        x, v = y - eta * g, ((1 - alpha) * gam * v + alpha * mu * y - alpha * g) / gam_next
        gam = gam_next
    np.testing.assert_allclose(run_scripted(cs.methods.StochasticAGD(eta, mu, gamma0), x0, grads)[-1], x, rtol=1e-12)


def test_stochastic_agd_strong_growth_step_and_constant_momentum():
    m = cs.methods.StochasticAGD.strong_growth(L=2.0, mu=0.1, rho=5.0)
    assert m.eta == pytest.approx(0.1)
    assert m.coefficients(0) == pytest.approx((math.sqrt(0.1 * 0.1), 0.1))
    assert m.coefficients(50) == pytest.approx(m.coefficients(0))  # gamma_0 = mu: a fixed point
    with pytest.raises(cs.ConvsimError, match="gamma0"):
        cs.methods.StochasticAGD(0.1, 0.0)


def test_nag_gs_follows_the_authors_two_phase_step(script):
    x0, grads = script
    alpha, mu, gamma0 = 0.3, 0.5, 1.5
    # the authors' optax transformation, restated: phase 1 finishes v with the new gradient, phase 2 moves x
    x, trace, gamma = x0.copy(), x0.copy(), gamma0
    for k in range(len(grads) + 1):
        if k > 0:
            g = grads[k - 1]
            trace = (gamma * trace + alpha * mu * x - alpha * g) / (alpha * mu + gamma)
        gamma = (alpha * mu + gamma) / (1 + alpha)
        x = x + alpha / (1 + alpha) * (trace - x)
    method = cs.methods.NAGGS(alpha, mu=mu, gamma=gamma0)
    state, oracle = method.init(x0.copy()), Oracle(Scripted(grads), None)
    for t in range(len(grads) + 1):
        state = method.step(state, oracle, t)
    np.testing.assert_allclose(state.x, x, rtol=1e-12)


def test_random_scaling_momentum(script, backend):
    xp = cs.backend.namespace(backend)
    x0, grads = script
    R, lr, beta = x0.shape[0], 0.1, 0.8
    draws = cs.random.ReplicaStreams(np, 6, 0, R)
    x, delta = x0.copy(), 0 * x0
    for g in grads:
        delta = beta * delta - lr * g
        x = x + -np.log(1 - draws.uniform(1)) * delta
    class OnBackend(Scripted):
        def stochastic_grad(self, x, rng):
            return xp.asarray(super().stochastic_grad(x, rng))

    method = cs.methods.RandomScalingMomentum(lr, momentum=beta)
    state, oracle = method.init(xp.asarray(x0)), Oracle(OnBackend(grads), cs.random.ReplicaStreams(xp, 6, 0, R))
    for t in range(len(grads)):
        state = method.step(state, oracle, t)
    np.testing.assert_allclose(cs.backend.to_numpy(state.x), x, rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3)])
def test_newton_schulz_keeps_singular_vectors_and_squashes_singular_values(shape, rng):
    from convsim.methods.momentum import newton_schulz
    G = rng.standard_normal((8, *shape))
    X = newton_schulz(G)
    U, S, Vt = np.linalg.svd(G, full_matrices=False)
    inner = U.transpose(0, 2, 1) @ X @ Vt.transpose(0, 2, 1)  # = diag(φ(σ)) for an odd polynomial iteration
    off = inner - np.einsum("bi,ij->bij", np.diagonal(inner, axis1=1, axis2=2), np.eye(min(shape)))
    np.testing.assert_allclose(off, 0.0, atol=1e-10)
    sv = np.diagonal(inner, axis1=1, axis2=2)
    assert np.all((sv > 0.6) & (sv < 1.25)), sv  # the published coefficients map singular values near 1


def test_muon_update(script):
    x0, grads = np.zeros((2, 6)), np.random.default_rng(3).standard_normal((10, 2, 6))
    lr, mu, (m, n) = 0.05, 0.9, (3, 2)
    a, b, c = 3.4445, -4.7750, 2.0315

    def ns(G):
        X = G.T / (np.linalg.norm(G) + 1e-7)  # tall (3 x 2): work on the transpose
        for _ in range(5):
            A = X @ X.T
            X = a * X + (b * A + c * A @ A) @ X
        return X.T

    x, buf = x0.copy(), 0 * x0
    for g in grads:
        buf = mu * buf + g
        d = g + mu * buf
        x = x - lr * np.sqrt(m / n) * np.stack([ns(r.reshape(m, n)).ravel() for r in d])
    out = run_scripted(cs.methods.Muon(lr, shape=(m, n), momentum=mu), x0, grads)[-1]
    np.testing.assert_allclose(out, x, rtol=1e-10, atol=1e-13)


# -- every new method: backend and chunk invariance -------------------------------------------

def _new_method_cases():
    M = cs.methods
    q = cs.problems.Quadratic(cs.spectra.geometric(6, 1.0, 0.1), noise=cs.noise.Gaussian(0.1), rotate=True)
    ls = cs.problems.InterpolatingLeastSquares.random(40, 6, seed=1, batch_size=2, sampling="reshuffle")
    logit = cs.problems.LogisticRegression.random(40, 6, seed=1, batch_size=2)
    return [(q, M.SAM(0.1)), (ls, M.USAM(M.Adam(0.01))), (ls, M.DNSAM(0.1)), (ls, M.SPS()),
            (ls, M.PSPS("hutchinson", init_probes=3)), (q, M.AdaHessian(0.1, block=2)), (q, M.Sophia(0.01)),
            (q, M.Sophia(0.01, estimator="gnb")), (logit, M.Sophia(0.01, estimator="gnb")),
            (q, M.ASGD(0.5, 0.1, 0.3, 0.3)), (q, M.NAGGS(0.2, mu=0.1)), (q, M.RandomScalingMomentum(0.1)),
            (q, M.Muon(0.02, shape=(2, 3))), (ls, M.DoG(average=True)), (ls, M.StochasticAGD(0.05, 0.01)), (q, M.GAM(0.1, alpha=0.5))]


@pytest.mark.parametrize("case", range(len(_new_method_cases())))
def test_new_methods_are_backend_and_chunk_invariant(case, backend):
    problem, method = _new_method_cases()[case]
    ref = cs.simulate(problem, method, 20, replicas=128, record=[20], chunk_size=64)
    out = cs.simulate(problem, method, 20, replicas=128, record=[20], backend=backend)
    for name in ref.metrics:
        np.testing.assert_allclose(out.metrics[name], ref.metrics[name], rtol=1e-9, atol=1e-15)
