"""Consensus-based optimization: one step's second moment against its closed form, the reused consensus,
the evaluation count and the particle-energy metric."""

import numpy as np
import pytest

import convsim as cs
from convsim import zeroth_order as zo
from convsim.backend import namespace, to_numpy
from convsim.methods.base import Oracle
from convsim.problems.test_functions import Rastrigin
from convsim.random import ReplicaStreams
from convsim.zeroth_order.methods import ConsensusState


@pytest.mark.parametrize("noise_model, noise_dims", [("isotropic", 4), ("anisotropic", 1)])
def test_one_step_with_the_consensus_at_the_minimizer_contracts_by_the_euler_maruyama_factor(backend, noise_model,
                                                                                            noise_dims):
    # E||X' - x*||^2 = ((1 - lambda dt)^2 + k sigma^2 dt) ||X - x*||^2, k = d (isotropic) or 1 (anisotropic)
    # when v = x*: the mean-field rate 2 lambda - k sigma^2 of the CBO theorems, per Euler-Maruyama step
    d, R, N, lam, sigma, dt = 4, 512, 8, 1.3, 0.45, 0.07
    p = Rastrigin(d, amplitude=2.5, shift=np.array([0.3, -0.2, 0.1, 0.4]))
    xp = namespace(backend)
    rng = np.random.default_rng(0)
    e = rng.normal(size=(R, N, d)) * rng.uniform(0.2, 2.0, size=(R, N, 1))
    state = ConsensusState(xp.asarray(np.broadcast_to(p.x_star, (R, d)).copy()), xp.asarray(p.x_star + e))
    m = zo.CBO(drift=lam, noise=sigma, alpha=1e3, dt=dt, particles=N, spread=0.0, noise_model=noise_model)
    new = to_numpy(m.step(state, Oracle(p, ReplicaStreams(xp, 5, 0, R)), 1).particles)
    # per particle, ||X' - x*||^2 / ||e||^2 has mean (1 - lambda dt)^2 + k sigma^2 dt (the noise is centred)
    ratio = np.sum((new - p.x_star) ** 2, axis=-1) / np.sum(e * e, axis=-1)
    expected = (1 - lam * dt) ** 2 + noise_dims * sigma**2 * dt
    assert abs(ratio.mean() - expected) < 4 * ratio.std() / np.sqrt(ratio.size)
    # and the drift alone is exact: the mean displacement is -lambda dt (X - x*)
    np.testing.assert_allclose((new - p.x_star - e).mean(), -lam * dt * e.mean(), atol=5 * np.std(new - p.x_star - e)
                               / np.sqrt(new.size))


def test_the_reused_consensus_is_that_of_the_current_particles_and_costs_n_values_per_step():
    p = Rastrigin(3, amplitude=2.5, shift=np.array([0.2, -0.1, 0.3]))
    m = zo.CBO(drift=1.0, noise=0.5, alpha=20.0, dt=0.1, particles=5, spread=1.0)
    xp = namespace("numpy")
    oracle = Oracle(p, ReplicaStreams(xp, 2, 0, 64))
    state = m.init(np.broadcast_to(p.initial_point(), (64, 3)).copy())
    for t in range(4):
        state = m.step(state, oracle, t)
        np.testing.assert_array_equal(state.x, m.consensus(oracle, state.particles))
    assert m.evaluation_counts() == (5, 0)


def test_particle_energy_is_half_the_mean_squared_distance_to_the_minimizer(backend):
    p = Rastrigin(2, shift=np.array([1.0, -2.0]))
    xp = namespace(backend)
    X = np.array([[[1.0, -2.0], [2.0, -2.0], [1.0, 0.0]]])  # distances^2 0, 1, 4
    state = ConsensusState(xp.asarray(X[:, 0]), xp.asarray(X))
    value = to_numpy(zo.particle_energy_of(p, xp.asarray(X[:, 0]), state))
    np.testing.assert_allclose(value, [0.5 * 5.0 / 3.0])


def test_cbo_without_drift_or_noise_keeps_its_particles():
    p = Rastrigin(2)
    m = zo.CBO(drift=0.0, noise=0.0, alpha=5.0, dt=0.1, particles=4, spread=1.0)
    trace = cs.simulate(p, m, 6, 64, metrics={"energy": zo.PARTICLE_ENERGY}, record=[1, 6])
    np.testing.assert_array_equal(trace.values("energy")[:, 1], trace.values("energy")[:, 2])
