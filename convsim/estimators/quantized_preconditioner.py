"""4-bit quantized Shampoo preconditioner roots (Wang, Zhou, Li & Huang, arXiv:2405.18144).

Facts from the authors' code (Sike-Wang/low-bit-Shampoo: qtensor/functional.py create_linear_map, compute_power;
qtensor/utils.py QTensorSVDFast, QTensorDiagReal; optimizers/matrix_functions.py ComputePower), in our words:
* the 4-bit code ("linear-2") is 16 points evenly spaced on [−1, 1] with the 8th set to 0, each mapped to sign·|x|²;
  a matrix is quantized block-wise along its rows (blocks of 64 entries), each block scaled by its largest |entry|,
  each entry rounded to the nearest code point;
* 4-bit Shampoo stores A = UΛUᵀ as Λ (full precision) and the quantized rows of Uᵀ; the inverse p-th root is rebuilt
  as Vᵀ (Λ + ε λ_max I)^{−1/p} V from the dequantized Vᵀ after a few Björck steps V ← 1.5 V − 0.5 V Vᵀ V (4 by
  default when the root is computed) — "orthogonality rectification";
* the baseline quantizes A itself, its diagonal kept in full precision, and takes (Â + ε λ_max I)^{−1/p}.
Default ε = 10⁻⁶.  Everything here is host float64 numpy (eigh is outside the array API).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import positive, require


@dataclass(frozen=True)
class BlockQuantizer:
    """Block-wise absmax quantization on the linear-``power`` code with 2^bits points (4-bit linear-2 by default)."""

    bits: int = 4
    block: int = 64
    power: float = 2.0

    def code(self) -> np.ndarray:
        grid = np.linspace(-1.0, 1.0, 2 ** self.bits)
        grid[2 ** (self.bits - 1) - 1] = 0.0
        return np.sign(grid) * np.abs(grid) ** self.power

    def roundtrip(self, matrix: np.ndarray, keep=None) -> np.ndarray:
        """Quantize then dequantize ``matrix`` (..., m, n) along its rows; entries where ``keep`` is True stay exact
        (and do not enter the block scale)."""
        m = np.asarray(matrix, dtype=np.float64)
        cols = m.shape[-1]
        require(cols % self.block == 0 or cols < self.block, f"rows of length {cols} do not split into blocks of {self.block}")
        width = min(self.block, cols)
        blocks = m.reshape(*m.shape[:-1], cols // width, width)
        kept = np.zeros(blocks.shape, dtype=bool) if keep is None else np.broadcast_to(keep, m.shape).reshape(blocks.shape)
        scale = np.max(np.where(kept, 0.0, np.abs(blocks)), axis=-1, keepdims=True)
        scale = np.where(scale > 0, scale, 1.0)
        code = self.code()
        nearest = code[np.argmin(np.abs((blocks / scale)[..., None] - code), axis=-1)] * scale
        return np.where(kept, blocks, nearest).reshape(m.shape)


def inverse_root(values: np.ndarray, vectors_t: np.ndarray, p: float, ridge: float) -> np.ndarray:
    """Vᵀ (Λ + ridge·λ_max I)^{−1/p} V for eigenvalue rows (..., n) and eigenvector rows Vᵀ (..., n, n)."""
    shifted = values + ridge * values.max(axis=-1, keepdims=True)
    return np.swapaxes(vectors_t, -1, -2) @ (shifted[..., :, None] ** (-1.0 / p) * vectors_t)


@dataclass(frozen=True)
class EigenQuantizedRoot:
    """4-bit Shampoo's root: quantized eigenvectors, ``rectify`` Björck steps, exact eigenvalues."""

    quantizer: BlockQuantizer = BlockQuantizer()
    rectify: int = 4
    ridge: float = 1e-6
    p: float = 4.0
    quantize_values: bool = False   # the method keeps Λ exact; True is a planted bug (Λ through the same quantizer)

    def __call__(self, matrix: np.ndarray) -> np.ndarray:
        values, vectors = np.linalg.eigh(matrix)
        if self.quantize_values:
            values = np.abs(self.quantizer.roundtrip(values[..., None, :])[..., 0, :])
        v = self.quantizer.roundtrip(np.swapaxes(vectors, -1, -2))
        for _ in range(self.rectify):
            v = 1.5 * v - 0.5 * v @ np.swapaxes(v, -1, -2) @ v
        return inverse_root(values, v, self.p, self.ridge)


@dataclass(frozen=True)
class MatrixQuantizedRoot:
    """The baseline: A quantized (diagonal exact), then the exact root of the (symmetrized) dequantized matrix."""

    quantizer: BlockQuantizer = BlockQuantizer()
    ridge: float = 1e-6
    p: float = 4.0

    def __call__(self, matrix: np.ndarray) -> np.ndarray:
        n = matrix.shape[-1]
        q = self.quantizer.roundtrip(matrix, keep=np.eye(n, dtype=bool))
        values, vectors = np.linalg.eigh((q + np.swapaxes(q, -1, -2)) / 2)
        # negative eigenvalues appear (quantization destroys definiteness); their magnitude is used, as a root must be
        values = np.abs(values)
        return inverse_root(values, np.swapaxes(vectors, -1, -2), self.p, self.ridge)


def exact_root(matrix: np.ndarray, p: float = 4.0, ridge: float = 1e-6) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return inverse_root(values, np.swapaxes(vectors, -1, -2), p, ridge)


def relative_error(approx: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """‖approx − exact‖_F / ‖exact‖_F per leading index."""
    return np.linalg.norm(approx - exact, axis=(-2, -1)) / np.linalg.norm(exact, axis=(-2, -1))
