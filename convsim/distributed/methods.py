"""Distributed methods over a worker axis: local SGD (FedAvg with H local steps) and gossip D-SGD.

The state holds every worker's iterate, shape (R, M, d); ``point`` is the workers' average x̄
(what a final global merge returns), so the engine's metrics are those of x̄.  One ``step`` is
one local stochastic gradient on every worker.  Communication is counted by :meth:`rounds`
(and :meth:`bits`, for float64 vectors): local SGD communicates once every H steps, D-SGD at
every step with each worker's neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from array_api_compat import array_namespace

from ..backend import cached_on, device_cache
from ..errors import finite_array, positive, require
from ..methods.base import Method
from ..schedules import Schedule


class WorkerState(NamedTuple):
    x: Any  # (R, M, d)


def _worker_problem(oracle, workers):
    problem = oracle.problem
    require(hasattr(problem, "worker_stochastic_grad"),
            f"problem {problem.name!r} has no workers; distributed methods need one such as WorkerQuadratics")
    require(problem.workers == workers, f"the method has {workers} workers, the problem {problem.workers}")
    return problem


def _replicate(x0, workers):
    return array_namespace(x0).broadcast_to(x0[:, None, :], (x0.shape[0], workers, x0.shape[1]))


@dataclass(frozen=True)
class LocalSGD(Method):
    """Local SGD: x_m ← x_m − γ_t ĝ_m(x_m) on every worker; every H steps all workers reset to their average.

    H = 1 is minibatch SGD with one sample per worker (batch M)."""

    step_size: Schedule | float
    workers: int
    local_steps: int = 1

    name = "local-sgd"
    description = "local SGD / FedAvg: H local SGD steps per worker between averaging rounds"
    source = "Stich, Local SGD Converges Fast and Communicates Little (arXiv 1805.09767), Algorithm 1"

    def __post_init__(self):
        self._schedule_step_size()
        positive("workers", self.workers, integer=True)
        positive("local_steps", self.local_steps, integer=True)

    def init(self, x0):
        return WorkerState(_replicate(x0, self.workers))

    def step(self, state, oracle, t):
        problem = _worker_problem(oracle, self.workers)
        X = state.x - self.step_size(t) * problem.worker_stochastic_grad(state.x, oracle.rng)
        if (t + 1) % self.local_steps == 0:
            xp = array_namespace(X)
            X = xp.broadcast_to(xp.mean(X, axis=1, keepdims=True), X.shape)  # a view: the next step writes anew
        return WorkerState(X)

    def point(self, state):
        return array_namespace(state.x).mean(state.x, axis=1)

    def rounds(self, steps: int) -> int:
        """Averaging rounds in ``steps`` steps."""
        return int(steps) // self.local_steps

    def bits(self, steps: int, d: int) -> int:
        """Bits sent to and from the server: every worker uploads and downloads a float64 d-vector per round."""
        return self.rounds(steps) * 2 * self.workers * 64 * int(d)


@dataclass(frozen=True, eq=False)
class GossipSGD(Method):
    """Decentralized SGD (D-SGD): X ← W (X − γ_t Ĝ(X)), W a symmetric doubly stochastic mixing matrix."""

    step_size: Schedule | float
    mixing: np.ndarray

    name = "gossip-sgd"
    description = "decentralized SGD: a local SGD step then one gossip average with the graph's mixing matrix"
    source = "Koloskova et al., A Unified Theory of Decentralized SGD (arXiv 2003.10422), Algorithm 1 (adapt-then-combine)"

    def __post_init__(self):
        self._schedule_step_size()
        W = finite_array("mixing", self.mixing)
        require(W.ndim == 2 and W.shape[0] == W.shape[1], f"a mixing matrix is square, got shape {W.shape}")
        require(np.allclose(W.sum(axis=1), 1.0) and np.allclose(W.sum(axis=0), 1.0),
                "a mixing matrix must be doubly stochastic")
        object.__setattr__(self, "mixing", W)

    @property
    def workers(self) -> int:
        return self.mixing.shape[0]

    def init(self, x0):
        return WorkerState(_replicate(x0, self.workers))

    def step(self, state, oracle, t):
        problem = _worker_problem(oracle, self.workers)
        X = state.x - self.step_size(t) * problem.worker_stochastic_grad(state.x, oracle.rng)
        W = cached_on(device_cache(self), X, "mixing", self.mixing)
        return WorkerState(array_namespace(X).matmul(W, X))

    def point(self, state):
        return array_namespace(state.x).mean(state.x, axis=1)

    def rounds(self, steps: int) -> int:
        return int(steps)

    def bits(self, steps: int, d: int) -> int:
        """Bits sent between neighbours: one float64 d-vector per directed edge per step."""
        edges = int(np.count_nonzero(self.mixing) - np.count_nonzero(np.diag(self.mixing)))
        return int(steps) * edges * 64 * int(d)

    def spec(self):
        from ..problems.base import array_digest

        return {"name": self.name, "step_size": repr(self.step_size), "mixing": array_digest(self.mixing)}
