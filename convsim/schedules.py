"""Step-size schedules: frozen callables ``t -> γ_t`` evaluated on the host.

``t`` counts completed steps (the update producing x_{t+1} uses γ_t).  Being plain
host functions of the step counter, schedules never touch device memory, so the hot
loop never syncs to evaluate them.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .errors import ConvsimError, in_range, positive


class Schedule:
    def __call__(self, t: int) -> float:
        raise NotImplementedError


@dataclass(frozen=True)
class constant(Schedule):
    """γ_t = lr."""

    lr: float

    def __post_init__(self):
        positive("step size", self.lr)

    def __call__(self, t):
        return self.lr


@dataclass(frozen=True)
class inverse_time(Schedule):
    """γ_t = c / (t + t0)."""

    c: float
    t0: float = 1.0

    def __post_init__(self):
        positive("c", self.c)
        positive("t0", self.t0)

    def __call__(self, t):
        return self.c / (t + self.t0)


@dataclass(frozen=True)
class inverse_sqrt(Schedule):
    """γ_t = c / √(t + t0)."""

    c: float
    t0: float = 1.0

    def __post_init__(self):
        positive("c", self.c)
        positive("t0", self.t0)

    def __call__(self, t):
        return self.c / math.sqrt(t + self.t0)


@dataclass(frozen=True)
class power_decay(Schedule):
    """γ_t = c (t + t0)^(−p), 0 < p ≤ 1: the polynomially decaying steps of two-timescale analyses."""

    c: float
    p: float
    t0: float = 1.0

    def __post_init__(self):
        positive("c", self.c)
        in_range("p", self.p, 0.0, 1.0, closed_high=True)
        positive("t0", self.t0)

    def __call__(self, t):
        return self.c * (t + self.t0) ** (-self.p)


@dataclass(frozen=True)
class step_decay(Schedule):
    """γ_t = lr · factor^⌊t / every⌋."""

    lr: float
    factor: float
    every: int

    def __post_init__(self):
        positive("lr", self.lr)
        in_range("decay factor", self.factor, 0.0, 1.0, closed_low=False, closed_high=True)
        positive("every", self.every, integer=True)

    def __call__(self, t):
        return self.lr * self.factor ** (t // self.every)


@dataclass(frozen=True)
class linear_decay(Schedule):
    """γ_t = lr · (1 - t/horizon), the schedule of the last-iterate analyses."""

    lr: float
    horizon: int

    def __post_init__(self):
        positive("lr", self.lr)
        positive("horizon", self.horizon, integer=True)

    def __call__(self, t):
        return self.lr * max(0.0, 1.0 - t / self.horizon)


@dataclass(frozen=True)
class cosine(Schedule):
    """γ_t = final + (lr - final) · (1 + cos(π t / horizon)) / 2."""

    lr: float
    horizon: int
    final: float = 0.0

    def __post_init__(self):
        positive("lr", self.lr)
        positive("horizon", self.horizon, integer=True)
        in_range("final", self.final, 0.0, self.lr, closed_high=True)

    def __call__(self, t):
        frac = min(t, self.horizon) / self.horizon
        return self.final + (self.lr - self.final) * 0.5 * (1.0 + math.cos(math.pi * frac))


@dataclass(frozen=True)
class warmup(Schedule):
    """Linear warm-up from ``lr/steps`` over ``steps`` steps, then ``after(t - steps)``."""

    after: Schedule
    steps: int

    def __post_init__(self):
        positive("warm-up steps", self.steps, integer=True)
        as_schedule(self.after)

    def __call__(self, t):
        if t < self.steps:
            return self.after(0) * (t + 1) / self.steps
        return self.after(t - self.steps)


@dataclass(frozen=True)
class switching(Schedule):
    """Constant-then-decreasing steps of Gower et al. (2019, Thm 3.2), Handbook §5.

    γ_t = 1/(2 L_max) for t ≤ 4⌈K⌉ and γ_t = (2t+1)/((t+1)² μ) afterwards, with
    K = L_max/μ.
    """

    L_max: float
    mu: float

    def __post_init__(self):
        positive("L_max", self.L_max)
        positive("mu", self.mu)

    @property
    def switch(self) -> int:
        return 4 * math.ceil(self.L_max / self.mu)

    def __call__(self, t):
        if t <= self.switch:
            return 1.0 / (2.0 * self.L_max)
        return (2 * t + 1) / ((t + 1) ** 2 * self.mu)


@dataclass(frozen=True)
class per_epoch(Schedule):
    """γ_t = base(⌊t/n⌋): constant within each epoch of n steps (shuffling analyses), ``base`` across epochs."""

    base: Schedule
    epoch_length: int

    def __post_init__(self):
        object.__setattr__(self, "base", as_schedule(self.base))
        positive("epoch_length", self.epoch_length, integer=True)

    def __call__(self, t):
        return self.base(t // self.epoch_length)


@dataclass(frozen=True)
class cyclic(Schedule):
    """SWA's cyclical schedule (Izmailov et al. 2018, arXiv 1803.05407, Eq. 2): with i = t + 1,
    α(i) = (1 − s(i)) lr_max + s(i) lr_min, s(i) = (((i − 1) mod cycle) + 1)/cycle, so every
    cycle ends at lr_min.  ``cycle=1`` is the constant step lr_min."""

    lr_max: float
    lr_min: float
    cycle: int

    def __post_init__(self):
        positive("lr_max", self.lr_max)
        in_range("lr_min", self.lr_min, 0.0, self.lr_max, closed_low=False, closed_high=True)
        positive("cycle", self.cycle, integer=True)

    def __call__(self, t):
        s = ((t % self.cycle) + 1) / self.cycle
        return (1.0 - s) * self.lr_max + s * self.lr_min


@dataclass(frozen=True)
class scaled(Schedule):
    """γ_t = factor · base(t) (a step-size mutation, or a schedule reused at another scale)."""

    base: Schedule
    factor: float

    def __post_init__(self):
        object.__setattr__(self, "base", as_schedule(self.base))
        in_range("factor", self.factor, 0.0, math.inf)

    def __call__(self, t):
        return self.factor * self.base(t)


@dataclass(frozen=True)
class shifted(Schedule):
    """γ_t = base(max(t + offset, 0)): the schedule read ``offset`` steps off."""

    base: Schedule
    offset: int

    def __post_init__(self):
        object.__setattr__(self, "base", as_schedule(self.base))
        if int(self.offset) != self.offset:
            raise ConvsimError(f"a schedule offset must be an integer, got {self.offset!r}")

    def __call__(self, t):
        return self.base(max(t + self.offset, 0))


def as_schedule(step) -> Schedule:
    """A schedule from a number (constant step) or a schedule; one-line errors otherwise."""
    if isinstance(step, Schedule):
        return step
    if isinstance(step, numbers.Real) and not isinstance(step, bool):  # numpy scalars too
        return constant(float(step))
    raise ConvsimError(f"a step size must be a positive number or a convsim schedule, got {step!r}")
