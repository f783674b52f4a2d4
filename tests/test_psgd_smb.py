"""PSGD's Lie-group (Newton) preconditioner and SMB's model-building step (issue #19, claim psgd-smb).

Peers: the authors' update rules restated here per replica in torch (lixilinx/psgd_torch
``update_precond_newton_math_`` + ``norm_lower_bound`` of Jan 2024; sibirbil/SMB ``SMB.step_smb`` with a
loss closure and autograd), the reductions to SGD, the same-minibatch property, and backend invariance.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import convsim as cs
from convsim.methods.lie_preconditioner import LieGroupPSGD, lie_group_fit_step, spectral_norm_lower_bound
from convsim.methods.model_building import StochasticModelBuilding, model_step

torch = pytest.importorskip("torch")
EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments" / "first_order"


def load(name):
    spec = importlib.util.spec_from_file_location(f"psgd_smb_{name}", EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- PSGD -------------------------------------------------------------------------------------------------------

def torch_norm_lower_bound(A):
    """The authors' bound restated: the heaviest column (or row) c, x = cᵀA (or A r), then ‖x̂ Aᵀ‖ (or ‖Aᵀ x̂‖)."""
    aa = A * A
    value0, i = torch.max(aa.sum(dim=0), 0)
    value1, j = torch.max(aa.sum(dim=1), 0)
    if value0 > value1:
        x = A[:, i] @ A
        return torch.linalg.vector_norm((x / torch.linalg.vector_norm(x)) @ A.T)
    x = A @ A[j]
    n = torch.linalg.vector_norm(x)
    return torch.linalg.vector_norm(A.T @ (x / n)) if n > 0 else n


def torch_newton_fit(Q, v, h, step):
    a = Q @ h
    b = torch.linalg.solve_triangular(Q.T, v, upper=False)
    grad = torch.triu(a @ a.T - b @ b.T)
    mu = step / (torch_norm_lower_bound(grad) + torch.finfo(Q.dtype).tiny)
    return Q - mu * grad @ Q


def test_spectral_norm_lower_bound_matches_the_authors_and_bounds_the_norm():
    A = np.random.default_rng(0).standard_normal((50, 5, 5))
    A[:25] = np.triu(A[:25])
    got = spectral_norm_lower_bound(A)
    peer = np.array([float(torch_norm_lower_bound(torch.tensor(a))) for a in A])
    np.testing.assert_allclose(got, peer, rtol=1e-12)
    true = np.linalg.norm(A, 2, axis=(1, 2))
    assert np.all(got <= true * (1 + 1e-12)) and np.all(got >= true / np.sqrt(2))
    u = np.random.default_rng(1).standard_normal((3, 5))
    rank_one = u[:, :, None] * u[:, None, :]
    np.testing.assert_allclose(spectral_norm_lower_bound(rank_one), np.sum(u * u, axis=1), rtol=1e-12)


def test_lie_group_fit_step_matches_the_authors_rule_per_replica():
    rng = np.random.default_rng(2)
    R, d = 6, 5
    Q = np.triu(rng.standard_normal((R, d, d))) + 3 * np.eye(d)
    v, h = rng.standard_normal((R, d)), rng.standard_normal((R, d))
    got = lie_group_fit_step(Q, v, h, 0.03)
    for r in range(R):
        peer = torch_newton_fit(torch.tensor(Q[r]), torch.tensor(v[r][:, None]), torch.tensor(h[r][:, None]), 0.03)
        np.testing.assert_allclose(got[r], peer.numpy(), rtol=1e-12, atol=1e-14)
    assert np.allclose(np.tril(got, -1), 0.0)  # the step stays in the triangular group


def test_psgd_trajectory_matches_the_authors_newton_class_restated():
    """10 PSGD steps on least squares: the fit on (v, Hv) with the run's own v, then x − lr QᵀQ g."""
    problem = cs.problems.LeastSquares.random(40, 3, spectrum=[1.0, 0.1, 0.01], batch_size=40, seed=0,
                                              sampling="shuffle-once")
    method = LieGroupPSGD(step_size=0.3, precond_lr=0.2)
    x0 = problem.initial_point()[None, :]
    H = torch.tensor(problem.A.T @ problem.A / problem.n)
    A, b = torch.tensor(problem.A), torch.tensor(problem.y)

    class Recording:  # forwards the run's draws, keeping the probes v
        def __init__(self, rng):
            self.rng, self.probes = rng, []

        def __getattr__(self, name):
            return getattr(self.rng, name)

        def normal(self, *shape):
            out = self.rng.normal(*shape)
            self.probes.append(np.array(out, copy=True))
            return out

    from convsim.methods.base import Oracle
    from convsim.random import ReplicaStreams

    rng = Recording(ReplicaStreams(np, 0, 0, 1))
    oracle = Oracle(problem, rng)
    state = method.init(x0)
    theta, Q = torch.tensor(x0[0].copy()), torch.eye(3, dtype=torch.float64)
    for t in range(10):
        state = method.step(state, oracle, t)
        v = torch.tensor(rng.probes[-1][0])[:, None]
        Q = torch_newton_fit(Q, v, H @ v, 0.2)
        grad = (A.T @ (A @ theta - b) / problem.n)[:, None]  # the full batch: every minibatch here
        theta = theta - 0.3 * (Q.T @ (Q @ grad))[:, 0]
    np.testing.assert_allclose(state.x[0], theta.numpy(), rtol=1e-10)
    np.testing.assert_allclose(state.Q[0], Q.numpy(), rtol=1e-10, atol=1e-13)


def test_psgd_with_the_preconditioner_frozen_at_identity_is_sgd():
    problem = cs.problems.LeastSquares.random(64, 4, batch_size=4, seed=3)
    a = cs.simulate(problem, LieGroupPSGD(step_size=0.05, update_probability=0.0), steps=30, replicas=4,
                    metrics=["dist_sq"])
    b = cs.simulate(problem, cs.methods.SGD(0.05), steps=30, replicas=4, metrics=["dist_sq"])
    np.testing.assert_allclose(a.values("dist_sq"), b.values("dist_sq"), rtol=1e-12)


def test_psgd_fit_fixed_point_is_the_inverse_hessian():
    """At QᵀQ = H⁻¹ the expected relative gradient E[Q h hᵀ Qᵀ − Q⁻ᵀ v vᵀ Q⁻¹] vanishes (Gaussian v), and it
    does not at 1.2 H⁻¹: checked with the exact second moments E[v vᵀ] = I."""
    rng = np.random.default_rng(4)
    M = rng.standard_normal((4, 4))
    H = M @ M.T + 0.5 * np.eye(4)
    for scale, zero in ((1.0, True), (1.2, False)):
        Q = np.linalg.cholesky(scale * np.linalg.inv(H)).T  # upper triangular with QᵀQ = L Lᵀ = scale·H⁻¹
        assert np.allclose(np.tril(Q, -1), 0) and np.allclose(Q.T @ Q, scale * np.linalg.inv(H))
        Qi = np.linalg.inv(Q)
        expected_gradient = Q @ H @ H @ Q.T - Qi.T @ Qi
        assert np.allclose(expected_gradient, 0, atol=1e-10) == zero


# -- SMB --------------------------------------------------------------------------------------------------------

def torch_smb_step(params, closure, lr=1.0, eta=0.99, c=0.1):
    """The authors' SMB.step_smb restated for one parameter tensor (closure: the same minibatch's loss)."""
    loss = closure(params)
    (g,) = torch.autograd.grad(loss, params)
    gnorm = torch.linalg.vector_norm(g)
    cond = loss.item() - c * lr * gnorm.item() ** 2
    s = -lr * g
    trial = (params + s).detach().requires_grad_(True)
    loss_t = closure(trial)
    if gnorm < 1e-8 or loss_t.item() <= cond:
        return trial.detach(), 0
    (gt,) = torch.autograd.grad(loss_t, trial)
    y = gt - g
    ys, ss, yy, yg, gg, sg = s @ y, s @ s, y @ y, y @ g, g @ g, s @ g
    sigma = 0.5 * (torch.sqrt(ss) * (torch.sqrt(yy) + torch.sqrt(gg) / eta) - ys)
    theta = (ys + 2 * sigma) ** 2 - ss * yy
    cg = -ss / (2 * sigma)
    cs_ = cg / theta * (-(ys + 2 * sigma) * yg + yy * sg)
    cy = cg / theta * (-(ys + 2 * sigma) * sg + ss * yg)
    return (params + cs_ * s + cg * g + cy * y).detach(), 1


@pytest.mark.parametrize("lr", [0.5, 20.0])
def test_smb_trajectory_matches_the_authors_step_restated(lr):
    """Full-batch minibatches (every batch is all rows), logistic regression: accepted and model steps alike."""
    problem = cs.problems.LogisticRegression.random(32, 3, reg=1e-2, batch_size=32, seed=5, sampling="shuffle-once",
                                                    separation=2.0)
    A, y = torch.tensor(problem.A), torch.tensor(problem.y)

    def closure(w):
        return torch.mean(torch.nn.functional.softplus(-y * (A @ w))) + 0.5 * problem.reg * (w @ w)

    assert abs(float(closure(torch.tensor(problem.x_star))) - problem.f_star) < 1e-12  # same loss as convsim's
    trace_x, w, model_steps = [], torch.tensor(problem.initial_point() + 1.0).requires_grad_(True), 0
    for _ in range(15):
        w_next, used = torch_smb_step(w, closure, lr=lr)
        model_steps += used
        w = w_next.requires_grad_(True)
        trace_x.append(w.detach().numpy().copy())
    trace = cs.simulate(problem, StochasticModelBuilding(lr), steps=15, replicas=1, x0=problem.initial_point() + 1.0,
                        metrics={"x0": lambda p, x: x[:, 0], "x1": lambda p, x: x[:, 1]}, record=np.arange(16))
    np.testing.assert_allclose(trace.values("x0")[0, 1:], [v[0] for v in trace_x], rtol=1e-9)
    np.testing.assert_allclose(trace.values("x1")[0, 1:], [v[1] for v in trace_x], rtol=1e-9)
    if lr > 1:
        assert model_steps > 0  # the model branch was exercised


def test_smb_two_evaluations_share_one_minibatch():
    """On a quadratic minibatch loss f_ξ(y) − f_ξ(x) = ½(g_x + g_y)ᵀ(y − x) exactly; another minibatch breaks it."""
    problem = cs.problems.LeastSquares.random(200, 5, batch_size=3, seed=6)
    from convsim.methods.base import Oracle
    from convsim.random import ReplicaStreams

    oracle = Oracle(problem, ReplicaStreams(np, 0, 0, 64))
    x = np.repeat(problem.initial_point()[None, :], 64, axis=0)
    f, g, y, f_y, g_y = oracle.same_sample_values_and_grads(x, lambda grad: x - 0.7 * grad)
    np.testing.assert_allclose(f_y - f, 0.5 * np.sum((g + g_y) * (y - x), axis=1), rtol=1e-10, atol=1e-14)
    f_other, _ = problem.stochastic_value_and_grad(y, oracle.rng)
    assert not np.allclose(f_other - f, 0.5 * np.sum((g + g_y) * (y - x), axis=1))


def test_smb_without_the_model_step_is_sgd_on_the_same_stream():
    problem = cs.problems.LeastSquares.random(64, 4, batch_size=4, seed=7)
    a = cs.simulate(problem, StochasticModelBuilding(0.1, model_step=False), steps=30, replicas=4, metrics=["dist_sq"])
    b = cs.simulate(problem, cs.methods.SGD(0.1), steps=30, replicas=4, metrics=["dist_sq"])
    np.testing.assert_allclose(a.values("dist_sq"), b.values("dist_sq"), rtol=1e-12)


def test_smb_model_step_minimises_its_model_on_a_quadratic_direction():
    """With y = H s the model step is finite and, for η → 1 and s along an eigenvector, a damped Newton step."""
    lam = 4.0
    g = np.array([[1.0, 0.0]])
    s = -1.0 * g
    step = model_step(s, g, lam * s, 0.999999)
    assert np.all(np.isfinite(step)) and step[0, 0] < 0 and -step[0, 0] <= 1.0 / lam * (1 + 1e-5)


# -- backends and claims ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", [LieGroupPSGD(step_size=0.1, precond_lr=0.1, update_probability=0.5),
                                    StochasticModelBuilding(2.0)])
def test_methods_run_on_every_backend(backend, method):
    problem = cs.problems.LeastSquares.random(64, 3, spectrum=[1.0, 0.1, 0.01], batch_size=4, seed=8)
    ref = cs.simulate(problem, method, steps=12, replicas=3, metrics=["dist_sq"])
    got = cs.simulate(problem, method, steps=12, replicas=3, metrics=["dist_sq"], backend=backend)
    np.testing.assert_allclose(got.values("dist_sq"), ref.values("dist_sq"), rtol=1e-9)


def test_fit_claim_metric_is_one_at_the_closed_form_and_off_elsewhere():
    module = load("psgd_smb")
    problem = module.problem_for(4, 100.0)
    H = problem.A.T @ problem.A / problem.n

    class State:
        Q = np.linalg.cholesky(np.linalg.inv(H)).T[None]  # QᵀQ = H⁻¹

    for j in range(4):
        np.testing.assert_allclose(module._RatioMetric(j)(problem, None, State), [1.0], rtol=1e-10)
    State.Q = np.linalg.cholesky(np.linalg.inv(H) + 0.01 * np.eye(4)).T[None]
    assert abs(module._RatioMetric(3)(problem, None, State)[0] - 1.0) > 1e-3
