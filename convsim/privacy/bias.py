"""The clipping bias of DP-SGD: the fixed point of full-batch clipped gradient descent.

Noiseless full-batch DPSGD-GC, x ← x − γ (1/n) Σ clip(∇f_i(x), C), stops where the mean clipped
gradient vanishes: x_C solves Σ_i clip(∇f_i(x), C) = 0 (for any step small enough to converge),
which differs from x* unless C exceeds every ‖∇f_i(x*)‖.  For least squares (no ridge term)
∇f_i = a_i r_i with r_i = a_iᵀx − y_i, so clip(∇f_i, C) = a_i ψ_i(r_i), ψ_i(r) = sign(r) min(|r|, C/‖a_i‖),
the derivative of a Huber loss with threshold C/‖a_i‖: x_C is the minimizer of the convex Huber
regression Σ_i H_i(a_iᵀx − y_i), found with scipy.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from ..errors import ConvsimError, positive, require
from ..problems.finite_sum import LeastSquares


def clipped_fixed_point(problem: LeastSquares, clip: float) -> np.ndarray:
    """x_C with (1/n) Σ clip(∇f_i(x_C), C) = 0 for an unregularized least squares (host array (d,))."""
    require(isinstance(problem, LeastSquares) and problem.reg == 0,
            "the clipped fixed point is computed for least squares without a ridge term")
    clip = positive("clip", clip)
    A, y = problem.A, problem.y
    delta = clip / np.linalg.norm(A, axis=1)  # Huber thresholds on the residuals

    def huber(x):
        r = A @ x - y
        small = np.abs(r) <= delta
        loss = np.where(small, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))
        psi = np.where(small, r, delta * np.sign(r))
        return loss.mean(), A.T @ psi / len(y)

    sol = scipy.optimize.minimize(huber, problem.x_star, jac=True, method="BFGS", options={"gtol": 1e-14, "maxiter": 10000})
    grad_norm = np.linalg.norm(huber(sol.x)[1])
    if grad_norm > 1e-9 * max(1.0, clip):
        raise ConvsimError(f"no clipped fixed point found at C = {clip}: the mean clipped gradient is {grad_norm:.2e}")
    return sol.x


def clipping_bias_sq(problem: LeastSquares, clip: float) -> float:
    """‖x_C − x*‖²: the squared distance at which noiseless full-batch DPSGD-GC stalls."""
    delta = clipped_fixed_point(problem, clip) - problem.x_star
    return float(delta @ delta)
