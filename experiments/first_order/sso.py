"""sso: SSO (projected SGD in target space, m inner steps on the surrogate) converges at T^{-1/2} on a convex
loss, follows its exact second-moment recursion, and amortizes the expensive gradients.

Source [S5]: J. W. Lavington, S. Vaswani, R. Babanezhad, M. Schmidt & N. Le Roux, "Target-based Surrogates for
Stochastic Optimization", arXiv:2302.02607 (ICML 2023), the SSO algorithm and its convex guarantee.  What was read:
the abstract and opening (stored copy hf-mirror papers/2302.02607.md: "SSO ... can be viewed as projected stochastic
gradient descent in the target space. This connection enables us to prove theoretical guarantees for SSO when
minimizing convex functions") and the authors' code (WilderLavington/Target-Based-Surrogates-For-Stochastic-
Optimization, optimizers/sgd_fmdopt.py: one loss gradient dℓ/dz at the targets z_t = f(θ_t) per outer step, the
surrogate ⟨dℓ/dz, f(θ)⟩/η_code + ‖f(θ) − z_t‖² minimized by m inner steps, so a target step 1/(2η_code); η schedules
'constant' and 'stochastic' (η_code ∝ √t, i.e. a target step ∝ 1/√t)).  The code evaluates the proximity term on
the minibatch's targets only; the projected-SGD reading of the abstract, which is what is implemented and tested
here, projects the full target vector z ∈ ℝⁿ onto the realizable set {Xθ}.  The theorem body (its constants and
the exact step-size condition) was NOT reachable in the stored copies, so what is tested is that structure on a
toy where everything is exact: convsim.methods.surrogate.TargetSurrogateSGD with the surrogate
⟨∇ℓ̂_t(z_t), Xω⟩ + ‖Xω − z_t‖²/(2η).

Setting: least squares as a linear classifier's squared loss in target space, ℓ(z) = (1/n) Σ ½(z_i − y_i)² with
z = Xθ (convsim LeastSquares, n = 16, d = 4, feature spectrum 1, 1/2, 1/4, 1/8, label noise 0.5, one example per
expensive gradient), ℓ_i 1-smooth in z; inner step α = η/λ_max(XᵀX) (1/L of the surrogate), m = 8.  For a
linear model SSO is θ_{t+1} = θ_t − P_m ĝ_t with P_m = η(I − (I − αXᵀX/η)^m)(XᵀX)⁻¹ (convsim.methods.surrogate.
sso_preconditioner; m → ∞ is the exact projection, ηXᵀ-preconditioned SGD), so E[ℓ(z_t)] − ℓ* = ½ tr(Ĝ S_t) with
S_t = E[e_t e_tᵀ] following an exact linear recursion over the n equally likely examples (computed here from
the data, never from the method).

Claims:
  - `sso`: with the horizon-tuned target step η_T = 8/√T (η ≤ 1/2 = 1/(2L) for T ≥ 256), the iterates' average
    suboptimality (1/T) Σ_{t<T} E[ℓ(z_t)] − ℓ* (the left side of the standard convex projected-SGD bound
    D²/(2ηT) + ησ²/2, as recalled: the paper's own form was not read) is O(T^{-1/2}) over T = 256..1024
    (Exponent, upper, tolerance 0.1, 256 replicas; measured −0.529 [−0.539, −0.519], exact recursion −0.528;
    at full settings, T to 8192, the exact local exponent tends to −0.51: both terms of the bound ∝ T^{-1/2}, so
    the bound is attained).  Re-specified after the first runs: the last iterate alone had a bootstrap interval
    of ±0.08 at 512 replicas; the running average (the quantity the bound is about) has ±0.01.
  - `sso-exact` (sharp companion): at T = 512, η = 8/√T, E[ℓ(z_t)] − ℓ* equals the exact second-moment recursion
    at every checkpoint (Reference, rtol 0.2, 1024 replicas; largest deviation ratio 0.95).
  - `sso-amortize`: with a fixed η = 1/4 and the same 128 expensive gradients, m = 16 inner steps reach an
    E[ℓ] − ℓ* at least 2× lower than m = 1 (Compare; m = 1 is plain SGD in θ with step α).  The factor 2 is OUR
    minimal quantitative reading of "amortizing the cost of gradient computation" (the paper states no factor);
    measured 5.97 [5.52, 6.47], exact 6.12.
Mutations: inner steps 0 (no update), η fixed at 1/2 for every horizon (not decayed: the floor stops falling),
the proximity (projection) term dropped (the inner steps repeat the stale gradient: step mα), η ×2, inner step ×2
(α = 2/L of the surrogate: the top direction's inner factor is (−1)^m, it never moves, so every claim sees it).
`sso` is blind to the dropped projection and to η ×2 (the steps stay ∝ η_T: same exponent) and to η fixed at 1/2
(the running average then falls like B/T + floor, faster than T^{-1/2} over these horizons, which an upper bound
cannot see); the exact companion catches all five.
Negative controls (near-miss): "O(T^{-0.66})" (the tolerance 0.1 plus twice the interval half-width past the
exact exponent −0.53 of the recursion); "m = 16
beats m = 1 by 1.12× the exact ratio" (exact ratio 6.12 from the recursion; the interval half-width is 8%).
Full settings (1024 replicas, T to 8192; exact companion at T = 2048 with 4096 replicas): every verdict as expected
(`sso` −0.516 [−0.519, −0.512] over T = 256..8192, and −0.520 [−0.540, −0.501] for the last-iterate version
before the re-specification; the exact companion's largest deviation 1.04; amortization 6.14 [5.93, 6.35]).
Not tested: nonlinear models (a non-convex realizable set), the full-batch majorization-minimization result,
line-search inner loops (SSO-SLS), the paper's constants.
"""

from functools import lru_cache

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.methods.surrogate import TargetSurrogateSGD, sso_preconditioner

NEEDS_FLOAT64 = "the exact companion compares means to a recursion at rtol 0.2 down to 1e-3 of the start"

SOURCE = cs.Source("Target-based Surrogates for Stochastic Optimization (Lavington, Vaswani, Babanezhad, Schmidt, "
                   "Le Roux)", "2302.02607",
                   "SSO = projected SGD in target space and its convex guarantee (theorem constants not readable; "
                   "exponent and exact recursion tested)")

STEP_CONSTANT = 8.0
AMORTIZE_ETA = 0.25


@lru_cache(maxsize=4)
def problem_for(n, d):
    return cs.problems.LeastSquares.random(n, d, spectrum=[2.0 ** -k for k in range(d)], noise_std=0.5, seed=1)


def gram_top(problem):
    return float(np.linalg.eigvalsh(problem.A.T @ problem.A)[-1])


def method_for(problem, eta, m):
    return TargetSurrogateSGD(eta=float(eta), inner_steps=int(m), inner_step_size=float(eta) / gram_top(problem))


def horizons(s):
    return [2 ** k for k in range(s["log2_T"][0], s["log2_T"][1] + 1)]


def exact_suboptimality(problem, P, steps):
    """½ tr(Ĝ S_t), t = 0..steps, for θ_{t+1} = θ_t − P x_i(x_iᵀθ_t − y_i), i uniform (host numpy)."""
    X, y = problem.A, problem.y
    n, d = X.shape
    residual = y - X @ problem.x_star
    gram = X.T @ X / n
    B = np.eye(d)[None] - np.einsum("ab,ib,ic->iac", P, X, X)
    c = X @ P.T
    mean = problem.initial_point() - problem.x_star
    S = np.outer(mean, mean)
    out = [0.5 * np.trace(gram @ S)]
    for _ in range(steps):
        Bm = np.einsum("iab,b->ia", B, mean)
        cross = np.einsum("i,ia,ib->ab", residual, Bm, c)
        S = (np.einsum("iab,bc,idc->ad", B, S, B) + cross + cross.T
             + np.einsum("i,ia,ib->ab", residual ** 2, c, c)) / n
        mean = mean - P @ (gram @ mean)
        out.append(0.5 * np.trace(gram @ S))
    return np.array(out)


@lru_cache(maxsize=8)
def exact_curve(n, d, eta, m, steps):
    problem = problem_for(n, d)
    P = sso_preconditioner(problem.A.T @ problem.A, eta, m, eta / gram_top(problem))
    return exact_suboptimality(problem, P, steps)


def experiment(s, ctx):
    problem = problem_for(s["n"], s["d"])
    finals, diverged = [], None
    for T in horizons(s):
        trace = ctx.simulate(problem, method_for(problem, STEP_CONSTANT / np.sqrt(T), s["m"]), T, s["replicas"],
                             metrics=["suboptimality"], record=np.arange(T))
        finals.append(trace.values("suboptimality").mean(axis=1))   # (1/T) Σ_{t<T} (ℓ(z_t) − ℓ*) per replica
        diverged = trace.diverged_at if diverged is None else np.maximum(diverged, trace.diverged_at)
    rate = cs.Series(np.array(horizons(s), dtype=float), np.stack(finals, axis=1), "T", "average_suboptimality",
                     diverged)
    T = s["exact_T"]
    exact = ctx.simulate(problem, method_for(problem, STEP_CONSTANT / np.sqrt(T), s["m"]), T, s["exact_replicas"],
                         metrics=["suboptimality"])
    amortize = {f"m = {m}": ctx.simulate(problem, method_for(problem, AMORTIZE_ETA, m), s["amortize_T"],
                                         s["replicas"], metrics={"amortized_suboptimality": amortized_suboptimality})
                for m in (1, s["amortize_m"])}
    return {"rate": rate, "exact": exact, **amortize}


def amortized_suboptimality(problem, x):
    """ℓ(z) − ℓ* under its own name, so that the amortization figure shows its two runs only."""
    return problem.value(x) - problem.f_star


def check_rate(data, s, claimed=-0.5):
    return cs.checks.Exponent("average_suboptimality", claimed, bound="upper", tolerance=0.1, vs="T",
                              window=(horizons(s)[0], horizons(s)[-1])).check(data["rate"])


def check_exact(data, s):
    ref = exact_curve(s["n"], s["d"], STEP_CONSTANT / np.sqrt(s["exact_T"]), s["m"], s["exact_T"])
    return cs.checks.Reference("suboptimality", lambda t: ref[np.asarray(t, dtype=int)], rtol=0.2,
                               what="exact second-moment recursion").check(data["exact"])


def exact_amortize_ratio(s):
    one = exact_curve(s["n"], s["d"], AMORTIZE_ETA, 1, s["amortize_T"])[-1]
    many = exact_curve(s["n"], s["d"], AMORTIZE_ETA, s["amortize_m"], s["amortize_T"])[-1]
    return float(one / many)


def check_amortize(data, s, factor=2.0):
    return cs.checks.Compare("amortized_suboptimality", factor).check(data[f"m = {s['amortize_m']}"], data["m = 1"])


ON = "TargetSurrogateSGD"
NO_INNER = mu.set_field("inner_steps", 0, on=ON, name="inner steps 0")
ETA_FIXED = mu.set_field("eta", 0.5, on=ON, name="eta fixed at 1/2 for every horizon")
NO_PROXIMAL = mu.set_field("proximal", False, on=ON, name="proximity (projection) term dropped")
ETA_X2 = mu.scale("eta", 2.0, on=ON)
INNER_STEP_X2 = mu.scale("inner_step_size", 2.0, on=ON)

QUICK = {"n": 16, "d": 4, "m": 8, "log2_T": (8, 10), "replicas": 256, "exact_T": 512, "exact_replicas": 1024,
         "amortize_T": 128, "amortize_m": 16}
FULL = {"n": 16, "d": 4, "m": 8, "log2_T": (8, 13), "replicas": 1024, "exact_T": 2048, "exact_replicas": 4096,
        "amortize_T": 128, "amortize_m": 16}
ASSUMPTIONS = ("l convex and 1-smooth per example in target space (squared loss), linear model z = X theta",
               "one example per expensive gradient, sampled uniformly with replacement",
               "inner loop: m gradient steps of size eta/lambda_max(X^T X) on the surrogate from theta_t")

claim = cs.Claim(
    id="sso",
    family="first-order",
    statement="SSO with target step eta_T = 8/sqrt(T) and m = 8 inner steps has average suboptimality "
              "(1/T) sum_{t<T} E[l(z_t)] - l* = O(T^{-1/2}) on a convex (squared) loss in target space",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=check_rate, quick=QUICK, full=FULL,
    mutations=(NO_INNER,
               ETA_FIXED.blind("a constant eta = 1/2 makes the running average fall like B/T + floor, and over "
                               "T <= 1024 the 1/T part dominates: an O(T^-1/2) upper bound cannot see a faster fall "
                               "(the exact companion catches it)"),
               NO_PROXIMAL.blind("the stale-gradient steps are still proportional to eta_T: same exponent"),
               ETA_X2.blind("an exponent cannot see a constant factor in eta"),
               INNER_STEP_X2),
)

exact = cs.Claim(
    id="sso-exact",
    family="first-order",
    statement="SSO on a linear model with squared loss follows its exact second-moment recursion: E[l(z_t)] - l* "
              "= 1/2 tr(G S_t) at every checkpoint (rtol 0.2)",
    source=SOURCE, assumptions=ASSUMPTIONS + ("the model is linear: SSO is SGD preconditioned by P_m",),
    experiment=experiment, check=check_exact, quick=QUICK, full=FULL, sharpens="sso",
    mutations=(NO_INNER, NO_PROXIMAL, ETA_X2, INNER_STEP_X2, ETA_FIXED),
)

amortize = cs.Claim(
    id="sso-amortize",
    family="first-order",
    statement="with the same 128 expensive gradients and eta = 1/4, SSO with m = 16 inner steps reaches an "
              "E[l] - l* at least 2x lower than with m = 1",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=check_amortize, quick=QUICK, full=FULL,
    mutations=(NO_PROXIMAL, INNER_STEP_X2, NO_INNER),
)

negative = claim.negative_control(
    "SSO's average suboptimality is O(T^{-0.66}) (the tolerance plus the interval past the exact -0.53; false)",
    lambda data, s: check_rate(data, s, claimed=-0.66))

amortize_negative = amortize.negative_control(
    "m = 16 inner steps beat m = 1 by 1.12x the exact ratio of the recursion (the interval half-width 8% plus "
    "margin; false)",
    lambda data, s: check_amortize(data, s, factor=1.12 * exact_amortize_ratio(s)))
