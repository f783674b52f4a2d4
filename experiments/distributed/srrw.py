"""srrw, srrw-exact, srrw-two-timescale: stochastic approximation driven by a self-repellent random walk
(SRRW) over the workers — the iterate's asymptotic covariance shrinks with the repellence α.

Source: J. Hu, V. Doshi, D. Y. Eun, "Accelerating Distributed Stochastic Optimization via
Self-Repellent Random Walks", arXiv:2401.09665 (ICLR 2024).  Read: the abstract and summaries
only (SOURCES.md; no full text found): SA-SRRW's iterate errors obey a CLT whose covariance is
never above the base chain's and decreases as O(1/α²) in the favourable two-timescale regime
(the measure x_n on the faster timescale, β_n = o(γ_n)); the summaries say the gain is weaker in
other step-size regimes.  The sampling covariance of the SRRW's empirical measure with γ_n = 1/n
is, as recalled from Doshi, Hu, Eun, "Self-Repellent Random Walks on General Graphs" (ICML 2023;
not re-read here), V_x(α) = Σ_i (1 + λ_i) / ((1 − λ_i)(2α(1 + λ_i) + 1)) φ_i φ_iᵀ over the base
chain's non-unit eigenpairs (μ-orthonormal φ_i), O(1/α); α = 0 is the base chain's classical
asymptotic covariance.  No theorem's exact step-size conditions or constants were read.

Setting: M = 8 workers on a ring, base chain the lazy ring walk P (weights 1/3, reversible, μ
uniform), unit-curvature quadratics f_m(θ) = ½‖θ − b_m‖² (d = 2, ζ² = 1, no extra gradient noise:
all randomness is the walk's), θ_0 at distance 1 from θ* = mean of b_m.  SA-SRRW
(:class:`convsim.distributed.random_walk.SRRWSGD`): X_{n+1} ~ K_{x_n}(X_n, ·) with
K_x(i, j) ∝ P(i, j)(x_j/μ_j)^(−α), x_{n+1} = x_n + γ(δ_X − x_n), θ_{n+1} = θ_n − β ∇f_X(θ_n).
With β_n = γ_n = 1/(n + 2) and unit curvature, θ_n − θ* is, up to an O(1/n) deterministic term,
Σ_m (x_n − μ)_m b_m, so (n + 2) E‖θ_n − θ*‖² → Σ_j b_jᵀ V_x(α) b_j: the recalled formula is the
iterate's exact asymptotic covariance in this same-timescale regime.

``srrw`` — same timescale: E‖θ_T − θ*‖² ~ α^(−1) over α ∈ {4, 8, 16, 32} (Exponent vs α, tight,
tolerance 0.15: the closed form's own local slope over this range is −0.96).  Caught: α set to 0
(every run is the base chain: slope 0) and the measure step changed to (n + 2)^(−0.6) (the
two-timescale regime: a steeper slope).  Blind: α ×2 (a shift along log α at nearly constant slope).

``srrw-exact`` (sharpens ``srrw``): at α = 8, (n + 2) E‖θ_n − θ*‖² equals the closed form within 15%
at the last step n = T (measured within 5–10% at 512 replicas for α = 0..32, T = 1024 at n = 380 and
n = T).  Disclosure: first specified on n ≥ 300 at 512 replicas, inconclusive (the interval at n = 380
is ±12%); re-specified at the last step with 1024 replicas.
Caught: α ×2, α → 0, the complete graph's walk in place of the ring's.

``srrw-two-timescale`` — the paper's amplification: with γ_n = (n + 2)^(−0.6) (x faster) and
β_n = 1/(n + 2), the error at α = 8 is at least 2× below the same-timescale run's (asymptotically
the ratio would be ≈ 6 if the two-timescale covariance were Σ_i (1 + λ_i)/((1 − λ_i)(α(1 + λ_i) + 1)²)
‖v_iᵀf‖²/M, a form we recall but did not read; measured 4.9 at T = 4000 with 256 replicas, 3.66
[3.16, 4.21] at the quick T = 1024).
Disclosure: the factor 2 was chosen after that measurement.  The exponent −2 itself is not tested:
at quick budgets the two-timescale run is pre-asymptotic (local slopes −1.75 over α 4→8 and −1.23
over 8→16 at T = 4000), so such an exponent check would be decided by finite-n bias, not the law.
α → 0 is caught (both runs become the base chain: a tie).

Disclosure (lead, after the default random streams were restored to PCG64): at 512 quick replicas
the fit moved to −0.993 [−1.055, −0.922] and ``srrw-neg`` became inconclusive (its band [−1.35, −1.05]
overlapped the interval by 0.005); the quick replicas of ``srrw`` and its control were doubled to 1024,
the claimed exponents unchanged.  The lead's full-settings mutation run then found ``srrw-exact``
inconclusive at 1024 replicas (mean 1.35e-5 [1.24e-5, 1.458e-5] against the band 1.26e-5 ×/÷ 1.15,
overlapping its edge by 0.6%), so its full replicas were raised to 4096; band unchanged.
Negative controls (near misses): ``srrw-neg`` claims exponent −1.2 (the tolerance plus about the interval
half-width off the true −1; the measured slope is −0.92); ``srrw-exact-neg`` claims the level is 1.3× the closed form.
"""

from functools import lru_cache

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.distributed import WorkerQuadratics, graphs
from convsim.distributed.random_walk import SRRWSGD
from convsim.schedules import power_decay

SOURCE = cs.Source("Accelerating Distributed Stochastic Optimization via Self-Repellent Random Walks "
                   "(Hu, Doshi, Eun)", "2401.09665",
                   "abstract (CLT covariance below the base chain's, O(1/alpha^2) two-timescale); V_x(alpha) of "
                   "Doshi et al. ICML 2023 as recalled")

ALPHAS = (4.0, 8.0, 16.0, 32.0)
SETTINGS = {"workers": 8, "d": 2, "alpha": 8.0, "fast_exponent": 0.6, "steps": 1024, "replicas": 512}


def problem_for(s):
    return WorkerQuadratics.random(s["workers"], s["d"], mu=1.0, L=1.0, zeta=1.0, spread=0.0, sigma=0.0, seed=1)


def walk(s, alpha, measure_step=None):
    return SRRWSGD(power_decay(1.0, 1.0, 2.0), graphs.ring(s["workers"]), alpha, measure_step)


def _run(ctx, s, method):
    return ctx.simulate(problem_for(s), method, s["steps"], replicas=s["replicas"], metrics=["dist_sq"], record=8)


def alpha_sweep(s, ctx):
    return cs.Sweep([{"alpha": a} for a in ALPHAS], [_run(ctx, s, walk(s, a)) for a in ALPHAS])


def sampling_covariance(P: np.ndarray, f: np.ndarray, alpha: float) -> float:
    """Σ_j f_jᵀ V_x(α) f_j for a symmetric P (μ uniform): Σ_i (1+λ_i)/((1−λ_i)(2α(1+λ_i)+1)) ‖v_iᵀ f‖²/M."""
    lam, vecs = np.linalg.eigh(P)
    keep = np.abs(lam - 1.0) > 1e-9
    lam, proj = lam[keep], np.sum((vecs.T @ f) ** 2, axis=1)[keep]
    return float(np.sum((1 + lam) / ((1 - lam) * (2 * alpha * (1 + lam) + 1)) * proj) / P.shape[0])


@lru_cache(maxsize=8)
def _level(workers, d, alpha):
    p = problem_for({"workers": workers, "d": d})
    return sampling_covariance(graphs.ring(workers), p.optima - p.x_star, alpha)


def exponent_check(data, claimed):
    return cs.checks.Exponent("dist_sq", claimed, bound="tight", tolerance=0.15, window=(ALPHAS[0], ALPHAS[-1])).check(
        data.series("dist_sq", over="alpha"))


ASSUMPTIONS = ("lazy ring walk on 8 workers as the base chain (mu uniform)", "unit-curvature quadratics, zeta^2 = 1",
               "beta_n = gamma_n = 1/(n + 2) (same timescale)", "no gradient noise beyond the walk's")

claim = cs.Claim(
    id="srrw",
    family="distributed",
    statement="SA driven by an SRRW with beta_n = gamma_n = 1/n: E||theta_T - theta*||^2 ~ alpha^-1 "
              "(alpha = 4..32, tolerance 0.15)",
    source=SOURCE,
    assumptions=ASSUMPTIONS,
    experiment=alpha_sweep,
    check=lambda data, s: exponent_check(data, -1.0),
    quick={**SETTINGS, "replicas": 1024},
    full={**SETTINGS, "steps": 8192, "replicas": 1024},
    mutations=(mu.drop("alpha", on=SRRWSGD),
               mu.set_field("measure_step", power_decay(1.0, 0.6, 2.0), on=SRRWSGD,
                            name="measure step (n + 2)^-0.6 (two-timescale)"),
               mu.scale("alpha", 2.0, on=SRRWSGD).blind("a shift along log alpha at nearly constant slope")),
)

negative = claim.negative_control("E||theta_T - theta*||^2 ~ alpha^-1.2", lambda data, s: exponent_check(data, -1.2))


def single(s, ctx):
    return _run(ctx, s, walk(s, s["alpha"]))


def exact_check(data, s, factor):
    v = factor * _level(s["workers"], s["d"], s["alpha"])
    return cs.checks.Reference("dist_sq", lambda t: v / (np.asarray(t) + 2.0), rtol=0.15, window=(s["steps"], s["steps"]),
                               what="V_x(alpha)/(n + 2)").check(data)


exact = cs.Claim(
    id="srrw-exact",
    family="distributed",
    statement="at alpha = 8, (n + 2) E||theta_n - theta*||^2 equals the SRRW sampling covariance "
              "sum_i (1+l_i)/((1-l_i)(2 alpha (1+l_i)+1)) <f, phi_i>^2 within 15% at n = T",
    source=SOURCE,
    assumptions=ASSUMPTIONS,
    experiment=single,
    check=lambda data, s: exact_check(data, s, 1.0),
    quick={**SETTINGS, "replicas": 1024},
    full={**claim.full, "replicas": 4096},
    sharpens="srrw",
    mutations=(mu.scale("alpha", 2.0, on=SRRWSGD), mu.drop("alpha", on=SRRWSGD),
               mu.set_field("transition", graphs.complete(8), on=SRRWSGD,
                            name="the complete graph's walk in place of the ring's")),
)

exact_negative = exact.negative_control("(n + 2) E||theta_n - theta*||^2 is 1.3x the SRRW sampling covariance",
                                        lambda data, s: exact_check(data, s, 1.3))


def timescales(s, ctx):
    return {"same": _run(ctx, s, walk(s, s["alpha"])),
            "two": _run(ctx, s, walk(s, s["alpha"], power_decay(1.0, s["fast_exponent"], 2.0)))}


two_timescale = cs.Claim(
    id="srrw-two-timescale",
    family="distributed",
    statement="at alpha = 8, SA-SRRW with the measure on the faster timescale (gamma_n = n^-0.6, beta_n = 1/n) "
              "ends at least 2x below the same-timescale run's E||theta_T - theta*||^2",
    source=SOURCE,
    assumptions=ASSUMPTIONS[:2] + ("beta_n = 1/(n + 2); gamma_n = (n + 2)^-0.6 against 1/(n + 2)",),
    experiment=timescales,
    check=lambda data, s: cs.checks.Compare("dist_sq", 2.0).check(data["two"], data["same"]),
    quick=SETTINGS,
    full=claim.full,
    mutations=(mu.drop("alpha", on=SRRWSGD),),
)
