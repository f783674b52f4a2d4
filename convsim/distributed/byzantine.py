"""Byzantine workers and MoNNA: robust collaborative learning with f faulty peers among n.

Attacks map the honest workers' vectors (R, H, d) to what the f faulty workers send, (R, f, d)
(all f send the same vector, the strongest colluding choice for these attacks):

* :class:`SignFlip` — the honest mean with its sign flipped, scaled;
* :class:`LargeConstant` — a constant vector c·1, far from everything honest;
* :class:`ALittleIsEnough` — Baruch, Baruch, Goldberg (NeurIPS 2019): the coordinate-wise honest
  mean minus z times the coordinate-wise standard deviation, z = Φ⁻¹((n − s)/n) with
  s = ⌊n/2 + 1⌋ − f (their z_max), so the vector hides inside the honest spread.

:class:`MoNNA` (Farhadkhani, Guerraoui, Gupta, Hoang, Pinot, Stephan, arXiv 2209.10931, ICML 2023;
authors' code LPD-EPFL/robust-collaborative-learning, ``aggregators/cva.py`` for NNA and
``reproduce.py`` for momentum = dampening = β): every honest worker i keeps a Polyak momentum
m_i ← β m_i + (1 − β) ĝ_i(x_i), takes the half step x_i − γ m_i, receives the n − 1 others' half
steps (the faulty ones send the attack) and sets x_i to the mean of the n − f received vectors
nearest its own (nearest-neighbour averaging, NNA).  ``mixing="mean"`` averages all n instead
(D-SGD on the complete graph); ``momentum=0`` is NNA alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
from array_api_compat import array_namespace
from scipy.stats import norm

from ..errors import positive, require
from ..methods.base import Method
from ..schedules import Schedule
from .aggregators import nearest_neighbour_average


def _repeat(v, f):
    xp = array_namespace(v)
    return xp.broadcast_to(v[:, None, :], (v.shape[0], f, v.shape[-1]))


@dataclass(frozen=True)
class SignFlip:
    """Every faulty worker sends −scale × the honest mean."""

    scale: float = 1.0
    name = "sign-flip"

    def __call__(self, honest, f: int):
        return _repeat(-self.scale * array_namespace(honest).mean(honest, axis=1), f)


@dataclass(frozen=True)
class LargeConstant:
    """Every faulty worker sends the constant vector value·1."""

    value: float = 100.0
    name = "large-constant"

    def __call__(self, honest, f: int):
        xp = array_namespace(honest)
        return _repeat(xp.full((honest.shape[0], honest.shape[-1]), self.value, dtype=honest.dtype), f)


@lru_cache(maxsize=64)
def alie_z(n: int, f: int) -> float:
    """Baruch et al.'s z_max = Φ⁻¹((n − s)/n), s = ⌊n/2 + 1⌋ − f."""
    s = int(np.floor(n / 2 + 1)) - f
    return float(norm.ppf((n - s) / n))


@dataclass(frozen=True)
class ALittleIsEnough:
    """Every faulty worker sends mean − z·std (coordinate-wise over the honest vectors); z = z_max if None."""

    z: float | None = None
    name = "a-little-is-enough"

    def __call__(self, honest, f: int):
        xp = array_namespace(honest)
        H = honest.shape[1]
        z = alie_z(H + f, f) if self.z is None else self.z
        mu = xp.mean(honest, axis=1)
        sd = xp.sqrt(xp.mean((honest - mu[:, None, :]) ** 2, axis=1))
        return _repeat(mu - z * sd, f)


ATTACKS = {cls.name: cls for cls in (SignFlip, LargeConstant, ALittleIsEnough)}


class MomentumWorkerState(NamedTuple):
    x: Any  # (R, H, d) honest models
    m: Any  # (R, H, d) honest momenta


@dataclass(frozen=True)
class MoNNA(Method):
    """MoNNA on H honest workers and f faulty ones (complete communication graph)."""

    step_size: Schedule | float
    honest: int
    faulty: int
    momentum: float = 0.9
    attack: Any = field(default_factory=ALittleIsEnough)
    mixing: str = "nna"

    name = "monna"
    description = "Byzantine-robust D-SGD: Polyak momentum + nearest-neighbour averaging of the half-step models"
    source = "Farhadkhani et al., Robust Collaborative Learning with Linear Gradient Overhead (arXiv 2209.10931), MoNNA"

    def __post_init__(self):
        self._schedule_step_size()
        positive("honest", self.honest, integer=True)
        require(isinstance(self.faulty, int) and 0 <= self.faulty < self.honest,
                f"faulty workers must be a minority, got f = {self.faulty} of n = {self.honest + self.faulty}")
        require(0.0 <= self.momentum < 1.0, f"momentum must lie in [0, 1), got {self.momentum}")
        require(self.mixing in ("nna", "mean"), f"mixing is 'nna' or 'mean', got {self.mixing!r}")

    @property
    def workers(self) -> int:
        return self.honest + self.faulty

    def init(self, x0):
        xp = array_namespace(x0)
        X = xp.broadcast_to(x0[:, None, :], (x0.shape[0], self.honest, x0.shape[1]))
        return MomentumWorkerState(X, xp.zeros_like(X))

    def step(self, state, oracle, t):
        problem = oracle.problem
        require(getattr(problem, "workers", None) == self.honest,
                f"MoNNA's problem must hold its {self.honest} honest workers (a WorkerQuadratics)")
        xp = array_namespace(state.x)
        g = problem.worker_stochastic_grad(state.x, oracle.rng)
        m = self.momentum * state.m + (1.0 - self.momentum) * g
        half = state.x - self.step_size(t) * m
        received = half if self.faulty == 0 else xp.concat([half, self.attack(half, self.faulty)], axis=1)
        if self.mixing == "mean":
            X = xp.broadcast_to(xp.mean(received, axis=1, keepdims=True), half.shape)
        else:
            X = nearest_neighbour_average(received, self.faulty, pivots=half)
        return MomentumWorkerState(X, m)

    def point(self, state):
        return array_namespace(state.x).mean(state.x, axis=1)

    def rounds(self, steps: int) -> int:
        return int(steps)


def agreeing_moments(problem, method: MoNNA, steps: int, record="log") -> dict:
    """Exact ``{"steps", "dist_sq"}`` of MoNNA's honest average while the honest models agree.

    That is the law when f = 0; with a :class:`LargeConstant` attack far from every honest model
    under NNA (each honest worker then keeps exactly the H honest half steps, so the run is
    attack-free momentum SGD); and with ``mixing="mean"`` under that attack (plain averaging,
    x' = (H/n)(x − γ m') + (f/n)·c·1).  Per coordinate j the state u = (e, m̄, 1), e = x̄_j − x*_j,
    is linear: m̄' = β m̄ + (1 − β)(h̄_j e + ξ̄), ξ̄ ~ N(0, σ²/H), e' = w(e − γ m̄') + (1 − w)(c − x*_j)
    with w = H/n for plain averaging under attack and 1 otherwise, so E[u uᵀ] follows
    S' = A S Aᵀ + (σ²/H) b bᵀ exactly.  The caller vouches for the agreement (ALIE breaks it)."""
    from ..engine.checkpoints import checkpoints

    require(isinstance(method, MoNNA), f"agreeing_moments covers MoNNA, not {type(method).__name__}")
    H, f, beta = method.honest, method.faulty, method.momentum
    require(problem.workers == H, f"the problem has {problem.workers} workers, MoNNA {H} honest ones")
    attacked_mean = f > 0 and method.mixing == "mean"
    if f > 0:
        require(isinstance(method.attack, LargeConstant), "with faulty workers the exact law covers LargeConstant only")
    w = H / (H + f) if attacked_mean else 1.0
    offset = (1.0 - w) * (method.attack.value - problem.x_star) if attacked_mean else np.zeros(problem.dim)
    h, d = problem.mean_curvature, problem.dim
    u0 = np.stack([problem.initial_point() - problem.x_star, np.zeros(d), np.ones(d)], axis=1)  # (d, 3)
    S = u0[:, :, None] * u0[:, None, :]
    grid = checkpoints(steps, record)
    out = np.empty(grid.size)
    t = 0
    for i, target in enumerate(grid):
        while t < target:
            g = float(method.step_size(t))
            A = np.zeros((d, 3, 3))
            A[:, 0, 0] = w * (1.0 - g * (1.0 - beta) * h)
            A[:, 0, 1] = -w * g * beta
            A[:, 0, 2] = offset
            A[:, 1, 0] = (1.0 - beta) * h
            A[:, 1, 1] = beta
            A[:, 2, 2] = 1.0
            b = np.array([-w * g * (1.0 - beta), 1.0 - beta, 0.0])
            S = A @ S @ A.transpose(0, 2, 1) + (problem.sigma**2 / H) * np.outer(b, b)[None]
            t += 1
        out[i] = S[:, 0, 0].sum()
    return {"steps": grid, "dist_sq": out}
