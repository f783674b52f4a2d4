"""Constants of zeroth-order theorems, computed from a problem's spectrum (host floats)."""

from __future__ import annotations

import numpy as np

from ..errors import positive, require


def effective_rank(eigenvalues) -> float:
    """tr(H)/‖H‖_op: MeZO's local effective rank r (Malladi et al. 2023, Assumption 1) of a PSD spectrum."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    require(lam.size > 0 and bool(np.all(lam >= 0)) and lam.max() > 0, "need a non-zero PSD spectrum")
    return float(lam.sum() / lam.max())


def mezo_gamma(d: int, r: float, n: int) -> float:
    """γ = (d r + d − 2)/(n (d + 2)) + 1 of MeZO's Theorem 1 (n-SPSA with n directions, effective rank r):
    ZO-SGD with step η_SGD/γ decreases the loss at least 1/γ as fast as SGD with η_SGD.  Equals
    E[gᵀHg]/(‖H‖‖∇f‖²) of the sphere estimator in the worst direction (see exact.py)."""
    d = positive("d", d, integer=True)
    n = positive("n", n, integer=True)
    return (d * float(r) + d - 2.0) / (n * (d + 2.0)) + 1.0


def steps_to_level(values: np.ndarray, steps: np.ndarray, level: float) -> np.ndarray:
    """Per row of ``values`` (R, P), the step at which it first falls to ``level`` (log-interpolated between
    checkpoints, :func:`convsim.checks.complexity.first_passage`); inf where it never does."""
    from ..checks.complexity import first_passage

    return first_passage(np.asarray(values, dtype=np.float64), np.asarray(steps, dtype=np.float64),
                         np.array([float(level)]))[..., 0]
