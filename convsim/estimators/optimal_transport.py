"""Entropic optimal transport on the dual: Sinkhorn, and Sinkhorn-Newton-Sparse (SNS).

The dual (Lyapunov) potential of the entropic problem between marginals r, c with cost C and inverse
regularization η is

    f(x, y) = −(1/η) Σ_ij exp(η(−C_ij + x_i + y_j) − 1) + Σ_i r_i x_i + Σ_j c_j y_j,

concave, with plan P_ij = exp(η(−C_ij + x_i + y_j) − 1), gradient (r − P1, c − Pᵀ1) and Hessian
−η [[diag(P1), P], [Pᵀ, diag(Pᵀ1)]].  Sinkhorn maximizes f exactly in x, then in y (matrix scaling);
SNS (Tang et al., arXiv:2401.12253, Algorithm 1) stops Sinkhorn early and then takes Newton steps whose
Hessian keeps only the largest entries of P, with a backtracking line search on f.

Everything is batched over replicas: arrays of shape (R, n, n) for costs, (R, n) for potentials.  The
algorithms run on the host in float64 (the Newton stage needs dense linear solves and the claims resolve
errors down to 1e-12), so they take NumPy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import positive, require


def logsumexp(a, axis):
    """log Σ exp(a) along ``axis`` (a tuple allowed), shifted by the maximum.  scipy.special.logsumexp gives the
    same values but costs ~1 ms per call on (8, 32, 32) through its array-API dispatch, and Sinkhorn calls it twice
    per sweep for hundreds of sweeps."""
    top = a.max(axis=axis, keepdims=True)
    return np.squeeze(top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True)), axis=axis)


@dataclass(frozen=True)
class EntropicOT:
    """Uniform marginals, inverse regularization ``eta`` (the paper's η); costs are given per replica."""

    eta: float

    def __post_init__(self):
        positive("eta", self.eta)

    def log_plan(self, cost, x, y):
        return self.eta * (-cost + x[:, :, None] + y[:, None, :]) - 1.0

    def plan(self, cost, x, y):
        return np.exp(self.log_plan(cost, x, y))

    def marginals(self, cost):
        n = cost.shape[-1]
        return np.full(cost.shape[:2], 1.0 / n), np.full((cost.shape[0], n), 1.0 / n)

    def potential(self, cost, x, y):
        r, c = self.marginals(cost)
        mass = np.exp(logsumexp(self.log_plan(cost, x, y), axis=(1, 2)))
        return -mass / self.eta + (r * x).sum(1) + (c * y).sum(1)

    def gradient(self, cost, x, y):
        r, c = self.marginals(cost)
        P = self.plan(cost, x, y)
        return r - P.sum(2), c - P.sum(1)

    def gradient_norm(self, cost, x, y):
        """‖∇f‖₁ = ‖P1 − r‖₁ + ‖Pᵀ1 − c‖₁, the marginal violation (the paper's convergence measure)."""
        gx, gy = self.gradient(cost, x, y)
        return np.abs(gx).sum(1) + np.abs(gy).sum(1)

    def row_update(self, cost, y):
        """argmax_x f(x, y): the Sinkhorn row scaling, in log form (stable for large η)."""
        r, _ = self.marginals(cost)
        return (np.log(r) + 1.0) / self.eta - logsumexp(self.eta * (-cost + y[:, None, :]), axis=2) / self.eta

    def column_update(self, cost, x):
        _, c = self.marginals(cost)
        return (np.log(c) + 1.0) / self.eta - logsumexp(self.eta * (-cost + x[:, :, None]), axis=1) / self.eta


def sinkhorn_sweep(problem: EntropicOT, cost, x, y):
    """One Sinkhorn iteration: the exact x-maximization, then the exact y-maximization."""
    x = problem.row_update(cost, y)
    return x, problem.column_update(cost, x)


def iterate(step, problem: EntropicOT, cost, iterations: int, until: float = 0.0):
    """``step(k, x, y) -> (x, y)`` from zero potentials, recording ‖∇f‖₁ after each: ``(errors (R, iterations),
    (x, y))``.  Once every replica's error is below ``until`` the remaining iterations are not run and their
    errors repeat the last one (a run to a tolerance need not spend its whole budget)."""
    x = np.zeros(cost.shape[:2])
    y = np.zeros(cost.shape[:2])
    errors = np.empty((cost.shape[0], iterations))
    for k in range(iterations):
        x, y = step(k, x, y)
        errors[:, k] = problem.gradient_norm(cost, x, y)
        if errors[:, k].max() < until:
            errors[:, k + 1:] = errors[:, k:k + 1]
            break
    return errors, (x, y)


@dataclass(frozen=True)
class Sinkhorn:
    """Plain Sinkhorn from zero potentials; records ‖∇f‖₁ after each sweep."""

    def run(self, problem: EntropicOT, cost, iterations: int, until: float = 0.0):
        """``(errors (R, iterations), (x, y))``; see :func:`iterate`."""
        return iterate(lambda k, x, y: sinkhorn_sweep(problem, cost, x, y), problem, cost, iterations, until)


def sparsified_hessian(plan, density: float):
    """η⁻¹ × (−∇²f) with the off-diagonal block P kept only at its ``density`` fraction of largest entries
    (the paper's Sparsify step, threshold per replica); the diagonal blocks stay exact."""
    R, n, _ = plan.shape
    kept = int(round(density * n * n))
    if kept <= 0:
        offdiag = np.zeros_like(plan)
    elif kept >= n * n:
        offdiag = plan
    else:
        flat = plan.reshape(R, -1)
        threshold = np.partition(flat, n * n - kept, axis=1)[:, n * n - kept]
        offdiag = np.where(plan >= threshold[:, None, None], plan, 0.0)
    top = np.concatenate([np.apply_along_axis(np.diag, 1, plan.sum(2)), offdiag], axis=2)
    bottom = np.concatenate([np.swapaxes(offdiag, 1, 2), np.apply_along_axis(np.diag, 1, plan.sum(1))], axis=2)
    return np.concatenate([top, bottom], axis=1)


STEP_GRID = 0.5 ** np.arange(31)
"""Backtracking steps tried at once (1, 1/2, ..., 2^-30): the largest one passing Armijo is taken."""


@dataclass(frozen=True)
class SinkhornNewtonSparse:
    """Algorithm 1 of arXiv:2401.12253: ``sinkhorn_steps`` Sinkhorn sweeps, then up to ``newton_steps`` Newton
    steps on f with the Hessian sparsified to ``density`` (fraction of the n² plan entries kept), a backtracking
    Armijo line search (constant ``armijo``), and plain Sinkhorn for whatever is left of the iteration budget.

    The Newton system is singular along (1, −1) (f is invariant under x + t, y − t); the last y-coordinate of
    the direction is fixed at 0, which makes the reduced system positive definite.  The paper solves the system
    by conjugate gradients; here it is solved exactly (n ≤ 64), which only removes the inner-solve error."""

    sinkhorn_steps: int = 20
    newton_steps: int = 20
    density: float = 0.3
    armijo: float = 1e-4

    def __post_init__(self):
        require(self.sinkhorn_steps >= 0 and self.newton_steps >= 0, "step counts must be non-negative")
        require(0.0 <= self.density <= 1.0, f"density must lie in [0, 1], got {self.density}")

    def newton_step(self, problem: EntropicOT, cost, x, y):
        n = x.shape[1]
        gx, gy = problem.gradient(cost, x, y)
        grad = np.concatenate([gx, gy], axis=1)[:, :-1]
        H = problem.eta * sparsified_hessian(problem.plan(cost, x, y), self.density)[:, :-1, :-1]
        direction = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
        direction = np.concatenate([direction, np.zeros((x.shape[0], 1))], axis=1)
        dx, dy = direction[:, :n], direction[:, n:]
        f0 = problem.potential(cost, x, y)
        slope = (grad * direction[:, :-1]).sum(1)
        trials = np.stack([problem.potential(cost, x + a * dx, y + a * dy) for a in STEP_GRID], axis=1)
        # near the optimum f changes below its rounding: a step that does not lower f by more than that passes
        slack = 64 * np.finfo(float).eps * np.abs(f0)
        passes = trials >= f0[:, None] + self.armijo * STEP_GRID[None, :] * slope[:, None] - slack[:, None]
        first = np.where(passes.any(1), passes.argmax(1), STEP_GRID.size - 1)
        step = STEP_GRID[first][:, None]
        return x + step * dx, y + step * dy

    def run(self, problem: EntropicOT, cost, iterations: int, until: float = 0.0):
        """As :meth:`Sinkhorn.run` (Newton iterations count one each, like a Sinkhorn sweep, as in the paper)."""
        def step(k, x, y):
            if self.sinkhorn_steps <= k < self.sinkhorn_steps + self.newton_steps:
                return self.newton_step(problem, cost, x, y)
            return sinkhorn_sweep(problem, cost, x, y)
        return iterate(step, problem, cost, iterations, until)


def iterations_to(errors, tolerance: float):
    """First iteration (1-based) at which each replica's ‖∇f‖₁ is below ``tolerance``; the budget + 1 if never."""
    below = errors < tolerance
    return np.where(below.any(1), below.argmax(1) + 1, errors.shape[1] + 1).astype(np.float64)


def squared_cost(points_a, points_b):
    """Squared Euclidean costs (R, n, n) between two batches of point clouds (R, n, d)."""
    return ((points_a[:, :, None, :] - points_b[:, None, :, :]) ** 2).sum(-1)


def sinkhorn_contraction(problem: EntropicOT, cost, x, y):
    """The exact asymptotic rate of Sinkhorn at the solution (x, y): σ₂(D_r^{-1/2} P D_c^{-1/2})², the square of
    the second singular value of the normalized plan (the linearized sweep x → y → x contracts the
    non-constant modes by it; its top singular value is 1 for the constant mode)."""
    r, c = problem.marginals(cost)
    P = problem.plan(cost, x, y)
    scaled = P / np.sqrt(r)[:, :, None] / np.sqrt(c)[:, None, :]
    return np.linalg.svd(scaled, compute_uv=False)[:, 1] ** 2


def linear_rate(errors, window=(1e-11, 1e-5)):
    """Per replica, the geometric per-iteration decay of ‖∇f‖₁ fitted on the iterations where it lies in
    ``window`` (least squares of log error on the iteration count); NaN where fewer than 3 points fall in it."""
    rates = np.full(errors.shape[0], np.nan)
    k = np.arange(errors.shape[1], dtype=np.float64)
    for i, e in enumerate(errors):
        inside = (e > window[0]) & (e < window[1])
        if inside.sum() >= 3:
            rates[i] = np.exp(np.polyfit(k[inside], np.log(e[inside]), 1)[0])
    return rates
