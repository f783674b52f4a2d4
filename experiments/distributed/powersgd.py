"""compression-powersgd: rank-1 PowerSGD with error feedback keeps distributed SGD's convergence on a matrix-parameter
quadratic; without the feedback it falls behind by an order of magnitude.

Source: T. Vogels, S. P. Karimireddy, M. Jaggi, "PowerSGD: Practical Low-Rank Gradient Compression for Distributed
Optimization", arXiv:1905.13727 (NeurIPS 2019).  Read: the authors' code (epfml/powersgd ``powersgd/powersgd.py``,
``BasicPowerSGD.aggregate``): the gradient viewed as a matrix, a warm-started power-iteration step whose factors are
all-reduced (orthogonalise the input factor, multiply by the gradient, average), the approximation P̂ Qᵀ, and the
residual left in the gradient buffer for the next step (error feedback).  The update implemented is the paper's
Algorithm 1 (P = M Q, all-reduce, orthogonalise, Q = Mᵀ P̂, all-reduce, decompress P̂ Qᵀ; Q kept as the next warm
start) inside Algorithm 2 with momentum 0 (:class:`convsim.distributed.PowerSGD`); the code's one-sided alternating
variant (num_iters_per_step = 1) is not what is run.  The paper's claim tested is its empirical one — with error
feedback, rank-r PowerSGD reaches uncompressed SGD's accuracy at the same number of steps — on a toy; it states
no factor, so the factor below is a choice, disclosed.

Setting: M = 4 heterogeneous diagonal quadratics in d = 64 viewed as 8×8 matrices (curvatures 0.2..1 spread by
e^{±0.5}, ζ² = 1, gradient noise σ = 0.05 per coordinate), ‖x₀ − x*‖ = 3, step 0.2, 256 steps; rank 1 sends
r(n + k) = 16 floats per worker instead of 64; uncompressed distributed SGD (local SGD with H = 1) on common random
numbers.  Measured in a first exploration (64 replicas): E‖x − x*‖² at t = 34 SGD 0.111, PowerSGD+EF 0.092, without
EF 2.47; at t = 256 0.0101, 0.0135, 0.0176.

``compression-powersgd``: the mean of E‖x_t − x*‖² over t ∈ [32, 256] (after the first transient, where the power
iteration's factors are still aligning) with error feedback is at most 1.5× SGD's: Compare(SGD over PowerSGD) ≥ 2/3.
Disclosure: 1.5 was set after a first measurement (quick: SGD/PowerSGD 0.98 [0.976, 0.987] over this window).
Caught: error feedback dropped (the low-rank projection alone updates one direction per step: SGD/PowerSGD 0.030
over the window, 33× worse).  Blind: rank ×2 (closer to SGD: 1.011), step ×½ (both runs slow alike: 1.085).  Full
settings (1024 replicas, 1024 steps): 0.928 [0.925, 0.930].

Negative control ``compression-powersgd-neg`` (near miss): PowerSGD with feedback does at least as well as
uncompressed SGD over the window (factor 1; measured 2% worse, paired interval ±0.6%).
"""

import convsim as cs
from convsim import mutations as mu
from convsim.distributed import LocalSGD, PowerSGD, WorkerQuadratics

SOURCE = cs.Source("PowerSGD: Practical Low-Rank Gradient Compression for Distributed Optimization "
                   "(Vogels, Karimireddy, Jaggi)", "1905.13727",
                   "Algorithms 1-2 (rank-r compression with warm start and error feedback); powersgd.py")


def experiment(s, ctx):
    n, k = s["shape"]
    p = WorkerQuadratics.random(s["workers"], n * k, mu=0.2, L=1.0, zeta=1.0, spread=0.5, sigma=s["sigma"],
                                r0=3.0, seed=5)
    kw = dict(replicas=s["replicas"], metrics=["dist_sq"], record=24)
    compressed = ctx.simulate(p, PowerSGD(s["step"], s["workers"], (n, k), rank=s["rank"]), s["steps"], **kw)
    sgd = ctx.simulate(p, LocalSGD(s["step"], s["workers"], 1), s["steps"], **kw)
    return {"powersgd": compressed, "sgd": sgd}


def check(data, s, factor):
    return cs.checks.Compare("dist_sq", factor, window=(32, s["steps"])).check(data["powersgd"], data["sgd"])


SETTINGS = {"workers": 4, "shape": (8, 8), "rank": 1, "sigma": 0.05, "step": 0.2, "steps": 256, "replicas": 256}

claim = cs.Claim(
    id="compression-powersgd",
    family="distributed",
    statement="rank-1 PowerSGD with error feedback on 8x8 matrix updates: mean E||x_t - x*||^2 over t in [32, 256] "
              "at most 1.5x uncompressed distributed SGD's",
    source=SOURCE,
    assumptions=("heterogeneous diagonal quadratics (zeta^2 = 1) viewed as 8x8 matrices", "additive Gaussian noise",
                 "constant step 0.2", "momentum 0"),
    experiment=experiment,
    check=lambda data, s: check(data, s, 2.0 / 3.0),
    quick=SETTINGS,
    full={**SETTINGS, "steps": 1024, "replicas": 1024},
    mutations=(mu.set_field("error_feedback", False),
               mu.scale("rank", 2.0).blind("a larger rank only brings the run closer to SGD"),
               mu.scale("step_size", 0.5).blind("both runs slow down alike")),
)

negative = claim.negative_control(
    "PowerSGD with error feedback does at least as well as uncompressed SGD over t in [32, 256]",
    lambda data, s: check(data, s, 1.0),
)
