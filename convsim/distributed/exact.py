"""Exact moments of local SGD and D-SGD on :class:`WorkerQuadratics` (no Monte Carlo).

With diagonal per-worker curvatures every coordinate j evolves on its own: the workers' errors
e = x_{·j} − x*_j ∈ R^M obey e' = W_t (A e − γ_t c − γ_t σ ξ), A = I − γ_t diag(h_{·j}),
c = ∇f_m(x*)_j, ξ ~ N(0, I_M) independent of e, and W_t the step's mixing (I between rounds and
J = 11ᵀ/M at a round for local SGD; the graph's W at every step for D-SGD).  So the mean m and the
second moment S = E[e eᵀ] (one M×M block per coordinate) follow

    m' = W (A m − γ c),   S' = W (A S A − γ (A m cᵀ + c mᵀ A) + γ² c cᵀ + γ² σ² I) Wᵀ,

and E‖x̄ − x*‖² = Σ_j 1ᵀS_j1 / M², E f(x̄) − f* = ½ Σ_j h̄_j 1ᵀS_j1 / M², the consensus error
E (1/M) Σ_m ‖x_m − x̄‖² = Σ_j tr((I − J) S_j) / M.  Build the method from the claim's settings
(never the object a mutated context ran).
"""

from __future__ import annotations

import numpy as np

from ..engine.checkpoints import checkpoints
from ..errors import ConvsimError, require
from .methods import GossipSGD, LocalSGD
from .problems import WorkerQuadratics

METRICS = ("dist_sq", "suboptimality", "consensus")


def worker_moments(problem: WorkerQuadratics, method, steps: int, record="log") -> dict:
    """Exact ``{"steps", "dist_sq", "suboptimality", "consensus"}`` of ``method`` on ``problem`` at the
    checkpoints ``simulate`` records (the metrics of the workers' average x̄, and the consensus error)."""
    require(isinstance(problem, WorkerQuadratics), f"exact worker moments need WorkerQuadratics, not {type(problem).__name__}")
    if isinstance(method, LocalSGD):
        mixing = lambda t: np.full((M, M), 1.0 / M) if (t + 1) % method.local_steps == 0 else None
    elif isinstance(method, GossipSGD):
        mixing = lambda t: method.mixing
    else:
        raise ConvsimError(f"exact worker moments cover LocalSGD and GossipSGD, not {type(method).__name__}")
    M, d = problem.workers, problem.dim
    require(method.workers == M, f"the method has {method.workers} workers, the problem {M}")
    h = problem.curvatures.T  # (d, M)
    c = problem.worker_grads_at_optimum().T  # (d, M)
    e0 = problem.initial_point() - problem.x_star
    m = np.repeat(e0[:, None], M, axis=1)  # (d, M)
    S = np.einsum("ji,jk->jik", m, m)  # (d, M, M)
    hbar, s2, eye = problem.mean_curvature, problem.sigma**2, np.eye(M)
    grid = checkpoints(steps, record)
    out = {k: np.empty(grid.size) for k in METRICS}
    J = np.full((M, M), 1.0 / M)

    def record_at(i):
        total = S.sum(axis=(1, 2)) / M**2
        out["dist_sq"][i] = total.sum()
        out["suboptimality"][i] = 0.5 * float(hbar @ total)
        out["consensus"][i] = float(np.einsum("ij,kji->", eye - J, S)) / M

    t = 0
    for i, target in enumerate(grid):
        while t < target:
            g = float(method.step_size(t))
            a = 1.0 - g * h  # (d, M): diagonal of A per coordinate
            am = a * m
            cross = np.einsum("ji,jk->jik", am, c)
            S = a[:, :, None] * S * a[:, None, :] - g * (cross + cross.transpose(0, 2, 1)) \
                + g * g * np.einsum("ji,jk->jik", c, c) + (g * g * s2) * eye
            m = am - g * c
            W = mixing(t)
            if W is not None:
                m = m @ W.T
                S = W @ S @ W.T
            t += 1
        record_at(i)
    return {"steps": grid, **out}
