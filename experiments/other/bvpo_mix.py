"""bvpo-mix: mixing a trace-based and an empty-trace gradient estimator with the closed-form weight minimizes the MSE.

Source: M. Zhu, X. Chen, B. Yu, H. Zhao & J. Jia, "From Noisy Traces to Stable Gradients: Bias–Variance
Optimized Preference Optimization for Aligning Large Reasoning Models", arXiv:2510.05095, seed [S143].
What was read: the abstract and structured summaries (arxiv.org/html/2510.05095v1 opening;
sciencestack.ai/paper/2510.05095): BVPO mixes g_c = α g_t + (1 − α) g_e, a high-variance trace-based
estimator g_t and a low-variance empty-trace estimator g_e, and gives "a closed-form choice of the
mixing weight that minimizes mean-squared error relative to the true marginal gradient".  The
theorem body was not reachable, so the closed form is derived here (it is the minimizer of the exact
quadratic MSE(α), see :mod:`convsim.estimators.mixing`): with g_t unbiased, g_e biased by b, V_t, V_e
their variances and C their covariance, α* = (V_e + ‖b‖² − C)/(V_t + V_e + ‖b‖² − 2C).  (CLAIMS.md calls
both estimators unbiased; the paper's empty-trace estimator is biased — the paper wins.)

Setting: d = 10, g = (1, …, 1), g_t = g + 2 z₁, g_e = g + b + (0.3 z₁ + √0.91 z₂), ‖b‖²/d = 1: V_t = 40,
V_e = 10, C = 6, ‖b‖² = 10, α* = 14/48 = 0.2917.  Each replica draws one pair; every weight is
evaluated on the same pair (common random numbers), so the paired comparisons resolve tiny MSE gaps.
Weights: 0, the bias-blind weight (V_e − C)/(V_t + V_e − 2C) = 0.105, α* ∓ 0.025, the weight the rule
under test computes, 1.

Claims:
  - bvpo-mix: the estimator with the rule's weight has a smaller MSE than every other weight (paired
    Compare, factor 1, Bonferroni over the 5 competitors); its closest competitors α* ± 0.025 are worse
    by the exact factor 1 + 0.025² · 48/MSE(α*) = 1.0019.
  - bvpo-mix-exact (sharp companion): the Monte Carlo MSE equals the exact MSE(α) within 3% at every
    weight (Reference).
  - bvpo-mix-neg (near miss): "the bias-blind (inverse-variance) weight minimizes the MSE", the weight
    that is optimal for two *unbiased* estimators; it is worse than α* by the exact factor 1.11.

Mutations: the rule forgets the bias (α = 0.105: caught) or the covariance (α = 1/3, 0.042 from α*:
caught); in the companion, the pair's bias ×0.5 and its correlation dropped move the MSE curve away from
the exact one (caught); the correlation dropped is blind for bvpo-mix (the rule reads the pair's
moments, so its weight stays optimal for the mutated pair — the closed form is optimal for every pair).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.estimators.mixing import GaussianPair, OptimalMixingWeight, mixture_squared_errors, optimal_weight
from convsim.estimators.runner import as_series, best_of, reference_at_every_point, sample_rows

SOURCE = cs.Source("From Noisy Traces to Stable Gradients: Bias-Variance Optimized Preference Optimization for "
                   "Aligning Large Reasoning Models (Zhu, Chen, Yu, Zhao & Jia)", "2510.05095",
                   "closed-form MSE-optimal mixing weight (abstract; the closed form derived from the exact MSE)")

PAIR = GaussianPair(dim=10, sigma_t=2.0, sigma_e=1.0, rho=0.3, bias=1.0)
RULE_COLUMN = 3


def bias_blind_weight(m):
    return (m["V_e"] - m["C"]) / (m["V_t"] + m["V_e"] - 2 * m["C"])


def weights(s, rule_weight):
    m = PAIR.moments()
    a = optimal_weight(m)
    return np.array([0.0, bias_blind_weight(m), a - s["delta"], rule_weight, a + s["delta"], 1.0])


def experiment(s, ctx):
    pair, rule = ctx.mutate(PAIR), ctx.mutate(OptimalMixingWeight())
    alphas = weights(s, rule(pair.moments()))
    replicas = ctx.replicas or s["replicas"]
    config = {"simulator": "mixture", "pair": pair, "rule": rule, "alphas": alphas, "replicas": replicas}

    def run():
        def draw(rng, xp):
            return mixture_squared_errors(pair, [float(a) for a in alphas], rng, xp, xp.ones(pair.dim) + 0.0)
        values = sample_rows(draw, replicas, seed=ctx.seed, backend=ctx.backend, dtype=ctx.dtype)
        return cs.Trace(np.arange(alphas.size), {"sq_error": values}, np.full(replicas, -1), {}, {})

    trace = ctx.cached(config, run)
    return as_series(trace.values("sq_error"), alphas, "alpha", "sq_error")


claim = cs.Claim(
    id="bvpo-mix", family="other",
    statement="the closed-form weight (V_e + |b|^2 - C)/(V_t + V_e + |b|^2 - 2C) gives the mixture of smallest MSE",
    source=SOURCE,
    assumptions=("g_t unbiased, g_e biased by b", "second moments known", "one draw of the pair per replica"),
    experiment=experiment,
    check=lambda data, s: best_of(data, RULE_COLUMN, reference=PAIR.mse(data.x)),
    quick={"replicas": 2**12, "delta": 0.025}, full={"replicas": 2**16, "delta": 0.01},
    mutations=(mu.set_field("include_bias", False), mu.set_field("include_covariance", False),
               mu.drop("rho").blind("the rule reads the pair's moments, so its weight stays optimal for the "
                                    "mutated pair: the closed form is optimal for every pair")))

exact = cs.Claim(
    id="bvpo-mix-exact", family="other", sharpens="bvpo-mix",
    statement="Monte Carlo MSE of alpha g_t + (1 - alpha) g_e = alpha^2 V_t + (1-alpha)^2 (V_e + |b|^2) "
              "+ 2 alpha (1-alpha) C",
    source=SOURCE, assumptions=claim.assumptions, experiment=experiment,
    check=lambda data, s: reference_at_every_point("sq_error", PAIR.mse(data.x), rtol=0.03, what="exact MSE")(data),
    quick=claim.quick, full=claim.full,
    mutations=(mu.scale("bias", 0.5), mu.drop("rho"), mu.scale("sigma_t", 1.1)))

negative = claim.negative_control(
    "the bias-blind weight (V_e - C)/(V_t + V_e - 2C) (optimal for two unbiased estimators) gives the smallest MSE",
    lambda data, s: best_of(data, 1, reference=PAIR.mse(data.x)))
