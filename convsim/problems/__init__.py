"""Problems: the batch-first protocol and the shipped instances."""

from .base import Problem
from .classification import SeparableLogistic
from .finite_sum import FiniteSum, LeastSquares, LogisticRegression
from .interpolating import InterpolatingLeastSquares
from .matrix_sensing import MatrixSensing
from .nonsmooth import MaxOfAffine, WeightedL1
from .quadratic import Quadratic
from .test_functions import Ackley, BallQuadratic, Rastrigin, StrictSaddle

REGISTRY = {cls.name: cls for cls in (Quadratic, LeastSquares, LogisticRegression, WeightedL1, MaxOfAffine,
                                      InterpolatingLeastSquares, MatrixSensing,
                                      SeparableLogistic, Rastrigin, Ackley, StrictSaddle, BallQuadratic)}

__all__ = ["Problem", "Quadratic", "FiniteSum", "LeastSquares", "LogisticRegression", "WeightedL1", "MaxOfAffine",
           "InterpolatingLeastSquares", "MatrixSensing", "SeparableLogistic",
           "Rastrigin", "Ackley", "StrictSaddle", "BallQuadratic", "REGISTRY"]
