"""Diagonal linear networks for sparse regression, batched over replicas.

The parameterization of Andriushchenko, Varre, Pillaud-Vivien & Flammarion (2023, arXiv 2210.05337; the
authors' tml-epfl/sgd-sparse-features ``diag_nets.py``): the predictor is ⟨u ⊙ v, a⟩ and

    f(u, v) = (1/2n) ‖A (u ⊙ v) − y‖²,   ∇_u f = v ⊙ Aᵀr/n,   ∇_v f = u ⊙ Aᵀr/n,   r = A(u ⊙ v) − y,

with x = [u, v] (2d per replica).  The stochastic gradient is the single-sample one of that code: one
index i uniform per replica and step, ∇_u = (⟨a_i, u⊙v⟩ − y_i) a_i ⊙ v (and u for v), unbiased for ∇f.
Data: A with i.i.d. N(0, 1) entries (n × d, from ``seed``), a k-sparse β* (``sparsity`` entries ±1 at
random coordinates), y = Aβ* (noiseless: n < d interpolators form an affine set).  The start is
u = α·1, v = 0 (``init_scale`` α), the one of the authors' experiments.

Implicit bias of small steps (a closed form, used by the sgd-sparse claims): with a = (u + v)/√2 and
b = (u − v)/√2 (a rotation, so gradient flow in (u, v) is gradient flow in (a, b)), u ⊙ v = (a² − b²)/2,
the "u² − v²" network of Woodworth et al. (2020) with both halves started at α/2 (up to a time scale).
Its gradient flow converges to the interpolator minimizing Q(β) = Σ_i s² q(β_i/s²), s² = α²/4,
q(z) = 2 − √(4 + z²) + z arcsinh(z/2), i.e. β = 2s² sinh(Aᵀν) with ν solving A β = y (the mirror map
∇Q = arcsinh(β/(2s²))).  ``flow_limit()`` solves the convex dual min_ν 2s² Σ cosh((Aᵀν)_i) − yᵀν.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.optimize

from ..errors import ConvsimError, positive, require
from .base import Problem


@dataclass(frozen=True)
class DiagonalNetwork(Problem):
    """(1/2n)‖A(u⊙v) − y‖² with a k-sparse ground truth; single-sample SGD; start u = α1, v = 0."""

    n: int = 20
    d: int = 40
    sparsity: int = 3
    init_scale: float = 0.1
    seed: int = 0

    name = "diagonal-network"
    description = "diagonal linear network <u*v, a> for noiseless sparse regression (single-sample SGD)"

    def __post_init__(self):
        positive("n", self.n, integer=True)
        positive("d", self.d, integer=True)
        positive("sparsity", self.sparsity, integer=True)
        require(self.sparsity <= self.d, f"sparsity {self.sparsity} exceeds d = {self.d}")
        positive("init_scale", self.init_scale)
        rng = np.random.default_rng(self.seed)
        A = rng.standard_normal((self.n, self.d))
        beta = np.zeros(self.d)
        support = rng.choice(self.d, self.sparsity, replace=False)
        beta[support] = rng.choice([-1.0, 1.0], self.sparsity)
        x0 = np.concatenate([np.full(self.d, self.init_scale), np.zeros(self.d)])
        for key, value in {"A": A, "beta_star": beta, "support": np.sort(support), "y": A @ beta,
                           "dim": 2 * self.d, "_x0": x0, "_f_star": 0.0}.items():
            object.__setattr__(self, key, value)

    def predictor(self, x):
        """β = u ⊙ v per replica (R, d)."""
        return x[:, :self.d] * x[:, self.d:]

    def _residuals(self, x):
        A, y = self.on(x, "A", self.A), self.on(x, "y", self.y)
        return self.predictor(x) @ A.T - y

    def value(self, x):
        xp = self.namespace_of(x)
        r = self._residuals(x)
        return xp.sum(r * r, axis=-1) / (2 * self.n)

    def _chain(self, xp, x, back):
        """[v ⊙ back, u ⊙ back] for back = ∂f/∂β (R, d)."""
        return xp.concat([x[:, self.d:] * back, x[:, :self.d] * back], axis=-1)

    def grad(self, x):
        xp = self.namespace_of(x)
        back = self._residuals(x) @ self.on(x, "A", self.A) / self.n
        return self._chain(xp, x, back)

    def stochastic_grad(self, x, rng):
        xp = self.namespace_of(x)
        A, y = self.on(x, "A", self.A), self.on(x, "y", self.y)
        idx = rng.integers(self.n, 1)[:, 0]
        rows = xp.take(A, idx, axis=0)  # (R, d)
        err = xp.sum(rows * self.predictor(x), axis=-1) - xp.take(y, idx)
        return self._chain(xp, x, err[:, None] * rows)

    def hvp(self, x, v):
        """∇²f v: with β = u⊙v, dβ = v⊙du + u⊙dv; ∇_u f = v ⊙ g(β), g = Aᵀr/n, so
        d∇_u = dv ⊙ g + v ⊙ (AᵀA dβ)/n and d∇_v = du ⊙ g + u ⊙ (AᵀA dβ)/n."""
        xp = self.namespace_of(x)
        A = self.on(x, "A", self.A)
        u, w = x[:, :self.d], x[:, self.d:]
        du, dw = v[:, :self.d], v[:, self.d:]
        g = self._residuals(x) @ A / self.n
        dg = ((w * du + u * dw) @ A.T) @ A / self.n
        return xp.concat([dw * g + w * dg, du * g + u * dg], axis=-1)

    def l1_norm(self, x):
        """‖u ⊙ v‖₁ per replica."""
        xp = self.namespace_of(x)
        return xp.sum(xp.abs(self.predictor(x)), axis=-1)

    def recovery_error(self, x):
        """‖u ⊙ v − β*‖² per replica."""
        xp = self.namespace_of(x)
        e = self.predictor(x) - self.on(x, "beta_star", self.beta_star)
        return xp.sum(e * e, axis=-1)

    def flow_limit(self) -> np.ndarray:
        """The gradient-flow limit from u = α1, v = 0: argmin Q over {Aβ = y} (host (d,)), via the convex dual."""
        s2 = self.init_scale**2 / 4.0
        A, y = self.A, self.y
        fun = lambda nu: 2 * s2 * np.sum(np.cosh(A.T @ nu)) - y @ nu
        jac = lambda nu: A @ (2 * s2 * np.sinh(A.T @ nu)) - y
        hess = lambda nu: (A * (2 * s2 * np.cosh(A.T @ nu))) @ A.T
        res = scipy.optimize.minimize(fun, np.zeros(self.n), jac=jac, hess=hess, method="trust-exact",
                                      options={"gtol": 1e-12, "maxiter": 2000})
        beta = 2 * s2 * np.sinh(A.T @ res.x)
        if not np.allclose(A @ beta, y, atol=1e-8):
            raise ConvsimError(f"the implicit-bias dual did not converge: {res.message}")
        return beta

    def constants(self):
        return {"d": self.dim, "f_star": 0.0, "n": self.n, "sparsity": self.sparsity,
                "alpha": float(self.init_scale), "l1_star": float(np.sum(np.abs(self.beta_star)))}

    def spec(self):
        return {"name": self.name, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


def l1_norm(problem, x):
    """Metric: ‖u ⊙ v‖₁."""
    return problem.l1_norm(x)


def recovery_error(problem, x):
    """Metric: ‖u ⊙ v − β*‖²."""
    return problem.recovery_error(x)
