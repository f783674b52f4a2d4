"""Gradient methods: GD, SGD (torch.optim.SGD semantics), heavy ball, Nesterov."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..backend import array_library, mutable_in_place
from ..errors import ConvsimError, in_range
from ..schedules import Schedule
from .base import Method


class Iterate(NamedTuple):
    x: Any


def descend(x, scale: float, direction):
    """x − scale·direction as a new array, rounded as the expression, with one allocation where the
    backend allows (neither ``x`` nor ``direction`` is written: wrappers and oracles share them)."""
    if not mutable_in_place(x):
        return x - scale * direction
    lib = array_library(x)
    step = lib.multiply(direction, scale)
    return lib.subtract(x, step, out=step)


class MomentumState(NamedTuple):
    x: Any
    buf: Any


class TwoPointState(NamedTuple):
    x: Any
    y: Any  # heavy ball: previous iterate; Nesterov: extrapolated point
    scratch: Any = None  # heavy ball's work array of x's shape (backends that update in place)


def keeps_dtype(owned, *operands) -> bool:
    """Whether an in-place step may write results computed from ``operands`` (arrays and scalars) into
    ``owned`` and still give the functional path's numbers: a backend that updates in place, and no operand
    that promotes ``owned``'s dtype (NumPy and CuPy compute float32 against a float64 array or a NumPy
    float64 scalar in float64, NEP 50, where the functional path would then carry float64 arrays)."""
    if not mutable_in_place(owned):
        return False
    numpy_rules = not type(owned).__module__.startswith("torch")  # PyTorch keeps a tensor's dtype against scalars
    for v in operands:
        if type(v) in (int, float):
            continue
        if hasattr(v, "shape"):
            if v.dtype != owned.dtype:
                return False
        elif numpy_rules:
            weak = getattr(v, "weak", None)  # a batched hyperparameter: a column of the array's or float64 dtype
            probe = v if weak is None else (0.0 if weak else np.float64(0.0))
            try:
                if np.result_type(owned.dtype, probe) != owned.dtype:
                    return False
            except TypeError:
                return False
    return True


def owned_copy(x0, scale: float = 1.0):
    """``scale·x0`` as an array of its own (of x0's layout), for state that a step overwrites in place."""
    return array_library(x0).multiply(x0, scale)


@dataclass(frozen=True)
class GD(Method):
    """Gradient descent with exact gradients: x ← x − γ_t ∇f(x)."""

    step_size: Schedule | float

    name = "gd"
    description = "gradient descent with exact gradients"
    source = "Cauchy (1847); Garrigos & Gower, Handbook (arXiv 2301.11235) §3"

    def __post_init__(self):
        self._schedule_step_size()

    def init(self, x0):
        return Iterate(x0)

    def step(self, state, oracle, t):
        return Iterate(descend(state.x, self.step_size(t), oracle.grad(state.x)))


@dataclass(frozen=True)
class SGD(Method):
    """Stochastic gradient descent with optional momentum, exactly as ``torch.optim.SGD``.

    g = ĝ(x) + wd·x;  b ← g (first step) or μ b + (1 − dampening) g;
    d = g + μ b (Nesterov) or b;  x ← x − γ_t d.
    """

    step_size: Schedule | float
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    name = "sgd"
    description = "SGD with schedules, momentum, Nesterov and weight decay (torch.optim.SGD semantics)"
    source = "Robbins & Monro (1951); Sutskever et al. (2013)"

    def __post_init__(self):
        self._schedule_step_size()
        in_range("momentum", self.momentum, 0.0, 1.0)
        in_range("dampening", self.dampening, 0.0, 1.0, closed_high=True)
        in_range("weight_decay", self.weight_decay, 0.0, math.inf)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ConvsimError("Nesterov momentum needs momentum > 0 and dampening = 0")

    def init(self, x0):
        return MomentumState(x0, None) if self.momentum else Iterate(x0)

    def step(self, state, oracle, t):
        x = state.x
        g = oracle.stochastic_grad(x)
        if self.weight_decay:
            g = g + self.weight_decay * x
        lr = self.step_size(t)
        if not self.momentum:
            return Iterate(descend(x, lr, g))
        mu = self.momentum
        if not mutable_in_place(x):  # functional path (array_api_strict)
            buf = g if state.buf is None else mu * state.buf + (1.0 - self.dampening) * g
            direction = g + mu * buf if self.nesterov else buf
            return MomentumState(x - lr * direction, buf)
        # in place on the buffer, which this state owns (a copy of the first gradient), same rounding
        lib = array_library(x)
        if state.buf is None:
            buf = lib.multiply(g, 1.0)
        else:
            buf = state.buf
            buf *= mu
            # (1 − 0)·g is g exactly; a batched (per-replica) dampening takes the multiplication
            buf += g if type(self.dampening) in (int, float) and self.dampening == 0 else lib.multiply(g, 1.0 - self.dampening)
        if not self.nesterov:
            return MomentumState(descend(x, lr, buf), buf)
        direction = lib.multiply(buf, mu)
        direction += g
        direction *= lr
        return MomentumState(lib.subtract(x, direction, out=direction), buf)


@dataclass(frozen=True)
class HeavyBall(Method):
    """Polyak's heavy ball: x_{t+1} = x_t − γ_t ĝ(x_t) + β (x_t − x_{t−1}), x_{−1} = x_0."""

    step_size: Schedule | float
    momentum: float

    name = "heavy-ball"
    description = "Polyak heavy-ball momentum with stochastic gradients"
    source = "Polyak (1964)"

    def __post_init__(self):
        self._schedule_step_size()
        in_range("momentum", self.momentum, 0.0, 1.0)

    def init(self, x0):
        return TwoPointState(x0, x0, owned_copy(x0) if mutable_in_place(x0) else None)

    def step(self, state, oracle, t):
        x, x_prev, scratch = state
        lr = self.step_size(t)
        if scratch is None or not keeps_dtype(scratch, x, x_prev, lr, self.momentum):  # functional path
            x_next = x - lr * oracle.stochastic_grad(x) + self.momentum * (x - x_prev)
            return TwoPointState(x_next, x)
        # the same operations in the same order, one new array (the next iterate): x and x_prev are
        # iterates that wrappers may hold (Lookahead's slow weights), so only the scratch is written
        lib = array_library(x)
        x_next = descend(x, lr, oracle.stochastic_grad(x))
        pull = lib.subtract(x, x_prev, out=scratch)
        pull *= self.momentum
        x_next += pull
        return TwoPointState(x_next, x, scratch)


@dataclass(frozen=True)
class Nesterov(Method):
    """Nesterov's accelerated gradient: x_{t+1} = y_t − γ_t ĝ(y_t), y_{t+1} = x_{t+1} + β_t (x_{t+1} − x_t).

    ``momentum="convex"`` uses the coefficients β_t = (λ_{t+1} − 1)/λ_{t+2} with
    λ_1 = 1, λ_{k+1} = (1 + √(1 + 4λ_k²))/2 (Beck & Teboulle 2009, FISTA with no
    prox), which gives f(x_t) − f* ≤ 2L‖x_0 − x*‖²/(t+1)² for γ = 1/L.  A number
    is a constant momentum; :meth:`strongly_convex` sets the classical
    β = (√κ − 1)/(√κ + 1) with γ = 1/L.

    ``sequence_offset`` reads the convex λ-sequence that many steps ahead (β_k from λ_{k+offset}):
    0 is Beck & Teboulle's indexing; a non-zero value is a planted off-by-one, for mutation tests.
    """

    step_size: Schedule | float
    momentum: float | str = "convex"
    sequence_offset: int = 0
    _lambdas: list = field(default_factory=lambda: [1.0], repr=False, compare=False)

    name = "nesterov"
    description = "Nesterov accelerated gradient (convex λ-sequence or constant strongly convex momentum)"
    source = "Nesterov (1983); Beck & Teboulle (2009) Thm 4.4; d'Aspremont, Scieur & Taylor (2021) Cor 4.15"

    def __post_init__(self):
        self._schedule_step_size()
        if self.momentum != "convex":
            if isinstance(self.momentum, str):
                raise ConvsimError(f"Nesterov momentum must be 'convex' or a number in [0, 1), got {self.momentum!r}")
            in_range("momentum", self.momentum, 0.0, 1.0)
        if int(self.sequence_offset) != self.sequence_offset or self.sequence_offset < 0:
            raise ConvsimError(f"sequence_offset must be a non-negative integer, got {self.sequence_offset!r}")

    @classmethod
    def strongly_convex(cls, L: float, mu: float):
        kappa = L / mu
        return cls(1.0 / L, (math.sqrt(kappa) - 1.0) / (math.sqrt(kappa) + 1.0))

    def coefficient(self, k: int) -> float:
        """Momentum applied once x_k is known: β = (λ_k − 1)/λ_{k+1} (convex), k ≥ 1."""
        if self.momentum != "convex":
            return float(self.momentum)
        k += int(self.sequence_offset)
        lam = self._lambdas  # lam[i] = λ_{i+1}, extended on demand (host-side only)
        while len(lam) < k + 1:
            lam.append((1.0 + math.sqrt(1.0 + 4.0 * lam[-1] ** 2)) / 2.0)
        return (lam[k - 1] - 1.0) / lam[k]

    def init(self, x0):
        # y is overwritten in place where the backend allows, so it starts as a copy of x0 (x0 is the caller's)
        return TwoPointState(x0, owned_copy(x0) if mutable_in_place(x0) else x0)

    def step(self, state, oracle, t):
        x, y, _ = state
        x_next = descend(y, self.step_size(t), oracle.stochastic_grad(y))
        beta = self.coefficient(t + 1)
        if not keeps_dtype(y, x_next, x, beta):  # functional path (array_api_strict, a promoted dtype)
            return TwoPointState(x_next, x_next + beta * (x_next - x))
        # y is this state's own array and its gradient is spent: the extrapolation overwrites it, same rounding
        y = array_library(y).subtract(x_next, x, out=y)
        y *= beta
        y += x_next
        return TwoPointState(x_next, y)

    def spec(self):
        spec = {"name": self.name, "step_size": repr(self.step_size), "momentum": repr(self.momentum)}
        if self.sequence_offset:  # only when set, so the keys of stored runs stay as they were
            spec["sequence_offset"] = int(self.sequence_offset)
        return spec
