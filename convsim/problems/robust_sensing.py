"""Robust low-rank matrix sensing: an ℓ1 loss on Gaussian measurements, a fraction of them outliers.

The ground truth, the factorization, the sensing matrices and the initialization are those of
:class:`convsim.problems.matrix_sensing.MatrixSensing` (same seeds give the same M*, A_i and start),
so the robust problem differs from the smooth one only in its observations and its loss:

* observations y_i = ⟨A_i, M*⟩ + s_i, where a fraction ``outlier_fraction`` of the indices (drawn
  once from ``outlier_seed``) carries s_i ~ N(0, ``outlier_scale``²) and the rest s_i = 0;
* loss f = (1/m) Σ_i |⟨A_i, M⟩ − y_i| (``loss="l1"``), or the smooth (w/m) Σ_i (⟨A_i, M⟩ − y_i)² of
  MatrixSensing (``loss="l2"``, the non-robust contrast).

A subgradient in M of the ℓ1 loss is S = (1/m) Σ_i sign(r_i) A_i (sign(0) = 0), and the chain rule
through the factors is MatrixSensing's: ∇_X f = (S + Sᵀ) X (symmetric), (S G, Sᵀ F) (asymmetric).
f is nonsmooth, so there is no Hessian; f at M* is (1/m) Σ |s_i| (not 0, and M* need not even be a
global minimizer when the outliers are dense).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConvsimError, in_range, positive, require
from .matrix_sensing import MatrixSensing


@dataclass(frozen=True)
class RobustMatrixSensing(MatrixSensing):
    """Matrix sensing with outliers in the observations and an ℓ1 (or, for contrast, ℓ2) loss."""

    measurements: int | None = 400
    outlier_fraction: float = 0.2
    outlier_scale: float = 10.0
    outlier_seed: int = 2
    loss: str = "l1"

    name = "robust-matrix-sensing"
    description = "Gaussian low-rank matrix sensing with a fraction of outliers and an l1 (or l2) loss"

    def __post_init__(self):
        require(self.measurements is not None, "robust matrix sensing needs measurements (m Gaussian A_i)")
        in_range("outlier_fraction", self.outlier_fraction, 0.0, 1.0, closed_high=True)
        positive("outlier_scale", self.outlier_scale)
        require(self.loss in ("l1", "l2"), f"loss must be 'l1' or 'l2', got {self.loss!r}")
        super().__post_init__()
        rng = np.random.default_rng(self.outlier_seed)
        corrupted = rng.permutation(self.measurements)[:int(round(self.outlier_fraction * self.measurements))]
        noise = np.zeros(self.measurements)
        noise[corrupted] = self.outlier_scale * rng.standard_normal(corrupted.size)
        object.__setattr__(self, "clean_observations", self.observations)
        object.__setattr__(self, "outliers", noise)
        object.__setattr__(self, "corrupted", np.sort(corrupted))
        object.__setattr__(self, "observations", self.observations + noise)
        object.__setattr__(self, "_f_star", None)

    def residuals(self, x):
        """r_i = ⟨A_i, M(x)⟩ − y_i per replica: (R, m)."""
        xp = self.namespace_of(x)
        M = self.model(x)
        flat = xp.reshape(M, (M.shape[0], self.n * self.cols))
        return flat @ self.on(x, "sensing_T", lambda: self.sensing.T) - self.on(x, "observations", self.observations)

    def value(self, x):
        if self.loss == "l2":
            return super().value(x)
        xp = self.namespace_of(x)
        return xp.mean(xp.abs(self.residuals(x)), axis=-1)

    def grad(self, x):
        """A subgradient (ℓ1: S = (1/m) Σ sign(r_i) A_i, then the factor chain rule)."""
        if self.loss == "l2":
            return super().grad(x)
        xp = self.namespace_of(x)
        F, G = self.factors(x)
        R = x.shape[0]
        S = xp.reshape(xp.sign(self.residuals(x)) @ self.on(x, "sensing", self.sensing) / self.measurements,
                       (R, self.n, self.cols))
        if self.symmetric:
            return xp.reshape((S + S.mT) @ F, (R, self.n * self.width))
        return xp.concat([xp.reshape(S @ G, (R, self.n * self.width)),
                          xp.reshape(S.mT @ F, (R, self.cols * self.width))], axis=1)

    def hvp(self, x, v):
        if self.loss == "l2":
            return super().hvp(x, v)
        raise ConvsimError("the l1 loss of robust matrix sensing is nonsmooth: it has no Hessian-vector products")

    def constants(self):
        known = {k: v for k, v in super().constants().items() if k != "f_star"}  # f* is not known here
        return {**known, "outlier_fraction": float(self.outlier_fraction), "outlier_scale": float(self.outlier_scale)}


def relative_recovery_error(problem, x):
    """Metric: ‖M(x) − M*‖_F / ‖M*‖_F (module level, so process pools can pickle it)."""
    xp = problem.namespace_of(x)
    return xp.sqrt(problem.recovery_error(x)) / float(np.linalg.norm(problem.target))
