"""Session s5 (h4): the pieces behind dp-clip-bias-ef-trajectory and the re-specified near-miss controls of
nag-gs-stable-neg, against closed forms and the methods themselves."""

import sys

import numpy as np
import pytest

import convsim as cs
from convsim.claims import discover
from convsim.privacy import DiceSGD

CLAIMS = discover()


def _module_of(claim_id):
    return sys.modules[CLAIMS[claim_id].experiment.__module__]


DP = _module_of("dp-clip-bias-ef-trajectory")
NAG = _module_of("nag-gs-stable-neg")


def test_restated_algorithm1_without_clipping_is_gradient_descent_in_closed_form():
    # thresholds far above every gradient: clip is the identity, e stays 0, and DiceSGD is GD on least squares,
    # x_t - x* = (I - eta H)^t (x_0 - x*), H = A^T A / n
    s = DP.TRAJECTORY
    p = DP.problem_for(s)
    A, x_star = np.asarray(p.A, float), np.asarray(p.x_star, float)
    H = A.T @ A / A.shape[0]
    step, steps = 0.1, 30
    e = np.asarray(p.initial_point(), float) - x_star
    want = [e @ e]
    for _ in range(steps):
        e = e - step * (H @ e)
        want.append(e @ e)
    got = DP.algorithm1_dist_sq(s["n"], s["d"], step, 1e12, 1e12, steps)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_restated_algorithm1_converges_to_x_star_with_small_thresholds():
    # the error feedback's fixed point is x* itself (the bias DPSGD-GC keeps, 0.035, is gone)
    s = DP.TRAJECTORY
    got = DP.algorithm1_dist_sq(s["n"], s["d"], s["step"], s["clip"], s["clip"], 200)
    assert got[-1] < 1e-25 < DP.bias({**DP.NOISELESS}) * 1e-20


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_dice_sgd_run_equals_the_restatement_on_backends(backend):
    s = DP.TRAJECTORY
    p = DP.problem_for(s)
    trace = cs.simulate(p, DiceSGD(s["step"], s["clip"], s["clip"]), s["steps"], 1, metrics=["dist_sq"],
                        record=np.arange(s["steps"] + 1), backend=backend)
    want = DP.algorithm1_dist_sq(s["n"], s["d"], s["step"], s["clip"], s["clip"], s["steps"])
    np.testing.assert_allclose(trace.values("dist_sq")[0], want, rtol=1e-8)  # the claim's rtol is 1e-6


def test_the_trajectory_reference_resolves_its_near_miss_and_a_one_percent_threshold():
    s = DP.TRAJECTORY
    args = (s["n"], s["d"], s["step"])
    base = DP.algorithm1_dist_sq(*args, 1.0, 1.0, s["steps"])
    near = DP.algorithm1_dist_sq(*args, DP.NEAR_MISS_THRESHOLDS, DP.NEAR_MISS_THRESHOLDS, s["steps"])
    one_percent = DP.algorithm1_dist_sq(*args, 1.01, 1.01, s["steps"])
    deviation = lambda r: np.max(np.abs(r[7:] / base[7:] - 1))  # the decisive window t = 7..48
    assert DP.TRAJECTORY_RTOL < deviation(near) < 3 * DP.TRAJECTORY_RTOL  # false, but only just
    assert deviation(one_percent) > 1e3 * DP.TRAJECTORY_RTOL


def test_the_planted_error_update_bug_keeps_the_spent_feedback_in_the_error():
    # one step from a state with a nonzero error: the buggy error exceeds the correct one by clip(e, C2) exactly
    s = DP.TRAJECTORY
    p = DP.problem_for(s)
    right = DiceSGD(s["step"], s["clip"], s["clip"])
    wrong = DP.DiceSGDErrorWithoutFeedbackTerm(s["step"], s["clip"], s["clip"])
    x = np.asarray(p.initial_point(), float)[None, :]
    e = np.full_like(x, 0.8)  # norm 1.6 > C2: the clip acts
    oracle = type("Oracle", (), {"problem": p, "rng": None})()
    state = right.init(x)._replace(error=e)
    a, b = right.step(state, oracle, 0), wrong.step(state, oracle, 0)
    np.testing.assert_allclose(a.x, b.x, rtol=0, atol=0)
    np.testing.assert_allclose(b.error - a.error, e * (1.0 / np.linalg.norm(e)), rtol=1e-12)


@pytest.mark.parametrize("settings", ["QUICK", "FULL"])
def test_the_near_miss_step_is_just_past_the_closed_form_stability_edge(settings):
    # the spectral radius of the per-mode iteration matrices (gamma = mu) crosses 1 at alpha_max: 0.999 alpha_max is
    # stable, the control's multiple is not (radius 1.147 at 1.0104, kappa = 100; 1.026 at 1.0005, kappa = 1000)
    s = getattr(NAG, settings)
    p = NAG.problem_for(s)
    mu_ = 1.0 / s["kappa"]
    radius = lambda c: np.max(np.abs(np.linalg.eigvals(NAG.mode_matrices(c * NAG.alpha_edge(s["kappa"]),
                                                                         p.eigenvalues, mu_))))
    assert radius(0.999) < 1.0 < radius(s["near_miss_edge"])
    assert radius(s["near_miss_edge"]) < radius(1.03)  # nearer the edge than nag-gs-unstable's first point


def test_started_at_x_star_without_noise_nag_gs_stays_there_past_the_edge():
    # the control's divergence comes from the gradient noise alone: without it x* is a fixed point
    s = NAG.QUICK
    p = NAG.problem_for(s)
    R = 4
    x0 = np.tile(np.asarray(p.x_star, float), (R, 1))
    trace = cs.simulate(p, NAG.method_for(s["near_miss_edge"] * NAG.alpha_edge(s["kappa"]), s),
                        s["stability_steps"], R, metrics=["dist_sq"], x0=x0)
    assert trace.n_diverged == 0
    assert np.max(trace.values("dist_sq")) < 1e-6
