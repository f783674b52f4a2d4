"""Learning the mean of a 1-d Gaussian from an unnormalized model: compositional MLE against NCE.

Data x ~ N(θ*, 1); the unnormalized model is p̃(u; θ) = exp(−(u − θ)²/2); the noise is q = N(μ_q, σ_q²).

* :class:`CompositionalMLE` — stochastic gradient descent on the negative log-likelihood
  F(θ) = E_d (x − θ)²/2 + log Z(θ), Z(θ) = E_q[p̃(y; θ)/q(y)], with Z tracked by a moving average u of its
  importance-sampled estimates (the inner function of a compositional objective): the step is
  θ ← θ − η [−mean(x − θ) + Ê_q[p̃(y)(y − θ)/q(y)] / u].
* :class:`NCE` — noise-contrastive estimation (Gutmann & Hyvärinen 2012) of the natural parameters
  (η₁, η₀) of log p_m(u) = −u²/2 + η₁u + η₀ (θ = η₁, the log-normalizer η₀ learnt as a parameter): the
  classifier h(u) = σ(log p_m(u) − log(ν q(u))), ν the noise ratio, either trained by SGD (:meth:`NCE.step`,
  the same step size as the compositional method) or solved exactly on one sample (:meth:`NCE.estimate`,
  Newton on the convex NCE loss).
* :func:`nce_asymptotic_variance` — Gutmann & Hyvärinen's Theorem 3, Σ = I⁻¹ − (1 + 1/ν) I⁻¹ m mᵀ I⁻¹ with
  I = ∫ T Tᵀ P_ν p_d, m = ∫ T P_ν p_d, P_ν = νq/(p_d + νq), T(u) = (u, 1); n·Var θ̂ → Σ₁₁ (the MLE's is 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import positive

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _log_sigmoid(xp, z):
    # log σ(z) without overflow for either sign of z
    return -(xp.log1p(xp.exp(-xp.abs(z))) + xp.where(z < 0, -z, 0.0 * z))


def _sigmoid(xp, z):
    return xp.exp(_log_sigmoid(xp, z))


@dataclass(frozen=True)
class GaussianMeanEstimation:
    """Data N(θ*, 1), noise N(μ_q, σ_q²); every step sees ``data_batch`` data and ``noise_batch`` noise draws."""

    true_mean: float = 3.0
    noise_mean: float = 0.0
    noise_std: float = 2.0
    data_batch: int = 8
    noise_batch: int = 8

    def __post_init__(self):
        positive("noise_std", self.noise_std)
        positive("data_batch", self.data_batch, integer=True)
        positive("noise_batch", self.noise_batch, integer=True)

    def log_noise(self, y, xp):
        z = (y - self.noise_mean) / self.noise_std
        return -z * z / 2 - LOG_SQRT_2PI - math.log(self.noise_std)

    def draw(self, rng, xp, data: int | None = None, noise: int | None = None):
        """(x, y) of shapes (R, data) and (R, noise), in one draw (a stream's buffer is reused per shape)."""
        n, m = data or self.data_batch, noise or self.noise_batch
        z = rng.normal(n + m)
        return self.true_mean + z[:, :n], self.noise_mean + self.noise_std * z[:, n:]


class CompositionalState(NamedTuple):
    theta: object
    partition: object
    """u: the moving average of the importance-sampled Z(θ) (NaN before the first step)."""


@dataclass(frozen=True)
class CompositionalMLE:
    """SGD on the NLL with a moving-average estimate of the partition function (the inner function)."""

    step: float = 0.1
    average: float = 0.1
    """β in u ← (1 − β) u + β Ẑ; the first step takes u = Ẑ."""

    def init(self, problem, xp, like):
        return CompositionalState(xp.zeros_like(like) + problem.noise_mean, xp.zeros_like(like) + float("nan"))

    def update(self, problem, state, x, y, xp):
        theta = state.theta[:, None]
        weights = xp.exp(-(y - theta) ** 2 / 2 - problem.log_noise(y, xp))
        z_hat = xp.mean(weights, axis=1)
        dz_hat = xp.mean(weights * (y - theta), axis=1)
        u = xp.where(xp.isnan(state.partition), z_hat, (1 - self.average) * state.partition + self.average * z_hat)
        grad = -xp.mean(x - theta, axis=1) + dz_hat / u
        return CompositionalState(state.theta - self.step * grad, u)

    def mean(self, state):
        return state.theta


class NCEState(NamedTuple):
    eta1: object
    eta0: object


@dataclass(frozen=True)
class NCE:
    """Noise-contrastive estimation of (η₁, η₀); ``noise_ratio`` ν is the ratio of noise to data draws."""

    step: float = 0.1
    noise_ratio: float = 1.0
    logistic_weighting: bool = True
    """False: the estimating equation without the classifier's weights 1 − h(x), h(y) (a planted mistake)."""

    def __post_init__(self):
        positive("noise_ratio", self.noise_ratio)

    def _weights(self, problem, eta1, eta0, x, y, xp):
        """(1 − h(x), h(y)): the classifier's errors on data and noise."""
        def logit(u):
            log_model = -u * u / 2 + eta1[:, None] * u + eta0[:, None]
            return log_model - problem.log_noise(u, xp) - math.log(self.noise_ratio)
        gx, gy = logit(x), logit(y)
        if not self.logistic_weighting:
            return xp.ones_like(gx), xp.ones_like(gy)
        return _sigmoid(xp, -gx), _sigmoid(xp, gy)

    def gradient(self, problem, eta1, eta0, x, y, xp):
        """∇ of the NCE loss −mean_d log h(x) − ν mean_q log(1 − h(y)) in (η₁, η₀)."""
        wx, wy = self._weights(problem, eta1, eta0, x, y, xp)
        nu = self.noise_ratio
        g1 = -xp.mean(wx * x, axis=1) + nu * xp.mean(wy * y, axis=1)
        g0 = -xp.mean(wx, axis=1) + nu * xp.mean(wy, axis=1)
        return g1, g0

    def init(self, problem, xp, like):
        # start at the noise mean with the exact normalizer of N(θ, 1) there
        theta = xp.zeros_like(like) + problem.noise_mean
        return NCEState(theta, -theta * theta / 2 - LOG_SQRT_2PI)

    def update(self, problem, state, x, y, xp):
        # SGD in the mean parameterization (θ, c), log p_m = −(u − θ)²/2 + c, like the compositional method;
        # with η₁ = θ, η₀ = c − θ²/2 the chain rule gives ∂/∂θ = ∂/∂η₁ − θ ∂/∂η₀ and ∂/∂c = ∂/∂η₀
        g1, g0 = self.gradient(problem, state.eta1, state.eta0, x, y, xp)
        theta, c = state.eta1, state.eta0 + state.eta1 * state.eta1 / 2
        grad_theta = g1 - theta * g0
        theta_new, c_new = theta - self.step * grad_theta, c - self.step * g0
        return NCEState(theta_new, c_new - theta_new * theta_new / 2)

    def mean(self, state):
        return state.eta1

    def estimate(self, problem, x, y, xp, iterations: int = 4):
        """The NCE estimate θ̂ on one sample per replica: Newton's method on the convex loss, from the MLE."""
        eta1 = xp.mean(x, axis=1)
        eta0 = -eta1 * eta1 / 2 - LOG_SQRT_2PI
        for _ in range(iterations):
            g1, g0 = self.gradient(problem, eta1, eta0, x, y, xp)
            # the Hessian of the (correct) NCE loss: h(1 − h) T Tᵀ on data and ν × on noise
            wx, wy = NCE(self.step, self.noise_ratio)._weights(problem, eta1, eta0, x, y, xp)
            sx, sy = wx * (1 - wx), wy * (1 - wy)
            nu = self.noise_ratio
            h11 = xp.mean(sx * x * x, axis=1) + nu * xp.mean(sy * y * y, axis=1)
            h10 = xp.mean(sx * x, axis=1) + nu * xp.mean(sy * y, axis=1)
            h00 = xp.mean(sx, axis=1) + nu * xp.mean(sy, axis=1)
            det = h11 * h00 - h10 * h10
            eta1, eta0 = eta1 - (h00 * g1 - h10 * g0) / det, eta0 - (h11 * g0 - h10 * g1) / det
        return eta1


def squared_errors(problem: GaussianMeanEstimation, methods, steps: int, rng, xp):
    """(θ_T − θ*)² of every method after ``steps`` SGD steps, all fed the same draws: shape (R, len(methods))."""
    positive("steps", steps, integer=True)
    states = None
    for _ in range(steps):
        x, y = problem.draw(rng, xp)
        if states is None:
            states = [m.init(problem, xp, x[:, 0]) for m in methods]
        states = [m.update(problem, s, x, y, xp) for m, s in zip(methods, states)]
    return xp.stack([(m.mean(s) - problem.true_mean) ** 2 for m, s in zip(methods, states)], axis=1)


def scaled_estimation_errors(problem: GaussianMeanEstimation, nce: NCE, samples: int, noise: int, rng, xp):
    """n (θ̂ − θ*)² of the MLE (the sample mean) and of the NCE estimate on n = ``samples`` data and ``noise``
    noise draws: shape (R, 2).  With ``nce.noise_ratio`` = noise/n their means tend to 1 and Σ₁₁
    (:func:`nce_asymptotic_variance`); another ratio in the classifier biases the NCE estimate."""
    positive("samples", samples, integer=True)
    positive("noise", noise, integer=True)
    x, y = problem.draw(rng, xp, samples, noise)
    mle = xp.mean(x, axis=1)
    theta = nce.estimate(problem, x, y, xp)
    return xp.stack([samples * (mle - problem.true_mean) ** 2, samples * (theta - problem.true_mean) ** 2], axis=1)


def nce_asymptotic_variance(problem: GaussianMeanEstimation, noise_ratio: float) -> float:
    """Σ₁₁ of Gutmann & Hyvärinen (2012, Thm 3) for θ = η₁ (quadrature): n Var θ̂_NCE → Σ₁₁."""
    import scipy.integrate
    import scipy.stats

    nu = positive("noise_ratio", noise_ratio)
    data = scipy.stats.norm(problem.true_mean, 1.0)
    noise = scipy.stats.norm(problem.noise_mean, problem.noise_std)

    def moment(f):
        def integrand(u):
            # P_ν p_d = p_d σ(log νq − log p_d), in logs so that the far tails give 0, not 0/0
            log_pd, log_ratio = data.logpdf(u), math.log(nu) + noise.logpdf(u) - data.logpdf(u)
            return f(u) * math.exp(log_pd - float(np.logaddexp(0.0, -log_ratio)))
        return scipy.integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200)[0]

    info = np.array([[moment(lambda u: u * u), moment(lambda u: u)], [moment(lambda u: u), moment(lambda u: 1.0)]])
    m = info[:, 1].copy()  # ∫ T P_ν p_d = (∫ u P_ν p_d, ∫ P_ν p_d)
    inv = np.linalg.inv(info)
    sigma = inv - (1 + 1 / nu) * inv @ np.outer(m, m) @ inv
    return float(sigma[0, 0])
