"""The HiPPO-LegS matrix and perturb-then-diagonalize (PTD, arXiv:2310.01698).

HiPPO-LegS (Gu et al. 2020, arXiv:2008.07669, eq. for LegS): A = −H with H_{nk} = √(2n+1)√(2k+1) for n > k,
H_{nn} = n + 1, H_{nk} = 0 for n < k (0-based).  It is lower triangular with the distinct eigenvalues −1, …, −N,
so it is diagonalizable, but its eigenvector matrix is exponentially ill-conditioned in N.

PTD: perturb A by E with ‖E‖₂ = δ‖A‖₂ (here E = δ‖A‖ G/‖G‖, G complex Ginibre), then diagonalize Ã = A + E = VΛV⁻¹
with a backward-stable eigensolver (LAPACK through numpy).  VΛV⁻¹ is then an approximate diagonalization of A with
backward error ‖A − VΛV⁻¹‖ = ‖E‖ (up to roundoff κ_V(Ã)·u‖A‖), and the smoothed-analysis bound of Banks, Kulkarni,
Mukherjee & Srivastava (arXiv:1906.11819, Theorem 1.1, Davies' conjecture) says a δ‖A‖-close matrix with
κ_V ≤ 4 N^{3/2}(1 + 1/δ) exists, the Gaussian perturbation being the one that achieves it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import positive


def legs_matrix(n: int) -> np.ndarray:
    """The N×N HiPPO-LegS state matrix A (float64, host)."""
    n = positive("n", n, integer=True)
    scale = np.sqrt(2.0 * np.arange(n) + 1.0)
    return -(np.tril(np.outer(scale, scale), -1) + np.diag(np.arange(1.0, n + 1.0)))


def eigenvector_condition(matrix: np.ndarray):
    """(κ₂(V), eigenvalues, V) of ``matrix`` = VΛV⁻¹ with unit-norm eigenvector columns (the column scaling within
    √N of the optimal one, van der Sluis)."""
    values, vectors = np.linalg.eig(matrix)
    vectors = vectors / np.linalg.norm(vectors, axis=0)
    singular = np.linalg.svd(vectors, compute_uv=False)
    return singular[0] / singular[-1], values, vectors


@dataclass(frozen=True)
class PerturbThenDiagonalize:
    """PTD with relative perturbation size δ = ``perturbation`` (‖E‖₂ = δ‖A‖₂)."""

    perturbation: float

    def diagonalize(self, matrix: np.ndarray, ginibre: np.ndarray):
        """(κ_V, backward error ‖A − VΛV⁻¹‖₂/‖A‖₂) of PTD on ``matrix`` with the perturbation direction ``ginibre``."""
        norm = np.linalg.norm(matrix, 2)
        direction = ginibre / np.linalg.norm(ginibre, 2)
        kappa, values, vectors = eigenvector_condition(matrix + self.perturbation * norm * direction)
        rebuilt = vectors @ np.diag(values) @ np.linalg.inv(vectors)
        return kappa, np.linalg.norm(matrix - rebuilt, 2) / norm


def davies_bound(n: int, delta: float) -> float:
    """Banks–Kulkarni–Mukherjee–Srivastava (Theorem 1.1): some ‖E‖ ≤ δ‖A‖ has κ_V(A + E) ≤ 4 n^{3/2} (1 + 1/δ)."""
    return 4.0 * n ** 1.5 * (1.0 + 1.0 / delta)
