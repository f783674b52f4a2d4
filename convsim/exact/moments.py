"""Exact mean and covariance of a linear method's state, propagated step by step (no Monte Carlo).

With the step ``z' = A z + b g`` of :mod:`convsim.exact.models` and the gradient at
y = c·z written ``g = G e_y + wd·x* + ξ`` (G = H + wd·I, e_y = y − x*, ξ the oracle's
noise, conditionally mean zero), the state's mean m and covariance P obey

    m' = Ã m + b ⊗ wd·x*,     P' = Ã P Ãᵀ + (b bᵀ) ⊗ Σ,     Ã = A ⊗ I + (b cᵀ) ⊗ G,

where Σ = E Cov[ξ | y] is the noise covariance averaged over the law of y (ξ is
uncorrelated with z, so no cross term).  Σ for each gradient model:

* ``noise.Gaussian(σ, p)``: σ² H^p / B, whatever y;
* ``noise.LinearRegression(σ)``, features a ~ N(0, H), labels aᵀx* + ε: for one sample
  Cov[a aᵀe − aε | e] = E[a aᵀ e eᵀ a aᵀ] − H e eᵀ H + σ² H = H e eᵀ H + (eᵀHe) H + σ² H
  (Gaussian fourth moment E[a aᵀ M a aᵀ] = 2 HMH + tr(HM) H), so with M = E[e_y e_yᵀ] and
  a minibatch of B independent samples Σ = (H M H + tr(HM) H + σ² H) / B;
* a finite-sum least squares (1/2n)‖Ax − b‖² (+ reg/2 ‖x‖²) sampled uniformly with
  replacement: per sample g_i = G_i e + s_i with G_i = a_i a_iᵀ + reg·I and
  s_i = ∇f_i(x*) (mean zero), so Σ = [(1/n) Σ_i (G_i M G_i + G_i m s_iᵀ + s_i mᵀ G_i + s_i s_iᵀ) − H M H] / B
  with m = E e_y; the reg terms cancel.

On a :class:`~convsim.problems.Quadratic` every matrix is diagonal in H's eigenbasis, so by
default only the k×k block of each eigendirection is kept (O(d k²) a step): exact for the
mean and for every second moment along an eigendirection, hence for the metrics; the
multiplicative noise couples directions only through tr(HM).  ``covariance=True`` keeps the
dense (k d)² covariance instead (needed for off-diagonal covariances under multiplicative noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ..engine.checkpoints import checkpoints
from ..errors import ConvsimError, require
from ..noise import Gaussian, LinearRegression
from ..problems.finite_sum import LeastSquares
from ..problems.quadratic import Quadratic
from .models import LinearModel, linear_model

METRICS = ("suboptimality", "dist_sq", "grad_norm_sq", "value")


# -- the problem and its gradient law, in a basis where the recursion is written ---------------------
@dataclass(frozen=True)
class _Law:
    """A problem seen by the recursion: H, x*, x0 − x* in ``basis`` coordinates (columns of ``basis`` are the
    directions; None = the standard basis), and Σ(m, M) of the gradient noise at a point with error mean m
    and second moment M.  ``diagonal``: H and Σ are diagonal here (eigenbasis of a quadratic)."""

    H: np.ndarray  # (d,) eigenvalues when diagonal, else (d, d)
    x_star: np.ndarray
    e0: np.ndarray
    basis: np.ndarray | None
    noise: object  # (m, M) -> Σ; M is (d,) diagonal / (d, d) dense; None: noiseless
    diagonal: bool
    f_star: float
    x_star_original: np.ndarray


def _quadratic_law(problem: Quadratic) -> _Law:
    lam, Q = problem.eigenvalues, problem.rotation
    to_eig = (lambda v: v) if Q is None else (lambda v: Q.T @ v)
    noise, B = problem.noise, problem.batch_size
    if noise is None:
        sigma = None
    elif type(noise) is Gaussian:
        level = noise.sigma**2 * lam**noise.power / B
        sigma = lambda m, M: level if M.ndim == 1 else np.diag(level)
    elif type(noise) is LinearRegression:
        s2 = noise.noise_std**2

        def sigma(m, M):  # (H M H + tr(HM) H + σ² H) / B, H = diag(lam)
            if M.ndim == 1:
                return (lam * lam * M + lam * (lam @ M + s2)) / B
            return (lam[:, None] * M * lam[None, :] + np.diag(lam * (lam @ np.diag(M) + s2))) / B
    else:
        raise ConvsimError(f"convsim.exact covers Gaussian, LinearRegression or no noise, not {type(noise).__name__}")
    return _Law(lam, to_eig(problem.x_star), to_eig(problem.initial_point() - problem.x_star), Q, sigma, True,
                float(problem.f_star), problem.x_star)


def _least_squares_law(problem: LeastSquares) -> _Law:
    require(problem.sampling == "with-replacement",
            f"convsim.exact covers finite sums sampled with replacement, not {problem.sampling!r}")
    A, n, reg, B = problem.A, problem.n, problem.reg, problem.batch_size
    Ha = A.T @ A / n
    x_star = problem.x_star
    S = (A @ x_star - problem.y)[:, None] * A + reg * x_star  # ∇f_i(x*), rows; their mean is 0
    SS = S.T @ S / n

    d = problem.dim
    if d <= 40:  # both terms are linear in (M, m): precompute their d²×d² and d²×d matrices once
        outer = np.einsum("ni,nj->nij", A, A).reshape(n, d * d)
        fourth = outer.T @ outer / n  # vec((1/n) Σ a_i a_iᵀ M a_i a_iᵀ) = fourth · vec(M)
        mixed = np.einsum("ni,nj,nk->ijk", A, S, A).reshape(d * d, d) / n  # (1/n) Σ a_i s_iᵀ (a_iᵀ m)

        def sigma(m, M):
            cross = (mixed @ m).reshape(d, d)
            return ((fourth @ M.reshape(-1)).reshape(d, d) - Ha @ M @ Ha + cross + cross.T + SS) / B
    else:
        def sigma(m, M):
            q = np.sum((A @ M) * A, axis=1)  # a_iᵀ M a_i
            cross = (A * (A @ m)[:, None]).T @ S / n  # (1/n) Σ a_i (a_iᵀ m) s_iᵀ
            return ((A * q[:, None]).T @ A / n - Ha @ M @ Ha + cross + cross.T + SS) / B

    return _Law(Ha + reg * np.eye(problem.dim), x_star, problem.initial_point() - x_star, None, sigma, False,
                float(problem.f_star), x_star)


def _law(problem) -> _Law:
    if type(problem) is Quadratic:
        return _quadratic_law(problem)
    if type(problem) is LeastSquares:
        return _least_squares_law(problem)
    raise ConvsimError(f"convsim.exact covers Quadratic and LeastSquares problems, not {type(problem).__name__}")


# -- the result ------------------------------------------------------------------------------------
@dataclass
class ExactMoments:
    """Exact moments of the recorded point ``method.point`` at the checkpoints ``steps``.

    ``mean[j]`` is E[x_t] (original coordinates), ``covariance[j]`` Cov[x_t] (only when the dense
    covariance was kept: ``covariance=True``, or a finite sum), ``eigen_second_moments[j, i]`` is
    E[((x_t − x*)·q_i)²] along the i-th eigenvector of H (quadratics; None otherwise)."""

    steps: np.ndarray
    mean: np.ndarray
    covariance: np.ndarray | None
    eigen_second_moments: np.ndarray | None
    metrics: dict

    def expected(self, metric: str) -> np.ndarray:
        """E[metric] at the checkpoints: "suboptimality" ½E(x−x*)ᵀH(x−x*), "dist_sq", "grad_norm_sq", "value"."""
        if metric not in self.metrics:
            raise ConvsimError(f"no exact expectation of {metric!r}; known: {', '.join(METRICS)}")
        return self.metrics[metric]


def moments(problem, method, steps: int, record="log", *, covariance: bool = False) -> ExactMoments:
    """Exact moments of ``method`` run on ``problem`` for ``steps`` steps, at the checkpoints of
    :func:`convsim.simulate` for the same ``record`` (so they align with a trace's ``steps``).

    Supported: problems ``Quadratic`` (Gaussian, LinearRegression or no noise) and ``LeastSquares``
    (sampling with replacement); methods GD, SGD (schedules, momentum, dampening, Nesterov, weight
    decay), HeavyBall, Nesterov, Averaged, EMA, SWA, Lookahead, nested.
    """
    law, model = _law(problem), linear_model(method)
    grid = checkpoints(steps, record)
    dense = covariance or not law.diagonal
    run = _run_dense if dense else _run_diagonal
    return run(law, model, grid)


def _record_metrics(H_diag_or_dense, e_mean, second, f_star, diagonal):
    """E[metrics] from the recorded point's error mean and second moment (diagonal: per direction)."""
    if diagonal:
        lam = H_diag_or_dense
        sub = 0.5 * float(lam @ second)
        return {"suboptimality": sub, "dist_sq": float(np.sum(second)),
                "grad_norm_sq": float((lam * lam) @ second), "value": sub + f_star}
    H = H_diag_or_dense
    sub = 0.5 * float(np.sum(H * second))
    return {"suboptimality": sub, "dist_sq": float(np.trace(second)), "grad_norm_sq": float(np.sum((H @ H) * second)),
            "value": sub + f_star}


def _collect(records):
    return {name: np.array([r[name] for r in records]) for name in METRICS}


def _run_diagonal(law: _Law, model: LinearModel, grid) -> ExactMoments:
    lam, k = law.H, model.k
    d = lam.size
    m = law.e0[:, None] * model.init[None, :]  # (d, k): block means per eigendirection
    P = np.zeros((d, k, k))
    p = model.point
    means, seconds, records = [], [], []
    t = 0
    for target in grid:
        while t < target:
            s = model.step(t)
            curv = lam + s.weight_decay
            At = s.A[None] + curv[:, None, None] * np.outer(s.b, s.c)[None]
            if s.noisy and law.noise is not None:
                ey = m @ s.c
                noise = law.noise(ey, np.einsum("k,ikl,l->i", s.c, P, s.c) + ey * ey)
            else:
                noise = None
            m = np.einsum("ikl,il->ik", At, m)
            if s.weight_decay:
                m = m + (s.weight_decay * law.x_star)[:, None] * s.b[None, :]
            P = At @ P @ np.swapaxes(At, 1, 2)
            if noise is not None:
                P = P + noise[:, None, None] * np.outer(s.b, s.b)[None]
            t += 1
        mean_e, var = m @ p, np.einsum("k,ikl,l->i", p, P, p)
        second = var + mean_e * mean_e
        means.append(_to_original(law, mean_e) + law.x_star_original)
        seconds.append(second)
        records.append(_record_metrics(lam, mean_e, second, law.f_star, True))
    return ExactMoments(grid, np.array(means), None, np.array(seconds), _collect(records))


def _run_dense(law: _Law, model: LinearModel, grid) -> ExactMoments:
    k = model.k
    H = np.diag(law.H) if law.diagonal else law.H
    d = H.shape[0]
    I = np.eye(d)
    m = np.kron(model.init, law.e0)  # block-major: z = (z_0, ..., z_{k-1})
    P = np.zeros((k * d, k * d))
    Pt = np.kron(model.point, I)  # (d, k d): the recorded point
    means, covs, seconds, records = [], [], [], []
    t, last = 0, None
    for target in grid:
        while t < target:
            s = model.step(t)
            if last is None or not s.same_as(last):  # constant steps: build the block matrices once
                G = H + s.weight_decay * I if s.weight_decay else H
                At = (s.A[0, 0] * I + (s.b[0] * s.c[0]) * G if k == 1
                      else np.kron(s.A, I) + np.kron(np.outer(s.b, s.c), G))
                rows = [i for i in range(k) if s.c[i]]  # the blocks the gradient point reads
                bb = np.outer(s.b, s.b)
                shift = np.kron(s.b, s.weight_decay * law.x_star) if s.weight_decay else None
                last = s
            if s.noisy and law.noise is not None:
                ey = sum(s.c[i] * m[i * d:(i + 1) * d] for i in rows)
                Mey = sum(s.c[i] * s.c[j] * P[i * d:(i + 1) * d, j * d:(j + 1) * d] for i in rows for j in rows)
                noise = law.noise(ey, Mey + np.outer(ey, ey))
            else:
                noise = None
            m = At @ m
            if shift is not None:
                m = m + shift
            P = At @ P @ At.T
            if noise is not None:
                P = P + (np.kron(bb, noise) if k > 1 else bb[0, 0] * noise)
            t += 1
        mean_e, cov = Pt @ m, Pt @ P @ Pt.T
        second = cov + np.outer(mean_e, mean_e)
        means.append(_to_original(law, mean_e) + law.x_star_original)
        covs.append(cov if law.basis is None else law.basis @ cov @ law.basis.T)
        seconds.append(np.diag(second))
        records.append(_record_metrics(H, mean_e, second, law.f_star, False))
    eig = np.array(seconds) if law.diagonal else None
    return ExactMoments(grid, np.array(means), np.array(covs), eig, _collect(records))


def _to_original(law: _Law, v):
    return v if law.basis is None else law.basis @ v


def stationary_covariance(problem, method) -> np.ndarray:
    """Cov[x] of the recorded point in the stationary regime, from the discrete Lyapunov equation of the
    (time-invariant or periodic) augmented system; for a periodic method (Lookahead) it is the covariance
    at the end of a period (a synchronization point).  Additive noise only: Gaussian noise on a Quadratic."""
    law, model = _law(problem), linear_model(method)
    require(law.diagonal and not isinstance(problem.noise, LinearRegression),
            "stationary_covariance needs additive noise: a Quadratic with Gaussian noise")
    require(model.period is not None,
            f"stationary_covariance needs a method with constant coefficients (or periodic ones); {method.name} has none")
    k, H = model.k, np.diag(law.H)
    d = H.shape[0]
    I = np.eye(d)
    start = -(-model.steady // model.period) * model.period + model.period  # whole periods past the transient
    M, Q = np.eye(k * d), np.zeros((k * d, k * d))
    for t in range(start, start + model.period):
        s = model.step(t)
        require(s.same_as(model.step(t + model.period)), f"{method.name}: coefficients are not periodic")
        At = np.kron(s.A, I) + np.kron(np.outer(s.b, s.c), H + s.weight_decay * I)
        M = At @ M
        Q = At @ Q @ At.T
        if s.noisy and law.noise is not None:
            Q = Q + np.kron(np.outer(s.b, s.b), law.noise(None, np.zeros((d, d))))
    require(float(np.max(np.abs(np.linalg.eigvals(M)))) < 1, f"{method.name} is unstable on this problem")
    Pt = np.kron(model.point, I)
    cov = Pt @ scipy.linalg.solve_discrete_lyapunov(M, Q) @ Pt.T
    return cov if law.basis is None else law.basis @ cov @ law.basis.T
