"""The references behind the session-5 sharp companions of sps-precond-{adagrad,adam}, gn-smooth-scaling,
eal-sketch-global and the re-specified optex-exact: each host restatement reproduces the batched method on every
backend on the run's own random numbers, and each obeys a closed form it must obey independently of the method."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import convsim as cs
from convsim.methods.augmented_lagrangian import SketchedAugmentedLagrangianNewton
from convsim.methods.optex import OptEx

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(f"s5_h2_{name}", ROOT / "experiments" / "first_order" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sps, eal, gn, optex = load("sps"), load("eal_sketch"), load("gn_smooth"), load("optex")


@pytest.mark.parametrize("kind", ["adagrad", "adam"])
def test_psps_restatement_is_the_run_on_every_backend_and_chunking(kind, backend):
    problem = cs.problems.InterpolatingLeastSquares.random(40, 6, spectrum=np.geomspace(1.0, 1e-2, 6), seed=3)
    steps, replicas, seed = 60, 128, 7
    record = np.arange(steps + 1)
    run = cs.simulate(problem, cs.methods.PSPS(kind), steps, replicas, seed=seed, backend=backend,
                      metrics=["dist_sq"], record=record, chunk_size=64)
    restated = sps.restated_psps(problem, kind, steps, record, replicas, cs.backend.namespace(backend), seed,
                                 "float64")
    np.testing.assert_allclose(run.values("dist_sq"), restated, rtol=1e-11, atol=0)
    # and it is not a tautology: the step moved by 1e-6 moves the restated path by far more than the rounding
    moved = sps.restated_psps(problem, kind, steps, record, replicas, cs.backend.namespace(backend), seed,
                              "float64", step_scale=1.0 + 1e-6)
    assert np.max(np.abs(moved[:, 1:] / restated[:, 1:] - 1.0)) > 1e-6


@pytest.mark.parametrize("kind", ["adagrad", "adam"])
def test_psps_restatement_halves_a_one_dimensional_error_whatever_the_preconditioner(kind):
    # d = 1: e <- e - (1/2) r D^-1 a / (a D^-1 a) = e / 2 for every row a and every D > 0 (closed form)
    problem = cs.problems.InterpolatingLeastSquares.random(30, 1, seed=2)
    record = np.arange(13)
    restated = sps.restated_psps(problem, kind, 12, record, 64, cs.backend.namespace("numpy"), 0, "float64")
    # rtol: e = x - x* is formed by cancellation, ~1e-16/|e| relative, |e| ~ 1e-5 by step 12
    np.testing.assert_allclose(restated, restated[:, :1] * 0.25 ** record[None, :], rtol=1e-9)


def test_psps_restated_claims_pin_the_comparison_runs():
    for kind in ("adagrad", "adam"):
        claim = getattr(sps, f"restated_{kind}")
        assert claim.sharpens == f"sps-precond-{kind}"
        data = claim.experiment(claim.quick, cs.Context())
        assert claim.check(data, claim.quick).verdict == "consistent"
        control = getattr(sps, f"restated_{kind}_negative")
        assert control.check(data, claim.quick).verdict == "violated"


def test_eal_global_restatement_is_the_run_on_every_backend(backend):
    problem, steps, replicas, seed, tau, penalty = eal.global_toy(), 5, 64, 3, 40, 10.0
    method = SketchedAugmentedLagrangianNewton(sketch_steps=tau, penalty=penalty)
    run = cs.simulate(problem, method, steps, replicas, seed=seed, backend=backend,
                      metrics={"d": eal.distance_sq}, record=np.arange(steps + 1))
    restated = eal.restated_global(problem, tau, penalty, steps, replicas, cs.backend.namespace(backend), seed,
                                   "float64")
    np.testing.assert_allclose(run.values("d"), restated, rtol=1e-10, atol=0)


def test_eal_restatement_with_many_projections_takes_the_exact_newton_kkt_step():
    # Kaczmarz on a nonsingular K converges to K^-1 b: with tau large the first direction is the Newton-KKT step;
    # from distance 0.05 (the local toy) the merit accepts the unit step, so w_1 = w_0 + K(w_0)^-1 b(w_0)
    problem = eal.sphere_toy()
    restated = eal.restated_global(problem, 3000, 10.0, 1, 4, cs.backend.namespace("numpy"), 0, "float64")
    w0 = problem.initial_point()
    x, lam = w0[None, :problem.n], w0[None, problem.n:]
    b = -np.concatenate([problem.lagrangian_grad(x, lam), problem.constraints(x)], axis=-1)[0]
    w1 = w0 + np.linalg.solve(problem.kkt_matrix_host(w0), b)
    np.testing.assert_allclose(restated[:, 1], np.sum((w1 - problem.x_star) ** 2), rtol=1e-6)


def test_eal_restated_claim_and_control():
    claim, control = eal.global_restated, eal.global_restated_negative
    assert claim.sharpens == "eal-sketch-global"
    data = claim.experiment(claim.quick, cs.Context())
    assert claim.check(data, claim.quick).verdict == "consistent"
    assert control.check(data, claim.quick).verdict == "violated"


def test_gn_ladder_restatement_counts_are_the_scaling_claims_counts():
    s = gn.SCALING_QUICK
    series = gn.scaling.experiment(s, cs.Context())
    for j, cond in enumerate(s["conds"]):
        dist, count = gn.restated_ladder_point(s["n"], s["d"], cond, s["eps"])
        p = gn.problem_for(s["n"], s["d"], cond)
        assert dist[0] == pytest.approx(np.sum((p.initial_point() - p.x_star) ** 2), rel=1e-14)
        # the run's count (first step with f - f* <= eps) is the restatement's count
        assert series.values[0, j] == pytest.approx(count, abs=1.0)
    verdict = gn.scaling_exact.check(gn.scaling_exact.experiment(s, cs.Context()), s)
    assert verdict.verdict == "consistent"


def test_optex_round_ratio_is_one_for_a_gd_round_and_after_the_affine_burn_in(backend):
    problem = optex.sharp_problem()
    x0 = optex.starts(8, problem.dim)
    metric = {"ratio": optex.round_ratio(1, 0.5)}
    gd = cs.simulate(problem, OptEx(step_size=0.5, parallelism=1, kernel="affine", noise=0.0), 6, 8, x0=x0,
                     backend=backend, metrics=metric, record=np.arange(7))
    # N = 1: a round is one GD step, exactly (at t = 0 no round has run: the start is the iterate itself)
    np.testing.assert_allclose(gd.values("ratio")[:, 1:], 1.0, rtol=1e-13)
    s = optex.SHARP
    run = cs.simulate(problem, OptEx(step_size=s["lr"], parallelism=s["n"], history=50, kernel="affine", noise=0.0),
                      s["rounds"], s["replicas"], x0=x0, backend=backend,
                      metrics={"ratio": optex.round_ratio(s["n"], s["lr"])}, record=np.arange(s["rounds"] + 1))
    ratio = run.values("ratio")
    assert np.all(np.abs(ratio[:, 6:9] - 1.0) < optex.EXACT_RTOL)
    assert np.all(np.abs(ratio[:, 3:6] - 1.0) > 1e-3)  # before the span is complete the rounds are off by O(1)
