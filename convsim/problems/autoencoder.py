"""A linear autoencoder with low-rank ordered decomposition (ordered dropout over the rank), batched.

Data Y ∈ R^{N×n}: N centred Gaussian samples whose population covariance has eigenvalues
``spectrum`` (padded with ``tail`` up to n) in a random orthonormal basis; C = YᵀY/N is the
empirical covariance, whose eigenpairs (λ_i, e_i) are the principal components of Y.  The
parameters are a decoder U ∈ R^{n×k} and an encoder V ∈ R^{n×k} (k = ``width``), flattened
row-major as x = [vec(U), vec(V)].  A rank-b truncation keeps the first b columns of both:
W_b = U D_b Vᵀ with D_b = diag(1_{j ≤ b}), and reconstructs y ↦ W_b y.

Low-rank ordered decomposition: b is drawn from ``rank_probabilities`` p_1..p_k (None: uniform)
and the objective is its expectation

    f(U, V) = Σ_b p_b f_b,   f_b = (1/2N) ‖Y − Y W_bᵀ‖²_F = ½ tr((I − W_b) C (I − W_b)ᵀ).

With ``ordered=False`` only the full width is trained (p = point mass at b = k): plain low-rank
training, whose minimizers fit the top-k principal subspace up to an invertible mixing of the
columns.  By Eckart–Young, f_b ≥ f_b* = ½ Σ_{i>b} λ_i for every (U, V), with equality iff W_b is
the projection onto the top-b principal subspace, so the nested optimum is Σ_b p_b f_b* and is
reached (with all p_b > 0) only if the columns are the principal directions in order.

With G_b = (W_b − I) C = ∂f_b/∂W_b: ∇_U f = Σ_b p_b G_b V D_b and ∇_V f = Σ_b p_b G_bᵀ U D_b.
``stochastic_grad`` is ∇f_b for one b drawn per replica (the sampled training of the paper).  At the
ordered optimum every ∇f_b vanishes (the columns ≤ b lie in the top-b subspace), so the sampled
gradient has no noise there: constant-step SGD can converge to it exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ..errors import positive, require
from .base import Problem


@dataclass(frozen=True)
class OrderedLinearAutoencoder(Problem):
    """Linear autoencoder y ↦ U D_b Vᵀ y trained on the expectation over a dropped rank b."""

    n: int
    width: int
    spectrum: tuple = (1.0, 0.6, 0.36, 0.216)
    tail: float = 0.05
    samples: int = 400
    rank_probabilities: tuple | None = None
    ordered: bool = True
    init_scale: float = 0.1
    seed: int = 0
    init_seed: int = 1

    name = "ordered-linear-autoencoder"
    description = "linear autoencoder with ordered dropout over the rank (low-rank ordered decomposition)"

    def __post_init__(self):
        positive("n", self.n, integer=True)
        positive("width", self.width, integer=True)
        positive("samples", self.samples, integer=True)
        positive("init_scale", self.init_scale)
        require(self.width <= self.n, f"width {self.width} exceeds the dimension {self.n}")
        require(len(self.spectrum) <= self.n, f"{len(self.spectrum)} eigenvalues given for dimension {self.n}")
        probs = (np.full(self.width, 1.0 / self.width) if self.rank_probabilities is None
                 else np.asarray(self.rank_probabilities, dtype=float))
        require(probs.shape == (self.width,) and np.all(probs >= 0) and abs(probs.sum() - 1.0) < 1e-9,
                f"rank_probabilities must be {self.width} non-negative numbers summing to 1")
        if not self.ordered:
            probs = np.zeros(self.width)
            probs[-1] = 1.0
        rng = np.random.default_rng(self.seed)
        eig = np.full(self.n, float(self.tail))
        eig[:len(self.spectrum)] = self.spectrum
        basis = np.linalg.qr(rng.standard_normal((self.n, self.n)))[0]
        Y = rng.standard_normal((self.samples, self.n)) * np.sqrt(eig) @ basis.T
        Y -= Y.mean(axis=0)
        # PCA of the data by its SVD: Y/√N = P diag(s) Eᵀ, λ_i = s_i², e_i = rows of Eᵀ
        _, s, Et = scipy.linalg.svd(Y / np.sqrt(self.samples), full_matrices=False)
        lam = s ** 2
        nested_optimum = 0.5 * float(sum(p * lam[b + 1:].sum() for b, p in enumerate(probs)))
        derived = {"data": Y, "covariance": Y.T @ Y / self.samples, "eigenvalues": lam,
                   "components": Et.T, "probabilities": probs, "nested_optimum": nested_optimum,
                   "dim": 2 * self.n * self.width, "_f_star": nested_optimum}
        for key, value in derived.items():
            object.__setattr__(self, key, value)

    # -- pieces ---------------------------------------------------------------------------------
    def factors(self, x):
        """(U, V) as batched matrices (R, n, k)."""
        xp = self.namespace_of(x)
        R, half = x.shape[0], self.n * self.width
        return (xp.reshape(x[:, :half], (R, self.n, self.width)),
                xp.reshape(x[:, half:], (R, self.n, self.width)))

    def _masks(self, x):
        """D_b as 0/1 column masks, (k, k): row b−1 keeps columns 1..b."""
        return self.on(x, "masks", lambda: np.tril(np.ones((self.width, self.width))))

    def truncation_losses(self, x):
        """f_b for b = 1..k per replica: (R, k)."""
        xp = self.namespace_of(x)
        U, V = self.factors(x)
        C = self.on(x, "covariance", self.covariance)
        eye = self.on(x, "eye", lambda: np.eye(self.n))
        masks = self._masks(x)
        losses = []
        for b in range(self.width):
            E = eye - (U * masks[b, :]) @ V.mT
            losses.append(0.5 * xp.sum(xp.reshape((E @ C) * E, (x.shape[0], -1)), axis=-1))
        return xp.stack(losses, axis=1)

    # -- protocol -------------------------------------------------------------------------------
    def value(self, x):
        xp = self.namespace_of(x)
        return xp.sum(self.truncation_losses(x) * self.on(x, "probabilities", self.probabilities), axis=-1)

    def grad(self, x):
        xp = self.namespace_of(x)
        U, V = self.factors(x)
        C = self.on(x, "covariance", self.covariance)
        masks = self._masks(x)
        R = x.shape[0]
        gU, gV = xp.zeros_like(U), xp.zeros_like(V)
        for b, p in enumerate(self.probabilities):
            if p == 0.0:
                continue
            Ub, Vb = U * masks[b, :], V * masks[b, :]
            G = (Ub @ Vb.mT) @ C - C  # (W_b − I) C
            gU = gU + float(p) * (G @ Vb)
            gV = gV + float(p) * (G.mT @ Ub)
        return xp.concat([xp.reshape(gU, (R, -1)), xp.reshape(gV, (R, -1))], axis=1)

    def stochastic_grad(self, x, rng):
        """∇f_b with b drawn per replica from ``rank_probabilities`` (the ordered-dropout sample): unbiased
        for ∇f.  Column j is kept iff u ≥ p_1 + … + p_{j−1}, u uniform, i.e. iff j ≤ b."""
        xp = self.namespace_of(x)
        U, V = self.factors(x)
        C = self.on(x, "covariance", self.covariance)
        below = self.on(x, "cdf_before", lambda: np.concatenate([[0.0], np.cumsum(self.probabilities)[:-1]]))
        keep = xp.astype(rng.uniform(1) >= below, x.dtype)[:, None, :]  # (R, 1, k)
        Ub, Vb = U * keep, V * keep
        G = (Ub @ Vb.mT) @ C - C
        R = x.shape[0]
        return xp.concat([xp.reshape(G @ Vb, (R, -1)), xp.reshape(G.mT @ Ub, (R, -1))], axis=1)

    def misalignment(self, x, order=None):
        """1 − abs(cos(u_i, e_{order_i})) for each decoder column i (R, k); ``order`` (default 1..k, 1-based)
        names the principal direction column i is compared with: 0 once column i is that direction."""
        xp = self.namespace_of(x)
        U, _ = self.factors(x)
        order = tuple(range(1, self.width + 1)) if order is None else tuple(int(i) for i in order)
        require(sorted(order) == list(range(1, self.width + 1)), f"order must permute 1..{self.width}, got {order}")
        E = self.on(x, f"components_{order}", lambda: self.components[:, [i - 1 for i in order]])
        cos = xp.sum(U * E, axis=-2) / xp.sqrt(xp.sum(U * U, axis=-2))
        return 1.0 - xp.abs(cos)

    def initial_points(self, replicas: int) -> np.ndarray:
        """Small random start: entries i.i.d. N(0, α²) (host array (replicas, dim))."""
        return self.init_scale * np.random.default_rng(self.init_seed).standard_normal((replicas, self.dim))

    def initial_point(self):
        return self.initial_points(1)[0]

    @property
    def x_star(self):
        """A global minimizer of the nested objective (one of many: each column pair may flip sign or
        trade scale, u_i c, v_i / c): U = V = the top-k principal directions in order."""
        E = self.components[:, :self.width]
        return np.concatenate([E.reshape(-1), E.reshape(-1)])

    def constants(self):
        return {"d": self.dim, "f_star": self.nested_optimum, "width": self.width,
                "lambda_1": float(self.eigenvalues[0]), "lambda_k": float(self.eigenvalues[self.width - 1]),
                "lambda_k1": float(self.eigenvalues[self.width]) if self.width < self.n else 0.0}

    def spec(self):
        return {"name": self.name, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


def nested_loss(problem, x):
    """Metric: the mean over truncations b = 1..k of f_b (uniform weights, whatever was trained)."""
    xp = problem.namespace_of(x)
    return xp.mean(problem.truncation_losses(x), axis=-1)


def mean_misalignment(problem, x, order=None):
    """Metric: the mean over decoder columns of 1 − abs(cos(u_i, e_{order_i})) (bind ``order`` with
    functools.partial, which process pools can pickle)."""
    xp = problem.namespace_of(x)
    return xp.mean(problem.misalignment(x, order), axis=-1)
