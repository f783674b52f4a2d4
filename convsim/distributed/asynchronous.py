"""Asynchronous federated SGD with heterogeneous client speeds and stale updates, and its exact law.

At every server step one client delivers an update: client m with probability π_m ∝ its speed (a faster client
finishes more often).  Its gradient was computed on the server model of ``delay`` steps before (staleness τ),
and the server applies it with aggregation weight w_m:

    x_{t+1} = x_t − γ_t w_m (∇f_m(x_{t−τ}) + σ ξ),   m ~ π,

w_m = 1 for plain asynchronous FedAvg (every arriving update applied as it is), or w_m = p_m / π_m with p_m = 1/M
(``unbiased=True``: the expected aggregation weight of every client is its federated weight).  In expectation the
step is −γ_t Σ_m π_m w_m ∇f_m, so the run settles at the minimiser of Σ_m r_m f_m with r_m = π_m w_m — the
federated optimum x* only when r = p (Fraboni, Vidal, Kameni, Lorenzi, arXiv 2206.10189: stochastic aggregation
weights; the optimised objective is the one weighted by their expectations).  :func:`reweighted_optimum` gives
that point for :class:`WorkerQuadratics`, :func:`async_moments` the exact mean and second moments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from array_api_compat import array_namespace

from ..backend import cached_on, device_cache
from ..engine.checkpoints import checkpoints
from ..errors import finite_array, require
from ..methods.base import Method
from ..problems.base import array_digest
from ..schedules import Schedule
from .problems import WorkerQuadratics


class AsyncState(NamedTuple):
    x: Any  # (R, d) the server model
    history: Any  # (R, τ, d): x_{t−1}, ..., x_{t−τ} (x_0 before the start)


@dataclass(frozen=True, eq=False)
class AsyncFedSGD(Method):
    """Asynchronous federated SGD: one client of speed-proportional probability per step, τ-stale gradients."""

    step_size: Schedule | float
    speeds: np.ndarray
    delay: int = 0
    unbiased: bool = False

    name = "async-fed-sgd"
    description = "asynchronous FedAvg: speed-proportional client arrivals, stale gradients, optional unbiased weights"
    source = ("Fraboni, Vidal, Kameni, Lorenzi, A General Theory for Federated Optimization with Asynchronous and "
              "Heterogeneous Clients Updates (arXiv 2206.10189)")

    def __post_init__(self):
        self._schedule_step_size()
        v = finite_array("speeds", self.speeds)
        require(v.ndim == 1 and bool(np.all(v > 0)), "client speeds are a 1-d array of positive numbers")
        require(isinstance(self.delay, int) and self.delay >= 0, f"delay must be a non-negative int, got {self.delay!r}")
        object.__setattr__(self, "speeds", v)

    @property
    def workers(self) -> int:
        return self.speeds.size

    @property
    def arrival(self) -> np.ndarray:
        """π_m: the probability that client m's update is the next to arrive."""
        return self.speeds / self.speeds.sum()

    @property
    def weights(self) -> np.ndarray:
        """w_m: the aggregation weight of an update from client m."""
        return (1.0 / self.workers) / self.arrival if self.unbiased else np.ones(self.workers)

    def init(self, x0):
        xp = array_namespace(x0)
        return AsyncState(x0, xp.broadcast_to(x0[:, None, :], (x0.shape[0], self.delay, x0.shape[1])))

    def step(self, state, oracle, t):
        problem = oracle.problem
        require(getattr(problem, "workers", None) == self.workers,
                f"{self.workers} client speeds need a problem with as many workers (a WorkerQuadratics)")
        xp = array_namespace(state.x)
        cache = device_cache(self)
        cdf = cached_on(cache, state.x, "cdf", lambda: np.cumsum(self.arrival))
        w = cached_on(cache, state.x, "weights", self.weights)
        u = oracle.rng.uniform(1)  # (R, 1)
        index = xp.sum(xp.astype(cdf[None, :-1] <= u, xp.int64), axis=-1)
        client = xp.astype(xp.arange(self.workers)[None, :] == index[:, None], state.x.dtype)  # (R, M) one-hot
        stale = state.history[:, -1, :] if self.delay else state.x
        R, M, d = state.x.shape[0], self.workers, state.x.shape[1]
        grads = problem.worker_stochastic_grad(xp.broadcast_to(stale[:, None, :], (R, M, d)), oracle.rng)
        g = xp.sum((client * w[None, :])[:, :, None] * grads, axis=1)
        history = state.history
        if self.delay:
            history = xp.concat([state.x[:, None, :], state.history[:, :-1, :]], axis=1)
        return AsyncState(state.x - self.step_size(t) * g, history)

    def spec(self):
        return {"name": self.name, "step_size": repr(self.step_size), "speeds": array_digest(self.speeds),
                "delay": self.delay, "unbiased": self.unbiased}


def reweighted_optimum(problem: WorkerQuadratics, weights) -> np.ndarray:
    """argmin Σ_m r_m f_m for diagonal worker quadratics: (Σ_m r_m h_m b_m) / (Σ_m r_m h_m) per coordinate."""
    r = np.asarray(weights, dtype=np.float64)[:, None]
    h, b = problem.curvatures, problem.optima
    return (r * h * b).sum(axis=0) / (r * h).sum(axis=0)


def async_moments(problem: WorkerQuadratics, method: AsyncFedSGD, steps: int, record="log") -> dict:
    """Exact ``{"steps", "dist_sq"}`` (E‖x_t − x*‖², x* the federated optimum) of :class:`AsyncFedSGD`.

    Per coordinate the state u = (e_t, e_{t−1}, ..., e_{t−τ}, 1), e = x − x*, moves as u' = A_m u + noise with
    probability π_m: e' = e_t − γ w_m (h_m e_{t−τ} + c_m) − γ w_m σ ξ (c_m = ∇f_m(x*)), the history shifts; so
    S = E[u uᵀ] follows S' = Σ_m π_m (A_m S A_mᵀ + γ² w_m² σ² e₁e₁ᵀ) exactly (coordinates share the client draw,
    but every second moment of one coordinate only involves that coordinate).  Build the method from the claim's
    settings, never from the run."""
    require(isinstance(problem, WorkerQuadratics) and isinstance(method, AsyncFedSGD),
            "async_moments covers AsyncFedSGD on WorkerQuadratics")
    require(problem.workers == method.workers, f"{method.workers} speeds, {problem.workers} workers")
    tau, d = method.delay, problem.dim
    k = tau + 2  # e_t, ..., e_{t−τ}, and the constant 1
    pi, w = method.arrival, method.weights
    h, c = problem.curvatures, problem.worker_grads_at_optimum()  # (M, d)
    e0 = problem.initial_point() - problem.x_star
    u0 = np.concatenate([np.repeat(e0[:, None], tau + 1, axis=1), np.ones((d, 1))], axis=1)  # (d, k)
    S = u0[:, :, None] * u0[:, None, :]
    grid = checkpoints(steps, record)
    out = np.empty(grid.size)
    t = 0
    for i, target in enumerate(grid):
        while t < target:
            g = float(method.step_size(t))
            new = np.zeros_like(S)
            for m in range(method.workers):
                A = np.zeros((d, k, k))
                A[:, 0, 0] = 1.0
                A[:, 0, tau] += -g * w[m] * h[m]
                A[:, 0, k - 1] = -g * w[m] * c[m]
                for j in range(1, tau + 1):
                    A[:, j, j - 1] = 1.0
                A[:, k - 1, k - 1] = 1.0
                new += pi[m] * (A @ S @ A.transpose(0, 2, 1))
                new[:, 0, 0] += pi[m] * (g * w[m] * problem.sigma) ** 2
            S = new
            t += 1
        out[i] = S[:, 0, 0].sum()
    return {"steps": grid, "dist_sq": out}
