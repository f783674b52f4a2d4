"""Wrappers that change what a method sees (clipped or robust gradients) or how it moves (Lookahead)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..errors import ConvsimError, in_range, positive, require
from .base import Method, Oracle


class _MappedOracle(Oracle):
    """An oracle whose stochastic gradients pass through ``transform(oracle, x)``."""

    __slots__ = ("inner", "transform")

    def __init__(self, inner: Oracle, transform):
        super().__init__(inner.problem, inner.rng)
        self.inner, self.transform = inner, transform

    def stochastic_grad(self, x):
        return self.transform(self.inner, x)


class _OracleWrapper(Method):
    """Runs ``inner`` unchanged except for the gradients it is given."""

    def __post_init__(self):
        self._require_inner_method()

    def init(self, x0):
        return self.inner.init(x0)

    def step(self, state, oracle, t):
        return self.inner.step(state, _MappedOracle(oracle, self.gradient), t)

    def point(self, state):
        return self.inner.point(state)


@dataclass(frozen=True)
class Clipped(_OracleWrapper):
    """Gradient clipping: ``mode="norm"`` rescales g to norm ≤ c (per replica);
    ``mode="coordinate"`` clips every coordinate to [−c, c]."""

    inner: Method
    threshold: float = 1.0
    mode: str = "norm"

    name = "clipped"
    description = "gradient clipping (global norm or coordinate-wise) around any method"
    source = "Pascanu, Mikolov & Bengio (2013); Zhang et al. (2020), arXiv 1905.11881"

    def __post_init__(self):
        super().__post_init__()
        positive("clipping threshold", self.threshold)
        require(self.mode in ("norm", "coordinate"), f"clipping mode must be 'norm' or 'coordinate', got {self.mode!r}")

    def gradient(self, oracle, x):
        g = oracle.stochastic_grad(x)
        xp = array_namespace(g)
        c = self.threshold
        if self.mode == "coordinate":
            return xp.clip(g, -c, c)
        norm = xp.sqrt(xp.sum(g * g, axis=-1, keepdims=True))
        return g * xp.minimum(1.0, c / xp.maximum(norm, 1e-300))


@dataclass(frozen=True)
class MedianOfBatches(_OracleWrapper):
    """Coordinate-wise median of ``batches`` independent stochastic gradients, a robust
    estimator under heavy-tailed noise (median-of-minibatch SGD)."""

    inner: Method
    batches: int = 5

    name = "median-of-batches"
    description = "coordinate-wise median of several stochastic gradients around any method"
    source = "robust gradient aggregation; median-of-minibatch SGD as in Schaipp et al., arXiv 2402.12828"

    def __post_init__(self):
        super().__post_init__()
        positive("batches", self.batches, integer=True)

    def gradient(self, oracle, x):
        xp = array_namespace(x)
        draws = xp.sort(xp.stack([oracle.stochastic_grad(x) for _ in range(self.batches)], axis=1), axis=1)
        k = self.batches
        if k % 2:
            return draws[:, k // 2, :]
        return 0.5 * (draws[:, k // 2 - 1, :] + draws[:, k // 2, :])


class LookaheadState(NamedTuple):
    inner: Any
    slow: Any


@dataclass(frozen=True)
class Lookahead(Method):
    """Lookahead (Zhang, Lucas, Hinton & Ba 2019, arXiv 1907.08610, Alg. 1).

    The inner method takes ``k`` fast steps from the slow weights φ; then
    φ ← φ + α(θ_k − φ) and the fast weights restart at φ.  The inner method's
    other state (momentum, moments) is kept, as in the authors' code.  The
    recorded point is φ.  The inner state must carry the iterate as field ``x``.
    """

    inner: Method
    k: int = 5
    alpha: float = 0.8

    name = "lookahead"
    description = "Lookahead: k fast steps of any method, then interpolate the slow weights"
    source = "Zhang, Lucas, Hinton & Ba (2019), arXiv 1907.08610, Alg. 1"

    def __post_init__(self):
        self._require_inner_method()
        positive("k", self.k, integer=True)
        in_range("alpha", self.alpha, 0.0, 1.0, closed_low=False, closed_high=True)

    def init(self, x0):
        inner = self.inner.init(x0)
        if "x" not in getattr(inner, "_fields", ()):
            raise ConvsimError(f"Lookahead needs an inner state with an iterate field 'x'; {self.inner.name} has none")
        return LookaheadState(inner, x0)

    def step(self, state, oracle, t):
        inner = self.inner.step(state.inner, oracle, t)
        if (t + 1) % self.k:
            return LookaheadState(inner, state.slow)
        slow = state.slow + self.alpha * (inner.x - state.slow)
        return LookaheadState(inner._replace(x=slow), slow)

    def point(self, state):
        return state.slow


class DoGState(NamedTuple):
    x: Any
    x0: Any
    rbar: Any
    g_sum: Any
    xbar: Any = None  # the r̄-weighted average (``average=True``)
    weight: Any = None


@dataclass(frozen=True)
class DoG(Method):
    """DoG, "distance over gradients" (Ivgi, Hinder & Carmon 2023, arXiv 2302.12022), as in the authors' code.

    η_t = r̄_t / √(Σ_{i≤t} ‖g_i‖²) with r̄_t = max(r_ε, max_{i≤t} ‖x_i − x_0‖) and
    r_ε = ``r_eps`` · (1 + ‖x_0‖); one step size per replica, no learning rate to tune.
    With ``average=True`` the recorded point is the weighted average x̄_t = Σ_{i<t} r̄_i x_i / Σ_{i<t} r̄_i,
    the iterate their guarantees are stated for.

    ``fixed_distance=D`` replaces the distance estimate by the constant r̄_t = D (η_t = D/√(Σ‖g_i‖²),
    AdaGrad-norm with the scale D, which no longer adapts to ‖x_0 − x*‖): not DoG, a switch for
    planting "the distance estimate replaced by a constant" (default None, the paper's rule).
    """

    r_eps: float = 1e-6
    average: bool = False
    fixed_distance: float | None = None

    name = "dog"
    description = "DoG: parameter-free step size distance-over-gradients"
    source = "Ivgi, Hinder & Carmon (2023), arXiv 2302.12022, Eq. (1)"

    def __post_init__(self):
        positive("r_eps", self.r_eps)
        if self.fixed_distance is not None:
            positive("fixed_distance", self.fixed_distance)

    def init(self, x0):
        xp = array_namespace(x0)
        r0 = self.r_eps * (1.0 + xp.sqrt(xp.sum(x0 * x0, axis=-1, keepdims=True)))
        if self.fixed_distance is not None:
            r0 = 0.0 * r0 + self.fixed_distance
        if self.average:
            return DoGState(x0, x0, r0, 0.0 * r0, x0, 0.0 * r0)
        return DoGState(x0, x0, r0, 0.0 * r0)

    def step(self, state, oracle, t):
        x, x0, rbar, g_sum, xbar, weight = state
        xp = array_namespace(x)
        if self.fixed_distance is None:
            d = x - x0
            rbar = xp.maximum(rbar, xp.sqrt(xp.sum(d * d, axis=-1, keepdims=True)))
        g = oracle.stochastic_grad(x)
        g_sum = g_sum + xp.sum(g * g, axis=-1, keepdims=True)
        if self.average:  # x̄ ← (W x̄ + r̄_t x_t)/(W + r̄_t): the average of x_0..x_t with weights r̄_i
            weight = weight + rbar
            xbar = xbar + (rbar / weight) * (x - xbar)
        return DoGState(x - rbar / xp.sqrt(g_sum) * g, x0, rbar, g_sum, xbar, weight)

    def point(self, state):
        return state.xbar if self.average else state.x
