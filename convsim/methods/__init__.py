"""Methods as ``init``/``step`` pairs over explicit batched states."""

from .adaptive import (AdaBelief, Adagrad, AdagradNorm, AdagradNormAdaptiveBatch, Adam, AdamW, Adan, DiffGrad, NAdam,
                       NormalizedSGD, RMSprop, SignSGD)
from .averaging import EMA, SWA, Averaged
from .base import Method, Oracle
from .factorized import ScaledGD
from .gradient import GD, SGD, HeavyBall, Nesterov
from .lazy_newton import LazyRegularizedNewton
from .momentum import ASGD, NAGGS, Muon, RandomScalingMomentum, StochasticAGD
from .polyak import PSPS, SPS
from .polynomial import PolynomialPreconditionedGD
from .relu_admm import ConvexReluADMM
from .second_order import AdaHessian, Sophia
from .sharpness import DNSAM, GAM, SAM, USAM
from .subgradient import GeometricSubgradient
from .wrappers import DoG, Clipped, Lookahead, MedianOfBatches

REGISTRY = {cls.name: cls for cls in (
    GD, SGD, HeavyBall, Nesterov, Averaged, EMA, Adam, AdamW, NAdam, RMSprop, Adagrad, AdagradNorm, SignSGD,
    NormalizedSGD, AdaBelief, DiffGrad, Adan, Clipped, MedianOfBatches, Lookahead, DoG, SWA, SAM, USAM, DNSAM, GAM, SPS, PSPS, AdaHessian, Sophia, ASGD, NAGGS,
    RandomScalingMomentum, Muon, StochasticAGD, ScaledGD, AdagradNormAdaptiveBatch,
    PolynomialPreconditionedGD, LazyRegularizedNewton, GeometricSubgradient,
    ConvexReluADMM)}

__all__ = ["Method", "Oracle", *sorted(c.__name__ for c in REGISTRY.values())]
