"""relu-convex: ADMM on the convex reformulation of two-layer ReLU training converges linearly to the global optimum.

Source: Y. Bai, T. Gautam & S. Sojoudi, "Efficient Global Optimization of Two-layer ReLU Networks:
Quadratic-time Algorithms and Adversarial Training", arXiv:2201.01965 (SIMODS).  What was read: the
abstract and the paper's opening through the search stores (arXiv HTML mirror); the body of
Section 3 (the ADMM algorithm and its linear-convergence theorem) could NOT be opened here, so the
splitting is the standard one for this program, restated from the convex reformulation of
Pilanci & Ergen (arXiv 2002.10553): u = v copy for the group norms, slack s = G u ≥ 0 for the
pattern cones, scaled duals, dual step 1 (convsim.methods.relu_admm.ConvexReluADMM).  The theorem's
rate constant was not read: the paper states linear convergence without a number we could use.

Toy (convsim.problems.relu_convex.ConvexReluRegression): n = 10 Gaussian points in R², targets from a
planted 3-neuron ReLU net plus N(0, 0.1²) noise, β = 0.1, ALL 20 activation patterns enumerated
exactly (2-d hyperplane arrangement), 80 variables.  Optimum p* = 0.2418604039190 certified by
Lagrange duality (dual bound from nnls per group, gap 5e-13), independent of the method under test;
the recovered ReLU net has loss equal to p* (tests/test_nonconvex_p3b.py).  Random N(0, 0.1²) starts,
penalty ρ = 0.1, float64.  Metric: gap_t = |P(v_t) − p*| + ‖min(G v_t, 0)‖.

  - `relu-convex` (cs.checks.Linear, upper): on t ∈ [350, 600] (after the active patterns are
    identified, before the float64 floor) the gap contracts at least at 0.95 per step.  RE-SPECIFIED
    after seeing data: a first version (N(0,1) starts, 0.99 on [400, 900]) was inconclusive because a
    few slow replicas dominate the mean; 0.95 is chosen here, not from the paper.  Measured (quick,
    48 replicas): 0.92792 [0.92778, 0.92803], tightness (fitted/claimed log-rate) 1.46.  A local
    linearization of the ADMM map at the optimum (finite differences, not kept) gave a top sub-unit
    eigenvalue 0.964, not the measured rate, so no exact rate reference is claimed.
  - `relu-convex-optimum` (cs.checks.Event): after 650 steps the gap is ≤ 1e-9 in ≥ 90% of replicas
    (the global optimum of the convex program, hence of the network, is reached).  Measured 48/48
    (Clopper–Pearson [0.926, 1]); final gaps ~ 1e-16.
Negative controls (near misses): rate 0.92 (log-rate 9% faster than measured; margin 0.90);
`relu-convex-optimum-neg`, RE-SPECIFIED in session s5: it was "reaches p*(1 + 1e-8) to 1e-9" (a shift
2.4e-9, 2.4× the tolerance), near in value but false in every replica (frequency 0 against 0.9, margin
−0.9: a far control), since at t = 650 every replica sits at the float64 floor.  A frequency can only be
near the claimed 0.9 where replicas differ, i.e. during the approach, so the control is now on the
first-hitting time: "the gap first reaches 1e-9 within 430 steps in ≥ 90% of replicas" (its own run,
every step recorded up to t = 430, the gap's running minimum).  Measured while re-specifying (every
step, 48 / 128 replicas): the fraction that has hit 1e-9 is 0.19 / 0.16 by t = 428, 0.67 / 0.67 by
t = 430, 0.94 / 0.92 by t = 432 and 1 by t = 434 / 435 (the hitting times' 90%-quantile ≈ 432, against
the claim's horizon 650).  Verdict at 430: 32/48 [0.516, 0.796] (quick), 86/128 [0.583, 0.752] (full),
margin −0.23; the starts are host-drawn, so the same under either stream family.
Mutations: the pattern set missing its last 4 patterns (one active at the optimum: the run
converges to a worse, restricted optimum), penalty ρ ×10 (much slower: not at 1e-9 by t = 650),
dual update dropped (γ = 0: a fixed-penalty method that stalls away from p*).
"""

import dataclasses
import functools

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.methods.relu_admm import ConvexReluADMM
from convsim.problems.relu_convex import ConvexReluRegression, objective_gap

NEEDS_FLOAT64 = "the optimum is resolved to 1e-9 and the rate is fitted down to gaps of 1e-12"

SOURCE = cs.Source("Efficient Global Optimization of Two-layer ReLU Networks: Quadratic-time Algorithms and "
                   "Adversarial Training", "2201.01965",
                   "Section 3 (abstract): ADMM on the convex training program converges linearly to the global "
                   "optimum (theorem body and rate constant not read)")

ASSUMPTIONS = ("n = 10 Gaussian points in R^2, planted 3-neuron ReLU targets + N(0, 0.1^2) noise, beta = 0.1",
               "all 20 activation patterns enumerated exactly", "ADMM penalty 0.1, dual step 1, N(0, 0.01) starts",
               "optimum certified by a Lagrange dual bound (gap < 1e-10)")
BASE = {"samples": 10, "beta": 0.1, "penalty": 0.1, "steps": 650, "window": (350, 600)}
QUICK, FULL = {**BASE, "replicas": 48}, {**BASE, "replicas": 128}


def experiment(s, ctx):
    problem = ConvexReluRegression(samples=s["samples"], regularization=s["beta"])
    _, _, optimum = problem.reference_optimum()              # from the unmutated, complete pattern set
    mutated = ctx.mutate(problem)
    replicas = ctx.replicas or s["replicas"]
    return ctx.simulate(mutated, ConvexReluADMM(s["penalty"]), s["steps"], s["replicas"], record="linear",
                        metrics={"gap": functools.partial(objective_gap, optimum=optimum)},
                        x0=mutated.initial_points(replicas))


def sweep_experiment(s, ctx):
    return {s["penalty"]: experiment(s, ctx)}


def rate_check(rate):
    return lambda trace, s: cs.checks.Linear("gap", rate, bound="upper", window=tuple(s["window"])).check(trace)


def optimum_check(level):
    def check(traces, s):
        return cs.checks.Event(0.9, bound="lower", event=lambda final: final <= level, metric="gap",
                               vs="penalty").check(traces)
    return check


MUTATIONS = (
    mu.set_field("drop_patterns", 4, on=ConvexReluRegression, name="patterns-missing"),
    mu.scale("penalty", 10.0, on=ConvexReluADMM, name="penalty-x10"),
    mu.set_field("dual_step", 0.0, on=ConvexReluADMM, name="dual-update-dropped"),
)

claim = cs.Claim(
    id="relu-convex",
    family="nonconvex",
    statement="ADMM (penalty 0.1) on the convex group-lasso program of two-layer ReLU regression: the gap to the "
              "certified global optimum contracts linearly, at least at 0.95 per step",
    source=SOURCE,
    assumptions=ASSUMPTIONS,
    experiment=experiment,
    check=rate_check(0.95),
    quick=QUICK,
    full=FULL,
    mutations=MUTATIONS,
)

negative = claim.negative_control(
    "the gap contracts at least at 0.92 per step (false: measured about 0.928)",
    rate_check(0.92),
)

optimum = cs.Claim(
    id="relu-convex-optimum",
    family="nonconvex",
    statement="ADMM on the convex ReLU program reaches the certified global optimum p* to 1e-9 (value plus cone "
              "violation) within 650 steps in >= 90% of replicas",
    source=SOURCE,
    assumptions=ASSUMPTIONS,
    experiment=sweep_experiment,
    check=optimum_check(1e-9),
    quick=QUICK,
    full=FULL,
    mutations=MUTATIONS,
)

NEAR_MISS_HORIZON = 430  # just below the hitting times' 90%-quantile (~432): see the docstring


def first_hit_experiment(s, ctx):
    """{penalty: a one-checkpoint Trace at t = NEAR_MISS_HORIZON holding each replica's smallest gap so far}."""
    problem = ConvexReluRegression(samples=s["samples"], regularization=s["beta"])
    _, _, optimum = problem.reference_optimum()
    mutated = ctx.mutate(problem)
    replicas = ctx.replicas or s["replicas"]
    trace = ctx.simulate(mutated, ConvexReluADMM(s["penalty"]), NEAR_MISS_HORIZON, s["replicas"],
                         record=np.arange(NEAR_MISS_HORIZON + 1),
                         metrics={"gap": functools.partial(objective_gap, optimum=optimum)},
                         x0=mutated.initial_points(replicas))
    smallest = np.fmin.reduce(trace.values("gap"), axis=1)[:, None]
    return {s["penalty"]: dataclasses.replace(trace, steps=trace.steps[-1:], metrics={"gap": smallest})}


optimum_negative = dataclasses.replace(optimum.negative_control(
    f"ADMM first reaches the certified optimum p* to 1e-9 within {NEAR_MISS_HORIZON} steps in >= 90% of replicas "
    "(false: about 2/3 have by then; the hitting times' 90%-quantile is about 432)",
    optimum_check(1e-9),
), experiment=first_hit_experiment)
