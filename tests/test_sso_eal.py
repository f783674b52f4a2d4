"""SSO (target-space surrogates) and the sketched exact-augmented-Lagrangian Newton method: closed forms,
peer computations (numpy least squares and linear solves, finite differences) and the claims' references."""

import importlib.util
import itertools
from pathlib import Path

import numpy as np

import convsim as cs
from convsim.methods.augmented_lagrangian import SketchedAugmentedLagrangianNewton
from convsim.methods.base import Oracle
from convsim.methods.surrogate import TargetSurrogateSGD, sso_preconditioner
from convsim.problems.constrained import QuadraticEquality

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments" / "first_order"


def load(name):
    spec = importlib.util.spec_from_file_location(f"sso_eal_{name}", EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _ExactOracle(Oracle):
    """The full-batch gradient in place of a minibatch one (a deterministic step to compare with closed forms)."""

    def stochastic_grad(self, x):
        return self.problem.grad(x)


def _least_squares():
    return cs.problems.LeastSquares.random(12, 3, spectrum=[1.0, 0.4, 0.1], noise_std=0.3, seed=4)


def test_sso_step_is_the_preconditioned_gradient_step():
    p = _least_squares()
    theta = np.random.default_rng(0).standard_normal((2, 3))
    gram = p.A.T @ p.A
    eta, m = 0.3, 7
    alpha = eta / np.linalg.eigvalsh(gram)[-1]
    method = TargetSurrogateSGD(eta, m, alpha)
    state = method.step(method.init(theta), _ExactOracle(p, None), 0)
    expected = theta - p.grad(theta) @ sso_preconditioner(gram, eta, m, alpha).T
    np.testing.assert_allclose(state.x, expected, rtol=1e-12)


def test_sso_with_exact_inner_solve_is_projected_sgd_in_target_space():
    """m → ∞: X θ_{t+1} = Π(z_t − η ∇ℓ(z_t)), the Euclidean projection (numpy lstsq) of the target-space step."""
    p = _least_squares()
    theta = np.random.default_rng(1).standard_normal((1, 3))
    eta = 0.2
    alpha = eta / np.linalg.eigvalsh(p.A.T @ p.A)[-1]
    method = TargetSurrogateSGD(eta, 3000, alpha)
    new = method.step(method.init(theta), _ExactOracle(p, None), 0).x
    z = p.A @ theta[0]
    z_half = z - eta * (z - p.y) / p.n            # ∇ℓ(z) of ℓ(z) = (1/2n)‖z − y‖²
    projected = np.linalg.lstsq(p.A, z_half, rcond=None)[0]
    np.testing.assert_allclose(new[0], projected, rtol=1e-9)


def test_sso_one_inner_step_is_sgd_and_the_ablation_repeats_the_gradient(backend):
    p = cs.problems.LeastSquares.random(10, 3, seed=2)
    alpha = 0.05
    sso = cs.simulate(p, TargetSurrogateSGD(0.5, 1, alpha), 20, 3, backend=backend, metrics=["dist_sq"], seed=5)
    sgd = cs.simulate(p, cs.methods.SGD(alpha), 20, 3, backend=backend, metrics=["dist_sq"], seed=5)
    np.testing.assert_allclose(sso.values("dist_sq"), sgd.values("dist_sq"), rtol=1e-9)
    stale = cs.simulate(p, TargetSurrogateSGD(0.5, 4, alpha, proximal=False), 20, 3, backend=backend,
                        metrics=["dist_sq"], seed=5)
    big = cs.simulate(p, cs.methods.SGD(4 * alpha), 20, 3, backend=backend, metrics=["dist_sq"], seed=5)
    np.testing.assert_allclose(stale.values("dist_sq"), big.values("dist_sq"), rtol=1e-9)


def test_sso_exact_recursion_matches_enumeration_of_every_sample_path():
    S = load("sso")
    p = cs.problems.LeastSquares.random(3, 2, noise_std=0.5, seed=7)
    P = sso_preconditioner(p.A.T @ p.A, 0.4, 3, 0.4 / np.linalg.eigvalsh(p.A.T @ p.A)[-1])
    steps = 4
    total = np.zeros(steps + 1)
    for path in itertools.product(range(p.n), repeat=steps):
        theta = p.initial_point().copy()
        values = [float(p.value(theta[None, :])[0]) - p.f_star]
        for i in path:
            theta = theta - P @ (p.A[i] * (p.A[i] @ theta - p.y[i]))
            values.append(float(p.value(theta[None, :])[0]) - p.f_star)
        total += np.array(values)
    np.testing.assert_allclose(S.exact_suboptimality(p, P, steps), total / p.n ** steps, rtol=1e-10)


# -- the constrained toys and the sketched Newton method ---------------------------------------------------------

def test_linear_constraint_solution_is_the_kkt_solve():
    p = QuadraticEquality.random(4, 2, seed=0)
    K = np.block([[p.Q, p.C.T], [p.C, np.zeros((2, 2))]])
    np.testing.assert_allclose(p.x_star, np.linalg.solve(K, np.concatenate([-p.q, p.e])), atol=1e-10)


def test_sphere_toy_derivatives_match_finite_differences():
    p = QuadraticEquality.random(4, 1, sphere_radius=1.0, seed=2)
    rng = np.random.default_rng(3)
    x, lam, v = rng.standard_normal((1, 4)), rng.standard_normal((1, 2)), rng.standard_normal((1, 4))
    h = 1e-6
    jac_fd = (p.constraints(x + h * v) - p.constraints(x - h * v)) / (2 * h)
    np.testing.assert_allclose(jac_fd[0], p.jacobian(x)[0] @ v[0], rtol=1e-7)
    hess = p.objective_hessian(x) + p.constraint_curvature(x, lam)
    lgrad_fd = (p.lagrangian_grad(x + h * v, lam) - p.lagrangian_grad(x - h * v, lam)) / (2 * h)
    np.testing.assert_allclose(lgrad_fd[0], hess[0] @ v[0], rtol=1e-6)
    assert np.linalg.norm(p.grad(p.x_star[None, :])) < 1e-10
    assert abs(np.sum(p.x_star[:4] ** 2) - 1.0) < 1e-12


def test_merit_gradient_matches_finite_differences():
    p = QuadraticEquality.random(4, 1, sphere_radius=1.0, seed=2)
    method = SketchedAugmentedLagrangianNewton(penalty=3.0, gradient_penalty=0.2)
    w = p.x_star[None, :] + 0.3 * np.random.default_rng(4).standard_normal((1, p.dim))
    K, b, grad_l, hess_l, G, c = method.kkt(p, w)
    analytic = method.merit_gradient(grad_l, hess_l, G, c)[0]
    h = 1e-6
    numeric = [(method.merit(p, w + h * e) - method.merit(p, w - h * e))[0] / (2 * h)
               for e in np.eye(p.dim)[:, None, :]]
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    assert np.allclose(K[0], K[0].T) and np.allclose(K[0], p.kkt_matrix_host(w[0]))


def test_kaczmarz_solver_converges_to_the_linear_solve(backend):
    p = QuadraticEquality.random(4, 2, seed=0)
    xp = cs.backend.namespace(backend)
    w = p.initial_point()[None, :]
    method = SketchedAugmentedLagrangianNewton()
    K, b = method.kkt(p, w)[:2]
    rng = cs.random.ReplicaStreams(xp, 0, 0, 1)
    d = method.sketch_solve(xp.asarray(K), xp.asarray(b), 3000, rng)
    np.testing.assert_allclose(np.asarray(d)[0], np.linalg.solve(K[0], b[0]), rtol=1e-8, atol=1e-10)


def test_many_sketches_give_newton_quadratic_convergence():
    """τ → ∞ is exact Newton on the KKT system: e_{k+1} = O(e_k²) on the nonlinear toy."""
    p = QuadraticEquality.random(4, 1, sphere_radius=1.0, seed=2, start_distance=0.1)
    tr = cs.simulate(p, SketchedAugmentedLagrangianNewton(sketch_steps=4000, line_search=False), 3, 1,
                     metrics=["dist_sq"], record=[0, 1, 2, 3], seed=0)
    e = np.sqrt(tr.values("dist_sq")[0])
    assert e[2] < 10 * e[1] ** 2 and e[2] < 1e-3 * e[0]


def test_line_search_takes_the_unit_step_for_an_exact_direction_with_a_large_penalty(backend):
    """On a quadratic with linear constraints L_{mu,nu} is quadratic in w and minimized at w* for a large mu: the
    exact Newton step halves the merit's first-order decrease, so Armijo (beta < 1/2) accepts alpha = 1."""
    p = QuadraticEquality.random(4, 2, seed=0, start_distance=0.5)
    tr = cs.simulate(p, SketchedAugmentedLagrangianNewton(sketch_steps=3000, penalty=100.0), 1, 2, backend=backend,
                     metrics=["dist_sq"], record=[0, 1], seed=0)
    assert np.all(tr.values("dist_sq")[:, 1] < 1e-12)


def test_lagrangian_merit_stalls_the_line_search_where_the_penalized_one_converges():
    E = load("eal_sketch")
    kept = cs.simulate(E.global_toy(), SketchedAugmentedLagrangianNewton(sketch_steps=100, penalty=10.0), 10, 8,
                       metrics=["dist_sq"], seed=0)
    bare = cs.simulate(E.global_toy(), SketchedAugmentedLagrangianNewton(sketch_steps=100, penalty=0.0,
                                                                          gradient_penalty=0.0), 10, 8,
                       metrics=["dist_sq"], seed=0)
    assert np.all(kept.values("dist_sq")[:, -1] < 1e-12) and np.all(bare.values("dist_sq")[:, -1] > 1e-6)


def test_eal_exact_first_moment_recursion_matches_the_method_mean(backend):
    E = load("eal_sketch")
    tr = cs.simulate(E.linear_toy(), SketchedAugmentedLagrangianNewton(sketch_steps=3, line_search=False), 4, 4096,
                     backend=backend, metrics={"alignment": E.alignment}, record=[0, 1, 2, 3, 4], seed=1)
    mean, se = tr.values("alignment").mean(0), tr.values("alignment").std(0) / 64
    ref = E.exact_alignment(3, 4)
    assert np.all(np.abs(mean - ref) < 4 * se + 1e-12)
