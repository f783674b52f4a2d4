"""heavy-tail-sde: the Wasserstein stability bound of heavy-tailed (α-stable) SGD is non-monotonic in α
(expected: inconclusive, by design).

Source [S49]: A. Raj, L. Zhu, M. Gürbüzbalaban & U. Şimşekli, "Algorithmic Stability of Heavy-Tailed
SGD with General Loss Functions" (arXiv:2301.11885, ICML 2023).  Read: the abstract and the opening
of the full text (a markdown mirror held the paper's first page only): SGD is modelled by the
heavy-tailed SDE dX = −∇F̂_S(X) dt + σ dL^α (L^α a symmetric α-stable Lévy process); Wasserstein
stability bounds are proved for it and its Euler discretization, between the laws obtained from
two datasets S, S' that differ in one point, and converted into generalization bounds whose
dependence on α is non-monotonic, for general (also non-convex) losses.  The theorem body — the
bound's constants and its exact α-dependence — was not reachable.

Why inconclusive: the claim is about a *bound*, and the bound could not be read, so there is no
curve to test the measurement against; and what a toy can measure, W₁ between the laws from S and
S', is only bounded by it — any measured curve of W₁ in α, monotone or not, is consistent with a
non-monotone bound above it.  (A decidable sharp companion would compare W₁ with its closed form:
for least squares in 1-d the stationary law is b/H + σ(αH)^{−1/α} S_α, so
W₁ = E|Δ(b/H) + Δ(σ(αH)^{−1/α}) S_α|;
it was not built here: scipy's levy_stable density takes ≈7 s per α for that integral, and the
Monte Carlo estimate of W₁ has infinite variance for α < 2.)

What runs (so the claim still executes its setting): 1-d least squares F̂_S(x) = (1/2n) Σ (a_i x − y_i)²
with n = 8 points and S' = S with its last point redrawn; the SDE of each, dX = −(H X − b) dt + σ dL^α
(H = mean a², b = mean a y), integrated by ``convsim.sde.EulerLevy`` (Chambers–Mallows–Stuck draws from
the replica streams) to t = 6 (stationary: H t ≥ 3; dt = 0.02) for α ∈ {1.2, 1.4, 1.6, 1.8, 2.0}, with common
random numbers; W₁ between the two empirical laws of X_t (``scipy.stats.wasserstein_distance``) is
reported for each α in the verdict's reason.
"""

import numpy as np
import scipy.stats

import convsim as cs
from convsim.checks.verdict import INCONCLUSIVE, Checker

SOURCE = cs.Source("Algorithmic Stability of Heavy-Tailed SGD with General Loss Functions (Raj, Zhu, Gurbuzbalaban "
                   "& Simsekli)", "2301.11885", "Wasserstein stability of the heavy-tailed SDE and its Euler scheme "
                   "(abstract; theorem body not read)")
ALPHAS = (1.2, 1.4, 1.6, 1.8, 2.0)


def datasets(s):
    """(H, b) of S and of S' (its last point redrawn), from a seeded draw."""
    rng = np.random.default_rng(s["data_seed"])
    a, noise = rng.normal(size=s["n"] + 1), rng.normal(size=s["n"] + 1)
    y = a * s["x_true"] + s["label_noise"] * noise
    first, second = slice(0, s["n"]), np.r_[0:s["n"] - 1, s["n"]]
    return [(float(np.mean(a[i] ** 2)), float(np.mean(a[i] * y[i]))) for i in (first, second)]


def experiment(s, ctx):
    w1 = []
    for alpha in ALPHAS:
        finals = []
        for H, b in datasets(s):
            sde = cs.sde.LinearSDE([[H]], [[s["sigma"]]], mean=[b / H], name="least-squares-levy-sde").as_sde()
            tr = ctx.simulate_sde(sde, cs.sde.EulerLevy(alpha), [0.0], s["t1"], s["dt"], s["paths"],
                                  metrics={"x": lambda sde, x: x[:, 0]}, record=[int(round(s["t1"] / s["dt"]))])
            finals.append(tr.values("x")[:, -1])
        w1.append(scipy.stats.wasserstein_distance(*finals))
    return cs.Series(np.array(ALPHAS), np.array(w1)[None, :], "alpha", "w1", np.full(1, -1), {})


def by_design(series, s):
    curve = ", ".join(f"{a:g}: {v:.4g}" for a, v in zip(series.x, series.values[0]))
    return Checker("w1", vs="alpha").verdict(
        INCONCLUSIVE, series, None, None, (series.x[0], series.x[-1]),
        f"by design: the bound's alpha-dependence was not readable, and the measured W1 between the laws from "
        f"neighbouring datasets (alpha: W1 = {curve}) is only bounded by it", claimed="non-monotone bound in alpha")


claim = cs.Claim(
    id="heavy-tail-sde",
    family="sde",
    statement="the Wasserstein stability bound of the heavy-tailed SDE dX = -grad F_S(X) dt + sigma dL^alpha "
              "(datasets differing in one point) is non-monotonic in the tail index alpha",
    source=SOURCE,
    assumptions=("1-d least squares, n = 8",
                 "symmetric alpha-stable Levy noise, Euler scheme dt = 0.02 (quick; 0.01 full)",
                 "stationary horizon t = 6 (quick; 8 full)"),
    experiment=experiment,
    check=by_design,
    quick={"n": 8, "x_true": 1.0, "label_noise": 0.5, "data_seed": 3, "sigma": 0.5, "t1": 6.0, "dt": 0.02,
           "paths": 256},
    full={"n": 8, "x_true": 1.0, "label_noise": 0.5, "data_seed": 3, "sigma": 0.5, "t1": 8.0, "dt": 0.01,
          "paths": 8192},
    expected="inconclusive",
)
