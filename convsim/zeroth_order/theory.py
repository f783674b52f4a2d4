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


def normal_order_means(m: int) -> np.ndarray:
    """E of the r-th smallest of m iid N(0, 1) draws, r = 0..m−1 (quadrature of the order-statistic density)."""
    from scipy import integrate, special, stats

    m = positive("m", m, integer=True)

    def mean(r):
        log_c = np.log(m) + special.gammaln(m) - special.gammaln(r + 1) - special.gammaln(m - r)
        dens = lambda x: x * np.exp(log_c + r * stats.norm.logcdf(x) + (m - 1 - r) * stats.norm.logsf(x)
                                    + stats.norm.logpdf(x))
        return integrate.quad(dens, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)[0]

    return np.array([mean(r) for r in range(m)])


def ranking_mean_factor(m: int, k: int, rule: str = "dag") -> float:
    """κ(m, k) with E g = κ ∇f/‖∇f‖ for the ranking estimator (:class:`~convsim.zeroth_order.RankingOracle`) on a
    linear f (for any smoothing μ; on smooth f as μ → 0): the ranks of f(x + μ z_i) are those of s_i = z_iᵀu,
    u = ∇f/‖∇f‖, the parts of z_i orthogonal to u are independent of them and average out, so
    E g = (1/|E|) Σ_r w_r E[s_(r)] u with normal order-statistic means.  m = 2, k = 1 gives 2/√π."""
    from .estimators import ranking_weights

    w, edges = ranking_weights(m, k, rule)
    return float(w @ normal_order_means(m) / edges)


def ranking_orthogonal_second_moment(m: int, k: int, d: int, rule: str = "dag") -> float:
    """E‖g − (gᵀu)u‖² = (d − 1) Σ_r w_r²/|E|² on a linear f: the orthogonal parts of the z_i are independent
    N(0, I_{d−1}) draws weighted by rank-only coefficients."""
    from .estimators import ranking_weights

    w, edges = ranking_weights(m, k, rule)
    return float((int(d) - 1) * np.sum(w * w) / edges**2)


def lozo_second_moment_factor(rows: int, cols: int, rank: int) -> float:
    """c_L with E‖g‖² = c_L ‖G‖² for LOZO's g = ⟨G, UVᵀ⟩ UVᵀ/r, U (rows × r), V (cols × r) fresh Gaussian, any G:
    E_U[⟨G, UVᵀ⟩² ‖UVᵀ‖²] = rows ‖GV‖² ‖V‖² + 2 ‖GVVᵀ‖² (Isserlis), and over V E‖GV‖²‖V‖² = r (r·cols + 2)‖G‖²,
    E‖GVVᵀ‖² = r (cols + r + 1)‖G‖².  The full Gaussian estimator has rows·cols + 2; c_L exceeds it."""
    m, n, r = (positive(k, v, integer=True) for k, v in (("rows", rows), ("cols", cols), ("rank", rank)))
    return (m * (r * n + 2.0) + 2.0 * (n + r + 1.0)) / r
