"""riemannian-adaptive: RAMSGRAD on a product of Poincaré balls has O(√T) regret and, on a geodesic, IS
Euclidean AMSGrad; SPD momentum in generalized normal coordinates never leaves the positive-definite cone.

Sources.  [S83] G. Bécigneul & O.-E. Ganea, "Riemannian Adaptive Optimization Methods", ICLR 2019,
arXiv:1810.00760.  Read: the abstract and introduction (stored ar5iv / deepai copies) and geoopt's
``RiemannianAdam`` (geoopt/optim/radam.py, the library of the authors' group: Riemannian gradient by
``egrad2rgrad``, second moment ``component_inner`` = one scalar per manifold, momentum moved by
``retr_transp``).  The stored text did not reach the theorem body; Algorithm 1a and Theorem 1 are encoded
as recalled, and said so: the update is convsim.manifolds.RAMSGRAD (its docstring), and Theorem 1 bounds
the regret R_T = Σ_t f_t(x_t) − min_{x∈X} Σ_t f_t(x) of geodesically convex f_t with bounded Riemannian
gradients on geodesically convex compact X_i of complete manifolds with curvature ≥ κ_i, for α_t = α/√t,
β_{1t} = β_1 λ^{t−1} ≤ β_1, γ = β_1/√β_2 < 1, by √T D_∞²/(2α(1−β_1)) Σ_i √v̂_T^i + a summable momentum term
+ α√(1 + log T)/((1−β_1)²(1−γ)√(1−β_2)) Σ_i ζ(κ_i, D_∞) √(Σ_t ‖g_t^i‖²): R_T = O(√T), constants not tested.
The paper's "tight" remark (Euclidean factors give back AMSGrad and its bound) is what the sharp companion
tests exactly, on a geodesic instead of R.  [S127] W. Lin, V. Duruisseaux, M. Leok, F. Nielsen, M. E. Khan &
M. Schmidt, "Simplifying Momentum-based Positive-definite Submanifold Optimization with Applications to
Deep Learning", ICML 2023, arXiv:2302.09738 (abstract and introduction read; the local-coordinate update
S = A h(η) h(η)ᵀ Aᵀ, h(η) = I + η + η²/2, momentum on the local gradient, as recalled: convsim.manifolds.
SPDMomentum): the iterates stay positive definite using matrix products only.

Settings.  Regret: f_t(x) = Σ_k d(x_k, y_{k,j_t})² on K = 4 Poincaré 2-balls, j_t uniform over the anchors
±0.6 e_1, ±0.6 e_2 of each ball (i.i.d. online losses; F = E f_t has its minimizer at the origin by symmetry,
F* = K (2 artanh 0.6)²), x_0 = (0.5, 0.3) in each ball; α = 0.5, β_1 = 0.9, λ = 0.999, β_2 = 0.99 (γ = 0.905),
eps = 1e-8; T = 1024, 32 replicas (quick), T = 16384, 64 replicas (full).  Measured: the expected regret
against the fixed comparator x*, E Σ_{s≤t} (F(x_s) − F*), divided by t.  The regret against the best point in
hindsight exceeds it by E[Σ_t f_t(x*) − min_x Σ_t f_t(x)], which stays O(1) for these i.i.d. strongly g-convex
losses, so the exponent is the same.  β_2 = 0.99, not 0.999: without bias correction v̂ warms up over
1/(1−β_2) steps, during which the effective step falls like 1/t and the regret looks faster than √T
(measured −0.8 with 0.999 at T = 2048): chosen after seeing that run, the statement is unchanged.

Claims:
  - `riemannian-adaptive`: R_t/t = O(t^{−1/2}) (Exponent, upper, tolerance 0.1, window T/4..T).  Measured
    −0.706 [−0.722, −0.688] (quick, 32 replicas; −0.671 on 16 PCG64 replicas before the resize): the initial-distance part of the regret still decays faster than the noise
    part (whose exponent is −1/2 with steps ∝ 1/√t), so the bound holds with room 0.17; full settings
    (T = 16384): −0.591 [−0.598, −0.584], approaching −1/2 as that part fades.
  - `riemannian-adaptive-euclidean` (sharp companion): anchors on one diameter per ball (K = 3, collinear,
    exact gradients), x_0 on it: the diameter is a geodesic isometric to R by u = 2 artanh x, with exp, transport
    and the Riemannian norm all Euclidean in u, so RAMSGRAD's squared geodesic distance to the exact Fréchet
    mean (tanh(mean artanh t_j) e_1) equals, step by step, that of Euclidean AMSGrad (no bias correction) on
    f(u) = Σ_k mean_j (u_k − u_kj)², computed here by its own recursion (Reference, rtol 1e-8, 200 steps;
    measured ratio 1 to rounding).  The comparison stops where d² < 1e-12 (d ~ 1e-6, where the rounding of
    artanh of a Möbius difference is no longer 1e-8 relative): re-specified after the full run (1000 steps)
    failed at t = 815, d² ~ 1e-29.  This is the paper's tightness remark (Euclidean factors give AMSGrad) on a
    geodesic of the ball.
  - `riemannian-adaptive-isometry`: RAMSGRAD is intrinsic: on anchors and start rotated by an orthogonal Q (an
    isometry of the ball), the loss curve F(x_t) is the same (exact gradients, rtol 1e-9).  This is what
    adaptivity "across manifolds" buys over one second moment per ambient coordinate.  (The reference is the
    other run of the same method: an invariance, not a closed form.)
  - `riemannian-adaptive-ball`: the iterates never leave the ball: P(max_k ‖x_k‖ ≥ 1 within T steps) ≤ 0.1 at
    every α ∈ {0.5, 1, 2} (64 replicas, exact Clopper–Pearson, Bonferroni; measured 0/64 at each).
  - `spd-momentum-pd` [S127]: f(S) = ½ tr(SΣ) − ½ log det S on 4×4 SPD matrices (Σ rotated, eigenvalues
    geomspace(0.2, 5)), stochastic gradients ½(zzᵀ − S⁻¹), z ~ N(0, Σ), S_0 = I, momentum 0.9, steps β ∈
    {0.0025, 0.005, 0.01}, T = 200: P(S_t leaves the cone) ≤ 0.1 at every β (measured 0/64 at each).  The
    exit metric also counts a run that overflows: at much larger steps (β ≥ 0.1 on diag(0.2, 1, 5), measured in
    the tests' exploration) the congruence itself blows up, h(m) growing like m²/2, though in exact arithmetic it
    never leaves the cone (tests/test_manifolds.py checks one step against h(m)² in closed form).
  - `spd-momentum-exact` (sharp companion of `spd-momentum-pd`): exact gradients, Σ = Q diag(σ) Qᵀ, S_0 = I:
    every factor is Q diag(a) Qᵀ, so the run is a scalar recursion per eigen-direction, μ ← 0.9 μ + ½(σa² − 1),
    a ← a(1 − βμ + β²μ²/2), converging to the closed form S* = Σ⁻¹; ‖S_t − Σ⁻¹‖²_F agrees with it (rtol 1e-8,
    β = 0.05, until the distance first falls below 1e-8, where 4×4 products round at 1e-15: re-specified after
    the first version failed at 4.6e-14).
Negative controls (near misses): regret "R_t/t = O(t^{−0.85})" (the measured exponent moved by the tolerance
and a little more than the interval's half-width).  Re-specified after a run (disclosed): first placed at −0.82
from the 16-replica PCG64 estimate −0.671, which was a high fluctuation: on the SFC64 streams, and on PCG64 at 32
and 64 replicas, the quick window measures −0.70 to −0.72 (64 replicas: −0.715 [−0.727, −0.702] and
−0.723 [−0.732, −0.713]), so −0.82 + 0.1 sat on the truth; now −0.85 and 32 quick replicas; geodesic: "RAMSGRAD equals Euclidean AMSGrad
with the step ×(1 + 10⁻⁶)" (resolved at rtol 1e-8), and the same for the SPD recursion; ball: "Euclidean AMSGrad with the same steps on the
ball's coordinates leaves the ball in at most 40% of the runs at α = 0.5" (measured 67% [54%, 78%]; the exits
happen in the first steps and switch on sharply between α = 0.47 (0/64) and 0.5); SPD: "Euclidean heavy-ball
momentum with the same steps leaves the cone in at most 25% of the runs at β = 0.005" (measured 50% [37%, 63%];
8%, 50%, 94% at the three steps; at the full horizon T = 2000 it leaves in 99.6%, a far control there).
Full settings, measured: every verdict as expected (the ball and SPD claims 0/256 exits at every step).
Mutations: the regret exponent catches a constant step (violated); α/t^{1/4}, first declared caught (it was
inconclusive on 16 PCG64 replicas), is consistent after the resize to 32 SFC64 replicas, so it is declared blind
there and the geodesic companion declares it (a full-catalogue mutation run found the miss); it cannot see
the geometry bugs (a dropped transport, the Euclidean gradient, the projected retraction: all converge to the
same point at the same rate; declared blind), which the geodesic companion catches (violated), with β_2 ×1.009
and the constant step; the coordinate-wise second moment is invisible on a diameter (one ambient coordinate
moves) and is caught by the isometry claim.  The ball claim catches RAMSGRAD replaced by Euclidean AMSGrad
(blind: the projected retraction, inside the ball by construction); the SPD claim catches SPD momentum replaced
by Euclidean momentum (blind: the first-order step S ← A(I − βμ)Aᵀ, which stays PD while β λ_max(μ) < 1;
`spd-momentum-exact` catches it, with the momentum dropped, the step ×1.01 and the Euclidean swap).
Not tested: the theorem's constants (D_∞, ζ(κ, D_∞), G_∞), RADAM/RADAGRAD, curvature other than −1, the
structured (block, low-rank) SPD submanifolds of [S127] and its convergence rates.
"""

import numpy as np
import scipy.stats

import convsim as cs
from convsim import mutations as mu
from convsim.manifolds import (RAMSGRAD, FrechetBall, GaussianPrecision, SPDMomentum,
                               geodesic_dist_sq, max_component_norm, min_eigenvalue)

NEEDS_FLOAT64 = "the exact companion and the isometry claim are checked at rtol 1e-8 and 1e-9"

SOURCE = cs.Source("Riemannian Adaptive Optimization Methods (Becigneul, Ganea; ICLR 2019)", "1810.00760",
                   "Algorithm 1a (RAMSGRAD) and Theorem 1 (regret O(sqrt T), recalled: theorem body not readable); "
                   "Euclidean case gives back AMSGrad")
SOURCE_SPD = cs.Source("Simplifying Momentum-based Positive-definite Submanifold Optimization with Applications "
                       "to Deep Learning (Lin, Duruisseaux, Leok, Nielsen, Khan, Schmidt; ICML 2023)", "2302.09738",
                       "abstract: momentum in generalized normal coordinates keeps the iterates on the SPD manifold")

BALL_DIM = 2
ON = "RAMSGRAD"


def ramsgrad(alpha, **kw):
    return RAMSGRAD(cs.schedules.inverse_sqrt(alpha), ball_dim=BALL_DIM, **kw)


def regret_method(s):
    return ramsgrad(s["alpha"], beta1=0.9, beta1_decay=0.999, beta2=0.99)


def regret_problem(s):
    return FrechetBall.symmetric(s["components"], BALL_DIM, 0.6, np.tile([0.5, 0.3], s["components"]))


def regret_experiment(s, ctx):
    T = s["steps"]
    trace = ctx.simulate(regret_problem(s), regret_method(s), T, s["replicas"], metrics=["suboptimality"],
                         record=np.arange(T))
    cumulative = np.cumsum(trace.values("suboptimality")[:, :T], axis=1)  # Σ_{s≤t} F(x_s) − F*, x_1 = x_0 of the run
    t = np.arange(1, T + 1)
    keep = np.unique(np.geomspace(1, T, 64).astype(int)) - 1
    return cs.Series(t[keep].astype(float), (cumulative / t)[:, keep], "t", "average_regret", trace.diverged_at,
                     trace.constants)


def check_regret(series, s, claimed=-0.5):
    T = s["steps"]
    return cs.checks.Exponent("average_regret", claimed, bound="upper", tolerance=0.1, window=(T / 4, T)).check(series)


# -- the geodesic companion: RAMSGRAD on a diameter equals Euclidean AMSGrad in u = 2 artanh x -------------------
DIAMETER = np.array([[-0.3, 0.1, 0.6], [0.2, 0.7, 0.85], [-0.8, -0.5, 0.4]])
DIAMETER_START = np.array([0.9, -0.6, 0.0])
EXACT_KW = {"beta1": 0.9, "beta2": 0.99}


def diameter_problem():
    return FrechetBall.collinear(DIAMETER, BALL_DIM, DIAMETER_START, stochastic=False)


def euclidean_amsgrad_dist_sq(alpha, steps, beta1, beta2, eps=1e-8):
    """Σ_k (u_k − ū_k)² along AMSGrad without bias correction on f(u) = Σ_k mean_j (u_k − u_kj)², ∇f = 2(u − ū)."""
    u_anchor = 2.0 * np.arctanh(DIAMETER)
    centre = u_anchor.mean(axis=1)
    u = 2.0 * np.arctanh(DIAMETER_START)
    m = np.zeros_like(u)
    v = np.zeros_like(u)
    v_hat = np.zeros_like(u)
    out = [float(np.sum((u - centre) ** 2))]
    for t in range(steps):
        g = 2.0 * (u - centre)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_hat = np.maximum(v_hat, v)
        u = u - alpha / np.sqrt(t + 1.0) * m / (np.sqrt(v_hat) + eps)
        out.append(float(np.sum((u - centre) ** 2)))
    return np.array(out)


def exact_experiment(s, ctx):
    T = s["exact_steps"]
    return ctx.simulate(diameter_problem(), ramsgrad(s["exact_alpha"], **EXACT_KW), T, 1,
                        metrics={"geodesic_dist_sq": geodesic_dist_sq}, record=np.arange(T + 1))


FLOOR = 1e-12  # squared geodesic distance below which the comparison stops


def resolved_until(reference, floor):
    """The last step before the reference curve first falls below ``floor`` (all steps if it never does)."""
    below = np.flatnonzero(reference < floor)
    return int(below[0] - 1) if below.size else reference.size - 1


def check_exact(trace, s, alpha_factor=1.0):
    ref = euclidean_amsgrad_dist_sq(s["exact_alpha"] * alpha_factor, s["exact_steps"], **EXACT_KW)
    # stop before d² first falls below 1e-12 (d ~ 1e-6: the rounding of artanh of a Möbius difference)
    return cs.checks.Reference("geodesic_dist_sq", lambda t: ref[np.asarray(t, dtype=int)], rtol=1e-8,
                               decisive="all", window=(0, resolved_until(ref, FLOOR)),
                               what="Euclidean AMSGrad in u = 2 artanh x").check(trace)


# -- isometry invariance -------------------------------------------------------------------------------------------
def isometry_problems():
    rng = np.random.default_rng(5)
    K, m = 2, 5
    directions = rng.normal(size=(K, m, BALL_DIM))
    points = directions / np.linalg.norm(directions, axis=-1, keepdims=True) * rng.uniform(0.2, 0.8, (K, m, 1))
    x0 = np.array([[0.6, -0.2], [-0.1, 0.7]])
    Q = scipy.stats.special_ortho_group.rvs(BALL_DIM, random_state=1)
    return (FrechetBall(points, x0, stochastic=False),
            FrechetBall(points @ Q.T, x0 @ Q.T, stochastic=False))


def isometry_experiment(s, ctx):
    T = s["isometry_steps"]
    plain, rotated = isometry_problems()
    method = ramsgrad(0.3, beta1=0.9, beta2=0.99)
    return {name: ctx.simulate(p, method, T, 1, metrics=["value"], record="log")
            for name, p in (("original", plain), ("rotated", rotated))}


def check_isometry(runs, s):
    ref = runs["original"].values("value").mean(axis=0)
    grid = runs["original"].steps
    return cs.checks.Reference("value", lambda t: np.interp(t, grid, ref), rtol=1e-9, decisive="all",
                               what="the run on the unrotated configuration").check(runs["rotated"])


# -- staying on the manifold ---------------------------------------------------------------------------------------
def exit_runs(ctx, problem, makers, grid, steps, replicas, metric):
    """For each method maker and each step constant of the grid, a run recording ``metric`` (an exit metric:
    +inf once the iterate leaves the manifold, which the engine marks as divergence)."""
    return {name: {float(g): ctx.simulate(problem, make(g), steps, replicas, metrics={metric.__name__: metric},
                                          record=[0, steps]) for g in grid} for name, make in makers.items()}


def exit_check(runs, name, metric, vs, claimed=0.0, tolerance=0.1, at=None):
    """P(exit) <= claimed (+ tolerance) at every step constant of ``runs[name]`` (or only at ``at``)."""
    data = runs[name] if at is None else {at: runs[name][at]}
    return cs.checks.Event(claimed, bound="upper", event="diverged", metric=metric.__name__, tolerance=tolerance,
                           vs=vs).check(data)


def ball_experiment(s, ctx):
    makers = {"RAMSGRAD": lambda a: regret_method({**s, "alpha": a}),
              "Euclidean AMSGrad": lambda a: cs.methods.Adam(cs.schedules.inverse_sqrt(a), beta1=0.9, beta2=0.99,
                                                             amsgrad=True, bias_correction=False)}
    return exit_runs(ctx, regret_problem(s), makers, s["alphas"], s["event_steps"], s["event_replicas"],
                     max_component_norm)


def check_ball(runs, s):
    return exit_check(runs, "RAMSGRAD", max_component_norm, "alpha")


def check_ball_euclidean(runs, s):
    return exit_check(runs, "Euclidean AMSGrad", max_component_norm, "alpha", claimed=0.4, tolerance=0.0, at=0.5)


def spd_problem():
    Q = scipy.stats.special_ortho_group.rvs(4, random_state=0)
    return GaussianPrecision(Q @ np.diag(np.geomspace(0.2, 5.0, 4)) @ Q.T, stochastic=True)


def spd_experiment(s, ctx):
    makers = {"SPD momentum": lambda b: SPDMomentum(b, 0.9), "Euclidean momentum": lambda b: cs.methods.SGD(b, momentum=0.9)}
    return exit_runs(ctx, spd_problem(), makers, s["betas"], s["spd_steps"], s["event_replicas"], min_eigenvalue)


def check_spd(runs, s):
    return exit_check(runs, "SPD momentum", min_eigenvalue, "beta")


def check_spd_euclidean(runs, s):
    return exit_check(runs, "Euclidean momentum", min_eigenvalue, "beta", claimed=0.25, tolerance=0.0, at=0.005)


QUICK = {"components": 4, "alpha": 0.5, "steps": 1024, "replicas": 32, "exact_alpha": 0.3, "exact_steps": 200,
         "isometry_steps": 256, "alphas": [0.5, 1.0, 2.0], "event_steps": 100,
         "event_replicas": 64, "betas": [0.0025, 0.005, 0.01], "spd_steps": 200}
FULL = {**QUICK, "steps": 16384, "replicas": 64, "exact_steps": 1000, "isometry_steps": 2048, "event_steps": 2000,
        "event_replicas": 256, "spd_steps": 2000}
ASSUMPTIONS = ("product of K Poincare balls (curvature -1), geodesically convex losses d(x, y_j)^2",
               "alpha_t = alpha/sqrt(t), beta_1t = beta_1 lambda^(t-1), gamma = beta_1/sqrt(beta_2) < 1",
               "projection onto X is the identity (iterates stay in a compact geodesic ball)")

TRANSPORT_DROPPED = mu.set_field("transport", False, on=ON, name="momentum transport dropped")
EUCLIDEAN_GRADIENT = mu.set_field("riemannian", False, on=ON, name="Euclidean gradient instead of Riemannian")
RETRACTION = mu.set_field("exp", False, on=ON, name="exp map replaced by the projected retraction x + v")
COORDINATE = mu.set_field("adaptivity", "coordinate", on=ON, name="one second moment per ambient coordinate")
CONSTANT_STEP = mu.custom("constant step alpha (no 1/sqrt t)", lambda sch: cs.schedules.constant(sch.c),
                          on="inverse_sqrt")
QUARTER_STEP = mu.custom("step alpha/t^(1/4)", lambda sch: cs.schedules.power_decay(sch.c, 0.25, sch.t0),
                         on="inverse_sqrt")
SAME_LIMIT = "converges to the same point at the same rate: the regret exponent cannot see it; the exact companion does"

claim = cs.Claim(
    id="riemannian-adaptive",
    family="first-order",
    statement="RAMSGRAD (alpha/sqrt t, beta_1t = 0.9 * 0.999^(t-1), beta_2 = 0.99) on online Frechet losses over a "
              "product of 4 Poincare balls: average regret R_T/T = O(T^(-1/2))",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=regret_experiment, check=check_regret, quick=QUICK, full=FULL,
    mutations=(CONSTANT_STEP,
               QUARTER_STEP.blind("at T = 1024 the initial-distance part of the regret still dominates the window, so "
                                  "alpha/t^(1/4) also fits below -0.4 (caught only as inconclusive on the 16 PCG64 "
                                  "replicas of the first version); the geodesic companion catches it"),
               TRANSPORT_DROPPED.blind(SAME_LIMIT), EUCLIDEAN_GRADIENT.blind(SAME_LIMIT), RETRACTION.blind(SAME_LIMIT)),
)

NEAR_MISS = -0.85
negative = claim.negative_control(
    f"RAMSGRAD's average regret decays as T^{NEAR_MISS:g} (the measured exponent moved by the tolerance plus a "
    "little over the interval's half-width; false)", lambda series, s: check_regret(series, s, NEAR_MISS))

exact = cs.Claim(
    id="riemannian-adaptive-euclidean",
    family="first-order",
    statement="on a geodesic (anchors and start on one diameter of each ball) RAMSGRAD equals Euclidean AMSGrad in "
              "the arc-length coordinate u = 2 artanh x: the squared geodesic distance to the exact Frechet mean "
              "agrees at every step (rtol 1e-8)",
    source=SOURCE, assumptions=ASSUMPTIONS + ("exact gradients",), experiment=exact_experiment, check=check_exact,
    quick=QUICK, full=FULL, sharpens="riemannian-adaptive",
    mutations=(TRANSPORT_DROPPED, EUCLIDEAN_GRADIENT, RETRACTION, mu.scale("beta2", 0.999 / 0.99, on=ON),
               CONSTANT_STEP, QUARTER_STEP,
               COORDINATE.blind("on a diameter only one ambient coordinate moves: per-coordinate and per-manifold "
                                "second moments coincide (the isometry claim catches it)")),
)

STEP_OFF = 1e-6
exact_negative = exact.negative_control(
    f"on the geodesic RAMSGRAD equals Euclidean AMSGrad with the step alpha (1 + {STEP_OFF:g}) / sqrt t (false by a "
    "relative 1e-6 in the step, which the rtol 1e-8 comparison resolves)",
    lambda trace, s: check_exact(trace, s, alpha_factor=1.0 + STEP_OFF))


isometry = cs.Claim(
    id="riemannian-adaptive-isometry",
    family="first-order",
    statement="RAMSGRAD is intrinsic: rotating anchors and start by an orthogonal Q (an isometry of the ball) leaves "
              "the loss curve F(x_t) unchanged (rtol 1e-9)",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=isometry_experiment, check=check_isometry, quick=QUICK,
    full=FULL, sharpens="riemannian-adaptive",
    mutations=(COORDINATE,
               RETRACTION.blind("x + v and the radial projection commute with rotations: the retraction is intrinsic "
                                "under this isometry too"),
               TRANSPORT_DROPPED.blind("the ambient momentum vector rotates with the configuration")),
)

ball = cs.Claim(
    id="riemannian-adaptive-ball",
    family="first-order",
    statement="RAMSGRAD's iterates never leave the Poincare ball: P(max_k ||x_k|| >= 1 within T steps) <= 0.1 at "
              "every alpha in {0.5, 1, 2}",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=ball_experiment, check=check_ball, quick=QUICK, full=FULL,
    mutations=(mu.custom("RAMSGRAD replaced by Euclidean AMSGrad on the ball's coordinates",
                         lambda m: cs.methods.Adam(m.step_size, beta1=m.beta1, beta2=m.beta2, amsgrad=True,
                                                   bias_correction=False), on=ON),
               RETRACTION.blind("the projected retraction pulls every step back inside the ball by construction")),
)

ball_negative = ball.negative_control(
    "Euclidean AMSGrad with the same steps on the ball's coordinates leaves the ball in at most 40% of the runs at "
    "alpha = 0.5 (false: 67% measured)", check_ball_euclidean)

spd = cs.Claim(
    id="spd-momentum-pd",
    family="first-order",
    statement="SPD momentum in generalized normal coordinates (A <- A h(-beta mu), h(M) = I + M + M^2/2) keeps "
              "S = A A^T positive definite: P(S_t leaves the cone within T steps) <= 0.1 at every beta",
    source=SOURCE_SPD,
    assumptions=("f(S) = tr(S Sigma)/2 - log det S/2, stochastic gradients (z z^T - S^-1)/2", "momentum 0.9",
                 "constant steps beta in {0.0025, 0.005, 0.01}"),
    experiment=spd_experiment, check=check_spd, quick=QUICK, full=FULL,
    mutations=(mu.custom("SPD momentum replaced by Euclidean heavy-ball momentum on the entries",
                         lambda m: cs.methods.SGD(m.step_size, momentum=m.momentum), on="SPDMomentum"),
               mu.set_field("update", "additive", on="SPDMomentum", name="first-order step S <- A (I - beta mu) A^T")
               .blind("at these steps beta * lambda_max(mu) < 1, so the first-order step stays positive definite; "
                      "spd-momentum-exact catches it")),
)

spd_negative = spd.negative_control(
    "Euclidean heavy-ball momentum with the same steps leaves the SPD cone in at most 25% of the runs at beta = 0.005 "
    "(false: 50% measured)", check_spd_euclidean)


# -- SPD momentum, exactly: with Σ = Q diag(σ) Qᵀ and S_0 = I every factor is A = Q diag(a) Qᵀ ------------------------
SPD_EIGENVALUES = np.geomspace(0.2, 5.0, 4)
SPD_FLOOR = 1e-8


def spd_scalar_recursion(beta, momentum, steps):
    """‖S_t − Σ⁻¹‖²_F of SPD momentum on f(S) = ½ tr(SΣ) − ½ log det S from S_0 = I, per eigen-direction of Σ:
    the local gradient Aᵀ G A = ½(σ a² − 1), μ ← α μ + ½(σ a² − 1), a ← a (1 − βμ + β²μ²/2); S* = Σ⁻¹."""
    sigma, a, mu = SPD_EIGENVALUES, np.ones(SPD_EIGENVALUES.size), np.zeros(SPD_EIGENVALUES.size)
    out = [float(np.sum((a ** 2 - 1 / sigma) ** 2))]
    for _ in range(steps):
        mu = momentum * mu + 0.5 * (sigma * a * a - 1.0)
        M = -beta * mu
        a = a * (1.0 + M + M * M / 2.0)
        out.append(float(np.sum((a ** 2 - 1 / sigma) ** 2)))
    return np.array(out)


def spd_exact_experiment(s, ctx):
    Q = scipy.stats.special_ortho_group.rvs(4, random_state=0)
    p = GaussianPrecision(Q @ np.diag(SPD_EIGENVALUES) @ Q.T)
    T = s["spd_exact_steps"]
    return ctx.simulate(p, SPDMomentum(s["spd_exact_beta"], 0.9), T, 1, metrics=["dist_sq"], record=np.arange(T + 1))


def check_spd_exact(trace, s, beta_factor=1.0):
    ref = spd_scalar_recursion(s["spd_exact_beta"] * beta_factor, 0.9, s["spd_exact_steps"])
    # entries of S are O(1) and its 4x4 products round at ~1e-15: stop where ||S - S*||^2 < 1e-8 (relative
    # rounding of the distance then below 1e-8); re-specified after the first run failed at 4.6e-14
    return cs.checks.Reference("dist_sq", lambda t: ref[np.asarray(t, dtype=int)], rtol=1e-8, decisive="all",
                               window=(0, resolved_until(ref, SPD_FLOOR)), what="per-eigenvalue scalar recursion").check(trace)


QUICK.update(spd_exact_beta=0.05, spd_exact_steps=300)
FULL.update(spd_exact_beta=0.05, spd_exact_steps=1000)

spd_exact = cs.Claim(
    id="spd-momentum-exact",
    family="first-order",
    statement="SPD momentum on the Gaussian precision problem from S_0 = I (Sigma = Q diag(sigma) Q^T) equals the "
              "per-eigenvalue scalar recursion and converges to the closed-form S* = Sigma^-1: ||S_t - S*||_F^2 "
              "agrees at every step (rtol 1e-8)",
    source=SOURCE_SPD,
    assumptions=("f(S) = tr(S Sigma)/2 - log det S/2, exact gradients", "S_0 = I: every factor commutes with Sigma",
                 "momentum 0.9, beta = 0.05"),
    experiment=spd_exact_experiment, check=check_spd_exact, quick=QUICK, full=FULL, sharpens="spd-momentum-pd",
    mutations=(mu.set_field("update", "additive", on="SPDMomentum", name="first-order step S <- A (I - beta mu) A^T"),
               mu.set_field("momentum", 0.0, on="SPDMomentum", name="momentum dropped"),
               mu.scale("step_size", 1.01, on="SPDMomentum"),
               mu.custom("SPD momentum replaced by Euclidean heavy-ball momentum on the entries",
                         lambda m: cs.methods.SGD(m.step_size, momentum=m.momentum), on="SPDMomentum")),
)

spd_exact_negative = spd_exact.negative_control(
    f"the run equals the scalar recursion with the step beta (1 + {STEP_OFF:g}) (false by a relative 1e-6 in the step)",
    lambda trace, s: check_spd_exact(trace, s, beta_factor=1.0 + STEP_OFF))
