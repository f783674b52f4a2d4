"""oomd-sea: optimistic OMD in the SEA model — regret in terms of σ²_{1:T} and Σ²_{1:T}.

Source [S11]: S. Chen, Y.-J. Zhang, W.-W. Tu, P. Zhao & L. Zhang, "Optimistic Online Mirror
Descent for Bridging Stochastic and Adversarial Online Convex Optimization", ICML 2023 /
arXiv:2302.04552, the static-regret theorems for the three function classes (stated in its
abstract): with the last gradient as hint, optimistic OMD has expected regret

  * convex, smooth expected losses:        O(√σ²_{1:T} + √Σ²_{1:T});
  * λ-strongly convex and smooth:          O((σ²_max + Σ²_max)/λ · log((σ²_{1:T} + Σ²_{1:T})/(σ²_max + Σ²_max)));
  * α-exp-concave and smooth:              O(d/α · log(σ²_{1:T} + Σ²_{1:T})),

where σ²_{1:T} is the cumulative stochastic variance and Σ²_{1:T} the cumulative adversarial
variation of the SEA model of Sachs, Hadiji, van Erven & Guzmán (arXiv:2202.07554).

What is tested: the dependence on σ²_{1:T} and Σ²_{1:T} (exponents and log laws), not the
constants: the theorems' exact step sizes and constants could not be read from the stored
text (only the abstracts), so the learners use the forms of the analyses with constants of
our choosing — convex: η_t = min{1/(4L), D/√(1 + Σ_{s<t}‖g_s − M_s‖²)}; strongly convex:
η_t = 1/(λt); exp-concave: optimistic ONS (Chiang et al. 2012) with γ = ½ min{1/(GD), α},
ε = 1/(γ²D²) (Hazan's ONS tuning).

Setting (cs.online.SEAQuadratic): f_t(x) = ½‖x‖² + ⟨m + u_t + ξ_t, x⟩ on the unit ball of R²
(L = λ = 1, D = 2, α = 1/G² with G the exact gradient bound), m = (−0.3, 0.2); u_t an
oblivious adversary flipping sign every round with ‖u_t − u_{t−1}‖² = 4ρ²; ξ_t bounded random
signs with E‖ξ_t‖² = σ². σ²_{1:T} = Tσ² and Σ²_{1:T} = 4ρ²(T − 1) exactly.

  * ``oomd-sea`` (convex): regret at horizon T against σ²_{1:T} swept from T/128 to 2T with
    Σ²_{1:T} = 0: exponent ≤ ½.  ``oomd-sea-adv``: against Σ²_{1:T} with σ²_{1:T} = 1 (held
    small): exponent ≤ ½.  The quadratic is also strongly convex, but the learner's step does
    not use it, so its regret really grows as √σ²_{1:T} here (an honest test of the rate).
  * ``oomd-sea-sc``: one run with σ_t² = Σ_t² = 1; regret at checkpoints against
    V_t = σ²_{1:t} + Σ²_{1:t} is O(log V) (log-law fit: exponent ≤ 0 after dividing by log V).
  * ``oomd-sea-expconcave``: the same with σ_t² = Σ_t² = ¼ and optimistic ONS; only the log law in
    V is tested (d = 2 fixed): with isotropic quadratics the factor d/α cannot be varied alone,
    since α = a/G² moves with d.

Mutations (issue #11; fields: ``Adaptive.D`` is the regularizer's scale — η ∝ D, so D ×¼ is the
regularizer ×4 — and ``OptimisticOMD.optimistic=False`` drops the hint).  ``oomd-sea`` catches
the adaptive step replaced by the constant 1/(4L) (exponent ≈ 0.98: a fixed step cannot follow
σ²_{1:T}).  The hint dropped (≈ 0.69 at quick settings) and the regularizer ÷4 (step ×4: ≈ 0.82)
fail the check at T = 2048 but pass it at T = 16384: with x* interior ∇F(x*) = 0, so plain OMD's
step, adapted to Σ‖g_s‖² ≈ σ²_{1:T} + O(1), also gives O(√σ²_{1:T}), and a step ×4 moves only the
constant — declared blind (measured at full settings, after they had been declared caught); a
regularizer ×4 lowers the regret on this strongly convex quadratic (blind).  ``oomd-sea-adv`` catches the constant step; with a sign flip every round the
last gradient is a poor hint, so dropping it does not raise the exponent, and a constant factor
in the step moves only the regret's constant (blind).  ``oomd-sea-sc`` catches η_t = 1/(4λt)
(below the 1/(2λ) threshold the regret is polynomial) and a constant step; η_t = 4/(λt) and the
dropped hint keep O(log T) (blind).  ``oomd-sea-expconcave`` catches ONS's ε ×4 and, at these
horizons, the dropped hint (plain ONS also has O(log T) regret asymptotically: what is caught is
its slower approach to the log law in the window); γ ×4 keeps the log law (blind).
Disclosure: the σ²_{1:T} sweep of ``oomd-sea`` first ran over 2^10 … 2^16 at T = 2048 (per-round
noise ½ … 32, iterates pinned by the unit ball, where even a constant step fitted exponent < ½:
the auditor's finding); it now runs over T/128 … 2T (2^4 … 2^12 quick, 2^7 … 2^15 full), where the
adaptive step leaves the 1/(4L) cap — chosen after seeing the constant step pass; the statement
and tolerance are unchanged, the fitted exponent is 0.54 (was 0.46).

Negative controls (near misses): for the convex sweeps, "regret O((σ²)^0.35)" and
"O((Σ²)^0.35)" — an exponent below the true ½ by more than the tolerance 0.1; for the curved
classes, "curvature helps only polynomially: regret Ω(V^¼)" (strongly convex) and "Ω(V^0.35)"
(exp-concave), false against the measured log laws (fitted exponents 0.12 and 0.22 without the
log correction; they replace the earlier Ω(√V) controls, 0.3–0.4 away).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu

SOURCE = cs.Source("Optimistic Online Mirror Descent for Bridging Stochastic and Adversarial Online Convex "
                   "Optimization (Chen, Zhang, Tu, Zhao & Zhang, ICML 2023)", "2302.04552",
                   "static-regret theorems for convex / strongly convex / exp-concave smooth functions (abstract)")
M = (-0.3, 0.2)
ASSUMPTIONS = ("SEA model: f_t ~ D_t, F_t = E f_t smooth", "bounded domain (unit ball, D = 2)",
               "bounded gradients", "oblivious adversary", "last gradient as hint")


def _ball():
    return cs.online.Ball(2, 1.0)


def _convex_learner():
    return cs.online.OptimisticOMD(cs.online.Adaptive(D=2.0, delta=1.0, cap=0.25))  # cap 1/(4L), L = 1


def sweep_experiment(over):
    def experiment(s, ctx):
        T = s["rounds"]

        def run(**point):
            v = point[over]
            totals = (v, 0.0) if over == "sigma2" else (s["held"], v)
            losses = cs.online.SEAQuadratic.tuned(_ball(), T, *totals, a=1.0, m=M)
            return cs.online.run(ctx, losses, _convex_learner(), T, s["replicas"], record=[T])

        return ctx.sweep(run, {over: [float(2.0**k) for k in range(*s["log2_range"])]})

    return experiment


def _exponent(over, claimed, **kw):
    return lambda data, s: cs.checks.Exponent("regret", claimed, vs=over, window=(0, np.inf), **kw).check(data)


# sigma^2 sweep from T/128 to 2T: per-round noise 1/128 .. 2 (see the docstring's disclosure)
SIGMA_QUICK = {"rounds": 2048, "replicas": 64, "log2_range": (4, 13, 2), "held": 1.0}
SIGMA_FULL = {"rounds": 16384, "replicas": 256, "log2_range": (7, 16), "held": 1.0}
ADV_QUICK = {"rounds": 2048, "replicas": 64, "log2_range": (10, 17, 2), "held": 1.0}
ADV_FULL = {"rounds": 16384, "replicas": 256, "log2_range": (12, 20), "held": 1.0}

CONSTANT_STEP = mu.custom("constant step 1/(4L)", lambda a: cs.schedules.constant(a.cap), on="Adaptive")
NO_HINT = mu.set_field("optimistic", False, name="hint dropped (plain OMD)")
REG_X4 = mu.scale("D", 0.25, name="regularizer x4 (step /4)")
REG_D4 = mu.scale("D", 4.0, name="regularizer /4 (step x4)")
CONSTANT_FACTOR = "an exponent test cannot see a constant factor in the regret"


def _convex_claim(id, over, statement, quick, full, mutations):
    return cs.Claim(id=id, family="online", statement=statement, source=SOURCE,
                    assumptions=ASSUMPTIONS + ("convex and smooth expected losses",),
                    experiment=sweep_experiment(over), check=_exponent(over, 0.5, bound="upper"),
                    quick=quick, full=full, mutations=mutations)


claim = _convex_claim(
    "oomd-sea", "sigma2", "optimistic OMD, convex smooth losses in the SEA model: regret "
    "O(sqrt(sigma^2_{1:T}) + sqrt(Sigma^2_{1:T})); exponent in sigma^2_{1:T} <= 1/2 with Sigma^2_{1:T} = 0",
    SIGMA_QUICK, SIGMA_FULL,
    (CONSTANT_STEP,
     NO_HINT.blind("x* is interior, so sum |g_t|^2 ~ sigma^2_{1:T} + O(1) and plain OMD's step adapts to sigma^2 too: "
                   "caught at quick settings (exponent 0.69, pre-asymptotic), not at full"),
     REG_D4.blind(CONSTANT_FACTOR + " (caught at quick settings, 0.82, not at full: pre-asymptotic)"),
     REG_X4.blind("smaller steps lower the regret on this strongly convex quadratic: an upper bound cannot see it")))
negative = claim.negative_control(
    "the convex-smooth learner's regret is O((sigma^2_{1:T})^0.35) (false: it grows as sqrt)",
    _exponent("sigma2", 0.35, bound="upper"),
)

claim_adv = _convex_claim(
    "oomd-sea-adv", "Sigma2", "optimistic OMD, convex smooth losses in the SEA model: exponent "
    "of the regret in Sigma^2_{1:T} <= 1/2 with sigma^2_{1:T} held at 1", ADV_QUICK, ADV_FULL,
    (CONSTANT_STEP,
     NO_HINT.blind("with a sign flip every round the last gradient is a poor hint (|g_t - g_{t-1}| ~ 2 rho): "
                   "dropping it does not raise the regret's exponent"),
     REG_X4.blind(CONSTANT_FACTOR)))
negative_adv = claim_adv.negative_control(
    "the convex-smooth learner's regret is O((Sigma^2_{1:T})^0.35) (false: it grows as sqrt)",
    _exponent("Sigma2", 0.35, bound="upper"),
)


def curved_experiment(learner_of):
    def experiment(s, ctx):
        T, v = s["rounds"], s["per_round"]
        losses = cs.online.SEAQuadratic.tuned(_ball(), T, v * T, v * (T - 1), a=1.0, m=M)
        trace = cs.online.run(ctx, losses, learner_of(losses), T, s["replicas"])
        return cs.online.against(trace, "regret", "variation")  # regret against V_t = σ²_{1:t} + Σ²_{1:t}

    return experiment


def _log_law(claimed, **kw):
    def check(series, s):
        V = series.x[-1]
        return cs.checks.Exponent("regret", claimed, vs="variation", window=(V / s["window"], V), **kw).check(series)

    return check


claim_sc = cs.Claim(
    id="oomd-sea-sc",
    family="online",
    statement="optimistic OMD (eta_t = 1/(lambda t)), strongly convex smooth losses in the SEA model: "
              "regret O(log(sigma^2_{1:T} + Sigma^2_{1:T}))",
    source=SOURCE,
    assumptions=ASSUMPTIONS + ("lambda-strongly convex, smooth expected losses", "sigma_t^2 = Sigma_t^2 = 1"),
    experiment=curved_experiment(lambda losses: cs.online.OptimisticOMD(cs.schedules.inverse_time(1.0, 1.0))),
    check=_log_law(0.0, bound="upper", log_power=1.0),
    quick={"rounds": 4096, "replicas": 128, "per_round": 1.0, "window": 16},
    full={"rounds": 65536, "replicas": 256, "per_round": 1.0, "window": 64},
    mutations=(mu.scale("c", 0.25, name="step 1/(4 lambda t)"),
               mu.custom("constant step 1/4", lambda sch: cs.schedules.constant(0.25), on="inverse_time"),
               mu.scale("c", 4.0, name="step 4/(lambda t)").blind(
                   "eta_t = c/(lambda t) with c >= 1 keeps O(log T) regret (a larger constant)"),
               NO_HINT.blind("plain OGD with eta_t = 1/(lambda t) has O(log T) regret too (Hazan, Agarwal & Kale "
                             "2007): the log law cannot see the hint")),
)

negative_sc = claim_sc.negative_control(
    "strong convexity helps only polynomially: regret Omega((sigma^2_{1:T} + Sigma^2_{1:T})^0.25) (false)",
    _log_law(0.25, bound="lower"),
)


def _optimistic_ons(losses):
    G = losses.gradient_bound()
    return cs.online.ONS.tuned(alpha=losses.a / G**2, G=G, D=losses.domain.diameter, optimistic=True)


claim_exp = cs.Claim(
    id="oomd-sea-expconcave",
    family="online",
    statement="optimistic OMD with the ONS regularizer, exp-concave smooth losses in the SEA model: "
              "regret O(d log(sigma^2_{1:T} + Sigma^2_{1:T}))",
    source=SOURCE,
    assumptions=ASSUMPTIONS + ("alpha-exp-concave, smooth losses (alpha = a/G^2)", "d = 2",
                               "sigma_t^2 = Sigma_t^2 = 1/4"),
    experiment=curved_experiment(_optimistic_ons),
    check=_log_law(0.0, bound="upper", log_power=1.0),
    quick={"rounds": 4096, "replicas": 64, "per_round": 0.25, "window": 4},  # the log law is asymptotic
    full={"rounds": 32768, "replicas": 128, "per_round": 0.25, "window": 16},
    mutations=(mu.scale("epsilon", 4.0, name="regularizer epsilon x4"),
               mu.set_field("optimistic", False, name="hint dropped (plain ONS)"),
               mu.scale("gamma", 4.0).blind("ONS keeps an O(log T) law for any fixed gamma; only its constant moves")),
)

negative_exp = claim_exp.negative_control(
    "exp-concavity helps only polynomially: regret Omega((sigma^2_{1:T} + Sigma^2_{1:T})^0.35) (false)",
    _log_law(0.35, bound="lower"),
)
