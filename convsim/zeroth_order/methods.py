"""Zeroth-order methods over the :class:`~convsim.methods.Method` protocol (function values only).

* :class:`ZOSGD` — x ← x − γ_t g(x), g any estimator of :mod:`convsim.zeroth_order.estimators` (ZO-SGD;
  MeZO's update without weight decay, Malladi et al. 2023 Algorithm 1), with any step schedule.
* :class:`CBO` — consensus-based optimization: N particles per replica, Gibbs-weighted consensus point.

Each method's ``evaluation_counts()`` gives (a, b): one step costs a + b·d function values per replica; it is
a property of the method's fields, so the cost of a run is known without reading anything from the device, and
it is written into the run's metadata (``spec()["evaluations"]``), where :func:`with_evaluations` reads it back
after a mutation has rewritten the method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import require
from ..methods.base import Method
from ..schedules import Schedule
from .estimators import Estimator


class Iterate(NamedTuple):
    x: Any


@dataclass(frozen=True)
class ZOSGD(Method):
    """Zeroth-order SGD: x ← x − γ_t ĝ(x) with a function-value gradient estimate ĝ."""

    step_size: Schedule | float
    estimator: Estimator

    name = "zo-sgd"
    description = "zeroth-order SGD: x <- x - gamma_t g(x), g a function-value estimator (MeZO without weight decay)"
    source = ("Nesterov & Spokoiny, Random gradient-free minimization of convex functions (FoCM 2017) method (38); "
              "Malladi et al., MeZO (arXiv 2305.17333) Algorithm 1")

    def __post_init__(self):
        self._schedule_step_size()
        require(isinstance(self.estimator, Estimator),
                f"ZOSGD needs a convsim.zeroth_order estimator, got {self.estimator!r}")

    def init(self, x0):
        return Iterate(x0)

    def step(self, state, oracle, t):
        return Iterate(state.x - self.step_size(t) * self.estimator.estimate(oracle, state.x))

    def evaluation_counts(self) -> tuple[int, int]:
        return self.estimator.evaluation_counts()

    def spec(self):
        return {**super().spec(), "estimator": self.estimator.spec(), "evaluations": list(self.evaluation_counts())}


class ConsensusState(NamedTuple):
    x: Any          # consensus point v_alpha per replica, (R, d)
    particles: Any  # (R, N, d)


NOISES = ("isotropic", "anisotropic")


@dataclass(frozen=True)
class CBO(Method):
    """Consensus-based optimization (Euler–Maruyama step of the CBO particle system), N particles per replica.

    v = Σ_i ω_i X_i / Σ_i ω_i with ω_i = exp(−α (f(X_i) − min_j f(X_j))) (the min shift only stabilises the
    exponentials); X_i ← X_i − λ Δt (X_i − v) + σ √Δt D_i ξ_i, ξ_i ~ N(0, I), D_i = ‖X_i − v‖ I (isotropic) or
    diag(X_i − v) (anisotropic).  Particles start at x0 + ``spread``·N(0, I) (drawn at the first step from the run's
    streams).  ``point`` is the consensus point, recomputed after the move so that the recorded point is the
    step's result, and reused by the next step: one step costs N function values per replica (2N at the first
    step, whose spread particles need their own consensus).
    """

    drift: float = 1.0
    noise: float = 1.0
    alpha: float = 1.0
    dt: float = 0.1
    particles: int = 100
    spread: float = 1.0
    noise_model: str = "isotropic"

    name = "cbo"
    description = "consensus-based optimization: particles drift to a Gibbs-weighted consensus with scaled noise"
    source = ("Pinnau, Totzeck, Tse & Martin (2017); Fornasier, Klock & Riedl, CBO methods converge globally "
              "(arXiv 2103.15130); Riedl, Klock, Geldhauser & Fornasier (arXiv 2306.09778) eq. (1.2); "
              "CBXpy cbx/dynamics/cbo.py")

    def __post_init__(self):
        from ..errors import positive

        positive("dt", self.dt)
        positive("particles", self.particles, integer=True)
        require(self.drift >= 0 and self.noise >= 0 and self.alpha >= 0 and self.spread >= 0,
                "CBO's drift, noise, alpha and spread must be non-negative")
        require(self.noise_model in NOISES, f"noise_model must be one of {', '.join(NOISES)}")

    def init(self, x0):
        from array_api_compat import array_namespace

        xp = array_namespace(x0)
        R, d = x0.shape
        return ConsensusState(x0, xp.broadcast_to(xp.expand_dims(x0, axis=1), (R, self.particles, d)))

    def consensus(self, oracle, particles):
        from array_api_compat import array_namespace

        xp = array_namespace(particles)
        R, N, d = particles.shape
        f = xp.reshape(oracle.value(xp.reshape(particles, (R * N, d))), (R, N))
        w = xp.exp(-self.alpha * (f - xp.min(f, axis=1, keepdims=True)))
        w = xp.expand_dims(w / xp.sum(w, axis=1, keepdims=True), axis=-1)
        return xp.sum(w * particles, axis=1)

    def step(self, state, oracle, t):
        from array_api_compat import array_namespace

        xp = array_namespace(state.x)
        X = state.particles
        R, N, d = X.shape
        if t == 0 and self.spread:
            X = X + self.spread * oracle.rng.normal(N, d)
            v = self.consensus(oracle, X)
        else:  # the consensus of these particles, computed at the end of the previous step (or x0 = every particle)
            v = state.x
        v = xp.expand_dims(v, axis=1)
        diff = X - v
        xi = oracle.rng.normal(N, d)
        if self.noise_model == "isotropic":
            scale = xp.sqrt(xp.sum(diff * diff, axis=-1, keepdims=True))
        else:
            scale = xp.abs(diff)
        X = X - self.drift * self.dt * diff + self.noise * math.sqrt(self.dt) * scale * xi
        return ConsensusState(self.consensus(oracle, X), X)

    def evaluation_counts(self) -> tuple[int, int]:
        return (self.particles, 0)

    def spec(self):
        return {**super().spec(), "evaluations": list(self.evaluation_counts())}


class FrankWolfeState(NamedTuple):
    x: Any
    direction: Any  # the averaged gradient estimate d_t


SETS = ("ball", "simplex")


def linear_minimizer(xp, d, constraint, radius):
    """argmin_{s in C} <s, d> row by row: -r d/||d|| on the ball, r e_argmin(d) on the simplex {s >= 0, sum s = r}."""
    if constraint == "ball":
        norm = xp.sqrt(xp.sum(d * d, axis=-1, keepdims=True))
        return -radius * d / xp.where(norm > 0, norm, xp.ones_like(norm))
    k = xp.argmin(d, axis=-1)
    cols = xp.arange(d.shape[-1])
    return radius * xp.astype(xp.expand_dims(k, axis=-1) == cols, d.dtype)


@dataclass(frozen=True)
class ZOFrankWolfe(Method):
    """Zeroth-order stochastic Frank-Wolfe with averaged gradient estimates (Sahu, Zaheer & Kar 2019, Alg. 1).

    g_t = estimator's estimate at x_t with smoothing c_t;  d_t = (1 - rho_t) d_{t-1} + rho_t g_t;
    v_t = argmin_{s in C} <s, d_t>;  x_{t+1} = (1 - gamma_t) x_t + gamma_t v_t.
    ``gamma``, ``rho`` and ``smoothing`` are schedules of t; the estimator's own smoothing field is replaced by
    ``smoothing(t)`` at every step.
    """

    gamma: Schedule | float
    rho: Schedule | float
    smoothing: Schedule | float
    estimator: Estimator
    constraint: str = "ball"
    radius: float = 1.0

    name = "zo-frank-wolfe"
    description = "zeroth-order stochastic Frank-Wolfe (averaged ZO gradients, linear minimization on ball/simplex)"
    source = "Sahu, Zaheer & Kar, Towards Gradient Free and Projection Free Stochastic Optimization (arXiv 1810.03233)"

    def __post_init__(self):
        from ..schedules import as_schedule

        for f in ("gamma", "rho", "smoothing"):
            object.__setattr__(self, f, as_schedule(getattr(self, f)))
        require(isinstance(self.estimator, Estimator), "ZOFrankWolfe needs a convsim.zeroth_order estimator")
        require(self.constraint in SETS, f"constraint must be one of {', '.join(SETS)}")

    def init(self, x0):
        return FrankWolfeState(x0, 0.0 * x0)

    def step(self, state, oracle, t):
        import dataclasses

        from array_api_compat import array_namespace

        xp = array_namespace(state.x)
        est = dataclasses.replace(self.estimator, smoothing=float(self.smoothing(t)))
        rho = float(self.rho(t))
        d = (1.0 - rho) * state.direction + rho * est.estimate(oracle, state.x)
        v = linear_minimizer(xp, d, self.constraint, self.radius)
        g = float(self.gamma(t))
        return FrankWolfeState((1.0 - g) * state.x + g * v, d)

    def evaluation_counts(self) -> tuple[int, int]:
        return self.estimator.evaluation_counts()

    def spec(self):
        return {**super().spec(), "estimator": self.estimator.spec(), "evaluations": list(self.evaluation_counts())}


class LowRankState(NamedTuple):
    x: Any
    right: Any  # the current right factor V (R, cols, rank), resampled every `interval` steps


@dataclass(frozen=True)
class LowRankZO(Method):
    """LOZO: ZO-SGD on a matrix parameter X (rows × cols, flattened row-major into x) with low-rank perturbations.

    Every step draws U ~ N(0, I) of shape (rows, rank); V (cols, rank) is drawn afresh only every ``interval``
    steps (ν, lazy sampling) and kept in the state in between.  c = [f(X + εUVᵀ) − f(X − εUVᵀ)]/(2ε) and
    X ← X − η c UVᵀ/r (Chen et al., LOZO, arXiv 2410.07698; authors' code optsuite/LOZO LOZOtrainer.py,
    without weight decay).  With ν = 1 the estimate is unbiased and E‖g‖² = c_L ‖∇f‖² with
    c_L = [rows (r·cols + 2) + 2 (cols + r + 1)]/r (:func:`convsim.zeroth_order.theory.lozo_second_moment_factor`).
    """

    step_size: Schedule | float
    rows: int
    cols: int
    rank: int = 1
    interval: int = 1
    smoothing: float = 1e-3

    name = "lozo"
    description = "low-rank ZO (LOZO): perturbations U V^T, V resampled every nu steps, update -eta c U V^T / r"
    source = ("Chen, Zhang, Cao, Yuan & Wen, Enhancing Zeroth-order Fine-tuning for Language Models with Low-rank "
              "Structures (LOZO, arXiv 2410.07698); code optsuite/LOZO large_models/LOZOtrainer.py")

    def __post_init__(self):
        from ..errors import positive

        self._schedule_step_size()
        for f in ("rows", "cols", "rank", "interval"):
            positive(f, getattr(self, f), integer=True)
        positive("smoothing", self.smoothing)

    def init(self, x0):
        from array_api_compat import array_namespace

        xp = array_namespace(x0)
        require(x0.shape[-1] == self.rows * self.cols,
                f"LOZO needs d = rows*cols = {self.rows * self.cols}, got d = {x0.shape[-1]}")
        return LowRankState(x0, xp.zeros((x0.shape[0], self.cols, self.rank), dtype=x0.dtype))

    def step(self, state, oracle, t):
        from array_api_compat import array_namespace

        from .estimators import directional_differences

        xp = array_namespace(state.x)
        R = state.x.shape[0]
        right = state.right
        if t % self.interval == 0:  # a copy: the stream's buffer is reused by the next draw of that shape
            right = oracle.rng.normal(self.cols, self.rank) + 0.0
        left = oracle.rng.normal(self.rows, self.rank)
        direction = xp.reshape(xp.matmul(left, xp.matrix_transpose(right)), (R, 1, self.rows * self.cols))
        c = directional_differences(oracle, state.x, direction, self.smoothing, "central")
        g = c * direction[:, 0, :] / self.rank
        return LowRankState(state.x - self.step_size(t) * g, right)

    def evaluation_counts(self) -> tuple[int, int]:
        return (2, 0)

    def spec(self):
        return {**super().spec(), "evaluations": list(self.evaluation_counts())}


@dataclass(frozen=True)
class PerturbedZOSGD(ZOSGD):
    """ZO-SGD plus an isotropic perturbation every step: x ← x − γ_t ĝ(x) + r ξ_t, ξ_t ~ N(0, I/d) (so E‖rξ‖² = r²).

    The escape mechanism of Ren, Tang & Li (arXiv 2209.13555): at a strict saddle a central two-point estimate
    vanishes with the gradient (f(x + εz) − f(x − εz) = 0 for f even about x), so only the perturbation lets
    the iterate leave it; the 2m-point estimator is ``GaussianTwoPoint(directions=m)``.
    """

    perturbation: float = 0.0

    name = "zo-sgd-perturbed"
    description = "zeroth-order SGD plus an isotropic Gaussian perturbation of radius r every step (saddle escape)"
    source = ("Ren, Tang & Li, Escaping saddle points in zeroth-order optimization: the power of two-point "
              "estimators (arXiv 2209.13555)")

    def __post_init__(self):
        super().__post_init__()
        require(self.perturbation >= 0, f"perturbation must be non-negative, got {self.perturbation!r}")

    def step(self, state, oracle, t):
        x = state.x - self.step_size(t) * self.estimator.estimate(oracle, state.x)
        if self.perturbation:
            x = x + (self.perturbation / math.sqrt(x.shape[-1])) * oracle.rng.normal(x.shape[-1])
        return Iterate(x)


class RecursiveState(NamedTuple):
    x: Any
    direction: Any  # the recursive estimate v_t of ∇f_δ
    previous: Any   # x_{t−1}, where the correction's second evaluation is made


def _sphere_estimates(oracle, x, directions, smoothing):
    """(d/(2δ)) [f(x + δw_k) − f(x − δw_k)] w_k averaged over the given unit directions w (R, n, d)."""
    from array_api_compat import array_namespace

    from .estimators import directional_differences

    xp = array_namespace(x)
    d = x.shape[-1]
    delta = directional_differences(oracle, x, directions, smoothing, "central")
    return (d / directions.shape[1]) * xp.sum(xp.expand_dims(delta, axis=-1) * directions, axis=1)


@dataclass(frozen=True)
class GFMPlus(Method):
    """GFM⁺: gradient-free method with a SPIDER recursive estimator of the smoothed gradient ∇f_δ.

    With g(x; w) = (d/(2δ)) [f(x + δw) − f(x − δw)] w, w uniform on the unit sphere (GFM's estimator, unbiased for
    ∇f_δ, f_δ the uniform-ball smoothing): every ``period`` steps v_t = mean of g(x_t; w_k) over ``batch``
    directions; in between v_t = v_{t−1} + mean_k [g(x_t; w_k) − g(x_{t−1}; w_k)] over ``inner_batch`` directions
    shared by both points; x_{t+1} = x_t − η v_t (Chen, Xu & Luo, arXiv 2301.06428, Algorithm 2, for a
    deterministic F).  ``evaluation_counts`` is the average per step, (2·batch + 4·inner_batch·(period − 1))/period.
    """

    step_size: Schedule | float
    smoothing: float = 0.1
    batch: int = 64
    inner_batch: int = 4
    period: int = 8

    name = "gfm-plus"
    description = "gradient-free method + SPIDER recursive estimator of the ball-smoothed gradient (GFM+)"
    source = ("Chen, Xu & Luo, Faster Gradient-Free Algorithms for Nonsmooth Nonconvex Stochastic Optimization "
              "(arXiv 2301.06428, ICML 2023) Algorithm 2")

    def __post_init__(self):
        from ..errors import positive

        self._schedule_step_size()
        positive("smoothing", self.smoothing)
        for f in ("batch", "inner_batch", "period"):
            positive(f, getattr(self, f), integer=True)

    def init(self, x0):
        return RecursiveState(x0, 0.0 * x0, x0)

    def step(self, state, oracle, t):
        from array_api_compat import array_namespace

        from .estimators import unit_sphere

        xp = array_namespace(state.x)
        d = state.x.shape[-1]
        if t % self.period == 0:
            w = unit_sphere(xp, oracle.rng.normal(self.batch, d))
            v = _sphere_estimates(oracle, state.x, w, self.smoothing)
        else:
            w = unit_sphere(xp, oracle.rng.normal(self.inner_batch, d))
            v = state.direction + (_sphere_estimates(oracle, state.x, w, self.smoothing)
                                   - _sphere_estimates(oracle, state.previous, w, self.smoothing))
        return RecursiveState(state.x - self.step_size(t) * v, v, state.x)

    def evaluation_counts(self) -> tuple[float, int]:
        return ((2.0 * self.batch + 4.0 * self.inner_batch * (self.period - 1)) / self.period, 0)

    def spec(self):
        return {**super().spec(), "evaluations": list(self.evaluation_counts())}


ROUNDINGS = ("stochastic", "nearest")


@dataclass(frozen=True)
class QuantizedZOSGD(ZOSGD):
    """ZO-SGD whose parameters live on the grid Δℤ^d: x ← Q(x − γ_t ĝ(x)).

    Q is stochastic rounding (to one of the two neighbouring grid points, up with probability frac((y)/Δ): unbiased,
    E Q(y) = y, variance frac(1 − frac)Δ² ≤ Δ²/4 per coordinate) or round-to-nearest (deterministic, biased: an
    update smaller than Δ/2 in a coordinate is lost).  The start is rounded to the nearest grid point at the first
    step.  For x on the grid, Q(x − s) = x − Q(s) in law (both roundings commute with grid shifts), so this is
    QuZO's update θ ← θ − Q(η μ u) with the update itself rounded (Zhou et al., arXiv 2502.12346, with one
    direction and an unquantized estimate).
    """

    grid: float = 1e-2
    rounding: str = "stochastic"

    name = "zo-sgd-quantized"
    description = "zeroth-order SGD on a parameter grid, stochastic or nearest rounding of every update"
    source = ("Zhou et al., QuZO: Quantized Zeroth-Order Fine-Tuning for Large Language Models (arXiv 2502.12346, "
              "stochastic rounding of the update)")

    def __post_init__(self):
        from ..errors import positive

        super().__post_init__()
        positive("grid", self.grid)
        require(self.rounding in ROUNDINGS, f"rounding must be one of {', '.join(ROUNDINGS)}")

    def quantize(self, y, oracle):
        from array_api_compat import array_namespace

        xp = array_namespace(y)
        scaled = y / self.grid
        if self.rounding == "nearest":
            return self.grid * xp.round(scaled)
        low = xp.floor(scaled)
        up = xp.astype(oracle.rng.uniform(y.shape[-1]) < (scaled - low), y.dtype)
        return self.grid * (low + up)

    def step(self, state, oracle, t):
        from array_api_compat import array_namespace

        x = state.x
        if t == 0:
            x = self.grid * array_namespace(x).round(x / self.grid)
        return Iterate(self.quantize(x - self.step_size(t) * self.estimator.estimate(oracle, x), oracle))


@dataclass(frozen=True)
class ZOSAH(Method):
    """ZO-SAH on coordinate pairs: Newton steps in m/2 random 2-D coordinate subspaces from interpolated quadratics.

    Per step each replica draws a random disjoint set of ``pairs`` coordinate pairs (i, j), interpolates the
    quadratic through f at x, x ± εe_i, x ± εe_j, x + ε(e_i + e_j) (1 + 5·pairs values), and moves by the
    Newton step of that 2-D model (``curvature=False``: the plain central-difference gradient step).
    """

    step_size: Schedule | float
    pairs: int = 1
    smoothing: float = 1e-2
    curvature: bool = True

    name = "zo-sah"
    description = "subspace approximate-Hessian ZO: Newton steps in random 2-D coordinate subspaces"
    source = "Kim, Lee, Lee & Kim, ZO-SAH (arXiv 2507.06125)"

    def __post_init__(self):
        self._schedule_step_size()

    def init(self, x0):
        return Iterate(x0)

    def step(self, state, oracle, t):
        from array_api_compat import array_namespace

        xp = array_namespace(state.x)
        x = state.x
        R, d = x.shape
        p, eps = self.pairs, self.smoothing
        order = xp.argsort(oracle.rng.uniform(d), axis=1)  # a random disjoint set of pairs per replica
        coords = xp.arange(d)
        onehot = lambda k: xp.astype(xp.expand_dims(order[:, k], axis=-1) == coords, x.dtype)  # (R, d)
        ei = xp.stack([onehot(2 * k) for k in range(p)], axis=1)  # (R, p, d)
        ej = xp.stack([onehot(2 * k + 1) for k in range(p)], axis=1)
        centre = xp.expand_dims(x, axis=1)
        offsets = (ei, -ei, ej, -ej, ei + ej)
        points = xp.concat([centre + eps * o for o in offsets], axis=1)  # (R, 5p, d)
        values = xp.reshape(oracle.value(xp.reshape(points, (R * 5 * p, d))), (R, 5, p))
        f0 = xp.expand_dims(oracle.value(x), axis=-1)
        fi, fmi, fj, fmj, fij = (values[:, k, :] for k in range(5))
        gi, gj = (fi - fmi) / (2 * eps), (fj - fmj) / (2 * eps)
        if self.curvature:
            hii, hjj = (fi - 2 * f0 + fmi) / eps ** 2, (fj - 2 * f0 + fmj) / eps ** 2
            hij = (fij - fi - fj + f0) / eps ** 2
            det = hii * hjj - hij * hij
            ui, uj = (hjj * gi - hij * gj) / det, (hii * gj - hij * gi) / det
        else:
            ui, uj = gi, gj
        v = xp.sum(xp.expand_dims(ui, axis=-1) * ei + xp.expand_dims(uj, axis=-1) * ej, axis=1)
        return Iterate(x - self.step_size(t) * v)

    def evaluation_counts(self) -> tuple[int, int]:
        return (1 + 5 * self.pairs, 0)

    def spec(self):
        return {**super().spec(), "evaluations": list(self.evaluation_counts())}
