"""sqrt-scaling: the square-root scaling rule keeps Adam's loss-vs-samples curve invariant when
the batch grows by κ; the linear rule does so for SGD; the swapped rules do not.

Source: S. Malladi, K. Lyu, A. Panigrahi & S. Arora, "On the SDEs and Scaling Rules for
Adaptive Gradient Algorithms", NeurIPS 2022, arXiv:2205.10287, Sec. 5 (square-root
scaling rule, SRSR): when the batch size is multiplied by κ, set η → √κ η,
1 − β_i → κ(1 − β_i) and ε → ε/√κ; this leaves σ0 = ση, ε0 = εη and c_i = (1 − β_i)/η²
of the Adam SDE unchanged (σ ∝ 1/√B), so Adam follows the same SDE per sample.  SGD's
linear scaling rule η → κη (Goyal et al. 2017; the paper's Sec. 5 recalls its SDE
derivation) keeps η/B and hence SGD's SDE per sample.  The rule is stated
for the regime where the SDE approximation holds (small η, noise-dominated
gradients); the authors' blog restates the rule identically.

Setting: a 4-d quadratic (eigenvalues 1 ... 0.1, geometric), isotropic Gaussian gradient
noise with per-sample standard deviation 1 (covariance I/B for batch B), started at
distance r0 = 1 from x* so the noise dominates (the rule's regime), κ ∈ {1, 2, 4, 8},
base batch 1.  Base Adam: η = 0.01, β1 = 0.98, β2 = 0.995, ε = 1e-3; base SGD: η = 0.02.
Each run sees the same number N of samples (N/κ steps of batch κ); the loss is recorded
at N/8, N/4, N/2, N samples.  At each checkpoint n the statistic of a
replica at κ is f(x_n)/F_1(n), with F_1 the mean curve at κ = 1, so a curve equal to the
base curve has mean 1 at every κ.
Checked: at every checkpoint, the exponent of that ratio in κ is 0 (tight, tolerance 0.05:
at κ = 8 the curve stays within about ±11% of the base curve); the verdict is the worst
over checkpoints (any violated → violated), so a curve that crosses the base curve
cannot pass on average.  The figure shows the ratio after N samples against κ
(figures/sqrt-scaling-curves.png, from experiments/sde/_curves.py, shows the curves).
Negative controls (wrong rules, near misses): Adam under the square-root rule for η and ε
with the β_i kept (the √κ learning-rate rule alone; measured worst exponent ≈ 0.30 quick,
0.13 full) and SGD under η → κ^0.75 η (≈ −0.24 quick) change the curve: exponent 0 is
violated.  (SGD's control was the square-root rule until issue #11: margin −0.46 quick but
−0.51 at full settings, a [far control]; it is now a caught mutation.)
(Until issue #11 Adam's control was the linear rule, margin 0.54: now a caught mutation.)
Mutations: the rule is a convsim.sde.ScalingRule (exponents of κ for η, 1 − β_i and ε)
passed through the context, so a mutation rewrites the rule itself.  Caught for Adam: η
scaled linearly, the β_i not rescaled, the whole linear rule; for SGD: the square-root rule
and η → κ^0.75 η.  Blind: ε not rescaled (ε = 1e-3 ≪ √v here) and a step change common to
every κ (it moves the base curve too).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu

NEEDS_FLOAT64 = "the scaling-rule exponents are resolved to their tolerance on the float64 sample only"

SOURCE = cs.Source("On the SDEs and Scaling Rules for Adaptive Gradient Algorithms", "2205.10287",
                   "Sec. 5: square-root scaling rule for RMSprop/Adam; linear scaling rule for SGD")

KAPPAS = (1, 2, 4, 8)


def problem_for(s, kappa):
    return cs.problems.Quadratic(cs.spectra.geometric(s["d"], L=1.0, mu=0.1), noise=cs.noise.Gaussian(1.0),
                                 batch_size=kappa, r0=s["r0"])


def method_for(kind, rule, s, kappa):
    """Adam or SGD for batch multiplier kappa, its hyperparameters from the base ones by ``rule`` (a ScalingRule)."""
    if kind == "adam":
        hp = rule.apply(kappa, s["adam_eta"], beta1=s["beta1"], beta2=s["beta2"], eps=s["eps"])
        return cs.methods.Adam(hp["eta"], beta1=hp["beta1"], beta2=hp["beta2"], eps=hp["eps"])
    return cs.methods.SGD(rule.apply(kappa, s["sgd_eta"])["eta"])


def curve_ratios(kind, rule):
    def experiment(s, ctx):
        N = s["samples"]
        marks = [N >> j for j in range(3, -1, -1)]  # N/8, N/4, N/2, N samples
        runs, scaling = [], ctx.mutate(rule)  # the rule is under test: a mutation may rewrite its exponents
        for kappa in KAPPAS:
            tr = ctx.simulate(problem_for(s, kappa), method_for(kind, scaling, s, kappa), N // kappa,
                              replicas=s["replicas"], metrics=["suboptimality"], record=[n // kappa for n in marks])
            runs.append(tr.values("suboptimality")[:, -len(marks):])
        base = runs[0].mean(axis=0)
        ratios = np.stack([v / base for v in runs], axis=1)  # (R, kappas, checkpoints)
        kappas, healthy = np.array(KAPPAS, float), np.full(ratios.shape[0], -1)
        per_mark = [cs.Series(kappas, ratios[:, :, j], "kappa", "curve_ratio", healthy, {"samples": n})
                    for j, n in enumerate(marks)]
        # The returned series (and the figure) is the ratio after all N samples; the check decides at every
        # checkpoint, from the per-checkpoint series (the verdict's fit line is that of the worst checkpoint).
        return cs.Series(kappas, ratios[:, :, -1], "kappa", "curve_ratio", healthy,
                         {"samples": N, "per_checkpoint": per_mark})
    return experiment


def invariant(data, s):
    """Exponent 0 in kappa at EVERY checkpoint: violated if any checkpoint violates it, consistent if all agree
    (so a rule whose curve crosses the base curve cannot pass by averaging)."""
    check = cs.checks.Exponent("curve_ratio", 0.0, bound="tight", vs="kappa", tolerance=0.05, window=(1.0, 8.0))
    per_mark = data.constants["per_checkpoint"]
    verdicts = [check.check(series) for series in per_mark]
    rank = {"violated": 0, "inconclusive": 1, "consistent": 2}
    worst = min(verdicts, key=lambda v: (rank[v.verdict], -abs(v.estimate or 0.0)))
    slopes = ", ".join(f"{series.constants['samples']}: {v.estimate:.3f}" for series, v in zip(per_mark, verdicts))
    worst.reason = f"{worst.reason}; worst of the exponents at each sample count ({slopes})"
    return worst


SETTINGS = {"d": 4, "r0": 1.0, "adam_eta": 0.01, "beta1": 0.98, "beta2": 0.995, "eps": 1e-3, "sgd_eta": 0.02}
QUICK = {**SETTINGS, "samples": 2048, "replicas": 2048}
FULL = {**SETTINGS, "samples": 8192, "replicas": 4096}
STATEMENT = "loss vs samples is invariant (exponent 0 in kappa) when the batch grows by kappa in {1, 2, 4, 8}"

ASSUMPTIONS = ("noise-dominated regime (start near x*)", "small eta (SDE regime)", "Gaussian gradient noise, Cov = I/B")


def rule_claim(cid, kind, rule, statement, negative_of=None, mutations=()):
    """One (method, rule) pair; the wrong pairs are the negative controls (expected violated)."""
    return cs.Claim(id=cid, family="sde", statement=statement + ": " + STATEMENT + (" (false)" if negative_of else ""),
                    source=SOURCE, assumptions=ASSUMPTIONS, experiment=curve_ratios(kind, rule), check=invariant,
                    quick=QUICK, full=FULL, expected="violated" if negative_of else "consistent",
                    negative_of=negative_of, mutations=mutations)


COMMON_STEP = "a step change common to every kappa moves the base curve too: the claim is invariance across kappa"
ADAM_MUTATIONS = (
    mu.set_field("eta_power", 1.0, on="ScalingRule", name="eta scaled linearly (kappa eta)"),
    mu.set_field("beta_power", 0.0, on="ScalingRule", name="betas not rescaled"),
    mu.compose(mu.set_field("eta_power", 1.0, on="ScalingRule"), mu.set_field("beta_power", 0.0, on="ScalingRule"),
               mu.set_field("eps_power", 0.0, on="ScalingRule"), name="linear rule (eta -> kappa eta, betas, eps kept)"),
    mu.set_field("eps_power", 0.0, on="ScalingRule", name="eps not rescaled").blind(
        "eps = 1e-3 is negligible next to sqrt(v) ~ 1/sqrt(B) here, so its scaling cannot show"),
    mu.scale("step_size", 2.0, on="Adam").blind(COMMON_STEP),
)
SGD_MUTATIONS = (
    mu.set_field("eta_power", 0.5, on="ScalingRule", name="square-root rule for SGD (sqrt(kappa) eta)"),
    mu.set_field("eta_power", 0.75, on="ScalingRule", name="eta -> kappa^0.75 eta"),
    mu.scale("step_size", 2.0, on="SGD").blind(COMMON_STEP),
)

claim = rule_claim("sqrt-scaling", "adam", cs.sde.SQUARE_ROOT,
                   "Adam under the square-root rule (eta -> sqrt(k) eta, 1-beta_i -> k(1-beta_i), eps -> eps/sqrt(k))",
                   mutations=ADAM_MUTATIONS)
sgd_linear = rule_claim("sqrt-scaling-sgd", "sgd", cs.sde.LINEAR, "SGD under the linear rule (eta -> k eta)",
                        mutations=SGD_MUTATIONS)
negative = rule_claim("sqrt-scaling-neg", "adam", cs.sde.ScalingRule(0.5, 0.0, -0.5, name="sqrt-lr-only"),
                      "Adam under the square-root rule for eta and eps with the betas kept (eta -> sqrt(k) eta, "
                      "eps -> eps/sqrt(k))", negative_of="sqrt-scaling")
sgd_negative = rule_claim("sqrt-scaling-sgd-neg", "sgd", cs.sde.ScalingRule(0.75, name="kappa^0.75-for-sgd"),
                          "SGD under the rule eta -> k^0.75 eta (between the square-root and linear rules)",
                          negative_of="sqrt-scaling-sgd")
