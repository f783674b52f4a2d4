"""First-order claims, group A: the Nesterov sequence offset, the refined last-iterate bound, the ℓ1 level."""

import importlib.util
from pathlib import Path

import numpy as np

import convsim as cs

ROOT = Path(__file__).resolve().parent.parent


def _claim_module(name):
    spec = importlib.util.spec_from_file_location(f"fo_a_{name}", ROOT / "experiments" / "first_order" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nesterov_sequence_offset_reads_the_lambda_sequence_ahead():
    base = cs.methods.Nesterov(1.0)
    ahead = cs.methods.Nesterov(1.0, sequence_offset=1)
    assert [ahead.coefficient(k) for k in range(1, 20)] == [base.coefficient(k + 1) for k in range(1, 20)]
    # Beck & Teboulle: beta_1 = (lambda_1 - 1)/lambda_2 = 0, and beta_k -> 1
    assert base.coefficient(1) == 0.0 and 0.9 < base.coefficient(50) < 1.0
    assert "sequence_offset" not in base.spec() and ahead.spec()["sequence_offset"] == 1


def _bound_by_the_identity(lam, G2, D):
    """The refined bound written term by term from the weighted identity (double loop, no cumulative sums)."""
    n = len(lam)
    total = sum(lam)
    out = D**2 / (2 * total) + G2 * sum(l * l for l in lam) / (2 * total)
    for k in range(n - 1):
        w_k = sum(lam[k:])
        w_k1 = sum(lam[k + 1:])
        out += 0.5 * (1 / w_k1 - 1 / w_k) * G2 * sum(l * l for l in lam[k:])
    return out


def test_refined_bound_matches_the_identity_term_by_term():
    ld = _claim_module("linear_decay")
    rng = np.random.default_rng(0)
    lam = list(rng.uniform(0.01, 0.1, size=40))
    assert np.isclose(ld.refined_bound(lam, 2.5, 1.3), _bound_by_the_identity(lam, 2.5, 1.3), rtol=1e-12)


def test_linear_decay_bound_is_of_order_DG_over_sqrt_T():
    ld = _claim_module("linear_decay")
    D, G = 1.0, 1.0
    for T in (256, 1024, 4096):
        lr = D / (G * np.sqrt(T))
        b = ld.last_iterate_bound([lr * (1 - t / T) for t in range(T)], G**2, D)
        assert 1.0 < b * np.sqrt(T) / (D * G) < 3.0  # the worst-case optimal schedule's O(DG/sqrt T)
    # the constant peak step D/G for T steps has a bound that does not decay with T
    assert ld.last_iterate_bound([1.0] * 1024, 1.0, 1.0) > 0.5


def test_l1_stationary_level_is_half_step_times_second_moment():
    # constant step on ||x||_1 with Gaussian noise: at stationarity E f = eta E||g||^2 / 2 exactly
    d, sigma, eta = 20, 1.0, 0.02
    problem = cs.problems.WeightedL1(np.ones(d), noise=cs.noise.Gaussian(sigma), x0=np.zeros(d))
    tr = cs.simulate(problem, cs.methods.SGD(eta), 4000, 256, record="linear", metrics=["suboptimality"], seed=3)
    level = tr.values("suboptimality")[:, tr.steps >= 1000].mean()
    assert abs(level / (eta * d * (1 + sigma**2) / 2) - 1) < 0.03


def test_sampling_mutation_swaps_only_the_named_scheme():
    sh = _claim_module("shuffling")
    m = sh.sampling_replaced("reshuffle", "with-replacement")
    assert m.apply(sh.Sampling("reshuffle")) == (sh.Sampling("with-replacement"), 1)
    assert m.apply(sh.Sampling("shuffle-once")) == (sh.Sampling("shuffle-once"), 0)


def test_asgd_exact_recursion_is_sgd_when_alpha_is_one():
    import dataclasses

    from convsim import exact as cx

    ar = _claim_module("asgd_risk")
    s = {**ar.QUICK, "steps": 200}
    original = ar.asgd_for
    ar.asgd_for = lambda s: dataclasses.replace(original(s), alpha=1.0)  # y = w: ASGD's step is SGD's
    try:
        for case in ("variance", "small"):
            mine = ar.exact_asgd(s, case)["suboptimality"][1:]
            problem = ar.problem_for(s, s["sigma"] if case == "variance" else 0.0, ar.CASES[case])
            ref = cx.moments(problem, cs.methods.SGD(ar.sgd_step(s)), s["steps"],
                             record=ar.record_steps(s)).expected("suboptimality")[1:]
            assert np.allclose(mine, ref, rtol=1e-10)
    finally:
        ar.asgd_for = original
