"""Privacy accounting through dp-accounting, against published and closed-form values (skipped without the
``privacy`` extra)."""

import numpy as np
import pytest
import scipy.optimize
import scipy.stats

import convsim as cs

pytest.importorskip("dp_accounting")
from convsim.privacy import accounting  # noqa: E402



def test_abadi_et_al_moments_accountant_setting():
    # Abadi et al. 2016 (arXiv 1607.00133), Section 3.1: q = 0.01, σ = 4, T = 10 000, δ = 1e-5 gives ε ≈ 1.26 with
    # the moments accountant (9.34 with the strong composition theorem).  RDP accounting (Mironov 2017) over more
    # orders is at least as tight, and the PLD accountant tighter still; none may fall far below.
    rdp = accounting.epsilon(4.0, 0.01, 10_000, 1e-5, "rdp")
    pld = accounting.epsilon(4.0, 0.01, 10_000, 1e-5, "pld")
    assert 0.8 < pld <= rdp <= 1.26


def analytic_gaussian_epsilon(sigma, delta):
    # Balle & Wang 2018 (arXiv 1805.06530), Theorem 8: the Gaussian mechanism with sensitivity 1 and noise σ is
    # (ε, δ)-DP iff Φ(1/(2σ) − εσ) − e^ε Φ(−1/(2σ) − εσ) ≤ δ
    f = lambda eps: (scipy.stats.norm.cdf(0.5 / sigma - eps * sigma)
                     - np.exp(eps) * scipy.stats.norm.cdf(-0.5 / sigma - eps * sigma) - delta)
    return scipy.optimize.brentq(f, 0.0, 50.0)


@pytest.mark.parametrize("sigma", [0.8, 2.0, 5.0])
def test_pld_accountant_matches_the_analytic_gaussian_mechanism(sigma):
    exact = analytic_gaussian_epsilon(sigma, 1e-5)
    assert accounting.epsilon(sigma, 1.0, 1, 1e-5, "pld") == pytest.approx(exact, rel=0.01)
    assert accounting.epsilon(sigma, 1.0, 1, 1e-5, "rdp") >= exact * 0.999  # RDP is an upper bound


def test_epsilon_monotonicity_and_calibration_round_trip():
    e = [accounting.epsilon(z, 0.01, 1000, 1e-5) for z in (0.8, 1.0, 2.0)]
    assert e[0] > e[1] > e[2]
    assert accounting.epsilon(1.0, 0.01, 2000, 1e-5) > e[1]
    z = accounting.noise_multiplier_for(1.26, 0.01, 10_000, 1e-5)
    assert accounting.epsilon(z, 0.01, 10_000, 1e-5) == pytest.approx(1.26, rel=1e-3)
    assert z < 4.0  # tighter accounting than the moments accountant needs less noise for the same ε
    with pytest.raises(cs.ConvsimError, match="accountant"):
        accounting.epsilon(1.0, 0.01, 10, 1e-5, "moments")


@pytest.mark.parametrize("epsilon", [0.5, 2.0, 8.0])
def test_single_gaussian_release_calibration(epsilon):
    # one Gaussian release (the streaming, single-participation mechanism of correlated-noise DP-FTRL): the calibrated
    # z gives epsilon back, and the PLD accountant's epsilon at that z is the analytic Gaussian mechanism's
    z = accounting.gaussian_noise_multiplier_for(epsilon, 1e-5)
    assert accounting.gaussian_epsilon(z, 1e-5) == pytest.approx(epsilon, rel=1e-4)
    assert accounting.gaussian_epsilon(z, 1e-5, "pld") == pytest.approx(analytic_gaussian_epsilon(z, 1e-5), rel=0.01)
    assert accounting.gaussian_epsilon(z, 1e-5, "pld") <= epsilon * 1.001  # RDP is an upper bound


def test_separation_is_total_variation_capped_by_the_chance_of_participating():
    # Poisson sampling: the example takes part in no step with probability (1 - q)^T, so TV <= 1 - (1 - q)^T, an
    # equality in the limit of no noise; more noise separates less
    cap = 1 - (1 - 0.01) ** 100
    tiny = accounting.separation(0.05, 0.01, 100, discretization=3e-2)
    assert cap * 0.99 <= tiny <= cap * 1.001
    seps = [accounting.separation(z, 0.01, 100, discretization=1e-2) for z in (0.5, 1.0, 2.0)]
    assert tiny > seps[0] > seps[1] > seps[2] > 0
