"""OptEx: first-order optimization with approximately parallelized iterations (Shu, Fang, He & Yu 2024, arXiv
2402.11427), SGD-based, as the authors' JAX reference implementation runs it (``optex_jax/OptEx_JAX.py``,
``run_optex``; github.com/youyve/OptEx).

One step of this Method is one *sequential round* of OptEx with parallelism N:

1. fit the kernelized gradient estimator on the local history of the last ``history`` (T₀) evaluated
   gradients: a GP posterior mean per coordinate with one shared scalar kernel,
   μ(z) = k(z, X) (K(X, X) + σ² I)⁻¹ G (fewer than two stored gradients: μ ≡ 0);
2. run N − 1 *proxy* SGD steps on μ from the current iterate, z₀ = x, z_{k+1} = z_k − η μ(z_k);
3. evaluate the true gradients g_k = ∇f(z_k) at the N points z₀, ..., z_{N−1} (the N parallel evaluations);
4. take one true step from the last point, x⁺ = z_{N−1} − η g_{N−1} (the reference code's choice, idx = −1),
   and append the N pairs (z_k, g_k) to the history, keeping the newest T₀.

With an exact estimator a round is N sequential SGD steps; with N = 1 it is one SGD step.  Kernels:
``"matern52"`` (the reference code's ``1.0 * Matern(length_scale, nu=2.5)``, noise σ² = 1e-3 on the
diagonal, T₀ = 50) on raw coordinates — the reference code rescales x by the mean of √‖x_i‖ over the
history, a scalar change of the length scale that is not reproduced here — and ``"affine"``,
k(x, y) = 1 + ⟨x, y⟩/ℓ², whose posterior mean is an affine map: with σ² = 0 it interpolates an affine
gradient field (a quadratic's) exactly on the affine hull of the history.  The linear systems are solved
with a pseudo-inverse (the PyTorch reference uses ``pinv``), so a rank-deficient K (repeated points, an
affine kernel with T₀ > d + 1) gives the minimum-norm interpolant.

``estimator="last"`` replaces μ by the most recent stored gradient (a stale-gradient proxy, for
mutations).  The state keeps the history, the number of true-gradient evaluations, and the largest
relative error ‖μ(z_k) − g_k‖/‖g_k‖ of the round's proxy gradients (0 when N = 1), and the iterate the
round started from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..errors import in_range, positive, require
from .base import Method

KERNELS = ("matern52", "affine")
ESTIMATORS = ("kernel", "last")


class OptExState(NamedTuple):
    x: Any
    start: Any             # (R, d): the iterate the last round started from
    points: Any            # (R, T0, d): the local history of evaluated points, oldest first
    grads: Any             # (R, T0, d): their true gradients
    stored: Any            # (R, T0): 1 where a history slot holds a pair, 0 while it is still empty
    evaluations: Any       # (R,): true-gradient evaluations so far (N per round)
    proxy_error: Any       # (R,): max_k ||mu(z_k) - g_k|| / ||g_k|| over the last round's proxy points


def kernel_matrix(kind: str, length_scale: float, a, b):
    """k(a_i, b_j) for batches a (R, m, d), b (R, n, d): (R, m, n)."""
    xp = array_namespace(a)
    inner = a @ xp.matrix_transpose(b)
    if kind == "affine":
        return 1.0 + inner / length_scale ** 2
    sq = xp.sum(a * a, axis=-1)[:, :, None] + xp.sum(b * b, axis=-1)[:, None, :] - 2.0 * inner
    r = math.sqrt(5.0) * xp.sqrt(xp.clip(sq, 0.0, None)) / length_scale
    return (1.0 + r + r * r / 3.0) * xp.exp(-r)


def posterior_weights(kind, length_scale, noise, points, grads, stored):
    """(K + σ² I)⁺ G over the stored slots, (R, T0, d); empty slots get weight 0."""
    xp = array_namespace(points)
    T0 = points.shape[1]
    mask = stored[:, :, None] * stored[:, None, :]
    eye = xp.eye(T0, dtype=points.dtype)[None, :, :]
    K = kernel_matrix(kind, length_scale, points, points) * mask + eye * (1.0 - stored)[:, None, :] + noise * eye
    return xp.linalg.pinv(K) @ (grads * stored[:, :, None])


def posterior_mean(kind, length_scale, z, points, weights, stored):
    """μ(z) for z (R, d): k(z, X) (K + σ² I)⁺ G, (R, d)."""
    xp = array_namespace(z)
    k = kernel_matrix(kind, length_scale, z[:, None, :], points)[:, 0, :] * stored
    return xp.sum(k[:, :, None] * weights, axis=1)


@dataclass(frozen=True)
class OptEx(Method):
    """SGD-based OptEx: N − 1 proxy steps on a GP gradient estimate, N true gradients per sequential round."""

    step_size: float = 0.01
    parallelism: int = 4
    history: int = 50
    kernel: str = "matern52"
    length_scale: float = 1.0
    noise: float = 1e-3
    estimator: str = "kernel"

    name = "optex"
    description = "OptEx: kernelized gradient prediction over N approximately parallelized SGD iterations per round"
    source = "Shu, Fang, He & Yu (2024), arXiv 2402.11427; authors' optex_jax/OptEx_JAX.py"

    def __post_init__(self):
        positive("step_size", self.step_size)
        positive("parallelism", self.parallelism, integer=True)
        positive("history", self.history, integer=True)
        require(self.kernel in KERNELS, f"kernel must be one of {KERNELS}, got {self.kernel!r}")
        require(self.estimator in ESTIMATORS, f"estimator must be one of {ESTIMATORS}, got {self.estimator!r}")
        positive("length_scale", self.length_scale)
        in_range("noise", self.noise, 0.0, float("inf"))

    def init(self, x0):
        xp = array_namespace(x0)
        R, d = x0.shape
        zero = xp.zeros((R,), dtype=x0.dtype)
        empty = xp.zeros((R, self.history, d), dtype=x0.dtype)
        return OptExState(x0, x0, empty, empty, xp.zeros((R, self.history), dtype=x0.dtype), zero, zero)

    def _estimator(self, state):
        """The proxy gradient z ↦ ĝ(z) of this round (0 until two gradients are stored)."""
        points, grads, stored = state.points, state.grads, state.stored
        xp = array_namespace(points)
        ready = xp.astype(xp.sum(stored, axis=-1) >= 2.0, points.dtype)[:, None]
        if self.parallelism == 1:  # no proxy step: nothing to fit
            return None
        if self.estimator == "last":
            newest = grads[:, -1, :] * ready
            return lambda z: newest
        weights = posterior_weights(self.kernel, self.length_scale, self.noise, points, grads, stored)
        return lambda z: posterior_mean(self.kernel, self.length_scale, z, points, weights, stored) * ready

    def step(self, state, oracle, t):
        xp = array_namespace(state.x)
        estimate = self._estimator(state)
        z, proxy_points, proxies = state.x, [state.x], []
        for _ in range(self.parallelism - 1):
            g_hat = estimate(z)
            proxies.append(g_hat)
            z = z - self.step_size * g_hat
            proxy_points.append(z)
        # the N evaluations of one round are independent of each other: the "parallel" part of OptEx
        true_grads = [oracle.grad(p) for p in proxy_points]
        x_next = proxy_points[-1] - self.step_size * true_grads[-1]

        error = xp.zeros_like(state.proxy_error)
        for g_hat, g in zip(proxies, true_grads):
            norm = xp.sqrt(xp.sum(g * g, axis=-1))
            gap = xp.sqrt(xp.sum((g_hat - g) ** 2, axis=-1))
            error = xp.maximum(error, gap / xp.maximum(norm, 1e-300))

        T0 = self.history
        new_points, new_grads = xp.stack(proxy_points, axis=1), xp.stack(true_grads, axis=1)
        ones = xp.ones(new_points.shape[:2], dtype=state.x.dtype)
        points = xp.concat([state.points, new_points], axis=1)[:, -T0:, :]
        grads = xp.concat([state.grads, new_grads], axis=1)[:, -T0:, :]
        stored = xp.concat([state.stored, ones], axis=1)[:, -T0:]
        return OptExState(x_next, state.x, points, grads, stored, state.evaluations + float(self.parallelism), error)
