"""Integrators on SDEs with known solutions; orders measured with convsim's own Exponent check."""

import math

import numpy as np
import pytest
import scipy.linalg

import convsim as cs
from convsim.engine.trace import Series


def gbm(mu=0.5, sigma=0.8):
    return cs.sde.SDE(1, lambda x, t: mu * x, lambda x, t: sigma * x, diffusion_derivative=lambda x, t: sigma + 0 * x)


def strong_errors(solver, R=4000, T=1.0, levels=(3, 4, 5, 6, 7), fine=10, mu=0.5, sigma=0.8, seed=0):
    """E|X_T^h − X_T| against the exact GBM solution on the same Brownian paths, for h = T/2^k."""
    rng = np.random.default_rng(seed)
    dw_fine = rng.standard_normal((R, 2**fine)) * math.sqrt(T / 2**fine)
    exact = np.exp((mu - sigma**2 / 2) * T + sigma * dw_fine.sum(axis=1))
    sde, errs, hs = gbm(mu, sigma), [], []
    for k in levels:
        dw = dw_fine.reshape(R, 2**k, -1).sum(axis=2)
        x, h = np.ones((R, 1)), T / 2**k
        for j in range(2**k):
            x = solver.step(sde, x, j * h, h, dw[:, j:j + 1])
        errs.append(np.abs(x[:, 0] - exact))
        hs.append(h)
    return Series(np.array(hs), np.stack(errs, axis=1), "h", "strong_error", np.full(R, -1))


@pytest.mark.parametrize("solver, order", [(cs.sde.EulerMaruyama(), 0.5), (cs.sde.Milstein(), 1.0)])
def test_strong_orders_on_geometric_brownian_motion(solver, order):
    s = strong_errors(solver)
    v = cs.checks.Exponent("strong_error", order, vs="h", window=(0, 1), tolerance=0.1).check(s)
    assert v.verdict == "consistent", v.summary()
    wrong = cs.checks.Exponent("strong_error", order + 0.5, vs="h", window=(0, 1), tolerance=0.1).check(s)
    assert wrong.verdict == "violated", wrong.summary()


def test_weak_order_one_of_euler_maruyama_on_ornstein_uhlenbeck():
    a, b, x0, T, R = 1.0, 0.03, 1.0, 1.0, 100_000
    ou = cs.sde.LinearSDE(np.array([[a]]), np.array([[b]]))
    exact_mean = x0 * math.exp(-a * T)
    errs, hs = [], []
    for k in range(3, 7):
        h = T / 2**k
        tr = cs.sde.simulate_sde(ou.as_sde(), cs.sde.EulerMaruyama(), np.array([x0]), T, h, R, record=[2**k],
                                 metrics={"x": lambda sde, x: x[:, 0]}, seed=k)
        errs.append(exact_mean - tr.metrics["x"][:, -1])  # E[X^h_T] < e^{-aT} x0 for Euler
        hs.append(h)
    s = Series(np.array(hs), np.stack(errs, axis=1), "h", "weak_error", np.full(R, -1))
    v = cs.checks.Exponent("weak_error", 1.0, vs="h", window=(0, 1)).check(s)
    assert v.verdict == "consistent", v.summary()


def test_exact_ou_transition_and_stationary_law(backend):
    A = np.array([[1.0, 0.3], [0.0, 0.5]])
    B = np.array([[0.4, 0.0], [0.1, 0.3]])
    ou = cs.sde.LinearSDE(A, B, mean=np.array([1.0, -1.0]))
    Sigma = ou.stationary_covariance()
    np.testing.assert_allclose(A @ Sigma + Sigma @ A.T, B @ B.T, atol=1e-12)
    # Started in the stationary law's mean, 40 large exact steps sample the stationary covariance.
    tr = cs.sde.simulate_sde(ou, cs.sde.ExactOU(), ou.mean, 40.0, 2.0, 4096, record=[20],
                             metrics={"x0": lambda s, x: x[:, 0], "x1": lambda s, x: x[:, 1]}, backend=backend)
    X = np.stack([tr.metrics["x0"][:, -1], tr.metrics["x1"][:, -1]], axis=1) - ou.mean
    np.testing.assert_allclose(np.cov(X.T), Sigma, atol=4 * np.max(np.diag(Sigma)) / np.sqrt(4096))


def test_sgd_sde_map_and_the_two_lyapunov_equations():
    p = cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1), noise=cs.noise.Gaussian(0.5, power=1.0))
    for eta in (0.4, 0.1, 0.025):
        disc = np.diag(cs.sde.sgd_stationary_covariance(p, eta))
        cont = np.diag(cs.sde.sgd_sde(p, eta).stationary_covariance())
        lam, c = p.eigenvalues, 0.25 * p.eigenvalues
        np.testing.assert_allclose(disc, eta * c / (lam * (2 - eta * lam)), rtol=1e-10)  # closed forms (H, C diagonal)
        np.testing.assert_allclose(cont, eta * c / (2 * lam), rtol=1e-10)
    with pytest.raises(cs.ConvsimError, match="unstable"):
        cs.sde.sgd_stationary_covariance(p, 2.5)


def test_sde_errors():
    with pytest.raises(cs.ConvsimError, match="Milstein needs diagonal noise"):
        cs.sde.Milstein().step(cs.sde.LinearSDE(np.eye(1), np.eye(1)).as_sde(), np.ones((1, 1)), 0.0, 0.1, np.ones((1, 1)))
    with pytest.raises(cs.ConvsimError, match="not a whole number of steps"):
        cs.sde.simulate_sde(gbm(), cs.sde.EulerMaruyama(), np.ones(1), 1.0, 0.3)
    with pytest.raises(cs.ConvsimError, match="no stationary law"):
        cs.sde.LinearSDE(-np.eye(1), np.eye(1)).stationary_covariance()


# -- maps from methods to SDEs (formulas restated independently) ---------------------------

def _small_quadratic(noise=0.5, power=1.0, rotate=True):
    return cs.problems.Quadratic(np.array([1.0, 0.4, 0.2]), rotate=rotate, seed=3, x_star=np.array([0.5, -1.0, 2.0]),
                                 noise=cs.noise.Gaussian(noise, power=power))


def _state(xp, rows):
    return xp.asarray(np.asarray(rows, dtype=np.float64))


def _noise_matrix(sde, x, xp):
    """The (R, D, m) matrix B(x) of the noise term B(x) dW, read off by feeding unit increments."""
    cols = [np.asarray(sde.noise_term(x, 0.0, xp.asarray(np.tile(e, (x.shape[0], 1)))))
            for e in np.eye(sde.noise_dim)]
    return np.stack(cols, axis=-1)


def test_rmsprop_sde_terms_match_malladi_et_al(backend):
    xp = cs.backend.namespace(backend)
    p, eta, beta, eps = _small_quadratic(), 0.05, 0.98, 0.3
    H, C, d = p.hessian(), 0.25 * p.hessian(), 3
    sigma0, eps0, c2 = eta, eps * eta, (1 - beta) / eta**2  # σ = 1: Σ = C
    sde = cs.sde.rmsprop_sde(p, eta, beta, eps)
    z = np.array([[0.1, 0.2, -0.3, 0.5, 0.1, 0.9], [1.0, -2.0, 0.0, 0.0, 2.0, 0.3]])
    x = _state(xp, z)
    theta, u = z[:, :d], z[:, d:]
    P = sigma0 * np.sqrt(u) + eps0
    want = np.concatenate([-((theta - p.x_star) @ H) / P, c2 * (np.diag(C) - u)], axis=1)
    np.testing.assert_allclose(np.asarray(sde.drift(x, 0.0)), want, rtol=1e-10, atol=1e-12)
    B = _noise_matrix(sde, x, xp)
    for r in range(2):  # B Bᵀ = σ0² P⁻¹ C P⁻¹ on θ, no noise on u
        Pinv = np.diag(1 / P[r])
        np.testing.assert_allclose(B[r, :d] @ B[r, :d].T, sigma0**2 * Pinv @ C @ Pinv, rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(B[r, d:], 0.0)


def test_adam_sde_terms_match_malladi_et_al(backend):
    xp = cs.backend.namespace(backend)
    p, eta, b1, b2, eps = _small_quadratic(), 0.05, 0.9, 0.99, 0.3
    H, C, d = p.hessian(), 0.25 * p.hessian(), 3
    s0, e0, c1, c2 = eta, eps * eta, (1 - b1) / eta**2, (1 - b2) / eta**2
    sde = cs.sde.adam_sde(p, eta, b1, b2, eps)
    z = np.array([[0.1, 0.2, -0.3, 0.4, -0.1, 0.2, 0.5, 0.1, 0.9]])
    theta, m, u, t = z[:, :d], z[:, d:2 * d], z[:, 2 * d:], 0.37
    g1, g2 = 1 - np.exp(-c1 * t), 1 - np.exp(-c2 * t)
    P = s0 * np.sqrt(u) + e0 * np.sqrt(g2)
    want = np.concatenate([-np.sqrt(g2) / g1 * m / P, c1 * ((theta - p.x_star) @ H - m), c2 * (np.diag(C) - u)], axis=1)
    np.testing.assert_allclose(np.asarray(sde.drift(_state(xp, z), t)), want, rtol=1e-10)
    B = _noise_matrix(sde, _state(xp, z), xp)[0]
    np.testing.assert_allclose(B[d:2 * d] @ B[d:2 * d].T, (s0 * c1) ** 2 * C, rtol=1e-9)
    np.testing.assert_allclose(B[:d], 0.0)
    np.testing.assert_allclose(B[2 * d:], 0.0)


def test_adaptive_sde_moments_agree_with_euler_maruyama_paths():
    """The exact-moment ODEs and the SDE terms are two independent codings of the same SDE."""
    p = cs.problems.Quadratic(np.array([1.0, 0.3]), noise=cs.noise.Gaussian(0.2 / 0.1), r0=2.0)
    eta, T, R = 0.1, 0.5, 8192
    H = p.hessian()
    f = lambda sde, x: 0.5 * np.sum((x[:, :2] @ H) * x[:, :2], axis=1)
    for sde, (mean, cov) in (
            (cs.sde.rmsprop_sde(p, eta, 1 - 2 * eta**2, 5.0), cs.sde.rmsprop_sde_moments(p, eta, 1 - 2 * eta**2, 5.0, T)),
            (cs.sde.adam_sde(p, eta, 1 - 4 * eta**2, 1 - 2 * eta**2, 5.0),
             cs.sde.adam_sde_moments(p, eta, 1 - 4 * eta**2, 1 - 2 * eta**2, 5.0, T))):
        x0 = np.concatenate([p.initial_point(), np.zeros(sde.dim - 2)])
        tr = cs.sde.simulate_sde(sde, cs.sde.EulerMaruyama(), x0, T, 1e-3, R, record=[500], metrics={"f": f}, seed=1)
        sim = tr.metrics["f"][:, -1]
        exact = 0.5 * (mean @ H @ mean + np.trace(H @ cov))
        # Euler's O(dt) bias is ~1e-3 relative; the Monte-Carlo error is ~4 standard errors.
        assert abs(sim.mean() - exact) < 4 * sim.std() / np.sqrt(R) + 2e-3 * exact, (sde.name, sim.mean(), exact)


def test_sam_family_terms_match_compagnoni_et_al(backend):
    xp = cs.backend.namespace(backend)
    p, eta, rho = _small_quadratic(power=0.0), 0.01, 0.3
    H, C, d = p.hessian(), 0.25 * np.eye(3), 3
    z = np.array([[0.1, 0.2, -0.3], [2.0, -1.0, 0.5]])
    x, grad = _state(xp, z), (z - p.x_star) @ H
    # USAM: drift −∇(f + ρ/2 ‖∇f‖²) = −(I + ρH)∇f; exact covariance (I + ρH) C (I + ρH), paper's C + ρ(HC + CH).
    M = np.eye(d) + rho * H
    usam = cs.sde.usam_sde(p, eta, rho)
    np.testing.assert_allclose(np.asarray(usam.drift(x, 0.0)), -grad @ M, rtol=1e-10)
    B = _noise_matrix(usam, x, xp)[0]
    np.testing.assert_allclose(B @ B.T, eta * M @ C @ M, rtol=1e-9)
    B = _noise_matrix(cs.sde.usam_sde(p, eta, rho, covariance="paper"), x, xp)[0]
    np.testing.assert_allclose(B @ B.T, eta * (C + rho * (H @ C + C @ H)), rtol=1e-9)
    ou = cs.sde.usam_linear_sde(p, eta, rho)
    np.testing.assert_allclose(ou.drift_matrix, H + rho * H @ H, rtol=1e-12)  # A = H plus the correction ρH²
    np.testing.assert_allclose(ou.B @ ou.B.T, eta * M @ C @ M, rtol=1e-9, atol=1e-15)
    # DNSAM: drift −∇(f + ρ‖∇f‖) = −(∇f + ρ H∇f/‖∇f‖), per path.
    dnsam = cs.sde.dnsam_sde(p, eta, rho)
    norms = np.linalg.norm(grad, axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(dnsam.drift(x, 0.0)), -(grad + rho * (grad @ H) / norms), rtol=1e-10)
    for covariance in ("exact", "paper"):
        B = _noise_matrix(cs.sde.dnsam_sde(p, eta, rho, covariance=covariance), x, xp)
        for r in range(2):
            c = rho / norms[r, 0]
            Mr = np.eye(d) + c * H
            want = Mr @ C @ Mr if covariance == "exact" else C + c * (H @ C + C @ H)
            np.testing.assert_allclose(B[r] @ B[r].T, eta * want, rtol=1e-9)


def test_sam_increment_moments_by_quadrature():
    """E and Var of G = f'(x + ρ sign(f'(x) + ξ)) + ξ, integrated over ξ ~ N(0, s²) with scipy.integrate.quad."""
    import scipy.integrate
    import scipy.stats

    s, rho = 0.7, 0.2
    grad = lambda x: 2.0 * x + np.sin(x)  # a non-quadratic f: the closed form holds for any f in 1-d
    for x in (0.3, -0.1, 1.0):
        pdf = scipy.stats.norm(0, s).pdf
        G = lambda xi: grad(x + rho * np.sign(grad(x) + xi)) + xi
        cut = -grad(x)
        moment = lambda k: sum(scipy.integrate.quad(lambda xi: G(xi) ** k * pdf(xi), a, b, epsabs=1e-13)[0]
                               for a, b in ((-np.inf, cut), (cut, np.inf)))
        mean, var = cs.sde.sam_increment_moments(grad, np.array([[x]]), s, rho)
        np.testing.assert_allclose(mean[0, 0], moment(1), rtol=1e-9)
        np.testing.assert_allclose(var[0, 0], moment(2) - moment(1) ** 2, rtol=1e-8)


def test_sgdm_sde_matches_heavy_ball_stationary_covariance_as_eta_vanishes():
    """Heavy ball's exact stationary covariance / its SDE's (HΣ + ΣH = ηC/(1−β)) → 1 at rate O(η)."""
    p = _small_quadratic()
    beta, gaps = 0.9, []
    for eta in (0.01, 0.001):
        disc = cs.sde.heavy_ball_stationary_covariance(p, eta, beta)
        C = 0.25 * p.hessian()
        cont = scipy.linalg.solve_continuous_lyapunov(p.hessian(), eta * C / (1 - beta))
        gaps.append(np.max(np.abs(disc - cont)) / np.max(np.abs(cont)))
        sde = cs.sde.sgdm_sde(p, eta, beta)
        x = np.array([[0.3, -0.2, 0.1]])
        np.testing.assert_allclose(sde.drift(x, 0.0), -((x - p.x_star) @ p.hessian()) / (1 - beta), rtol=1e-12)
    assert gaps[1] < gaps[0] / 5 and gaps[1] < 0.05, gaps


def test_scaling_rules_exact_outputs_and_sde_invariants():
    assert cs.sde.linear_rule(0.1, 8) == {"eta": pytest.approx(0.8)}
    out = cs.sde.sqrt_rule(1e-3, 4, beta1=0.9, beta2=0.999, eps=1e-8)
    assert out == {"eta": pytest.approx(2e-3), "beta1": pytest.approx(0.6), "beta2": pytest.approx(0.996),
                   "eps": pytest.approx(5e-9)}
    # The rule keeps σ0 = ση, ε0 = εη, c_i = (1 − β_i)/η² when σ ∝ 1/√B (batch × κ).
    eta, b1, b2, eps, sigma = 0.01, 0.98, 0.995, 1e-3, 1.0
    for kappa in (2, 4, 8):
        new = cs.sde.sqrt_rule(eta, kappa, beta1=b1, beta2=b2, eps=eps)
        sigma_new = sigma / math.sqrt(kappa)
        assert sigma_new * new["eta"] == pytest.approx(sigma * eta)
        assert new["eps"] * new["eta"] == pytest.approx(eps * eta)
        for old, b in ((b1, "beta1"), (b2, "beta2")):
            assert (1 - new[b]) / new["eta"] ** 2 == pytest.approx((1 - old) / eta**2)
        # Linear rule keeps SGD's η/B (its SDE's noise) and the time per sample.
        assert cs.sde.linear_rule(eta, kappa)["eta"] / (kappa * 1) == pytest.approx(eta / 1)
    with pytest.raises(cs.ConvsimError, match="kappa"):
        cs.sde.sqrt_rule(0.01, 20, beta1=0.9)


def test_euler_levy_ou_has_the_alpha_stable_stationary_law():
    """dX = −θX dt + σ dL (L symmetric α-stable): X_∞ ~ S_α(scale σ (αθ)^{−1/α}); KS test vs scipy."""
    import scipy.stats

    alpha, theta, sigma = 1.5, 1.0, 0.5
    ou = cs.sde.LinearSDE(np.array([[theta]]), np.array([[sigma]]))
    tr = cs.sde.simulate_sde(ou.as_sde(), cs.sde.EulerLevy(alpha), np.zeros(1), 8.0, 0.02, 2048, record=[400],
                             metrics={"x": lambda s, x: x[:, 0]}, seed=3)
    x = tr.metrics["x"][:, -1]
    scale = sigma * (alpha * theta) ** (-1 / alpha)
    assert scipy.stats.kstest(x, scipy.stats.levy_stable(alpha, 0.0, scale=scale).cdf).pvalue > 0.01
    # Brownian scaling of the increments (dt^{1/2} instead of dt^{1/α}) gives a different law: rejected.
    assert scipy.stats.kstest(x, scipy.stats.levy_stable(alpha, 0.0, scale=1.25 * scale).cdf).pvalue < 1e-3


def test_euler_levy_does_not_depend_on_chunking():
    ou = cs.sde.LinearSDE(np.eye(2), 0.3 * np.eye(2))
    runs = [cs.sde.simulate_sde(ou.as_sde(), cs.sde.EulerLevy(1.2), np.ones(2), 1.0, 0.1, 256, record=[10], seed=7,
                                chunk_size=c).metrics["sq_norm"] for c in (64, 256)]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_kolmogorov_backward_reference_on_ornstein_uhlenbeck():
    from convsim.sde.kolmogorov import backward_expectation_1d

    a, b, x0, T = 1.0, 0.5, 2.0, 1.0
    m, var = x0 * math.exp(-a * T), b**2 / (2 * a) * (1 - math.exp(-2 * a * T))
    got = backward_expectation_1d(lambda x: -a * x, lambda x: b**2 + 0 * x, lambda x: 0.5 * x**2, x0, T, lo=-4, hi=6)
    assert got == pytest.approx(0.5 * (m * m + var), rel=1e-5)


def test_new_sdes_and_levy_solver_agree_across_backends_and_chunks(backend):
    p = cs.problems.Quadratic(np.array([1.0, 0.3]), noise=cs.noise.Gaussian(2.0), r0=2.0)
    cases = [(cs.sde.adam_sde(p, 0.1, 0.96, 0.98, 5.0), cs.sde.EulerMaruyama()),
             (cs.sde.rmsprop_sde(p, 0.1, 0.98, 5.0), cs.sde.EulerMaruyama()),
             (cs.sde.usam_sde(p, 0.1, 0.3), cs.sde.EulerMaruyama()),
             (cs.sde.dnsam_sde(p, 0.1, 0.3, covariance="paper"), cs.sde.EulerMaruyama()),
             (cs.sde.sgdm_sde(p, 0.1, 0.9), cs.sde.EulerLevy(1.3))]
    for sde, solver in cases:
        x0 = np.concatenate([p.initial_point(), np.zeros(sde.dim - 2)])
        run = lambda bk, chunk: cs.sde.simulate_sde(sde, solver, x0, 0.5, 0.01, 128, record=[50], seed=1, backend=bk,
                                                    chunk_size=chunk).metrics["sq_norm"]
        np.testing.assert_allclose(run(backend, 64), run("numpy", 128), rtol=1e-10, err_msg=sde.name)


def test_new_map_errors_are_one_line():
    p = _small_quadratic()
    with pytest.raises(cs.ConvsimError, match="one-dimensional"):
        cs.sde.sam_sde(p, 0.1, 0.1)
    with pytest.raises(cs.ConvsimError, match="covariance must be"):
        cs.sde.usam_sde(p, 0.1, 0.1, covariance="second-order")
    varying = cs.sde.GradientNoise(3, p.grad, lambda x: x[:, :, None] * x[:, None, :], p.hessian())
    with pytest.raises(cs.ConvsimError, match="state-independent"):
        cs.sde.dnsam_sde(varying, 0.1, 0.1)
    with pytest.raises(cs.ConvsimError, match="Quadratic with Gaussian"):
        cs.sde.rmsprop_sde(cs.problems.Quadratic(np.ones(2)), 0.1)
    with pytest.raises(cs.ConvsimError, match="alpha"):
        cs.sde.EulerLevy(2.5)
