"""Privacy accounting of DP-SGD through Google's ``dp-accounting`` library (never hand-written).

``dp_accounting`` is the ``privacy`` extra (``pip install 'convsim[privacy]'``) and is imported only
when a function here is called.  The mechanism is the one DP-SGD runs: ``steps`` compositions of a
Poisson-subsampled Gaussian mechanism with noise multiplier z and sampling rate q.
"""

from __future__ import annotations

from ..errors import ConvsimError, positive, require

ACCOUNTANTS = ("rdp", "pld")


def _library():
    try:
        import dp_accounting
    except ImportError:
        raise ConvsimError("privacy accounting needs dp-accounting: pip install 'convsim[privacy]'") from None
    return dp_accounting


def dp_sgd_event(noise_multiplier: float, sampling_rate: float, steps: int):
    """The dp_accounting event of DP-SGD: ``steps`` self-compositions of a Poisson-subsampled Gaussian."""
    dp = _library()
    positive("noise_multiplier", noise_multiplier)
    require(0 < sampling_rate <= 1, f"sampling_rate must be in (0, 1], got {sampling_rate}")
    positive("steps", steps, integer=True)
    return dp.SelfComposedDpEvent(dp.PoissonSampledDpEvent(sampling_rate, dp.GaussianDpEvent(noise_multiplier)), steps)


def _accountant(accountant: str):
    dp = _library()
    require(accountant in ACCOUNTANTS, f"unknown accountant {accountant!r}; choose from {', '.join(ACCOUNTANTS)}")
    return dp.rdp.RdpAccountant() if accountant == "rdp" else dp.pld.PLDAccountant()


def epsilon(noise_multiplier: float, sampling_rate: float, steps: int, delta: float, accountant: str = "rdp") -> float:
    """ε of (ε, δ)-DP after ``steps`` DP-SGD steps (RDP or privacy-loss-distribution accountant)."""
    require(0 < delta < 1, f"delta must be in (0, 1), got {delta}")
    acc = _accountant(accountant)
    acc.compose(dp_sgd_event(noise_multiplier, sampling_rate, steps))
    return float(acc.get_epsilon(delta))


def noise_multiplier_for(target_epsilon: float, sampling_rate: float, steps: int, delta: float,
                         accountant: str = "rdp") -> float:
    """The smallest noise multiplier whose ε after ``steps`` steps is at most ``target_epsilon``
    (dp_accounting's calibration search)."""
    dp = _library()
    positive("target_epsilon", target_epsilon)
    make = (lambda: dp.rdp.RdpAccountant()) if accountant == "rdp" else (lambda: dp.pld.PLDAccountant())
    require(accountant in ACCOUNTANTS, f"unknown accountant {accountant!r}; choose from {', '.join(ACCOUNTANTS)}")
    bracket = dp.LowerEndpointAndGuess(1e-3, 1.0)  # noise multipliers are positive
    return float(dp.calibrate_dp_mechanism(make, lambda z: dp_sgd_event(z, sampling_rate, steps), target_epsilon, delta,
                                           bracket_interval=bracket, tol=1e-6))


def gaussian_noise_multiplier_for(target_epsilon: float, delta: float, accountant: str = "rdp") -> float:
    """The noise multiplier z (noise std / L2 sensitivity) of ONE Gaussian release that is (ε, δ)-DP: the mechanism a
    streaming run with one participation per example is, whatever its noise correlation (dp_accounting's calibration)."""
    dp = _library()
    positive("target_epsilon", target_epsilon)
    require(0 < delta < 1, f"delta must be in (0, 1), got {delta}")
    require(accountant in ACCOUNTANTS, f"unknown accountant {accountant!r}; choose from {', '.join(ACCOUNTANTS)}")
    bracket = dp.ExplicitBracketInterval(0.3, 1000.0)  # ε from ~30 down to ~0.005 at δ = 1e-5; PLD cannot start near 0
    return float(dp.calibrate_dp_mechanism(lambda: _accountant(accountant), dp.GaussianDpEvent, target_epsilon, delta,
                                           bracket_interval=bracket, tol=1e-6))


def gaussian_epsilon(noise_multiplier: float, delta: float, accountant: str = "rdp") -> float:
    """ε at δ of one Gaussian release with noise multiplier z."""
    require(0 < delta < 1, f"delta must be in (0, 1), got {delta}")
    acc = _accountant(accountant)
    acc.compose(_library().GaussianDpEvent(positive("noise_multiplier", noise_multiplier)))
    return float(acc.get_epsilon(delta))


def separation(noise_multiplier: float, sampling_rate: float, steps: int, discretization: float = 1e-3) -> float:
    """The largest vertical gap between the trade-off curve of ``steps`` Poisson-subsampled Gaussian steps and the
    random-guessing line 1 − α: the total variation distance of the dominating pair, δ(ε = 0) of dp_accounting's
    privacy-loss-distribution accountant (an upper bound, tighter for a finer ``discretization``)."""
    dp = _library()
    acc = dp.pld.PLDAccountant(value_discretization_interval=positive("discretization", discretization))
    acc.compose(dp_sgd_event(noise_multiplier, sampling_rate, steps))
    return float(acc.get_delta(0.0))
