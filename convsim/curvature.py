"""Curvature estimators built on Hessian-vector products (and, for Gauss-Newton-Bartlett, on resampled labels)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ConvsimError, positive, require

PROBES = ("rademacher", "gaussian")


def hutchinson_diagonal(problem, x, rng, probes: int = 1, distribution: str = "rademacher"):
    """Hutchinson's estimate of diag ∇²f(x): the mean of z ⊙ (∇²f(x) z) over ``probes``
    random vectors z (Rademacher, or standard Gaussian as in Sophia's Alg. 1),
    independently for every replica (row of ``x``).

    Unbiased because E[zzᵀ] = I; with Rademacher probes its variance is
    (1/probes) Σ_{j≠i} H_ij² per coordinate (Bekas, Kokiopoulou & Saad 2007; used by
    AdaHessian, arXiv 2006.00719, and Sophia, arXiv 2305.14342).
    """
    positive("probes", probes, integer=True)
    require(distribution in PROBES, f"probe distribution must be one of {', '.join(PROBES)}, got {distribution!r}")
    total = None
    for _ in range(probes):
        z = rng.rademacher(problem.dim) if distribution == "rademacher" else rng.normal(problem.dim) * 1.0  # a copy: streams reuse buffers
        est = z * problem.hvp(x, z)
        total = est if total is None else total + est
    return total / probes


@dataclass(frozen=True)
class HutchinsonDiagonal:
    """Hutchinson's diagonal estimator as a frozen description (``probes`` and their ``distribution``),
    so that a claim can hand it to :meth:`convsim.Context.mutate` and planted bugs can reach it.

    ``estimator(problem, x, rng)`` is :func:`hutchinson_diagonal` with these settings.
    """

    probes: int = 1
    distribution: str = "rademacher"

    def __post_init__(self):
        positive("probes", self.probes, integer=True)
        require(self.distribution in PROBES,
                f"probe distribution must be one of {', '.join(PROBES)}, got {self.distribution!r}")

    def __call__(self, problem, x, rng):
        return hutchinson_diagonal(problem, x, rng, self.probes, self.distribution)

    def spec(self) -> dict:
        return {"name": "hutchinson-diagonal", "probes": self.probes, "distribution": self.distribution}


def gauss_newton_bartlett_diagonal(problem, x, rng):
    """Sophia's Gauss-Newton-Bartlett estimate (arXiv 2305.14342, Alg. 2): B · ĝ ⊙ ĝ, where ĝ is the
    minibatch gradient of the loss at labels ŷ drawn from the model's own predictive law.

    Its mean is the diagonal of the Gauss-Newton matrix (Bartlett's second identity).
    Supported models (B = the problem's batch size):

      - finite-sum least squares (Gaussian likelihood, unit variance): ŷ_b = a_bᵀx + ξ_b, so
        ĝ = −(1/B) Σ a_b ξ_b and E = diag((1/n) Σ a_i a_iᵀ);
      - logistic regression: ŷ_b = ±1 with P(+1) = σ(a_bᵀx), so E = diag((1/n) Σ σ(1−σ) a_i a_iᵀ);
      - quadratics, read as the population least squares ½E(aᵀ(x−x*) − ε)² with features
        a ~ N(0, H): ĝ = −(1/B) Σ a_b ξ_b and E = diag H.

    Regularization (reg/2)‖x‖² is deterministic and adds reg to the diagonal.
    """
    from .problems.finite_sum import LeastSquares, LogisticRegression  # problems import after this module
    from .problems.quadratic import Quadratic

    xp = problem.namespace_of(x)
    R, B = x.shape[0], problem.batch_size
    if isinstance(problem, Quadratic):
        a = problem.apply_hessian_power(rng.normal(B, problem.dim) * 1.0, 0.5)  # (R, B, d)
        g = -xp.sum(a * rng.normal(B)[..., None], axis=1) / B
        return B * g * g
    if not isinstance(problem, (LeastSquares, LogisticRegression)):
        raise ConvsimError(f"the Gauss-Newton-Bartlett estimator needs a likelihood; problem {problem.name!r} has none")
    A = problem.on(x, "A", problem.A)
    idx = xp.reshape(rng.integers(problem.n, B), (R * B,))
    rows = xp.reshape(xp.take(A, idx, axis=0), (R, B, problem.dim))
    if isinstance(problem, LeastSquares):
        weights = -rng.normal(B) * 1.0  # ℓ'(m, ŷ) = m − ŷ = −ξ
    else:
        margins = xp.sum(rows * x[:, None, :], axis=-1)
        p_plus = 1.0 / (1.0 + xp.exp(-margins))
        labels = 2.0 * xp.astype(rng.uniform(B) < p_plus, x.dtype) - 1.0
        weights = problem.dloss(xp, margins, labels)
    g = xp.sum(rows * weights[..., None], axis=1) / B
    out = B * g * g
    return out + problem.reg if problem.reg else out


def _row_dot(xp, a, b):
    return xp.sum(a * b, axis=-1, keepdims=True)


def _power_iteration(xp, hvp, v, iterations: int, shift):
    """``iterations`` steps of v ← (H − shift I) v/‖·‖ per row; returns the last unit vector."""
    for _ in range(iterations):
        w = hvp(v) - shift * v
        norm = xp.sqrt(_row_dot(xp, w, w))
        # a row whose product vanishes (H v = shift v exactly) keeps its vector: no 0/0
        v = xp.where(norm > 0, w / xp.where(norm > 0, norm, xp.ones_like(norm)), v)
    return v


def top_hessian_eigenvalue(problem, x, iterations: int = 100, seed: int = 0):
    """The largest (algebraic) eigenvalue of ∇²f(x) for every row of ``x``, shape ``(R,)``, by batched power
    iteration on the problem's Hessian-vector products.

    Every replica starts from the same unit vector (a fixed draw from ``seed``, so the estimate is a
    deterministic function of x).  Power iteration on H converges to the eigenvalue of largest modulus; where
    that one is negative (λ ≈ λmin) a second pass runs on H − λ I, whose spectrum [0, λmax − λ] is
    non-negative with λmax on top.  Returns the Rayleigh quotient vᵀHv of the final unit vector; its error
    decays like (λ₂/λ₁)^(2·iterations) for a symmetric H with a gap.
    """
    positive("iterations", iterations, integer=True)
    xp = problem.namespace_of(x)
    start = np.random.default_rng(seed).standard_normal(problem.dim)
    start /= np.linalg.norm(start)
    v = xp.zeros_like(x) + xp.asarray(start, dtype=x.dtype)
    hvp = lambda u: problem.hvp(x, u)
    v = _power_iteration(xp, hvp, v, iterations, 0.0)
    estimate = _row_dot(xp, v, hvp(v))
    shift = xp.where(estimate < 0, estimate, xp.zeros_like(estimate))
    # only rows whose dominant eigenvalue is negative need the shifted pass; the others keep v
    if bool(xp.any(shift < 0)):
        u = _power_iteration(xp, hvp, xp.zeros_like(x) + xp.asarray(start, dtype=x.dtype), iterations, shift)
        v = xp.where(shift < 0, u, v)
        estimate = _row_dot(xp, v, hvp(v))
    return estimate[:, 0]


@dataclass(frozen=True)
class Sharpness:
    """Metric: the sharpness λ_max(∇²f(x)) of every replica by :func:`top_hessian_eigenvalue` (a frozen
    dataclass, so runs are keyed by its settings and process pools can pickle it)."""

    iterations: int = 100
    seed: int = 0

    def __call__(self, problem, x):
        return top_hessian_eigenvalue(problem, x, self.iterations, self.seed)
