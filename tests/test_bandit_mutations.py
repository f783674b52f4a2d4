"""The bandit learners' plantable fields (issue #11): each default is the paper's algorithm, each
non-default value the bug it names, checked against peers and hand computations."""

import math

import numpy as np
import pytest

import convsim as cs
from convsim import mutations as mu
from convsim.random import ReplicaStreams

XP = cs.backend.namespace("numpy")


def _play(learner, env, rounds, R=1, seed=0):
    rng = ReplicaStreams(XP, seed, 0, R)
    state, pulls = learner.init(R, env.arms, XP, XP.float64), []
    for t in range(rounds):
        arm = learner.select(state, rng, t, XP)
        pulls.append(arm.copy())
        state = learner.update(state, arm, env.rewards(XP, rng, arm, t), t, XP)
    return np.stack(pulls, axis=1), state


def test_kl_ucb_with_the_gaussian_divergence_and_c_zero_is_ucb1_with_half_its_bonus():
    # d = 2(q - p)^2 with budget ln t / n gives q = p + sqrt(ln t/(2n)) = p + (1/2) sqrt(2 ln t/n): UCB1, bonus 1/2.
    env = cs.bandits.BernoulliBandit((0.7, 0.6, 0.4))
    hoeffding = cs.bandits.simulate_bandit(env, cs.bandits.KLUCB(0.0, divergence="gaussian"), 600, 16, seed=3)
    ucb = cs.bandits.simulate_bandit(env, cs.bandits.UCB1(bonus=0.5), 600, 16, seed=3)
    np.testing.assert_allclose(hoeffding.metrics["regret"], ucb.metrics["regret"], rtol=0, atol=1e-9)
    with pytest.raises(cs.ConvsimError):
        cs.bandits.KLUCB(divergence="poisson")


def test_kl_index_never_exceeds_the_hoeffding_index_so_kl_ucb_pulls_the_bad_arm_less():
    # Pinsker: kl(p, q) >= 2 (q - p)^2, so the KL index is the smaller one; on arms near 1 KL-UCB explores less.
    env = cs.bandits.BernoulliBandit((0.9, 0.8))
    _, kl = _play(cs.bandits.KLUCB(3.0, 16), env, 500, R=32)
    _, hoeffding = _play(cs.bandits.KLUCB(3.0, 16, "gaussian"), env, 500, R=32)
    assert kl.counts[:, 1].mean() < 0.8 * hoeffding.counts[:, 1].mean()


def test_ucb1_bonus_zero_is_greedy_and_default_keeps_the_paper_spec():
    env = cs.bandits.BernoulliBandit((0.0, 1.0))
    pulls, _ = _play(cs.bandits.UCB1(bonus=0.0), env, 6)
    assert pulls[0].tolist() == [0, 1, 1, 1, 1, 1]  # after one pull each, the empirical best forever
    assert cs.bandits.UCB1().spec() == {"name": "ucb1", "bonus": 1.0}
    mutated, hits = mu.scale("bonus", 2.5).apply(cs.bandits.UCB1())
    assert hits == 1 and mutated.bonus == 2.5


def test_thompson_update_every_two_absorbs_only_even_rounds():
    env = cs.bandits.BernoulliBandit((0.3, 0.6))
    _, state = _play(cs.bandits.ThompsonBernoulli(update_every=2), env, 11, R=8)
    np.testing.assert_array_equal(state.counts.sum(axis=1), 6)  # rounds 0, 2, ..., 10
    _, state = _play(cs.bandits.ThompsonBernoulli(), env, 11, R=8)
    np.testing.assert_array_equal(state.counts.sum(axis=1), 11)


def test_tsallis_inf_fields_rate_weighting_and_sign():
    env = cs.bandits.BernoulliBandit((0.0, 1.0))  # losses 1, 0 (deterministic)
    assert cs.bandits.TsallisINF(eta0=0.5).learning_rate(3) == pytest.approx(0.25)
    assert cs.bandits.TsallisINF().spec() == {"name": "tsallis-inf", "newton_steps": 4, "eta0": 2.0}
    for learner, gain in ((cs.bandits.TsallisINF(importance_weighting=False), 1.0),  # ℓ itself
                          (cs.bandits.TsallisINF(rewards_as_losses=True), None)):
        pulls, state = _play(learner, env, 1, R=64)
        arm = pulls[:, 0]
        got = state.loss_estimates[np.arange(64), arm]
        if gain is None:  # the reward (1 on arm 1) divided by the uniform weight ½
            np.testing.assert_allclose(got, 2.0 * arm)
        else:  # the loss (1 on arm 0), not divided by the weight
            np.testing.assert_allclose(got, 1.0 - arm)


def test_late_slope_recovers_the_coefficient_of_a_logarithmic_regret():
    t = np.unique(np.geomspace(1, 4096, 60).astype(int))
    regret = np.stack([3.0 * np.log(t) + 5.0, 2.0 * np.log(t)])  # two replicas
    trace = cs.Trace(t, {"regret": regret}, np.full(2, -1), {"K": 2}, {})
    series = cs.bandits.late_slope(trace)
    np.testing.assert_allclose(series.values[:, -1], [3.0, 2.0], rtol=1e-12)
    assert series.x[0] >= 32  # windows start at T >= 16 K


def test_exp3_mean_field_reference_matches_the_simulation_on_a_paying_arm():
    # The reference of exp3-meanfield: exact drift γ/K of the paying arm's log-weight.
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "experiments" / "bandit" / "exp3.py"
    spec = importlib.util.spec_from_file_location("exp3_claim_for_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    K, T = 5, 2000
    table = np.zeros((T, K))
    table[:, 0] = 1.0
    gamma = cs.bandits.EXP3.tuned_gamma(K, T)
    # 1024 replicas: the mean's standard error is ~0.3% of it, so 1.5% is ~5 standard errors (64 replicas and 3%
    # were ~2.4, which the SFC64 streams' sample exceeded: 1.035)
    trace = cs.bandits.simulate_bandit(cs.bandits.AdversarialBandit(table), cs.bandits.EXP3(gamma), T, 1024,
                                       record=[T])
    assert trace.mean("regret")[-1] == pytest.approx(module.meanfield_regret(K, T), rel=0.015)
    # the exploration part alone is exact: γ T (K − 1)/K
    assert module.meanfield_regret(K, T) > gamma * T * (K - 1) / K
