"""PSGD with the dense ("Newton") Lie-group preconditioner (Li 2015, arXiv 1512.04202; Pooladzandi & Li 2024,
arXiv 2402.04553), as in the authors' ``Newton`` class of lixilinx/psgd_torch
(preconditioned_stochastic_gradient_descent.py, release of Jan 2024, the one the 2024 paper ran).

The preconditioner P = QᵀQ, Q upper triangular with positive diagonal (a connected Lie group), is fitted online
to the criterion c(P) = E[hᵀ P h + vᵀ P⁻¹ v] on pairs (v, h = ∇²f(x) v), v ~ N(0, I).  Its relative gradient on
the group is G = triu(a aᵀ − b bᵀ), a = Q h, b = Q⁻ᵀ v, and each step moves Q by a normalized amount,

    Q ← Q − μ G Q,   μ = lr_precond / ‖G‖,

‖G‖ the authors' cheap lower bound of the spectral norm (:func:`spectral_norm_lower_bound`).  The parameters
then take the preconditioned step x ← x − lr Qᵀ Q ĝ(x) (``step_size`` is the paper's normalized lr).  The
stationary point of the fit, E[Q h hᵀ Qᵀ] = E[Q⁻ᵀ v vᵀ Q⁻¹], is P E[h hᵀ] P = E[v vᵀ]: with exact HVPs
P H² P = I, i.e. P = H⁻¹ for a positive definite H.

Defaults are the Jan-2024 class defaults: lr 0.01, lr_preconditioner 0.01, Q_0 = I (init scale 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..errors import in_range, positive, require
from ..schedules import Schedule
from .base import Method


PAIRS = ("hvp", "gradient")


class LiePreconditionerState(NamedTuple):
    x: Any
    Q: Any  # (R, d, d) upper-triangular factor of P = QᵀQ


def spectral_norm_lower_bound(A):
    """Per matrix of the batch A (R, d, d): the authors' lower bound of ‖A‖₂ (within √2 of it in their tests).

    Take the column of largest norm c when it beats the largest row (else that row r): x = Aᵀc and
    ‖A x/‖x‖‖ (resp. x = A r and ‖Aᵀ x/‖x‖‖); a zero matrix gives 0.
    """
    xp = array_namespace(A)
    d = A.shape[-1]
    sq = A * A
    col_sq, row_sq = xp.sum(sq, axis=-2), xp.sum(sq, axis=-1)  # (R, d)
    positions = xp.arange(d)[None, :]

    def one_hot(values):
        return xp.astype(positions == xp.argmax(values, axis=-1)[:, None], A.dtype)

    def unit(x):
        n = xp.sqrt(xp.sum(x * x, axis=-1, keepdims=True))
        return x / xp.where(n > 0, n, xp.ones_like(n))

    column = (A @ one_hot(col_sq)[:, :, None])[:, :, 0]          # A[:, i]
    row = (one_hot(row_sq)[:, None, :] @ A)[:, 0, :]              # A[j, :]
    x_col = unit((column[:, None, :] @ A)[:, 0, :])               # Aᵀ c
    x_row = unit((A @ row[:, :, None])[:, :, 0])                  # A r
    by_col = xp.sqrt(xp.sum((A @ x_col[:, :, None])[:, :, 0] ** 2, axis=-1))   # ‖A x‖
    by_row = xp.sqrt(xp.sum((x_row[:, None, :] @ A)[:, 0, :] ** 2, axis=-1))   # ‖Aᵀ x‖
    return xp.where(xp.max(col_sq, axis=-1) > xp.max(row_sq, axis=-1), by_col, by_row)


def lie_group_fit_step(Q, v, h, lr_precond: float):
    """One normalized Lie-group step of Q on the pair (v, h): Q − μ triu(a aᵀ − b bᵀ) Q, μ = lr/‖·‖ (batched)."""
    xp = array_namespace(Q)
    a = (Q @ h[:, :, None])[:, :, 0]                                    # Q h
    b = xp.linalg.solve(xp.permute_dims(Q, (0, 2, 1)), v[:, :, None])[:, :, 0]  # Q⁻ᵀ v
    G = xp.triu(a[:, :, None] * a[:, None, :] - b[:, :, None] * b[:, None, :])
    norm = spectral_norm_lower_bound(G)
    tiny = xp.finfo(Q.dtype).smallest_normal  # the authors' torch.finfo(dtype).tiny
    mu = lr_precond / (norm + tiny)
    return Q - mu[:, None, None] * (G @ Q)


@dataclass(frozen=True)
class LieGroupPSGD(Method):
    """PSGD, dense Newton-type preconditioner: fit Q on (v, ∇²f v) each step, then x ← x − lr QᵀQ ĝ(x).

    ``update_probability`` is the authors' probability of a fit step (0: Q stays at ``init_scale`` I: SGD with
    step lr · init_scale²).  ``pair="hvp"`` fits on (v, ∇²f(x) v) with the oracle's exact HVP (the authors'
    "Newton" type); ``pair="gradient"`` on (v, ĝ(x)), their gradient-whitening type, whose fixed point is
    P = E[ĝĝᵀ]^{-1/2} instead.
    """

    step_size: Schedule | float = 0.01
    precond_lr: float = 0.01
    init_scale: float = 1.0
    update_probability: float = 1.0
    pair: str = "hvp"

    name = "psgd-lie"
    description = "preconditioned SGD with a dense triangular Lie-group preconditioner fitted on HVP pairs"
    source = "Li (2015), arXiv 1512.04202; Pooladzandi & Li (2024), arXiv 2402.04553; lixilinx/psgd_torch"

    def __post_init__(self):
        self._schedule_step_size()
        in_range("precond_lr", self.precond_lr, 0.0, 1.0, closed_high=True)
        positive("init_scale", self.init_scale)
        in_range("update_probability", self.update_probability, 0.0, 1.0, closed_high=True)
        require(self.pair in PAIRS, f"pair must be one of {', '.join(PAIRS)}, got {self.pair!r}")

    def init(self, x0):
        xp = array_namespace(x0)
        R, d = x0.shape
        eye = self.init_scale * xp.eye(d, dtype=x0.dtype)
        return LiePreconditionerState(x0, xp.broadcast_to(eye[None, :, :], (R, d, d)))

    def step(self, state, oracle, t):
        xp = array_namespace(state.x)
        x, Q = state.x, state.Q
        g = oracle.stochastic_grad(x)
        if self.update_probability > 0 and self.precond_lr > 0:
            v = oracle.rng.normal(x.shape[1])
            v = xp.asarray(v, copy=True)  # streams reuse their buffers
            h = oracle.hvp(x, v) if self.pair == "hvp" else g
            fitted = lie_group_fit_step(Q, v, h, self.precond_lr)
            if self.update_probability < 1:
                chosen = oracle.rng.uniform() < self.update_probability  # (R,): one coin per replica and step
                fitted = xp.where(chosen[:, None, None], fitted, Q)
            Q = fitted
        direction = (xp.permute_dims(Q, (0, 2, 1)) @ (Q @ g[:, :, None]))[:, :, 0]  # Qᵀ (Q g)
        return LiePreconditionerState(x - self.step_size(t) * direction, Q)
