"""Column-row sampling estimators of a matrix product AB, and their exact variances (CRS, WTA-CRS).

AB = Σ_i A_{:,i} B_{i,:} is a sum of n outer products.  Column-row sampling (CRS; Drineas, Kannan &
Mahoney 2006) draws s pairs i.i.d. with probabilities p and averages A_{:,i} B_{i,:}/p_i; winner-take-all
CRS (WTA-CRS; Liu et al., arXiv:2305.15265) keeps the |C| pairs of largest p exactly and samples the
other s = k − |C| from the rest with probabilities renormalized to p_j/(1 − P_C), P_C = Σ_{c∈C} p_c:

    WTA-CRS = Σ_{c∈C} A_c B_c + (1/s) Σ_{t≤s} (1 − P_C) A_{j_t} B_{j_t} / p_{j_t}      (unbiased).

Each term X = A_j B_j/q_j (q the sampling law) has E‖X − E X‖²_F = Σ_j ‖A_{:,j}‖²‖B_{j,:}‖²/q_j − ‖Σ_j A_j B_j‖²_F,
so the estimator's E‖est − AB‖²_F is that over s (:meth:`ColumnRowSampler.exact_variance`).  p is
uniform or ∝ ‖A_{:,i}‖‖B_{i,:}‖ (the variance-optimal CRS law); ``deterministic="adaptive"`` chooses
|C| as the authors' code does (WTACRS ``k_adaptive``): the c minimizing (1 − P_{C_c})/(k − c), kept
only when that beats CRS's 1/k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import asarray, dtype_of
from ..errors import positive, require


@dataclass(frozen=True)
class ColumnRowSampler:
    """An unbiased estimator of AB from ``samples`` column-row pairs (see the module docstring)."""

    samples: int
    probabilities: str = "norm"
    deterministic: int | str = 0
    renormalize: bool = True
    """False: the sampled terms are weighted 1/p_j instead of (1 − P_C)/p_j (the residual law left unnormalized)."""

    def __post_init__(self):
        positive("samples", self.samples, integer=True)
        require(self.probabilities in ("norm", "uniform"), f"probabilities must be 'norm' or 'uniform'")
        require(self.deterministic == "adaptive" or (isinstance(self.deterministic, int) and
                                                     0 <= self.deterministic < self.samples),
                "deterministic is 'adaptive' or an integer in [0, samples)")

    def plan(self, A, B) -> dict:
        """Host arrays: kept pairs C, sampled pairs with their law q and weights (1 − P_C)/(s p_j)."""
        A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
        n = A.shape[1]
        norms = np.linalg.norm(A, axis=0) * np.linalg.norm(B, axis=1)
        p = np.full(n, 1.0 / n) if self.probabilities == "uniform" else norms / norms.sum()
        order = np.argsort(-p, kind="stable")
        k = self.samples
        if self.deterministic == "adaptive":
            cum = np.cumsum(p[order][: k - 1])
            score = (1.0 - cum) / (k - np.arange(1, k))
            c = int(np.argmin(score)) + 1 if score.min() < 1.0 / k else 0
        else:
            c = int(self.deterministic)
        kept, rest = np.sort(order[:c]), np.sort(order[c:])
        mass = float(p[kept].sum())
        q = p[rest] / (1.0 - mass)
        s = k - c
        weight = ((1.0 - mass) if self.renormalize else 1.0) / (s * p[rest])
        return {"kept": kept, "rest": rest, "q": q, "weight": weight, "s": s, "p": p}

    def exact_variance(self, A, B) -> float:
        """E‖est − AB‖²_F of the unbiased estimator (the closed form of the module docstring)."""
        A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
        plan = self.plan(A, B)
        r = plan["rest"]
        w2 = (np.linalg.norm(A[:, r], axis=0) * np.linalg.norm(B[r], axis=1)) ** 2
        tail = A[:, r] @ B[r]
        return float((np.sum(w2 / plan["q"]) - np.sum(tail**2)) / plan["s"])

    def squared_errors(self, A, B, rng, xp):
        """‖est − AB‖²_F for each replica of ``rng`` (shape (R,)); the s indices drawn by inverse-CDF from uniforms."""
        plan = self.plan(A, B)
        dt = dtype_of(xp, rng.dtype_name)
        rest = plan["rest"]
        A_np, B_np = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
        cols = asarray(xp, (A_np[:, rest] * plan["weight"]).T, dt)        # (n_rest, m), weights folded in
        rows = asarray(xp, B_np[rest], dt)                                 # (n_rest, p)
        cdf = asarray(xp, np.minimum(np.cumsum(plan["q"]), 1.0), dt)
        # the error of the kept part is exact: est − AB = (sampled sum) − (the rest's product)
        tail = asarray(xp, A_np[:, rest] @ B_np[rest], dt)
        s, R = plan["s"], rng.count
        u = rng.uniform(s)
        idx = xp.searchsorted(cdf, xp.reshape(u, (-1,)), side="right")
        idx = xp.clip(idx, max=len(rest) - 1) if hasattr(xp, "clip") else xp.minimum(idx, len(rest) - 1)
        a = xp.reshape(xp.take(cols, idx, axis=0), (R, s, -1))
        b = xp.reshape(xp.take(rows, idx, axis=0), (R, s, -1))
        est = xp.matmul(xp.permute_dims(a, (0, 2, 1)), b)
        err = est - tail
        return xp.sum(xp.reshape(err * err, (R, -1)), axis=1)
