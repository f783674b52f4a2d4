"""From a discrete method on a problem to its SDE, and the closed forms that compare them.

A user's problem enters through :class:`GradientNoise`: the full gradient ∇f and the
covariance C(x) of ONE stochastic gradient (the minibatch the method sees).  Every map
in :mod:`convsim.sde` (SGD, SGD with momentum, RMSprop, Adam, SAM, USAM, DNSAM) takes it,
or a :class:`~convsim.problems.Quadratic` with Gaussian noise, which it converts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.linalg
from array_api_compat import array_namespace

from ..backend import cached_on
from ..errors import ConvsimError, in_range, positive, require
from ..noise import Gaussian
from ..problems.base import array_digest
from ..problems.quadratic import Quadratic
from .terms import SDE, LinearSDE


def _psd_sqrt(C: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(0.5 * (C + C.T))
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


@dataclass(frozen=True)
class GradientNoise:
    """A problem as the SDE maps see it: ``grad(x)`` (R, d) → (R, d) and the covariance of one
    stochastic gradient, either a constant host matrix (d, d) or a callable x → (R, d, d).

    ``hessian`` (optional, constant host matrix or x → (R, d, d)) is needed by the SAM-family maps.
    ``name`` should identify the problem: it keys cached SDE runs.
    """

    dim: int
    grad: Callable
    covariance: np.ndarray | Callable
    hessian: np.ndarray | Callable | None = None
    name: str = "problem"
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        positive("dim", self.dim, integer=True)
        for attr in ("covariance", "hessian"):
            value = getattr(self, attr)
            if value is not None and not callable(value):
                value = np.asarray(value, dtype=np.float64)
                require(value.shape == (self.dim, self.dim), f"{attr} must be ({self.dim}, {self.dim}), got {value.shape}")
                object.__setattr__(self, attr, 0.5 * (value + value.T))

    @classmethod
    def from_quadratic(cls, problem: Quadratic) -> "GradientNoise":
        """∇f = H(x − x*) and the Gaussian model's covariance σ² H^p / B (constant)."""
        if not isinstance(problem, Quadratic) or not isinstance(problem.noise, Gaussian):
            raise ConvsimError("the SDE maps need a Quadratic with Gaussian gradient noise (or a GradientNoise)")
        lam = problem.eigenvalues
        c = problem.noise.sigma**2 * lam**problem.noise.power / problem.batch_size
        Q = problem.rotation if problem.rotation is not None else np.eye(problem.dim)
        digest = hashlib.sha256(repr(sorted(problem.spec().items())).encode()).hexdigest()[:16]
        return cls(problem.dim, problem.grad, (Q * c) @ Q.T, problem.hessian(), name=f"quadratic:{digest}")

    @property
    def constant(self) -> bool:
        return not callable(self.covariance)

    def cov(self, x):
        """C(x) of shape (R, d, d) (or (d, d) when constant), on x's device."""
        return self.covariance(x) if callable(self.covariance) else cached_on(self._cache, x, "C", self.covariance)

    def variances(self, x):
        """diag C(x), shape (R, d) or (d,)."""
        if callable(self.covariance):
            C = self.covariance(x)
            xp = array_namespace(x)
            return xp.sum(C * cached_on(self._cache, x, "I", np.eye(self.dim)), axis=-1)
        return cached_on(self._cache, x, "diagC", np.diag(self.covariance))

    def noise(self, x, dw):
        """C(x)^½ dW for increments dw (R, d): the symmetric square root, batched if C depends on x."""
        if not callable(self.covariance):
            return dw @ cached_on(self._cache, dw, "C^1/2", lambda: _psd_sqrt(self.covariance))
        xp = array_namespace(x)
        w, V = xp.linalg.eigh(self.covariance(x))
        root = (V * xp.sqrt(xp.clip(w, 0.0, None))[:, None, :]) @ xp.matrix_transpose(V)
        return (root @ dw[:, :, None])[:, :, 0]  # (R, d, d) @ (R, d, 1): explicit axes, no Ellipsis

    def hess(self, x):
        require(self.hessian is not None, f"this map needs the Hessian of {self.name}: pass GradientNoise(hessian=...)")
        return self.hessian(x) if callable(self.hessian) else cached_on(self._cache, x, "H", self.hessian)

    def digest(self) -> str:
        cov = "callable" if callable(self.covariance) else array_digest(self.covariance)
        return f"{self.name}/{cov}"


def as_gradient_noise(problem) -> GradientNoise:
    return problem if isinstance(problem, GradientNoise) else GradientNoise.from_quadratic(problem)


def _gradient_noise_covariance(problem: Quadratic) -> np.ndarray:
    return GradientNoise.from_quadratic(problem).covariance


def sgd_sde(problem: Quadratic, eta: float, *, order: int = 1) -> LinearSDE:
    """SGD's stochastic modified equation with step η (time t = kη) on a quadratic with Gaussian noise
    of covariance C, an OU process (Li, Tai & E, arXiv 1511.06251, Thm. 1 / JMLR 2019 Thm. 3):

    * ``order=1``: dX = −∇f(X) dt + √η C^{1/2} dW (weak order 1);
    * ``order=2``: dX = −∇(f + (η/4)‖∇f‖²)(X) dt + √η C^{1/2} dW (weak order 2).  On f = ½(x − x*)ᵀH(x − x*)
      the extra drift is −(η/2)H²(X − x*), stored as the LinearSDE's ``correction``.
    """
    eta = positive("eta", eta)
    require(order in (1, 2), f"the SGD modified equation has order 1 or 2, got {order!r}")
    C = _gradient_noise_covariance(problem)
    w, V = np.linalg.eigh(C)
    H = problem.hessian()
    correction = 0.5 * eta * H @ H if order == 2 else None
    return LinearSDE(H, np.sqrt(eta) * V * np.sqrt(np.clip(w, 0, None)), problem.x_star,
                     name="sgd-sde" if order == 1 else "sgd-sde-2", correction=correction)


def gradient_sde(problem, eta: float, *, scale: float = 1.0, name: str = "sgd-sde") -> SDE:
    """SGD's first-order SDE on any problem: dX = −s ∇f(X) dt + s √η C(X)^½ dW, time t = kη.

    ``scale`` s = 1 is SGD (Li, Tai & E, arXiv 1511.06251); s = 1/(1 − β) is heavy-ball
    momentum with fixed β (see :func:`sgdm_sde`).
    """
    eta, s = positive("eta", eta), positive("scale", scale)
    noisy = as_gradient_noise(problem)
    root = s * eta**0.5
    return SDE(noisy.dim, lambda x, t: -s * noisy.grad(x), lambda x, t, dw: root * noisy.noise(x, dw),
               noise="general", name=f"{name}(eta={eta:g},scale={s:g},{noisy.digest()})")


def sgdm_sde(problem, eta: float, beta: float) -> SDE:
    """Heavy-ball SGD x_{k+1} = x_k − η g_k + β(x_k − x_{k−1}) with fixed β as η → 0:
    the SDE of SGD with the effective step η/(1 − β),
    dX = −∇f/(1−β) dt + √η/(1−β) C^½ dW,  time t = kη
    (Li, Tai & E, "Stochastic modified equations and dynamics of stochastic gradient
    algorithms I", arXiv 1811.01558, momentum SGD with fixed momentum parameter).
    """
    beta = in_range("beta", beta, 0.0, 1.0)
    return gradient_sde(problem, eta, scale=1.0 / (1.0 - beta), name="sgdm-sde")


def sgd_stationary_covariance(problem: Quadratic, eta: float) -> np.ndarray:
    """SGD's exact stationary covariance: Σ = (I − ηH) Σ (I − ηH)ᵀ + η² C (discrete Lyapunov)."""
    eta = positive("eta", eta)
    H = problem.hessian()
    if eta * problem.eigenvalues[0] >= 2:
        raise ConvsimError(f"SGD with step {eta} is unstable on this quadratic (needs eta*L < 2)")
    M = np.eye(problem.dim) - eta * H
    return scipy.linalg.solve_discrete_lyapunov(M, eta**2 * _gradient_noise_covariance(problem))


def heavy_ball_stationary_covariance(problem: Quadratic, eta: float, beta: float) -> np.ndarray:
    """Heavy ball's exact stationary covariance of x on a quadratic, from the discrete Lyapunov
    equation of the linear recursion (x_k − x*, x_{k−1} − x*) ← M (x_k − x*, x_{k−1} − x*) − η(ξ, 0)."""
    eta, beta = positive("eta", eta), in_range("beta", beta, 0.0, 1.0)
    H, d = problem.hessian(), problem.dim
    I = np.eye(d)
    M = np.block([[(1 + beta) * I - eta * H, -beta * I], [I, np.zeros((d, d))]])
    require(np.max(np.abs(np.linalg.eigvals(M))) < 1, f"heavy ball with step {eta}, momentum {beta} is unstable here")
    Q = np.zeros((2 * d, 2 * d))
    Q[:d, :d] = eta**2 * _gradient_noise_covariance(problem)
    return scipy.linalg.solve_discrete_lyapunov(M, Q)[:d, :d]
