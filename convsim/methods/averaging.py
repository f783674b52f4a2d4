"""Iterate averaging wrappers: Polyak–Ruppert / tail averaging and EMA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import ConvsimError, in_range
from .base import Method


class AveragedState(NamedTuple):
    inner: Any
    avg: Any


class _IterateAverage(Method):
    """Shared by the averaging wrappers: the state carries the inner state and the average."""

    def __post_init__(self):
        self._require_inner_method()

    def init(self, x0):
        inner = self.inner.init(x0)
        return AveragedState(inner, self.inner.point(inner))

    def point(self, state):
        return state.avg


@dataclass(frozen=True)
class Averaged(_IterateAverage):
    """Uniform average of the inner iterates x_start, …, x_t (Polyak–Ruppert).

    ``start=0`` averages from the initial point, as in Bach & Moulines (2013);
    ``start>0`` is tail averaging.  Before ``start`` the recorded point is the
    last iterate.
    """

    inner: Method
    start: int = 0

    name = "averaged"
    description = "Polyak-Ruppert / tail averaging of any method's iterates"
    source = "Polyak & Juditsky (1992); Ruppert (1988); Bach & Moulines (2013)"

    def __post_init__(self):
        super().__post_init__()
        if int(self.start) != self.start or self.start < 0:
            raise ConvsimError(f"averaging start must be a non-negative integer, got {self.start!r}")

    def step(self, state, oracle, t):
        inner = self.inner.step(state.inner, oracle, t)
        p = self.inner.point(inner)
        count = t + 2 - self.start  # points x_start..x_{t+1} averaged after this step
        avg = p if count <= 1 else state.avg + (p - state.avg) / count
        return AveragedState(inner, avg)


@dataclass(frozen=True)
class EMA(_IterateAverage):
    """Exponential moving average of the inner iterates: a ← decay·a + (1 − decay)·x_t, a_0 = x_0."""

    inner: Method
    decay: float = 0.99

    name = "ema"
    description = "exponential moving average of any method's iterates"
    source = "exponential iterate averaging; analysed for SGD in linear regression by Li & Gu, arXiv 2502.14123"

    def __post_init__(self):
        super().__post_init__()
        in_range("EMA decay", self.decay, 0.0, 1.0)

    def step(self, state, oracle, t):
        inner = self.inner.step(state.inner, oracle, t)
        return AveragedState(inner, self.decay * state.avg + (1.0 - self.decay) * self.inner.point(inner))


@dataclass(frozen=True)
class SWA(_IterateAverage):
    """Stochastic weight averaging (Izmailov et al. 2018, arXiv 1803.05407, Alg. 1).

    The average starts at the initial weights and adds the inner iterate at the end of
    every ``cycle`` steps: w_SWA ← (n·w_SWA + w)/(n + 1) with n = i/cycle models so far.
    Pair it with ``schedules.cyclic(lr_max, lr_min, cycle)`` so models are collected at
    the lowest step size; ``cycle=1`` averages every iterate.
    """

    inner: Method
    cycle: int = 1

    name = "swa"
    description = "stochastic weight averaging at the end of every step-size cycle"
    source = "Izmailov et al. (2018), arXiv 1803.05407, Alg. 1"

    def __post_init__(self):
        super().__post_init__()
        if int(self.cycle) != self.cycle or self.cycle < 1:
            raise ConvsimError(f"SWA cycle must be a positive integer, got {self.cycle!r}")

    def step(self, state, oracle, t):
        inner = self.inner.step(state.inner, oracle, t)
        i = t + 1
        if i % self.cycle:
            return AveragedState(inner, state.avg)
        n = i // self.cycle
        return AveragedState(inner, (n * state.avg + self.inner.point(inner)) / (n + 1))
