"""Correlated (Toeplitz) privacy noise: Noisy-FTRL / ν-DP-FTRL against independent Noisy-SGD.

Choquette-Choo, Dvijotham, Pillutla, Ganesh, Steinke, Thakurta, "Correlated Noise Provably Beats
Independent Noise for Differentially Private Learning" (arXiv 2310.06771, ICLR 2024) write DP-FTRL
with a lower-triangular Toeplitz noise correlation B = Toeplitz(β₀, β₁, ...), β₀ = 1, as

    θ_{t+1} = θ_t − η (g_t + Σ_{τ=0}^{t} β_τ w_{t−τ}),   w_t ~ N(0, s² I) iid,

(Noisy-SGD is β = (1, 0, 0, ...)).  Adding B w to the gradients is releasing B⁻¹ g + w, so with every
example used in one step (streaming, one participation) and gradients of norm at most G, the run is
the Gaussian mechanism with sensitivity G γ_T(β), γ_T(β) = the largest column norm of the T×T matrix
B⁻¹ (its first column: the first T coefficients of the power series 1/β(z)); s = G γ_T(β) z with the
noise multiplier z of a single Gaussian release gives the same (ε, δ) for every β.  The paper's
ν-DP-FTRL correlation is β̂_t = (−1)^t C(1/2, t) (1 − ν)^t, the coefficients of (1 − (1 − ν) z)^{1/2}.

:class:`CorrelatedNoiseSGD` keeps the last K − 1 draws of w in a buffer (R, K − 1, d), so β is given
as a finite array of length K (the banded Toeplitz mechanism; :func:`nu_dp_ftrl_coefficients`
truncates ν-DP-FTRL's series where (1 − ν)^K has made it negligible, and the sensitivity is that of
the truncated β, exactly).  Like the paper's Noisy-FTRL, the gradients are not clipped: G is the
assumed bound that calibrates the noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.signal
from array_api_compat import array_namespace

from ..backend import cached_on, device_cache
from ..errors import finite_array, positive, require
from ..methods.base import Method
from ..problems.base import array_digest
from ..schedules import Schedule


def nu_dp_ftrl_coefficients(nu: float, length: int) -> np.ndarray:
    """β_t = (−1)^t C(1/2, t) (1 − ν)^t for t < ``length``: the power series of (1 − (1 − ν) z)^{1/2}."""
    require(0 < nu <= 1, f"nu must lie in (0, 1], got {nu}")
    positive("length", length, integer=True)
    k = np.arange(1, length)
    ratios = (k - 1.5) / k  # (−1)^k C(1/2, k) = (−1)^{k−1} C(1/2, k−1) · (k − 3/2)/k
    return np.concatenate([[1.0], np.cumprod(ratios * (1.0 - nu))])


def inverse_coefficients(coefficients, steps: int) -> np.ndarray:
    """The first ``steps`` coefficients of 1/β(z): the first column of B⁻¹ (scipy's IIR filter of an impulse)."""
    beta = finite_array("coefficients", coefficients)
    require(beta.ndim == 1 and beta[0] != 0, "noise coefficients are a 1-d array with beta_0 != 0")
    impulse = np.zeros(positive("steps", steps, integer=True))
    impulse[0] = 1.0
    return scipy.signal.lfilter([1.0], beta, impulse)


def toeplitz_sensitivity(coefficients, steps: int) -> float:
    """γ_T(β): the largest column norm of B⁻¹ for T = ``steps`` (the first column's; later ones are its truncations)."""
    c = inverse_coefficients(coefficients, steps)
    return float(np.sqrt(c @ c))


class CorrelatedState(NamedTuple):
    x: Any  # (R, d)
    past: Any  # (R, K − 1, d): w_{t−1}, ..., w_{t−K+1} (zeros before the start)


@dataclass(frozen=True, eq=False)
class CorrelatedNoiseSGD(Method):
    """SGD plus Toeplitz-correlated Gaussian noise Σ_τ β_τ w_{t−τ} (Noisy-FTRL); β = (1,) is Noisy-SGD."""

    step_size: Schedule | float
    noise_std: float
    coefficients: np.ndarray = (1.0,)

    name = "correlated-noise-sgd"
    description = "Noisy-FTRL: SGD plus Toeplitz-correlated Gaussian noise sum_k beta_k w_{t-k} (beta = (1,): Noisy-SGD)"
    source = ("Choquette-Choo et al., Correlated Noise Provably Beats Independent Noise for Differentially Private "
              "Learning (arXiv 2310.06771), Noisy-FTRL")

    def __post_init__(self):
        self._schedule_step_size()
        require(self.noise_std >= 0, f"noise_std must be non-negative, got {self.noise_std}")
        beta = finite_array("coefficients", np.atleast_1d(np.asarray(self.coefficients, dtype=np.float64)))
        require(beta.ndim == 1 and beta[0] != 0, "noise coefficients are a 1-d array with beta_0 != 0")
        object.__setattr__(self, "coefficients", beta)

    @property
    def memory(self) -> int:
        """K − 1: how many past noise draws the method keeps."""
        return self.coefficients.size - 1

    def init(self, x0):
        xp = array_namespace(x0)
        return CorrelatedState(x0, xp.zeros((x0.shape[0], self.memory, x0.shape[1]), dtype=x0.dtype))

    def step(self, state, oracle, t):
        xp = array_namespace(state.x)
        g = oracle.stochastic_grad(state.x)
        if not self.noise_std:
            return CorrelatedState(state.x - self.step_size(t) * g, state.past)
        w = self.noise_std * oracle.rng.normal(state.x.shape[1])
        beta = cached_on(device_cache(self), state.x, "coefficients", self.coefficients)
        noise = beta[0] * w
        past = state.past
        if self.memory:
            noise = noise + xp.matmul(beta[None, None, 1:], past)[:, 0, :]
            past = xp.concat([w[:, None, :], past[:, :-1, :]], axis=1)
        return CorrelatedState(state.x - self.step_size(t) * (g + noise), past)

    def spec(self):
        return {"name": self.name, "step_size": repr(self.step_size), "noise_std": self.noise_std,
                "coefficients": array_digest(self.coefficients)}
