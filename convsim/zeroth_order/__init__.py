"""Zeroth-order (derivative-free) optimization: estimators from function values, methods, exact references.

``REGISTRY`` maps names to the estimator and method classes (``convsim methods`` lists them with sources).
"""

from .cost import evaluations_per_step, with_evaluations
from .estimators import (CoordinateWise, Estimator, GaussianTwoPoint, MaskedTwoPoint, OnePoint, RankingOracle,
                         SphereTwoPoint, ranking_weights)
from .exact import zo_sgd_suboptimality
from .methods import CBO, ZOSAH, ZOSGD, GFMPlus, LowRankZO, PerturbedZOSGD, QuantizedZOSGD, ZOFrankWolfe
from .metrics import GRAD_NORM, PARTICLE_ENERGY, grad_norm_of, particle_energy_of
from .theory import (effective_rank, mezo_gamma, normal_order_means, ranking_mean_factor,
                     ranking_orthogonal_second_moment, steps_to_level)

_CLASSES = (GaussianTwoPoint, SphereTwoPoint, OnePoint, CoordinateWise, RankingOracle, MaskedTwoPoint, ZOSGD,
            PerturbedZOSGD, QuantizedZOSGD, LowRankZO, GFMPlus, ZOSAH, ZOFrankWolfe, CBO)
REGISTRY = {cls.name: cls for cls in _CLASSES}

__all__ = ["Estimator", "GaussianTwoPoint", "SphereTwoPoint", "OnePoint", "CoordinateWise", "RankingOracle",
           "MaskedTwoPoint", "ranking_weights", "ZOSGD", "PerturbedZOSGD", "QuantizedZOSGD", "LowRankZO", "GFMPlus", "ZOSAH",
           "ZOFrankWolfe", "CBO", "REGISTRY", "evaluations_per_step",
           "with_evaluations", "PARTICLE_ENERGY", "particle_energy_of", "GRAD_NORM", "grad_norm_of",
           "zo_sgd_suboptimality", "effective_rank", "mezo_gamma", "steps_to_level", "normal_order_means",
           "ranking_mean_factor", "ranking_orthogonal_second_moment"]

from .exact import hybrid_zo_suboptimality  # noqa: E402
from .hybrid import HybridZO  # noqa: E402

REGISTRY[HybridZO.name] = HybridZO
__all__ += ["HybridZO", "hybrid_zo_suboptimality"]
