"""Inexact Newton on the exact augmented Lagrangian with randomized iterative sketching (Hong, Na, Mahoney &
Kolar 2023, "Constrained Optimization via Exact Augmented Lagrangian and Randomized Iterative Sketching",
arXiv 2305.18379; the authors' code: IlgeeHong/AdaSketch-Newton, ``AdaSketchNewtonRK.jl``).

For ``min f(x) s.t. c(x) = 0`` (a :class:`~convsim.problems.constrained.QuadraticEquality` over w = (x, λ)) each
step solves the Lagrangian Newton system

    K d = −(∇ₓL, c),   K = [[∇²ₓL, Gᵀ], [G, 0]],

inexactly by randomized Kaczmarz (sketch-and-project with a canonical basis vector, the row drawn uniformly as in
the authors' code): d ← d − ((K d + b)_i / ‖K_i‖²) K_i from d = 0, for τ_t = ``sketch_steps`` + t ·
``sketch_growth`` iterations (a growing count sharpens the accuracy, the paper's route to superlinear
convergence; growth 0 is a fixed accuracy).  The step size comes from Armijo backtracking (halving, at most
``max_backtracks`` times, coefficient ``armijo``) on the exact augmented Lagrangian

    L_{μ,ν}(x, λ) = f + λᵀc + (μ/2)‖c‖² + (ν/2)‖∇ₓL‖²,
    ∇L_{μ,ν} = (∇ₓL + ν ∇²ₓL ∇ₓL + μ Gᵀc,  c + ν G ∇ₓL),

with ``penalty`` μ and ``gradient_penalty`` ν (the code's defaults 1 and 0.1).  The paper also adapts μ, ν and
the accuracy to keep d a descent direction; here they are fixed (the claims run where the unit step is taken).
Dropping both penalties makes the merit the Lagrangian itself, a saddle function on which the Newton direction
is in general no descent direction.  ``line_search=False`` takes the unit step (the local phase of the analysis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..errors import in_range, positive, require
from .base import Method


class SketchNewtonState(NamedTuple):
    x: Any             # (R, n + m): w = (x, λ)
    step_size: Any     # (R,): the Armijo step of the last iteration
    unit_steps: Any    # (R,): iterations that took the unit step
    sketches: Any      # (R,): Kaczmarz iterations so far


@dataclass(frozen=True)
class SketchedAugmentedLagrangianNewton(Method):
    """Newton-KKT steps solved by τ_t randomized-Kaczmarz iterations, Armijo on the exact augmented Lagrangian."""

    sketch_steps: int = 20
    sketch_growth: int = 0
    penalty: float = 1.0
    gradient_penalty: float = 0.1
    armijo: float = 0.1
    max_backtracks: int = 40
    line_search: bool = True

    name = "sketched-eal-newton"
    description = "inexact Newton-KKT steps by randomized Kaczmarz, line search on the exact augmented Lagrangian"
    source = "Hong, Na, Mahoney & Kolar (2023), arXiv 2305.18379"

    def __post_init__(self):
        for name in ("sketch_steps", "sketch_growth"):
            value = getattr(self, name)
            in_range(name, value, 0, float("inf"))
            require(int(value) == value, f"{name} must be an integer, got {value!r}")
        in_range("penalty", self.penalty, 0.0, float("inf"))
        in_range("gradient_penalty", self.gradient_penalty, 0.0, float("inf"))
        in_range("armijo", self.armijo, 0.0, 0.5)
        positive("max_backtracks", self.max_backtracks, integer=True)

    def init(self, x0):
        xp = array_namespace(x0)
        zero = xp.zeros((x0.shape[0],), dtype=x0.dtype)
        return SketchNewtonState(x0, zero + 1.0, zero, zero)

    @staticmethod
    def kkt(problem, w):
        """K (R, N, N), the right-hand side b = −(∇ₓL, c) (R, N), ∇ₓL, ∇²ₓL, G and c at w."""
        xp = array_namespace(w)
        x, lam = problem.split(w)
        G, c = problem.jacobian(x), problem.constraints(x)
        grad_l = problem.lagrangian_grad(x, lam)
        hess_l = problem.objective_hessian(x) + problem.constraint_curvature(x, lam)
        R, m = w.shape[0], c.shape[-1]
        top = xp.concat([hess_l, xp.permute_dims(G, (0, 2, 1))], axis=2)
        bottom = xp.concat([G, xp.zeros((R, m, m), dtype=w.dtype)], axis=2)
        K = xp.concat([top, bottom], axis=1)
        return K, -xp.concat([grad_l, c], axis=-1), grad_l, hess_l, G, c

    def merit(self, problem, w):
        x, lam = problem.split(w)
        xp = array_namespace(w)
        c, grad_l = problem.constraints(x), problem.lagrangian_grad(x, lam)
        return (problem.objective(x) + xp.sum(lam * c, axis=-1) + 0.5 * self.penalty * xp.sum(c * c, axis=-1)
                + 0.5 * self.gradient_penalty * xp.sum(grad_l * grad_l, axis=-1))

    def merit_gradient(self, grad_l, hess_l, G, c):
        """∇L_{μ,ν} = (∇ₓL + ν ∇²ₓL ∇ₓL + μ Gᵀc,  c + ν G ∇ₓL), (R, n + m)."""
        xp = array_namespace(grad_l)
        return xp.concat([grad_l + self.gradient_penalty * xp.sum(hess_l * grad_l[:, None, :], axis=-1)
                          + self.penalty * xp.sum(G * c[:, :, None], axis=1),
                          c + self.gradient_penalty * xp.sum(G * grad_l[:, None, :], axis=-1)], axis=-1)

    def sketch_solve(self, K, b, iterations, rng):
        """``iterations`` randomized-Kaczmarz steps on K d = b from d = 0, one uniformly drawn row per replica."""
        xp = array_namespace(K)
        R, N = b.shape
        d = xp.zeros_like(b)
        labels = xp.arange(N)[None, :]
        row_norm_sq = xp.sum(K * K, axis=-1)                        # (R, N)
        for _ in range(int(iterations)):
            pick = xp.astype(labels == rng.integers(N, 1), K.dtype)  # (R, N) one-hot
            row = xp.sum(K * pick[:, :, None], axis=1)              # (R, N)
            residual = xp.sum(row * d, axis=-1) - xp.sum(b * pick, axis=-1)
            d = d - (residual / xp.sum(row_norm_sq * pick, axis=-1))[:, None] * row
        return d

    def step(self, state, oracle, t):
        w, _, unit_steps, sketches = state
        xp = array_namespace(w)
        problem = oracle.problem
        K, b, grad_l, hess_l, G, c = self.kkt(problem, w)
        iterations = int(self.sketch_steps) + int(self.sketch_growth) * int(t)
        d = self.sketch_solve(K, b, iterations, oracle.rng)
        if not self.line_search:  # the local phase, where the paper shows the unit step is admissible
            one = xp.ones((w.shape[0],), dtype=w.dtype)
            return SketchNewtonState(w + d, one, unit_steps + 1.0, sketches + float(iterations))
        slope = xp.sum(self.merit_gradient(grad_l, hess_l, G, c) * d, axis=-1)  # directional derivative of L_{mu,nu}
        here = self.merit(problem, w)
        R, J = w.shape[0], int(self.max_backtracks) + 1
        alphas = 0.5 ** xp.astype(xp.arange(J), w.dtype)            # 1, 1/2, ..., 2^{-max_backtracks}
        trial = w[:, None, :] + alphas[None, :, None] * d[:, None, :]
        trial_merit = xp.reshape(self.merit(problem, xp.reshape(trial, (R * J, w.shape[1]))), (R, J))
        accept = trial_merit <= here[:, None] + self.armijo * alphas[None, :] * slope[:, None]
        # the first accepted trial; with none accepted the smallest step (a stalled line search)
        first = xp.where(xp.any(accept, axis=1), xp.argmax(xp.astype(accept, w.dtype), axis=1), J - 1)
        alpha = 0.5 ** xp.astype(first, w.dtype)
        return SketchNewtonState(w + alpha[:, None] * d, alpha, unit_steps + xp.astype(first == 0, w.dtype),
                                 sketches + float(iterations))
