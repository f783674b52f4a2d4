"""zo-nonsmooth: gradient-free methods for nonsmooth nonconvex f: GFM (two-point sphere estimator of the smoothed
gradient) and GFM⁺ (the same with a SPIDER recursive estimator), in function evaluations.

Source: L. Chen, J. Xu & L. Luo, "Faster Gradient-Free Algorithms for Nonsmooth Nonconvex Stochastic
Optimization", ICML 2023, arXiv:2301.06428.  What was read: the abstract (arXiv HTML mirror) and the opening of the
TeX source (SPIQA raw-tex 2301.06428v2): for F(·; ξ) L-mean-squared Lipschitz, GFM (Lin, Zheng & Jordan 2022)
finds a (δ, ε)-Goldstein stationary point in O(L⁴ d^{3/2} ε^−4 + Δ L³ d^{3/2} δ^−1 ε^−4) zeroth-order calls,
GFM⁺ in O(L³ d^{3/2} ε^−3 + Δ L² d^{3/2} δ^−1 ε^−3).  GFM's estimator g = (d/(2δ)) [F(x + δw) − F(x − δw)] w,
w uniform on the sphere (unbiased for ∇f_δ, f_δ the uniform-ball smoothing, and ∇f_δ(x) ∈ ∂_δ f(x)); GFM⁺'s
recursion (refresh batch b every m steps, corrections on b' shared directions at x_t and x_{t−1}) is the one
of the paper's Algorithm 2 as recalled; its batch sizes, period and step as functions of ε were NOT read, so
fixed values are used and only what they cannot change is tested.

Setting: f(x) = Σ_i | |x_i| − 1 | (NonsmoothTwoWell: Lipschitz, nonsmooth, nonconvex; Clarke points x_i ∈
{−1, 0, 1}), d = 5 (odd: ∇f_δ then has a closed form through the ball marginal's polynomial CDF, see
problems.py), δ = 0.1, x0 = 2.5·1, exact function values.  The stationarity measure is ‖∇f_δ(x_t)‖ (an upper
bound on the Goldstein measure min{‖g‖: g ∈ ∂_δ f(x_t)}), averaged over replicas.  GFM: η = 0.01; GFM⁺:
η = 0.02, b = 64, b' = 4, m = 8 (30 evaluations per step on average).
Why this toy cannot separate ε^−4 from ε^−3 (measured, and expected): both bounds are worst-case over
nonconvex L-Lipschitz functions and stochastic F; here, as on every toy whose Goldstein points are known in
closed form, f_δ is locally strongly convex around its minimizers and the two-point estimate vanishes there
(f(1 + δw) = f(1 − δw)), so both methods converge linearly once near a minimizer and their costs grow like
log(1/ε), far from either exponent.
Claims:
  - zo-nonsmooth: GFM⁺ reaches mean ‖∇f_δ‖ ≤ ε within O(ε^−3) function evaluations (Complexity, cost =
    evaluations read from the run, of = "mean", upper, tolerance 0.1).  LOOSE by construction (see above);
    sharp companion zo-nonsmooth-exact (below).
  - zo-nonsmooth-gfm: GFM within O(ε^−4) evaluations (same check).  LOOSE likewise; sharp companions
    zo-nonsmooth-gfm-exact and zo-nonsmooth-smoothing (below).
  - zo-nonsmooth-separation: "GFM⁺ improves GFM's ε-exponent by 1" — expected INCONCLUSIVE by design: the check
    fits both exponents and decides the separation only where both bounds are attained (each fit within
    tolerance + 0.5 of its bound); on this toy neither is, so it reports why and stays undecided.
  - zo-nonsmooth-smoothing (sharp, exact; since session 5 declared the companion of zo-nonsmooth-gfm, the method it
    runs: it was declared on zo-nonsmooth, whose GFM+ it never ran): GFM's estimate is unbiased for the smoothed
    gradient: after one step
    from x0 = (1.05, 2.5, ...) (within δ of a kink, where ∇f_δ ≠ ∇f), E[x0 − x1]_1 = η ∂_1 f_δ(x0) (closed form)
    within 3%.
  - zo-nonsmooth-smoothing-neg (near-miss): E[x0 − x1]_1 = η ∂_1 f_{1.15δ}(x0) (the radius in the statement
    moved by 15%: that reference is 9.4% below the true one, against a 3% band and a ~1.5% interval; first
    tried at 2δ, a far control, moved after seeing it).
  - zo-nonsmooth-gfm-exact and zo-nonsmooth-exact (sharp companions of zo-nonsmooth-gfm and zo-nonsmooth, added
    in session 5): the SAME runs equal GFM and GFM⁺ as restated here in numpy float64 (`restated_sq_norm`: f, the
    two-point sphere estimate, the refresh / SPIDER-correction schedule and the steps written out from the
    statements above, independent of convsim.zeroth_order) driven by the SAME directions, which the restatement
    reads from the run's per-block replica streams (convsim.random.run_streams of the run's metadata: seed, backend,
    dtype, generator, stream family; one standard-normal (n, d) draw per replica and estimate, normalized, in the
    order the methods draw them).  Checked: per replica, ||x_t||² over the restated value is 1 at every recorded t in
    [1, T] (Reference, rtol 1e-9, on the replica farthest from 1 at each checkpoint: the identity holds path by
    path, with no Monte Carlo interval; ||x_t||², not ||∇f_δ(x_t)||, because the latter reaches the rounding floor
    1e-15 near the minimizer, where its ratio is noise), and the run is charged 2 (GFM) and (2b + 4b'(m − 1))/m
    = 30 (GFM⁺) evaluations per step.  Measured: ratio 1 to rounding (largest defect ~3e-15) under both stream families.  They pin what the loose ε-exponents cannot see:
    the step ×1.01 (‖x_t‖² moves by up to 2e-2 on the transient), the factor d, the smoothing radius, the
    difference scheme, the batch sizes and the refresh period.
    Negative controls (near misses): the restatement with η × (1 + 1e-9), the step moved by exactly the check's
    rtol: on the worst replica ‖x_t‖² moves by 2.7e-9 (GFM) and 3.8e-9 (GFM⁺) at the transient's peak (sfc64;
    3.3e-9 and 3.7e-9 under pcg64; 2.7e-9 and 4.7e-9 at full settings, sfc64), 2.7-4.7x the rtol.
Mutations: step ×20 (both methods: no convergence within the run); 1 correction direction for GFM⁺ (first
declared blind; it is caught: the recursion's error accumulates over a period like (m/b') η² L_δ² ‖v‖², and with
b' = 1 the mean stays near 0.8, never reaching ε = 0.4; b' = 2 stalls near 0.07); the factor d dropped for GFM
(blind for this loose exponent: a constant); for the exact companion: the factor d
dropped, smoothing ×2 (caught), forward differences (blind: the forward estimate is unbiased for ∇f_δ too,
since E[f(x) w] = 0).
"""

import dataclasses

import numpy as np

import convsim as cs
from convsim import random as streams
from convsim import mutations as mu
from convsim import zeroth_order as zo
from convsim.checks import INCONCLUSIVE
from convsim.estimators.runner import as_series
from convsim.zeroth_order.methods import GFMPlus
from convsim.zeroth_order.problems import NonsmoothTwoWell

SOURCE = cs.Source("Faster Gradient-Free Algorithms for Nonsmooth Nonconvex Stochastic Optimization", "2301.06428",
                   "GFM+ O(L^3 d^1.5 eps^-3 + ...) vs GFM O(L^4 d^1.5 eps^-4 + ...) ZO calls (abstract)")

D, DELTA = 5, 0.1
EPS = np.geomspace(1.0, 0.01, 6)


def toy(x0=None):
    return NonsmoothTwoWell(np.ones(D), x0=np.full(D, 2.5) if x0 is None else x0)


def smoothed_grad_norm(problem, x):
    g = problem.smoothed_grad(x, DELTA)
    return problem.namespace_of(x).sqrt(problem.namespace_of(x).sum(g * g, axis=-1))


def gfm():
    return zo.ZOSGD(0.01, zo.SphereTwoPoint(DELTA, 1))


def gfm_plus():
    return GFMPlus(0.02, DELTA, batch=64, inner_batch=4, period=8)


def run(method, s, ctx, key):
    steps = s[key]
    return ctx.simulate(toy(), method, steps, s["replicas"], metrics={"smoothed_grad_norm": smoothed_grad_norm,
                                                                       "sq_norm": sq_norm},
                        record=record_of(steps))


def record_of(steps):
    return np.unique(np.round(np.geomspace(1, steps, 120)).astype(int))


def sq_norm(problem, x):
    """||x_t||^2: a well-conditioned summary of the iterate (->5 at the minimizer 1 reached from 2.5 1), compared with
    the restatements; ||grad f_delta|| itself reaches the rounding floor 1e-15 and its ratios are noise there."""
    return problem.namespace_of(x).sum(x * x, axis=-1)


def complexity(claimed):
    return cs.checks.Complexity("smoothed_grad_norm", claimed, eps=EPS, cost="evaluations", of="mean",
                                bound="upper", tolerance=0.1)


def gfm_plus_experiment(s, ctx):
    return zo.with_evaluations(run(gfm_plus(), s, ctx, "plus_steps"))


def gfm_experiment(s, ctx):
    return zo.with_evaluations(run(gfm(), s, ctx, "gfm_steps"))


def both_experiment(s, ctx):
    return {"gfm": gfm_experiment(s, ctx), "gfm_plus": gfm_plus_experiment(s, ctx)}


def separation_check(runs, s):
    """Decides 'GFM+ improves the exponent by 1' only where both worst-case bounds are attained on the toy."""
    plus, base = complexity(-3.0).check(runs["gfm_plus"]), complexity(-4.0).check(runs["gfm"])
    if plus.estimate is None or base.estimate is None:
        return dataclasses.replace(plus, verdict=INCONCLUSIVE, reason=f"a fit failed: {plus.reason}; {base.reason}")
    attained = abs(plus.estimate + 3.0) <= 0.6 and abs(base.estimate + 4.0) <= 0.6
    if not attained:
        return dataclasses.replace(
            plus, verdict=INCONCLUSIVE, claimed="GFM+ exponent = GFM exponent + 1",
            reason=(f"undecidable on this toy: fitted eps-exponents GFM+ {plus.estimate:.3g}, GFM {base.estimate:.3g} "
                    f"are far from the worst-case -3 and -4 (f_delta is locally strongly convex at its minimizers "
                    f"and the estimate vanishes there), so a separation of the bounds cannot be read off"))
    diff = plus.estimate - base.estimate
    verdict = "consistent" if diff >= 1.0 - 0.2 else "violated"
    return dataclasses.replace(plus, verdict=verdict, reason=f"exponent difference {diff:.3g} vs claimed 1")


def one_step_experiment(s, ctx):
    x0 = np.full(D, 2.5)
    x0[0] = 1.0 + 0.5 * DELTA
    return ctx.simulate(toy(x0), gfm(), 1, s["exact_replicas"], record=[0, 1],
                        metrics={"displacement": first_coordinate_displacement})


def first_coordinate_displacement(problem, x):
    """x0_1 − x_1 (the start is the problem's initial point)."""
    return problem.on(x, "x0_first", float(problem.initial_point()[0])) - x[:, 0]


def one_step_check(delta):
    def check(trace, s):
        problem = toy(np.r_[1.0 + 0.5 * DELTA, np.full(D - 1, 2.5)])
        g = problem.smoothed_grad(problem.initial_point()[None, :], delta)[0, 0]
        ref = np.array([1.0, 0.01 * float(g)])  # eta = 0.01; t = 0 lies outside the window (only t = 1 is compared)
        return cs.checks.Reference("displacement", ref, rtol=0.03, window=(1, 1),
                                   what=f"eta d_1 f_delta(x0), delta = {delta:g}").check(trace)

    return check


QUICK = {"gfm_steps": 3000, "plus_steps": 1500, "replicas": 64, "exact_replicas": 65536}
FULL = {"gfm_steps": 6000, "plus_steps": 3000, "replicas": 256, "exact_replicas": 262144}

NO_D = mu.set_field("dimension_scaled", False, on=zo.SphereTwoPoint, name="estimator's factor d dropped")

claim = cs.Claim(
    id="zo-nonsmooth",
    family="zeroth-order",
    statement="GFM+ (SPIDER recursive two-point sphere estimator of the smoothed gradient) reaches mean "
              "||grad f_delta|| <= eps, a (delta, eps)-Goldstein stationary point, within O(eps^-3) function evaluations",
    source=SOURCE,
    assumptions=("f = sum | |x_i| - 1 |: Lipschitz, nonsmooth, nonconvex", "d = 5, delta = 0.1, exact values",
                 "eta = 0.02, b = 64, b' = 4, m = 8 (not the paper's eps-dependent choices, which were not read)"),
    experiment=gfm_plus_experiment,
    check=lambda trace, s: complexity(-3.0).check(trace),
    quick=QUICK,
    full=FULL,
    mutations=(mu.scale("step_size", 20.0, on=GFMPlus, name="GFM+ step x20"),
               mu.set_field("inner_batch", 1, on=GFMPlus, name="1 correction direction")),
)

gfm_claim = cs.Claim(
    id="zo-nonsmooth-gfm",
    family="zeroth-order",
    statement="GFM (two-point sphere estimator of the smoothed gradient, constant step) reaches mean "
              "||grad f_delta|| <= eps within O(eps^-4) function evaluations",
    source=SOURCE,
    assumptions=claim.assumptions[:2] + ("eta = 0.01",),
    experiment=gfm_experiment,
    check=lambda trace, s: complexity(-4.0).check(trace),
    quick=QUICK,
    full=FULL,
    mutations=(mu.scale("step_size", 20.0, on=zo.ZOSGD, name="GFM step x20"),
               NO_D.blind("a factor d slower is a constant: the loose eps-exponent cannot see it "
                          "(zo-nonsmooth-gfm-exact and zo-nonsmooth-smoothing catch it)")),
)

separation = cs.Claim(
    id="zo-nonsmooth-separation",
    family="zeroth-order",
    statement="GFM+ improves GFM's function-evaluation complexity from eps^-4 to eps^-3 (undecidable on a toy whose "
              "Goldstein points are known: both costs grow like log(1/eps) there)",
    source=SOURCE,
    assumptions=claim.assumptions,
    experiment=both_experiment,
    check=separation_check,
    quick=QUICK,
    full=FULL,
    expected="inconclusive",
)

smoothing = cs.Claim(
    id="zo-nonsmooth-smoothing",
    family="zeroth-order",
    statement="GFM's estimate is unbiased for the gradient of the ball-smoothed f: one step from a point within "
              "delta of a kink moves coordinate 1 by eta d_1 f_delta(x0) on average (closed form), within 3%",
    source=SOURCE,
    assumptions=("f = sum | |x_i| - 1 |, d = 5, delta = 0.1", "x0_1 = 1 + delta/2 (f_delta differs from f there)"),
    experiment=one_step_experiment,
    check=one_step_check(DELTA),
    quick=QUICK,
    full=FULL,
    sharpens="zo-nonsmooth-gfm",
    mutations=(NO_D, mu.scale("smoothing", 2.0, on=zo.SphereTwoPoint, name="smoothing x2"),
               mu.set_field("difference", "forward", on=zo.SphereTwoPoint, name="forward differences").blind(
                   "the forward estimate is unbiased for grad f_delta as well (E[f(x) w] = 0)")),
)

negative = smoothing.negative_control("one GFM step moves coordinate 1 by eta d_1 f_{1.15 delta}(x0) on average "
                                      "(false: the smoothing radius is delta; that reference is 9% lower)",
                                      one_step_check(1.15 * DELTA))


# -- zo-nonsmooth-gfm-exact, zo-nonsmooth-exact: the runs against GFM and GFM+ restated, driven by the same directions

EXACT_RTOL = 1e-9
GFM_STEP, PLUS_STEP, BATCH, INNER_BATCH, PERIOD = 0.01, 0.02, 64, 4, 8


def _twowell(y):
    return np.sum(np.abs(np.abs(y) - 1.0), axis=-1)


def _sphere_estimate(x, w):
    """(d/(2 delta)) [f(x + delta w_k) - f(x - delta w_k)] w_k averaged over k, for w (R, n, d) unit directions."""
    centre = x[:, None, :]
    diff = (_twowell(centre + DELTA * w) - _twowell(centre - DELTA * w)) / (2.0 * DELTA)
    return D * np.mean(diff[..., None] * w, axis=1)


def normals_of(trace):
    """draw(*shape): the next standard normals of a recorded run, host float64 (replicas, *shape), from the streams
    it drew from (convsim.random.run_streams of its metadata: seed, backend, dtype, generator, stream family)."""
    rng = streams.run_streams(trace.meta, trace.replicas)
    return lambda *shape: np.array(cs.backend.to_numpy(rng.normal(*shape)), dtype=np.float64)


def restated_sq_norm(method, steps, normals, replicas, record, step_size):
    """||x_t||^2 (replicas, len(record)) of GFM (x <- x - eta g(x; w), one direction per step) or GFM+ (every PERIOD
    steps v = mean of g(x; w_k) over BATCH directions, in between v <- v + mean_k [g(x; w_k) - g(x_prev; w_k)] over
    INNER_BATCH shared directions; x <- x - eta v) from x0 = 2.5 1 (numpy float64, f = sum | |x_i| - 1 |); the
    directions are the run's: ``normals(n, D)`` per estimate (`normals_of`), normalized onto the sphere."""

    def draw(n):
        z = normals(n, D)
        return z / np.sqrt(np.sum(z * z, axis=-1, keepdims=True))

    x = np.full((replicas, D), 2.5)
    previous, v = x, np.zeros_like(x)
    column = {int(t): j for j, t in enumerate(record)}
    out = np.full((replicas, len(record)), np.nan)
    if 0 in column:
        out[:, column[0]] = np.sum(x * x, axis=-1)
    for t in range(steps):
        if method == "gfm":
            v = _sphere_estimate(x, draw(1))
        elif t % PERIOD == 0:
            v = _sphere_estimate(x, draw(BATCH))
        else:
            w = draw(INNER_BATCH)
            v = v + (_sphere_estimate(x, w) - _sphere_estimate(previous, w))
        previous, x = x, x - step_size * v
        if t + 1 in column:
            out[:, column[t + 1]] = np.sum(x * x, axis=-1)
    return out


PLUS_EVALUATIONS = (2.0 * BATCH + 4.0 * INNER_BATCH * (PERIOD - 1)) / PERIOD  # a refresh, then m - 1 corrections
RESTATED = {"gfm": (GFM_STEP, "gfm_steps", 2.0), "gfm_plus": (PLUS_STEP, "plus_steps", PLUS_EVALUATIONS)}


def worst_replica(ratio, x, name="worst_restated_ratio"):
    """The one-row Series of the replica's ratio farthest from 1 at each checkpoint (cs.checks.farthest_from_one)."""
    return as_series(cs.checks.farthest_from_one(ratio), x, "t", name)


def restated_ratios(trace, s, method, step_scale=1.0):
    """Per replica, ||x_t||^2 over the restated one (the run's seed and replicas from its metadata), as the one-row
    Series of the worst replica."""
    step, key, _ = RESTATED[method]
    restated = restated_sq_norm(method, s[key], normals_of(trace), trace.replicas, trace.steps, step * step_scale)
    return worst_replica(trace.values("sq_norm") / restated, trace.steps)


def exact_experiment(method):
    run = gfm_experiment if method == "gfm" else gfm_plus_experiment

    def experiment(s, ctx):
        trace = run(s, ctx)
        return {"run": trace, "restated": restated_ratios(trace, s, method)}

    return experiment


def exact_check(method, step_scale=1.0):
    step, key, per_step = RESTATED[method]
    name = "GFM" if method == "gfm" else "GFM+"
    what = f"{name} restated" if step_scale == 1.0 else f"{name} restated, eta x {step_scale:.10g}"

    def check(data, s):
        cost = cs.checks.Reference("evaluations", lambda t: per_step * t, rtol=1e-12, window=(1, s[key]),
                                   what=f"{per_step:g} evaluations per step").check(data["run"])
        if cost.verdict != "consistent":
            return cost
        series = data["restated"] if step_scale == 1.0 else restated_ratios(data["run"], s, method, step_scale)
        return cs.checks.Reference("worst_restated_ratio", lambda t: np.ones(np.shape(t)), rtol=EXACT_RTOL,
                                   window=(1, s[key]), what=what).check(series)

    return check


gfm_exact = cs.Claim(
    id="zo-nonsmooth-gfm-exact",
    family="zeroth-order",
    statement="the GFM run equals GFM restated in float64 from the same sphere directions (eta = 0.01, "
              "g = (d/(2 delta)) [f(x + delta w) - f(x - delta w)] w): ||x_t||^2 per replica at every checkpoint "
              "(rtol 1e-9), at 2 function evaluations per step",
    source=SOURCE,
    assumptions=gfm_claim.assumptions + ("the restatement reads the run's directions from its per-block streams",),
    experiment=exact_experiment("gfm"),
    check=exact_check("gfm"),
    quick=QUICK,
    full=FULL,
    sharpens="zo-nonsmooth-gfm",
    needs_float64="the run is compared with a float64 restatement at rtol 1e-9",
    mutations=(mu.scale("step_size", 1.01, on=zo.ZOSGD, name="GFM step x1.01"),
               NO_D,
               mu.scale("smoothing", 2.0, on=zo.SphereTwoPoint, name="smoothing x2"),
               mu.set_field("difference", "forward", on=zo.SphereTwoPoint, name="forward differences"),
               mu.scale("directions", 2.0, on=zo.SphereTwoPoint, name="2 directions per step")),
)

gfm_exact_negative = gfm_exact.negative_control(
    "the GFM run equals the restatement with eta = 0.01 (1 + 1e-9) (the step moved by the check's rtol; false)",
    exact_check("gfm", 1.0 + EXACT_RTOL))

plus_exact = cs.Claim(
    id="zo-nonsmooth-exact",
    family="zeroth-order",
    statement="the GFM+ run equals GFM+ restated in float64 from the same sphere directions (eta = 0.02, a refresh "
              "over b = 64 directions every m = 8 steps, SPIDER corrections over b' = 4 directions shared by x_t and "
              "x_{t-1}): ||x_t||^2 per replica at every checkpoint (rtol 1e-9), at 30 evaluations per step",
    source=SOURCE,
    assumptions=claim.assumptions + ("the restatement reads the run's directions from its per-block streams",),
    experiment=exact_experiment("gfm_plus"),
    check=exact_check("gfm_plus"),
    quick=QUICK,
    full=FULL,
    sharpens="zo-nonsmooth",
    needs_float64="the run is compared with a float64 restatement at rtol 1e-9",
    mutations=(mu.scale("step_size", 1.01, on=GFMPlus, name="GFM+ step x1.01"),
               mu.scale("smoothing", 2.0, on=GFMPlus, name="GFM+ smoothing x2"),
               mu.set_field("period", 4, on=GFMPlus, name="refresh every 4 steps"),
               mu.set_field("batch", 32, on=GFMPlus, name="refresh batch 32"),
               mu.set_field("inner_batch", 1, on=GFMPlus, name="1 correction direction")),
)

plus_exact_negative = plus_exact.negative_control(
    "the GFM+ run equals the restatement with eta = 0.02 (1 + 1e-9) (the step moved by the check's rtol; false)",
    exact_check("gfm_plus", 1.0 + EXACT_RTOL))
