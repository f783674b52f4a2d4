"""Low-rank matrix sensing with factorized parameters, batched over replicas.

Ground truth M* of rank r with singular values geometric from 1 down to 1/κ (``condition``):
symmetric PSD M* = U diag(σ) Uᵀ (n × n), or asymmetric M* = U diag(σ) Vᵀ (n × n2), with
random orthonormal U, V.  The parameters are factors of width k ≥ r (``width``), flattened
row-major into one row per replica:

* symmetric: x = vec(X), X ∈ R^{n×k}, model M = X Xᵀ, loss weight w = 1/4;
* asymmetric: x = [vec(F), vec(G)], F ∈ R^{n×k}, G ∈ R^{n2×k}, model M = F Gᵀ, w = 1/2.

With ``measurements=m`` there are m Gaussian sensing matrices A_i (i.i.d. N(0, 1) entries),
y_i = ⟨A_i, M*⟩ and f = (w/m) Σ_i (⟨A_i, M⟩ − y_i)².  With ``measurements=None`` the loss is
its expectation over A (E⟨A, Δ⟩² = ‖Δ‖²_F): f = w ‖M − M*‖²_F, matrix factorization.
Either way f* = 0, attained on the whole set {M = M*} (so there is no unique x*).

With S = ∂f/∂M (= 2w (M − M*) in the population case, (2w/m) Σ r_i A_i with measurements),
∇_X f = (S + Sᵀ) X (symmetric) and (∇_F f, ∇_G f) = (S G, Sᵀ F) (asymmetric).

``initial_points(replicas)`` is the small random initialization of the factor analyses:
every entry i.i.d. N(0, α²/k), α = ``init_scale``, from ``init_seed`` (host array; the same
unscaled draw for every α, so runs at different scales are common-random-number paired);
``balanced_init=True`` sets G_0 = F_0 (square asymmetric case), a start with zero imbalance.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import positive, require
from .base import Problem


@dataclass(frozen=True)
class MatrixSensing(Problem):
    """Matrix sensing / factorization with a symmetric (X Xᵀ) or asymmetric (F Gᵀ) factorization."""

    n: int
    rank: int
    width: int
    symmetric: bool = True
    n2: int | None = None
    measurements: int | None = None
    condition: float = 1.0
    init_scale: float = 1e-2
    seed: int = 0
    init_seed: int = 1
    balanced_init: bool = False

    name = "matrix-sensing"
    description = "Gaussian low-rank matrix sensing with factorized (X X^T or F G^T) parameters"

    def __post_init__(self):
        positive("n", self.n, integer=True)
        positive("rank", self.rank, integer=True)
        positive("width", self.width, integer=True)
        cols = self.n if self.symmetric or self.n2 is None else positive("n2", self.n2, integer=True)
        require(self.rank <= min(self.n, cols), f"rank {self.rank} exceeds the matrix size {self.n} x {cols}")
        require(self.condition >= 1.0, f"condition must be >= 1, got {self.condition!r}")
        positive("init_scale", self.init_scale)
        require(not self.balanced_init or (not self.symmetric and cols == self.n),
                "balanced_init needs an asymmetric factorization of a square matrix (n2 = n)")
        if self.measurements is not None:
            positive("measurements", self.measurements, integer=True)
        rng = np.random.default_rng(self.seed)
        sigma = np.geomspace(1.0, 1.0 / self.condition, self.rank) if self.rank > 1 else np.ones(1)
        U = np.linalg.qr(rng.standard_normal((self.n, self.rank)))[0]
        V = U if self.symmetric else np.linalg.qr(rng.standard_normal((cols, self.rank)))[0]
        target = (U * sigma) @ V.T
        dim = (self.n * self.width) if self.symmetric else (self.n + cols) * self.width
        derived = {"cols": cols, "singular_values": sigma, "left": U, "right": V, "target": target, "dim": dim,
                   "_f_star": 0.0}
        if self.measurements is not None:
            A = rng.standard_normal((self.measurements, self.n * cols))
            derived.update(sensing=A, observations=A @ target.reshape(-1))
        for key, value in derived.items():
            object.__setattr__(self, key, value)

    # -- the model and the gradient of the loss in M ---------------------------------------------
    @property
    def loss_weight(self) -> float:
        return 0.25 if self.symmetric else 0.5

    def factors(self, x):
        """(X, X) or (F, G) as batched matrices (R, n, k) and (R, n2, k)."""
        xp = self.namespace_of(x)
        R, k = x.shape[0], self.width
        if self.symmetric:
            X = xp.reshape(x, (R, self.n, k))
            return X, X
        split = self.n * k
        return xp.reshape(x[:, :split], (R, self.n, k)), xp.reshape(x[:, split:], (R, self.cols, k))

    def _join(self, xp, dF, dG):
        R = dF.shape[0]
        if self.symmetric:
            return xp.reshape(dF, (R, self.n * self.width))
        return xp.concat([xp.reshape(dF, (R, self.n * self.width)), xp.reshape(dG, (R, self.cols * self.width))],
                         axis=1)

    def model(self, x):
        """M = X Xᵀ or F Gᵀ per replica: (R, n, n2)."""
        F, G = self.factors(x)
        return F @ G.mT

    def _residuals(self, xp, M):
        """r_i = ⟨A_i, M⟩ − y_i (R, m), or Δ = M − M* (R, n, n2) in the population case."""
        if self.measurements is None:
            return M - self.on(M, "target", self.target)
        flat = xp.reshape(M, (M.shape[0], self.n * self.cols))
        return flat @ self.on(M, "sensing_T", lambda: self.sensing.T) - self.on(M, "observations", self.observations)

    def _loss_gradient_in_M(self, xp, residual):
        """S = ∂f/∂M from the residuals."""
        w2 = 2.0 * self.loss_weight
        if self.measurements is None:
            return w2 * residual
        R = residual.shape[0]
        S = residual @ self.on(residual, "sensing", self.sensing) * (w2 / self.measurements)
        return xp.reshape(S, (R, self.n, self.cols))

    def _chain(self, xp, S, F, G):
        if self.symmetric:
            return self._join(xp, (S + S.mT) @ F, None)
        return self._join(xp, S @ G, S.mT @ F)

    # -- protocol ------------------------------------------------------------------------------
    def value(self, x):
        xp = self.namespace_of(x)
        res = self._residuals(xp, self.model(x))
        if self.measurements is None:
            return self.loss_weight * xp.sum(xp.reshape(res * res, (x.shape[0], -1)), axis=-1)
        return (self.loss_weight / self.measurements) * xp.sum(res * res, axis=-1)

    def grad(self, x):
        xp = self.namespace_of(x)
        F, G = self.factors(x)
        return self._chain(xp, self._loss_gradient_in_M(xp, self._residuals(xp, F @ G.mT)), F, G)

    def hvp(self, x, v):
        """∇²f(x) v: S changes by dS = S(dM) − S(0) with dM = V_F Gᵀ + F V_Gᵀ (S is affine in M)."""
        xp = self.namespace_of(x)
        F, G = self.factors(x)
        VF, VG = self.factors(v)
        S = self._loss_gradient_in_M(xp, self._residuals(xp, F @ G.mT))
        dM = VF @ G.mT + F @ VG.mT
        if self.measurements is None:
            dS = 2.0 * self.loss_weight * dM
        else:
            flat = xp.reshape(dM, (dM.shape[0], self.n * self.cols))
            dS = self._loss_gradient_in_M(xp, flat @ self.on(dM, "sensing_T", lambda: self.sensing.T))
        if self.symmetric:
            return self._join(xp, (dS + dS.mT) @ F + (S + S.mT) @ VF, None)
        return self._join(xp, dS @ G + S @ VG, dS.mT @ F + S.mT @ VF)

    def recovery_error(self, x):
        """‖M(x) − M*‖²_F per replica."""
        xp = self.namespace_of(x)
        D = self.model(x) - self.on(x, "target", self.target)
        return xp.sum(xp.reshape(D * D, (x.shape[0], -1)), axis=-1)

    def direction_fit(self, x):
        """u_iᵀ M(x) v_i / σ_i per replica and ground-truth singular pair i: (R, r); 1 once pair i is fitted."""
        M = self.model(x)
        U, V = self.on(x, "left", self.left), self.on(x, "right", self.right)
        xp = self.namespace_of(x)
        return xp.sum((M @ V) * U, axis=-2) / self.on(x, "singular_values", self.singular_values)

    def initial_points(self, replicas: int) -> np.ndarray:
        """The small random initialization: entries i.i.d. N(0, α²/k) (host array (replicas, dim))."""
        draw = np.random.default_rng(self.init_seed).standard_normal((replicas, self.dim))
        if self.balanced_init:  # G_0 = F_0: zero imbalance F_0ᵀF_0 − G_0ᵀG_0 (the case the asymmetric analysis excludes)
            half = self.n * self.width
            draw[:, half:] = draw[:, :half]
        return self.init_scale / np.sqrt(self.width) * draw

    def initial_point(self):
        return self.initial_points(1)[0]

    def hessian_host(self, x) -> np.ndarray:
        """The dense Hessian at one point x (host, (dim, dim)), from Hessian-vector products."""
        x = np.asarray(x, dtype=np.float64).reshape(1, -1)
        eye = np.eye(self.dim)
        return np.concatenate([self.hvp(x, eye[i:i + 1]) for i in range(self.dim)], axis=0)

    def ground_truth_point(self) -> np.ndarray:
        """A global minimizer: X = U diag(√σ) padded with zero columns (or F, G likewise)."""
        root = np.sqrt(self.singular_values)
        F = np.zeros((self.n, self.width))
        F[:, :self.rank] = self.left * root
        if self.symmetric:
            return F.reshape(-1)
        G = np.zeros((self.cols, self.width))
        G[:, :self.rank] = self.right * root
        return np.concatenate([F.reshape(-1), G.reshape(-1)])

    def constants(self):
        return {"d": self.dim, "f_star": 0.0, "rank": self.rank, "width": self.width,
                "sigma_max": float(self.singular_values[0]), "sigma_min": float(self.singular_values[-1]),
                "kappa": float(self.condition), "alpha": float(self.init_scale)}

    def spec(self):
        return {"name": self.name, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


def recovery_error(problem, x):
    """Metric: ‖M(x) − M*‖²_F (module level, so process pools can pickle it)."""
    return problem.recovery_error(x)


def unlearned_fraction(problem, x, index: int):
    """Metric: 1 − u_iᵀ M(x) v_i / σ_i for the ground-truth direction ``index`` (0-based; bind it with
    functools.partial, which process pools can pickle)."""
    return 1.0 - problem.direction_fit(x)[:, index]
