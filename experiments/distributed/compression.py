"""compression-ef: a biased compressor (top-1 of 4 coordinates) with error feedback keeps distributed
SGD's accuracy; without the feedback it stalls an order of magnitude higher.

Source: T. Vogels, S. P. Karimireddy, M. Jaggi, "PowerSGD: Practical Low-Rank Gradient Compression for
Distributed Optimization", arXiv:1905.13727 (NeurIPS 2019) — read: the authors' code
(epfml/powersgd ``powersgd/powersgd.py``, per SOURCES.md): the compressed update leaves the residual
g − approx in the gradient buffer and adds it to the next step's gradient (error feedback), the
mechanism the paper credits for reaching uncompressed SGD's accuracy.  The analysis of that
mechanism for any δ-contractive compressor (leading term of the rate equal to SGD's, the
compressor entering only higher-order terms) is Karimireddy et al., arXiv:1901.09847, Theorem II,
as recalled, not re-read here.  PowerSGD's low-rank compressor itself is not implemented: top-k is
the biased compressor under test (both are δ-contractive: ‖C(v) − v‖² ≤ (1 − δ)‖v‖²).

Setting: M = 4 heterogeneous quadratics (d = 4, ζ² = 1, σ = 0.3), step 0.1, 1024 steps; every worker
sends only its largest coordinate of ĝ_m + e_m (4× fewer values; :class:`convsim.distributed.CompressedSGD`)
against uncompressed distributed SGD (local SGD with H = 1), common random numbers.  At x* every
worker's gradient is non-zero (their mean vanishes), so top-1 without feedback cannot settle at x*.
Measured (256 replicas, 1024 steps): SGD 0.0117, with feedback 0.014, without 0.112 (quick verdict: ratio SGD/EF 0.83 [0.79, 0.86]).

``compression-ef``: the stationary E‖x − x*‖² (mean over the second half) with feedback is at most 1.5×
uncompressed SGD's: Compare(SGD over EF) ≥ 2/3.  Disclosure: the factor 1.5 was chosen after
measuring the ratio ≈ 1.21; no paper states a factor for this toy.  Dropping the feedback (×9.5) is
caught; a step ×2 moves both runs (ratio 1.37 at step 0.2) and is blind.

Negative control ``compression-ef-neg`` (near miss): with feedback the compressed run is within 5% of
SGD's (measured ≈ 1.2×, paired interval about ±4%).
"""

import convsim as cs
from convsim import mutations as mu
from convsim.distributed import CompressedSGD, LocalSGD, TopK, WorkerQuadratics

SOURCE = cs.Source("PowerSGD: Practical Low-Rank Gradient Compression for Distributed Optimization "
                   "(Vogels, Karimireddy, Jaggi)", "1905.13727",
                   "error feedback of the compression residual (powersgd.py); analysis: Karimireddy et al. "
                   "arXiv 1901.09847, Theorem II (as recalled)")


def experiment(s, ctx):
    p = WorkerQuadratics.random(s["workers"], s["d"], mu=0.2, L=1.0, zeta=1.0, spread=0.5, sigma=0.3, seed=5)
    kw = dict(replicas=s["replicas"], metrics=["dist_sq"], record=16)
    compressed = ctx.simulate(p, CompressedSGD(s["step"], s["workers"], TopK(s["k"]), error_feedback=True),
                              s["steps"], **kw)
    sgd = ctx.simulate(p, LocalSGD(s["step"], s["workers"], 1), s["steps"], **kw)
    return {"compressed": compressed, "sgd": sgd}


def check(data, s, factor):
    return cs.checks.Compare("dist_sq", factor, window=(s["steps"] / 2, s["steps"])).check(data["compressed"],
                                                                                             data["sgd"])


SETTINGS = {"workers": 4, "d": 4, "k": 1, "step": 0.1, "steps": 1024, "replicas": 256}

claim = cs.Claim(
    id="compression-ef",
    family="distributed",
    statement="top-1 compression (1 of 4 coordinates) with error feedback: stationary E||x - x*||^2 at most 1.5x "
              "uncompressed distributed SGD's",
    source=SOURCE,
    assumptions=("heterogeneous diagonal quadratics, zeta^2 = 1", "additive Gaussian noise", "constant step 0.1",
                 "a delta-contractive (biased) compressor"),
    experiment=experiment,
    check=lambda data, s: check(data, s, 2.0 / 3.0),
    quick=SETTINGS,
    full={**SETTINGS, "steps": 4096, "replicas": 1024},
    mutations=(mu.set_field("error_feedback", False),
               mu.scale("step_size", 2.0).blind("a larger step raises both floors (ratio 1.37 at step 0.2)")),
)

negative = claim.negative_control(
    "with error feedback the compressed run's stationary E||x - x*||^2 is within 5% of uncompressed SGD's",
    lambda data, s: check(data, s, 1.0 / 1.05),
)
