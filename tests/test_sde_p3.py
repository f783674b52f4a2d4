"""The damped-oscillator SDE of fdm-damping: its terms, exact rate and the rate estimator from paths."""

import numpy as np
import pytest
import scipy.linalg

import convsim as cs
from convsim.sde import oscillator as osc


def test_oscillator_drift_and_noise_are_the_linear_sde(backend):
    """drift(x) = −A x and noise_term = B dW, on every backend, for the A and B of linear()."""
    sde = osc.DampedOscillator(1.3, 0.7, 0.4)
    lin = sde.linear()
    rng = np.random.default_rng(0)
    x, dw = rng.normal(size=(5, 2)), rng.normal(size=(5, 1))
    xp = cs.backend.namespace(backend)
    got = cs.backend.to_numpy(sde.drift(cs.backend.asarray(xp, x, cs.backend.dtype_of(xp, "float64")), 0.0))
    np.testing.assert_allclose(got, -x @ lin.A.T, rtol=1e-14)
    noise = cs.backend.to_numpy(sde.noise_term(cs.backend.asarray(xp, x, cs.backend.dtype_of(
        xp, "float64")), 0.0, cs.backend.asarray(xp, dw, cs.backend.dtype_of(xp, "float64"))))
    np.testing.assert_allclose(noise, dw @ lin.B.T, rtol=1e-14)


@pytest.mark.parametrize("omega", [0.5, 1.0, 3.0])
def test_rate_is_the_spectral_abscissa_and_peaks_at_critical_damping(omega):
    grid = omega * np.sort(np.append(np.linspace(0.05, 8.0, 801), 2.0))
    exact = np.array([osc.oscillator_rate(omega, g) for g in grid])
    eig = np.array([np.linalg.eigvals(osc.DampedOscillator(omega, g, 1.0).linear().A).real.min() for g in grid])
    np.testing.assert_allclose(exact, eig, rtol=1e-6, atol=1e-6 * omega)
    assert grid[np.argmax(exact)] == pytest.approx(osc.critical_damping(omega), rel=0.01)
    assert exact.max() == pytest.approx(omega, rel=1e-6)


@pytest.mark.parametrize("damping", [0.8, 3.0])
def test_rate_estimator_recovers_the_exact_mean_rate(damping):
    """On the exact mean trajectory (every path equal to it) the fitted rate is r(γ) to 1e-8, and the
    pseudo-values all equal it (leaving one identical path out changes nothing)."""
    lin = osc.DampedOscillator(1.0, damping, 0.0).linear()
    t = np.arange(0, 41) * 0.1
    means = np.stack([scipy.linalg.expm(-lin.A * s) @ np.array([1.0, 0.0]) for s in t])
    paths = np.repeat(means[None], 4, axis=0)
    pv = osc.mean_rate_pseudovalues(paths[..., 0], paths[..., 1], 0.1, 10)
    np.testing.assert_allclose(pv, osc.oscillator_rate(1.0, damping), rtol=1e-8)


def test_rate_estimator_from_simulated_paths_and_bad_input():
    sde = osc.DampedOscillator(1.0, 3.0, 1.0)
    tr = cs.sde.simulate_sde(sde, cs.sde.EulerMaruyama(), [10.0, 0.0], 4.0, 0.005, 256, seed=3,
                             record=np.arange(0, 801, 20), metrics={"p": osc.position, "v": osc.velocity})
    pv = osc.mean_rate_pseudovalues(tr.values("p"), tr.values("v"), 0.1, 10)
    half = 3 * pv.std() / np.sqrt(pv.size)
    assert abs(pv.mean() - osc.oscillator_rate(1.0, 3.0)) < half + 0.01
    with pytest.raises(cs.ConvsimError):
        osc.DampedOscillator(1.0, -1.0, 1.0)
    with pytest.raises(cs.ConvsimError):
        osc.mean_rate_pseudovalues(tr.values("p"), tr.values("v"), 0.1, 40)


def test_dsgd_sam_strength_is_half_the_consensus_error_of_a_direct_simulation():
    """dsgd-sam reads ½ tr(HΞ) off the exact D-SGD recursion; a direct NumPy simulation of D-SGD on the ring
    (a peer implementation) gives the same average-loss gap (1/M)Σ f(x_m) − f(x̄) at stationarity."""
    from convsim.distributed import GossipSGD, WorkerQuadratics, graphs, worker_moments

    M, gamma, sigma, steps, paths = 8, 0.1, 1.0, 300, 20000
    W = graphs.ring(M)
    exact = worker_moments(WorkerQuadratics(np.ones((M, 1)), np.zeros((M, 1)), sigma=sigma, x0=np.zeros(1)),
                           GossipSGD(gamma, W), steps, record=[steps])
    rng = np.random.default_rng(0)
    X = np.zeros((paths, M))
    for _ in range(steps):
        X = (X - gamma * (X + sigma * rng.standard_normal((paths, M)))) @ W.T
    gap = np.mean(0.5 * (X**2).mean(axis=1) - 0.5 * X.mean(axis=1) ** 2)
    assert gap == pytest.approx(0.5 * exact["consensus"][-1], rel=0.03)
