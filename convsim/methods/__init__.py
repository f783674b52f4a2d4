"""Methods as ``init``/``step`` pairs over explicit batched states."""

from .adaptive import (AdaBelief, Adagrad, AdagradNorm, AdagradNormAdaptiveBatch, Adam, AdamW, Adan, DiffGrad, NAdam,
                       NormalizedSGD, RMSprop, SignSGD)
from .accelerated_newton import AcceleratedStochasticNewton, solve_regularized_model
from .approximate_newton import GradNormSmoothNewton, fisher_matrix
from .augmented_lagrangian import SketchedAugmentedLagrangianNewton
from .averaging import EMA, SWA, Averaged
from .base import Method, Oracle
from .factorized import ScaledGD
from .gradient import GD, SGD, HeavyBall, Nesterov
from .lazy_newton import LazyRegularizedNewton
from .lie_preconditioner import LieGroupPSGD
from .model_building import StochasticModelBuilding
from .momentum import ASGD, NAGGS, Muon, RandomScalingMomentum, StochasticAGD
from .optex import OptEx
from .polyak import PSPS, SPS
from .polynomial import PolynomialPreconditionedGD
from .relu_admm import ConvexReluADMM
from .second_order import AdaHessian, Sophia
from .sharpness import DNSAM, GAM, SAM, USAM
from .stateless import FRUGAL, SWAN, SGDSaI
from .subgradient import GeometricSubgradient
from .surrogate import TargetSurrogateSGD, sso_preconditioner
from .wrappers import DoG, Clipped, Lookahead, MedianOfBatches

REGISTRY = {cls.name: cls for cls in (
    GD, SGD, HeavyBall, Nesterov, Averaged, EMA, Adam, AdamW, NAdam, RMSprop, Adagrad, AdagradNorm, SignSGD,
    NormalizedSGD, AdaBelief, DiffGrad, Adan, Clipped, MedianOfBatches, Lookahead, DoG, SWA, SAM, USAM, DNSAM, GAM, SPS, PSPS, AdaHessian, Sophia, ASGD, NAGGS,
    RandomScalingMomentum, Muon, StochasticAGD, ScaledGD, AdagradNormAdaptiveBatch,
    PolynomialPreconditionedGD, LazyRegularizedNewton, GeometricSubgradient,
    ConvexReluADMM, SWAN, FRUGAL, SGDSaI, GradNormSmoothNewton, AcceleratedStochasticNewton, OptEx,
    TargetSurrogateSGD, SketchedAugmentedLagrangianNewton, LieGroupPSGD, StochasticModelBuilding)}

__all__ = ["Method", "Oracle", "fisher_matrix", "solve_regularized_model", "sso_preconditioner",
           *sorted(c.__name__ for c in REGISTRY.values())]
