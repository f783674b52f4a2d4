"""P3 first-order claims (issue #19): the refined schedule, the random-scaling switch, the closed forms the
NAG-GS and Muon claims rest on."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize

import convsim as cs

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments" / "first_order"


def load(name):
    spec = importlib.util.spec_from_file_location(f"p3_{name}", EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- refined schedule ---------------------------------------------------------------------------------------

def test_refined_with_constant_norms_is_linear_decay():
    refined, linear = cs.schedules.refined(0.3, [4.0] * 37), cs.schedules.linear_decay(0.3, 37)
    np.testing.assert_allclose([refined(t) for t in range(40)], [linear(t) for t in range(40)], atol=1e-15)


def test_refined_matches_the_authors_closed_form_up_to_scale():
    """find_closed_form_schedule on the norms plus one repeated analysis norm: w_t Σ_{s>t} w_s / w_last with
    w = G^−2 and a zero last step; ours is the same up to the overall scale (peak lr) without that zero step."""
    G = np.random.default_rng(0).uniform(0.5, 3.0, 20)
    G_ext = np.append(G, G[-1])
    w = G_ext ** -2.0
    tail = np.flip(np.cumsum(np.flip(w)))
    authors = np.array([0.0 if t == G_ext.size - 1 else w[t] * tail[t + 1] / tail[-1] for t in range(G_ext.size)])
    ours = cs.schedules.refined(0.7, tuple(G ** 2))
    steps = np.array([ours(t) for t in range(21)])
    np.testing.assert_allclose(steps, 0.7 * authors / authors.max(), rtol=1e-12)
    assert ours(-1) == 0.0 and ours(25) == 0.0


def test_refined_power_and_validation():
    G2 = (1.0, 4.0, 9.0)
    one = cs.schedules.refined(1.0, G2, power=1.0)
    w = np.array([1.0, 0.5, 1.0 / 3.0, 1.0 / 3.0])
    raw = w[:3] * np.array([w[1:].sum(), w[2:].sum(), w[3:].sum()])
    np.testing.assert_allclose([one(t) for t in range(3)], raw / raw.max(), rtol=1e-12)
    with pytest.raises(cs.ConvsimError):
        cs.schedules.refined(1.0, (1.0, -2.0))
    with pytest.raises(cs.ConvsimError):
        cs.schedules.refined(1.0, ())


def test_refined_schedule_bound_scale_is_closed_form():
    """The bound is a/c + b c in the overall scale c: its minimum 2√(ab) equals a numerical 1-D search."""
    R = load("refined_schedule")
    G2 = R.profile("bump x10", 30)
    lam = np.append(R.refined_reference(G2), 0.1)
    G2_ext = np.append(G2, G2[-1])
    a, b = R.scale_free_terms(lam, G2_ext)
    f = lambda u: R.bound_and_gradient(np.log(lam) + u, G2_ext)[0]
    res = scipy.optimize.minimize_scalar(f, bounds=(-10, 10), method="bounded", options={"xatol": 1e-10})
    assert res.fun == pytest.approx(2 * np.sqrt(a * b), rel=1e-8)


@pytest.mark.parametrize("T", [3, 40])
def test_refined_schedule_bound_gradient_matches_finite_differences(T):
    R = load("refined_schedule")
    rng = np.random.default_rng(T)
    u, G2 = rng.normal(size=T), rng.uniform(0.5, 5.0, size=T)
    value, grad = R.bound_and_gradient(u, G2)
    assert value == pytest.approx(sum(R.scale_free_terms(np.exp(u), G2)), rel=1e-12)
    numeric = scipy.optimize.approx_fprime(u, lambda v: R.bound_and_gradient(v, G2)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6 * np.abs(grad).max())


# --- random scaling -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("scaling, mean", [("exponential", 1.0), ("uniform", 1.0), ("none", 1.0)])
def test_scaling_expectation_moments(scaling, mean):
    m = cs.methods.RandomScalingMomentum(0.1, scaling=scaling)
    assert m.scaling_expectation(lambda s: s) == pytest.approx(mean, rel=1e-9)
    second = {"exponential": 2.0, "uniform": 4.0 / 3.0, "none": 1.0}[scaling]
    assert m.scaling_expectation(lambda s: s * s) == pytest.approx(second, rel=1e-9)


def test_scaling_switch_validation():
    with pytest.raises(cs.ConvsimError):
        cs.methods.RandomScalingMomentum(0.1, scaling="gamma")


@pytest.mark.parametrize("scaling", ["exponential", "uniform", "none"])
def test_random_scaling_step_draws_the_declared_law(backend, scaling):
    """One step from Δ_0 = 0: x_1 − x_0 = −s η g, so s = (x_0 − x_1)/(η g) has the declared law."""
    p = cs.problems.Quadratic(np.ones(3), r0=1.0)
    m = cs.methods.RandomScalingMomentum(0.1, momentum=0.5, scaling=scaling)
    tr = cs.simulate(p, m, 1, 4000, backend=backend, metrics=["dist_sq"], record=[0, 1], seed=3)
    # dist after one step: ‖e (1 − 0.1 s)‖² = r0² (1 − 0.1 s)²
    s = (1.0 - np.sqrt(tr.values("dist_sq")[:, 1])) / 0.1
    if scaling == "none":
        np.testing.assert_allclose(s, 1.0, rtol=1e-6)
    elif scaling == "uniform":
        assert s.min() >= -1e-6 and s.max() <= 2.0 + 1e-6 and abs(s.mean() - 1.0) < 0.05
    else:
        assert s.min() >= -1e-6 and abs(s.mean() - 1.0) < 0.06 and abs(np.var(s) - 1.0) < 0.15


def test_exponential_identity_fails_without_scaling():
    R = load("random_scaling")
    r_exp = R.ratios(cs.methods.RandomScalingMomentum(0.1), {"d": 3, "pairs": 6, "seed": 1})
    r_none = R.ratios(cs.methods.RandomScalingMomentum(0.1, scaling="none"), {"d": 3, "pairs": 6, "seed": 1})
    np.testing.assert_allclose(r_exp, 1.0, rtol=1e-8)
    assert np.max(np.abs(r_none - 1.0)) > 0.05


# --- NAG-GS and Muon closed forms ---------------------------------------------------------------------------

@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_nag_gs_optimal_step_and_edge_from_eigenvalues(kappa):
    N = load("nag_gs")
    lam = np.linspace(1.0 / kappa, 1.0, 4001)

    def radius(alpha):
        return np.max(np.abs(np.linalg.eigvals(N.mode_matrices(alpha, lam, 1.0 / kappa))))

    a_star = N.optimal_alpha(kappa)
    assert radius(a_star) == pytest.approx(N.optimal_rate(kappa), rel=1e-6)
    for a in (0.97 * a_star, 1.003 * a_star):  # a_star is the minimiser (the edge is 0.6% above it at kappa = 100)
        if a < N.alpha_edge(kappa):
            assert radius(a) > radius(a_star)
    edge = N.alpha_edge(kappa)
    assert radius(0.999 * edge) < 1.0 < radius(1.001 * edge)


def test_nag_gs_mode_matrices_match_the_method(backend):
    N = load("nag_gs")
    s = {"d": 6, "kappa": 50.0}
    p = N.problem_for(s)
    tr = cs.simulate(p, N.method_for(N.optimal_alpha(50.0), s), 40, 1, backend=backend, metrics=["dist_sq"],
                     record=np.arange(41))
    ref = N.exact_dist_sq(50.0, 6, 40)
    np.testing.assert_allclose(tr.values("dist_sq")[0], ref, rtol=1e-5 if backend != "numpy" else 1e-9)


def test_muon_row_recursion_matches_the_method(backend):
    M = load("muon")
    s = {"eta": 0.02}
    tr = cs.simulate(M.problem_for(100.0), M.muon(s), 30, 1, backend=backend, metrics=["dist_sq"],
                     record=np.arange(31))
    ref, crossing = M.exact_dist_sq(100.0, 0.02, 30)
    assert crossing == 30  # no row error crosses zero in 30 steps
    np.testing.assert_allclose(tr.values("dist_sq")[0], ref, rtol=1e-5 if backend != "numpy" else 1e-9)


# --- AdAdaGradNorm -------------------------------------------------------------------------------------------

def test_adaptive_batch_without_noise_is_adagrad_norm(backend):
    """σ² = 0: the norm test never asks for more, and with exact gradients the method is AdaGrad-Norm."""
    p = cs.problems.Quadratic(np.geomspace(1.0, 0.1, 5), r0=2.0)
    a = cs.simulate(p, cs.methods.AdagradNormAdaptiveBatch(0.5, b0=0.1, noise_variance=0.0), 30, 2, backend=backend,
                    metrics=["dist_sq"])
    b = cs.simulate(p, cs.methods.AdagradNorm(0.5, b0=0.1), 30, 2, backend=backend, metrics=["dist_sq"])
    np.testing.assert_allclose(a.values("dist_sq"), b.values("dist_sq"), rtol=1e-6)


def test_adaptive_batch_mean_has_the_batch_variance():
    """A batch of 16 (held by σ² = 0 in the test) gives one-step noise of variance σ_noise²/16, as a minibatch mean."""
    p = cs.problems.Quadratic(np.ones(4), noise=cs.noise.Gaussian(1.0), x0=np.zeros(4), x_star=np.zeros(4))
    m = cs.methods.AdagradNormAdaptiveBatch(1.0, b0=1e6, noise_variance=0.0, batch0=16)
    tr = cs.simulate(p, m, 1, 20000, metrics=["dist_sq"], record=[0, 1], seed=5)
    # x_1 = −ĝ/b with b ≈ b0 = 1e6 (‖ĝ‖² is negligible against b0²): E‖x_1‖² = (4/16)/b0²
    assert tr.values("dist_sq")[:, 1].mean() * 1e12 == pytest.approx(4 / 16, rel=0.05)


def test_adaptive_batch_grows_by_the_norm_test():
    """After one step from x_0 the batch is max(B_0, ⌈σ²/(θ²‖ĝ_0‖²)⌉) (exact gradients: ĝ_0 = ∇f(x_0))."""
    p = cs.problems.Quadratic(np.ones(3), r0=1.0)
    m = cs.methods.AdagradNormAdaptiveBatch(0.1, noise_variance=40.0, test_constant=0.5)
    from convsim.methods.base import Oracle

    x0 = np.asarray(p.initial_point())[None, :]
    state = m.step(m.init(x0), Oracle(p, None), 0)
    g_norm_sq = float(np.sum(np.asarray(p.grad(x0)) ** 2))
    assert float(state.batch[0, 0]) == np.ceil(40.0 / (0.25 * g_norm_sq))


# --- the shared SineWell test function ---------------------------------------------------------------------
def test_sine_well_gradient_and_noise(backend):
    p = cs.problems.SineWell(dim=5, sigma=0.5, start=1.5)
    xp = cs.backend.namespace(backend)
    x = np.random.default_rng(1).normal(size=(3, 5))
    grad = cs.backend.to_numpy(p.grad(cs.backend.asarray(xp, x, cs.backend.dtype_of(xp, "float64"))))
    numeric = np.stack([scipy.optimize.approx_fprime(row, lambda v: float(np.sum(v * v / 2 + np.sin(2 * v) ** 2 / 2)),
                                                     1e-7) for row in x])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)
    # one SGD step from x0 with step 1 lands at x0 - grad - sigma z: its mean and spread over replicas
    tr = cs.simulate(p, cs.methods.SGD(1.0), 1, 4096, backend=backend, metrics={"x0": lambda q, y: y[:, 0]},
                     record=[1], seed=2)
    moved = tr.values("x0")[:, -1]
    assert abs(moved.mean() - (1.5 - (1.5 + np.sin(6.0)))) < 4 * 0.5 / 64
    assert moved.std() == pytest.approx(0.5, rel=0.05)
