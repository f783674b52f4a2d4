"""Differential privacy: DP-SGD with per-sample clipping, DiceSGD (clipping error feedback), the
clipping bias as an exact fixed point, Toeplitz-correlated noise (Noisy-FTRL / ν-DP-FTRL) with its exact
law, and accounting through Google's ``dp-accounting`` (lazy)."""

from .bias import clipped_fixed_point, clipping_bias_sq
from .correlated import CorrelatedNoiseSGD, inverse_coefficients, nu_dp_ftrl_coefficients, toeplitz_sensitivity
from .exact import correlated_noise_moments, stationary_error_lti
from .methods import DPSGD, DiceSGD, clip_rows, per_sample_grads

REGISTRY = {cls.name: cls for cls in (DPSGD, DiceSGD, CorrelatedNoiseSGD)}
"""Privacy methods by name (for ``convsim methods``)."""

__all__ = ["DPSGD", "DiceSGD", "clip_rows", "per_sample_grads", "clipped_fixed_point", "clipping_bias_sq", "REGISTRY",
           "CorrelatedNoiseSGD", "nu_dp_ftrl_coefficients", "inverse_coefficients", "toeplitz_sensitivity",
           "correlated_noise_moments", "stationary_error_lti"]
