"""vi-estimators: score-function and reparameterization ELBO gradients are both unbiased, with very different variances.

Source: M. Becker, A. K. Lew, X. Wang, M. Ghavami, M. Huot, M. C. Rinard & V. K. Mansinghka, "Probabilistic
Programming with Programmable Variational Inference", arXiv:2406.15742 (PLDI 2024), seed [S152].  What was
read: the abstract: variational objectives written as programs are transformed "systematically into
unbiased gradient estimators", combining strategies such as REINFORCE (score function) and
reparameterization.  Theorem bodies were not read; what is tested is the property the paper's
construction guarantees — unbiasedness of both strategies — with the closed-form moments of both on a
Gaussian model (:mod:`convsim.estimators.elbo`), which also shows the variance gap that makes the choice
of strategy matter.

Setting: target p = N(1, 1), family q = N(μ = 0, σ = 0.5); ∂ELBO/∂μ = 1.  One ε ~ N(0, 1) per replica
feeds both estimators (abscissa "estimator": 1 score function, 2 reparameterization).  Exact variances:
score function 5.394, reparameterization 0.25 (ratio 21.6).

Claims:
  - vi-estimators: the Monte Carlo mean of each estimator equals ∂ELBO/∂μ = 1 within 5% (Reference).
  - vi-estimators-neg (near miss): their mean is −(μ − m)/(s² + σ²) = 0.8, the gradient of log E_q p (the
    marginal likelihood) instead of E_q log p.
  - vi-estimators-variance: E(g − ∂ELBO/∂μ)² equals the exact variances (5.394 and 0.25) within 10%.
  - vi-estimators-variance-neg (near miss): the score-function variance computed as if f(z) and the score
    were independent, E f² E ε²/σ² − g² = 3.802 (29% below).

Mutations: the score missing a factor 1/σ (caught by the mean claim); a constant baseline 1.0 (blind for
the mean — a constant baseline keeps the score function unbiased — caught by the variance claim: 9.94);
the entropy term left out of f (blind for the mean: the entropy of q does not depend on μ; caught by the
variance claim: 15.2); the reparameterization path's noise ×2 (blind for the mean: the pathwise gradient is
linear in ε; caught by the variance claim: ×4).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.estimators.elbo import GaussianELBO, ReparameterizationGradient, ScoreFunctionGradient, gradient_draws
from convsim.estimators.runner import as_series, reference_at_every_point, sample_rows

SOURCE = cs.Source("Probabilistic Programming with Programmable Variational Inference (Becker et al.)", "2406.15742",
                   "unbiased REINFORCE and reparameterization gradient estimators (abstract); Gaussian moments "
                   "in closed form")

MODEL = GaussianELBO(target_mean=1.0, target_std=1.0, mu=0.0, sigma=0.5)


def draws(s, ctx):
    model = MODEL
    estimators = ctx.mutate([ScoreFunctionGradient(), ReparameterizationGradient()])
    replicas = ctx.replicas or s["replicas"]

    def run():
        values = sample_rows(lambda rng, xp: gradient_draws(model, estimators, rng, xp), replicas, seed=ctx.seed,
                             backend=ctx.backend, dtype=ctx.dtype)
        return cs.Trace(np.arange(1, 3), {"grad_mu": values}, np.full(replicas, -1), {}, {})

    return ctx.cached({"simulator": "elbo-gradients", "model": model, "estimators": estimators,
                       "replicas": replicas}, run)


def mean_experiment(s, ctx):
    return as_series(draws(s, ctx).values("grad_mu"), [1, 2], "estimator", "grad_mu")


def variance_experiment(s, ctx):
    g = draws(s, ctx).values("grad_mu")
    return as_series((g - MODEL.grad_mu()) ** 2, [1, 2], "estimator", "sq_error")


def check_mean(data, s, value=None, what="dELBO/dmu"):
    value = MODEL.grad_mu() if value is None else value
    return reference_at_every_point("grad_mu", np.full(2, value), rtol=0.05, what=what)(data)


def check_variance(data, s, independent=False):
    sf = MODEL.variance_score_function()
    if independent:
        c0, c1, c2 = MODEL.coefficients()
        sf = (c0 * c0 + c1 * c1 + 3 * c2 * c2 + 2 * c0 * c2) / MODEL.sigma**2 - (c1 / MODEL.sigma) ** 2
    ref = np.array([sf, MODEL.variance_reparameterization()])
    return reference_at_every_point("sq_error", ref, rtol=0.1, what="exact variance")(data)


claim = cs.Claim(
    id="vi-estimators", family="other",
    statement="score-function and reparameterization estimators of dELBO/dmu are unbiased (mean = -(mu - m)/s^2)",
    source=SOURCE, assumptions=("p = N(1, 1), q = N(0, 0.5^2)", "one sample per estimate"),
    experiment=mean_experiment, check=check_mean,
    quick={"replicas": 2**18}, full={"replicas": 2**21},
    mutations=(mu.set_field("score_power", 1),
               mu.set_field("baseline", 1.0).blind("a constant baseline keeps the score function unbiased"),
               mu.set_field("include_entropy", False).blind("the entropy of q does not depend on mu"),
               mu.scale("noise_scale", 2.0).blind("the pathwise gradient is linear in eps: a wrong noise scale "
                                                  "keeps its mean")))

negative = claim.negative_control(
    "the estimators' mean is -(mu - m)/(s^2 + sigma^2), the gradient of log E_q p",
    lambda data, s: check_mean(data, s, 1.0 / (1.0 + MODEL.sigma**2), "d log E_q p/dmu"))

variance = cs.Claim(
    id="vi-estimators-variance", family="other",
    statement="Var of the score-function estimator = [c0^2 + 3c1^2 + 15c2^2 + 6c0c2]/sigma^2 - g^2 (5.39), "
              "of the reparameterization estimator = sigma^2/s^4 (0.25)",
    source=SOURCE, assumptions=claim.assumptions, experiment=variance_experiment, check=check_variance,
    quick=claim.quick, full=claim.full,
    mutations=(mu.set_field("baseline", 1.0), mu.set_field("include_entropy", False), mu.scale("noise_scale", 2.0)))

variance_negative = variance.negative_control(
    "the score-function variance as if f(z) and the score were independent: E f^2 E eps^2/sigma^2 - g^2",
    lambda data, s: check_variance(data, s, independent=True))
