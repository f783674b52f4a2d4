"""Exact expected suboptimality of ZO-SGD on quadratics (a moment recursion, no Monte Carlo).

On f(x) = ½ (x − x*)ᵀ H (x − x*) a central difference is exact for every smoothing radius (the cubic and higher
terms vanish), so the two-point estimate along a direction v is v vᵀ ∇f(x) with ∇f = H e, e = x − x*.  For a
direction law with E[v vᵀ A v vᵀ] = c (A + Aᵀ + tr(A) I) (Gaussian: c = 1; d·u, u uniform on the unit sphere:
c = d/(d + 2)) and n directions averaged, the second moment M = E[e eᵀ] in H's eigenbasis obeys, on its diagonal
m_i (the off-diagonal part never feeds it),

    m_i ← (1 − γλ_i)² m_i + γ² [ (c/n)(2 λ_i² m_i + Σ_j λ_j² m_j) − λ_i² m_i / n ],

and E f − f* = ½ Σ_i λ_i m_i.  The recursion uses only the problem's spectrum, rotation and start, never the
method under test, so a planted bug moves the run and not this reference.
"""

from __future__ import annotations

import numpy as np

from ..errors import require
from ..schedules import as_schedule

LAWS = ("gaussian", "sphere")


def direction_constant(law: str, d: int) -> float:
    """c with E[v vᵀ A v vᵀ] = c (A + Aᵀ + tr(A) I) for the law's directions v (unbiased: E v vᵀ = I)."""
    require(law in LAWS, f"direction law must be one of {', '.join(LAWS)}, got {law!r}")
    return 1.0 if law == "gaussian" else d / (d + 2.0)


def eigen_error_sq(problem) -> np.ndarray:
    """⟨x_0 − x*, q_i⟩² for each eigenvector q_i of a :class:`~convsim.problems.Quadratic`."""
    e0 = problem.initial_point() - problem.x_star
    return (e0 if problem.rotation is None else problem.rotation.T @ e0) ** 2


def zo_sgd_suboptimality(problem, step_size, *, law: str, directions: int, record) -> np.ndarray:
    """E[f(x_t)] − f* of ZO-SGD (central two-point, ``directions`` averaged) at the steps in ``record``."""
    lam = np.asarray(problem.eigenvalues, dtype=np.float64)
    m = eigen_error_sq(problem).astype(np.float64)
    d, n = lam.size, int(directions)
    c = direction_constant(law, d)

    def update(m, g):
        lam2m = lam * lam * m
        return (1.0 - g * lam) ** 2 * m + g * g * ((c / n) * (2.0 * lam2m + lam2m.sum()) - lam2m / n)

    return recorded_recursion(m, update, lambda m: 0.5 * float(np.sum(lam * m)), step_size, record)


def hybrid_zo_suboptimality(problem, step_size, *, first_order, directions: int, record) -> np.ndarray:
    """E[f(x_t)] − f* of the hybrid split (:class:`~convsim.zeroth_order.hybrid.HybridZO`) on a Quadratic.

    With e = x − x*, F the first-order coordinates and Z the rest, one step is e ← (I − γ(P_F + S)H) e,
    S = (1/n) Σ_k z_k z_kᵀ, z_k ~ N(0, P_Z) (central differences are exact on quadratics).  E S = P_Z and, by
    Isserlis' theorem, E[S B S] − P_Z B P_Z = (1/n)(P_Z B P_Z + tr(P_Z B) P_Z) for symmetric B, so the full second
    moment M = E[e eᵀ] obeys

        M ← (I − γH) M (I − γH) + (γ²/n) (P_Z B P_Z + tr(P_Z B) P_Z),   B = H M H,

    and E f − f* = ½ tr(H M).  P_Z is a coordinate projection, which H's eigenbasis need not diagonalise, so M
    is carried as a d × d matrix (O(d³) per step).  ``first_order=()`` gives Gaussian ZO-SGD, every coordinate GD.
    """
    x_star = np.asarray(problem.x_star, dtype=np.float64)
    d = x_star.size
    lam = np.asarray(problem.eigenvalues, dtype=np.float64)
    q = np.eye(d) if problem.rotation is None else np.asarray(problem.rotation, dtype=np.float64)
    hess = (q * lam) @ q.T
    e0 = np.asarray(problem.initial_point(), dtype=np.float64) - x_star
    m = np.outer(e0, e0)
    zo = np.ones(d)
    first_order = tuple(int(i) for i in first_order)
    require(all(0 <= i < d for i in first_order), f"first_order coordinates must lie in [0, {d})")
    zo[list(first_order)] = 0.0
    n = int(directions)

    def update(m, g):
        a = np.eye(d) - g * hess
        b = hess @ m @ hess
        return a @ m @ a + (g * g / n) * (zo[:, None] * b * zo[None, :] + float(np.sum(zo * np.diag(b))) * np.diag(zo))

    return recorded_recursion(m, update, lambda m: 0.5 * float(np.sum(hess * m)), step_size, record)


def recorded_recursion(state, update, measure, step_size, record) -> np.ndarray:
    """``measure(state)`` at the steps in ``record`` of the recursion state ← ``update(state, γ_t)``."""
    gamma = as_schedule(step_size)
    record = np.asarray(record, dtype=np.int64)
    out = np.empty(record.size)
    t = 0
    for k, target in enumerate(record):
        while t < target:
            state = update(state, float(gamma(t)))
            t += 1
        out[k] = measure(state)
    return out
