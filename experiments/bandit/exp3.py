"""exp3, exp3-meanfield: EXP3's weak regret against an oblivious adversary — Auer et al.'s bound,
and the exact drift of its weights on a table with one paying arm.

Source: P. Auer, N. Cesa-Bianchi, Y. Freund & R. E. Schapire, "The Nonstochastic
Multiarmed Bandit Problem", SIAM J. Computing 32(1), 2002 (as recalled; no full text was in
the stored material): Theorem 3.1, for any γ ∈ (0, 1] and g ≥ G_max,
G_max − E[G_Exp3] ≤ (e − 1) γ g + K ln K/γ, and Corollary 3.2, for
γ = min{1, √(K ln K/((e−1)g))},

    G_max − E[G_Exp3] ≤ 2√(e−1) √(g K ln K).

Setting: K = 5 arms; the oblivious table pays 1 on arm 0 and 0 elsewhere in every round, so
G_max = T = g exactly (the corollary's g is not loose); horizons T = 1000 … 2^(L−1)·1000, each
with its tuned γ; regret against the best fixed arm at the horizon.  Disclosure: the table was
first i.i.d. Bernoulli rewards with one arm 0.2 better; there the bound sat 1.75× above the
measured regret and a planted γ ×4 passed it (issue #11), so the deterministic table was chosen,
where the bound is decisive; the statement is unchanged.

``exp3`` checks Corollary 3.2 at every horizon (envelope in T).  Measured ratio ≈ 0.72; a γ ×¼
(the Hedge part's K ln K/γ ×4: ≈ 2.05× the bound), γ ×½ (≈ 1.11×) and γ ×4 (the exploration
cost ×4: ≈ 1.04–1.05×) cross it; γ ×2 (≈ 0.70×) cannot: the regret is flat in γ near its
minimum, which lies above γ*.

``exp3-meanfield`` (sharpens ``exp3``, same runs).  On this table the other arms' weights never
move and the paying arm's log-weight s_t gains γ x̂/K with x̂ = 1/p when pulled, so E[s_{t+1} − s_t]
= γ/K exactly and E[R_T] = Σ_t E[1 − p_t] with p_t = (1 − γ) e^{s_t}/(e^{s_t} + K − 1) + γ/K.  With
s_t replaced by its mean γt/K this is the reference

    R*(γ, T) = γ T (K − 1)/K + (1 − γ) Σ_{t<T} (K − 1)/(K − 1 + e^{γt/K}),

computed here in closed form from γ*(T) (never from the learner under test).  It neglects only the
spread of s_t around its mean (the increments' variance is (γ/K)² (1/p − 1)); it is our derivation
from the update of the paper's Fig. 1, not a statement of the paper.  The check: the mean over
horizons of R_T/R*(γ*, T) equals 1 within rtol 0.05 (``Level``, tight).  Disclosure: the 5 % band
was fixed after measuring the mean-field error, ≤ 0.7 % at every γ ∈ {¼, ½, 1, 2, 4}·γ* and
T ∈ {4000, 16000}, K ∈ {5, 10} (standard error 0.3–0.7 %).  A γ ×4, ×¼ or ×½ moves the regret by
1.4–2.8× against R*(γ*); γ ×2 moves it by ≈ 2 % only and is declared blind.

Negative controls: ``exp3-neg`` — the regret grows as O(T^0.4) (false: both terms of the regret
grow as √T; exponent 0.5 − 0.1, the checker's tolerance, below the truth); ``exp3-meanfield-neg``
— the reference with exploration cost γT (every exploring round lost, forgetting that uniform
exploration also pulls the paying arm with probability 1/K): ≈ 8 % above the measured regret,
against the 5 % band.
"""

import math

import numpy as np

import convsim as cs
from convsim import mutations as mu

SOURCE = cs.Source("The Nonstochastic Multiarmed Bandit Problem (Auer, Cesa-Bianchi, Freund & Schapire)",
                   venue="SIAM J. Comput. 32(1), 2002", doi="10.1137/S0097539701398375", theorem="Corollary 3.2")
MEANFIELD_SOURCE = cs.Source("The Nonstochastic Multiarmed Bandit Problem (Auer, Cesa-Bianchi, Freund & Schapire)",
                             venue="SIAM J. Comput. 32(1), 2002", doi="10.1137/S0097539701398375",
                             theorem="Fig. 1 (EXP3's update), mean drift of the paying arm's log-weight (derived)")
MEANFIELD_BAND = 0.05  # see the docstring's disclosure


def horizons(s):
    return [1000 * 2**k for k in range(s["levels"])]


def experiment(s, ctx):
    T_max, K = horizons(s)[-1], s["arms"]
    table = np.zeros((T_max, K))
    table[:, 0] = 1.0  # one arm pays 1 every round: G_max = T
    env = cs.bandits.AdversarialBandit(table)

    def run(T):
        learner = cs.bandits.EXP3(cs.bandits.EXP3.tuned_gamma(K, T))
        return ctx.simulate_bandit(env, learner, T, s["replicas"], record=[T])

    return ctx.sweep(run, {"T": horizons(s)})


def meanfield_regret(K: int, T: int, exploration: float = None) -> float:
    """R*(γ*, T) of the docstring, γ* = Corollary 3.2's γ; ``exploration`` replaces (K − 1)/K."""
    gamma = min(1.0, math.sqrt(K * math.log(K) / ((math.e - 1) * T)))
    t = np.arange(T)
    hedge = (1 - gamma) * np.sum((K - 1) / (K - 1 + np.exp(gamma * t / K)))
    return gamma * T * ((K - 1) / K if exploration is None else exploration) + float(hedge)


def ratio_experiment(s, ctx):
    """The measured regret over R*(γ*, T) — and over the control's reference (exploration cost γT)."""
    series = experiment(s, ctx).series("regret", over="T")

    def ratio(metric, exploration):
        ref = np.array([meanfield_regret(s["arms"], int(T), exploration) for T in series.x])
        return cs.Series(series.x, series.values / ref[None, :], "T", metric, series.diverged_at,
                         dict(series.constants))

    return {"reference": ratio("regret_ratio", None), "control": ratio("regret_ratio_full_exploration", 1.0)}


def meanfield_check(metric):
    return lambda data, s: cs.checks.Level(metric, 1.0, bound="tight", rtol=MEANFIELD_BAND,
                                           window=(0, math.inf)).check(data["reference" if metric == "regret_ratio"
                                                                             else "control"])


FLAT = "the regret is flat in gamma near its minimum (above gamma*): a factor 2 moves it by ~2%"

claim = cs.Claim(
    id="exp3",
    family="bandit",
    statement="EXP3 with gamma = min(1, sqrt(K ln K/((e-1) g))): G_max - E G_Exp3 <= 2 sqrt(e-1) sqrt(g K ln K), g = T",
    source=SOURCE,
    assumptions=("oblivious adversary", "rewards in [0, 1]", "g = T = G_max", "gamma tuned per horizon"),
    experiment=experiment,
    check=lambda sweep, s: cs.checks.Envelope("regret", "2*sqrt(exp(1) - 1)*sqrt(T*K*log(K))", vs="T").check(sweep),
    quick={"arms": 5, "levels": 4, "replicas": 128},
    full={"arms": 5, "levels": 7, "replicas": 256},
    mutations=(mu.scale("gamma", 0.25), mu.scale("gamma", 0.5), mu.scale("gamma", 4.0),
               mu.scale("gamma", 2.0).blind(FLAT + "; the bound sits 1.4x above it")),
)

negative = claim.negative_control(
    "EXP3's weak regret grows only as O(T^0.4) (false: it grows as sqrt(T))",
    lambda sweep, s: cs.checks.Exponent("regret", 0.4, bound="upper", vs="T", window=(0, np.inf)).check(sweep),
)

meanfield = cs.Claim(
    id="exp3-meanfield",
    family="bandit",
    statement="EXP3 (tuned gamma) on a table where one arm always pays 1: E[R_T] = gamma T (K-1)/K + "
              "(1-gamma) sum_{t<T} (K-1)/(K-1+exp(gamma t/K)) within 5%, averaged over the horizons",
    source=MEANFIELD_SOURCE,
    assumptions=("oblivious adversary", "one arm pays 1, the others 0", "gamma tuned per horizon",
                 "the log-weight replaced by its exact mean drift"),
    experiment=ratio_experiment,
    check=meanfield_check("regret_ratio"),
    quick=claim.quick,
    full=claim.full,
    mutations=(mu.scale("gamma", 4.0), mu.scale("gamma", 0.25), mu.scale("gamma", 0.5),
               mu.scale("gamma", 2.0).blind(FLAT)),
    sharpens="exp3",
)

meanfield_negative = meanfield.negative_control(
    "the same reference with exploration cost gamma T (false: uniform exploration also pulls the paying arm)",
    meanfield_check("regret_ratio_full_exploration"),
)
