"""Riemannian methods in the init/step protocol of :mod:`convsim.methods`.

:class:`RAMSGRAD` — Bécigneul & Ganea, "Riemannian Adaptive Optimization Methods" (ICLR 2019,
arXiv 1810.00760), Algorithm 1a, on a product of K Poincaré n-balls (one row = K points):

    g_t^k = grad f_t(x_t)^k                                  (Riemannian gradient of component k)
    m_t^k = β_{1t} τ_{t−1}^k + (1 − β_{1t}) g_t^k
    v_t^k = β_2 v_{t−1}^k + (1 − β_2) ‖g_t^k‖²_{x_t^k}       (ONE scalar per component manifold)
    v̂_t^k = max(v̂_{t−1}^k, v_t^k)
    x_{t+1}^k = exp_{x_t^k}(−α_t m_t^k / √v̂_t^k)
    τ_t^k = P_{x_t^k → x_{t+1}^k}(m_t^k)                      (parallel transport of the momentum)

with m_0 = τ_0 = v_0 = v̂_0 = 0, α_t and β_{1t} = β_1 λ^{t−1} (``beta1_decay`` = λ; 1: constant β_1).
No bias correction (the paper's algorithm); ``eps`` is added to √v̂ as a guard at v̂ = 0.  The
projection Π_X onto the feasible set of the paper is the identity here (X is any geodesic ball that
holds the iterates; the claims record how far they go).  The switches are the algorithm's variants
and the bugs a claim must tell apart: ``transport=False`` carries the ambient momentum vector
unchanged, ``riemannian=False`` uses the Euclidean gradient in place of the Riemannian one,
``exp=False`` the projected retraction x + v (geoopt's default), ``adaptivity="coordinate"`` one
second moment per ambient coordinate (the non-intrinsic generalization Sec. 3 of the paper warns of).

:class:`SPDMomentum` — Lin, Duruisseaux, Leok, Nielsen, Khan & Schmidt, "Simplifying Momentum-based
Positive-definite Submanifold Optimization" (ICML 2023, arXiv 2302.09738): momentum in generalized
normal coordinates for S = A Aᵀ, S(η) = A h(η) h(η)ᵀ Aᵀ with η symmetric and h(η) = I + η + η²/2::

    μ ← α μ + Aᵀ G A         (G = ∇f(S) the Euclidean gradient, symmetric; the local-coordinate gradient
                                at η = 0 up to the factor 2 absorbed in β)
    A ← A h(−β μ),  S = A Aᵀ

h(M) = I + M + M²/2 has eigenvalues 1 + λ + λ²/2 ≥ ½ for symmetric M, so A stays invertible and S
positive definite at every step, with matrix products only (in exact arithmetic: at large steps h grows like
M²/2 and S can overflow).  ``update="additive"`` is the bug a claim
must see: S ← A (I − β μ) Aᵀ (a first-order step in the same coordinates, no longer a congruence of an
SPD factor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..errors import in_range, positive, require
from ..methods.base import Method
from ..schedules import Schedule
from . import poincare


class RAMSGRADState(NamedTuple):
    x: Any
    m: Any  # the transported momentum τ_{t−1}
    v: Any
    v_hat: Any


@dataclass(frozen=True)
class RAMSGRAD(Method):
    """RAMSGRAD (Bécigneul & Ganea 2019, Alg. 1a) on a product of Poincaré balls of dimension ``ball_dim``."""

    step_size: Schedule | float = 0.1
    ball_dim: int = 2
    beta1: float = 0.9
    beta2: float = 0.999
    beta1_decay: float = 1.0
    eps: float = 1e-8
    transport: bool = True
    riemannian: bool = True
    exp: bool = True
    adaptivity: str = "manifold"

    name = "ramsgrad"
    description = "Riemannian AMSGrad on a product of Poincare balls (adaptivity across component manifolds)"
    source = "Becigneul & Ganea (2019), arXiv 1810.00760, Algorithm 1a"

    def __post_init__(self):
        self._schedule_step_size()
        positive("ball_dim", self.ball_dim, integer=True)
        for name in ("beta1", "beta2"):
            in_range(name, getattr(self, name), 0.0, 1.0)
        in_range("beta1_decay", self.beta1_decay, 0.0, 1.0, closed_high=True)
        positive("eps", self.eps)
        require(self.adaptivity in ("manifold", "coordinate"),
                f"adaptivity must be 'manifold' or 'coordinate', got {self.adaptivity!r}")

    def _parts(self, x):
        xp = array_namespace(x)
        require(x.shape[-1] % self.ball_dim == 0, f"rows of {x.shape[-1]} entries are no product of "
                                                  f"{self.ball_dim}-balls")
        return xp.reshape(x, (x.shape[0], x.shape[-1] // self.ball_dim, self.ball_dim))

    def init(self, x0):
        xp = array_namespace(x0)
        p = self._parts(x0)
        width = self.ball_dim if self.adaptivity == "coordinate" else 1
        zeros = xp.zeros((p.shape[0], p.shape[1], width), dtype=x0.dtype)
        return RAMSGRADState(x0, xp.zeros_like(p), zeros, zeros)

    def step(self, state, oracle, t):
        xp = array_namespace(state.x)
        x = self._parts(state.x)
        egrad = self._parts(oracle.stochastic_grad(state.x))
        g = poincare.riemannian_grad(x, egrad) if self.riemannian else egrad
        b1 = self.beta1 * self.beta1_decay ** t  # β_{1t} = β_1 λ^{t−1}, t counted from 1 in the paper
        m = b1 * state.m + (1.0 - b1) * g
        lam_sq = poincare.conformal_factor(x) ** 2
        sq = poincare.norm_sq(x, g) if self.adaptivity == "manifold" else lam_sq * g * g
        v = self.beta2 * state.v + (1.0 - self.beta2) * sq
        v_hat = xp.maximum(state.v_hat, v)
        u = -self.step_size(t) * m / (xp.sqrt(v_hat) + self.eps)
        x_next = poincare.expmap(x, u) if self.exp else poincare.projected_retraction(x, u)
        tau = poincare.transport(x, x_next, m) if self.transport else m
        return RAMSGRADState(xp.reshape(x_next, state.x.shape), tau, v, v_hat)


class SPDMomentumState(NamedTuple):
    x: Any  # S = A Aᵀ, flattened
    factor: Any  # A
    momentum: Any  # μ, symmetric


def _sym(xp, M):
    return (M + xp.matrix_transpose(M)) / 2.0


@dataclass(frozen=True)
class SPDMomentum(Method):
    """Momentum in generalized normal coordinates for SPD matrices (Lin et al. 2023): S = A Aᵀ, A ← A h(−β μ)."""

    step_size: Schedule | float = 0.1
    momentum: float = 0.9
    update: str = "congruence"

    name = "spd-momentum"
    description = "SPD momentum in generalized normal coordinates (stays positive definite by construction)"
    source = "Lin, Duruisseaux, Leok, Nielsen, Khan & Schmidt (2023), arXiv 2302.09738"

    def __post_init__(self):
        self._schedule_step_size()
        in_range("momentum", self.momentum, 0.0, 1.0)
        require(self.update in ("congruence", "additive"), f"update must be 'congruence' or 'additive', "
                                                           f"got {self.update!r}")

    @staticmethod
    def _side(x):
        side = int(round(x.shape[-1] ** 0.5))
        require(side * side == x.shape[-1], f"rows of {x.shape[-1]} entries are no square matrices")
        return side

    def init(self, x0):
        xp = array_namespace(x0)
        n = self._side(x0)
        S = xp.reshape(x0, (x0.shape[0], n, n))
        return SPDMomentumState(x0, xp.linalg.cholesky(_sym(xp, S)), xp.zeros_like(S))

    def step(self, state, oracle, t):
        xp = array_namespace(state.x)
        n = self._side(state.x)
        A = state.factor
        G = _sym(xp, xp.reshape(oracle.stochastic_grad(state.x), A.shape))
        mu = self.momentum * state.momentum + xp.matrix_transpose(A) @ G @ A
        M = -self.step_size(t) * mu
        eye = xp.eye(n, dtype=A.dtype)
        if self.update == "congruence":
            A = A @ (eye + M + M @ M / 2.0)
            S = A @ xp.matrix_transpose(A)
        else:  # first-order step in the local coordinates: S ← A (I − βμ) Aᵀ, not a congruence of a factor
            S = _sym(xp, A @ (eye + M) @ xp.matrix_transpose(A))
            # the factor of the new S where it has one; NaN where S left the cone (the run marks it), and
            # non-finite matrices kept away from LAPACK, which raises on them
            finite = xp.all(xp.isfinite(S), axis=(-2, -1), keepdims=True)
            lam, Q = xp.linalg.eigh(xp.where(finite, S, eye))
            root = xp.where(lam >= 0.0, xp.sqrt(xp.abs(lam)), xp.full_like(lam, xp.nan))
            A = xp.where(finite, Q * root[:, None, :], xp.full_like(A, xp.nan))
        return SPDMomentumState(xp.reshape(S, state.x.shape), A, mu)
