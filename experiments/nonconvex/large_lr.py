"""large-lr: on a class of nonconvex functions, GD with a large step reaches the global minimum where GD with a
small step stops at a local one (inconclusive by design: the paper's function class was not available).

Source: A. Mohtashami, M. Jaggi & S. U. Stich, "Special Properties of Gradient Descent with Large Learning
Rates", arXiv:2205.15142 (ICLR 2023 version "Large learning rate matters for non-convex optimization")
[S85].  What was read: the abstract and introduction (hf.zsm.im/papers/2205.15142.md, the ICLR text
dump): "randomly initialized full-batch gradient descent with a high learning rate provably escapes
local minima and converges to the global minimum over a class of non-convex functions", while with a
small learning rate GD "can converge to a local minimum instead", and stochastic noise of any magnitude
with a small step does not suffice.  The definition of that function class and the step-size thresholds
of the theorem are in the body, which the stores do not reach; no code was found.

Why inconclusive by design: a success-rate statement is only as good as the class it is stated on, and
a toy chosen here would test our reading of the mechanism, not the paper's theorem.  The experiment
still runs the nearest reading that can be built exactly, so that the day the class is read it can be
swapped in: convsim.problems.TwoMinimum (a sharp parabola, curvature a = 10, at −1 and a flat one,
b = 1, at +√10, ridge at 0), full-batch GD from starts uniform on [−2, 2], with a large step
η = 0.25 ∈ (2/a, 2/b) — unstable in the sharp well, stable in the flat one (linear stability) — and a
small step η = 0.05 < 1/a (GD then ends in the well of its basin: the flat one exactly when x_0 > 0).
"Success" is ending right of the ridge.  The check computes both success rates (exact Clopper–Pearson
intervals; the claim would be large ≥ 0.99 and small ≤ the basin fraction) and reports them, then
returns inconclusive with that evidence: the toy's two minima are both global, so it cannot decide a
statement about local versus global minima on the paper's class.
"""

import dataclasses

import numpy as np

import convsim as cs
from convsim.checks.event import clopper_pearson
from convsim.problems.two_minimum import TwoMinimum, in_flat_well

SOURCE = cs.Source("Special Properties of Gradient Descent with Large Learning Rates", "2205.15142",
                   "abstract and introduction: large-step GD provably escapes local minima on a class of nonconvex "
                   "functions (class and thresholds not read)")


def experiment(s, ctx):
    p = TwoMinimum(s["sharp"], s["flat"], 1.0)
    x0 = p.initial_points(s["replicas"], -2.0, 2.0)
    runs = {name: ctx.simulate(p, cs.methods.GD(eta), s["steps"], x0.shape[0], x0=x0,
                               metrics={"in_flat_well": in_flat_well})
            for name, eta in (("large", s["large"]), ("small", s["small"]))}
    runs["basin_fraction"] = float(np.mean(x0[:, 0] > 0))
    return runs


def check(runs, s):
    success = cs.checks.Event(0.99, bound="lower", event=lambda v: v > 0.5, metric="in_flat_well")
    large = success.check({0.0: runs["large"]})
    k_small = int(np.sum(runs["small"].values("in_flat_well")[:, -1] > 0.5))
    n = runs["small"].replicas
    lo, hi = clopper_pearson(k_small, n, 0.95)
    reason = (f"inconclusive by design (the paper's function class was not read; this toy's minima are both "
              f"global): large step success {large.estimate:.3f} {tuple(round(c, 3) for c in large.ci)}, small step "
              f"{k_small / n:.3f} [{lo:.3f}, {hi:.3f}] vs its basin fraction {runs['basin_fraction']:.3f}")
    return dataclasses.replace(large, verdict=cs.checks.INCONCLUSIVE, reason=reason, tightness=None)


claim = cs.Claim(
    id="large-lr",
    family="nonconvex",
    statement="full-batch GD with a large step reaches the global minimum where a small step stops at a local one "
              "(on the paper's function class, not available: inconclusive by design)",
    source=SOURCE,
    assumptions=("the paper's class of nonconvex functions (not read)", "random initialization, full-batch GD"),
    experiment=experiment,
    check=check,
    quick={"sharp": 10.0, "flat": 1.0, "large": 0.25, "small": 0.05, "steps": 300, "replicas": 256},
    full={"sharp": 10.0, "flat": 1.0, "large": 0.25, "small": 0.05, "steps": 600, "replicas": 1024},
    expected="inconclusive",
)
