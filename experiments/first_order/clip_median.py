"""clip-median: under infinite-variance (Cauchy) gradient noise, median-of-minibatch and clipped SGD converge; SGD does not.

Source: F. Schaipp, G. Garrigos, U. Şimşekli & R. M. Gower, "SGD with Clipping is Secretly
Estimating the Median Gradient", arXiv:2402.12828 (TMLR 2025 as "Tracking the Median of
Gradients with a Stochastic Proximal Point Method"), seed [S58]: SGD driven by the median
gradient across samples "can converge even under heavy-tailed, state-dependent noise"
(a 1/√T rate in the paper's setting), and clipping is an online estimator of the median
gradient.  (The theorem body could not be read here; we test convergence and the paper's
1/√T as an upper bound on the rate, not its constants.)

Setting: f(x) = ½‖x‖² in d = 5 with additive i.i.d. standard Cauchy noise per
coordinate (α-stable, α = 1: infinite variance, no mean), steps η_t = 2/(μ(t + 2)).
For plain SGD this schedule gives x_T = −Σ_t w_t ξ_t with w_t = 2(t+1)/(T(T+1)) ≥ 0 summing
to 1, so every coordinate of x_T is *exactly* standard Cauchy for every T: SGD does not
converge at all.  Median-of-5 SGD sees ∇f + median(ξ_1..ξ_5), unbiased with finite
variance; coordinate-clipped SGD (threshold 1) sees a bounded, odd transform of ∇f + ξ.

Metric: E[min(‖x_t − x*‖², 100)] (‖x_0 − x*‖² = 1).  E‖x_t − x*‖² itself is infinite for plain SGD (and its
sample mean meaningless), so we measure the bounded loss min(‖x − x*‖², 100), finite for
every method and tending to 0 exactly when x_t → x* in probability; for the convergent
methods it equals E‖x_t − x*‖² up to a negligible tail.
Checks: the exponent of that metric in t is ≤ −½ (the paper's rate as an upper bound) for
median-of-batches SGD (`clip-median`) and for clipped SGD (`clip-median-clipped`); for
plain SGD it is ≥ −0.1, i.e. no decay (`clip-median-sgd`).  Negative control (near-miss,
since issue #11; it was O(t^−½), margin 0.49): "plain SGD converges, slowly: O(t^−0.2)" —
the exponent moved by the tolerance plus the interval's half-width (violated).

Sharp companions (issue #11: the measured decay is t^−1, so the O(t^−½) bound is loose and
blind to a wrong step or a wrong median):
  - clip-median-exact: median-of-k SGD is *linear* here, x_{t+1} = (1 − η_t) x_t − η_t m_t
    with m_t the coordinate-wise median of k standard Cauchy draws, whose variance v_k is
    finite for k ≥ 5 (the median of k has density ∝ F^m (1−F)^m f ~ |x|^−(m+2), m = (k−1)/2;
    computed by quadrature, v₅ = 1.221, v₉ = 0.4087, checked against 4·10⁶ draws).
    So E‖x_t‖² obeys exactly E_{t+1} = (1 − η_t)² E_t + η_t² d v_k, with η_t = 2/(t + 2) written out from the schedule's formula, not read from the method; the
    truncation at 100 changes the mean by far less than the tolerance.  The companion runs its
    own median-of-9 SGD (k = 9 has a finite fourth moment, so the Monte Carlo t-intervals are
    valid; for k = 5 the fourth moment is infinite and a first try with k = 5, rtol 0.1 on
    [T/32, T] was inconclusive: intervals of ±13% dominated by a few draws — re-specified after
    seeing that, as said here).  Reference, rtol 0.1, t in [T/8, T].  Control (near-miss): the
    same recursion with the *asymptotic* variance of a sample median, π²/(4k) = 0.274
    (1/(4k f(0)²)), 1.5× too small for k = 9.
  - clip-median-clipped-exact: coordinate clipping at c = 1 linearized at x* = 0:
    E clip(x + ξ) ≈ P(|ξ| < 1)·x = x/2 (an effective curvature ½) and Var clip(ξ) = 2/π, so
    E‖x_t‖² ≈ E_t with E_{t+1} = (1 − η_t/2)² E_t + η_t² d (2/π) — asymptotically exact (the
    cubic term of E clip(x + ξ) is O(‖x‖²) relative: measured +6% at t = 65, +3% at 137, ~1%
    beyond 286 with 4096 replicas, hence the window [T/4, T]); Reference, rtol 0.1.
    Control (near-miss): clipping leaves the curvature at 1 (the recursion with (1 − η_t)²),
    about 3× too small on the window.
Mutations: median of 1 batch (= plain SGD) and of 3 (infinite variance, density ~ |x|⁻³),
clipping threshold ×10 (nearly no clipping: the variance grows 18×) and ×½, step ×2 and ×½,
the schedule read one step late (γ_t → γ_{t+1}); the O(t^−½) claims are blind to the step
and threshold changes, which their companions catch.  The plain-SGD claim catches "the
baseline secretly clipped" (a wrapper left on).
"""

import math

import numpy as np
import scipy.integrate
import scipy.stats

import convsim as cs
from convsim import mutations as mu

SOURCE = cs.Source("SGD with Clipping is Secretly Estimating the Median Gradient (Schaipp, Garrigos, Simsekli, Gower)",
                   "2402.12828", "sample-median gradient descent converges under heavy-tailed noise "
                   "(as stated in the abstract; 1/sqrt(T) rate)")


CAP = 100.0  # 100 ‖x_0 − x*‖²: far above where the convergent methods live, well inside SGD's Cauchy spread


def truncated_dist_sq(problem, x):
    """min(‖x − x*‖², CAP): a bounded loss whose mean exists even when E‖x − x*‖² does not."""
    xp = problem.namespace_of(x)
    e = x - problem.x_star_on(x)
    return xp.clip(xp.sum(e * e, axis=-1), max=CAP)


def experiment(s, ctx):
    problem = cs.problems.Quadratic([1.0] * s["d"], noise=cs.noise.AlphaStable(1.0), r0=1.0)
    step = cs.schedules.inverse_time(2.0, t0=2.0)  # 2/(mu (t + 2)) with mu = 1
    methods = {
        "sgd": cs.methods.SGD(step),
        "median": cs.methods.MedianOfBatches(cs.methods.SGD(step), batches=s["batches"]),
        "clipped": cs.methods.Clipped(cs.methods.SGD(step), threshold=s["threshold"], mode="coordinate"),
    }
    return {name: ctx.simulate(problem, m, s["steps"], replicas=s["replicas"],
                               metrics={"trunc_dist_sq": truncated_dist_sq}, record=32)
            for name, m in methods.items()}


def median_experiment(s, ctx):
    """Median-of-k SGD alone, k = s["exact_batches"] (9: a finite fourth moment, so the t-intervals are valid)."""
    problem = cs.problems.Quadratic([1.0] * s["d"], noise=cs.noise.AlphaStable(1.0), r0=1.0)
    method = cs.methods.MedianOfBatches(cs.methods.SGD(cs.schedules.inverse_time(2.0, t0=2.0)),
                                        batches=s["exact_batches"])
    return {"median": ctx.simulate(problem, method, s["exact_steps"], replicas=s["exact_replicas"],
                                   metrics={"trunc_dist_sq": truncated_dist_sq}, record=32)}


def cauchy_median_variance(k: int) -> float:
    """Variance of the median of k (odd) i.i.d. standard Cauchy variables, from the order-statistic density."""
    m = k // 2
    c = math.factorial(k) / math.factorial(m) ** 2
    law = scipy.stats.cauchy
    second = scipy.integrate.quad(lambda x: x * x * c * (law.cdf(x) * law.sf(x)) ** m * law.pdf(x), 0, np.inf,
                                  limit=200)[0]
    return 2.0 * second


def linear_recursion(steps: int, d: int, curvature: float, variance: float, r0_sq: float = 1.0) -> np.ndarray:
    """E‖x_t‖², t = 0..steps, of x' = (1 − curvature·η_t) x − η_t ξ with E ξξᵀ = variance·I, η_t = 2/(t + 2)."""
    out = np.empty(steps + 1)
    out[0] = r0_sq
    for t in range(steps):
        eta = 2.0 / (t + 2.0)
        out[t + 1] = (1.0 - curvature * eta) ** 2 * out[t] + eta**2 * d * variance
    return out


def check_exact(runs, s, which, curvature, variance, what, start, rtol):
    """E min(‖x_t‖², 100) against the recursion on [T/start, T] (the clipped one is asymptotic: start = 4)."""
    steps = s["exact_steps"] if which == "median" else s["steps"]  # the median companion has its own run
    curve = linear_recursion(steps, s["d"], curvature, variance)
    return cs.checks.Reference("trunc_dist_sq", lambda t: curve[np.asarray(t, dtype=int)], rtol=rtol, what=what,
                               window=(steps / start, steps)).check(runs[which])


def check(runs, s, which, exponent, bound, tolerance=0.1):
    return cs.checks.Exponent("trunc_dist_sq", exponent, bound=bound, tolerance=tolerance,
                              window=(s["steps"] / 32, s["steps"])).check(runs[which])


SETTINGS = dict(
    # the companions' Reference checks need ~1000 replicas to resolve 10% (the relative spread of ||x_t||^2 is 0.65)
    quick={"d": 5, "batches": 5, "threshold": 1.0, "steps": 512, "replicas": 1024,
           "exact_batches": 9, "exact_steps": 256, "exact_replicas": 2048},
    full={"d": 5, "batches": 5, "threshold": 1.0, "steps": 4096, "replicas": 4096,
          "exact_batches": 9, "exact_steps": 2048, "exact_replicas": 8192},
)
ASSUMPTIONS = ("f = 1/2 ||x||^2 in d = 5 (1-strongly convex, 1-smooth)",
               "additive i.i.d. standard Cauchy noise per coordinate", "steps 2/(t + 2)",
               "median of 5 independent stochastic gradients / coordinate clipping at 1")


def _claim(cid, which, statement, exponent, bound, mutations=()):
    return cs.Claim(id=cid, family="first-order", statement=statement, source=SOURCE, assumptions=ASSUMPTIONS,
                    experiment=experiment, check=lambda runs, s: check(runs, s, which, exponent, bound),
                    mutations=mutations, **SETTINGS)


def _exact(cid, parent, which, statement, curvature, variance, what, mutations, start, rtol, run=experiment):
    return cs.Claim(id=cid, family="first-order", statement=statement, source=SOURCE, assumptions=ASSUMPTIONS,
                    experiment=run, mutations=mutations, sharpens=parent,
                    check=lambda runs, s: check_exact(runs, s, which, curvature, variance, what, start, rtol),
                    **SETTINGS)


V9 = cauchy_median_variance(9)  # 0.3711
CLIPPED_VARIANCE = 2.0 / math.pi  # E clip(ξ, −1, 1)² for standard Cauchy ξ
CLIPPED_CURVATURE = 0.5  # P(|ξ| < 1): the slope of E clip(x + ξ, −1, 1) at x = 0
STEP_BLIND = "an O(t^-1/2) bound on a t^-1 decay cannot see a constant factor or an offset in the step"
STEPS = (mu.scale("step_size", 2.0), mu.scale("step_size", 0.5), mu.shift("step_size", 1))

claim = _claim("clip-median", "median", "median-of-5 SGD under Cauchy noise converges: "
               "E min(||x_t - x*||^2, 100) = O(t^-1/2)", -0.5, "upper",
               (mu.set_field("batches", 1, on="MedianOfBatches"), STEPS[0].blind(STEP_BLIND)))
clipped = _claim("clip-median-clipped", "clipped", "coordinate-clipped SGD under Cauchy noise converges: "
                 "E min(||x_t - x*||^2, 100) = O(t^-1/2)", -0.5, "upper",
                 (mu.custom("clipping removed (plain SGD)", lambda m: m.inner, on="Clipped"),
                  mu.scale("threshold", 10.0, on="Clipped").blind(STEP_BLIND + " or a larger clipping threshold")))
plain = _claim("clip-median-sgd", "sgd", "plain SGD under Cauchy noise does not converge: "
               "E min(||x_t - x*||^2, 100) = Omega(t^0)", 0.0, "lower",
               (mu.custom("the baseline secretly clipped", lambda m: cs.methods.Clipped(m, 1.0, "coordinate"),
                          on="SGD"),
                STEPS[1].blind("x_t stays exactly Cauchy (scale 1 - prod(1 - eta_t)) whatever the step")))

median_exact = _exact(
    "clip-median-exact", "clip-median", "median",
    "median-of-9 SGD under Cauchy noise: E min(||x_t||^2, 100) equals the exact recursion "
    "E_{t+1} = (1 - eta_t)^2 E_t + eta_t^2 d v9, v9 = Var(median of 9 Cauchy), within 10% on [T/8, T]",
    1.0, V9, "exact median-of-9 recursion",
    (mu.set_field("batches", 1, on="MedianOfBatches"), mu.set_field("batches", 3, on="MedianOfBatches"), *STEPS[:2],
     STEPS[2].blind("gamma_t -> gamma_{t+1} changes E_t by O(1/t) relatively: a few % on the window, inside the 10%")),
    start=8, rtol=0.1, run=median_experiment)
clipped_exact = _exact(
    "clip-median-clipped-exact", "clip-median-clipped", "clipped",
    "coordinate-clipped SGD (c = 1) under Cauchy noise: E min(||x_t||^2, 100) equals the recursion linearized at "
    "x* (curvature P(|xi| < 1) = 1/2, noise variance 2/pi) within 10% on [T/32, T]",
    CLIPPED_CURVATURE, CLIPPED_VARIANCE, "linearized clipped recursion",
    (mu.scale("threshold", 10.0, on="Clipped"), mu.scale("threshold", 0.5, on="Clipped"), STEPS[0]), start=4, rtol=0.1)

negative = plain.negative_control(
    "plain SGD under Cauchy noise converges, if slowly: E min(||x_t - x*||^2, 100) = O(t^-0.2) (false: x_t is "
    "exactly Cauchy for every t; the exponent moved by the tolerance plus the interval's half-width)",
    lambda runs, s: check(runs, s, "sgd", -0.2, "upper"),
)
median_negative = median_exact.negative_control(
    "the median of 9 Cauchy draws has its asymptotic variance pi^2/(4 x 9) = 0.27 (the sample-median CLT), so E "
    "follows the recursion with that variance (false: too small for k = 9)",
    lambda runs, s: check_exact(runs, s, "median", 1.0, math.pi**2 / 36, "recursion with the asymptotic variance",
                                8, 0.1),
)
clipped_negative = clipped_exact.negative_control(
    "clipping at 1 leaves the curvature at 1: E follows (1 - eta_t)^2 E_t + eta_t^2 d (2/pi) (false: the clipped "
    "gradient's slope at x* is P(|xi| < 1) = 1/2)",
    lambda runs, s: check_exact(runs, s, "clipped", 1.0, CLIPPED_VARIANCE, "recursion with curvature 1", 4, 0.1),
)
