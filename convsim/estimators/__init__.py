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
* :mod:`.hippo` — the HiPPO-LegS matrix and perturb-then-diagonalize.
* :mod:`.consistency` — comp-sum losses and their H-consistency error transformations.
* :mod:`.quantized_preconditioner` — 4-bit quantization of a preconditioner's eigenvectors or of the matrix.
* :mod:`.bags` — instance- and bag-level losses of aggregated labels.
* :mod:`.unnormalized` — compositional MLE vs NCE for a 1-d Gaussian mean, and NCE's asymptotic variance.
* :mod:`.optimal_transport` — the entropic OT dual: Sinkhorn, Sinkhorn-Newton-Sparse, Sinkhorn's exact rate.
* :mod:`.runner` — batched Monte Carlo over replica streams, and checks on categorical abscissae.
"""

from .bags import BagLosses
from .consistency import CompSumLoss, error_transformation, worst_case, zero_one_regret
from .hippo import PerturbThenDiagonalize, davies_bound, eigenvector_condition, legs_matrix
from .lsa import ScalarLSA, kesten_index, log_abs_normal_moment
from .optimal_transport import EntropicOT, Sinkhorn, SinkhornNewtonSparse, sinkhorn_contraction
from .quantized_preconditioner import (BlockQuantizer, EigenQuantizedRoot, MatrixQuantizedRoot, exact_root,
                                       relative_error)
from .tails import TailIndex, hill_gamma, hill_index, hill_interval, index_series
from .unnormalized import NCE, CompositionalMLE, GaussianMeanEstimation, nce_asymptotic_variance

__all__ = ["ScalarLSA", "kesten_index", "log_abs_normal_moment", "TailIndex", "hill_gamma", "hill_index",
           "hill_interval", "index_series", "PerturbThenDiagonalize", "davies_bound", "eigenvector_condition",
           "legs_matrix", "CompSumLoss", "error_transformation", "worst_case", "zero_one_regret", "BlockQuantizer",
           "EigenQuantizedRoot", "MatrixQuantizedRoot", "exact_root", "relative_error", "BagLosses",
           "CompositionalMLE", "GaussianMeanEstimation", "NCE", "nce_asymptotic_variance", "EntropicOT", "Sinkhorn",
           "SinkhornNewtonSparse", "sinkhorn_contraction"]
