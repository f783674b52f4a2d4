"""zo-saddle: two-point ZO-SGD with an isotropic perturbation escapes a strict saddle; without it, it cannot.

Source: Z. Ren, Y. Tang & N. Li, "Escaping saddle points in zeroth-order optimization: the power of two-point
estimators" (arXiv 2209.13555).  What was read: the abstract of the arXiv version (by adding an appropriate
isotropic perturbation at each iteration, a ZO algorithm with 2m function evaluations per iteration, 1 ≤ m ≤ d,
finds ε-second-order stationary points with Õ(d/(m ε² ψ̄)) function evaluations, ψ̄ ≥ Ω̃(√ε) the strength of
the strict-saddle property), and the opening of the ICLR-2023 submission ("... two function evaluations
suffice", Õ(d/ε^2.5) evaluations; Assumption 1: f twice differentiable and lower bounded; Definition 1:
(ε, φ)-second-order stationarity ‖∇f‖ < ε, λ_min(∇²f) > −φ).  The algorithm's step, perturbation radius and
estimator normalisation were NOT read, so only the mechanism-level statement is tested: the escape itself, as an
event with a probability.  The d/m law is NOT tested: with the classical step used here the measured escape
cost in function evaluations is roughly flat in m (650, 680, 800, 960 evaluations, median, for m = 1, 2, 4, 8 at
d = 16; escape iterations 325, 170, 100, 60 ∝ ~1/m), i.e. the paper's 1/m saving must come from its own step
and perturbation schedules, which could not be reproduced without the theorem.  Why the perturbation is needed
(checked here, not taken from the paper): at a strict saddle x_s of an f even about x_s (this toy),
f(x_s + εz) = f(x_s − εz), so the central two-point estimate is exactly 0 and unperturbed ZO-SGD stays at the
saddle for ever (a test checks it to the last bit).

Setting: StrictSaddle with curvatures (−1, 1, ..., 1) in d = 16 and quartic q = 1 (minimizers ±e_1, f* = −1/4),
x0 = the saddle 0; 2m-point estimator = GaussianTwoPoint(ε = 1e-3, m = 2 directions, central); step
η = m/(4(d + 2)) (a quarter of the step that minimises the estimator's one-step second moment on a unit-curvature
quadratic: the classical d/m-dependent ZO step); perturbation radius r = 1e-2 per step (E‖rξ‖² = r²).
Event: f(x_T) ≤ f*/2 (past half of the well's depth), T = 1000 (quick, 256 replicas); measured: escaped fractions
0.79, 0.95, 0.99, 1.0 by T = 200, 250, 300, 350 (256 replicas).
Claims:
  - zo-saddle: P(escape by T) ≥ 0.95 (Event, lower bound, Clopper-Pearson).
  - zo-saddle-neg (near-miss control): the same probability by T = 200 iterations (false: 0.79 of the
    replicas have escaped by then, interval about [0.73, 0.85]; first set at 125, measured 0.06: a far control,
    moved to 200 after seeing that).
Mutations: perturbation dropped (r = 0: the estimate is exactly 0 at the saddle: P = 0), step ×0.1 (escape takes
10× longer than T), central → forward differences (blind: f(x+εz) − f(x) = (ε²/2) zᵀHz ≠ 0 at the saddle, a
perturbation of its own that escapes as well), 1 direction at the 2-direction step (blind: a noisier estimate
still escapes).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim import zeroth_order as zo
from convsim.problems.test_functions import StrictSaddle
from convsim.zeroth_order.methods import PerturbedZOSGD

SOURCE = cs.Source("Escaping saddle points in zeroth-order optimization: the power of two-point estimators",
                   "2209.13555", "abstract: 2m-point estimator + isotropic perturbation finds second-order stationary "
                                 "points (theorem constants not read)")

D, M, RADIUS = 16, 2, 1e-2


def saddle_problem():
    h = np.ones(D)
    h[0] = -1.0
    return StrictSaddle(h, quartic=1.0)


def method():
    return PerturbedZOSGD(M / (4.0 * (D + 2.0)), zo.GaussianTwoPoint(1e-3, M), perturbation=RADIUS)


def experiment_at(horizon_key):
    def experiment(s, ctx):
        T = s[horizon_key]
        trace = ctx.simulate(saddle_problem(), method(), T, s["replicas"], metrics=["value"], record=[0, T])
        return {float(T): trace}

    return experiment


def escaped(final_values):
    return final_values <= saddle_problem().f_star / 2.0


def check(traces, s):
    return cs.checks.Event(0.95, bound="lower", event=escaped, metric="value", vs="T").check(traces)


QUICK = {"horizon": 1000, "short_horizon": 200, "replicas": 256}
FULL = {"horizon": 1000, "short_horizon": 200, "replicas": 2048}

claim = cs.Claim(
    id="zo-saddle",
    family="zeroth-order",
    statement="ZO-SGD with a 2m-point estimator (m = 2) and an isotropic perturbation (r = 1e-2), started AT a strict "
              "saddle (d = 16, curvature -1), escapes it (f(x_T) <= f*/2) by T = 1000 with probability >= 0.95",
    source=SOURCE,
    assumptions=("f = 0.5 sum h_i x_i^2 + 0.25 x_1^4, h = (-1, 1, ..., 1)", "x0 = the saddle", "central differences "
                 "(exactly 0 at the saddle)", "step m/(4(d+2)), exact function values"),
    experiment=experiment_at("horizon"),
    check=check,
    quick=QUICK,
    full=FULL,
    mutations=(mu.drop("perturbation", on=PerturbedZOSGD, name="perturbation dropped"),
               mu.scale("step_size", 0.1, on=PerturbedZOSGD, name="step x0.1"),
               mu.set_field("difference", "forward", on=zo.GaussianTwoPoint, name="forward differences").blind(
                   "the forward difference (eps^2/2) z^T H z is non-zero at the saddle: a perturbation of its own"),
               mu.set_field("directions", 1, on=zo.GaussianTwoPoint, name="1 direction at the 2-direction step").blind(
                   "a noisier estimate escapes as well")),
)

negative = cs.Claim(
    id="zo-saddle-neg",
    family="zeroth-order",
    statement="the same escape with probability >= 0.95 already by T = 200 iterations (false: about 0.79 of the "
              "replicas have escaped by then)",
    source=SOURCE,
    assumptions=claim.assumptions,
    experiment=experiment_at("short_horizon"),
    check=check,
    quick=QUICK,
    full=FULL,
    expected="violated",
    negative_of="zo-saddle",
)
