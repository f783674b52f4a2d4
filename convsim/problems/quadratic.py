"""Quadratics ``f(x) = ½ (x - x*)ᵀ H (x - x*) + f*`` with a chosen spectrum."""

from __future__ import annotations

import numpy as np
import scipy.stats

from array_api_compat import array_namespace

from ..errors import positive, require
from ..random import BLOCK
from ..spectra import explicit
from .base import Problem, array_digest


def blockwise_matmul(v, M):
    """``v @ M`` for a batch ``v`` of shape (R, d), computed over fixed blocks of 64 rows.

    BLAS may round a row differently depending on how many rows it is given; replica chunks
    are whole 64-row blocks, so products over the same blocks make float32 results
    independent of the chunk size too (float64 happened to be already)."""
    if v.ndim != 2 or v.shape[0] < BLOCK:
        return v @ M
    xp = array_namespace(v)
    n, d = v.shape
    full = n // BLOCK * BLOCK
    head = xp.reshape(xp.reshape(v[:full, ...], (full // BLOCK, BLOCK, d)) @ M, (full, M.shape[-1]))
    return head if full == n else xp.concat([head, v[full:, ...] @ M], axis=0)


class Quadratic(Problem):
    """A quadratic with Hessian ``H = Q diag(eigenvalues) Qᵀ``.

    Parameters
    ----------
    spectrum : eigenvalues of H (see :mod:`convsim.spectra`).
    noise : a model from :mod:`convsim.noise`, or None for exact gradients.
    batch_size : minibatch size of the stochastic oracle.
    rotate : if True, Q is a Haar-random rotation drawn from ``seed``; else Q = I.
    x_star : the minimizer (default: the origin).
    x0 : the starting point (default: ``x* + r0 · 1/√d``, which excites every
        eigendirection equally).
    r0 : initial distance ‖x0 - x*‖ when ``x0`` is not given.
    """

    name = "quadratic"
    description = "quadratic with a chosen spectrum (diagonal or rotated) and a gradient-noise model"

    def __init__(self, spectrum, noise=None, *, batch_size=1, rotate=False, x_star=None, x0=None,
                 r0=1.0, f_star=0.0, seed=0):
        self.eigenvalues = explicit(spectrum)
        self.dim = int(self.eigenvalues.size)
        self.noise = noise
        self.batch_size = positive("batch_size", batch_size, integer=True)
        self.rotate = bool(rotate)
        self.seed = int(seed)
        self.rotation = scipy.stats.special_ortho_group.rvs(self.dim, random_state=seed) if rotate and self.dim > 1 else None
        self._x_star = np.zeros(self.dim) if x_star is None else np.asarray(x_star, dtype=np.float64)
        require(self._x_star.shape == (self.dim,), f"x_star must have shape ({self.dim},), got {self._x_star.shape}")
        if x0 is None:
            x0 = self._x_star + positive("r0", r0) * np.ones(self.dim) / np.sqrt(self.dim)
        self._x0 = np.asarray(x0, dtype=np.float64)
        require(self._x0.shape == (self.dim,), f"x0 must have shape ({self.dim},), got {self._x0.shape}")
        self._f_star = float(f_star)
        self._centered = not np.any(self._x_star)  # x* = 0: skip the subtraction in the hot loop

    # -- protocol ----------------------------------------------------------------------
    def hessian(self) -> np.ndarray:
        """Dense H on the host (for closed forms)."""
        if self.rotation is None:
            return np.diag(self.eigenvalues)
        return (self.rotation * self.eigenvalues) @ self.rotation.T

    def apply_hessian_power(self, v, power: float):
        """``H^power v`` along the last axis of ``v`` (any leading batch shape)."""
        lam_p = self.on(v, f"lam^{power}", lambda: self.eigenvalues**power)
        if self.rotation is None:
            return v * lam_p
        Q = self.on(v, "Q", self.rotation)
        return blockwise_matmul(blockwise_matmul(v, Q) * lam_p, Q.T)

    def error(self, x):
        """x − x*."""
        return x if self._centered else x - self.x_star_on(x)

    def value(self, x):
        xp = self.namespace_of(x)
        e = self.error(x)
        return 0.5 * xp.sum(e * self.apply_hessian_power(e, 1.0), axis=-1) + self._f_star

    def grad(self, x):
        return self.apply_hessian_power(self.error(x), 1.0)

    def stochastic_grad(self, x, rng):
        if self.noise is None:
            return self.grad(x)
        return self.noise.stochastic_grad(self, x, rng, self.batch_size)

    def hvp(self, x, v):
        return self.apply_hessian_power(v, 1.0)

    def constants(self):
        lam = self.eigenvalues
        L, mu = float(lam[0]), float(lam[-1])
        r0_sq = float(np.sum((self._x0 - self._x_star) ** 2))
        e0 = self._x0 - self._x_star
        if self.rotation is not None:
            e0 = self.rotation.T @ e0
        c = {
            "d": self.dim, "L": L, "mu": mu, "kappa": L / mu if mu > 0 else float("inf"),
            "trace_H": float(np.sum(lam)), "f_star": self._f_star, "r0_sq": r0_sq,
            "f0_gap": float(0.5 * np.sum(lam * e0**2)), "batch_size": self.batch_size,
            "sigma_star2": 0.0,
        }
        if self.noise is not None:
            c["sigma_star2"] = self.noise.sigma_star2(lam, self.batch_size)
            c.update(self.noise.constants(lam))
        return c

    def spec(self):
        return {
            "name": self.name, "d": self.dim, "spectrum": array_digest(self.eigenvalues),
            "L": float(self.eigenvalues[0]), "mu": float(self.eigenvalues[-1]),
            "noise": repr(self.noise), "batch_size": self.batch_size, "rotate": self.rotate,
            "seed": self.seed, "x_star": array_digest(self._x_star), "x0": array_digest(self._x0),
            "f_star": self._f_star,
        }
