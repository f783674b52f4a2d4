"""The convex reformulation of two-layer ReLU regression (Pilanci & Ergen, arXiv 2002.10553).

Training  min_{u_j, α_j} ½‖Σ_j (X u_j)_+ α_j − y‖² + (β/2) Σ_j (‖u_j‖² + α_j²)  with enough neurons
equals the convex group-lasso program over the activation patterns D_i = diag(1[X h ≥ 0]):

    min_{v_i, w_i}  ½‖Σ_i D_i X (v_i − w_i) − y‖² + β Σ_i (‖v_i‖ + ‖w_i‖)
    s.t. (2D_i − I) X v_i ≥ 0,  (2D_i − I) X w_i ≥ 0.

The point x stacks the 2P groups (v_1..v_P, w_1..w_P), each of size d.  In d = 2 the patterns are
enumerated exactly: the sign of x_k·h changes only where h crosses the normal of x_k, so one h
between every pair of consecutive critical angles gives every pattern.  ``drop_patterns`` removes
the last patterns from the enumeration (a planted incomplete pattern set).

``reference_optimum`` brackets the optimum by Lagrange duality (``dual_lower_bound``, scipy's nnls):
an ADMM run is compared with a certified value, not with another run of itself.

"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize

from ..errors import ConvsimError, positive
from .base import Problem, array_digest


def enumerate_patterns_2d(data):
    """All distinct nonzero ReLU activation patterns 1[X h ≥ 0] of 2-d data, shape (P, n), in angle order."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != 2:
        raise ConvsimError(f"exact pattern enumeration needs 2-d data, got shape {data.shape}")
    normal_angles = np.arctan2(data[:, 1], data[:, 0])
    critical = np.sort(np.mod(np.concatenate([normal_angles + np.pi / 2, normal_angles - np.pi / 2]), 2 * np.pi))
    between = (critical + np.roll(critical, -1) + 2 * np.pi * (np.arange(critical.size) == critical.size - 1)) / 2
    directions = np.stack([np.cos(between), np.sin(between)], axis=1)
    patterns = (data @ directions.T >= 0).T.astype(np.float64)
    unique = []
    for pattern in patterns:
        if pattern.any() and not any(np.array_equal(pattern, seen) for seen in unique):
            unique.append(pattern)
    return np.array(unique)


@dataclass(frozen=True)
class ConvexReluRegression(Problem):
    """Group-lasso convex program of two-layer ReLU regression on fixed 2-d data (see module docstring).

    Data: ``samples`` Gaussian points in R², targets from a planted ReLU net of ``planted_neurons``
    neurons plus N(0, ``noise``²) noise, all drawn from ``data_seed`` (fixed across replicas).
    """

    samples: int = 10
    regularization: float = 0.1
    planted_neurons: int = 3
    noise: float = 0.1
    drop_patterns: int = 0
    data_seed: int = 0
    init_seed: int = 1
    init_scale: float = 0.1

    name = "convex-relu-regression"
    description = "group-lasso convex reformulation of two-layer ReLU regression over activation patterns"

    def __post_init__(self):
        positive("regularization", self.regularization)
        rng = np.random.default_rng(self.data_seed)
        data = rng.standard_normal((self.samples, 2))
        first = rng.standard_normal((2, self.planted_neurons))
        second = rng.choice([-1.0, 1.0], self.planted_neurons)
        targets = np.maximum(data @ first, 0.0) @ second + self.noise * rng.standard_normal(self.samples)
        patterns = enumerate_patterns_2d(data)
        if not 0 <= self.drop_patterns < patterns.shape[0]:
            raise ConvsimError(f"drop_patterns must lie in [0, {patterns.shape[0]}), got {self.drop_patterns}")
        patterns = patterns[:patterns.shape[0] - self.drop_patterns]
        masked = patterns[:, :, None] * data[None]                          # D_i X, (P, n, d)
        signed = (2 * patterns - 1)[:, :, None] * data[None]                # (2D_i − I) X
        fit = np.concatenate([masked, -masked], axis=0)                     # groups v then w
        cones = np.concatenate([signed, signed], axis=0)
        groups = fit.shape[0]
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "patterns", patterns)
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "dim", groups * 2)
        object.__setattr__(self, "fit_matrix", np.concatenate(list(fit), axis=1))            # F, (n, 2P·d)
        cone = np.zeros((groups * self.samples, groups * 2))
        for j in range(groups):
            cone[j * self.samples:(j + 1) * self.samples, 2 * j:2 * j + 2] = cones[j]
        object.__setattr__(self, "cone_matrix", cone)                                         # G, block diagonal

    # -- objective --------------------------------------------------------------------
    def group_norms(self, x):
        xp = self.namespace_of(x)
        grouped = xp.reshape(x, (x.shape[0], self.groups, 2))
        return xp.sqrt(xp.sum(grouped * grouped, axis=-1))

    def value(self, x):
        """½‖F x − y‖² + β Σ_j ‖x_j‖ (the cone constraints are measured by ``cone_violation``)."""
        xp = self.namespace_of(x)
        residual = x @ xp.permute_dims(self.on(x, "F", self.fit_matrix), (1, 0)) - self.on(x, "y", self.targets)
        return 0.5 * xp.sum(residual * residual, axis=-1) + self.regularization * xp.sum(self.group_norms(x), axis=-1)

    def grad(self, x):
        """Fᵀ(F x − y) + β x_j/‖x_j‖ per group (the minimal-norm subgradient 0 where x_j = 0)."""
        xp = self.namespace_of(x)
        fit = self.on(x, "F", self.fit_matrix)
        residual = x @ xp.permute_dims(fit, (1, 0)) - self.on(x, "y", self.targets)
        grouped = xp.reshape(x, (x.shape[0], self.groups, 2))
        norms = xp.sqrt(xp.sum(grouped * grouped, axis=-1, keepdims=True))
        unit = grouped / xp.where(norms > 0, norms, xp.ones_like(norms))
        return residual @ fit + self.regularization * xp.reshape(unit, x.shape)

    def cone_violation(self, x):
        """‖min(G x, 0)‖ per row: how far x is from satisfying the pattern constraints."""
        xp = self.namespace_of(x)
        slack = x @ xp.permute_dims(self.on(x, "G", self.cone_matrix), (1, 0))
        negative = xp.minimum(slack, xp.zeros_like(slack))
        return xp.sqrt(xp.sum(negative * negative, axis=-1))

    def admm_system(self, x, penalty):
        """Device copies of (F, G, y, (FᵀF + ρI + ρGᵀG)⁻¹) for the ADMM u-step at penalty ρ."""
        fit, cone = self.fit_matrix, self.cone_matrix
        inverse = lambda: np.linalg.inv(fit.T @ fit + penalty * (np.eye(self.dim) + cone.T @ cone))
        return (self.on(x, "F", fit), self.on(x, "G", cone), self.on(x, "y", self.targets),
                self.on(x, f"admm_inverse_{penalty!r}", inverse))

    # -- the nonconvex network the convex solution describes --------------------------------
    def network_weights(self, point):
        """Neurons (u_j, α_j) of the ReLU net built from one convex point: u = z/√‖z‖, α = ±√‖z‖ (host)."""
        grouped = np.asarray(point, dtype=np.float64).reshape(self.groups, 2)
        norms = np.linalg.norm(grouped, axis=1)
        keep = norms > 0
        signs = np.where(np.arange(self.groups) < self.groups // 2, 1.0, -1.0)
        return grouped[keep] / np.sqrt(norms[keep])[:, None], signs[keep] * np.sqrt(norms[keep])

    def network_loss(self, first, second):
        """½‖(X U)_+ α − y‖² + (β/2)(‖U‖² + ‖α‖²) of the two-layer ReLU net (host)."""
        prediction = np.maximum(self.data @ first.T, 0.0) @ second
        return float(0.5 * np.sum((prediction - self.targets) ** 2)
                     + 0.5 * self.regularization * (np.sum(first ** 2) + np.sum(second ** 2)))

    def dual_lower_bound(self, point):
        """A certified lower bound on the optimum from any point (host), by Lagrange duality.

        The dual of the program is  max_{r, μ ≥ 0} −rᵀy − ½‖r‖²  s.t. ‖F_jᵀ r − G_jᵀ μ_j‖ ≤ β for every
        group j.  From r = F z − y each group's best μ_j is a nonnegative least-squares fit (scipy's
        nnls); r is then shrunk by c ≤ 1 until every group constraint holds, and the dual value of
        c·r bounds the optimum from below whatever produced z.
        """
        point = np.asarray(point, dtype=np.float64)
        residual = self.fit_matrix @ point - self.targets
        worst = 0.0
        for j in range(self.groups):
            columns = slice(2 * j, 2 * j + 2)
            rows = slice(j * self.samples, (j + 1) * self.samples)
            target = self.fit_matrix[:, columns].T @ residual
            _, distance = scipy.optimize.nnls(self.cone_matrix[rows, columns].T, target)
            worst = max(worst, distance)
        shrink = min(1.0, self.regularization / worst) if worst > 0 else 1.0
        return float(-shrink * residual @ self.targets - 0.5 * shrink ** 2 * residual @ residual)

    def reference_optimum(self):
        """(point, lower bound p_lo, value p_hi) bracketing the optimum, certified by duality (host; cached).

        The point comes from a long float64 run of a plain numpy ADMM (penalty 0.1) written here,
        independent of any convsim method; the bracket [p_lo, p_hi] comes from ``dual_lower_bound`` and
        the objective, so the reference does not rest on that solver being right.
        """
        return _reference(self)

    def initial_points(self, replicas: int) -> np.ndarray:
        """Random starts for the solver, entries i.i.d. N(0, init_scale²) (host array (replicas, dim))."""
        return self.init_scale * np.random.default_rng(self.init_seed).standard_normal((replicas, self.dim))

    def constants(self):
        return {"d": self.dim, "patterns": float(self.patterns.shape[0]), "beta": self.regularization}

    def spec(self):
        return {"name": self.name, "d": self.dim, "samples": self.samples, "beta": self.regularization,
                "planted": self.planted_neurons, "noise": self.noise, "drop_patterns": self.drop_patterns,
                "init": (self.init_seed, self.init_scale),
                "data": array_digest(self.data)}


_REFERENCES: dict = {}


def _reference(problem):
    key = (problem.data.tobytes(), problem.targets.tobytes(), problem.patterns.tobytes(), problem.regularization)
    if key not in _REFERENCES:
        fit, cone, penalty = problem.fit_matrix, problem.cone_matrix, 0.1
        system = np.linalg.inv(fit.T @ fit + penalty * (np.eye(problem.dim) + cone.T @ cone))
        copy, slack = np.zeros(problem.dim), np.zeros(cone.shape[0])
        dual_copy, dual_slack = np.zeros_like(copy), np.zeros_like(slack)
        for step in range(1, 20001):
            u = system @ (fit.T @ problem.targets + penalty * (copy - dual_copy)
                          + penalty * cone.T @ (slack - dual_slack))
            grouped = (u + dual_copy).reshape(problem.groups, 2)
            norms = np.linalg.norm(grouped, axis=1, keepdims=True)
            copy = (grouped * np.maximum(0.0, 1 - problem.regularization / penalty / np.maximum(norms, 1e-300))).ravel()
            slack = np.maximum(cone @ u + dual_slack, 0.0)
            dual_copy, dual_slack = dual_copy + u - copy, dual_slack + cone @ u - slack
            if step % 250 == 0:
                upper = float(problem.value(copy[None])[0])
                lower = problem.dual_lower_bound(copy)
                violation = float(problem.cone_violation(copy[None])[0])
                if upper - lower <= 1e-10 * max(1.0, abs(upper)) and violation <= 1e-10:
                    break
        feasible = copy.copy()
        if not (upper - lower <= 1e-8 * max(1.0, abs(upper)) and violation <= 1e-8):
            raise ConvsimError(f"the reference solve of the convex ReLU program is not certified: duality gap "
                               f"{upper - lower:.3g}, cone violation {violation:.3g}")
        _REFERENCES[key] = (feasible, lower, upper)
    return _REFERENCES[key]


def objective_gap(problem, x, *, optimum):
    """Metric: |P(x) − p*| + ‖min(G x, 0)‖, the distance in value to a reference optimum plus infeasibility."""
    xp = problem.namespace_of(x)
    return xp.abs(problem.value(x) - optimum) + problem.cone_violation(x)
