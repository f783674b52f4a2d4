"""Problems: the batch-first protocol and the shipped instances."""

from .autoencoder import OrderedLinearAutoencoder
from .base import Problem
from .classification import SeparableLogistic
from .constrained import QuadraticEquality
from .diagonal_network import DiagonalNetwork
from .finite_sum import FiniteSum, LeastSquares, LogisticRegression
from .interpolating import InterpolatingLeastSquares
from .matrix_sensing import MatrixSensing
from .nonsmooth import MaxOfAffine, WeightedL1
from .quadratic import Quadratic
from .relu_convex import ConvexReluRegression
from .robust_sensing import RobustMatrixSensing
from .scalar_network import ScalarNetwork
from .test_functions import Ackley, BallQuadratic, Rastrigin, SineWell, StrictSaddle
from .two_minimum import TwoMinimum

REGISTRY = {cls.name: cls for cls in (Quadratic, LeastSquares, LogisticRegression, WeightedL1, MaxOfAffine,
                                      InterpolatingLeastSquares, MatrixSensing,
                                      SeparableLogistic, Rastrigin, Ackley, StrictSaddle, BallQuadratic,
                                      TwoMinimum, ScalarNetwork, DiagonalNetwork, OrderedLinearAutoencoder,
                                      RobustMatrixSensing, ConvexReluRegression, SineWell)}

__all__ = ["Problem", "Quadratic", "FiniteSum", "LeastSquares", "LogisticRegression", "WeightedL1", "MaxOfAffine",
           "InterpolatingLeastSquares", "MatrixSensing", "SeparableLogistic",
           "Rastrigin", "Ackley", "StrictSaddle", "BallQuadratic", "TwoMinimum", "ScalarNetwork", "DiagonalNetwork",
           "OrderedLinearAutoencoder", "RobustMatrixSensing",
           "ConvexReluRegression", "SineWell", "QuadraticEquality", "REGISTRY"]
