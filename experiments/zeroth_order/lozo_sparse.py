"""lozo-sparse: structured ZO perturbations: a sparse mask beats full ZO when the gradient is sparse; LOZO's
low-rank estimator against its exact second moment.

Sources.  Sparse: W. Guo et al., "Zeroth-Order Fine-Tuning of LLMs with Extreme Sparsity" (SensZOQ; ICLR 2025 as
"... with Transferable Static Sparsity", arXiv 2406.02913) and Y. Liu et al., "Sparse MeZO" (arXiv 2402.15751;
ids verified on their abstract pages): ZO perturbations restricted to a small set of coordinates: SensZOQ's is a
STATIC set of "sensitive" parameters (the fixed mask used here), Sparse MeZO's a magnitude mask recomputed on
the fly (not modelled).  Only the abstracts (and a summary saying SensZOQ proves convergence of sparse ZO-SGD)
were read, so the statement encoded is the generic one of that line of work (the O(|M|/T) rate in place of
O(d/T)), made exact on the toy below rather than taken from either paper's constants.  Low rank: Y. Chen, Y. Zhang, L. Cao, K. Yuan &
Z. Wen, "Enhancing Zeroth-order Fine-tuning for Language Models with Low-rank Structures" (LOZO, ICLR 2025,
arXiv 2410.07698).  What was read: its abstract (convergence "by framing it as a subspace optimization method";
theorem body not reached) and the update rule of the authors' code (optsuite/LOZO, large_models/LOZOtrainer.py,
lowrank_zo_perturb_parameters / lowrank_zo_step / lowrank_zo_update, as summarised in SOURCES.md; the 1/r factor
of ĝ = c UVᵀ/r from a documentation page of the method): U fresh every step, V every ν steps.

Setting, sparse: f(x) = ½‖x − x*‖² in d = 64, x0 − x* supported on the first s = 4 coordinates (the gradient
−(x − x*) is supported there along the noiseless path), mask M = the first 8 coordinates (⊇ the support).
Full ZO = Gaussian two-point on all d coordinates, masked ZO = the same restricted to M (MaskedTwoPoint), each
with the step 1/((D + 2) L) that minimises its own exact one-step E f (D = d resp. |M|: E‖g‖² = (D + 2)‖∇f‖²).
Exact: E f_t = f_0 (1 − 1/(D + 2))^t for both (convsim.zeroth_order.exact with the D-dimensional problem), so the
iteration counts to f ≤ 1e-3 f_0 are ≈ 452 (full) and ≈ 66 (masked): a ratio ≈ 6.9 ≈ (d + 2)/(|M| + 2) in
expectation; the per-replica first passages give 7.26 [6.91, 7.65] (quick, 64 paired replicas).
Claims:
  - lozo-sparse: masked ZO reaches f ≤ 1e-3 f0 in at least d/(2|M|) = 4 times fewer iterations than full ZO
    (paired Compare over replicas, common random numbers; the factor is the O(|M|/T) vs O(d/T) bound's ratio
    d/|M| = 8 halved, since those bounds carry unknown constants: tightness ≈ 1.7 reported).
  - lozo-sparse-exact (sharp): the masked run's E f equals the exact recursion of Gaussian ZO-SGD on the
    |M|-dimensional problem within 10%.
  - lozo-sparse-neg (near-miss): "at least 8 times fewer" (the bound's ratio d/|M| itself; false: 7.26, interval
    upper end 7.65).
  - lozo-exact (sharp, LOZO): on f = ½‖X − X*‖², X 8 × 8, X0 − X* of rank 1 (low-rank gradients), LOZO with r = 2,
    ν = 1 and step η = 1/c_L follows E f_t = f_0 (1 − 2η + η² c_L)^t exactly, c_L = [m(rn + 2) + 2(n + r + 1)]/r
    = 83 (theory.lozo_second_moment_factor; derived by Isserlis' theorem, tested by Monte Carlo): within 10%.
    This also shows what the toy cannot: full Gaussian ZO has E‖g‖² = (mn + 2)‖∇f‖² = 66‖∇f‖² < 83‖∇f‖², so on a
    quadratic with random subspaces LOZO does NOT beat full ZO per iteration (its advantage in the paper is
    memory and an empirical one on LLM gradients whose subspaces persist); "LOZO beats full ZO" is therefore
    not claimed here.
Mutations: mask dropped (support = (): full ZO at the masked step, which then stalls: 1 − 2η + η²(d + 2) > 1),
mask moved off the support (coordinates 4..11: no progress), 4 directions at the 1-direction step (blind for the
compare: both methods gain alike; caught by the exact companion); LOZO: lazy V (ν = 8), rank 4 at the rank-2
step, step ×1.5; smoothing ×1e3 blind (central differences are exact on quadratics).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim import zeroth_order as zo
from convsim.zeroth_order.methods import LowRankZO

SOURCE_SPARSE = cs.Source("Zeroth-Order Fine-Tuning of LLMs with Extreme Sparsity (SensZOQ); Sparse MeZO",
                          "2406.02913", "sparse ZO: O(|M|/T) in place of O(d/T) (generic statement; texts not found)")
SOURCE_LOZO = cs.Source("Enhancing Zeroth-order Fine-tuning for Language Models with Low-rank Structures (LOZO)",
                        "2410.07698", "LOZO estimator c U V^T / r with lazy V (authors' code; theorem not reached)")

D, SUPPORT, MASK = 64, 4, 8
LEVEL = 1e-3


def sparse_problem():
    x0 = np.zeros(D)
    x0[:SUPPORT] = 1.0 / np.sqrt(SUPPORT)
    return cs.problems.Quadratic(np.ones(D), x0=x0)


def masked_problem():
    """The problem seen by the masked method: its |M| coordinates (the rest never move and contribute 0)."""
    x0 = sparse_problem().initial_point()[:MASK]
    return cs.problems.Quadratic(np.ones(MASK), x0=x0)


def best_step(dim):
    return 1.0 / (dim + 2.0)


def full_method():
    return zo.ZOSGD(best_step(D), zo.GaussianTwoPoint(1e-3, 1))


def masked_method():
    return zo.ZOSGD(best_step(MASK), zo.MaskedTwoPoint(tuple(range(MASK)), 1e-3, 1))


def iterations_series(trace, problem, budget):
    n = zo.steps_to_level(trace.values("suboptimality") / problem.constants()["f0_gap"], trace.steps, LEVEL)
    reached = np.isfinite(n) & (trace.diverged_at < 0)
    return cs.Series(np.array([LEVEL]), np.where(reached, n, budget)[:, None], "eps", "iterations",
                     np.where(reached, -1, 0), {"d": D, "mask": MASK})


def compare_experiment(s, ctx):
    problem = sparse_problem()
    record = np.unique(np.round(np.geomspace(1, s["budget"], 200)).astype(int))
    runs = {}
    for name, method in (("masked", masked_method()), ("full", full_method())):
        trace = ctx.simulate(problem, method, s["budget"], s["replicas"], metrics=["suboptimality"], record=record)
        runs[name] = iterations_series(trace, problem, s["budget"])
    return runs


def compare_check(factor):
    return lambda runs, s: cs.checks.Compare("iterations", factor).check(runs["masked"], runs["full"])


def exact_experiment(s, ctx):
    record = np.unique(np.round(np.geomspace(1, s["exact_steps"], 30)).astype(int))
    return ctx.simulate(sparse_problem(), masked_method(), s["exact_steps"], s["exact_replicas"],
                        metrics=["suboptimality"], record=record)


def exact_check(trace, s):
    ref = zo.zo_sgd_suboptimality(masked_problem(), best_step(MASK), law="gaussian", directions=1, record=trace.steps)
    return cs.checks.Reference("suboptimality", ref, rtol=0.1, what="exact ZO-SGD recursion on the masked coordinates",
                               window=(5, s["exact_steps"])).check(trace)


ROWS, COLS, RANK = 8, 8, 2


def matrix_problem():
    a, b = np.linspace(1.0, 2.0, ROWS), np.linspace(-1.0, 1.0, COLS)
    e0 = np.outer(a, b)  # X0 - X*: rank 1, so the first gradients are rank 1
    return cs.problems.Quadratic(np.ones(ROWS * COLS), x0=(e0 / np.linalg.norm(e0)).ravel())


def lozo_step():
    return 1.0 / zo.theory.lozo_second_moment_factor(ROWS, COLS, RANK)


def lozo_experiment(s, ctx):
    record = np.unique(np.round(np.geomspace(1, s["lozo_steps"], 30)).astype(int))
    return ctx.simulate(matrix_problem(), LowRankZO(lozo_step(), ROWS, COLS, RANK, 1, 1e-3), s["lozo_steps"],
                        s["lozo_replicas"], metrics=["suboptimality"], record=record)


def lozo_check(trace, s):
    eta, c = lozo_step(), zo.theory.lozo_second_moment_factor(ROWS, COLS, RANK)
    f0 = matrix_problem().constants()["f0_gap"]
    ref = f0 * (1.0 - 2.0 * eta + eta * eta * c) ** trace.steps.astype(float)
    return cs.checks.Reference("suboptimality", ref, rtol=0.1, what="f0 (1 - 2 eta + eta^2 c_L)^t",
                               window=(5, s["lozo_steps"])).check(trace)


QUICK = {"budget": 1000, "replicas": 64, "exact_steps": 40, "exact_replicas": 8192,
         "lozo_steps": 250, "lozo_replicas": 1024}
FULL = {"budget": 1000, "replicas": 512, "exact_steps": 80, "exact_replicas": 32768,
        "lozo_steps": 400, "lozo_replicas": 4096}

NO_MASK = mu.set_field("support", (), on=zo.MaskedTwoPoint, name="mask dropped (full perturbation at the masked step)")
OFF_MASK = mu.set_field("support", tuple(range(SUPPORT, SUPPORT + MASK)), on=zo.MaskedTwoPoint,
                        name="mask moved off the gradient's support")
FOUR = mu.scale("directions", 4.0, on=(zo.MaskedTwoPoint, zo.GaussianTwoPoint), name="4 directions per step")

claim = cs.Claim(
    id="lozo-sparse",
    family="zeroth-order",
    statement="on a quadratic whose gradient is supported on s = 4 of d = 64 coordinates, ZO with Gaussian "
              "perturbations on a fixed mask of |M| = 8 coordinates covering it reaches f <= 1e-3 f0 in at least "
              "d/(2|M|) = 4 times fewer iterations than full ZO (each at its best step 1/((D+2)L))",
    source=SOURCE_SPARSE,
    assumptions=("f = 0.5||x - x*||^2, x0 - x* supported on 4 coordinates", "mask = first 8 coordinates",
                 "exact function values, central two-point, 1 direction"),
    experiment=compare_experiment,
    check=compare_check(D / (2.0 * MASK)),
    quick=QUICK,
    full=FULL,
    mutations=(NO_MASK, OFF_MASK,
               FOUR.blind("4 directions speed both methods alike at their steps; the exact companion sees it")),
)

negative = claim.negative_control("the masked method needs at least d/|M| = 8 times fewer iterations (false: "
                                  "(d+2)/(|M|+2) ~ 6.9 on this toy)", compare_check(D / MASK))

exact = cs.Claim(
    id="lozo-sparse-exact",
    family="zeroth-order",
    statement="masked ZO on the sparse quadratic is exactly Gaussian ZO-SGD on the |M| masked coordinates: E f_t "
              "equals that exact moment recursion within 10%",
    source=SOURCE_SPARSE,
    assumptions=claim.assumptions + ("central differences are exact on quadratics",),
    experiment=exact_experiment,
    check=exact_check,
    quick=QUICK,
    full=FULL,
    sharpens="lozo-sparse",
    mutations=(NO_MASK, OFF_MASK, FOUR, mu.scale("step_size", 1.5, on=zo.ZOSGD, name="step x1.5"),
               mu.scale("smoothing", 1e3, on=zo.MaskedTwoPoint, name="smoothing x1000").blind(
                   "central differences are exact on quadratics for every smoothing")),
)

lozo = cs.Claim(
    id="lozo-exact",
    family="zeroth-order",
    statement="LOZO (U V^T perturbations, rank 2, V fresh every step, update -eta c U V^T / r) on 0.5||X - X*||^2 "
              "(8 x 8, rank-1 X0 - X*) at eta = 1/c_L: E f_t = f0 (1 - 2 eta + eta^2 c_L)^t, c_L = 83, within 10%",
    source=SOURCE_LOZO,
    assumptions=("isotropic matrix quadratic, X0 - X* of rank 1", "exact function values, central differences",
                 "r = 2, nu = 1"),
    experiment=lozo_experiment,
    check=lozo_check,
    quick=QUICK,
    full=FULL,
    mutations=(mu.set_field("interval", 8, on=LowRankZO, name="lazy V (nu = 8) under the nu = 1 formula"),
               mu.set_field("rank", 4, on=LowRankZO, name="rank 4 at the rank-2 step"),
               mu.scale("step_size", 1.5, on=LowRankZO, name="step x1.5"),
               mu.scale("smoothing", 1e3, on=LowRankZO, name="smoothing x1000").blind(
                   "central differences are exact on quadratics for every smoothing")),
)
