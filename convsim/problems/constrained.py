"""Equality-constrained toys ``min f(x) s.t. c(x) = 0`` over the primal-dual vector ``w = (x, λ)``.

The iterate a simulator carries is ``w ∈ ℝ^{n+m}`` (primal x, multipliers λ), so that Newton methods on the
Lagrangian L(x, λ) = f(x) + λᵀc(x) run through the ordinary engine: ``value(w)`` is f(x), ``grad(w)`` is the
Lagrangian's gradient field (∇ₓL, c) whose zero is the KKT point ``x_star`` (= w*), computed on the host by
SLSQP and polished by exact Newton steps on the KKT system (numpy.linalg.solve) to machine precision.

``QuadraticEquality``: f(x) = ½xᵀQx + qᵀx with linear constraints Cx = e and, if ``sphere_radius`` is given, the
nonlinear constraint ‖x‖² − r² = 0 placed first (a trust-region-boundary toy whose KKT system changes with x).
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from ..errors import finite_array, require
from .base import Problem, array_digest


class QuadraticEquality(Problem):
    """½xᵀQx + qᵀx subject to Cx = e (and ‖x‖² = r² when ``sphere_radius`` is set), over w = (x, λ)."""

    name = "quadratic-equality"
    description = "quadratic objective with linear (and optionally one spherical) equality constraints, w = (x, lambda)"

    def __init__(self, Q, q, C, e, *, sphere_radius=None, x0=None, lam0=None):
        self.Q = finite_array("Q", Q)
        self.n = self.Q.shape[0]
        require(self.Q.shape == (self.n, self.n), f"Q must be square, got {self.Q.shape}")
        self.q = finite_array("q", q, (self.n,))
        self.C = finite_array("C", C)
        require(self.C.ndim == 2 and self.C.shape[1] == self.n, f"C must have {self.n} columns, got {self.C.shape}")
        self.e = finite_array("e", e, (self.C.shape[0],))
        self.sphere_radius = None if sphere_radius is None else float(sphere_radius)
        self.m = self.C.shape[0] + (self.sphere_radius is not None)
        require(self.m <= self.n, f"need at most n = {self.n} constraints, got {self.m}")
        self.dim = self.n + self.m
        x0 = np.zeros(self.n) if x0 is None else finite_array("x0", x0, (self.n,))
        lam0 = np.zeros(self.m) if lam0 is None else finite_array("lam0", lam0, (self.m,))
        self._x0 = np.concatenate([x0, lam0])
        self._x_star = self._solve()
        self._f_star = float(self.objective(self._x_star[None, :self.n])[0])

    @classmethod
    def random(cls, n, m_linear, *, sphere_radius=None, seed=0, condition=10.0, start_distance=1.0):
        """Q with eigenvalues geomspace(condition, 1) in a random basis, Gaussian q and C, e = C x_feasible;
        the start is w* + ``start_distance`` × a random unit direction."""
        rng = np.random.default_rng(seed)
        basis, _ = np.linalg.qr(rng.standard_normal((n, n)))
        Q = (basis * np.geomspace(condition, 1.0, n)) @ basis.T
        q = rng.standard_normal(n)
        C = rng.standard_normal((m_linear, n))
        feasible = rng.standard_normal(n)
        if sphere_radius is not None:
            feasible *= sphere_radius / np.linalg.norm(feasible)
        base = cls(Q, q, C, C @ feasible, sphere_radius=sphere_radius, x0=feasible)
        direction = rng.standard_normal(base.dim)
        start = base.x_star + start_distance * direction / np.linalg.norm(direction)
        return cls(Q, q, C, C @ feasible, sphere_radius=sphere_radius, x0=start[:n], lam0=start[n:])

    # -- pieces of the Lagrangian, batched over rows of x (R, n) and λ (R, m) ----------------------
    def objective(self, x):
        Q, q = self.on(x, "Q", self.Q), self.on(x, "q", self.q)
        return 0.5 * self.namespace_of(x).sum((x @ Q) * x, axis=-1) + x @ q

    def objective_grad(self, x):
        return x @ self.on(x, "Q", self.Q) + self.on(x, "q", self.q)[None, :]

    def objective_hessian(self, x):
        xp = self.namespace_of(x)
        return xp.broadcast_to(self.on(x, "Q", self.Q)[None, :, :], (x.shape[0], self.n, self.n))

    def constraints(self, x):
        xp = self.namespace_of(x)
        linear = x @ self.on(x, "C", self.C).T - self.on(x, "e", self.e)[None, :]
        if self.sphere_radius is None:
            return linear
        return xp.concat([xp.sum(x * x, axis=-1, keepdims=True) - self.sphere_radius ** 2, linear], axis=-1)

    def jacobian(self, x):
        """(R, m, n)."""
        xp = self.namespace_of(x)
        C = xp.broadcast_to(self.on(x, "C", self.C)[None, :, :], (x.shape[0], self.C.shape[0], self.n))
        if self.sphere_radius is None:
            return C
        return xp.concat([2.0 * x[:, None, :], C], axis=1)

    def constraint_curvature(self, x, lam):
        """Σ_j λ_j ∇²c_j(x), (R, n, n): 2λ_sphere I for the sphere, zero for linear constraints."""
        xp = self.namespace_of(x)
        eye = xp.eye(self.n, dtype=x.dtype)[None, :, :]
        if self.sphere_radius is None:
            return xp.zeros((x.shape[0], self.n, self.n), dtype=x.dtype)
        return 2.0 * lam[:, 0][:, None, None] * eye

    def split(self, w):
        return w[:, :self.n], w[:, self.n:]

    def lagrangian_grad(self, x, lam):
        G = self.jacobian(x)
        return self.objective_grad(x) + self.namespace_of(x).sum(G * lam[:, :, None], axis=1)

    # -- protocol -----------------------------------------------------------------------------------
    def value(self, w):
        return self.objective(self.split(w)[0])

    def grad(self, w):
        """The KKT residual field (∇ₓL(x, λ), c(x)), zero at w*."""
        x, lam = self.split(w)
        return self.namespace_of(w).concat([self.lagrangian_grad(x, lam), self.constraints(x)], axis=-1)

    def constants(self):
        return {"d": self.dim, "n": self.n, "m": self.m, "f_star": self._f_star,
                "r0_sq": float(np.sum((self._x0 - self._x_star) ** 2))}

    def spec(self):
        return {"name": self.name, "n": self.n, "m": self.m, "Q": array_digest(self.Q), "q": array_digest(self.q),
                "C": array_digest(self.C), "e": array_digest(self.e), "sphere_radius": self.sphere_radius,
                "w0": array_digest(self._x0)}

    # -- host-side reference solution -----------------------------------------------------------------
    def kkt_matrix_host(self, w):
        x, lam = w[None, :self.n], w[None, self.n:]
        H = (self.objective_hessian(x) + self.constraint_curvature(x, lam))[0]
        G = self.jacobian(x)[0]
        return np.block([[H, G.T], [G, np.zeros((self.m, self.m))]])

    def _solve(self):
        cons = [{"type": "eq", "fun": lambda x: self.constraints(x[None, :])[0],
                 "jac": lambda x: self.jacobian(x[None, :])[0]}]
        x = scipy.optimize.minimize(lambda x: float(self.objective(x[None, :])[0]), self._x0[:self.n],
                                    jac=lambda x: self.objective_grad(x[None, :])[0], constraints=cons,
                                    method="SLSQP", options={"ftol": 1e-14, "maxiter": 500}).x
        G = self.jacobian(x[None, :])[0]
        lam = np.linalg.lstsq(G.T, -self.objective_grad(x[None, :])[0], rcond=None)[0]
        w = np.concatenate([x, lam])
        for _ in range(20):  # Newton on the KKT system: quadratic convergence from SLSQP's answer
            w = w - np.linalg.solve(self.kkt_matrix_host(w), self.grad(w[None, :])[0])
        require(np.linalg.norm(self.grad(w[None, :])[0]) < 1e-10, "the KKT reference solve did not converge")
        return w
