"""Score-function and reparameterization estimators of an ELBO gradient, with exact moments (Gaussian case).

Target p = N(m, s²) (an unnormalized posterior's log density), variational family q = N(μ, σ²);
ELBO(μ, σ) = E_q[log p(z) − log q(z)] and ∂ELBO/∂μ = −(μ − m)/s².  With z = μ + σ ε, ε ~ N(0, 1):

* reparameterization (pathwise): g_R = ∂/∂μ [log p(μ + σε) − log q(μ + σε; μ, σ)] = −(μ + σε − m)/s²
  (the log q term's total μ-derivative vanishes), Var g_R = σ²/s⁴;
* score function (REINFORCE): g_S = (f(z) − baseline) ∂_μ log q(z) = (f(z) − baseline) ε/σ, f = log p − log q.
  f = c₀ + c₁ε + c₂ε² with c₂ = ½ − σ²/(2s²), c₁ = −σ(μ − m)/s², c₀ = −(μ − m)²/(2s²) + log(σ/s), so
  E g_S = c₁/σ (unbiased for any constant baseline) and E g_S² = [(c₀ − baseline)² + 3c₁² + 15c₂² + 6(c₀ − baseline)c₂]/σ²
  (Gaussian moments E ε⁴ = 3, E ε⁶ = 15).

These are the two estimation strategies that Becker et al. (arXiv:2406.15742) derive by program
transformation (REINFORCE and reparameterization); both unbiased, with very different variances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import positive


@dataclass(frozen=True)
class GaussianELBO:
    """Target N(target_mean, target_std²), family N(mu, sigma²): the ELBO's μ-gradient and both estimators' moments."""

    target_mean: float = 1.0
    target_std: float = 1.0
    mu: float = 0.0
    sigma: float = 0.5

    def __post_init__(self):
        positive("target_std", self.target_std)
        positive("sigma", self.sigma)

    def grad_mu(self) -> float:
        return -(self.mu - self.target_mean) / self.target_std**2

    def coefficients(self):
        m, s, mu, sg = self.target_mean, self.target_std, self.mu, self.sigma
        return (-(mu - m) ** 2 / (2 * s * s) + math.log(sg / s), -sg * (mu - m) / (s * s), 0.5 - sg * sg / (2 * s * s))

    def variance_reparameterization(self) -> float:
        return self.sigma**2 / self.target_std**4

    def variance_score_function(self, baseline: float = 0.0) -> float:
        c0, c1, c2 = self.coefficients()
        c0 = c0 - baseline
        return (c0 * c0 + 3 * c1 * c1 + 15 * c2 * c2 + 6 * c0 * c2) / self.sigma**2 - (c1 / self.sigma) ** 2

    def log_p(self, z):
        return -0.5 * ((z - self.target_mean) / self.target_std) ** 2 - math.log(self.target_std) - 0.5 * math.log(2 * math.pi)

    def log_q(self, z):
        return -0.5 * ((z - self.mu) / self.sigma) ** 2 - math.log(self.sigma) - 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class ScoreFunctionGradient:
    """REINFORCE: (log p(z) − [log q(z)] − baseline) · ∂_μ log q(z), z ~ q; ``score_power`` 2 is the true score
    (z − μ)/σ² (1: a score missing a factor 1/σ); ``include_entropy`` False drops −log q."""

    baseline: float = 0.0
    include_entropy: bool = True
    score_power: int = 2

    def __call__(self, model: GaussianELBO, eps):
        z = model.mu + model.sigma * eps
        f = model.log_p(z) - (model.log_q(z) if self.include_entropy else 0.0)
        return (f - self.baseline) * (z - model.mu) / model.sigma**self.score_power


@dataclass(frozen=True)
class ReparameterizationGradient:
    """Pathwise: d/dμ of log p(μ + σε) (the entropy's pathwise μ-derivative is 0); ``noise_scale`` multiplies σ in
    the path (1: the true path)."""

    noise_scale: float = 1.0

    def __call__(self, model: GaussianELBO, eps):
        z = model.mu + self.noise_scale * model.sigma * eps
        return -(z - model.target_mean) / model.target_std**2


def gradient_draws(model: GaussianELBO, estimators, rng, xp):
    """Each estimator's μ-gradient for every replica of ``rng`` (shape (R, len(estimators))), one ε per replica shared."""
    eps = rng.normal(1)[:, 0]
    return xp.stack([est(model, eps) for est in estimators], axis=1)
