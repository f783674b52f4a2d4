"""gn-smooth: gradient-regularized Newton with the Fisher approximation of the Hessian converges globally at a
linear rate on logistic regression.

Source [S3]: A. Semenov, M. Jaggi & N. Doikov, "Gradient-Normalized Smoothness for Optimization with Approximate
Hessians", arXiv:2506.13710 (ICLR 2026).  What was read: the authors' code (epfml/grad-norm-smooth,
src/methods.py::grad_norm_smooth, "Algorithm 1 from the paper"), which convsim.methods.approximate_newton
restates: x⁺ = x − (H(x) + ‖∇f(x)‖/γ · I)^{−1}∇f(x), γ halved until f(x) − f(x⁺) ≥ ‖∇f(x⁺)‖²/(8λ), then
doubled for the next step, γ_0 = 1; and the paper's abstract, a detailed third-party summary and the reviews
(stored copies).  The full text (its logistic-regression corollary with constants) was NOT reachable.  What the
summaries state: for quasi-self-concordant f (logistic regression: M₁ = max‖a_i‖) with an approximation
obeying ‖∇²f − H‖ ≤ C₁ + C₂‖∇f‖ (the Fisher matrix of logistic regression: β = 0, C₁ ∝ f*), Algorithm 1
needs Õ((M₁ + C₂)D + C₁D²/ε) iterations, D = ‖x_0 − x*‖: a global linear rate whose leading term is the exact
Hessian's Õ(M₁D).  Encoded: that leading term as a per-step contraction of f − f*, ρ = exp(−1/(M₁D)) (the
O-constant 1 is OUR choice, not the paper's), checked as an upper bound on the fitted geometric rate, and the
bound's dependence on the problem, an iteration count growing at most linearly in M₁D (no constant involved).

Setting: ℓ2-regularized logistic regression (convsim LogisticRegression, n = 100, d = 8, reg 1e-8, labels from a
logistic model with weight norm 3), features rescaled column-wise by a geometric ladder 1 … 1/cond (so that
first-order steps are slow), x_0 = 3 N(0, I) (fixed), exact gradients, the empirical Fisher
(1/n) Σ ℓ'(a_iᵀx)² a_i a_iᵀ + reg·I as H, the authors' search with γ_0 = 1.

Claims:
  - `gn-smooth`: at cond = 100 the geometric rate of f(x_k) − f*, fitted on steps 20..40, is at most
    exp(−1/(M₁D)) = 0.9964 (Linear, upper; measured 0.606 — loose by ~140× in log-rate: the O-constant 1 and the
    worst case over the class; its sharp companion `gn-smooth-exact` (gn_smooth_exact.py) pins the run to an
    exact restatement of Alg. 1 at rtol 1e-9).
  - `gn-smooth-scaling`: the iterations to reach f − f* ≤ 1e-8 grow at most linearly in M₁D over the conditioning
    ladder cond = 3, 10, 31.6 (M₁D = 25.5 … 106; Exponent of the count against M₁D, upper, claimed 1, tolerance
    0.1; measured 0.29, counts 15.1, 13.7, 22).  A count not reached within the 400-step cap is recorded as 400
    (a lower bound on the true count), so a growth the check sees is real.
Mutations caught: `gn-smooth` — the γ-search descent test 100× stricter (no trial is accepted, the steps shrink
to nothing, rate 1.0); `gn-smooth-scaling` — the Hessian approximation dropped (H = 0: normalized gradient
steps with the searched radius; the censored counts grow like (M₁D)^≥1.24).  Blind, with reasons in the
declarations: H = I and H = 0 for the rate claim (0.997 and 0.995 per step: inside the loose bound), the unsearched
steps γ_k = 1 for both (0.966 per step; counts growing like (M₁D)^0.67), the regularizer ×0.01 for both (the search
absorbs a constant factor in λ), H = I and the stricter test for the scaling claim (no run reaches 1e-8 within
the cap: flat censored counts); all of them are caught by the exact companion gn-smooth-exact.
The looseness of the paper's bound on this toy (×40–140) is why first-order-like
mutations slip through the rate claim: only the dependence on M₁D can see them within a few seconds of runs.
Negative controls (near-miss): "f − f* contracts at ρ̂^1.3 per step" (30% faster in log-rate than the run's
own fitted rate ρ̂, recomputed from the trace; rtol 5%) and "the counts grow at most like (M₁D)^0.1" (measured
0.29, the tolerance 0.1 plus 0.09).
Not tested: the C₁D²/ε tail (f* ≈ 0.34 > 0 here, so C₁ > 0; the run stays geometric down to 1e-10 all the same), the softmax and
non-convex (Gauss-Newton) applications, the constants of the corollary.
"""

from functools import lru_cache

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.methods.approximate_newton import GradNormSmoothNewton

NEEDS_FLOAT64 = "f - f* is followed down to 1e-10 from f0 - f* ~ 0.3"

SOURCE = cs.Source("Gradient-Normalized Smoothness for Optimization with Approximate Hessians (Semenov, Jaggi, "
                   "Doikov)", "2506.13710",
                   "Alg. 1 (authors' code, grad_norm_smooth) and the quasi-self-concordant complexity "
                   "O~((M1 + C2) D + C1 D^2/eps) with the Fisher approximation (full text not readable)")

NEAR_MISS_POWER = 1.3


@lru_cache(maxsize=4)
def problem_for(n, d, cond, reg=1e-8):
    base = cs.problems.LogisticRegression.random(n, d, reg=reg, seed=3, separation=3.0)
    A = base.A * np.geomspace(1.0, 1.0 / cond, d)
    x0 = 3.0 * np.random.default_rng(0).standard_normal(d)
    return cs.problems.LogisticRegression(A, base.y, reg=reg, x0=x0)


def paper_rate(problem):
    """exp(−1/(M₁ D)): the leading Õ(M₁ D) iteration count of the quasi-self-concordant class, O-constant 1."""
    m1 = float(np.max(np.linalg.norm(problem.A, axis=1)))
    dist = float(np.linalg.norm(problem.initial_point() - problem.x_star))
    return float(np.exp(-1.0 / (m1 * dist)))


def experiment(s, ctx):
    problem = problem_for(s["n"], s["d"], s["cond"])
    return ctx.simulate(problem, GradNormSmoothNewton(hessian="fisher"), s["steps"], replicas=1,
                        metrics=["suboptimality"], record=np.arange(s["steps"] + 1))


def scaling_experiment(s, ctx):
    """Iterations to reach f − f* ≤ ε against M₁D over the feature-conditioning ladder (a level not reached
    within the run counts as the run length: a lower bound on the true count, so a growth it shows is real)."""
    m1d, counts = [], []
    for cond in s["conds"]:
        problem = problem_for(s["n"], s["d"], cond)
        trace = ctx.simulate(problem, GradNormSmoothNewton(hessian="fisher"), s["cap"], replicas=1,
                             metrics=["suboptimality"], record=np.arange(s["cap"] + 1))
        count = float(cs.checks.complexity.hitting_costs(trace, "suboptimality", [s["eps"]]).values[0, 0])
        counts.append(min(count, float(s["cap"])))
        m1d.append(-np.log(paper_rate(problem)) ** -1.0)
    return cs.Series(np.array(m1d), np.array([counts]), "M1 D", "iterations_to_eps", np.array([-1]),
                     {"eps": s["eps"], "conds": list(s["conds"])})


def check_scaling(series, s, claimed=1.0):
    return cs.checks.Exponent("iterations_to_eps", claimed, bound="upper", window=(0.0, np.inf)).check(series)


def check_rate(trace, s):
    claimed = paper_rate(problem_for(s["n"], s["d"], s["cond"]))
    return cs.checks.Linear("suboptimality", claimed, bound="upper").check(trace)


def check_near_miss(trace, s):
    """ρ̂^1.3 with ρ̂ the run's own fitted rate (recomputed here from the trace's second half)."""
    t = np.asarray(trace.series("suboptimality").x, dtype=float)
    v = np.asarray(trace.mean("suboptimality"), dtype=float)
    half = (t >= t.max() / 2) & (v > 0)
    rate = float(np.exp(np.polyfit(t[half], np.log(v[half]), 1)[0]))
    return cs.checks.Linear("suboptimality", rate ** NEAR_MISS_POWER, bound="upper").check(trace)


ON = "GradNormSmoothNewton"
IDENTITY = mu.set_field("hessian", "identity", on=ON, name="Hessian approximation replaced by the identity")
ZERO = mu.set_field("hessian", "zero", on=ON, name="Hessian approximation dropped (H = 0: normalized gradient)")
NO_SEARCH = mu.set_field("adaptive", False, on=ON, name="adaptive gamma search dropped (gamma_k = 1)")
REG_SMALL = mu.scale("regularization", 0.01, on=ON, name="regularization lambda x0.01")
ACCEPT_STRICT = mu.scale("acceptance", 0.01, on=ON, name="gamma-search descent test 100x stricter")

QUICK = {"n": 100, "d": 8, "cond": 100.0, "steps": 40}
FULL = {"n": 400, "d": 16, "cond": 100.0, "steps": 60}

claim = cs.Claim(
    id="gn-smooth",
    family="first-order",
    statement="gradient-regularized Newton (Alg. 1, adaptive gamma) with the Fisher approximation of the Hessian "
              "converges linearly on logistic regression: f - f* contracts per step at least by exp(-1/(M1 D))",
    source=SOURCE,
    assumptions=("logistic regression (quasi-self-concordant, M1 = max ||a_i||), reg = 1e-8, ill-conditioned features",
                 "H = empirical Fisher + reg I; lambda_k = ||grad f(x_k)|| / gamma_k with the authors' gamma search",
                 "exact gradients; D = ||x0 - x*||; the O-constant of O~(M1 D) taken as 1"),
    experiment=experiment, check=check_rate, quick=QUICK, full=FULL,
    mutations=(ACCEPT_STRICT,
               IDENTITY.blind("H = I steps (a gradient step <= 1) decrease f at ~0.997/step over the window, within "
                              "rtol of the loose bound 0.996; caught by the exact companion gn-smooth-exact"),
               ZERO.blind("normalized gradient steps contract at ~0.99/step, inside the loose bound exp(-1/(M1 D)) "
                          "= 0.996; caught by the exact companion gn-smooth-exact and by gn-smooth-scaling"),
               NO_SEARCH.blind("the unsearched Fisher-Newton steps contract at ~0.97/step, inside the loose bound; "
                               "caught by the exact companion gn-smooth-exact"),
               REG_SMALL.blind("the gamma search absorbs a constant factor in lambda = ||grad f||/gamma; caught by the "
                               "exact companion gn-smooth-exact")),
)

SCALING_QUICK = {"n": 100, "d": 8, "conds": (3.0, 10.0, 31.6), "cap": 400, "eps": 1e-8}
SCALING_FULL = {"n": 100, "d": 8, "conds": (3.0, 10.0, 31.6, 100.0), "cap": 1500, "eps": 1e-8}

scaling = cs.Claim(
    id="gn-smooth-scaling",
    family="first-order",
    statement="the iterations Alg. 1 with the Fisher approximation needs to reach f - f* <= 1e-8 on logistic "
              "regression grow at most linearly in M1 D (the O~(M1 D) complexity of the quasi-self-concordant class)",
    source=SOURCE,
    assumptions=("logistic regression, reg = 1e-8, features rescaled by geometric ladders of condition 3, 10, 31.6",
                 "H = empirical Fisher + reg I, the authors' gamma search; exact gradients",
                 "a level not reached within the run counts as the run length (a lower bound)"),
    experiment=scaling_experiment, check=check_scaling, quick=SCALING_QUICK, full=SCALING_FULL,
    mutations=(ZERO,
               IDENTITY.blind("no run reaches 1e-8 within the cap, so the censored counts are flat (the rate "
                              "claim cannot see it either: its bound is loose); caught by the exact companion "
                              "gn-smooth-exact"),
               NO_SEARCH.blind("the unsearched Fisher-Newton steps still reach 1e-8 with counts growing like "
                               "(M1 D)^0.67 here; caught by the exact companion gn-smooth-exact"),
               REG_SMALL.blind("the gamma search absorbs a constant factor in lambda = ||grad f||/gamma; caught by the "
                               "exact companion gn-smooth-exact"),
               ACCEPT_STRICT.blind("no run reaches 1e-8 within the cap, so the censored counts are flat (the rate "
                                   "claim gn-smooth and the exact companion gn-smooth-exact catch it)")),
)

scaling_negative = scaling.negative_control(
    "the iterations to reach 1e-8 grow at most like (M1 D)^0.1 (false: measured about 0.3)",
    lambda series, s: check_scaling(series, s, claimed=0.1))

negative = claim.negative_control(
    f"f - f* contracts at (fitted rate)^{NEAR_MISS_POWER} per step (30% faster in log-rate than the run; false)",
    check_near_miss)
