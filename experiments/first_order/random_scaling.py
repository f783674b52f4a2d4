"""random-scaling: exponential random scaling makes SGDM's one-step change exactly first order on a nonsmooth
nonconvex function — the identity the optimal Goldstein-stationarity rate of Zhang & Cutkosky rests on.

Source [S87]: Q. Zhang & A. Cutkosky, "Random Scaling and Momentum for Non-smooth Non-convex Optimization",
arXiv:2405.09742 (ICML 2024).  What was read: the abstract ("simply scale the update at each time point by an
exponentially distributed random scalar ... achieves optimal convergence guarantees", through the
online-to-non-convex conversion) and the identity the conversion rests on, for s ~ Exp(1) and any F that is
differentiable along the segment almost everywhere (integration by parts against e^{−s}):

    E_s[F(x + sΔ)] − F(x) = E_s[⟨∇F(x + sΔ), Δ⟩],

which makes the increment of F along the update equal, in expectation, to the linear term the online learner
controls — with no smoothness or convexity.  The rate itself, (δ, ε)-Goldstein stationarity within
O(δ^{−1} ε^{−3}) stochastic gradients, could not be read with its constants; `random-scaling-rate` records it
as inconclusive by design.

Setting: F(x) = Σ_i (|x_i| + ½ cos(2x_i)) on R⁵ (nonsmooth at x_i = 0, nonconvex), 24 fixed pairs (x, Δ) with
entries N(0, 1) (pairs with |E⟨∇F(x + sΔ), Δ⟩| < 0.1 skipped, so the ratio is well defined), and the law of s
taken from the method object (`RandomScalingMomentum.scaling_expectation`, adaptive quadrature split at the
kinks s = −x_i/Δ_i), so a planted change of the law reaches the check.  Metric: the ratio
(E F(x + sΔ) − F(x)) / E⟨∇F(x + sΔ), Δ⟩ per pair.

Claims:
  - `random-scaling` (exact): the ratio is 1 at every pair to rtol 1e-6 (Reference against 1; quadrature error
    ~1e-10).  Mutations: s ≡ 1 (plain SGDM; the ratio is then (F(x+Δ) − F(x))/⟨∇F(x+Δ), Δ⟩, off by O(1)) and
    s ~ U(0, 2) (same mean, wrong law) are caught.
  - `random-scaling-rate` (expected inconclusive, by design): "SGDM with exponential scaling reaches a
    (δ, ε)-Goldstein stationary point within O(δ^{−1} ε^{−3}) gradients".  The Goldstein ε of a point (the
    smallest norm in the convex hull of gradients within δ) is not computable along a run in d > 1 without
    a convex-hull solve per checkpoint, and the theorem's step/period choices could not be read; the check
    returns inconclusive with this reason.
Negative control (near-miss): "the ratio is 1 + 3e-6" (the rtol 1e-6 plus the quadrature's resolution).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.checks.verdict import INCONCLUSIVE, Verdict
from convsim.engine.trace import Series


SOURCE = cs.Source("Random Scaling and Momentum for Non-smooth Non-convex Optimization (Zhang, Cutkosky)",
                   "2405.09742", "the exponential-scaling identity E[F(x + s D) - F(x)] = E<grad F(x + s D), D> "
                   "behind the online-to-non-convex conversion (abstract; rate constants not read)")


def F(x):
    return float(np.sum(np.abs(x) + 0.5 * np.cos(2.0 * x)))


def grad_F(x):
    return np.sign(x) - np.sin(2.0 * x)


def pairs(s):
    rng = np.random.default_rng(s["seed"])
    return [(rng.normal(size=s["d"]), rng.normal(size=s["d"])) for _ in range(s["pairs"])]


def ratios(method, s):
    out = []
    for x, delta in pairs(s):
        kinks = [-xi / di for xi, di in zip(x, delta) if di != 0.0]
        lhs = method.scaling_expectation(lambda t: F(x + t * delta), kinks) - F(x)
        rhs = method.scaling_expectation(lambda t: float(grad_F(x + t * delta) @ delta), kinks)
        if abs(rhs) >= 0.1:
            out.append(lhs / rhs)
    return np.array(out)


def experiment(s, ctx):
    method = ctx.mutate(cs.methods.RandomScalingMomentum(0.01, momentum=0.9))
    r = ctx.memo({"method": method, "settings": s}, lambda: ratios(method, s))
    return Series(np.arange(1, r.size + 1, dtype=float), r[None, :], "pair", "identity_ratio", np.full(1, -1))


def check_identity(series, s, claimed=1.0):
    return cs.checks.Reference("identity_ratio", np.full(series.x.size, claimed), rtol=1e-6,
                               what=f"{claimed:g} (the identity)").check(series)


def check_rate(series, s):
    return Verdict(INCONCLUSIVE, "complexity", "goldstein_stationarity", "O(delta^-1 eps^-3)", None, None, 0.95, None,
                   series.values.shape[0], 0,
                   "inconclusive by design: Goldstein stationarity (min-norm element of the convex hull of gradients "
                   "within delta) is not computed along a run, and the theorem's step and period choices were not "
                   "readable")


QUICK = {"d": 5, "pairs": 24, "seed": 7}
FULL = {"d": 5, "pairs": 96, "seed": 7}
ASSUMPTIONS = ("F(x) = sum |x_i| + cos(2 x_i)/2: nonsmooth, nonconvex, differentiable a.e. along lines",
               "s ~ Exp(1) independent of (x, Delta)")

claim = cs.Claim(
    id="random-scaling",
    family="first-order",
    statement="with s ~ Exp(1), E[F(x + s D)] - F(x) = E<grad F(x + s D), D> for a nonsmooth nonconvex F "
              "(ratio 1 to rtol 1e-6 at every pair)",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=check_identity, quick=QUICK, full=FULL,
    mutations=(mu.set_field("scaling", "none", on="RandomScalingMomentum", name="no random scaling (plain SGDM)"),
               mu.set_field("scaling", "uniform", on="RandomScalingMomentum",
                            name="uniform U(0, 2) scaling (same mean)")),
)

rate = cs.Claim(
    id="random-scaling-rate",
    family="first-order",
    statement="SGDM with exponential random scaling reaches a (delta, eps)-Goldstein stationary point within "
              "O(delta^-1 eps^-3) stochastic gradients (expected inconclusive: not computable on a run here)",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=check_rate, quick=QUICK, full=FULL,
    expected="inconclusive",
)

NEAR_MISS = 1.0 + 3e-6
negative = claim.negative_control(
    f"the ratio is {NEAR_MISS:.7g} (the identity off by the tolerance 1e-6 plus the quadrature's resolution; false)",
    lambda series, s: check_identity(series, s, NEAR_MISS))
