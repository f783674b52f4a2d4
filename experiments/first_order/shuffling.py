"""shuffling: random reshuffling on a strongly convex finite sum reaches O(1/(nK²)) after K epochs; SGD only O(1/(nK)).

Sources: J. Cha, J. Lee & C. Yun, "Tighter Lower Bounds for Shuffling SGD: Random
Permutations and Beyond", arXiv:2303.07160 (ICML 2023), seed [S61]: lower bounds for
random reshuffling (RR) on smooth strongly convex finite sums that match the known upper
bounds Õ(1/(nK²)) in n and K (and close the gap in κ); the upper bound is that of
K. Mishchenko, A. Khaled & P. Richtárik, "Random Reshuffling: Simple Analysis with Vast
Improvements", arXiv:2006.05988.  SGD with replacement with the same steps is Θ(1/(nK))
(G. Garrigos & R. M. Gower, Handbook, arXiv:2301.11235, seed [S80], §5 decreasing steps).
(The theorem bodies could not be read here: we test the exponent in K, not constants.)

Setting: ℓ2-regularized logistic regression, n = 64 samples, d = 10, reg = 0.1 (every f_i
is 0.1-strongly convex and smooth: a general, non-quadratic strongly convex finite sum, where
1/(nK²) is the tight order), batch 1.  Steps constant within an epoch and decreasing across
epochs, γ_k = 4/(μ n (k + k₀)) for epoch k (k₀ makes γ_0 ≤ 1/L_max), the epoch-wise
schedule of shuffling analyses; the same schedule drives SGD with replacement.  Metric
E‖x − x*‖² at the end of each epoch, against t = nK (n fixed, so exponents in t are
exponents in K).

Checks: RR's exponent is ≤ −2 (`shuffling`, upper bound, tolerance 0.1); SGD's is −1
(`shuffling-sgd`, tight); RR ends below SGD (`shuffling-compare`, paired replicas).
Negative control (near-miss): "RR reaches O(1/K³)" — false by the lower bound Ω(1/(nK²)) of
Cha, Lee & Yun for non-quadratic strongly convex sums; on this toy's window the fitted exponent
(≈ −2.73 at quick settings, a pre-asymptotic mix of the 1/(nK²) term and faster ones) clears −3 + 0.1
by ≈ 0.17 beyond its interval.  (It replaced "RR is no faster than SGD: Θ(1/(nK))", false by 1.65 in
exponent.)

Quick settings resized (session 5): K = 256 epochs instead of 128 (replicas unchanged, 128; tolerances
unchanged).  With K = 128 `shuffling-sgd` was inconclusive under the SFC64 streams (fitted −0.924
[−0.948, −0.899] against the band −1 ± 0.1: the window K/16..K was still pre-asymptotic), while the
PCG64 streams gave −0.945 [−0.970, −0.918].  At K = 256 the same check reads −0.970 [−1.000, −0.942]
(sfc64) and −1.005 [−1.033, −0.976] (pcg64).  The other claims of the file share the runs: `shuffling`
−2.73 [−2.76, −2.71] (sfc64), `shuffling-compare` 2714 [2442, 2993].

The lower bound itself as a Θ statement is not tested: it is a worst case over functions
(a construction whose curvature differs on either side of x*), while on this logistic toy the
fitted exponent over the window is faster than −2 (−2.65 at quick settings); a Θ(K^−2) check on
this toy would be violated for reasons unrelated to the theorem.  The sampling scheme cannot be
mutated either: problems are not dataclasses (it would need a field on a dataclass).
Mutations: the sampling scheme is a small dataclass (`Sampling`) that the experiment passes
through `ctx.mutate`, so RR can be swapped for sampling with replacement (`shuffling` then sees
K^−1, `shuffling-compare` a tie) or for shuffle-once (blind: its upper bound has the same
order; briefly declared caught after the quick run saw it slower, then reverted when the full
run did not; at the resized quick settings, 256 epochs, it is not seen either).  The step's
constant 4/μ matters too: with γ_k = c/(μ n k) the error decays as K^−min(2c, ·), so a step
×1/32 breaks RR's O(K^−2) (measured −0.66) and ×1/16 SGD's Θ(K^−1); larger steps keep the
exponents (blind).  (The first choice, ×1/8, was missed by `shuffling`: the fitted RR exponent
stayed below −2; the factor was then lowered to 1/32 after measuring.)

Sharp companions (session 5; `shuffling` and `shuffling-compare` were flagged loose: RR's fitted
exponent is ≈ 0.7 below the O(K^−2) bound, and its edge over SGD ≈ 2700× the factor 1).  No closed form
exists for E‖x_K − x*‖² here (a non-quadratic sum; without replacement the steps of an epoch are
dependent), so the reference is a float64 restatement of the algorithm run on the SAME draws
(`restated_dist_sq`: the logistic gradient, μ = reg, L_max, k₀ and γ_k written out from their
definitions, and the sampler restated from the draws of the first block's stream: one argsort of n
uniforms per epoch for RR, one uniform integer per step with replacement; only x* is the problem's):
  - shuffling-exact (sharpens `shuffling`): per replica, the RR run's ‖x − x*‖² over the restated one is
    1 at every epoch end of the window K/16..K (cs.checks.Reference, rtol 1e-9).  Measured: 1 to within
    3e-13 (both stream families).
  - shuffling-compare-exact (sharpens `shuffling-compare`): per replica, the paired edge (SGD run / RR
    run) over the restated edge is 1 on the same window (rtol 1e-9).
  Both catch what the loose checks are blind to: the step ×1.01 and ×2, the schedule read one step late
  (epoch boundaries off by one), shuffle-once instead of reshuffling, and either sampling swapped.
  Near-miss controls: "equals the restatement with the step constant 4(1 + 2e-9)": RR's error moves by
  ≈ 2.9× the step's relative change (measured 1 − 5.8e-9 at quick settings, 6× the rtol), the edge by
  ≈ 1.9× (1 + 3.9e-9, 4× the rtol); full settings: 1 − 5.7e-9 and 1 + 3.7e-9 (sfc64; pcg64 alike).
  Cost at quick settings: each restated run (the first block, 16384 steps) takes ≈ 0.8 s; with the controls'
  restatements (memoized per process, so mutated runs reuse them) the companions add ≈ 3 s to the file, and
  the resize doubles the runs' ≈ 4 s (2 cores, shared).
  Full settings (K = 512, 256 replicas) measured this session: `shuffling` −2.76 [−2.78, −2.74] (sfc64),
  −2.72 [−2.74, −2.70] (pcg64); `shuffling-sgd` −0.971 [−0.992, −0.950] and −0.998 [−1.018, −0.979].
"""

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

import convsim as cs
from convsim import mutations as mu
from convsim import random as streams
from convsim.engine.trace import Series


@dataclass(frozen=True)
class Sampling:
    """The sampling scheme a run uses, as a dataclass the Context can mutate (problems are not dataclasses)."""

    kind: str


def sampling_replaced(old, new):
    return mu.custom(f"{old} replaced by {new}",
                     lambda sm: dataclasses.replace(sm, kind=new) if sm.kind == old else None, on=Sampling)

SOURCE = cs.Source("Tighter Lower Bounds for Shuffling SGD: Random Permutations and Beyond (Cha, Lee, Yun)",
                   "2303.07160", "RR lower bounds matching the O(1/(nK^2)) upper bounds for strongly convex "
                   "finite sums (as stated in the abstract); upper bound: Mishchenko et al., arXiv:2006.05988")


def experiment(s, ctx):
    runs = {}
    for sampling in ("reshuffle", "with-replacement"):
        scheme = ctx.mutate(Sampling(sampling))  # the scheme under test: a mutation may swap it
        problem = cs.problems.LogisticRegression.random(s["n"], s["d"], reg=s["reg"], seed=2, sampling=scheme.kind)
        c = problem.constants()
        k0 = max(1.0, 4.0 * c["L_max"] / (c["mu"] * s["n"]))  # γ_0 = 4/(μ n k0) ≤ 1/L_max
        step = cs.schedules.per_epoch(cs.schedules.inverse_time(4.0 / (c["mu"] * s["n"]), k0), s["n"])
        epochs = np.unique(np.round(np.geomspace(1, s["epochs"], s["points"])).astype(int))
        runs[sampling] = ctx.simulate(problem, cs.methods.SGD(step), s["epochs"] * s["n"], replicas=s["replicas"],
                                      record=list(epochs * s["n"]), metrics=["dist_sq"])
    return runs


def window(s):
    return (s["epochs"] * s["n"] / 16, s["epochs"] * s["n"])


def check_rate(runs, s, which="reshuffle", exponent=-2.0, bound="upper"):
    return cs.checks.Exponent("dist_sq", exponent, bound=bound, tolerance=0.1, window=window(s)).check(runs[which])


COMMON = {"n": 64, "d": 10, "reg": 0.1, "points": 24}
ASSUMPTIONS = ("f_i smooth and strongly convex (l2-regularized logistic losses)", "batch 1",
               "epoch-wise steps 4/(mu n (k + k0))", "reshuffling: a fresh permutation every epoch")

claim = cs.Claim(
    id="shuffling",
    family="first-order",
    statement="random reshuffling after K epochs: E||x_K - x*||^2 = O(1/(n K^2))",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=check_rate,
    quick={**COMMON, "epochs": 256, "replicas": 128},
    full={**COMMON, "epochs": 512, "replicas": 256},
    mutations=(
        sampling_replaced("reshuffle", "with-replacement"),
        mu.scale("step_size", 1 / 32),
        mu.scale("step_size", 2.0).blind("a larger step constant keeps RR's O(K^-2) (the noise term sets the rate)"),
        sampling_replaced("reshuffle", "shuffle-once").blind(
            "shuffle-once also reaches O(1/(n K^2)) on strongly convex sums (not caught at full settings, nor at "
            "quick ones since their resize to 256 epochs; shuffling-exact catches it)"),
    ),
)

sgd = cs.Claim(
    id="shuffling-sgd",
    family="first-order",
    statement="SGD with replacement, same steps: E||x_K - x*||^2 = Theta(1/(n K))",
    source=SOURCE, assumptions=ASSUMPTIONS[:3] + ("uniform sampling with replacement",), experiment=experiment,
    check=lambda runs, s: check_rate(runs, s, "with-replacement", -1.0, "tight"),
    quick=claim.quick, full=claim.full,
    mutations=(
        mu.scale("step_size", 1 / 16),
        mu.scale("step_size", 2.0).blind("a larger step constant keeps SGD's Theta(1/K)"),
    ),
)

compare = cs.Claim(
    id="shuffling-compare",
    family="first-order",
    statement="after K epochs random reshuffling is closer to x* than SGD with replacement (paired replicas)",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment,
    check=lambda runs, s: cs.checks.Compare("dist_sq", 1.0).check(runs["reshuffle"], runs["with-replacement"]),
    quick=claim.quick, full=claim.full,
    mutations=(
        sampling_replaced("reshuffle", "with-replacement"),  # the two runs become one: a tie, which Compare rejects
        mu.scale("step_size", 1 / 32).blind("both samplings slow down alike and RR keeps a small edge (ratio ~1.06)"),
    ),
)

negative = claim.negative_control(
    "random reshuffling reaches E||x_K - x*||^2 = O(1/K^3) (false: Omega(1/(n K^2)), Cha et al.)",
    lambda runs, s: check_rate(runs, s, "reshuffle", -3.0, "upper"),
)


# -- sharp companions: the runs against a float64 restatement of the algorithms, on the same draws ---------------

STEP_CONSTANT = 4.0  # gamma_k = STEP_CONSTANT / (mu n (k + k0)), the claims' schedule
EXACT_RTOL = 1e-9
RESTATED_REPLICAS = streams.BLOCK  # the first block's replicas: a path-wise check needs no more


def restated_dist_sq(problem, sampling, epochs, seed, family, record, step_constant=STEP_CONSTANT):
    """||x_t - x*||^2 (RESTATED_REPLICAS, len(record)) of batch-1 SGD on the logistic finite sum, restated from
    its definition: grad f_i(x) = -y_i a_i sigma(-y_i a_i^T x) + reg x, x_0 = 0, the epoch-wise step
    step_constant / (mu n (k + k0)) with mu = reg and k0 = max(1, 4 L_max / (mu n)), L_max = max_i ||a_i||^2 / 4 + reg;
    the index of step t is, with replacement, one uniform integer in [0, n) per step from the first block's
    stream (drawn an epoch at a time: numpy's bounded integers are a sequential stream, so the numbers are those of
    n per-step draws; the tests check it), and for reshuffling position t mod n of the argsort of n uniforms drawn
    at the start of every epoch (the draws of the run's per-block streams, convsim.random.block_generator; x* is the
    problem's)."""
    A, labels, reg, n = problem.A, problem.y, problem.reg, problem.n
    l_max = 0.25 * float(np.max(np.sum(A * A, axis=1))) + reg
    k0 = max(1.0, 4.0 * l_max / (reg * n))
    gen = streams.block_generator(seed, 0, family)
    x = np.zeros((RESTATED_REPLICAS, A.shape[1]))
    column = {int(t): j for j, t in enumerate(record)}
    out = np.full((RESTATED_REPLICAS, len(record)), np.nan)
    if 0 in column:
        out[:, column[0]] = np.sum((x - problem.x_star) ** 2, axis=1)
    for k in range(epochs):
        gamma = step_constant / (reg * n * (k + k0))
        if sampling == "reshuffle":
            order = np.argsort(gen.random((RESTATED_REPLICAS, n)), axis=1).T
        else:  # the epoch's n per-step draws of (R, 1) integers in one call: the same numbers, in the same order
            order = gen.integers(0, n, size=(n, RESTATED_REPLICAS, 1))[:, :, 0]
        rows, ys = A[order], labels[order]  # (n, R, d), (n, R): this epoch's samples in visiting order
        for i in range(n):
            a, y = rows[i], ys[i]
            x = x - gamma * ((-y * expit(-y * np.sum(a * x, axis=1)))[:, None] * a + reg * x)
            if k * n + i + 1 in column:
                out[:, column[k * n + i + 1]] = np.sum((x - problem.x_star) ** 2, axis=1)
    return out


@functools.lru_cache(maxsize=16)
def restated_for(settings, sampling, seed, family, record, step_constant):
    """restated_dist_sq for the claims' problem, once per process for given arguments (hashable: settings and
    record as tuples): the controls and every mutated run reuse it, since a mutation never reaches it."""
    s = dict(settings)
    problem = cs.problems.LogisticRegression.random(s["n"], s["d"], reg=s["reg"], seed=2, sampling=sampling)
    out = restated_dist_sq(problem, sampling, s["epochs"], seed, family, np.asarray(record), step_constant)
    out.flags.writeable = False
    return out


def restated_ratios(runs, s, step_constant=STEP_CONSTANT, samplings=("reshuffle", "with-replacement")):
    """Per replica (the first block) and checkpoint: the RR run's ||x - x*||^2 over its restatement and, when both
    samplings are restated, the paired edge (SGD / RR) of the runs over the restated edge."""
    ratio = {}
    for sampling in samplings:
        trace = runs[sampling]
        restated = restated_for(tuple(sorted(s.items())), sampling, trace.meta["seed"],
                                streams.host_stream_family(trace.meta, "shuffling-exact"), tuple(int(t) for t in trace.steps),
                                float(step_constant))
        ratio[sampling] = trace.values("dist_sq")[:RESTATED_REPLICAS] / restated
    rr, sgd = runs["reshuffle"], runs["with-replacement"]
    diverged = np.maximum(rr.diverged_at, sgd.diverged_at)[:RESTATED_REPLICAS]
    consts = {"step_constant": step_constant}
    out = {"RR / restated": Series(rr.steps, ratio["reshuffle"], "t", "restated_ratio", diverged, consts)}
    if "with-replacement" in ratio:
        out["edge / restated edge"] = Series(rr.steps, ratio["with-replacement"] / ratio["reshuffle"], "t",
                                             "restated_edge_ratio", diverged, consts)
    return out


def exact_experiment(s, ctx):
    runs = experiment(s, ctx)
    return {**runs, **restated_ratios(runs, s)}


def exact_check(key, metric, step_constant=STEP_CONSTANT):
    what = "restated" if step_constant == STEP_CONSTANT else f"restated, step constant {step_constant:.10g}"

    def check(data, s):
        series = data[key]
        if step_constant != STEP_CONSTANT:
            samplings = ("reshuffle",) if key == "RR / restated" else ("reshuffle", "with-replacement")
            series = restated_ratios(data, s, step_constant, samplings)[key]
        return cs.checks.Reference(metric, lambda t: np.ones(np.shape(t)), rtol=EXACT_RTOL, window=window(s),
                                   what=what).check(series)

    return check


EXACT_MUTATIONS = (
    sampling_replaced("reshuffle", "with-replacement"),
    sampling_replaced("reshuffle", "shuffle-once"),
    mu.scale("step_size", 1.01),
    mu.scale("step_size", 2.0),
    mu.shift("step_size", 1, name="step read one step late (epoch boundary off by one)"),
)

exact = cs.Claim(
    id="shuffling-exact",
    family="first-order",
    statement="the random-reshuffling run equals batch-1 SGD on the logistic sum restated in float64 (steps "
              "4/(mu n (k + k0)), a fresh argsort-of-uniforms permutation every epoch) from the same draws: "
              "||x_t - x*||^2 per replica at every epoch end of the window (rtol 1e-9)",
    source=SOURCE, assumptions=ASSUMPTIONS + ("the restatement reads the run's draws from its per-block streams",),
    experiment=exact_experiment, check=exact_check("RR / restated", "restated_ratio"),
    quick=claim.quick, full=claim.full, sharpens="shuffling",
    needs_float64="the run is compared with a float64 restatement at rtol 1e-9",
    mutations=EXACT_MUTATIONS,
)

compare_exact = cs.Claim(
    id="shuffling-compare-exact",
    family="first-order",
    statement="RR's edge over SGD with replacement is the restated algorithms' edge: per replica, "
              "(SGD run / RR run) over (SGD restated / RR restated) equals 1 at every epoch end of the window "
              "(rtol 1e-9)",
    source=SOURCE, assumptions=ASSUMPTIONS + ("the restatement reads the run's draws from its per-block streams",),
    experiment=exact_experiment, check=exact_check("edge / restated edge", "restated_edge_ratio"),
    quick=claim.quick, full=claim.full, sharpens="shuffling-compare",
    needs_float64="the runs are compared with float64 restatements at rtol 1e-9",
    mutations=EXACT_MUTATIONS[:1] + (
        sampling_replaced("with-replacement", "reshuffle"),) + EXACT_MUTATIONS[1:],
)

NEAR_STEP = STEP_CONSTANT * (1 + 2e-9)

exact_negative = exact.negative_control(
    f"the RR run equals the restatement with the step constant {NEAR_STEP:.10g} = 4 (1 + 2e-9) (false; the error "
    "moves by about 2.9x the step's relative change, 6x the check's rtol)",
    exact_check("RR / restated", "restated_ratio", NEAR_STEP),
)

compare_exact_negative = compare_exact.negative_control(
    f"RR's edge equals the restated edge with the step constant {NEAR_STEP:.10g} = 4 (1 + 2e-9) (false; the edge "
    "moves by about 1.9x the step's relative change, 4x the check's rtol)",
    exact_check("edge / restated edge", "restated_edge_ratio", NEAR_STEP),
)
