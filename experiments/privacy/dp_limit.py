"""dp-limit: shuffled DP-SGD over one epoch of M steps must have noise σ ≥ 1/(2 ln M) or a separation
κ ≥ (1/8)(1 − 1/(4π ln M)) (inconclusive by design: the mechanism of the theorem is not one dp-accounting accounts).

Source: "Fundamental Limitations of Favorable Privacy-Utility Guarantees for DP-SGD", seed abstract (seeds/papers.md,
no arXiv id recorded there; searched, not found in the stores) [S50].  Read: the abstract only — DP-SGD in f-DP,
shuffled sampling over a single epoch with M updates under the standard worst-case adversary; κ = "the maximum
distance between the mechanism's trade-off curve and the ideal random-guessing line"; the theorem: σ ≥ 1/(2 ln M) or
κ ≥ (1/8)(1 − 1/(4π ln M)); "the same limitation extends to Poisson subsampling up to constant factors".  [S75]
(shuffling with batch clipping, a gE dependency for groups of g over E epochs) states no bound testable here.

Why inconclusive by design: the statement is about the shuffled mechanism's trade-off curve, and dp-accounting (the
maintained library this project accounts with, never hand-written) has no shuffling accountant; its Poisson
subsampling is covered by the paper only "up to constant factors" that the abstract does not give, and the exact
distance κ measures (vertical gap, or Euclidean distance to the diagonal) was not read.  The experiment still
computes the nearest reading exactly: for M ∈ {100, 1000} steps of Poisson-subsampled DP-SGD with q = 1/M (one epoch
in expectation), the largest vertical gap between its trade-off curve and 1 − α, i.e. the total variation distance
δ(ε = 0) of the PLD accountant (:func:`convsim.privacy.accounting.separation`), at the paper's threshold
σ = 1/(2 ln M), against κ*(M).  Measured: 0.634 (M = 100) and 0.632 (M = 1000) ≥ κ* ≈ 0.123 — consistent with the
dichotomy at its boundary, and ≈ 1 − (1 − 1/M)^M, the chance that the example is sampled at all (with so little
noise, one participation is detected), which is what a Poisson proxy, unlike shuffling, caps the separation at.
"""

import dataclasses
from functools import lru_cache

import numpy as np

import convsim as cs
from convsim.engine.trace import Series
from convsim.privacy.accounting import separation

SOURCE = cs.Source("Fundamental Limitations of Favorable Privacy-Utility Guarantees for DP-SGD",
                   venue="seed abstract (no arXiv id recorded)",
                   theorem="abstract: shuffled DP-SGD needs sigma >= 1/(2 ln M) or kappa >= (1/8)(1 - 1/(4 pi ln M))")


def threshold(M):
    return 1.0 / (2.0 * np.log(M))


def kappa_star(M):
    return 0.125 * (1.0 - 1.0 / (4.0 * np.pi * np.log(M)))


@lru_cache(maxsize=16)
def _separation(M, discretization):
    return separation(threshold(M), 1.0 / M, M, discretization)


def experiment(s, ctx):
    values = [ctx.memo({"dp-limit": M, "discretization": s["discretization"]},
                       lambda M=M: _separation(M, s["discretization"])) for M in s["Ms"]]
    return Series(np.asarray(s["Ms"], dtype=float), np.asarray([values]), "M", "separation", np.full(1, -1))


def check(series, s):
    level = cs.checks.Level("separation", float(max(kappa_star(M) for M in s["Ms"])), bound="lower", rtol=0.01,
                            window=(min(s["Ms"]), max(s["Ms"]))).check(series)
    shown = ", ".join(f"M = {M}: {v:.3f} vs kappa* {kappa_star(M):.4f}" for M, v in zip(s["Ms"], series.values[0]))
    reason = ("inconclusive by design (the theorem is about shuffled sampling, which dp-accounting does not account; "
              f"Poisson holds only up to unstated constants): Poisson-subsampled separation at sigma = 1/(2 ln M): {shown}")
    return dataclasses.replace(level, verdict=cs.checks.INCONCLUSIVE, reason=reason, tightness=None)


claim = cs.Claim(
    id="dp-limit",
    family="privacy",
    statement="shuffled DP-SGD over one epoch of M steps needs sigma >= 1/(2 ln M) or a separation kappa >= "
              "(1/8)(1 - 1/(4 pi ln M)) (the shuffled accountant is not available: inconclusive by design)",
    source=SOURCE,
    assumptions=("single epoch, M Gaussian steps", "standard worst-case adversary (f-DP trade-off curve)",
                 "evidence from the Poisson-subsampled proxy, q = 1/M, dp-accounting PLD"),
    experiment=experiment,
    check=check,
    quick={"Ms": (100, 1000), "discretization": 3e-2},
    full={"Ms": (100, 1000, 10000), "discretization": 1e-2},
    expected="inconclusive",
)
