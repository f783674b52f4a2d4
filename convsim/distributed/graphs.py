"""Mixing matrices of communication graphs, with their spectral gaps.

Every matrix is symmetric and doubly stochastic (gossip preserves the average); ring, torus and
complete graphs use uniform weights over the closed neighbourhood, Erdős–Rényi graphs Metropolis–
Hastings weights.  :func:`second_eigenvalue` is λ₂ = max(abs(λ_2), abs(λ_M)), the factor by which one
gossip step contracts the consensus error ‖X − 1x̄ᵀ‖ (the spectral gap is 1 − λ₂).
"""

from __future__ import annotations

import numpy as np

from ..errors import positive, require


def complete(workers: int) -> np.ndarray:
    """Exact averaging J = 11ᵀ/M (λ₂ = 0)."""
    m = positive("workers", workers, integer=True)
    return np.full((m, m), 1.0 / m)


def ring(workers: int) -> np.ndarray:
    """Each worker averages itself and its two ring neighbours with weight 1/3 (M ≥ 3)."""
    m = positive("workers", workers, integer=True)
    require(m >= 3, f"a ring needs at least 3 workers, got {m}")
    W = np.zeros((m, m))
    for i in range(m):
        for j in (i - 1, i, i + 1):
            W[i, j % m] = 1.0 / 3.0
    return W


def torus(rows: int, cols: int) -> np.ndarray:
    """A rows×cols 2-D torus (each side ≥ 3): weight 1/5 on itself and its four neighbours."""
    require(rows >= 3 and cols >= 3, f"a torus needs both sides >= 3, got {rows}x{cols}")
    m = rows * cols
    W = np.zeros((m, m))
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            for dr, dc in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
                W[i, ((r + dr) % rows) * cols + (c + dc) % cols] = 0.2
    return W


def erdos_renyi(workers: int, p: float, seed: int = 0) -> np.ndarray:
    """Metropolis–Hastings weights W_ij = 1/(1 + max(deg_i, deg_j)) on a connected G(M, p) draw."""
    m = positive("workers", workers, integer=True)
    require(0 < p <= 1, f"edge probability must be in (0, 1], got {p}")
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        upper = np.triu(rng.uniform(size=(m, m)) < p, 1)
        A = upper | upper.T
        deg = A.sum(axis=1)
        W = np.where(A, 1.0 / (1.0 + np.maximum(deg[:, None], deg[None, :])), 0.0)
        W[np.diag_indices(m)] = 1.0 - W.sum(axis=1)
        if second_eigenvalue(W) < 1 - 1e-12:  # connected
            return W
    raise ValueError(f"no connected G({m}, {p}) in 1000 draws; raise p")


def second_eigenvalue(W) -> float:
    """λ₂ = max(abs(λ_2), abs(λ_M)) of a symmetric doubly stochastic W: the consensus contraction per gossip step."""
    W = np.asarray(W, dtype=np.float64)
    require(W.ndim == 2 and W.shape[0] == W.shape[1], f"a mixing matrix is square, got shape {W.shape}")
    require(np.allclose(W, W.T) and np.allclose(W.sum(axis=1), 1.0), "a mixing matrix must be symmetric and doubly stochastic")
    lam = np.sort(np.abs(np.linalg.eigvalsh(W)))[::-1]
    return float(lam[1]) if lam.size > 1 else 0.0


def spectral_gap(W) -> float:
    return 1.0 - second_eigenvalue(W)
