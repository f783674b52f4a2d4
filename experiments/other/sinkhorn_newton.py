"""sinkhorn-newton: Sinkhorn-Newton-Sparse reaches a dual-gradient tolerance in far fewer iterations than Sinkhorn.

Source: X. Tang, M. Shavlovsky, H. Rahmanian, E. Tardini, K. K. Thekumparampil, T. Xiao & L. Ying,
"Accelerating Sinkhorn Algorithm with Sparse Newton Iterations", ICLR 2024, arXiv:2401.12253, seed [S102].
What was read: the abstract and secondary summaries of Section 6 / Algorithm 1 (the LaTeX was not read):
Sinkhorn maximizes the concave Lyapunov potential f(x, y) of the entropic dual and converges linearly; SNS
stops it early (N₁ sweeps) and then takes Newton steps on f with a sparsified Hessian (the largest entries
of the plan kept), a line search, and a conjugate-gradient solve; the paper reports (Table 1, both run to
machine accuracy) that SNS needs orders of magnitude fewer iterations, and conjectures super-exponential
convergence of the Newton stage.  Encoded in :mod:`convsim.estimators.optimal_transport`: f with η the
inverse regularization, ‖∇f‖₁ (the marginal violation) as the error, Sinkhorn in log form, SNS with
N₁ = 20, at most 20 Newton steps, the kept fraction ρ = 0.3 of the plan's n² entries (our choice: the
paper's ρ was not read; at ρ = 0.1 the stage stalls on these clouds), an exact solve instead of CG, and a
backtracking Armijo search.

Setting: 8 replicas of two clouds of n = 32 uniform points in [0, 1]² (replica streams), squared Euclidean
cost, uniform marginals, η = 100 (regularization ε = 0.01), 700-iteration budget.

Claims:
  - sinkhorn-newton: mean iterations to ‖∇f‖₁ < 1e-9 for Sinkhorn / for SNS > 10 (Compare, paired replicas;
    "orders of magnitude" read as at least one).
  - sinkhorn-newton-neg (near miss): the factor is 30.  Re-specified after a full run (disclosed): it was 25,
    just above the quick interval (21.2 [18.6, 23.9]), but the full settings' longer budget counts more of
    Sinkhorn's slow runs, and on the SFC64 streams the full run measured 24.8 [22.05, 27.64], where 25 is not
    false; 30 is just above both (quick 20.25 [16.85, 23.74] on SFC64).
  - sinkhorn-newton-rate (sharp): Sinkhorn's fitted linear rate on the errors in [1e-9, 1e-3] equals the
    exact contraction of its linearized sweep at the solution, σ₂(D_r^{-1/2} P* D_c^{-1/2})², within 1%
    (Level of the ratio).  P* is the reference plan from the *unmutated* problem, solved to machine
    precision by dense Newton steps after Sinkhorn (checked ‖∇f‖₁ < 1e-13).  The paper only says "linear";
    the exact rate is the linearization of one sweep x → y → x at the fixed point (a similarity of the
    normalized plan's Gram operator; the classical Sinkhorn–Knopp rate, derived here, not read from a paper),
    and the test suite checks it against long Sinkhorn runs on other clouds.
  - sinkhorn-newton-rate-neg (near miss): the rate is 1.5% above that contraction (the 1% band plus the interval
    half-width).

Measured (quick, 8 replicas): iteration ratio 21.2 [18.6, 23.9] (tightness 2.12; SNS ≈ 26 iterations, Sinkhorn
≈ 440–700); rate / contraction 0.9999 [0.9997, 1.0000].  Full (64 replicas): 22.3 [20.3, 24.5] and 0.9997
[0.9995, 0.9998].  Figures: iterations against the tolerance 10^-digits (3, 5, 7, 9; the check reads 9), and
the fitted rate / contraction for fit windows ending at 10^-digits (the check reads the window [1e-9, 1e-3]).

Mutations: the Newton stage dropped (newton_steps 0: SNS is Sinkhorn, a tie), the Hessian sparsified too
aggressively (ρ = 0.05: the Newton stage stalls), the regularization misread (η ×2: caught by the rate claim,
whose contraction is computed at the unmutated solution; blind for the comparison, which a harder problem
only widens).

Re-specified once: the rate window was first [1e-9, 1e-4]; under η ×2 Sinkhorn then missed the window within
the budget and the rate claim came out inconclusive, so the window was widened to [1e-9, 1e-3] (the unmutated
ratio stays within 0.1% of 1 on either window; the bound and its 1% band were not changed).
"""

from functools import lru_cache

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.estimators.optimal_transport import (EntropicOT, Sinkhorn, SinkhornNewtonSparse, iterations_to,
                                                   linear_rate, sinkhorn_contraction, squared_cost)
from convsim.estimators.runner import as_series, sample_rows

NEEDS_FLOAT64 = "the errors are resolved down to 1e-9 and the reference plan to machine precision"

SOURCE = cs.Source("Accelerating Sinkhorn Algorithm with Sparse Newton Iterations (Tang, Shavlovsky, Rahmanian, "
                   "Tardini, Thekumparampil, Xiao & Ying)", "2401.12253",
                   "Algorithm 1 (SNS) and Table 1: far fewer iterations than Sinkhorn to machine accuracy; "
                   "Sinkhorn's linear convergence")

N_POINTS, DIM, ETA = 32, 2, 100.0
TOLERANCE = 1e-9
DIGITS = np.array([3.0, 5.0, 7.0, 9.0])
"""Tolerances 10^-digits on the figure's abscissa; the comparison reads the last (the claim's 1e-9)."""
RATE_WINDOW = (1e-9, 1e-3)


def rate_window(digits):
    """The fit window ending at 10^-digits: six decades up, capped at 0.1 (digits 9 gives RATE_WINDOW, the one
    checked; the shallower ones, for the figure, show the pre-asymptotic drift of the local rate)."""
    return 10.0 ** -digits, min(10.0 ** (6 - digits), 0.1)


def costs(replicas, seed):
    def draw(rng, xp):
        points = rng.uniform(2, N_POINTS, DIM)
        return xp.reshape(points, (points.shape[0], -1))
    flat = sample_rows(draw, replicas, seed=seed)
    points = flat.reshape(replicas, 2, N_POINTS, DIM)
    return squared_cost(points[:, 0], points[:, 1])


@lru_cache(maxsize=4)
def reference_contraction(replicas, seed):
    """σ₂² of the normalized plan at the unmutated solution (Sinkhorn, then dense Newton to machine precision)."""
    problem, cost = EntropicOT(ETA), costs(replicas, seed)
    errors, (x, y) = SinkhornNewtonSparse(newton_steps=20, density=1.0).run(problem, cost, 40, 1e-14)
    cs.errors.require(errors[:, -1].max() < 1e-13, f"reference solve reached only {errors[:, -1].max():.3g}")
    return sinkhorn_contraction(problem, cost, x, y)


def experiment(s, ctx):
    replicas = ctx.replicas or s["replicas"]
    problem, methods = ctx.mutate(EntropicOT(ETA)), ctx.mutate((SinkhornNewtonSparse(), Sinkhorn()))
    cost = costs(replicas, ctx.seed)

    def run():
        until = min(TOLERANCE, RATE_WINDOW[0])  # nothing below it is read
        sns_errors, _ = methods[0].run(problem, cost, s["budget"], until)
        plain_errors, _ = methods[1].run(problem, cost, s["budget"], until)
        values = {"sns_iterations": np.stack([iterations_to(sns_errors, 10.0 ** -d) for d in DIGITS], 1),
                  "sinkhorn_iterations": np.stack([iterations_to(plain_errors, 10.0 ** -d) for d in DIGITS], 1),
                  "rate": np.stack([linear_rate(plain_errors, rate_window(d)) for d in DIGITS], 1)}
        return cs.Trace(DIGITS, values, np.full(replicas, -1), {}, {})

    trace = ctx.cached({"simulator": "entropic-ot-dual", "problem": problem, "methods": methods, "n": N_POINTS,
                        "replicas": replicas, "budget": s["budget"]}, run)
    contraction = reference_contraction(replicas, ctx.seed)
    digits = "digits (tolerance 10^-digits)"
    return {"SNS": as_series(trace.values("sns_iterations"), DIGITS, digits, "iterations"),
            "Sinkhorn": as_series(trace.values("sinkhorn_iterations"), DIGITS, digits, "iterations"),
            "rate": as_series(trace.values("rate") / contraction[:, None], DIGITS, "fit window ends at 10^-digits",
                              "rate / contraction")}


def check_fewer(data, s, factor=10.0):
    return cs.checks.Compare("iterations", factor).check(data["SNS"], data["Sinkhorn"])


def check_rate(data, s, claimed=1.0):
    return cs.checks.Level("rate / contraction", claimed, rtol=0.01, window=(DIGITS[-1], DIGITS[-1])).check(data["rate"])


ASSUMPTIONS = ("two clouds of 32 uniform points in [0,1]^2 per replica, squared Euclidean cost, uniform marginals",
               "eta = 100 (regularization 0.01)", "SNS: 20 Sinkhorn sweeps, <= 20 Newton steps, 30% of the plan kept, "
               "exact solves, Armijo backtracking")
QUICK, FULL = {"replicas": 8, "budget": 700}, {"replicas": 64, "budget": 1200}
DROP_NEWTON = mu.set_field("newton_steps", 0, on=SinkhornNewtonSparse)
TOO_SPARSE = mu.set_field("density", 0.05, on=SinkhornNewtonSparse)
ETA_DOUBLED = mu.scale("eta", 2.0, on=EntropicOT)

claim = cs.Claim(
    id="sinkhorn-newton", family="other",
    statement="Sinkhorn-Newton-Sparse reaches |grad f|_1 < 1e-9 in over 10x fewer iterations than Sinkhorn",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=check_fewer, quick=QUICK, full=FULL,
    needs_float64=NEEDS_FLOAT64,
    mutations=(DROP_NEWTON, TOO_SPARSE,
               ETA_DOUBLED.blind("a smaller regularization slows Sinkhorn more than SNS: the gap only widens")))

negative = claim.negative_control("Sinkhorn-Newton-Sparse needs over 30x fewer iterations than Sinkhorn",
                                  lambda data, s: check_fewer(data, s, 30.0))

rate = cs.Claim(
    id="sinkhorn-newton-rate", family="other", sharpens="sinkhorn-newton",
    statement="Sinkhorn's |grad f|_1 decays linearly at exactly sigma_2(D_r^-1/2 P* D_c^-1/2)^2 per sweep",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=check_rate, quick=QUICK, full=FULL,
    needs_float64=NEEDS_FLOAT64,
    mutations=(ETA_DOUBLED,
               DROP_NEWTON.blind("the rate is Sinkhorn's; the Newton stage is not in that run"),
               TOO_SPARSE.blind("the rate is Sinkhorn's; the Hessian is not in that run")))

rate_negative = rate.negative_control("Sinkhorn's linear rate is 1.5% above sigma_2(D_r^-1/2 P* D_c^-1/2)^2",
                                      lambda data, s: check_rate(data, s, 1.015))
