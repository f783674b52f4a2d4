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
