"""The damped (momentum) oscillator SDE and the exponential rate of its mean.

dx = v dt,  dv = (−ω² x − γ v) dt + σ dW: a heavy-ball momentum diffusion on f(x) = ω²x²/2 with
friction γ.  As a linear SDE it is dX = −A X dt + B dW with
A = [[0, −1], [ω², γ]] and B = [[0], [σ]].  Its mean is e^{−At} X₀, whose slowest mode decays at
the spectral abscissa of −A,

    r(γ) = γ/2                         for γ ≤ 2ω  (under-damped: oscillating),
    r(γ) = (γ − √(γ² − 4ω²))/2          for γ ≥ 2ω  (over-damped),

largest, r = ω, at critical damping γ = 2ω.  :func:`mean_rate_pseudovalues` estimates r from
simulated paths alone (a least-squares fit of the mean's transition matrix), with jackknife
pseudo-values so that a checker's bootstrap over replicas gives its interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace

from ..errors import positive, require
from .terms import LinearSDE


@dataclass(frozen=True)
class DampedOscillator:
    """dx = v dt, dv = (−ω²x − γv) dt + σ dW, batched over paths (state (x, v), shape (R, 2)).

    An SDE for the solvers of :mod:`convsim.sde.solvers` (``drift`` and a general ``noise_term``
    driven by one Brownian coordinate); ``omega``, ``damping`` and ``sigma`` are fields a mutation
    can rewrite.  :meth:`linear` is the same process as a :class:`LinearSDE` (exact moments,
    :class:`~convsim.sde.solvers.ExactOU`).
    """

    omega: float
    damping: float
    sigma: float
    dim: int = 2
    noise_dim: int = 1
    noise: str = "general"
    name: str = "damped-oscillator"

    def __post_init__(self):
        positive("omega", self.omega)
        positive("damping", self.damping)
        require(self.sigma >= 0, f"sigma must be non-negative, got {self.sigma}")

    def drift(self, x, t):
        xp = array_namespace(x)
        pos, vel = x[:, 0:1], x[:, 1:2]
        return xp.concat([vel, -(self.omega**2) * pos - self.damping * vel], axis=1)

    def noise_term(self, x, t, dw):
        xp = array_namespace(x)
        return xp.concat([0.0 * dw, self.sigma * dw], axis=1)

    def linear(self) -> LinearSDE:
        """dX = −A X dt + B dW with A = [[0, −1], [ω², γ]], B = [[0], [σ]]."""
        A = np.array([[0.0, -1.0], [self.omega**2, self.damping]])
        return LinearSDE(A, np.array([[0.0], [self.sigma]]), name=self.name)

    def spec(self) -> dict:
        return {"name": self.name, "omega": self.omega, "damping": self.damping, "sigma": self.sigma}


def oscillator_rate(omega: float, damping: float) -> float:
    """The exponential rate r(γ) of the oscillator's mean (closed form above); r(2ω) = ω is the largest."""
    omega, damping = positive("omega", omega), positive("damping", damping)
    if damping <= 2 * omega:
        return damping / 2
    return (damping - math.sqrt(damping**2 - 4 * omega**2)) / 2


def critical_damping(omega: float) -> float:
    """γ = 2ω: the double root of λ² − γλ + ω² (no oscillation, the fastest mean)."""
    return 2 * positive("omega", omega)


def position(sde, x):
    """The x coordinate of each path (a metric for :func:`~convsim.sde.simulate_sde`)."""
    return x[:, 0]


def velocity(sde, x):
    """The v coordinate of each path."""
    return x[:, 1]


def _rate_of_means(means: np.ndarray, lag: int, dt: float) -> np.ndarray:
    """Rates from mean trajectories ``means`` (..., points, 2) on a uniform grid of spacing ``dt``:
    M fits m(t + lag·dt) ≈ M m(t) by least squares, and r = −log ρ(M)/(lag·dt)."""
    past, future = means[..., :-lag, :], means[..., lag:, :]
    gram = np.einsum("...ki,...kj->...ij", past, past)
    cross = np.einsum("...ki,...kj->...ij", past, future)
    M_T = np.linalg.solve(gram, cross)  # M^T: future ≈ past @ M^T
    radius = np.abs(np.linalg.eigvals(M_T)).max(axis=-1)
    return -np.log(radius) / (lag * dt)


def mean_rate_pseudovalues(positions: np.ndarray, velocities: np.ndarray, dt: float, lag: int) -> np.ndarray:
    """Jackknife pseudo-values (one per path) of the exponential rate of the sample mean.

    ``positions`` and ``velocities`` are (paths, points) on a uniform time grid of spacing ``dt``.
    The estimate r̂ fits the transition matrix of the sample mean over ``lag`` points (its spectral
    radius is e^{−r·lag·dt} for a linear SDE); the pseudo-values R r̂ − (R − 1) r̂₋ᵢ average to the
    jackknife estimate, and their spread gives its standard error.
    """
    R = positions.shape[0]
    require(R >= 2 and positions.shape == velocities.shape, "need at least two paths of matching shape")
    require(1 <= lag < positions.shape[1] - 2, f"lag {lag} leaves too few points on a grid of {positions.shape[1]}")
    paths = np.stack([positions, velocities], axis=-1)  # (R, points, 2)
    total = paths.sum(axis=0)
    full = _rate_of_means(total / R, lag, dt)
    leave_one_out = _rate_of_means((total[None] - paths) / (R - 1), lag, dt)
    return R * full - (R - 1) * leave_one_out
