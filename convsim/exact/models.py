"""Linear methods as augmented linear systems over blocks of iterates.

On a quadratic every method below keeps a state made of ``k`` vectors of dimension d
(iterate, momentum buffer, previous iterate, average, slow weights, ...), and one step is

    z' = A_t z + b_t g,   g = ĝ(y) + wd·y,   y = c_tᵀ z   (the point where the gradient is taken),

where ``A_t`` (k×k), ``b_t`` and ``c_t`` (k) are scalars acting block-wise.  The
coefficients are read from the method's own fields (step size schedule, momentum,
dampening, Nesterov flag, weight decay, averaging weights, Lookahead's k and α), with the
update order of :mod:`convsim.methods`.  Everything is in *error coordinates*
(blocks that are iterates hold x − x*, buffers hold themselves), so the recursion in
:mod:`convsim.exact.moments` only has to add the gradient's law.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConvsimError
from ..methods.averaging import EMA, SWA, Averaged
from ..methods.gradient import GD, SGD, HeavyBall, Nesterov
from ..methods.wrappers import Lookahead


@dataclass(frozen=True)
class LinearStep:
    """One step ``z' = A z + b g`` with ``g`` taken at ``c·z``; ``noisy=False``: the exact gradient."""

    A: np.ndarray
    b: np.ndarray
    c: np.ndarray
    noisy: bool = True
    weight_decay: float = 0.0

    def same_as(self, other: "LinearStep") -> bool:
        return (self.noisy == other.noisy and self.weight_decay == other.weight_decay
                and np.array_equal(self.A, other.A) and np.array_equal(self.b, other.b)
                and np.array_equal(self.c, other.c))


@dataclass(frozen=True)
class LinearModel:
    """A method as a linear system: ``k`` blocks, which start at ``init``·(x0 − x*) (1 for an iterate,
    0 for a buffer), the recorded point ``point``·z, the block Lookahead reads as ``x`` (None: none),
    ``steady`` (steps from which the coefficients repeat with ``period``, when they do), and ``step(t)``."""

    k: int
    init: np.ndarray
    point: np.ndarray
    x_block: int | None
    step: object  # t -> LinearStep
    period: int | None = 1
    steady: int = 0


def _unit(k: int, i: int) -> np.ndarray:
    e = np.zeros(k)
    e[i] = 1.0
    return e


def _constant_schedule(schedule) -> bool:
    from ..schedules import constant

    return isinstance(schedule, constant)


def linear_model(method) -> LinearModel:
    """The linear system of ``method``; a one-line :class:`ConvsimError` for a method that is not linear here."""
    builder = _BUILDERS.get(type(method))
    if builder is None:
        known = ", ".join(sorted(c.__name__ for c in _BUILDERS))
        raise ConvsimError(f"convsim.exact has no exact recursion for {type(method).__name__}; supported: {known}")
    for f in dataclasses.fields(method):  # a field added later, set away from its default, is not modelled here
        if f.name not in _MODELLED[type(method)] and f.default is not dataclasses.MISSING \
                and getattr(method, f.name) != f.default:
            raise ConvsimError(f"convsim.exact does not model {type(method).__name__}.{f.name}={getattr(method, f.name)!r}")
    return builder(method)


def _gd(m: GD) -> LinearModel:
    step = lambda t: LinearStep(np.array([[1.0]]), np.array([-m.step_size(t)]), np.array([1.0]), noisy=False)
    return LinearModel(1, np.ones(1), np.ones(1), 0, step, 1 if _constant_schedule(m.step_size) else None)


def _sgd(m: SGD) -> LinearModel:
    wd, constant = float(m.weight_decay), _constant_schedule(m.step_size)
    if not m.momentum:
        step = lambda t: LinearStep(np.array([[1.0]]), np.array([-m.step_size(t)]), np.array([1.0]), True, wd)
        return LinearModel(1, np.ones(1), np.ones(1), 0, step, 1 if constant else None)
    mu = float(m.momentum)

    def step(t):  # blocks (x, buf); torch's first step sets buf = g, later buf = mu buf + (1 - dampening) g
        gamma, q = m.step_size(t), 1.0 if t == 0 else 1.0 - m.dampening
        if m.nesterov:  # d = g + mu buf' = mu² buf + (1 + mu q) g
            A = np.array([[1.0, -gamma * mu * mu], [0.0, mu]])
            b = np.array([-gamma * (1.0 + mu * q), q])
        else:  # d = buf' = mu buf + q g
            A = np.array([[1.0, -gamma * mu], [0.0, mu]])
            b = np.array([-gamma * q, q])
        return LinearStep(A, b, np.array([1.0, 0.0]), True, wd)

    return LinearModel(2, np.array([1.0, 0.0]), _unit(2, 0), 0, step, 1 if constant else None, steady=1)


def _heavy_ball(m: HeavyBall) -> LinearModel:
    beta = float(m.momentum)

    def step(t):  # blocks (x, x_prev): x' = (1 + beta) x - beta x_prev - gamma g
        A = np.array([[1.0 + beta, -beta], [1.0, 0.0]])
        return LinearStep(A, np.array([-m.step_size(t), 0.0]), np.array([1.0, 0.0]))

    return LinearModel(2, np.ones(2), _unit(2, 0), 0, step, 1 if _constant_schedule(m.step_size) else None)


def _nesterov(m: Nesterov) -> LinearModel:
    def step(t):  # blocks (x, y): x' = y - gamma g(y); y' = (1 + beta) x' - beta x
        gamma, beta = m.step_size(t), m.coefficient(t + 1)
        A = np.array([[0.0, 1.0], [-beta, 1.0 + beta]])
        return LinearStep(A, np.array([-gamma, -gamma * (1.0 + beta)]), np.array([0.0, 1.0]))

    invariant = m.momentum != "convex" and _constant_schedule(m.step_size)
    return LinearModel(2, np.ones(2), _unit(2, 0), 0, step, 1 if invariant else None)


def _average(inner: LinearModel, weight, period, steady) -> LinearModel:
    """An average block a' = (1 − w_t) a + w_t p' of the inner point p' after the inner step."""
    k = inner.k

    def step(t):
        s, w = inner.step(t), weight(t)
        p = inner.point
        A = np.zeros((k + 1, k + 1))
        A[:k, :k] = s.A
        A[k, :k] = w * (p @ s.A)
        A[k, k] = 1.0 - w
        b = np.append(s.b, w * (p @ s.b))
        return LinearStep(A, b, np.append(s.c, 0.0), s.noisy, s.weight_decay)

    return LinearModel(k + 1, np.append(inner.init, inner.point @ inner.init), _unit(k + 1, k), None, step,
                       period, steady)


def _averaged(m: Averaged) -> LinearModel:
    start = int(m.start)

    def weight(t):
        count = t + 2 - start  # points x_start..x_{t+1} in the average after this step
        return 1.0 if count <= 1 else 1.0 / count

    return _average(linear_model(m.inner), weight, None, 0)


def _ema(m: EMA) -> LinearModel:
    inner = linear_model(m.inner)
    return _average(inner, lambda t: 1.0 - m.decay, inner.period, inner.steady)


def _swa(m: SWA) -> LinearModel:
    cycle = int(m.cycle)

    def weight(t):  # at the end of every cycle: (n avg + p)/(n + 1), n = (t + 1)/cycle
        i = t + 1
        return 0.0 if i % cycle else 1.0 / (i // cycle + 1)

    return _average(linear_model(m.inner), weight, None, 0)


def _lookahead(m: Lookahead) -> LinearModel:
    inner = linear_model(m.inner)
    if inner.x_block is None:
        raise ConvsimError(f"Lookahead needs an inner state with an iterate field 'x'; {m.inner.name} has none")
    k, x, alpha, sync = inner.k, inner.x_block, float(m.alpha), int(m.k)
    # At a synchronization: slow' = (1 − α) slow + α x_fast and the fast iterate restarts at slow'.
    R = np.eye(k + 1)
    R[x, :] = 0.0
    R[x, x], R[x, k] = alpha, 1.0 - alpha
    R[k, :] = R[x, :]

    def step(t):
        s = inner.step(t)
        A = np.zeros((k + 1, k + 1))
        A[:k, :k], A[k, k] = s.A, 1.0
        b = np.append(s.b, 0.0)
        if (t + 1) % sync == 0:
            A, b = R @ A, R @ b
        return LinearStep(A, b, np.append(s.c, 0.0), s.noisy, s.weight_decay)

    period = None if inner.period is None else sync * inner.period // math.gcd(sync, inner.period)
    return LinearModel(k + 1, np.append(inner.init, 1.0), _unit(k + 1, k), None, step, period, inner.steady)


_BUILDERS = {GD: _gd, SGD: _sgd, HeavyBall: _heavy_ball, Nesterov: _nesterov, Averaged: _averaged, EMA: _ema,
             SWA: _swa, Lookahead: _lookahead}

_MODELLED = {  # the fields each builder reads (Nesterov.coefficient applies sequence_offset itself)
    GD: {"step_size"}, SGD: {"step_size", "momentum", "dampening", "nesterov", "weight_decay"},
    HeavyBall: {"step_size", "momentum"}, Nesterov: {"step_size", "momentum", "sequence_offset", "_lambdas"},
    Averaged: {"inner", "start"}, EMA: {"inner", "decay"}, SWA: {"inner", "cycle"}, Lookahead: {"inner", "k", "alpha"},
}
