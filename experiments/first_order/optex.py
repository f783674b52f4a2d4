"""optex: kernelized gradient prediction lets N parallel gradient evaluations stand in for N sequential SGD steps.

Source [S39]: Y. Shu, J. Fang, Y. T. He & F. R. Yu, "OptEx: Expediting First-Order Optimization with Approximately
Parallelized Iterations", arXiv:2402.11427 (NeurIPS 2024).  What was read: the abstract of v1 ("an effective
acceleration rate of Ω(N) over standard SGD given parallelism N") and of v2 and the authors' README ("Θ(√N)",
in terms of the sequential iterations required for convergence), the figure captions (synthetic functions
Sphere/Ackley/Rosenbrock, N = 5; the output of the last of the N processes starts the next round), and the
authors' code (github.com/youyve/OptEx: optex_jax/OptEx_JAX.py run_optex — Matérn-5/2 kernel, noise 1e-3 on the
diagonal, history of the last 50 pairs, N − 1 proxy steps on the GP mean, N true gradients, next iterate from
the last one; optex/optex.py, the PyTorch version with pinv).  The theorem bodies (the bound on the estimation
error, the iteration complexity of SGD-based OptEx) and their constants were NOT reachable in the stored
copies: only the rate in N is encoded, as the abstract states it.  The method is
:class:`convsim.methods.optex.OptEx` (one step = one sequential round).

Setting: f(x) = ½ xᵀHx, d = 10, spectrum geomspace(2, 0.2) rotated (seed 1) — a smooth synthetic function with a
chosen spectrum; the paper's Sphere is its isotropic case, where GD moves on a straight line and even a stale
gradient predicts the direction, so it cannot tell the estimator from a wrong one (measured, d = 10, η = 0.05:
rounds to 1e-8 for N = 1..4 are 93, 41, 27, 20 with the GP and 93, 45, 28, 20 with the stale proxy).  SGD step η = 0.25 = 1/(2L), exact gradients (the deterministic case of the
theorem), x₀ ~ U[−1, 1]^d (the reference code's initialisation range; 8 replicas quick, 32 full), Matérn-5/2
with length scale 1 on raw coordinates, noise 1e-3, T₀ = 50.  Measured: sequential rounds to f ≤ 1e-8 for
N ∈ {1, 2, 3, 4}; a run that does not reach ε within 2.5× the GD budget / N is recorded at its budget (a lower
bound; N = 1 is never censored, so censoring can only favour the claim, and a violation with it is real).

Claims:
  - `optex` (v2 statement): the effective acceleration is at least √N: rounds(N) = O(N^{−1/2}) for N ≤ 4
    (Exponent on rounds against N, upper bound −1/2).  Measured slope −0.824 [−0.880, −0.768] quick,
    −0.867 [−0.912, −0.826] full (32 replicas): tightness −0.32 / −0.37.
  - `optex-large-n` (expected inconclusive, by design): the same experiment for N up to 8.  At this fixed step
    and history the acceleration peaks at N = 3 (3.4×) and then falls (N = 4: 2.8×, N = 5: 1.9×, below √5;
    quick), because the N − 1 proxy steps leave the region the GP has seen.  Whether that contradicts Θ(√N)
    depends on the theorem's conditions on the estimation error (its bound, the history T₀, the step),
    which could not be read.  The window N ≤ 4 of `optex` was chosen after exploratory runs (N = 8 did not
    reach ε), before N = 5 was measured; at N = 5, the paper's parallelism for its synthetic functions, the
    acceleration here is 1.9× (2.1× full), below √5 ≈ 2.24 — reported by this claim, not hidden by the window.
  - `optex-exact` (sharp companion): for a quadratic the gradient is affine, so a GP with the affine kernel
    1 + ⟨x, y⟩ and no noise reproduces it exactly once the history's affine hull spans R^d; then a round of
    OptEx IS N sequential GD steps.  Checked on d = 4, H spectrum (1, 0.8, 0.6, 0.4) rotated, η = 0.5, N = 4,
    8 replicas, rounds 6-8 (after the 5-round burn-in the span needs; before it the rounds are off by O(1)):
    per replica, ‖x_r − x*‖² over ‖(I − ηH)^N x_{r−1} − x*‖² (N exact GD steps from the round's start, the
    problem's gradient) equals 1 within rtol 1e-8 on every replica (Reference on the replica farthest from 1 at
    each round: the identity is pathwise, so no Monte Carlo interval; tightness 1 by construction).  Measured (quick =
    full, sfc64 and pcg64: no random numbers): mean |ratio − 1| 1.9e-11, 3.1e-10, 4.9e-10 at rounds 6, 7, 8
    (largest replica 3.3e-9): rounding, which grows as the iterates shrink against a history whose affine hull
    is spanned by the earlier, larger points (measured: the defect is not a fixed multiple of u·κ(K_hist)²,
    0.04 to 6 times it, so a rounding-model level would be a tuned constant).
    Re-specified in session 5 (it was flagged loose): the check was a Level on the relative round defect
    ‖x_r − (I − ηH)^N x_{r−1}‖/‖x_{r−1} − (I − ηH)^N x_{r−1}‖ ≤ 1e-8 (measured 8e-11, tightness 0.008), with the
    control "≤ 1e-11", a statement about the rounding rather than the algorithm.  The tolerance cannot be
    tightened honestly (the floor grows from 1e-11 to 1e-9 over rounds 6-10, and any level between would be
    read off the measurement), so the measure was made relative instead: a ratio to the exact reference, whose
    near-miss control is a change of the algorithm's constant by the rtol (below).  The rtol keeps the old
    level, 1e-8, not re-tuned; the round defect is still recorded (figure and evidence).
Mutations (all caught, quick): the kernel estimate replaced by the last stored gradient (stale proxy: slope
−0.395, violated; round defect ≈ 1); the N parallel evaluations ignored (N = 1 in every run: slope −0.15; the round
is one GD step, not N); the length scale ×100 (the Matérn GP is nearly constant: slope −0.14; for the affine
kernel it rescales the linear part against the constant and the defect rises to ~1e-7); the noise 1e-3 in the
affine GP (no longer interpolating: defect O(1)); a history too short to span (T₀ = 4 < d + 1: defect ~0.1); for
`optex-exact` also a GP jitter of 1e-10 on the kernel diagonal and the step ×1.01 (added in session 5; with the
8-replica mean the jitter, the short history and the length scale ×100 came out inconclusive, a few replicas moving
far, which is why the check reads the farthest replica).
Negative controls (near-miss): "the effective acceleration is Ω(N)" — the v1 abstract's linear rate, rounds
O(N^{−1}) — false here by 0.18 (quick; 0.13 full) against the tolerance 0.05 plus the interval; and for the sharp
claim "each round equals N GD steps with the step η(1 + 1e-8)" — the step moved by exactly the check's rtol,
which moves the ratio by 2.2e-8 to 2.6e-8 on average (5e-8 on the farthest replica) on rounds 6-8 (the smallest
change of the constant the check must see; re-specified in session 5 from "the round defect is ≤ 1e-11", see
above).  Re-specified after seeing a failure: the
exponent tolerance was 0.1 at first; at full settings the control's interval then reached the tolerance edge
(inconclusive), and 0.05 is the resolution the integer round counts (40-140 per point) support.
Not tested: the theorem's constants and its stochastic regime (σ² > 0), the estimation-error bound, the
Ackley/Rosenbrock functions (no Rosenbrock problem in convsim yet), the reference code's rescaling of x by the
mean √‖x_i‖ (a scalar change of the length scale) and its length-scale tuning; Θ(√N) as a two-sided statement.
"""

from functools import lru_cache

import numpy as np
from array_api_compat import array_namespace

import convsim as cs
from convsim import mutations as mu
from convsim.checks.verdict import INCONCLUSIVE, Checker
from convsim.engine import StateMetric
from convsim.methods.optex import OptEx

NEEDS_FLOAT64 = "the sharp companion resolves a relative change of 1e-8 per round and the runs go down to f = 1e-8"

SOURCE = cs.Source("OptEx: Expediting First-Order Optimization with Approximately Parallelized Iterations "
                   "(Shu, Fang, He, Yu)", "2402.11427",
                   "abstract (v2: effective acceleration Theta(sqrt N) of SGD-based OptEx; v1: Omega(N)) and the "
                   "authors' optex_jax/OptEx_JAX.py run_optex; theorem bodies not readable")

EPS = 1e-8
TOLERANCE = 0.05  # re-specified from 0.1, see the docstring
EXACT_RTOL = 1e-8  # the relative tolerance of optex-exact (its level before session 5, now on a ratio)


@lru_cache(maxsize=4)
def problem_for(d, seed=1):
    return cs.problems.Quadratic(np.geomspace(2.0, 0.2, d), rotate=True, seed=seed)


@lru_cache(maxsize=4)
def sharp_problem():
    return cs.problems.Quadratic(np.array([1.0, 0.8, 0.6, 0.4]), rotate=True, seed=1)


def starts(replicas, d, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (replicas, d))


def method_for(s, n):
    return OptEx(step_size=s["lr"], parallelism=int(n), history=50, kernel="matern52", length_scale=1.0, noise=1e-3)


def experiment(s, ctx):
    """Sequential rounds to f ≤ ε against N, one Series.

    A run that does not reach ε within its budget (2.5× the GD steps divided by N, plus 15) is recorded at the
    budget, a lower bound on its rounds; N = 1 (GD) is never censored, so censoring only makes the fitted slope
    more negative, and a violation of the O(N^a) bound with censored runs is a true one."""
    problem = problem_for(s["d"])
    x0 = starts(s["replicas"], s["d"])
    ns = np.asarray(s["parallelism"], dtype=float)
    rounds = np.zeros((s["replicas"], ns.size))
    censored = 0
    for j, n in enumerate(ns):
        steps = int(2.5 * s["gd_steps"] / n) + 15
        trace = ctx.simulate(problem, method_for(s, n), steps, replicas=s["replicas"], x0=x0,
                             metrics=["suboptimality"], record=np.arange(steps + 1))
        hit = cs.checks.complexity.hitting_costs(trace, "suboptimality", [EPS]).values[:, 0]
        censored += int(np.sum(~np.isfinite(hit)))
        rounds[:, j] = np.where(np.isfinite(hit), hit, float(steps))
    return cs.Series(ns, rounds, "N", "rounds_to_eps", np.full(s["replicas"], -1),
                     {"d": s["d"], "eps": EPS, "lr": s["lr"], "censored_runs": censored})


def check_rate(series, s, claimed=-0.5):
    return cs.checks.Exponent("rounds_to_eps", claimed, bound="upper", tolerance=TOLERANCE,
                              window=(1, max(s["parallelism"]))).check(series)


def by_design(series, s):
    """The acceleration rounds(1)/rounds(N) per N, reported; not decided (see the module docstring)."""
    mean = series.values.mean(axis=0)
    curve = ", ".join(f"N={n:g}: {mean[0] / r:.2f}x" for n, r in zip(series.x, mean))
    return Checker("rounds_to_eps", vs="N").verdict(
        INCONCLUSIVE, series, None, None, (series.x[0], series.x[-1]),
        f"by design: at fixed step and history the measured acceleration ({curve}; "
        f"{series.constants['censored_runs']} runs censored at their budget) peaks and then falls; whether that "
        "contradicts Theta(sqrt N) depends on the theorem's conditions on the estimation error, which could not "
        "be read", claimed="Theta(sqrt N) acceleration for every N")


def round_defect(n, lr):
    """‖x_r − (I − ηH)^N x_{r−1}‖ / ‖x_{r−1} − (I − ηH)^N x_{r−1}‖: how far a round is from N GD steps."""
    def defect(problem, x, state):
        xp = array_namespace(x)
        z = gd_steps(problem, state.start, n, lr)
        gap = xp.sqrt(xp.sum((x - z) ** 2, axis=-1))
        return gap / xp.sqrt(xp.sum((state.start - z) ** 2, axis=-1))
    return StateMetric(defect)


def gd_steps(problem, x, n, lr):
    """N exact gradient steps from x (the problem's own gradient: the reference a round must equal)."""
    for _ in range(n):
        x = x - lr * problem.grad(x)
    return x


def round_ratio(n, lr):
    """‖x_r − x*‖² / ‖(I − ηH)^N x_{r−1} − x*‖²: the round's error over that of N exact GD steps from the round's
    start (1 for an exact round; a relative measure, so the rounding floor does not grow as the iterates shrink)."""
    def ratio(problem, x, state):
        xp = array_namespace(x)
        x_star = problem.x_star_on(x)[None, :]
        z = gd_steps(problem, state.start, n, lr)
        return xp.sum((x - x_star) ** 2, axis=-1) / xp.sum((z - x_star) ** 2, axis=-1)
    return StateMetric(ratio)


def sharp_experiment(s, ctx):
    problem = sharp_problem()
    method = OptEx(step_size=s["lr"], parallelism=s["n"], history=50, kernel="affine", length_scale=1.0, noise=0.0)
    metrics = {"round_defect": round_defect(s["n"], s["lr"]), "round_ratio": round_ratio(s["n"], s["lr"]),
               # the control's reference: N GD steps with the step moved by the check's rtol
               "round_ratio_step_moved": round_ratio(s["n"], s["lr"] * (1.0 + EXACT_RTOL))}
    return ctx.simulate(problem, method, s["rounds"], replicas=s["replicas"], x0=starts(s["replicas"], problem.dim),
                        metrics=metrics, record=np.arange(s["rounds"] + 1))


def check_exact(trace, s, metric="round_ratio"):
    what = "N GD steps" if metric == "round_ratio" else f"N GD steps with step x (1 + {EXACT_RTOL:g})"
    worst = cs.checks.farthest_from_one(trace.values(metric))
    series = cs.Series(trace.steps.astype(float), worst, "round", "round_ratio", np.full(1, -1), trace.constants)
    return cs.checks.Reference("round_ratio", lambda t: np.ones_like(t), rtol=EXACT_RTOL, window=tuple(s["window"]),
                               what=what, decisive="all").check(series)


ON = "OptEx"
STALE = mu.set_field("estimator", "last", on=ON, name="kernel estimate replaced by the last gradient (stale)")
SERIAL = mu.set_field("parallelism", 1, on=ON, name="the N parallel evaluations ignored (N = 1)")
LENGTH_X100 = mu.scale("length_scale", 100.0, on=ON, name="length scale x100")
NOISY = mu.set_field("noise", 1e-3, on=ON, name="noise 1e-3 on the kernel diagonal")
SHORT_HISTORY = mu.set_field("history", 4, on=ON, name="history T0 = 4 < d + 1")
JITTER = mu.set_field("noise", 1e-10, on=ON, name="jitter 1e-10 on the kernel diagonal")
STEP_X101 = mu.scale("step_size", 1.01, on=ON, name="step size x1.01")

QUICK = {"d": 10, "lr": 0.25, "replicas": 8, "parallelism": (1, 2, 3, 4), "gd_steps": 150}
FULL = {"d": 10, "lr": 0.25, "replicas": 32, "parallelism": (1, 2, 3, 4), "gd_steps": 150}
SHARP = {"lr": 0.5, "n": 4, "rounds": 10, "replicas": 8, "window": (6, 8)}
ASSUMPTIONS = ("f smooth (a quadratic with a chosen spectrum), exact gradients (the deterministic case)",
               "SGD-based OptEx as in the authors' run_optex: N - 1 proxy steps on the GP mean, N true gradients, "
               "the next round from the last one, history of the last 50 pairs",
               "Matern-5/2 kernel, length scale 1, noise 1e-3 (the reference code's kernel and noise)")

claim = cs.Claim(
    id="optex",
    family="first-order",
    statement="SGD-based OptEx with parallelism N = 1..4 needs O(N^(-1/2)) times the sequential iterations of SGD to "
              "reach f <= 1e-8: an effective acceleration of at least sqrt(N)",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=check_rate, quick=QUICK, full=FULL,
    mutations=(STALE, SERIAL, LENGTH_X100),
)

large_n = cs.Claim(
    id="optex-large-n",
    family="first-order",
    statement="the effective acceleration of SGD-based OptEx keeps growing like sqrt(N) beyond the paper's N = 5 "
              "(N up to 8 at a fixed step and history; expected inconclusive by design)",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=by_design,
    quick={**QUICK, "parallelism": (1, 2, 3, 4, 5, 6, 8)}, full={**FULL, "parallelism": (1, 2, 3, 4, 5, 6, 8)},
    expected="inconclusive",
)

exact = cs.Claim(
    id="optex-exact",
    family="first-order",
    statement="on a quadratic, OptEx with the affine kernel 1 + <x, y> and no noise predicts the gradient exactly once "
              "the history spans, so each round equals N sequential GD steps: ||x_r - x*||^2 over that of N exact GD "
              "steps from x_(r-1) is 1 (rtol 1e-8)",
    source=SOURCE, assumptions=("f quadratic: the gradient is affine", "affine kernel, noise 0, pinv solve",
                                "d = 4, eta = 0.5, N = 4; rounds 6-8, after the 5-round burn-in the span needs"),
    experiment=sharp_experiment, check=check_exact, quick=SHARP, full=SHARP, sharpens="optex",
    mutations=(STALE, SERIAL, NOISY, SHORT_HISTORY, LENGTH_X100, JITTER, STEP_X101),
)

negative = claim.negative_control(
    "SGD-based OptEx needs O(N^-1) times the sequential iterations of SGD (the v1 abstract's Omega(N) effective "
    "acceleration; false on this toy: the Matern estimator degrades as the proxy steps leave the history)",
    lambda series, s: check_rate(series, s, claimed=-1.0))

exact_negative = exact.negative_control(
    "each round of the affine-kernel OptEx equals N GD steps with the step moved by the check's rtol, "
    "eta (1 + 1e-8) (false: the rounds are eta's)",
    lambda trace, s: check_exact(trace, s, metric="round_ratio_step_moved"))
