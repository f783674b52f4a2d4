"""Exact references: mean and covariance recursions of linear methods, no Monte Carlo.

On a quadratic (``Quadratic`` with Gaussian, LinearRegression or no noise) or a finite-sum
least squares sampled with replacement, GD, SGD (any schedule, momentum, dampening,
Nesterov, weight decay), heavy ball, Nesterov, Polyak–Ruppert / tail averaging, EMA, SWA and
Lookahead keep a state that is an affine function of the noise; :func:`moments` propagates its
mean and covariance exactly, for the very process that :func:`convsim.simulate` samples::

    ex = cs.exact.moments(problem, method, steps)        # checkpoints of simulate(record="log")
    ex.expected("suboptimality")                         # E f(x_t) − f*, one value per checkpoint
    ex.mean, ex.eigen_second_moments                     # E x_t; E((x_t − x*)·q_i)² per eigenvector

References for claims: build the method from the claim's settings *in the check* (never the
object the context ran, which a mutation may have rewritten).
"""

from .models import LinearModel, LinearStep, linear_model
from .moments import METRICS, ExactMoments, moments, stationary_covariance

__all__ = ["moments", "ExactMoments", "stationary_covariance", "linear_model", "LinearModel", "LinearStep", "METRICS"]
