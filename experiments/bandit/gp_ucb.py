"""gp-ucb: GP-UCB on a smooth (GP-sampled) 1-d function has sublinear cumulative regret.

Source [S18]: P. I. Frazier, "A Tutorial on Bayesian Optimization" (arXiv:1807.02811), Sec. 3-4:
Gaussian-process regression as the surrogate and an acquisition function (GP-UCB among those it
lists) to choose where to evaluate; the tutorial proves no regret bound.  The rate comes from the
paper that defines GP-UCB: N. Srinivas, A. Krause, S. Kakade & M. Seeger, "Gaussian Process
Optimization in the Bandit Setting: No Regret and Experimental Design" (arXiv:0912.3995),
Theorem 1 (as recalled, the theorem body was not re-read here): for a finite domain D, f a sample
of GP(0, k), observation noise N(0, σ²) and β_t = 2 log(|D| t² π²/(6δ)), GP-UCB's cumulative
regret satisfies R_T ≤ √(C₁ T β_T γ_T) for all T with probability ≥ 1 − δ, C₁ = 8/log(1 + σ⁻²),
γ_T the maximal information gain; for the squared-exponential kernel γ_T = O((log T)^{d+1})
(their Theorem 5), so R_T = O(√T (log T)^{(d+2)/2}).

Setting: D = 32 equispaced points of [0, 1] (d = 1), f one seeded draw of GP(0, k_SE) with
lengthscale 0.1 (``convsim.bandits.gp``), noise σ = 0.1, δ = 0.1; the learner
(``convsim.bandits.GPUCB``) uses the true prior and the Theorem's β_t, and its posterior is exact
(rank-one updates); pseudo-regret Σ_t f(x*) − f(x_t) through ``ctx.simulate_bandit``.
Checked: the exponent of E[R_T] in T with the (log T)^{3/2} factor divided out, on [T/16, T], is
at most ½ (``Exponent``, upper, tolerance 0.1).  Tightness: the bound is loose on a finite
domain — once every point's posterior is narrow the regret grows only logarithmically (the
measured exponent with the log factor removed is about −0.1 at quick settings, 0.6 below the
claim), and no exact regret reference exists to sharpen it.  A 2-d variant (a 10 × 10 grid) was
tried and dropped: its regret saturates by T ≈ 10³ (every point explored), which says nothing
about the exponent.
Negative control ``gp-ucb-neg``: the regret stays bounded (exponent 0 without the log factor):
false, E[R_T] still grows as about T^0.18 on [T/16, T].
Mutations: β_t = 0 (greedy on the posterior mean) gets stuck on a local maximum and pays linear
regret: caught.  β ×4 and an overconfident noise model (σ ×0.1 in the learner) are declared
blind: both still have sublinear regret on this sample, which an upper bound cannot tell apart.

Sharp companion ``gp-ucb-exact`` (session 5).  No closed form for GP-UCB's expected regret exists (the arm choices
are a nonlinear function of the noise), so the same run is compared with GP-UCB restated here in numpy float64
(``restated_regret``, independent of convsim.bandits: the SE prior written out on the grid, β_t of Theorem 1 written
out, argmax of μ + √β_t σ, the Gaussian posterior conditioned on each observation by the textbook rank-one formula
with fancy indexing, f(x*) − f(x_t) summed; d = 1) driven by the SAME observation noise, read from the run's
per-block replica streams (convsim.random.run_streams of the run's metadata: seed, backend, dtype, generator, stream
family; one standard normal per replica and round, the environment's draw).  Checked: per replica, the run's
pseudo-regret over the restated one is 1 at every checkpoint t in [1, T] (Reference, rtol 1e-9, on the replica
farthest from 1 at each checkpoint: the identity holds path by path, so one replica that chose another arm is a
difference, not Monte Carlo error; where the restated regret is still 0 the ratio is 1 + the run's
regret).  Measured: every replica equal to the last bit (quick, both stream families).  It catches what the rate
cannot: β ×4 and the learner's σ ×0.1 (blind above), and β ×1.01, σ ×1.1, δ ×2, the prior variance ×1.01, all of
which change some arm choice within 1024 rounds.
Negative control ``gp-ucb-exact-neg`` (near miss, a plausible misreading of Theorem 1): the restatement
with β_t = 2 log(|D| t²/δ), the π²/6 dropped — β_t lower by 2 log(π²/6) = 0.996, 2.5–8% over the run; the
worst replica's regret then differs by a factor 1.36 (sfc64; 1.37 pcg64).
"""

import math

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim import random as streams
from convsim.bandits import gp
from convsim.estimators.runner import as_series

SOURCE = cs.Source("A Tutorial on Bayesian Optimization (Frazier), with the GP-UCB regret bound of Srinivas, "
                   "Krause, Kakade & Seeger (arXiv:0912.3995)", "1807.02811",
                   "Sec. 4 (acquisition functions); Srinivas et al. Theorem 1 and Theorem 5 (SE kernel)")


def instance(s):
    points = gp.grid_points(s["d"], s["per_axis"])
    env = gp.gp_sample_bandit(points, s["lengthscale"], s["noise"], seed=s["function_seed"])
    learner = gp.GPUCB(gp.squared_exponential(points, s["lengthscale"]), s["noise"], delta=s["delta"])
    return env, learner


def experiment(s, ctx):
    env, learner = instance(s)
    return ctx.simulate_bandit(env, learner, s["rounds"], s["replicas"])


def exponent_check(claimed, log_power):
    def check(trace, s):
        return cs.checks.Exponent("regret", claimed, bound="upper", log_power=log_power, tolerance=0.1,
                                  window=(s["rounds"] // 16, s["rounds"])).check(trace)
    return check


SETTINGS = {"d": 1, "per_axis": 32, "lengthscale": 0.1, "noise": 0.1, "delta": 0.1, "function_seed": 1}

claim = cs.Claim(
    id="gp-ucb",
    family="bandit",
    statement="GP-UCB with beta_t = 2 log(|D| t^2 pi^2/(6 delta)) on a GP(0, k_SE) sample has regret "
              "O(sqrt(T) (log T)^((d+2)/2)) (d = 1): sublinear",
    source=SOURCE,
    assumptions=("finite domain (32 grid points of [0, 1])",
                 "f one sample of the prior GP (SE kernel, lengthscale 0.1)",
                 "Gaussian observation noise of known variance", "pseudo-regret"),
    experiment=experiment,
    check=exponent_check(0.5, 1.5),
    quick={**SETTINGS, "rounds": 1024, "replicas": 64},
    full={**SETTINGS, "rounds": 8192, "replicas": 256},
    mutations=(mu.set_field("beta_scale", 0.0, on="GPUCB", name="greedy (beta = 0)"),
               mu.scale("beta_scale", 4.0, on="GPUCB").blind(
                   "more exploration still has sublinear regret here: an upper bound cannot see it (gp-ucb-exact "
                   "catches it)"),
               mu.scale("noise", 0.1, on="GPUCB", name="learner noise x0.1").blind(
                   "an overconfident posterior still finds the maximum of this sample: sublinear regret (gp-ucb-exact "
                   "catches it)")),
)

negative = claim.negative_control(
    "GP-UCB's regret stays bounded on this sample: exponent 0 in T without log factors (false: it still grows)",
    exponent_check(0.0, 0.0),
)


# -- gp-ucb-exact: the run against GP-UCB restated in numpy, driven by the same observation noise ----------------

EXACT_RTOL = 1e-9


def theorem_beta(t, arms, delta):
    """beta_t = 2 log(|D| t^2 pi^2 / (6 delta)) (Srinivas et al., Theorem 1), t >= 1."""
    return 2.0 * math.log(arms * t**2 * math.pi**2 / (6.0 * delta))


def misremembered_beta(t, arms, delta):
    """The near-miss control's beta_t = 2 log(|D| t^2 / delta): Theorem 1's pi^2/6 dropped."""
    return 2.0 * math.log(arms * t**2 / delta)


def conditioned(mean, cov, played, observed, noise):
    """The Gaussian posterior (mean (R, K), cov (R, K, K)) given one more observation y = f(x) + N(0, noise^2) at
    arm ``played`` (R,) per replica: mu += S[:, x] (y - mu_x)/(S_xx + noise^2),
    S -= S[:, x] S[x, :]/(S_xx + noise^2)."""
    rows = np.arange(mean.shape[0])
    column = cov[rows, :, played]                      # S[:, x_t]
    denominator = cov[rows, played, played] + noise**2
    mean = mean + column * ((observed - mean[rows, played]) / denominator)[:, None]
    cov = cov - column[:, :, None] * (column / denominator[:, None])[:, None, :]
    return mean, cov


def normals_of(trace):
    """draw(*shape): the next standard normals of a recorded run, host float64 (replicas, *shape), from the streams
    it drew from (convsim.random.run_streams of its metadata: seed, backend, dtype, generator, stream family)."""
    rng = streams.run_streams(trace.meta, trace.replicas)
    return lambda *shape: np.array(cs.backend.to_numpy(rng.normal(*shape)), dtype=np.float64)


def restated_regret(means, s, normals, replicas, record, beta=theorem_beta):
    """Pseudo-regret (replicas, len(record)) of GP-UCB restated from the paper's Algorithm 1 on the grid: the prior
    k(x, x') = exp(-(x - x')^2 / (2 l^2)) on per_axis points of [0, 1]; round t = 1, 2, ... plays
    argmax mu + sqrt(beta_t) sigma (first maximum), observes y = f(x_t) + noise z_t and conditions the Gaussian
    posterior on it (`conditioned`); z_t is the run's own draw, ``normals()`` once per round (`normals_of`)."""
    f = np.asarray(means, dtype=np.float64)
    arms = f.size
    points = np.linspace(0.0, 1.0, s["per_axis"])
    prior = np.exp(-(points[:, None] - points[None, :]) ** 2 / (2.0 * s["lengthscale"] ** 2))
    mean, cov = np.zeros((replicas, arms)), np.repeat(prior[None], replicas, axis=0)
    regret = np.zeros(replicas)
    column = {int(t): j for j, t in enumerate(record)}
    out = np.zeros((replicas, len(record)))
    for t in range(s["rounds"]):
        width = math.sqrt(beta(t + 1, arms, s["delta"]))
        sd = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0.0, None))
        played = np.argmax(mean + width * sd, axis=1)
        noise = normals()
        mean, cov = conditioned(mean, cov, played, f[played] + s["noise"] * noise, s["noise"])
        regret = regret + (f.max() - f[played])
        if t + 1 in column:
            out[:, column[t + 1]] = regret
    return out


def worst_replica(ratio, x, name="worst_restated_ratio"):
    """The one-row Series of the replica's ratio farthest from 1 at each checkpoint (cs.checks.farthest_from_one)."""
    return as_series(cs.checks.farthest_from_one(ratio), x, "t", name)


def restated_ratios(trace, s, beta=theorem_beta):
    """Per replica, the run's regret over the restated one (1 + the run's regret where the restated regret is 0, so 1
    still means equal), as the one-row Series of the worst replica; seed and replicas from the run's metadata."""
    env, _ = instance(s)
    restated = restated_regret(env.means, s, normals_of(trace), trace.replicas, trace.steps, beta)
    run = trace.values("regret")
    ratio = np.where(restated > 0, run / np.where(restated > 0, restated, 1.0), 1.0 + run)
    return worst_replica(ratio, trace.steps)


def exact_experiment(s, ctx):
    trace = experiment(s, ctx)
    return {"run": trace, "restated": restated_ratios(trace, s)}


def exact_check(beta=theorem_beta):
    what = "GP-UCB restated" if beta is theorem_beta else "GP-UCB restated, beta_t = 2 log(|D| t^2/delta)"

    def check(data, s):
        series = data["restated"] if beta is theorem_beta else restated_ratios(data["run"], s, beta)
        return cs.checks.Reference("worst_restated_ratio", lambda t: np.ones(np.shape(t)), rtol=EXACT_RTOL,
                                   window=(1, s["rounds"]), what=what).check(series)

    return check


exact = cs.Claim(
    id="gp-ucb-exact",
    family="bandit",
    statement="the GP-UCB run equals GP-UCB restated in float64 from the same observation noise (exact Gaussian "
              "conditioning on a SE prior, beta_t = 2 log(|D| t^2 pi^2/(6 delta))): the pseudo-regret of every "
              "replica at every checkpoint (rtol 1e-9)",
    source=SOURCE,
    assumptions=claim.assumptions + ("the restatement reads the run's noise from its per-block streams",),
    experiment=exact_experiment,
    check=exact_check(),
    quick=claim.quick,
    full=claim.full,
    sharpens="gp-ucb",
    needs_float64="the run is compared with a float64 restatement at rtol 1e-9",
    mutations=(mu.scale("beta_scale", 4.0, on="GPUCB", name="beta x4"),
               mu.scale("beta_scale", 1.01, on="GPUCB", name="beta x1.01"),
               mu.scale("noise", 0.1, on="GPUCB", name="learner noise x0.1"),
               mu.scale("noise", 1.1, on="GPUCB", name="learner noise x1.1"),
               mu.scale("delta", 2.0, on="GPUCB", name="confidence delta x2"),
               mu.scale("kernel", 1.01, on="GPUCB", name="prior variance x1.01"),
               mu.set_field("beta_scale", 0.0, on="GPUCB", name="greedy (beta = 0)")),
)

exact_negative = exact.negative_control(
    "the GP-UCB run equals the restatement with beta_t = 2 log(|D| t^2/delta) (Theorem 1's pi^2/6 dropped: beta_t "
    "lower by 1.0, 2.5-8%; false)", exact_check(misremembered_beta))
