"""Exact second moments of Noisy-SGD / Noisy-FTRL (:class:`~convsim.privacy.correlated.CorrelatedNoiseSGD`) on a
diagonal :class:`~convsim.problems.Quadratic`, and the frequency-domain stationary error.

In H's eigenbasis (``rotate=False``) write e = θ − θ*, n_t = Σ_{k<K} β_k w_{t−k} (w_u = 0 for u < 0), and
D_k(t) = E[e_t ⊙ w_{t−k}] (per coordinate; e_t is independent of w_t, so D_0 = 0).  One step is
e' = A e + η ξ − η n with the oracle's noise:

* ``noise.LinearRegression(σ)`` (batch 1, features a ~ N(0, H), labels aᵀθ* + ε): A = I − η a aᵀ, ξ = a ε;
  E[A S A] = S − η(HS + SH) + η²(2HSH + tr(HS) H) (Gaussian fourth moment), so on the diagonal
  S'_j = (1 − ηλ_j)² S_j + η²λ_j² S_j + η²λ_j Σ_i λ_i S_i + η² σ² λ_j + η² s² Σ_k β_k² 1[t ≥ k]
  − 2η (1 − ηλ_j) Σ_{k≥1} β_k D_k,j(t);
* ``noise.Gaussian(σ, p)`` or none: A = I − ηH, additive ξ with variance σ² λ_j^p / B (the LTI system of the paper);

and D_k(t + 1) = (1 − ηλ) ⊙ D_{k−1}(t) − η s² β_{k−1} 1[t + 1 ≥ k] (only w_{t+1−k} in n_t meets w_{t+1−k}).
Cross moments of different coordinates vanish (w is isotropic, E[a_i a_j] = 0 for i ≠ j), so this is exact.

:func:`stationary_error_lti` is the t → ∞ limit of the LTI case in the frequency domain (Parseval):
E e_j² → η² s² (1/2π) ∫_{−π}^{π} |β(e^{iω})|² / |1 − (1 − ηλ_j) e^{iω}|² dω + η² v_j / (1 − (1 − ηλ_j)²),
v_j the additive gradient-noise variance — integrated with scipy, independently of the recursion.
"""

from __future__ import annotations

import numpy as np
import scipy.integrate

from ..engine.checkpoints import checkpoints
from ..errors import ConvsimError, require
from ..noise import Gaussian, LinearRegression
from ..problems.quadratic import Quadratic


def _oracle_noise(problem: Quadratic):
    """(multiplicative, label variance σ² for LinearRegression | additive variances per eigendirection)."""
    lam, noise = problem.eigenvalues, problem.noise
    if noise is None:
        return False, np.zeros_like(lam)
    if type(noise) is LinearRegression:
        require(problem.batch_size == 1, "the exact Noisy-FTRL law covers streaming regression with batch size 1")
        return True, noise.noise_std**2
    if type(noise) is Gaussian:
        return False, noise.sigma**2 * lam**noise.power / problem.batch_size
    raise ConvsimError(f"the exact Noisy-FTRL law covers Gaussian, LinearRegression or no noise, not {type(noise).__name__}")


def correlated_noise_moments(problem: Quadratic, step: float, coefficients, noise_std: float, steps: int,
                             record="log") -> dict:
    """Exact ``{"steps", "suboptimality", "dist_sq"}`` of Noisy-FTRL with a constant step on a diagonal quadratic."""
    require(isinstance(problem, Quadratic) and problem.rotation is None,
            "the exact Noisy-FTRL law needs a diagonal Quadratic (rotate=False)")
    lam = problem.eigenvalues
    beta = np.atleast_1d(np.asarray(coefficients, dtype=np.float64))
    K, eta, s2 = beta.size, float(step), float(noise_std) ** 2
    multiplicative, v = _oracle_noise(problem)
    e0 = problem.initial_point() - problem.x_star
    S = e0 * e0  # diagonal second moments
    D = np.zeros((K, lam.size))  # D[k] = E[e_t w_{t-k}], D[0] = 0
    a = 1.0 - eta * lam
    grid = checkpoints(steps, record)
    out = {"suboptimality": np.empty(grid.size), "dist_sq": np.empty(grid.size)}
    t = 0
    for i, target in enumerate(grid):
        while t < target:
            active = beta[: min(K, t + 1)]
            S_new = a * a * S + eta**2 * s2 * float(active @ active) - 2.0 * eta * a * (beta[1:] @ D[1:])
            if multiplicative:
                S_new += eta**2 * (lam**2 * S + lam * float(lam @ S) + v * lam)
            else:
                S_new += eta**2 * v
            D_new = np.zeros_like(D)
            D_new[1:] = a * D[:-1] - eta * s2 * beta[:-1, None] * (np.arange(1, K) <= t + 1)[:, None]
            S, D = S_new, D_new
            t += 1
        out["suboptimality"][i] = 0.5 * float(lam @ S)
        out["dist_sq"][i] = float(S.sum())
    return {"steps": grid, **out}


def stationary_error_lti(eigenvalues, step: float, coefficients, noise_std: float, gradient_noise_var=0.0) -> dict:
    """The t → ∞ ``{"suboptimality", "dist_sq"}`` of Noisy-FTRL on a quadratic with additive gradient noise, from the
    frequency-domain integral (requires 0 < ηλ < 2 for every eigenvalue)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    beta = np.atleast_1d(np.asarray(coefficients, dtype=np.float64))
    eta = float(step)
    require(bool(np.all((eta * lam > 0) & (eta * lam < 2))), "the LTI system is stable only for 0 < step*lambda < 2")
    v = np.broadcast_to(np.asarray(gradient_noise_var, dtype=np.float64), lam.shape)
    k = np.arange(beta.size)

    def power(omega, a):  # |β(e^{iω})|² / |1 − a e^{iω}|², even in ω
        re, im = beta @ np.cos(k * omega), beta @ np.sin(k * omega)
        return (re * re + im * im) / (1.0 - 2.0 * a * np.cos(omega) + a * a)

    second = np.empty(lam.size)
    for j, (lj, vj) in enumerate(zip(lam, v)):
        a = 1.0 - eta * lj
        integral = scipy.integrate.quad(power, 0.0, np.pi, args=(a,), limit=500, epsabs=0, epsrel=1e-10)[0] / np.pi
        second[j] = eta**2 * noise_std**2 * integral + eta**2 * vj / (1.0 - a * a)
    return {"suboptimality": 0.5 * float(lam @ second), "dist_sq": float(second.sum())}
