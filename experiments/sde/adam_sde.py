"""adam-sde: RMSprop and Adam follow their SDEs; the weak error vanishes as η → 0.

Source: S. Malladi, K. Lyu, A. Panigrahi & S. Arora, "On the SDEs and Scaling Rules for
Adaptive Gradient Algorithms", NeurIPS 2022, arXiv:2205.10287, Sec. 4 (the RMSprop and
Adam SDEs and their weak-approximation theorems).  With σ0 = ση, ε0 = εη and
c_i = (1 − β_i)/η² held fixed, RMSprop/Adam with learning rate η are weak
approximations of their SDEs on the time scale t = kη²:

    | E g(θ_k) − E g(Θ_{kη²}) | → 0 as η → 0,   k = ⌊T/η²⌋.

What is encoded: the stored copy of the paper gave us its abstract and introduction
only, so the exact form of the bound could not be read there; the lead's reading of the
theorem (issue #11) is O(η) on their time scale.  adam-sde / adam-sde-rmsprop check that the
fitted exponent of the weak error in η is at least 1 (Exponent, bound "lower", tolerance
0.1).  The measured exponent is ≈ 2 on this toy, so the O(η) statement is loose here
(tightness ≈ +1): the O(η) of the theorem comes from third moments of the gradient noise
(a per-step h^{3/2} mismatch, h = η² the SDE step), which vanish for Gaussian noise.  We
checked this: with centered-exponential noise of the same covariance the local exponents fall
from 2.0 (η = 0.2) to 1.1 (η = 0.035), i.e. Θ(η) sets in only below η ≈ 0.03 — about 10⁴
method steps per replica at T = 1, beyond the quick budget, so that tight Θ(η) test is not
encoded (see the report of issue #11).
The sharp companions adam-sde-noise / adam-sde-rmsprop-noise test what the diffusion does at
leading order in this scaling (σ0 fixed: the noise is O(1), not O(√η)): at the smallest η
of the run, the fluctuation of θ_k about the SDE's mean, g(θ) = ½(θ − μ)ᵀH(θ − μ) with
μ = E Θ_T, has E g(θ_k) = E g(Θ_T) = ½ tr(H Cov Θ_T) within ±10% (Level on the per-replica
ratio g(θ_k)/E g(Θ_T)).  The theorem gives E g(θ_k) − E g(Θ_T) → 0 for this bounded family
of quadratic test functions; the ±10% band is the resolution we ask at η = 0.07 (quick) /
0.05 (full), chosen before the statistic was run (a probe of a slightly different statistic
had shown 3–6%); dropping, halving or doubling the diffusion moves the ratio to ∞, ≈ 4 or
≈ 0.25.

Setting: a 2-d quadratic (eigenvalues 1 and 0.3) from ‖θ0 − θ*‖ = 3, isotropic Gaussian
gradient noise of standard deviation σ = σ0/η per coordinate (σ0 = 0.2), ε = ε0/η
(ε0 = 0.5), β2 = 1 − c2η² (c2 = 2), β1 = 1 − c1η² (c1 = 4), horizon T = 1,
η ∈ {0.2, ..., 0.07} (quick) / 0.05 (full), halving in √2 steps.  g = f.  The methods are
convsim's torch-exact RMSprop and Adam.  The SDE side is the object built by
convsim.sde.adam_sde / rmsprop_sde, passed through the context (mutations reach its
callables), and its E f(Θ_T) is exact: on a quadratic with constant noise covariance u is
deterministic and (θ, m) is affine given u, so partly_affine_moments reads A(t), b(t), B(t)
off the object's own drift and noise terms and integrates the linear moment ODEs (DOP853,
rtol 1e-10; it agrees with the closed-form adam_sde_moments / rmsprop_sde_moments, see
tests/test_sde_mutations.py).
Negative controls (near misses): Adam's weak error is O(η^2.5); the fluctuation level is
1.25 times the SDE's.
Mutations: the SDE's diffusion dropped, halved, doubled; the method's step ×2 and ε ×4
(ε0 = εη is a parameter of the SDE).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.sde.adaptive import partly_affine_moments

SOURCE = cs.Source("On the SDEs and Scaling Rules for Adaptive Gradient Algorithms", "2205.10287",
                   "Sec. 4: RMSprop and Adam SDEs (time scale eta^2; sigma0 = sigma eta, eps0 = eps eta, "
                   "c_i = (1 - beta_i)/eta^2), weak-approximation theorems")


def problem_for(s, eta):
    return cs.problems.Quadratic(np.array([1.0, 0.3]), noise=cs.noise.Gaussian(s["sigma0"] / eta), r0=s.get("r0", 3.0))


def method_for(kind, s, eta):
    eps, b2 = s["eps0"] / eta, 1.0 - s["c2"] * eta**2
    if kind == "rmsprop":
        return cs.methods.RMSprop(eta, alpha=b2, eps=eps)
    return cs.methods.Adam(eta, beta1=1.0 - s["c1"] * eta**2, beta2=b2, eps=eps)


def sde_moments(kind, problem, s, eta, ctx):
    """Mean and covariance of θ_T for the SDE object built by the map (passed through the context, so mutations
    reach it), exact, read off its own terms (convsim.sde.adaptive.partly_affine_moments: u is deterministic
    and (θ, m) affine given u on a quadratic with constant noise covariance)."""
    eps, b2, T, d = s["eps0"] / eta, 1.0 - s["c2"] * eta**2, s["horizon"], problem.dim
    theta0 = problem.initial_point()
    if kind == "rmsprop":
        sde, z0, random = cs.sde.rmsprop_sde(problem, eta, b2, eps), np.concatenate([theta0, np.zeros(d)]), slice(0, d)
    else:
        sde = cs.sde.adam_sde(problem, eta, 1.0 - s["c1"] * eta**2, b2, eps)
        z0, random = np.concatenate([theta0, np.zeros(2 * d)]), slice(0, 2 * d)
    # Adam's bias-corrected drift is singular at t = 0 (as adam_sde_moments, start at 1e-9 T: an O(1e-9) error).
    mean, cov = partly_affine_moments(ctx.mutate(sde), z0, T, random=random, t0=1e-9 * T)
    return mean[:d], cov[:d, :d]


def sde_value(kind, problem, s, eta, ctx):
    """E f(Θ_T) of the SDE object."""
    mean, cov = sde_moments(kind, problem, s, eta, ctx)
    H, e = problem.hessian(), mean - problem.x_star
    return 0.5 * (e @ H @ e + np.trace(H @ cov))


def weak_errors(kind, s, ctx):
    etas = [s["eta_max"] / 2 ** (k / 2) for k in range(s["levels"])]
    cols = []
    for eta in etas:
        problem = problem_for(s, eta)
        steps = int(round(s["horizon"] / eta**2))
        tr = ctx.simulate(problem, method_for(kind, s, eta), steps, replicas=s["replicas"],
                          metrics=["suboptimality"], record=[steps])
        cols.append(tr.values("suboptimality")[:, -1] - sde_value(kind, problem, s, eta, ctx))
    values = np.stack(cols, axis=1)
    values *= np.sign(values[:, 0].mean())  # the error's sign, fixed by the largest η
    return cs.Series(np.array(etas), values, "eta", "weak_error", np.full(values.shape[0], -1),
                     {"horizon": s["horizon"], "time_scale": "eta^2"})


def fluctuation_ratios(kind, s, ctx):
    """At the smallest η: per replica g(θ_k)/E g(Θ_T) for g(θ) = ½(θ − μ)ᵀH(θ − μ), μ = E Θ_T of the SDE."""
    eta = s["eta_max"] / 2 ** ((s["levels"] - 1) / 2)
    problem = problem_for(s, eta)
    mean, cov = sde_moments(kind, problem, s, eta, ctx)
    H = problem.hessian()
    level = max(0.5 * float(np.trace(H @ cov)), 1e-300)  # a diffusion mutated away leaves no fluctuation at all
    g = lambda _, x, mean=mean, H=H: 0.5 * np.sum(((x - mean) @ H) * (x - mean), axis=1)
    steps = int(round(s["horizon"] / eta**2))
    tr = ctx.simulate(problem, method_for(kind, s, eta), steps, replicas=s["replicas"], metrics={"fluctuation": g},
                      record=[steps])
    ratios = tr.values("fluctuation")[:, -1:] / level
    return cs.Series(np.array([float(steps)]), ratios, "t", "fluctuation_ratio", np.full(ratios.shape[0], -1),
                     {"eta": eta, "sde_level": level})


def level_check(claimed):
    return lambda series, s: cs.checks.Level("fluctuation_ratio", claimed, rtol=0.1).check(series)


def experiment_for(kind):
    return lambda s, ctx: weak_errors(kind, s, ctx)


def order_check(order, bound):
    return lambda series, s: cs.checks.Exponent("weak_error", order, bound=bound, vs="eta",
                                                tolerance=0.1, window=(0.0, 1.0)).check(series)


SETTINGS = {"sigma0": 0.2, "eps0": 0.5, "c1": 4.0, "c2": 2.0, "horizon": 1.0, "eta_max": 0.2}

MUTATIONS = (mu.drop("diffusion", on="SDE", name="SDE diffusion dropped"),
             mu.scale("diffusion", 2.0, on="SDE", name="SDE diffusion x2"))

claim = cs.Claim(
    id="adam-sde",
    family="sde",
    statement="Adam is a weak approximation of its SDE (time t = k eta^2): |E f(theta_k) - E f(Theta_{k eta^2})| = O(eta)",
    source=SOURCE,
    assumptions=("sigma0 = sigma eta, eps0 = eps eta, c_i = (1 - beta_i)/eta^2 fixed as eta -> 0",
                 "smooth f (a quadratic here)", "test function g = f", "fixed horizon T"),
    experiment=experiment_for("adam"),
    check=order_check(1.0, "lower"),
    quick={**SETTINGS, "levels": 4, "replicas": 8192},
    full={**SETTINGS, "levels": 5, "replicas": 65536},
    mutations=(MUTATIONS[0].blind("on eta in [0.07, 0.2] the weak error is dominated by the drift's; the dropped "
                                  "noise adds a constant 0.028 to it, which the fitted exponent shows only below "
                                  "eta ~ 0.05; adam-sde-noise catches it"),
               MUTATIONS[1], mu.scale("step_size", 2.0, on="Adam"), mu.scale("eps", 4.0, on="Adam")),
)

rmsprop = cs.Claim(
    id="adam-sde-rmsprop",
    family="sde",
    statement="RMSprop is a weak approximation of its SDE (time t = k eta^2): the weak error is O(eta)",
    source=SOURCE,
    assumptions=claim.assumptions,
    experiment=experiment_for("rmsprop"),
    check=order_check(1.0, "lower"),
    quick=claim.quick,
    full=claim.full,
    mutations=(*MUTATIONS, mu.scale("step_size", 2.0, on="RMSprop"), mu.scale("eps", 4.0, on="RMSprop")),
)

FLUCTUATION_MUTATIONS = MUTATIONS + (mu.scale("diffusion", 0.5, on="SDE", name="SDE diffusion x0.5"),)

fluctuation = cs.Claim(
    id="adam-sde-noise",
    family="sde",
    statement="at small eta, Adam's fluctuation about the SDE's mean matches the SDE's: E g(theta_k) = E g(Theta_T) "
              "(+-10%) for g = (theta - mu)^T H (theta - mu)/2, mu = E Theta_T",
    source=SOURCE,
    assumptions=claim.assumptions + ("eta = 0.2/2^1.5 (the smallest level of adam-sde)",),
    experiment=lambda s, ctx: fluctuation_ratios("adam", s, ctx),
    check=level_check(1.0),
    quick=claim.quick,
    full=claim.full,
    sharpens="adam-sde",
    mutations=FLUCTUATION_MUTATIONS + (mu.scale("eps", 4.0, on="Adam"),),
)

rmsprop_fluctuation = cs.Claim(
    id="adam-sde-rmsprop-noise",
    family="sde",
    statement="at small eta, RMSprop's fluctuation about the SDE's mean matches the SDE's (+-10%)",
    source=SOURCE,
    assumptions=fluctuation.assumptions,
    experiment=lambda s, ctx: fluctuation_ratios("rmsprop", s, ctx),
    check=level_check(1.0),
    quick=claim.quick,
    full=claim.full,
    sharpens="adam-sde-rmsprop",
    mutations=FLUCTUATION_MUTATIONS + (mu.scale("eps", 4.0, on="RMSprop"),),
)

negative = claim.negative_control(
    "Adam's weak error against its SDE is O(eta^2.5) (false: measured order about 2 on Gaussian noise; a near miss)",
    order_check(2.5, "lower"),
)

fluctuation_negative = fluctuation.negative_control(
    "Adam's fluctuation level is 1.25 times the SDE's (false: about 1; a near miss)", level_check(1.25))

rmsprop_fluctuation_negative = rmsprop_fluctuation.negative_control(
    "RMSprop's fluctuation level is 1.25 times the SDE's (false: about 1; a near miss)", level_check(1.25))
