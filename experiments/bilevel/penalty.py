"""penalty: the penalty function ψ_σ is O(σ)-close to the hyper-objective in value and gradient,
and gradient descent on ψ_σ with σ = O(ε), using first-order oracles only, reaches ‖∇ψ‖ ≤ ε
within O(ε^−3) oracle calls (deterministic oracles), double- or single-loop.

Source: J. Kwon, D. Kwon, S. Wright, R. Nowak, "On Penalty Methods for Nonconvex Bilevel
Optimization and First-Order Stochastic Approximation", ICLR 2024, arXiv:2309.01753 — the
abstract and its landscape results: |ψ_σ(x) − ψ(x)| = O(σ/μ) and ‖∇ψ_σ(x) − ∇ψ(x)‖ = O(σ/μ³)
under the proximal error-bound condition (implied by μ-strong convexity of g in y); the
algorithms' O(ε^−3) deterministic oracle complexity (double loop, and single loop).  We could
not read the theorems' text: the constants, and the paper's exact step and inner-loop rules,
are not tested; the exponents are.  The stochastic rates (O(ε^−7) double loop with large
batches, O(ε^−5) single loop with momentum) are not tested here (their batch/momentum rules
were not available to us).

Setting: the quadratic bilevel problem with the nonconvex upper level r(x) = ρ Σ x_i²/(1+x_i²)
+ ½ μ_x ‖x‖² (the paper's setting is nonconvex; g is strongly convex in y, so the error bound
holds), where y*(x), y_σ*(x), ψ, ψ_σ and both gradients are closed forms
(:func:`convsim.bilevel.penalty.quadratic_penalty`).

* ``penalty`` / ``penalty-value``: at 64 random points x, the method's own estimate — 60 inner
  steps of size 1/(σL_f + L_g) for y ≈ y_σ* and z ≈ y*, then ∇̂ψ_σ = ∇_x f + (∇_x g(y) − ∇_x g(z))/σ
  (one PenaltyMethod step; ψ̂_σ from the same y, z) — against ∇ψ and ψ, over σ = 10^−1 … 10^−5,
  fitted as a power of λ = 1/σ on the small-σ half: O(λ^−1) = O(σ).  Caught: the inner loop cut to
  1/5 (resp. 1/10) of its steps, the inner step ×1/4 (the trackers' error, amplified by 1/σ, then
  dominates).  y and z start together and contract alike, so milder cuts cancel in the difference
  (measured before choosing the mutations).  Controls: O(σ^1.2) (the first-order term does not
  vanish; margin 0.2).
* ``penalty-exact`` / ``penalty-value-exact`` (sharpen them): per point and σ, the measured gap over
  the closed-form gap (:func:`convsim.bilevel.penalty.quadratic_penalty`, computed in the check) is 1
  within rtol 1e-3.  Caught: σ ×2, the inner loop cut to 1/5, the inner step ×1/2.  Controls: the
  gap is 0.99× the closed form.
* ``penalty-double-loop`` / ``penalty-single-loop``: ε = 10^−1 … 10^−3.5, σ = ε/20; the double
  loop takes T = ⌈κ_g log(1/ε²)⌉ inner gradient steps of size 1/(σL_f + L_g) per outer step
  (enough for an O(σε) inner accuracy), the single loop one; both take the outer step 1/(2L),
  L = the curvature bound of ψ.  (With a strongly convex lower level the trackers y and z lag
  alike, so the 1/σ in the estimator does not amplify their lag and the single loop needs no
  σ-small outer step.)  Cost: all oracle calls until ‖∇ψ(x)‖ ≤ ε, over 32 random starts.  On
  this benign problem the cost grows far slower (ε^−0.54, ε^−0.37) than the worst-case bound
  O(ε^−3): consistent, and loose.  Caught: σ not tied to ε (held at 0.1/20: the O(σ) bias then
  exceeds the small ε).  Controls (near-miss, replacing the former Ω(ε^−1) strawman): O(ε^−0.25)
  double loop, O(ε^−0.05) single loop, just beyond the measured exponents plus the tolerance.
* ``penalty-double-loop-exact`` / ``penalty-single-loop-exact`` (sharpen them): the same rule at
  ε = 10^−3 on the quadratic special case (upper level ½ μ_x‖x‖² + cᵀx, same matrices), where the
  iteration is affine and ‖∇h(x_k)‖² follows an exact linear recursion
  (:func:`convsim.bilevel.exact.penalty_moments`, from the update equations and the rule's numbers):
  it must match at every checkpoint (rtol 1e-6).  Caught: outer step ×2, σ ×2, inner step ×1/2,
  inner loop halved (double loop).  Controls: the recursion with a 1% larger outer step.
"""

import dataclasses

import numpy as np
from array_api_compat import array_namespace

import convsim as cs
from convsim import bilevel as bl
from convsim import mutations as mu
from convsim.bilevel import exact
from convsim.bilevel.penalty import PenaltyMethod, quadratic_penalty
from convsim.engine.trace import Series

NEEDS_FLOAT64 = "the exact companions compare with closed forms at rtol 1e-3 to 1e-6, below float32 rounding of the penalty terms"

SOURCE = cs.Source("On Penalty Methods for Nonconvex Bilevel Optimization and First-Order Stochastic "
                   "Approximation (Kwon, Kwon, Wright, Nowak)", "2309.01753",
                   "landscape results (O(sigma)-closeness of psi_sigma) and the deterministic O(eps^-3) "
                   "oracle complexity of the double- and single-loop methods (abstract)")

ASSUMPTIONS = ("f, g smooth; g mu-strongly convex in y (a case of the proximal error bound)",
               "upper level nonconvex", "first-order oracles only")


def problem():
    return bl.QuadraticBilevel(4, 8, mu_g=0.5, L_g=1.0, coupling=1.0, c_min=0.5, c_max=1.0, mu_x=0.2,
                               upper="nonconvex", rho=1.0, seed=4)


# -- closeness ---------------------------------------------------------------------------------------
CLOSENESS_INNER = 60
"""Inner gradient steps of the estimator (step 1/(σL_f + L_g), contraction ≤ 1 − μ_g/(σL_f + L_g) ≈ 1/2):
y and z reach y_σ* and y* to ~1e-18, far below the O(σ) gaps even after the 1/σ amplification."""


def closeness_method(sigma):
    """The penalty method's estimator at fixed x: CLOSENESS_INNER inner steps, then ∇̂ψ_σ (one outer step)."""
    p = problem()
    return PenaltyMethod(sigma=float(sigma), lr=1e-3, inner=CLOSENESS_INNER, inner_lr=1.0 / (sigma * p.c_max + p.L_g))


def points(s, seed, dim):
    return np.random.default_rng(seed).standard_normal((s["points"], dim))


def closeness_data(s, ctx):
    """Per point and σ: the method's gradient gap ‖∇̂ψ_σ − ∇ψ‖ (its estimate at x0 from the tracked y, z)
    and value gap |ψ̂_σ − ψ| (ψ̂_σ = f(x, y) + (g(x, y) − g(x, z))/σ at the tracked y, z)."""
    p = problem()
    sigmas = np.geomspace(1e-1, 1e-5, s["sigmas"])
    x0 = points(s, ctx.seed, p.dim_x)
    gaps = {"grad_gap": [], "value_gap": []}
    for sigma in sigmas:
        def value_gap(q, x, y, state, sigma=float(sigma)):
            xp = array_namespace(x)
            at = state.hg_x  # the step's x: the tracked y, z belong to it
            psi = q.f(at, state.y) + (q.g(at, state.y) - q.g(at, state.z)) / sigma
            return xp.abs(psi - q.h(at))
        trace = bl.run_bilevel(ctx, p, closeness_method(sigma), 1, s["points"], x0=x0, record=[1],
                               metrics={"hg_err_sq": None, "value_gap": value_gap})
        gaps["grad_gap"].append(np.sqrt(trace.values("hg_err_sq")[:, -1]))
        gaps["value_gap"].append(trace.values("value_gap")[:, -1])
    never = np.full(s["points"], -1)
    return {m: Series(1.0 / sigmas, np.stack(v, axis=1), "1/sigma", m, never, p.constants()) for m, v in gaps.items()}


def closeness(metric):
    return lambda s, ctx: closeness_data(s, ctx)[metric]


def closed_form_gaps(s, seed, metric):
    """The closed-form gap per point and σ (quadratic_penalty, computed here, not by the method)."""
    p = problem()
    x = points(s, seed, p.dim_x)
    out = []
    for sigma in np.geomspace(1e-1, 1e-5, s["sigmas"]):
        value_s, grad_s = quadratic_penalty(p, x, float(sigma))
        gap = np.sqrt(np.sum((grad_s - p.hypergrad(x)) ** 2, axis=1)) if metric == "grad_gap" else np.abs(value_s - p.h(x))
        out.append(gap)
    return np.stack(out, axis=1)


def check_gap(metric, exponent):
    return lambda series, s: cs.checks.Exponent(metric, exponent, bound="upper", vs="1/sigma").check(series)


def check_exact_gap(metric, scale=1.0):
    """Per point, the measured gap over the closed form (times ``scale``) must be 1 (rtol 1e-3)."""
    def check(series, s):
        ratio = series.values / (scale * closed_form_gaps(s, 0, metric))
        data = Series(series.x, ratio, series.x_name, metric + "_ratio", series.diverged_at, series.constants)
        return cs.checks.Reference(metric + "_ratio", np.ones(series.x.size), rtol=1e-3,
                                   what="closed-form gap").check(data)
    return check


INNER_SHORT = mu.scale("inner", 0.2, name="inner loop cut to 1/5 (12 steps)")
INNER_SHORTER = mu.scale("inner", 0.1, name="inner loop cut to 1/10 (6 steps)")
INNER_STEP_HALVED = mu.scale("inner_lr", 0.5, name="inner step x1/2")
INNER_STEP_QUARTER = mu.scale("inner_lr", 0.25, name="inner step x1/4")
"""y and z start together and contract alike, so their errors nearly cancel in ∇_x g(y) − ∇_x g(z):
only a much shorter or slower inner loop leaves a 1/σ-amplified error (measured before choosing)."""
SIGMA_X2 = mu.scale("sigma", 2.0, name="sigma x2 (lambda x1/2)")
WHY_SIGMA = "an O(sigma) exponent cannot see a constant factor on sigma; the -exact companion does"

penalty = cs.Claim(
    id="penalty",
    family="bilevel",
    statement="||grad psi_sigma(x) - grad psi(x)|| = O(sigma): the penalty function's gradient, as the method "
              "estimates it with first-order oracles, is O(sigma)-close to the hypergradient",
    source=SOURCE,
    assumptions=ASSUMPTIONS,
    experiment=closeness("grad_gap"),
    check=check_gap("grad_gap", -1.0),
    quick={"points": 64, "sigmas": 17},
    full={"points": 1024, "sigmas": 33},
    mutations=(INNER_SHORT, INNER_STEP_QUARTER, SIGMA_X2.blind(WHY_SIGMA),
               INNER_STEP_HALVED.blind("a 1.7% error at sigma = 1e-5 does not move the exponent; penalty-exact sees it")),
)
penalty_neg = penalty.negative_control(
    "||grad psi_sigma - grad psi|| = O(sigma^1.2) (false: the first-order term in sigma does not vanish)",
    check_gap("grad_gap", -1.2))

penalty_exact = cs.Claim(
    id="penalty-exact",
    family="bilevel",
    statement="the method's estimate of grad psi_sigma equals the closed form (A + sigma C) y = sigma C y_t - B x - b "
              "of y_sigma*: the mean gap ||grad-hat psi_sigma - grad psi|| matches the closed-form gap (rtol 1e-3)",
    source=SOURCE,
    assumptions=ASSUMPTIONS + ("quadratic lower level: y_sigma*(x) in closed form",),
    experiment=closeness("grad_gap"),
    check=check_exact_gap("grad_gap"),
    quick=penalty.quick,
    full=penalty.full,
    sharpens="penalty",
    mutations=(SIGMA_X2, INNER_SHORT, INNER_STEP_HALVED),
)
penalty_exact_neg = penalty_exact.negative_control(
    "the gap is 0.99 times the closed form (false: it matches to 1e-3)", check_exact_gap("grad_gap", 0.99))

penalty_value = cs.Claim(
    id="penalty-value",
    family="bilevel",
    statement="|psi_sigma(x) - psi(x)| = O(sigma): the penalty function, evaluated at the method's tracked "
              "y ~ y_sigma*, z ~ y*, is O(sigma)-close to the hyper-objective",
    source=SOURCE,
    assumptions=ASSUMPTIONS,
    experiment=closeness("value_gap"),
    check=check_gap("value_gap", -1.0),
    quick=penalty.quick,
    full=penalty.full,
    mutations=(INNER_SHORTER, SIGMA_X2.blind(WHY_SIGMA),
               INNER_SHORT.blind("the value gap is second order in the trackers' error; penalty-value-exact sees it")),
)
penalty_value_neg = penalty_value.negative_control(
    "|psi_sigma - psi| = O(sigma^1.2) (false: psi_sigma - psi = -(sigma/2)||grad_y f||^2_{A^-1} + O(sigma^2))",
    check_gap("value_gap", -1.2))

penalty_value_exact = cs.Claim(
    id="penalty-value-exact",
    family="bilevel",
    statement="psi_sigma at the method's tracked y, z equals its closed form: the mean value gap matches the "
              "closed-form gap (rtol 1e-3)",
    source=SOURCE,
    assumptions=ASSUMPTIONS + ("quadratic lower level: y_sigma*(x) in closed form",),
    experiment=closeness("value_gap"),
    check=check_exact_gap("value_gap"),
    quick=penalty.quick,
    full=penalty.full,
    sharpens="penalty-value",
    mutations=(SIGMA_X2, INNER_SHORT),
)
penalty_value_exact_neg = penalty_value_exact.negative_control(
    "the value gap is 0.99 times the closed form (false: it matches to 1e-3)", check_exact_gap("value_gap", 0.99))


# -- complexity ---------------------------------------------------------------------------------------
def grad_norm(p, x, y, state):
    return array_namespace(x).sqrt(bl.sum_sq(p.hypergrad(x)))


def penalty_rule(p, eps, single_loop):
    """σ = ε/20 and the step rules of the module docstring, as plain numbers (the references use them)."""
    sigma = eps / 20.0
    inner_lr = 1.0 / (sigma * p.c_max + p.L_g)
    lr = 1.0 / (2.0 * (p.L_h + 2.0 * p.rho))  # ψ's curvature: the quadratic part plus ρ·max|(x²/(1+x²))''| = 2ρ
    inner = 1 if single_loop else int(np.ceil(p.L_g / p.mu_g * np.log(1.0 / eps**2)))
    return {"sigma": sigma, "lr": lr, "inner": inner, "inner_lr": inner_lr}


def penalty_method(p, eps, single_loop):
    return PenaltyMethod(**penalty_rule(p, eps, single_loop))


def complexity_experiment(single_loop):
    def experiment(s, ctx):
        p = problem()
        eps_levels = np.geomspace(1e-1, 10**-3.5, s["levels"])
        starts = ctx.replicas or s["starts"]
        x0 = np.random.default_rng(ctx.seed + 1).standard_normal((starts, p.dim_x))
        costs, diverged = [], np.full(starts, -1)
        for eps in eps_levels:
            steps = int(s["steps_per_eps"] * np.log(10.0 / eps))
            trace = bl.run_bilevel(ctx, p, penalty_method(p, eps, single_loop), steps, starts, x0=x0,
                                   record=s["record"], metrics={"grad_h_norm": grad_norm})
            hit = cs.checks.hitting_costs(trace, "grad_h_norm", [eps], cost="calls_total")
            costs.append(hit.values[:, 0])
            diverged = np.maximum(diverged, trace.diverged_at)
        return Series(eps_levels, np.stack(costs, axis=1), "eps", "cost_to_grad_h_norm", diverged,
                      {**p.constants(), "cost": "calls_total"})
    return experiment


def check_cost(exponent, bound):
    return lambda series, s: cs.checks.Complexity("grad_h_norm", exponent, bound=bound, tolerance=0.25).check(series)


COMPLEXITY_QUICK = {"levels": 6, "starts": 32, "steps_per_eps": 40, "record": 48}
COMPLEXITY_FULL = {"levels": 11, "starts": 128, "steps_per_eps": 60, "record": 96}

SIGMA_FIXED = mu.custom("sigma not tied to eps (held at 0.1/20)",
                        lambda m: dataclasses.replace(m, sigma=0.1 / 20.0) if m.sigma != 0.1 / 20.0 else None,
                        on=PenaltyMethod)
_NEAR_MISS = {False: -0.25, True: -0.05}
"""Near-miss controls: an exponent just outside the measured cost exponent plus the tolerance
(fixed numbers placed by the standard of issue #11; they replace the former Omega(eps^-1) strawman)."""


def _complexity_claims(single_loop):
    name = "single-loop" if single_loop else "double-loop"
    loops = "one inner step per iteration" if single_loop else "inner loops of O(log 1/eps) steps"
    why = "an O(eps^-3) bound this far above the measured cost cannot see a constant factor; the -exact companion does"
    claim = cs.Claim(
        id=f"penalty-{name}",
        family="bilevel",
        statement=f"{name} penalty method ({loops}), sigma = O(eps), deterministic first-order oracles: "
                  "||grad psi|| <= eps within O(eps^-3) oracle calls",
        source=SOURCE,
        assumptions=ASSUMPTIONS + ("deterministic oracles", "sigma = eps/20"),
        experiment=complexity_experiment(single_loop),
        check=check_cost(-3.0, "upper"),
        quick=COMPLEXITY_QUICK,
        full=COMPLEXITY_FULL,
        mutations=(SIGMA_FIXED, mu.scale("lr", 2.0, name="outer step x2").blind(why),
                   mu.scale("sigma", 2.0, name="sigma x2 (lambda x1/2)").blind(why)),
    )
    wrong = _NEAR_MISS[single_loop]
    negative = claim.negative_control(
        f"the {name} penalty method needs only O(eps^{wrong:g}) oracle calls here (false: its cost grows a little "
        "faster, by a margin just beyond the tolerance)", check_cost(wrong, "upper"))
    return claim, negative


penalty_double, penalty_double_neg = _complexity_claims(False)
penalty_single, penalty_single_neg = _complexity_claims(True)


# -- sharp companions: the exact iterates on the quadratic special case ----------------------------
EXACT_EPS = 1e-3


def quadratic_problem():
    """The same problem with the quadratic upper level ½ μ_x‖x‖² + cᵀx: every update is affine, and the
    iterates follow an exact linear recursion (:func:`convsim.bilevel.exact.penalty_moments`)."""
    return bl.QuadraticBilevel(4, 8, mu_g=0.5, L_g=1.0, coupling=1.0, c_min=0.5, c_max=1.0, mu_x=0.2,
                               upper="quadratic", seed=4)


def exact_experiment(single_loop):
    def experiment(s, ctx):
        p = quadratic_problem()
        steps = int(s["steps_per_eps"] * np.log(10.0 / EXACT_EPS))
        return bl.run_bilevel(ctx, p, penalty_method(p, EXACT_EPS, single_loop), steps, 2, record=s["record"],
                              metrics=["grad_h_sq"])
    return experiment


def check_exact_iterates(single_loop, lr_scale=1.0):
    def check(trace, s):
        p = quadratic_problem()
        rule = penalty_rule(p, EXACT_EPS, single_loop)
        rule["lr"] *= lr_scale
        x0, y0 = p.initial_point()
        ref = exact.penalty_moments(p, exact.penalty_coefficients(**rule), x0, y0, y0, trace.steps)
        return cs.checks.Reference("grad_h_sq", ref, rtol=1e-6, what="exact iterates' ||grad h||^2").check(trace)
    return check


def _exact_claims(single_loop, parent):
    name = "single-loop" if single_loop else "double-loop"
    catches = [mu.scale("lr", 2.0, name="outer step x2"), mu.scale("sigma", 2.0, name="sigma x2 (lambda x1/2)"),
               mu.scale("inner_lr", 0.5, name="inner step x1/2")]
    if not single_loop:
        catches.append(mu.scale("inner", 0.5, name="inner loop halved"))
    claim = cs.Claim(
        id=f"penalty-{name}-exact",
        family="bilevel",
        statement=f"the {name} penalty method with the rule of penalty-{name} (eps = 1e-3) on the quadratic special "
                  "case follows the exact linear recursion of its update: ||grad h(x_k)||^2 matches it at every "
                  "checkpoint (rtol 1e-6)",
        source=SOURCE,
        assumptions=("quadratic upper and lower levels: every update affine", "deterministic oracles",
                     "sigma = eps/20, outer step 1/(2(L_h + 2 rho)), inner step 1/(sigma L_f + L_g)"),
        experiment=exact_experiment(single_loop),
        check=check_exact_iterates(single_loop),
        quick=parent.quick,
        full=parent.full,
        sharpens=parent.id,
        mutations=tuple(catches),
    )
    negative = claim.negative_control(
        "the iterates follow the recursion with an outer step 1% larger (false: they follow the stated step)",
        check_exact_iterates(single_loop, lr_scale=1.01))
    return claim, negative


penalty_double_exact, penalty_double_exact_neg = _exact_claims(False, penalty_double)
penalty_single_exact, penalty_single_exact_neg = _exact_claims(True, penalty_single)
