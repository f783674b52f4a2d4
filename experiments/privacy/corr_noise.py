"""corr-noise, corr-noise-exact, corr-noise-limit: correlated (ν-DP-FTRL) noise beats independent Noisy-SGD noise
at the same privacy level on linear regression; its exact law and the paper's frequency-domain stationary error.

Source: C. A. Choquette-Choo, K. Dvijotham, K. Pillutla, A. Ganesh, T. Steinke, A. Thakurta, "Correlated Noise
Provably Beats Independent Noise for Differentially Private Learning", arXiv:2310.06771 (ICLR 2024).  Read: the
abstract and opening of the full text (ar5iv / arXiv HTML), and the public ICLR reviews, which restate the
algorithm (θ_{t+1} = θ_t − η(g_t + Σ_τ B_{t,τ} w_τ), B lower-triangular Toeplitz, w_τ iid Gaussian), the ν-DP-FTRL
correlation β̂_t = (−1)^t C(1/2, t)(1 − ν)^t, γ_∞(β)² = (1/2π)∫|B(ω)|⁻² dω, the frequency-domain F_∞(β)
(Theorem 2.1, proved through an LTI/Fourier theorem F.2) and the rates: ν-DP-FTRL's asymptotic suboptimality
Õ(d_eff η²/ρ) against Noisy-SGD's O(d η/ρ) on linear regression.  The theorem bodies (the exact ν, the constants of
the Θ bounds) could not be opened here; what is tested is therefore (i) the separation at one setting at equal
(ε, δ), (ii) the exact law of the simulated mechanism, (iii) the paper's frequency-domain formula of the asymptotic
error where it is exact (the LTI system with additive gradient noise).

Setting: streaming linear regression, features a ~ N(0, H) with H = diag(geometric 1 .. 0.05, d = 8), labels
aᵀθ* + ε, ε ~ N(0, 0.1²), one fresh sample per step (each example used once: a single Gaussian release in DP
terms), step η = 0.2, ν = ημ = 0.01 (the paper's scaling of ν with ημ, as recalled), the ν-DP-FTRL series
truncated at K = 64 coefficients (|β_63| ≈ 3e-4), T = 600 steps (the error relaxes at rate ≈ 2ημ = 0.02 per step, so
the second half is stationary).  Privacy: gradients assumed of norm ≤ G = 1 (Noisy-FTRL does
not clip, as in the paper), (ε, δ) = (2, 1e-5), noise multiplier z of one Gaussian release from dp-accounting
(RDP: z = 2.149); noise std s = G z for Noisy-SGD (sensitivity 1) and s = G z γ_T(β) for ν-Noisy-FTRL,
γ_T(β) = the largest column norm of B⁻¹ for T steps (1.456 here) — the same (ε, δ) for both.

``corr-noise`` (compare): ν-Noisy-FTRL's stationary E F(θ) − F* (mean over the second half) is at least 2× below
Noisy-SGD's, paired replicas (1024 quick).  Disclosure: the exact recursion puts the ratio at 2.62; the factor 2
is a choice below it (the paper states Θ-rates, no factor at this size).  Caught: independent noise at the correlated
mechanism's scale (β → (1,), ratio 1/γ² < 1), positively correlated noise (β_k → |β_k|).  Blind: the noise ×½ (both
floors scale alike while DP noise dominates).

``corr-noise-exact`` (sharpens ``corr-noise``): ν-Noisy-FTRL's stationary E F − F* (each replica's mean over the
checkpoints of the second half) equals the exact second-moment recursion of
:func:`convsim.privacy.correlated_noise_moments` (built from the settings, never from the run) averaged over the
same checkpoints, within 5%.  Disclosure: first specified as a Reference at every checkpoint (5%, then 10%); single
checkpoints have a relative spread ≈ 0.7 per replica, so 1024 replicas left the Bonferroni intervals straddling
the band (inconclusive, means within 4%); the time-averaged level replaced it.  Caught: β → (1,), the sensitivity
dropped (s = G z), positively correlated noise (level ×17), noise ×1.2, step ×1.5.  Blind: ν = 0 at the same noise std
(the exact level moves 1%).

``corr-noise-limit``: on the LTI version of the same quadratic (additive gradient noise ξ ~ N(0, 0.1² H) instead
of random features — the system the paper's frequency-domain analysis is exact for), the stationary E F − F* of
ν-Noisy-FTRL equals the frequency-domain integral ½ Σ_j λ_j η² [s² (1/2π)∫|β(e^{iω})|²/|1 − (1 − ηλ_j)e^{iω}|² dω
+ v_j / (1 − (1 − ηλ_j)²)] (scipy quadrature, :func:`convsim.privacy.stationary_error_lti`) within 5%.  Caught:
β → (1,), sensitivity dropped, step ×1.5, positively correlated noise.

Negative controls (near misses): ``corr-noise-neg`` — the win is 1.15× the exact ratio (3.01); ``corr-noise-exact-neg``
— the level is 0.88× the exact recursion's (band 5%); ``corr-noise-limit-neg`` — the stationary error is 0.88× the
integral (band 5%).
"""

from functools import lru_cache

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.privacy import (CorrelatedNoiseSGD, correlated_noise_moments, nu_dp_ftrl_coefficients,
                             stationary_error_lti, toeplitz_sensitivity)
from convsim.privacy.accounting import gaussian_noise_multiplier_for

NEEDS_FLOAT64 = "the exact recursion is matched within 5% on 1000-step runs with a 128-term noise filter"

SOURCE = cs.Source("Correlated Noise Provably Beats Independent Noise for Differentially Private Learning "
                   "(Choquette-Choo, Dvijotham, Pillutla, Ganesh, Steinke, Thakurta)", "2310.06771",
                   "nu-DP-FTRL (Toeplitz noise beta_t = (-1)^t C(1/2,t)(1-nu)^t); Theorem 2.1's frequency-domain F_inf; "
                   "linear-regression separation from Noisy-SGD")


def spectrum(s):
    return cs.spectra.geometric(d=s["d"], L=1.0, mu=s["mu"])


def regression(s):
    return cs.problems.Quadratic(spectrum(s), noise=cs.noise.LinearRegression(s["label_noise"]))


def lti(s):
    return cs.problems.Quadratic(spectrum(s), noise=cs.noise.Gaussian(s["label_noise"], power=1.0))


@lru_cache(maxsize=8)
def _mechanism(eps, delta, nu, K, steps):
    z = gaussian_noise_multiplier_for(eps, delta)
    beta = nu_dp_ftrl_coefficients(nu, K)
    return z, beta, toeplitz_sensitivity(beta, steps)


def mechanism(s):
    """(z, β, γ_T(β)) from the settings: ν = η μ."""
    return _mechanism(s["epsilon"], s["delta"], s["step"] * s["mu"], s["K"], s["steps"])


def methods(s):
    z, beta, gamma = mechanism(s)
    G = s["G"]
    return (CorrelatedNoiseSGD(s["step"], G * z * gamma, beta), CorrelatedNoiseSGD(s["step"], G * z, np.ones(1)))


def run(problem, method, s, ctx):
    return ctx.simulate(problem, method, s["steps"], replicas=s["replicas"], metrics=["suboptimality"], record=24)


def experiment(s, ctx):
    ftrl, sgd = methods(s)
    p = regression(s)
    return {"ftrl": run(p, ftrl, s, ctx), "sgd": run(p, sgd, s, ctx)}


def window(s):
    return (s["steps"] / 2, s["steps"])


def exact_curve(problem, s, steps):
    z, beta, gamma = mechanism(s)
    return correlated_noise_moments(problem, s["step"], beta, s["G"] * z * gamma, s["steps"], record=steps)


@lru_cache(maxsize=8)
def _exact_ratio(key):
    s = dict(key)
    _, beta, gamma = mechanism(s)
    z = mechanism(s)[0]
    grid = np.arange(s["steps"] // 2, s["steps"] + 1)
    p = regression(s)
    f = correlated_noise_moments(p, s["step"], beta, s["G"] * z * gamma, s["steps"], record=grid)
    g = correlated_noise_moments(p, s["step"], np.ones(1), s["G"] * z, s["steps"], record=grid)
    inside = f["steps"] >= s["steps"] / 2  # checkpoints() adds t = 0
    return float(g["suboptimality"][inside].mean() / f["suboptimality"][inside].mean())


def exact_ratio(s):
    return _exact_ratio(tuple(sorted(s.items())))


def beats(data, s, factor):
    return cs.checks.Compare("suboptimality", factor, window=window(s)).check(data["ftrl"], data["sgd"])


SETTINGS = {"d": 8, "mu": 0.05, "label_noise": 0.1, "step": 0.2, "K": 64, "G": 1.0, "epsilon": 2.0,
            "delta": 1e-5, "steps": 600, "replicas": 1024}
FULL = {**SETTINGS, "steps": 2000, "replicas": 4096}


def independent_at_correlated_scale(method):
    return None if method.memory == 0 else CorrelatedNoiseSGD(method.step_size, method.noise_std, np.ones(1))


def positively_correlated(method):
    return None if method.memory == 0 else CorrelatedNoiseSGD(method.step_size, method.noise_std,
                                                              np.abs(method.coefficients))


INDEPENDENT = mu.custom("independent noise at the correlated mechanism's scale (beta -> (1,))",
                        independent_at_correlated_scale, on=CorrelatedNoiseSGD)
POSITIVE = mu.custom("positively correlated noise (beta_k -> |beta_k|)", positively_correlated, on=CorrelatedNoiseSGD)


def sensitivity_dropped(method):
    if method.memory == 0:
        return None
    s = SETTINGS  # the quick and full runs share the mechanism's (epsilon, delta, nu, K, T)
    return CorrelatedNoiseSGD(method.step_size, method.noise_std / mechanism(s)[2], method.coefficients)


def nu_zero(method):
    return None if method.memory == 0 else CorrelatedNoiseSGD(
        method.step_size, method.noise_std, nu_dp_ftrl_coefficients(1e-12, method.coefficients.size))


SENSITIVITY = mu.custom("sensitivity gamma_T(beta) dropped from the noise std", sensitivity_dropped,
                        on=CorrelatedNoiseSGD)
NU_ZERO = mu.custom("nu = 0 (undamped square-root correlation)", nu_zero, on=CorrelatedNoiseSGD)

claim = cs.Claim(
    id="corr-noise",
    family="privacy",
    statement="at the same (epsilon, delta) = (2, 1e-5), nu-Noisy-FTRL's stationary E F - F* on streaming linear "
              "regression is at least 2x below independent Noisy-SGD's",
    source=SOURCE,
    assumptions=("streaming linear regression, Gaussian features, one sample per step (single participation)",
                 "gradients assumed bounded by G = 1, no clipping (Noisy-FTRL)", "constant step 0.2, nu = step*mu",
                 "noise calibrated by dp-accounting for one Gaussian release with sensitivity G*gamma_T(beta)"),
    experiment=experiment,
    check=lambda data, s: beats(data, s, 2.0),
    quick=SETTINGS,
    full=FULL,
    mutations=(INDEPENDENT, POSITIVE,
               mu.scale("noise_std", 0.5).blind("both floors scale alike while the DP noise dominates")),
)

negative = claim.negative_control(
    "nu-Noisy-FTRL wins by at least 1.15x the exact ratio of the two stationary errors",
    lambda data, s: beats(data, s, 1.15 * exact_ratio(s)),
)


def matches(data, s, factor):
    trace = data["ftrl"]
    lo, hi = window(s)
    inside = (trace.steps >= lo) & (trace.steps <= hi)
    curve = exact_curve(regression(s), s, trace.steps)["suboptimality"]
    level = float(np.mean(curve[inside]))  # over the checkpoints Level averages
    return cs.checks.Level("suboptimality", factor * level, rtol=0.05, window=(lo, hi)).check(trace)


exact = cs.Claim(
    id="corr-noise-exact",
    family="privacy",
    statement="nu-Noisy-FTRL's stationary E F - F* on streaming linear regression equals its exact second-moment "
              "recursion (averaged over the same checkpoints of the second half) within 5%",
    source=SOURCE,
    assumptions=("diagonal H, Gaussian features (fourth moment 2HSH + tr(HS)H)", "the banded (K = 128) Toeplitz noise"),
    experiment=experiment,
    check=lambda data, s: matches(data, s, 1.0),
    quick=SETTINGS,
    full=FULL,
    sharpens="corr-noise",
    mutations=(INDEPENDENT, SENSITIVITY, POSITIVE, mu.scale("noise_std", 1.2), mu.scale("step_size", 1.5),
               NU_ZERO.blind("at the same noise std the undamped series moves the exact level by 1% (1.109 vs "
                             "1.120): the damping matters through the sensitivity, not the filter")),
)

exact_negative = exact.negative_control(
    "nu-Noisy-FTRL's stationary E F - F* is 0.88x its exact recursion",
    lambda data, s: matches(data, s, 0.88),
)


def lti_experiment(s, ctx):
    return run(lti(s), methods(s)[0], s, ctx)


def limit_level(s):
    z, beta, gamma = mechanism(s)
    lam = spectrum(s)
    return stationary_error_lti(lam, s["step"], beta, s["G"] * z * gamma, s["label_noise"] ** 2 * lam)["suboptimality"]


def at_limit(trace, s, factor):
    return cs.checks.Level("suboptimality", factor * limit_level(s), rtol=0.05, window=window(s)).check(trace)


limit = cs.Claim(
    id="corr-noise-limit",
    family="privacy",
    statement="on the LTI quadratic (additive gradient noise), nu-Noisy-FTRL's stationary E F - F* equals the "
              "frequency-domain integral of the paper within 5%",
    source=SOURCE,
    assumptions=("quadratic with additive Gaussian gradient noise N(0, 0.1^2 H)", "constant step, stationary window"),
    experiment=lti_experiment,
    check=lambda trace, s: at_limit(trace, s, 1.0),
    quick=SETTINGS,
    full=FULL,
    mutations=(INDEPENDENT, SENSITIVITY, POSITIVE, mu.scale("step_size", 1.5)),
)

limit_negative = limit.negative_control(
    "the stationary error is 0.88x the frequency-domain integral",
    lambda trace, s: at_limit(trace, s, 0.88),
)
