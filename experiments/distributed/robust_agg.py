"""robust-agg, robust-agg-exact, robust-agg-momentum: with f Byzantine peers among n, MoNNA (Polyak
momentum + nearest-neighbour averaging) keeps the honest workers converging; plain averaging fails.

Source: S. Farhadkhani, R. Guerraoui, N. Gupta, L. N. Hoang, R. Pinot, J. Stephan, "Robust
Collaborative Learning with Linear Gradient Overhead", arXiv:2209.10931 (ICML 2023).  Read: the
abstract, and the authors' code (LPD-EPFL/robust-collaborative-learning): ``aggregators/cva.py``
(NNA: each honest node averages the n − f received vectors nearest its own) and ``reproduce.py``
(MoNNA = NNA with momentum = dampening = 0.99, i.e. m ← β m + (1 − β) g; "NNA" = the same with
β = 0; the baselines are plain averaging D-SGD, trimmed mean, geometric median).  The theorem body
(its (α, λ)-reduction constants, step size and β schedule, the O(f/n)·ζ² error floor) was NOT
read: no full text was found.  So these claims test the paper's qualitative statements on a toy
whose law is known exactly, not its constants.

Setting: H = 8 honest workers with heterogeneous diagonal quadratics (d = 4, curvatures 0.2..1
spread by e^{±0.5}, ζ² = 1, gradient noise σ = 1 per coordinate), f = 2 Byzantine workers
(n = 10, complete graph), step γ = 0.1, β = 0.9, 256 steps (quick: 1024 replicas, 512 for the
momentum claim).  Metric: E‖x̄ − x*‖² of the honest workers' average, x* the minimiser of the honest workers' mean objective.

``robust-agg`` — under the large-constant attack (both faulty workers send 100·1), plain averaging's
stationary E‖x̄ − x*‖² (second half of the run) is at least 100× MoNNA's: Compare(mean over MoNNA)
≥ 100.  The exact laws (:func:`convsim.distributed.byzantine.agreeing_moments`) put the ratio at
about 4·10⁵: plain averaging settles at the biased fixed point e = f(c − x*)/(f + Hγh̄) per
coordinate, MoNNA at attack-free momentum SGD's floor.  NNA replaced by plain averaging makes the
two runs identical (a tie, violated); momentum dropped is blind (a far attack is filtered by NNA
alone); the attack shrunk to 1·1 is caught (the biased fixed point falls to ≈ 40× the floor).

``robust-agg-exact`` (sharpens ``robust-agg``): MoNNA's run under that attack equals, within 15% at
every checkpoint from step 1, the exact law of attack-free momentum SGD on the honest workers (NNA
keeps exactly the 8 honest half steps).  Caught: NNA dropped, step ×2, noise ×2, momentum dropped
(a transient effect: the momentum-free run is 0.41× the reference at step 8).  Disclosure: first
specified at 10%, inconclusive at 256 and at 1024 quick replicas (a −4% fluctuation at the dip near
step 28, where the relative spread is largest; 8192 replicas agree with the recursion to 0.3%);
re-specified at 15%, which every declared mutation still clears (factors ≥ 2 or ≤ 0.41).

``robust-agg-momentum`` — under "a little is enough" (Baruch et al. 2019: the faulty workers send the
honest coordinate-wise mean minus z_max = Φ⁻¹(0.6) = 0.25 standard deviations, hidden in the honest spread),
MoNNA with β = 0.9 reaches a stationary E‖x̄ − x*‖² at least 1.25× lower than NNA alone (β = 0).
The authors' experiments (``reproduce.py``) run exactly this pair, MoNNA against NNA with β = 0, and
the abstract credits momentum for the guarantee; the mechanism (momentum averages the honest noise,
shrinking the spread the attack hides in) is our reading, not a quoted theorem.  Measured ratio 1.80
[1.74, 1.85] (quick, 512 replicas); disclosure: the factor 1.25 was fixed after a first measurement
(≈ 1.6); the paper states no factor for this toy.  Momentum dropped (both runs become NNA
alone: a tie) is caught; NNA replaced by plain averaging is blind (momentum helps plain averaging
under this attack too: ratio ≈ 1.7).

Negative controls (near misses): ``robust-agg-neg`` claims plain averaging is at least 1.15× the
exact ratio of the two floors worse (the paired interval is about ±5%);
``robust-agg-momentum-neg`` claims momentum lowers the error by at least 2.1× (first
specified at 1.8×, inconclusive against the interval [1.80, 1.95] at 256 replicas; moved above it).
"""

from functools import lru_cache

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.distributed import WorkerQuadratics
from convsim.distributed.byzantine import ALittleIsEnough, LargeConstant, MoNNA, agreeing_moments

SOURCE = cs.Source("Robust Collaborative Learning with Linear Gradient Overhead (Farhadkhani, Guerraoui, Gupta, "
                   "Hoang, Pinot, Stephan)", "2209.10931",
                   "MoNNA (momentum + NNA); authors' code aggregators/cva.py, reproduce.py; theorem not read")

SETTINGS = {"honest": 8, "faulty": 2, "d": 4, "sigma": 1.0, "step": 0.1, "momentum": 0.9, "attack_value": 100.0,
            "steps": 256, "replicas": 1024}


def problem_for(s):
    return WorkerQuadratics.random(s["honest"], s["d"], mu=0.2, L=1.0, zeta=1.0, spread=0.5, sigma=s["sigma"], seed=5)


def monna(s, **kw):
    kw.setdefault("attack", LargeConstant(s["attack_value"]))
    kw.setdefault("momentum", s["momentum"])
    return MoNNA(s["step"], s["honest"], s["faulty"], **kw)


def _run(ctx, s, method):
    return ctx.simulate(problem_for(s), method, s["steps"], replicas=s["replicas"], metrics=["dist_sq"], record=16)


def attacked(s, ctx):
    return {"monna": _run(ctx, s, monna(s)), "mean": _run(ctx, s, monna(s, mixing="mean"))}


def alie(s, ctx):
    return {"momentum": _run(ctx, s, monna(s, attack=ALittleIsEnough())),
            "no_momentum": _run(ctx, s, monna(s, attack=ALittleIsEnough(), momentum=0.0))}


def stationary(s):
    return (s["steps"] / 2, s["steps"])


@lru_cache(maxsize=8)
def _exact(honest, faulty, d, sigma, step, momentum, value, steps, mixing):
    s = {"honest": honest, "faulty": faulty, "d": d, "sigma": sigma, "step": step, "momentum": momentum,
         "attack_value": value}
    return agreeing_moments(problem_for(s), monna(s, mixing=mixing), steps, record=16)


def exact_of(s, mixing):
    return _exact(s["honest"], s["faulty"], s["d"], s["sigma"], s["step"], s["momentum"], s["attack_value"],
                  s["steps"], mixing)


def exact_ratio(s):
    """The two exact floors' ratio on the stationary window (plain averaging over MoNNA)."""
    nna, mean = exact_of(s, "nna"), exact_of(s, "mean")
    w = (nna["steps"] >= stationary(s)[0]) & (nna["steps"] <= stationary(s)[1])
    return float(mean["dist_sq"][w].mean() / nna["dist_sq"][w].mean())


def fail_check(data, s, factor):
    return cs.checks.Compare("dist_sq", factor, window=stationary(s)).check(data["monna"], data["mean"])


NNA_DROPPED = mu.set_field("mixing", "mean", on=MoNNA)
MOMENTUM_DROPPED = mu.drop("momentum", on=MoNNA)
ASSUMPTIONS = ("heterogeneous diagonal quadratics, zeta^2 = 1", "additive Gaussian noise sigma = 1",
               "f = 2 Byzantine of n = 10, complete graph", "constant step 0.1, momentum 0.9")

claim = cs.Claim(
    id="robust-agg",
    family="distributed",
    statement="f = 2 of n = 10 peers send 100*1: plain averaging's stationary E||xbar - x*||^2 is at least 100x "
              "MoNNA's (momentum + nearest-neighbour averaging)",
    source=SOURCE,
    assumptions=ASSUMPTIONS,
    experiment=attacked,
    check=lambda data, s: fail_check(data, s, 100.0),
    quick=SETTINGS,
    full={**SETTINGS, "steps": 1024, "replicas": 4096},
    mutations=(NNA_DROPPED,
               mu.scale("value", 0.01, on=LargeConstant),
               MOMENTUM_DROPPED.blind("a far attack is filtered by NNA alone; the floors differ by 2%")),
)

negative = claim.negative_control(
    "plain averaging is worse than MoNNA by at least 1.15x the exact ratio of the two floors",
    lambda data, s: fail_check(data, s, 1.15 * exact_ratio(s)),
)

exact = cs.Claim(
    id="robust-agg-exact",
    family="distributed",
    statement="under the large-constant attack MoNNA's E||xbar_t - x*||^2 equals attack-free momentum SGD's exact "
              "law within 15% from step 1",
    source=SOURCE,
    assumptions=ASSUMPTIONS + ("linear gradients: the second-moment recursion is exact",),
    experiment=attacked,
    check=lambda data, s: cs.checks.Reference("dist_sq", exact_of(s, "nna")["dist_sq"], rtol=0.15,
                                              window=(1, s["steps"]),
                                              what="exact attack-free momentum SGD").check(data["monna"]),
    quick=SETTINGS,
    full=claim.full,
    sharpens="robust-agg",
    mutations=(NNA_DROPPED, MOMENTUM_DROPPED, mu.scale("step_size", 2.0, on=MoNNA),
               mu.scale("sigma", 2.0, on=WorkerQuadratics)),
)


def momentum_check(data, s, factor):
    return cs.checks.Compare("dist_sq", factor, window=stationary(s)).check(data["momentum"], data["no_momentum"])


momentum = cs.Claim(
    id="robust-agg-momentum",
    family="distributed",
    statement="under 'a little is enough' (f = 2 of n = 10), MoNNA's momentum (0.9) lowers the stationary "
              "E||xbar - x*||^2 of NNA alone by at least 1.25x",
    source=SOURCE,
    assumptions=ASSUMPTIONS + ("ALIE with Baruch et al.'s z_max",),
    experiment=alie,
    check=lambda data, s: momentum_check(data, s, 1.25),
    quick={**SETTINGS, "replicas": 512},
    full=claim.full,
    mutations=(MOMENTUM_DROPPED,
               NNA_DROPPED.blind("momentum helps plain averaging under ALIE too (ratio about 1.7)")),
)

momentum_negative = momentum.negative_control(
    "MoNNA's momentum lowers NNA's stationary error under ALIE by at least 2.1x",
    lambda data, s: momentum_check(data, s, 2.1),
)
