"""Estimator toys with exact answers (the claims of the family ``other``).

* :mod:`.lsa` — fixed-step scalar linear stochastic approximation (a Problem for ``cs.methods.SGD``) and the
  Kesten–Goldie tail index of its stationary law; :mod:`.tails` — Hill's estimator and the ``TailIndex`` check.
* :mod:`.mixing` — the MSE-optimal mixture of two gradient estimators (BVPO).
* :mod:`.column_row` — CRS and WTA-CRS estimators of a matrix product with exact variances.
* :mod:`.taylor` — second-order Taylor-mode jets and the stochastic Laplacian estimator (STDE).
* :mod:`.elbo` — score-function and reparameterization ELBO gradients with closed-form moments.
* :mod:`.mfac` — M-FAC's matrix-free inverse-Fisher-vector product.
* :mod:`.sliced` — sliced Wasserstein Monte Carlo with Gaussian control variates.
* :mod:`.ou` — the OU system whose equilibrium solves F y = g, and the exact error of its time averages (TNGD).
* :mod:`.runner` — batched Monte Carlo over replica streams, and checks on categorical abscissae.
"""

from .lsa import ScalarLSA, kesten_index, log_abs_normal_moment
from .tails import TailIndex, hill_gamma, hill_index, hill_interval, index_series

__all__ = ["ScalarLSA", "kesten_index", "log_abs_normal_moment", "TailIndex", "hill_gamma", "hill_index",
           "hill_interval", "index_series"]

from .hippo import PerturbThenDiagonalize, davies_bound, eigenvector_condition, legs_matrix

__all__ += ["PerturbThenDiagonalize", "davies_bound", "eigenvector_condition", "legs_matrix"]

from .consistency import CompSumLoss, error_transformation, worst_case, zero_one_regret

__all__ += ["CompSumLoss", "error_transformation", "worst_case", "zero_one_regret"]

from .quantized_preconditioner import (BlockQuantizer, EigenQuantizedRoot, MatrixQuantizedRoot, exact_root,
                                       relative_error)

__all__ += ["BlockQuantizer", "EigenQuantizedRoot", "MatrixQuantizedRoot", "exact_root", "relative_error"]

from .bags import BagLosses

__all__ += ["BagLosses"]

from .unnormalized import CompositionalMLE, GaussianMeanEstimation, NCE, nce_asymptotic_variance

__all__ += ["CompositionalMLE", "GaussianMeanEstimation", "NCE", "nce_asymptotic_variance"]
