"""SDE approximations: terms, solvers, batched path simulation, and maps from methods to SDEs."""

from .adaptive import adam_sde, adam_sde_moments, rmsprop_sde, rmsprop_sde_moments
from .maps import (GradientNoise, gradient_sde, heavy_ball_stationary_covariance, sgd_sde, sgd_stationary_covariance,
                   sgdm_sde)
from .scaling import LINEAR, SQUARE_ROOT, ScalingRule, linear_rule, sqrt_rule
from .simulate import simulate_sde
from .solvers import EulerLevy, EulerMaruyama, ExactOU, Milstein
from .terms import SDE, LinearSDE

__all__ = ["SDE", "LinearSDE", "EulerLevy", "EulerMaruyama", "Milstein", "ExactOU", "simulate_sde", "sgd_sde",
           "sgd_stationary_covariance", "GradientNoise", "gradient_sde", "sgdm_sde", "heavy_ball_stationary_covariance",
           "rmsprop_sde", "adam_sde", "rmsprop_sde_moments", "adam_sde_moments", "linear_rule", "sqrt_rule",
           "ScalingRule", "LINEAR", "SQUARE_ROOT"]
from .sharpness import dnsam_sde, sam_increment_moments, sam_sde, usam_linear_sde, usam_sde  # noqa: E402

__all__ += ["usam_sde", "usam_linear_sde", "dnsam_sde", "sam_sde", "sam_increment_moments"]
from .oscillator import DampedOscillator, critical_damping, mean_rate_pseudovalues, oscillator_rate  # noqa: E402

__all__ += ["DampedOscillator", "oscillator_rate", "critical_damping", "mean_rate_pseudovalues"]
