"""Riemannian manifolds in closed form (the Poincaré ball), geodesically convex problems on them, and the
Riemannian adaptive and SPD-momentum methods of Bécigneul & Ganea (2019) and Lin et al. (2023)."""

from . import poincare
from .methods import RAMSGRAD, SPDMomentum
from .problems import FrechetBall, GaussianPrecision, geodesic_dist_sq, max_component_norm, min_eigenvalue

REGISTRY = {cls.name: cls for cls in (RAMSGRAD, SPDMomentum)}

__all__ = ["REGISTRY", "poincare", "RAMSGRAD", "SPDMomentum", "FrechetBall", "GaussianPrecision",
           "geodesic_dist_sq", "max_component_norm", "min_eigenvalue"]
