"""sophia-kappa: Sophia's steps to a relative accuracy do not grow with the condition number; GD's do.

Source: H. Liu, Z. Li, D. Hall, P. Liang & T. Ma, "Sophia: A Scalable Stochastic
Second-order Optimizer for Language Model Pre-training", arXiv:2305.14342 (v4), abstract and theoretical
analysis section.  What was read: the abstract ("in a much simplified setting, adapts to the heterogeneous
curvatures in different parameter dimensions, and thus has a run-time bound that does not depend on the
condition number"), Alg. 3 (the practical update, clip to 1 after dividing by max(γh, ε)).  The theorem's
body (its exact assumptions and constants) could not be read here; what is known of it from the paper's
summary: a simplified DETERMINISTIC Sophia with the exact (full) Hessian and the clipped pre-conditioned
step, on convex losses whose Hessian changes slowly.  So only what can be verified without the constants
is tested: the exponent of steps-to-ε in κ is 0 (Θ(κ^0), tolerance 0.1).

Why separable toys, and what they can and cannot decide.  The theorem's algorithm clips in the Hessian's
eigenbasis.  On a problem whose Hessian is diagonal at every point, that eigenbasis is the coordinate
basis, so diagonal Sophia IS the theorem's full-Hessian algorithm and a Rademacher Hutchinson probe
returns diag H exactly (tests/test_curvature.py).  On such problems κ-independence holds by construction
for a correct implementation: coordinate i moves by η·clip(∂_i f/∂_ii f, 1) and λ_i cancels.  That is
exactly what makes the claim able to fail for a wrong one: a curvature estimate replaced by the identity
(sign-like clipped GD: ~κ steps) or by its square root (~√κ), or clipping removed where the Newton step
overshoots, changes the verdict.  A rotated quadratic would not help: diagonal Sophia is not the
theorem's algorithm there, and the full-Hessian one is again exactly κ-free on any quadratic.

Settings:
  - quadratic: f(x) = ½ Σ λ_i x_i², d = 20, λ geometric from 1 to 1/κ, x0 at distance r0 = 10.
  - pseudo-Huber (non-quadratic, Hessian changing along the path): f(x) = Σ λ_i (√(1 + x_i²) − 1), same λ,
    x0 = 6 per coordinate.  The Newton step x(1 + x²) is huge far from the minimum, so the clipping is what
    keeps Sophia stable (unclipped, x = 6 jumps to −16 and diverges); near the minimum the Hessian ratio
    over a short radius is bounded (the slowly-changing-Hessian assumption).
Steps-to-ε is the first recorded step with f(x_t) − f* ≤ ε (f(x_0) − f*), ε = 1e-6 (geometric grid, 1%
resolution); a replica that never gets there is counted against the check (inconclusive if > 5%).

Claims in this file:
  - sophia-kappa: the theorem's Sophia (β1 = β2 = 0, k = 1, exact diagonal, η = 0.1, γ = 1) on the
    quadratic: Θ(κ^0).  Deterministic, so every replica agrees and the interval has zero width.
  - sophia-kappa-pseudo-huber (companion: the same statement where clipping matters): Θ(κ^0).
  - sophia-kappa-stochastic: Sophia with the paper's practical defaults (β1 = 0.965, β2 = 0.99, Hessian
    refreshed every k = 10 steps from ONE Gaussian Hutchinson probe, Alg. 1) on the quadratic: Θ(κ^0)
    as well; here the diagonal estimate is NOT exact (Gaussian z_i² ≠ 1).  Beyond the theorem, labelled
    as such.
  - sophia-kappa-gd: the contrast, GD with γ = 1/L on the quadratics: Ω(κ^0.5) (GD needs ~ κ log(1/ε)).
  - sophia-kappa-neg (near-miss control): "Sophia's steps grow at least like κ^0.2" (Ω, tolerance 0.1).
Mutations: the curvature estimate replaced by the identity or by its square root (planted through a
custom mutation that swaps Sophia for a subclass with that estimate), clipping removed
(``Sophia.clip = inf``), the refresh interval k ×10, the step η ×½.
Not tested: Adam.  On an axis-aligned quadratic Adam is nearly invariant to per-coordinate scaling, so
this toy cannot show the κ-dependence the paper attributes to Adam.
"""

import math
from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace

import convsim as cs
from convsim import mutations as mu

SOURCE = cs.Source("Sophia: A Scalable Stochastic Second-order Optimizer for Language Model Pre-training",
                   "2305.14342", "theoretical analysis (App. E-F of the ICLR 2024 version): run-time bound of a simplified "
                   "deterministic Sophia on convex losses with slowly changing Hessian, free of the condition "
                   "number (theorem number and constants not read here)")


class PseudoHuberSum(cs.problems.Problem):
    """f(x) = Σ_i λ_i (√(1 + x_i²) − 1): convex, minimum 0 at 0, diagonal Hessian λ_i (1 + x_i²)^(−3/2)
    that changes along the path; exact gradients."""

    name = "pseudo-huber-sum"

    def __init__(self, weights, start):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.dim = self.weights.size
        self.start = float(start)
        self._x_star, self._f_star = np.zeros(self.dim), 0.0

    def value(self, x):
        xp = self.namespace_of(x)
        return xp.sum(self.on(x, "w", self.weights) * (xp.sqrt(1.0 + x * x) - 1.0), axis=-1)

    def grad(self, x):
        return self.on(x, "w", self.weights) * x / self.namespace_of(x).sqrt(1.0 + x * x)

    def stochastic_grad(self, x, rng):
        return self.grad(x)

    def hvp(self, x, v):
        return self.on(x, "w", self.weights) * (1.0 + x * x) ** -1.5 * v

    def initial_point(self):
        return np.full(self.dim, self.start)

    def spec(self):
        return {"name": self.name, "weights": cs.problems.base.array_digest(self.weights), "start": self.start}


def problem_for(kappa, s, shape="quadratic"):
    lam = cs.spectra.geometric(s["d"], L=1.0, mu=1.0 / kappa)
    if shape == "pseudo-huber":
        return PseudoHuberSum(lam, s["huber_start"])
    return cs.problems.Quadratic(lam, r0=s["r0"])


@dataclass(frozen=True)
class _IdentityCurvature(cs.methods.Sophia):
    """A planted bug: the Hessian estimate replaced by the identity (Sophia becomes clipped, sign-like GD)."""

    def estimate(self, oracle, x):
        return 0.0 * x + 1.0


@dataclass(frozen=True)
class _SqrtCurvature(cs.methods.Sophia):
    """A planted bug: the Hessian estimate replaced by its square root (an Adam-like √h pre-conditioner)."""

    def estimate(self, oracle, x):
        h = super().estimate(oracle, x)
        return array_namespace(h).sqrt(array_namespace(h).abs(h))


def _swap(cls):
    return lambda m: cls(**{f: getattr(m, f) for f in m.__dataclass_fields__})


METHODS = {
    "sophia": lambda s, kappa: (cs.methods.Sophia(0.1, gamma=1.0, beta1=0.0, beta2=0.0, k=1,
                                                  estimator="hutchinson-rademacher"), s["sophia_steps"]),
    "sophia-stochastic": lambda s, kappa: (cs.methods.Sophia(0.1, gamma=1.0, estimator="hutchinson"),
                                           s["sophia_steps"]),
    "gd": lambda s, kappa: (cs.methods.GD(1.0), int(s["gd_steps_per_kappa"] * kappa)),
}


def steps_to_eps(trace, eps):
    """First recorded step with f − f* ≤ ε (f(x0) − f*), per replica; −1 where never reached."""
    sub = trace.values("suboptimality")
    reached = sub <= eps * sub[:, :1]
    return np.where(reached.any(axis=1), trace.steps[np.argmax(reached, axis=1)], -1)


def experiment_for(name, shape="quadratic"):
    def experiment(s, ctx):
        kappas = [float(k) for k in s["kappas"]]
        cols, failed = [], np.zeros(ctx.replicas or s["replicas"], dtype=bool)
        for kappa in kappas:
            method, steps = METHODS[name](s, kappa)
            record = np.unique(np.concatenate([[0], np.round(np.geomspace(1, steps, 1000)).astype(int)]))
            trace = ctx.simulate(problem_for(kappa, s, shape), method, steps, s["replicas"], metrics=["suboptimality"],
                                 record=record)
            hit = steps_to_eps(trace, s["eps"])
            failed |= hit < 0
            cols.append(np.where(hit < 0, steps, hit).astype(float))
        # a replica that never reached ε within the budget is excluded and counted against the check
        return cs.Series(np.array(kappas), np.stack(cols, axis=1), "kappa", "steps_to_eps",
                         np.where(failed, 0, -1), {"eps": s["eps"], "d": s["d"]})

    return experiment


def exponent_check(claimed, bound="tight", tolerance=0.1):
    return lambda series, s: cs.checks.Exponent("steps_to_eps", claimed, bound=bound, vs="kappa",
                                                window=(min(s["kappas"]), max(s["kappas"])),
                                                tolerance=tolerance).check(series)


QUICK = {"d": 20, "r0": 10.0, "huber_start": 6.0, "eps": 1e-6, "kappas": [10, 100, 1000], "replicas": 64,
         "sophia_steps": 1500, "gd_steps_per_kappa": 12}
FULL = {"d": 20, "r0": 10.0, "huber_start": 6.0, "eps": 1e-6, "kappas": [10, 100, 1000, 10000], "replicas": 256,
        "sophia_steps": 1500, "gd_steps_per_kappa": 12}

IDENTITY = mu.custom("Hessian estimate replaced by the identity", _swap(_IdentityCurvature), on=cs.methods.Sophia)
SQRT = mu.custom("Hessian estimate replaced by its square root", _swap(_SqrtCurvature), on=cs.methods.Sophia)
NO_CLIP = mu.set_field("clip", math.inf, on=cs.methods.Sophia, name="clipping removed in Sophia")
REFRESH = mu.scale("k", 10.0, on=cs.methods.Sophia, name="Hessian refresh interval k x10 in Sophia")
HALF_STEP = mu.scale("step_size", 0.5, on=cs.methods.Sophia, name="step eta x0.5 in Sophia")

claim = cs.Claim(
    id="sophia-kappa",
    family="first-order",
    statement="deterministic Sophia (exact Hessian, clipped step) reaches relative accuracy eps in a number of steps "
              "independent of the condition number: steps_to_eps = Theta(kappa^0)",
    source=SOURCE,
    assumptions=("convex quadratic with diagonal Hessian (eigenbasis = coordinates)", "exact gradients",
                 "exact Hessian diagonal (Rademacher probe on a diagonal Hessian)", "constant eta and gamma"),
    experiment=experiment_for("sophia"),
    check=exponent_check(0.0),
    quick=QUICK,
    full=FULL,
    mutations=(IDENTITY, SQRT,
               NO_CLIP.blind("on a quadratic the exact Newton step times eta <= 1 contracts every coordinate by "
                             "(1 - eta) whatever lambda_i: clipping only matters off quadratics (see the "
                             "pseudo-Huber companion)"),
               REFRESH.blind("the Hessian is constant on a quadratic and beta2 = 0: a stale estimate is exact"),
               HALF_STEP.blind("a smaller eta slows every kappa alike: the exponent in kappa stays 0")),
)

pseudo_huber = cs.Claim(
    id="sophia-kappa-pseudo-huber",
    family="first-order",
    statement="deterministic Sophia (exact Hessian, clipped step) on a non-quadratic convex loss whose Hessian "
              "changes along the path (weighted pseudo-Huber) also needs Theta(kappa^0) steps to relative "
              "accuracy eps",
    source=SOURCE,
    assumptions=("convex separable loss, Hessian diagonal and changing slowly", "exact gradients",
                 "exact Hessian diagonal", "constant eta and gamma", "start where the Newton step overshoots"),
    experiment=experiment_for("sophia", "pseudo-huber"),
    check=exponent_check(0.0),
    quick=QUICK,
    full=FULL,
    mutations=(IDENTITY, SQRT, NO_CLIP,
               REFRESH.blind("with clipping a 10-step-old Hessian still gives kappa-free steps (slower alike)"),
               HALF_STEP.blind("a smaller eta slows every kappa alike: the exponent in kappa stays 0")),
)

stochastic = cs.Claim(
    id="sophia-kappa-stochastic",
    family="first-order",
    statement="Sophia with the paper's defaults (beta1=0.965, beta2=0.99, k=10, one Gaussian Hutchinson probe) also "
              "needs Theta(kappa^0) steps to relative accuracy eps (beyond the theorem: stochastic curvature)",
    source=SOURCE,
    assumptions=("convex quadratic with diagonal Hessian", "exact gradients", "Gaussian Hutchinson probes (Alg. 1)"),
    experiment=experiment_for("sophia-stochastic"),
    check=exponent_check(0.0),
    quick=QUICK,
    full=FULL,
    mutations=(IDENTITY, NO_CLIP,
               SQRT.blind("measured: still kappa-free here. h starts at 0 with beta2 = 0.99, so the first steps "
                          "are clipped sign steps that bring the flat coordinates near 0, where they weigh less "
                          "than eps f(x0); the square root only slows them afterwards (the exact-curvature "
                          "claims catch it)"),
               HALF_STEP.blind("a smaller eta slows every kappa alike")),
)

gd = cs.Claim(
    id="sophia-kappa-gd",
    family="first-order",
    statement="the contrast: GD with step 1/L needs Omega(kappa^0.5) steps to relative accuracy eps "
              "(~ kappa log(1/eps); Nesterov 2004, Thm 2.1.15)",
    source=SOURCE,
    assumptions=("convex quadratic with diagonal Hessian", "exact gradients", "step 1/L"),
    experiment=experiment_for("gd"),
    check=exponent_check(0.5, bound="lower"),
    quick=QUICK,
    full=FULL,
    mutations=(mu.scale("step_size", 2.0, on=cs.methods.GD, name="step x2 (2/L) in GD"),
               mu.scale("step_size", 0.5, on=cs.methods.GD).blind("a smaller step only adds steps: a lower "
                                                                    "bound cannot see it")),
)

negative = claim.negative_control(
    "Sophia's steps to relative accuracy grow with the condition number, at least like kappa^0.2",
    exponent_check(0.2, bound="lower"),
)
