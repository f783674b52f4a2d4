"""wta-crs: winner-take-all column-row sampling estimates AB without bias, with less variance than CRS and uniform sampling.

Source: Z. Liu, G. Wang, S. Zhong, Z. Xu, D. Zha, R. Tang, Z. Jiang, K. Zhou, V. Chaudhary, S. Xu & X. Hu,
"Winner-Take-All Column Row Sampling for Memory Efficient Adaptation of Language Model", arXiv:2305.15265
(NeurIPS 2023), seed [S149].  What was read: the abstract ("a new family of unbiased estimators ... for
matrix production with reduced variance") and the authors' code, zirui-ray-liu/WTACRS
``seq2seq/approxlinear/functional.py`` (``subsample_*_by_norm``, ``k_adaptive_*``, ``topk_selection_*``,
``sample_with_replacement_*``): probabilities p_i ∝ ‖A_{:,i}‖‖B_{i,:}‖; the |C| pairs of largest p kept
exactly; the other k − |C| drawn with replacement from the residual law and weighted (1 − P_C)/((k − |C|) p_j);
|C| chosen to minimize (1 − P_C)/(k − |C|), and used only when that is below 1/k (the paper's condition for
beating CRS).  The exact variances are the closed forms of :mod:`convsim.estimators.column_row`.

Setting: A (16 × 64) with column j scaled by 1/j (a few dominant pairs, as the paper's activations), B
(64 × 16) Gaussian, k = 16 pairs; the adaptive rule keeps |C| = 4 (P_C = 0.458) and samples 12.  Exact
E‖est − AB‖²_F: uniform CRS 1524.7, norm-proportional CRS 310.0, WTA-CRS 127.4.

Claims:
  - wta-crs: WTA-CRS has the smallest E‖est − AB‖²_F of the three (Compare, factor 1; exact ratios 2.43
    over CRS and 12.0 over uniform sampling).
  - wta-crs-exact (sharp companion): the Monte Carlo E‖est − AB‖²_F of each estimator equals the exact
    variance of an unbiased estimator within 5% (Reference): a bias would add ‖bias‖²_F.
  - wta-crs-exact-neg (near miss): WTA-CRS's variance with k − |C| + 1 draws (an off-by-one in the budget),
    7.7% below the true one.
  - wta-crs-neg: plain CRS (no deterministic pairs) has the smallest variance.

The abscissa "estimator" numbers them: 1 uniform CRS, 2 CRS, 3 WTA-CRS.

Mutations: the residual law left unnormalized (weights 1/p_j: biased, MSE ×3.7; it then loses to CRS:
caught by both), no deterministic pairs (WTA-CRS becomes CRS: caught by wta-crs), uniform probabilities in
every sampler (caught by both), the budget k ×0.75 (caught by the companion; blind for wta-crs, whose
ordering holds at any budget).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.estimators.column_row import ColumnRowSampler
from convsim.estimators.runner import as_series, best_of, reference_at_every_point, sample_rows

SOURCE = cs.Source("Winner-Take-All Column Row Sampling for Memory Efficient Adaptation of Language Model "
                   "(Liu et al.)", "2305.15265",
                   "WTA-CRS estimator, unbiased with lower variance than CRS (abstract; authors' code "
                   "zirui-ray-liu/WTACRS approxlinear/functional.py)")

K = 16
SAMPLERS = (ColumnRowSampler(K, "uniform"), ColumnRowSampler(K, "norm"), ColumnRowSampler(K, "norm", "adaptive"))
NAMES = ("uniform CRS", "CRS", "WTA-CRS")


def matrices():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((16, 64)) * np.arange(1, 65) ** -1.0
    return A, rng.standard_normal((64, 16))


def experiment(s, ctx):
    A, B = matrices()
    samplers = ctx.mutate(list(SAMPLERS))
    replicas = ctx.replicas or s["replicas"]

    def run():
        def draw(rng, xp):
            return xp.stack([e.squared_errors(A, B, rng, xp) for e in samplers], axis=1)
        values = sample_rows(draw, replicas, seed=ctx.seed, backend=ctx.backend, dtype=ctx.dtype)
        return cs.Trace(np.arange(1, 4), {"sq_error": values}, np.full(replicas, -1), {}, {})

    trace = ctx.cached({"simulator": "column-row", "samplers": samplers, "A": A, "B": B, "replicas": replicas}, run)
    return as_series(trace.values("sq_error"), [1, 2, 3], "estimator", "sq_error")


def exact_variances(extra_wta_draw=0):
    A, B = matrices()
    v = [e.exact_variance(A, B) for e in SAMPLERS]
    s = SAMPLERS[2].plan(A, B)["s"]
    v[2] *= s / (s + extra_wta_draw)
    return np.array(v)


claim = cs.Claim(
    id="wta-crs", family="other",
    statement="WTA-CRS has a smaller E||est - AB||_F^2 than CRS and uniform column-row sampling at the same budget k",
    source=SOURCE,
    assumptions=("k = 16 of n = 64 pairs", "p_i proportional to |A_:i| |B_i:|", "|C| chosen adaptively"),
    experiment=experiment,
    check=lambda data, s: best_of(data, 2, reference=exact_variances()),
    quick={"replicas": 2**14}, full={"replicas": 2**17},
    mutations=(mu.set_field("deterministic", 0, on=ColumnRowSampler), mu.set_field("probabilities", "uniform"),
               mu.set_field("renormalize", False),
               mu.scale("samples", 0.75).blind("the ordering holds at any budget: all three variances scale alike")))

exact = cs.Claim(
    id="wta-crs-exact", family="other", sharpens="wta-crs",
    statement="E||est - AB||_F^2 = exact variance of the unbiased estimator, for uniform CRS, CRS and WTA-CRS",
    source=SOURCE, assumptions=claim.assumptions, experiment=experiment,
    check=lambda data, s: reference_at_every_point("sq_error", exact_variances(), rtol=0.05,
                                                    what="exact variance")(data),
    quick=claim.quick, full=claim.full,
    mutations=(mu.set_field("renormalize", False), mu.set_field("probabilities", "uniform"),
               mu.scale("samples", 0.75)))

negative = claim.negative_control("plain CRS (no deterministic pairs) has the smallest variance",
                                  lambda data, s: best_of(data, 1, reference=exact_variances()))

exact_negative = exact.negative_control(
    "WTA-CRS's variance is that of k - |C| + 1 draws (an off-by-one in the budget)",
    lambda data, s: reference_at_every_point("sq_error", exact_variances(1), rtol=0.05,
                                              what="variance with one more draw")(data))
