"""GP bandits (gp-ucb): the GP sample, GP-UCB's exact posterior and its runs on every backend."""

import math

import numpy as np
import pytest

import convsim as cs
from convsim.bandits import gp


def test_gp_samples_have_the_kernel_as_covariance():
    points = gp.grid_points(1, 8)
    kernel = gp.squared_exponential(points, 0.3)
    draws = np.array([gp.gp_sample_bandit(points, 0.3, 0.1, seed=s).means for s in range(4000)])
    np.testing.assert_allclose(np.cov(draws.T), kernel, atol=0.08)
    assert gp.grid_points(2, 3).shape == (9, 2)


def test_posterior_update_equals_the_batch_gp_posterior(backend):
    """After observing (x_1, y_1), ..., (x_n, y_n) the learner's mean and covariance are
    k_x K⁻¹ y and k − k_x (K_n + σ²I)⁻¹ k_xᵀ computed in one solve."""
    xp = cs.backend.namespace(backend)
    dt = cs.backend.dtype_of(xp, "float64")
    points = gp.grid_points(1, 10)
    kernel = gp.squared_exponential(points, 0.2)
    learner = gp.GPUCB(kernel, noise=0.3)
    rng = np.random.default_rng(0)
    arms = rng.integers(0, 10, size=(2, 6))
    ys = rng.normal(size=(2, 6))
    state = learner.init(2, 10, xp, dt)
    for j in range(6):
        arm, y = cs.backend.asarray(xp, arms[:, j], xp.int64), cs.backend.asarray(xp, ys[:, j], dt)
        state = learner.update(state, arm, y, j, xp)
    for r in range(2):
        idx = arms[r]
        gram = kernel[np.ix_(idx, idx)] + 0.09 * np.eye(6)
        cross = kernel[:, idx]
        np.testing.assert_allclose(cs.backend.to_numpy(state.mean)[r], cross @ np.linalg.solve(gram, ys[r]), atol=1e-10)
        np.testing.assert_allclose(cs.backend.to_numpy(state.cov)[r], kernel - cross @ np.linalg.solve(gram, cross.T),
                                   atol=1e-10)


def test_beta_is_srinivas_theorem_1_and_select_maximizes_the_ucb():
    assert gp.srinivas_beta(3, 32, 0.1) == pytest.approx(2 * math.log(32 * 9 * math.pi**2 / 0.6))
    kernel = gp.squared_exponential(gp.grid_points(1, 5), 0.5)
    learner = gp.GPUCB(kernel, noise=0.1)
    state = gp.GPState(np.array([[0.0, 1.0, 0.0, 0.0, 0.0]]), kernel[None].copy())
    # with equal prior variances the UCB is largest where the mean is
    assert int(learner.select(state, None, 0, np)[0]) == 1
    greedy = gp.GPUCB(kernel, noise=0.1, beta_scale=0.0)
    assert int(greedy.select(state, None, 4, np)[0]) == 1
    with pytest.raises(cs.ConvsimError):
        gp.GPUCB(kernel, noise=0.1, delta=1.5)


def test_gp_ucb_runs_agree_across_backends_and_beat_greedy(backend):
    points = gp.grid_points(1, 12)
    env = gp.gp_sample_bandit(points, 0.15, 0.1, seed=2)
    learner = gp.GPUCB(gp.squared_exponential(points, 0.15), 0.1)
    ref = cs.bandits.simulate_bandit(env, learner, 200, 64, seed=1)
    run = cs.bandits.simulate_bandit(env, learner, 200, 64, seed=1, backend=backend)
    np.testing.assert_allclose(run.metrics["regret"], ref.metrics["regret"], rtol=1e-9, atol=1e-9)
    assert ref.metrics["regret"][:, -1].mean() < 0.5 * 200 * np.ptp(env.means)


def _torch_clipped_loss(torch, logits, old_logits, arms, rewards, gradient, eps=0.2, c=3.0):
    """The per-token loss of verl's PPO / Klear-Reasoner's GPPO (compute_gppo_loss), token-mean, written
    independently with autograd: the peer of ClippedPolicyGradient's per-arm closed-form gradient."""
    logp = torch.log_softmax(logits, dim=0)[arms]
    old = torch.log_softmax(old_logits, dim=0)[arms]
    x = rewards
    adv = (x - x.mean()) / (x.std(unbiased=False) + 1e-6)
    ratio = torch.exp(logp - old)
    if gradient == "ppo":
        clipped = torch.clamp(ratio, 1 - eps, 1 + eps)
    else:
        clipped = torch.clamp(ratio, (1 - eps) / ratio.detach() * ratio, (1 + eps) / ratio.detach() * ratio)
    loss1 = torch.maximum(-adv * ratio, -adv * clipped)
    loss = torch.where(adv < 0, torch.minimum(-adv * c, loss1), loss1)
    return loss.mean()


@pytest.mark.parametrize("gradient", ["ppo", "gppo"])
def test_clipped_policy_gradient_matches_autograd_of_the_papers_loss(gradient):
    torch = pytest.importorskip("torch")
    from convsim.bandits import ClippedPolicyGradient

    rng = np.random.default_rng(4)
    K, N = 6, 16
    learner = ClippedPolicyGradient(gradient, batch=N, epochs=1, step=1.0)
    for trial in range(5):
        old_logits = rng.normal(size=K)
        logits = old_logits + rng.normal(scale=0.6, size=K)  # ratios on both sides of [1 - eps, 1 + eps]
        arms = rng.integers(0, K, size=N)
        rewards = (rng.uniform(size=N) < 0.5).astype(float)
        counts = np.bincount(arms, minlength=K).astype(float)[None]
        sums = np.bincount(arms, weights=rewards, minlength=K)[None]
        new = learner.improve(logits[None], old_logits[None], sums, counts, np.array([np.sum(rewards**2)]), np)
        t_logits = torch.tensor(logits, requires_grad=True)
        loss = _torch_clipped_loss(torch, t_logits, torch.tensor(old_logits), torch.tensor(arms),
                                   torch.tensor(rewards), gradient)
        loss.backward()
        np.testing.assert_allclose(new[0] - logits, -t_logits.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_ppo_and_gppo_coincide_without_clipping_and_sample_the_policy(backend):
    """One epoch per group: every ratio is 1, nothing is clipped, and the two runs are the same; the
    sampler draws arms with the policy's probabilities."""
    from convsim.bandits import ClippedPolicyGradient

    env = cs.bandits.BernoulliBandit((0.7, 0.5, 0.2))
    runs = [cs.bandits.simulate_bandit(env, ClippedPolicyGradient(g, batch=8, epochs=1), 256, 64, seed=2,
                                       backend=backend) for g in ("ppo", "gppo")]
    np.testing.assert_allclose(runs[0].metrics["regret"], runs[1].metrics["regret"])
    xp = cs.backend.namespace(backend)
    dt = cs.backend.dtype_of(xp, "float64")
    learner = ClippedPolicyGradient("ppo")
    state = learner.init(4096, 3, xp, dt)
    logits = cs.backend.asarray(xp, np.tile(np.log([0.6, 0.3, 0.1]), (4096, 1)), dt)
    state = state._replace(old_logits=logits)
    rng = cs.random.ReplicaStreams(xp, 0, 0, 4096, "float64")
    freq = np.bincount(cs.backend.to_numpy(learner.select(state, rng, 0, xp)), minlength=3) / 4096
    np.testing.assert_allclose(freq, [0.6, 0.3, 0.1], atol=0.03)
