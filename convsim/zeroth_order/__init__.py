"""Zeroth-order (derivative-free) optimization: estimators from function values, methods, exact references.

``REGISTRY`` maps names to the estimator and method classes (``convsim methods`` lists them with sources).
"""

from .cost import evaluations_per_step, with_evaluations
from .estimators import CoordinateWise, Estimator, GaussianTwoPoint, OnePoint, SphereTwoPoint
from .exact import zo_sgd_suboptimality
from .methods import CBO, ZOSGD, ZOFrankWolfe
from .metrics import PARTICLE_ENERGY, particle_energy_of
from .theory import effective_rank, mezo_gamma, steps_to_level

REGISTRY = {cls.name: cls for cls in (GaussianTwoPoint, SphereTwoPoint, OnePoint, CoordinateWise, ZOSGD, ZOFrankWolfe, CBO)}

__all__ = ["Estimator", "GaussianTwoPoint", "SphereTwoPoint", "OnePoint", "CoordinateWise", "ZOSGD", "ZOFrankWolfe",
           "CBO", "REGISTRY", "evaluations_per_step", "with_evaluations", "PARTICLE_ENERGY", "particle_energy_of",
           "zo_sgd_suboptimality", "effective_rank", "mezo_gamma", "steps_to_level"]
