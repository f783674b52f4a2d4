"""shampoo-4bit: quantizing a preconditioner's eigenvectors (and rectifying them) approximates its inverse 4th root
better than quantizing the preconditioner itself.

Source: S. Wang, P. Zhou, J. Li & H. Huang, "4-bit Shampoo for Memory-Efficient Network Training", arXiv:2405.18144
(NeurIPS 2024), seed [S119].  What was read: the abstract ("quantizing the eigenvector matrix of the preconditioner
... is remarkably better than quantizing the preconditioner itself both theoretically and experimentally"; "rectifying
the orthogonality of the quantized eigenvector matrix ... also benefits the computation of its inverse 4-th root") and
the authors' code (Sike-Wang/low-bit-Shampoo; the facts are listed in :mod:`convsim.estimators.quantized_preconditioner`:
linear-2 4-bit code, blocks of 64 along rows, Björck rectification 1.5V − 0.5VVᵀV with 4 steps when the root is
computed, ridge ε λ_max with ε = 10⁻⁶, the baseline quantizing A with its diagonal exact).  The paper's proposition
(its constants) was not read; the comparison is tested as the abstract states it.

Setting: per replica a random SPD A = U diag(λ) Uᵀ of order 64, U Haar (QR of a Gaussian from the replica streams),
λ log-uniform on [10⁻³, 1] (condition 10³, the range where a root amplifies small-eigenvalue errors); metric the
relative Frobenius error of each approximation of (A + ε λ_max I)^{−1/4} against the exact one (eigh, float64).
Pilot (32 replicas): rectified eigenvectors 0.046, unrectified 0.154, quantized A 0.333 (sd 0.06).

Claims:
  - shampoo-4bit: the rectified eigenvector quantization (4-bit Shampoo's) has the smallest mean error, against the
    unrectified one and against quantizing A (paired Compare, Bonferroni; `best_of`).
  - shampoo-4bit-eig: without rectification, quantizing the eigenvectors still beats quantizing A.
  - shampoo-4bit-neg (near miss): one Björck step is as good as four (false by ~12%: 0.052 vs 0.046).

Mutations (planted in the approximations): rectification removed (rectify = 0: the first two columns tie, caught),
eigenvalues quantized with the eigenvectors (the small eigenvalues are destroyed, caught by both claims), the
eigenvector code at 2 bits (caught by shampoo-4bit-eig, which compares against the 4-bit baseline).
"""

import dataclasses

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.backend import to_numpy
from convsim.estimators.quantized_preconditioner import (BlockQuantizer, EigenQuantizedRoot, MatrixQuantizedRoot,
                                                         exact_root, relative_error)
from convsim.estimators.runner import as_series, best_of, sample_rows

NEEDS_FLOAT64 = "eigendecompositions of condition-1e3 matrices and their inverse 4th roots"

SOURCE = cs.Source("4-bit Shampoo for Memory-Efficient Network Training (Wang, Zhou, Li & Huang)", "2405.18144",
                   "eigenvector quantization beats preconditioner quantization; orthogonality rectification helps "
                   "(abstract; authors' code Sike-Wang/low-bit-Shampoo)")

ORDER, RIDGE = 64, 1e-6
LABELS = ("eigenvectors rectified (4 steps)", "eigenvectors unrectified", "matrix quantized", "eigenvectors, 1 step")


def experiment(s, ctx):
    methods = ctx.mutate([EigenQuantizedRoot(rectify=4, ridge=RIDGE), EigenQuantizedRoot(rectify=0, ridge=RIDGE),
                          MatrixQuantizedRoot(ridge=RIDGE), EigenQuantizedRoot(rectify=1, ridge=RIDGE)])
    replicas = ctx.replicas or s["replicas"]

    def run():
        def draw(rng, xp):
            g = to_numpy(rng.normal(ORDER, ORDER))
            u = to_numpy(rng.uniform(ORDER))
            q, r = np.linalg.qr(g)
            q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]      # Haar
            lam = np.exp(np.log(1e-3) * u)
            A = (q * lam[:, None, :]) @ np.swapaxes(q, -1, -2)
            exact = exact_root(A, 4.0, RIDGE)
            return np.stack([relative_error(m(A), exact) for m in methods], axis=1)
        values = sample_rows(draw, replicas, seed=ctx.seed, backend=ctx.backend, dtype=ctx.dtype)
        return cs.Trace(np.arange(len(methods)), {"error": values}, np.full(replicas, -1), {}, {})

    trace = ctx.cached({"simulator": "quantized-root", "methods": methods, "order": ORDER, "replicas": replicas}, run)
    return as_series(trace.values("error"), np.arange(1.0, len(methods) + 1), "approximation (1: rectified, "
                     "2: unrectified, 3: matrix quantized, 4: one Bjorck step)", "relative_error")


def columns(series, keep):
    return dataclasses.replace(series, x=series.x[list(keep)], values=series.values[:, list(keep)])


two_bit_eigenvectors = mu.custom("eigenvector code at 2 bits",
                                 lambda m: dataclasses.replace(m, quantizer=BlockQuantizer(bits=2)),
                                 on=EigenQuantizedRoot)

claim = cs.Claim(
    id="shampoo-4bit", family="other",
    statement="4-bit Shampoo's root (quantized eigenvectors, Bjorck-rectified, exact eigenvalues) approximates "
              "(A + eps lambda_max I)^(-1/4) better than the unrectified eigenvectors and than quantizing A",
    source=SOURCE,
    assumptions=("random SPD of order 64, eigenvalues log-uniform on [1e-3, 1]", "linear-2 4-bit code, blocks of 64",
                 "eps = 1e-6"),
    experiment=experiment,
    check=lambda data, s: best_of(columns(data, (0, 1, 2)), 0, seed=0),
    quick={"replicas": 64}, full={"replicas": 512},
    mutations=(mu.set_field("rectify", 0, on=EigenQuantizedRoot), mu.set_field("quantize_values", True)))

eigenvectors = cs.Claim(
    id="shampoo-4bit-eig", family="other",
    statement="quantizing the eigenvectors (no rectification, exact eigenvalues) approximates the inverse 4th root "
              "better than quantizing the matrix",
    source=SOURCE, assumptions=claim.assumptions, experiment=experiment,
    check=lambda data, s: best_of(columns(data, (1, 2)), 0, seed=0),
    quick={"replicas": 64}, full={"replicas": 512},
    mutations=(mu.set_field("quantize_values", True), two_bit_eigenvectors))

negative = claim.negative_control(
    "one Bjorck rectification step approximates the root at least as well as four",
    lambda data, s: best_of(columns(data, (3, 0)), 0, seed=0))
