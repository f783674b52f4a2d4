"""acc-interpolation: stochastic Nesterov acceleration under interpolation and strong growth ρ.

Source [S38]: A. Mishkin, M. Pilanci & M. Schmidt, "Faster Convergence of Stochastic Accelerated
Gradient Descent under Interpolation", arXiv:2404.02378.  Version 1 stated that stochastic AGD
(Nesterov's estimating-sequence scheme whose primal step is an SGD step with η = 1/(ρL), under
interpolation and the strong growth condition E‖ĝ(x)‖² ≤ ρ‖∇f(x)‖²) converges with a complexity
whose dependence on ρ is √ρ instead of the ρ of prior work, i.e. O(√(ρ L/μ) log(1/ε)) for
μ-strongly convex f.  Version 2 carries the authors' retraction: a bug in the proofs invalidates
this improvement (explained in its Appendix D, as a public review of v2 summarizes it; the
abstract pages stored here still show the v1 claim).  The theorem's constants could not be read.

What is encoded (convsim.methods.StochasticAGD; its update is restated in
tests/test_methods_paper.py):  with γ_0 = μ the scheme has α = √(μη) constant and y_k =
(α v_k + x_k)/(1 + α), x_{k+1} = y_k − η ĝ(y_k), v_{k+1} = (1 − α) v_k + α y_k − (α/μ) ĝ(y_k).
The v1 statement implies linear convergence of E[f(x_k) − f*] at the accelerated rate
1 − √(μη) = 1 − √(μ/(ρL)) (any bound C·r^k with r < 1 suffices for the test below).

Setting: interpolating least squares (b = A x*, σ*² = 0) built by
InterpolatingLeastSquares.with_growth with single-sample strong growth exactly ρ, d = 8 directions
of 64 rows each (n = 512), Hessian eigenvalues geometric from L = 1 to μ = 1/κ, single samples
drawn with replacement (so ρ_B = ρ).  Every assumption of the statement holds.

Claims in this file:
  - acc-interpolation (expected: violated): the v1 statement, as the rate 1 − √(μ/(ρL)) of
    E[f(x_k) − f*] (Linear, upper, second half of the run) at every ρ of the sweep, κ = 100.
    Measured: the scheme run with the published parameters does not converge — E[f − f*] grows
    geometrically (fitted rate > 1 per step at every ρ; at κ = 100 the median grows too), which no
    bound of the stated form allows.  (At κ = 10 the median converges fast but the mean has
    heavy-tailed excursions and contracts far more slowly than the claimed rate.)  This agrees
    with the authors' retraction; the claim is kept as a reproducible counterexample rather than
    marked inconclusive, because the test needs none of the unread constants.
  - acc-interpolation-deterministic (consistent): the same code with exact gradients (ρ = 1, the
    GD oracle on a quadratic) contracts f(x_k) − f* at least as fast as 1 − √(μ/L), the deterministic
    rate of the scheme (Nesterov 2004, Thm 2.2.3 with γ_0 = μ) — the failure above is the
    stochasticity's, not the implementation's.
  - acc-interpolation-sgd (consistent): the prior-work dependence on ρ.  SGD with the same step
    η = 1/(ρL) needs Θ(ρ¹) steps to reach E‖x − x*‖² ≤ ε ‖x_0 − x*‖² (its rate is 1 − μ/(ρL) in the
    worst case, Vaswani, Bach & Schmidt 2019, arXiv 1810.07288; on these instances the step η is
    the bottleneck, so the exponent is 1): exponent of steps-to-ε in ρ, tight, tolerance 0.1.
  - acc-interpolation-sgd-neg (near-miss negative control, since issue #11; it was the √ρ law,
    margin 0.50): Θ(ρ^0.85), the exponent moved by the tolerance plus the interval's half-width.
  - acc-interpolation-deterministic-tight (sharp companion of -deterministic, issue #11): on a
    quadratic with γ_0 = μ, η = 1/L the scheme is y_k = x_k + β(x_k − x_{k−1}), β = (1−α)/(1+α),
    α = √(μ/L); the mode λ = μ has the characteristic polynomial (z − (1 − α))², a double root,
    and every other mode a smaller modulus, so f(x_k) − f* ~ k²(1 − α)^{2k}: the rate per step
    is (1 − √(μ/L))² (Linear, tight, rtol 0.1 on the log rate; measured 0.98109 vs 0.9801, the k²
    factor accounts for the 5%).  Nesterov's bound (1 − √(μ/L))^k for f is ~2× loose in log-rate
    here, hence blind to η ×½ or μ misestimated ×¼, which the tight rate catches.  Control
    (near-miss): the heavy-ball rate (1 − 2√(μ/L))², log-rate off by ~2×.
Mutations: acc-interpolation-deterministic: η ×2 (η = 2/L leaves the top mode uncontracted);
-tight: η ×½, μ ×¼, μ ×4 (the estimating-sequence parameters α = √(μη), γ = μ);
-sgd: the step 1/(√ρ L) instead of 1/(ρL) (the `GrowthStep` dataclass below: ρ's power in the
step), which overshoots at large ρ; a constant factor in the step is declared blind.
Not tested: the semi-stochastic scheme that the retraction says keeps a guarantee (its statement
could not be read here).
"""

from dataclasses import dataclass

import numpy as np

import convsim as cs
from convsim import mutations as mu

SOURCE = cs.Source("Faster Convergence of Stochastic Accelerated Gradient Descent under Interpolation "
                   "(Mishkin, Pilanci, Schmidt)", "2404.02378",
                   "v1 main result for stochastic AGD under strong growth (rho -> sqrt(rho)); withdrawn in v2 "
                   "(bug in the proofs, App. D); theorem constants not read")
NESTEROV = cs.Source("Introductory Lectures on Convex Optimization (Nesterov 2004), the estimating-sequence "
                     "scheme used by arXiv 2404.02378", "2404.02378",
                     "Nesterov (2004) Thm 2.2.3: rate (1 - sqrt(mu/L))^k with gamma_0 = mu, exact gradients")
SGD_SOURCE = cs.Source("Fast and Faster Convergence of SGD for Over-Parameterized Models and an Accelerated "
                       "Perceptron (Vaswani, Bach, Schmidt)", "1810.07288",
                       "SGD with step 1/(rho L) under strong growth: linear rate 1 - mu/(rho L) (the 'rho' "
                       "dependence that Mishkin, Pilanci & Schmidt (arXiv:2404.02378) set out to improve)")


def problem_for(rho, s, kappa):
    return cs.problems.InterpolatingLeastSquares.with_growth(rho, s["d"], rows_per_dim=s["rows_per_dim"],
                                                             spectrum=np.geomspace(1.0, 1.0 / kappa, s["d"]),
                                                             seed=s["seed"])


def agd_experiment(s, ctx):
    """Stochastic AGD with the published parameters at every ρ: {"rho=ρ": trace of f − f*}."""
    out = {}
    for rho in s["agd_rhos"]:
        p = problem_for(rho, s, s["agd_kappa"])
        c = p.constants()
        method = cs.methods.StochasticAGD.strong_growth(c["L"], c["mu"], c["rho"])
        out[f"rho={rho:g}"] = ctx.simulate(p, method, s["agd_steps"], s["replicas"], metrics=["suboptimality"],
                                record=np.unique(np.linspace(0, s["agd_steps"], 101).astype(int)))
    return out


def all_rhos(check_for):
    """Apply a per-ρ check; violated if any ρ violates it, consistent if every ρ is consistent."""
    def check(data, s):
        verdicts = {rho: check_for(rho, s).check(data[f"rho={rho:g}"]) for rho in s["agd_rhos"]}
        order = {"violated": 0, "inconclusive": 1, "consistent": 2}
        rho, worst = min(verdicts.items(), key=lambda kv: (order[kv[1].verdict], -(kv[1].estimate or 0)))
        rates = ", ".join(f"rho={r:g}: {v.estimate:.4g}" for r, v in verdicts.items() if v.estimate is not None)
        worst.reason = f"at rho={rho:g}: {worst.reason}; fitted rates per step: {rates}"
        return worst
    return check


def accelerated_rate(rho, s):
    c = problem_for(rho, s, s["agd_kappa"]).constants()
    return cs.checks.Linear("suboptimality", 1.0 - np.sqrt(c["mu"] / (c["rho"] * c["L"])), bound="upper",
                            window=(s["agd_steps"] // 2, s["agd_steps"]))


def deterministic_experiment(s, ctx):
    p = cs.problems.Quadratic(cs.spectra.geometric(s["det_d"], L=1.0, mu=1.0 / s["det_kappa"]), rotate=True, seed=1)
    return ctx.simulate(p, cs.methods.StochasticAGD(1.0, 1.0 / s["det_kappa"]), s["det_steps"], 1,
                        metrics=["suboptimality"], record=np.unique(np.linspace(0, s["det_steps"], 101).astype(int)))


@dataclass(frozen=True)
class GrowthStep:
    """SGD's step under strong growth, η = 1/(ρ^power L): power 1 is the analysis' step (Vaswani et al.)."""

    power: float = 1.0

    def eta(self, rho: float, L: float) -> float:
        return 1.0 / (rho**self.power * L)


def sgd_experiment(s, ctx):
    """Steps for SGD (η = 1/(ρL)) to reach E‖x − x*‖² ≤ ε‖x_0 − x*‖², against ρ (a Series over ρ)."""
    cols, diverged = [], None
    rule = ctx.mutate(GrowthStep())
    for rho in s["rhos"]:
        p = problem_for(rho, s, s["kappa"])
        c = p.constants()
        steps = int(s["sgd_steps_per_rho"] * rho)
        record = np.unique(np.concatenate([[0], np.round(np.geomspace(1, steps, 400)).astype(int)]))
        trace = ctx.simulate(p, cs.methods.SGD(rule.eta(c["rho"], c["L"])), steps, s["replicas"], metrics=["dist_sq"],
                             record=record)
        hit = cs.checks.hitting_costs(trace, "dist_sq", [s["eps"] * c["r0_sq"]])
        cols.append(hit.values[:, 0])
        diverged = hit.diverged_at if diverged is None else np.maximum(diverged, hit.diverged_at)
    values = np.stack(cols, axis=1)
    # a replica that never reached ε within the budget is excluded and counted against the check
    diverged = np.where(np.isfinite(values).all(axis=1), diverged, 0)
    return cs.Series(np.array(s["rhos"], dtype=float), values, "rho", "steps_to_eps", diverged,
                     {"eps": s["eps"], "kappa": s["kappa"]})


def deterministic_rate(power):
    """f(x_k) − f* against the rate (1 − power·√(μ/L))² per step, tight within 10% on the log rate."""
    return lambda trace, s: cs.checks.Linear("suboptimality", (1.0 - power * np.sqrt(1.0 / s["det_kappa"])) ** 2,
                                             bound="tight", rtol=0.1,
                                             window=(s["det_steps"] // 2, s["det_steps"])).check(trace)


def sgd_exponent(claimed):
    return lambda series, s: cs.checks.Exponent("steps_to_eps", claimed, bound="tight", vs="rho",
                                                window=(min(s["rhos"]), max(s["rhos"])), tolerance=0.1).check(series)


QUICK = {"d": 8, "rows_per_dim": 64, "seed": 0, "replicas": 64,
         "agd_kappa": 100.0, "agd_rhos": [16, 64, 256], "agd_steps": 600,
         "kappa": 10.0, "rhos": [16, 48, 144], "sgd_steps_per_rho": 80, "eps": 1e-2,
         "det_d": 20, "det_kappa": 1e4, "det_steps": 1500}
FULL = {**QUICK, "agd_rhos": [16, 32, 64, 128, 256], "rhos": [16, 32, 64, 128, 256], "sgd_steps_per_rho": 120,
        "eps": 1e-3, "replicas": 256}
ASSUMPTIONS = ("interpolation (b = A x*)", "strong growth with constant rho (exact, single samples)",
               "mu-strongly convex, L-smooth least squares", "step eta = 1/(rho L), gamma_0 = mu")

claim = cs.Claim(
    id="acc-interpolation",
    family="first-order",
    statement="(v1 statement, withdrawn by the authors in v2) stochastic AGD with eta = 1/(rho L) under strong growth "
              "converges linearly with the accelerated rate 1 - sqrt(mu/(rho L)), i.e. complexity O(sqrt(rho L/mu) "
              "log 1/eps); expected violated: the published scheme diverges on these instances",
    source=SOURCE,
    assumptions=ASSUMPTIONS,
    experiment=agd_experiment,
    check=all_rhos(accelerated_rate),
    quick=QUICK,
    full=FULL,
    expected="violated",
)

deterministic = cs.Claim(
    id="acc-interpolation-deterministic",
    family="first-order",
    statement="the same estimating-sequence scheme with exact gradients (rho = 1, eta = 1/L, gamma_0 = mu) contracts "
              "f(x_k) - f* at least at the rate 1 - sqrt(mu/L)",
    source=NESTEROV,
    assumptions=("exact gradients", "mu-strongly convex quadratic, rotated", "eta = 1/L, gamma_0 = mu"),
    experiment=deterministic_experiment,
    check=lambda trace, s: cs.checks.Linear("suboptimality", 1.0 - np.sqrt(1.0 / s["det_kappa"]), bound="upper",
                                            window=(s["det_steps"] // 2, s["det_steps"])).check(trace),
    quick=QUICK,
    full=FULL,
    mutations=(mu.scale("eta", 2.0, on="StochasticAGD"),  # eta = 2/L: the top mode is no longer contracted
               mu.scale("mu", 0.25, on="StochasticAGD").blind("the bound is ~2x loose in log-rate on a quadratic: "
                                                              "a 4x underestimated mu still contracts faster than "
                                                              "1 - sqrt(mu/L); the tight companion catches it")),
)

deterministic_tight = cs.Claim(
    id="acc-interpolation-deterministic-tight",
    family="first-order",
    statement="with exact gradients (eta = 1/L, gamma_0 = mu) the scheme's f(x_k) - f* contracts at exactly "
              "(1 - sqrt(mu/L))^2 per step on a quadratic (the double root 1 - sqrt(mu/L) of the mode lambda = mu), "
              "within 10% on the log rate",
    source=NESTEROV,
    assumptions=("exact gradients", "mu-strongly convex quadratic, rotated", "eta = 1/L, gamma_0 = mu"),
    experiment=deterministic_experiment,
    check=deterministic_rate(1.0),
    quick=QUICK,
    full=FULL,
    sharpens="acc-interpolation-deterministic",
    mutations=(mu.scale("eta", 0.5, on="StochasticAGD"), mu.scale("mu", 0.25, on="StochasticAGD"),
               mu.scale("mu", 4.0, on="StochasticAGD")),
)

deterministic_negative = deterministic_tight.negative_control(
    "the scheme contracts f(x_k) - f* at (1 - 2 sqrt(mu/L))^2, the rate of optimally tuned heavy ball (false: "
    "Nesterov's constant-momentum scheme has 1 - sqrt(mu/L))",
    deterministic_rate(2.0),
)

sgd = cs.Claim(
    id="acc-interpolation-sgd",
    family="first-order",
    statement="SGD with step 1/(rho L) under strong growth needs Theta(rho^1) steps to reach "
              "E||x - x*||^2 <= eps ||x_0 - x*||^2 at fixed kappa (the rho dependence arXiv:2404.02378 set out to improve)",
    source=SGD_SOURCE,
    assumptions=ASSUMPTIONS[:3] + ("step 1/(rho L)",),
    experiment=sgd_experiment,
    check=sgd_exponent(1.0),
    quick=QUICK,
    full=FULL,
    mutations=(mu.set_field("power", 0.5, on=GrowthStep, name="step 1/(sqrt(rho) L) instead of 1/(rho L)"),
               mu.scale("step_size", 0.5, on="SGD").blind("a constant factor in the step scales every "
                                                          "steps-to-eps alike: the exponent in rho cannot see it")),
)

SGD_NEAR_MISS = 0.85  # 1 − (tolerance 0.1 + a bit over the interval's quick half-width ≈ 0.03)
sgd_negative = sgd.negative_control(
    f"SGD's dependence on rho is already sublinear: Theta(rho^{SGD_NEAR_MISS:g}) steps to eps (the exponent moved by "
    "the tolerance plus the interval's half-width)", sgd_exponent(SGD_NEAR_MISS))
