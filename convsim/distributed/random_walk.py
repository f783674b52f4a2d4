"""Token algorithms: stochastic approximation driven by a (self-repellent) random walk over the workers.

A token walks over the M workers of a :class:`~convsim.distributed.WorkerQuadratics`; at every step
the worker it visits applies its own gradient to the shared iterate.  The walk is either a base
Markov chain P (reversible, stationary law μ) or the self-repellent random walk (SRRW) built on it
(Doshi, Makhdoomi Bahrami, Eun, ICML 2023; driving SA: Hu, Doshi, Eun, arXiv 2401.09665):

    K_x(i, j) ∝ P(i, j) (x_j / μ_j)^(−α),

x the walk's (weighted) empirical measure, so nodes visited more than μ prescribes are avoided;
α = 0 is the base chain.  SA-SRRW iterates, with γ_n the measure's step and β_n the iterate's,

    X_{n+1} ~ K_{x_n}(X_n, ·),  x_{n+1} = x_n + γ_{n+1} (δ_{X_{n+1}} − x_n),
    θ_{n+1} = θ_n − β_{n+1} ∇f_{X_{n+1}}(θ_n).

The token and the measure are float arrays (one-hot and simplex rows of shape (R, M)); the next
node is drawn by inverting the cumulative row of K with one uniform per replica.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from array_api_compat import array_namespace

from ..backend import cached_on, device_cache
from ..errors import finite_array, require
from ..methods.base import Method
from ..problems.base import array_digest
from ..schedules import Schedule, as_schedule


def stationary_law(P: np.ndarray) -> np.ndarray:
    """The stationary distribution of an irreducible transition matrix (left Perron vector)."""
    w, v = np.linalg.eig(P.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1.0))])
    return pi / pi.sum()


def srrw_kernel(P, mu, x, alpha: float):
    """Rows K_x(i, ·) ∝ P(i, ·)(x/μ)^(−α) for every i; x of shape (M,) or (R, M) → (…, M, M)."""
    xp = array_namespace(x)
    logw = -alpha * (xp.log(x) - xp.log(mu))
    w = xp.exp(logw - xp.max(logw, axis=-1, keepdims=True))[..., None, :] * P
    return w / xp.sum(w, axis=-1, keepdims=True)


class TokenState(NamedTuple):
    x: Any  # (R, d) the iterate θ
    node: Any  # (R, M) one-hot: where the token is
    visits: Any  # (R, M) the empirical measure x_n driving the repellence


@dataclass(frozen=True, eq=False)
class SRRWSGD(Method):
    """SA driven by the SRRW of strength ``alpha`` over the workers (α = 0: the base chain ``transition``)."""

    step_size: Schedule | float
    transition: np.ndarray
    alpha: float = 0.0
    measure_step: Schedule | float | None = None  # γ_n; None: the same as step_size

    name = "srrw-sgd"
    description = "token SGD: a random walk (self-repellent for alpha > 0) picks the worker whose gradient is applied"
    source = "Hu, Doshi, Eun, Accelerating Distributed Stochastic Optimization via Self-Repellent Random Walks (arXiv 2401.09665)"

    def __post_init__(self):
        self._schedule_step_size()
        object.__setattr__(self, "measure_step", self.step_size if self.measure_step is None
                           else as_schedule(self.measure_step))
        P = finite_array("transition", self.transition)
        require(P.ndim == 2 and P.shape[0] == P.shape[1] and np.all(P >= 0) and np.allclose(P.sum(axis=1), 1.0),
                "a transition matrix is square, non-negative, with rows summing to 1")
        require(self.alpha >= 0, f"the repellence alpha must be non-negative, got {self.alpha}")
        object.__setattr__(self, "transition", P)
        object.__setattr__(self, "target", stationary_law(P))

    @property
    def workers(self) -> int:
        return self.transition.shape[0]

    def init(self, x0):
        """The token starts on worker 0 with the measure at μ (inside the simplex, as SRRW needs)."""
        xp = array_namespace(x0)
        R, M = x0.shape[0], self.workers
        node = xp.astype(xp.arange(M)[None, :] == 0, x0.dtype) * xp.ones((R, 1), dtype=x0.dtype)
        visits = xp.asarray(self.target, dtype=x0.dtype)[None, :] * xp.ones((R, 1), dtype=x0.dtype)
        return TokenState(x0, node, visits)

    def step(self, state, oracle, t):
        problem = oracle.problem
        require(getattr(problem, "workers", None) == self.workers,
                f"the walk has {self.workers} nodes; the problem needs as many workers (a WorkerQuadratics)")
        xp = array_namespace(state.x)
        cache = device_cache(self)
        P = cached_on(cache, state.x, "transition", self.transition)
        mu = cached_on(cache, state.x, "target", self.target)
        rows = xp.matmul(state.node[:, None, :], P)[:, 0, :]  # P(X_n, ·)
        if self.alpha:
            logw = -self.alpha * (xp.log(state.visits) - xp.log(mu))
            rows = rows * xp.exp(logw - xp.max(logw, axis=-1, keepdims=True))
        cdf = xp.cumulative_sum(rows / xp.sum(rows, axis=-1, keepdims=True), axis=-1)
        u = oracle.rng.uniform(1)  # (R, 1)
        index = xp.sum(xp.astype(cdf[:, :-1] <= u, xp.int64), axis=-1)  # inverse cdf, never past the last node
        node = xp.astype(xp.arange(self.workers)[None, :] == index[:, None], state.x.dtype)
        visits = state.visits + self.measure_step(t) * (node - state.visits)
        M, d = self.workers, state.x.shape[-1]
        grads = problem.worker_stochastic_grad(xp.broadcast_to(state.x[:, None, :], (state.x.shape[0], M, d)),
                                               oracle.rng)
        g = xp.sum(node[:, :, None] * grads, axis=1)
        return TokenState(state.x - self.step_size(t) * g, node, visits)

    def spec(self):
        return {"name": self.name, "step_size": repr(self.step_size), "measure_step": repr(self.measure_step),
                "transition": array_digest(self.transition), "alpha": self.alpha}
