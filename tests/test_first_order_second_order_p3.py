"""P3 first-order / second-order claims (issue #19): the polynomial preconditioner and the closed forms and
inequalities the poly-precond claim rests on."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import convsim as cs
from convsim.methods.polynomial import elementary_symmetric_from_power_sums, symmetric_polynomial_preconditioner

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments" / "first_order"


def load(name):
    spec = importlib.util.spec_from_file_location(f"p3so_{name}", EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sigma(values, k):
    """σ_k by brute force over k-subsets (a path independent of Newton's identities and numpy.poly)."""
    from itertools import combinations

    return float(sum(np.prod(c) for c in combinations(values, k))) if k else 1.0


def test_newton_identities_give_the_elementary_symmetric_polynomials():
    lam = np.random.default_rng(0).uniform(0.5, 3.0, 7)
    got = elementary_symmetric_from_power_sums([np.sum(lam ** k) for k in range(1, 8)])
    np.testing.assert_allclose(got, [sigma(lam, k) for k in range(8)], rtol=1e-10)


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_preconditioner_is_the_gradient_of_sigma(degree):
    """P_τ(B) = ∇σ_{τ+1}(B): on eigenvalue λ_j its value is ∂σ_{τ+1}/∂λ_j, checked by central finite differences."""
    lam = np.random.default_rng(degree).uniform(0.5, 4.0, 6)
    c, top = symmetric_polynomial_preconditioner([np.sum(lam ** k) for k in range(1, degree + 2)], degree)
    assert top == pytest.approx(sigma(lam, degree + 1), rel=1e-10)
    h = 1e-6
    for j in range(lam.size):
        up, down = lam.copy(), lam.copy()
        up[j] += h
        down[j] -= h
        fd = (sigma(up, degree + 1) - sigma(down, degree + 1)) / (2 * h)
        assert np.polyval(c[::-1], lam[j]) == pytest.approx(fd, rel=1e-6)


def test_the_rate_bound_the_claim_tests_holds_on_random_spectra():
    """1 − λ_j σ_τ(λ_{−j})/σ_{τ+1}(λ) ∈ [0, 1 − λ_n/(λ_{τ+1} + ... + λ_n)] for every j (the derivation in the
    claim's docstring), and the worst factor is the smallest eigenvalue's."""
    P = load("poly_precond")
    rng = np.random.default_rng(1)
    for _ in range(50):
        lam = np.sort(np.exp(rng.uniform(0.0, 6.0, 8)))[::-1]
        for tau in range(0, 4):
            f = P.contraction_factors(lam, tau)
            assert np.all(f >= -1e-12)
            assert f.max() <= 1.0 - lam[-1] / lam[tau:].sum() + 1e-12
            assert np.argmax(f) == lam.size - 1


def test_degree_zero_is_gd_with_step_one_over_trace(backend):
    p = cs.problems.Quadratic(cs.spectra.geometric(6, L=3.0, mu=0.1), rotate=True, seed=2)
    c, top = symmetric_polynomial_preconditioner([p.constants()["trace_H"]], 0)
    a = cs.simulate(p, cs.methods.PolynomialPreconditionedGD(1.0 / top, c), 25, 1, backend=backend,
                    metrics=["dist_sq"], record=np.arange(26))
    b = cs.simulate(p, cs.methods.GD(1.0 / top), 25, 1, backend=backend, metrics=["dist_sq"], record=np.arange(26))
    np.testing.assert_allclose(a.values("dist_sq"), b.values("dist_sq"), rtol=1e-12)


def test_method_matches_the_dense_preconditioned_iteration(backend):
    """Horner through HVPs equals x ← x − γ P(H) H (x − x*) with the dense P(H) on the host."""
    p = cs.problems.Quadratic(cs.spectra.geometric(5, L=4.0, mu=0.5), rotate=True, seed=4)
    c = (0.7, -0.2, 0.03)
    H = p.hessian()
    PH = sum(ci * np.linalg.matrix_power(H, i) for i, ci in enumerate(c)) @ H
    e = p.initial_point() - p.x_star
    ref = []
    for _ in range(13):
        ref.append(float(e @ e))
        e = e - 0.3 * PH @ e
    tr = cs.simulate(p, cs.methods.PolynomialPreconditionedGD(0.3, c), 12, 1, backend=backend, metrics=["dist_sq"],
                     record=np.arange(13))
    np.testing.assert_allclose(tr.values("dist_sq")[0], ref, rtol=1e-5 if backend != "numpy" else 1e-11)


def test_poly_precond_closed_form_matches_the_method(backend):
    P = load("poly_precond")
    p = P.problem_for(20)
    tr = cs.simulate(p, P.method_for(p), 60, 1, backend=backend, metrics=["dist_sq"], record=np.arange(61))
    np.testing.assert_allclose(tr.values("dist_sq")[0], P.exact_dist_sq(20, 60), rtol=1e-5 if backend != "numpy" else 1e-8)


def test_degree_dropped_mutation_is_the_lower_degree_preconditioner():
    P = load("poly_precond")
    p = P.problem_for(20)
    lowered = P._degree_dropped(P.method_for(p, 2))
    expected = P.method_for(p, 1)
    np.testing.assert_allclose(lowered.coefficients, expected.coefficients, rtol=1e-12)
    assert lowered.step_size(0) == pytest.approx(expected.step_size(0), rel=1e-12)


def test_bad_coefficients_are_refused():
    with pytest.raises(cs.ConvsimError):
        cs.methods.PolynomialPreconditionedGD(0.1, ())
    with pytest.raises(cs.ConvsimError):
        symmetric_polynomial_preconditioner([-1.0, 2.0], 1)


# --- lazy regularized Newton ---------------------------------------------------------------------------------

def _fd_hessian(problem, x, h=1e-6):
    d = x.size
    cols = []
    for j in range(d):
        e = np.zeros(d)
        e[j] = h
        cols.append((problem.grad((x + e)[None])[0] - problem.grad((x - e)[None])[0]) / (2 * h))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("period", [1, 3])
def test_lazy_newton_matches_a_dense_reference(backend, period):
    """Snapshot Hessian (central differences of the gradient) every `period` steps, fresh gradient, λ = √(M‖g‖)."""
    p = cs.problems.LogisticRegression.random(40, 4, reg=1e-2, seed=1)
    M = 0.5
    x = p.initial_point().copy()
    ref = []
    for t in range(7):
        ref.append(float(np.sum((x - p.x_star) ** 2)))
        if t % period == 0:
            H = _fd_hessian(p, x)
        g = p.grad(x[None])[0]
        x = x - np.linalg.solve(H + np.sqrt(M * np.linalg.norm(g)) * np.eye(4), g)
    tr = cs.simulate(p, cs.methods.LazyRegularizedNewton(M, period), 6, 1, backend=backend, metrics=["dist_sq"],
                     record=np.arange(7))
    np.testing.assert_allclose(tr.values("dist_sq")[0], ref, rtol=1e-5 if backend != "numpy" else 1e-7)


def test_lazy_newton_converges_quadratically_with_fresh_hessians():
    """period 1, M → 0 is Newton's method: the gradient norm squares (up to a constant) each step until rounding."""
    p = cs.problems.LogisticRegression.random(60, 5, reg=1e-1, seed=2)
    tr = cs.simulate(p, cs.methods.LazyRegularizedNewton(1e-12, 1), 6, 1, metrics=["grad_norm_sq"],
                     record=np.arange(7))
    g = np.sqrt(tr.values("grad_norm_sq")[0])
    assert g[4] < 1e-15
    assert np.all(g[1:4] < 5.0 * g[:3] ** 2)   # quadratic: ‖g_{k+1}‖ ≤ C ‖g_k‖², C < 5 here


def test_lazy_newton_with_a_stale_hessian_is_only_linear():
    """period 100 (the start's Hessian kept): the gradient shrinks by a roughly constant factor, not quadratically."""
    p = cs.problems.LogisticRegression.random(60, 5, reg=1e-1, seed=2)
    tr = cs.simulate(p, cs.methods.LazyRegularizedNewton(1e-12, 100), 8, 1, metrics=["grad_norm_sq"],
                     record=np.arange(9))
    g = np.sqrt(tr.values("grad_norm_sq")[0])
    ratios = g[4:8] / g[3:7]
    assert np.all(ratios < 0.9) and np.all(ratios > 1e-4)


@pytest.mark.parametrize("period", [1, 4, 7])
def test_lazy_newton_counts_steps_and_refreshes(period):
    """refreshes = ⌈t/m⌉ after t steps, and the paper's cost is charged from those counters."""
    from convsim.engine import StateMetric
    from convsim.methods.lazy_newton import arithmetic_cost

    p = cs.problems.LogisticRegression.random(30, 3, reg=1e-2, seed=4)
    metrics = {"refreshes": StateMetric(lambda q, x, st: st.refreshes),
               "cost": StateMetric(lambda q, x, st: arithmetic_cost(st, q.dim, q.n * q.dim))}
    tr = cs.simulate(p, cs.methods.LazyRegularizedNewton(0.1, period), 20, 2, metrics=metrics, record=np.arange(21))
    t = np.arange(21)
    np.testing.assert_array_equal(tr.values("refreshes"), np.broadcast_to(np.ceil(t / period), (2, 21)))
    G, d = 30 * 3, 3
    np.testing.assert_allclose(tr.values("cost")[0], t * (G + d * d) + np.ceil(t / period) * (d * G + d ** 3))


def test_lazy_hessian_claim_charges_the_period_it_ran_with():
    """Under the period ×4 mutation the run labelled m = 1 is charged as the method that ran (period 4, M of m = 1)."""
    L = load("lazy_hessian")
    s = dict(L.QUICK, max_m=1)
    mutated = L.experiment(s, cs.Context(mutation=L.PERIOD_X4))
    p = L.problem_for(s["n"], s["d"])
    m1 = L.method_for(p, 1)
    ran = cs.methods.LazyRegularizedNewton(m1.regularization, 4)
    tr = cs.simulate(p, ran, s["steps"], 1, metrics={"grad_norm_sq": None, "cost": L.cost_metric(p)},
                     record=np.arange(s["steps"] + 1))
    direct = cs.checks.complexity.hitting_costs(tr, "grad_norm_sq", [L.EPS ** 2], cost="cost").values[0, 0]
    assert mutated.values[0, 0] == pytest.approx(direct, rel=1e-12)
    assert mutated.values[0, 0] < L.experiment(s, cs.Context()).values[0, 0]  # fewer Hessians: cheaper
