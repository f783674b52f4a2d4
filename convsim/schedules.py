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
class refined(Schedule):
    """The refined last-iterate schedule of Defazio, Cutkosky, Mehta & Mishchenko (arXiv 2310.07831):
    from the gradient norms ‖g_t‖² of a previous run of ``horizon = len(grad_norms_sq)`` steps, with
    weights w_t = ‖g_t‖^(−power) (power 2 in the paper),

        γ_t ∝ w_t · Σ_{s>t} w_s,

    scaled so that its peak is ``lr`` (the paper fixes the overall scale separately).  The tail sum runs
    over one extra analysis step that repeats the last weight (the step after the horizon enters only the
    analysis), so constant norms give exactly ``linear_decay(lr, horizon)``.  γ_t = 0 past the horizon.
    """

    lr: float
    grad_norms_sq: tuple
    power: float = 2.0

    def __post_init__(self):
        positive("lr", self.lr)
        norms = tuple(float(g) for g in self.grad_norms_sq)
        if not norms or any(not math.isfinite(g) or g <= 0 for g in norms):
            raise ConvsimError("refined: grad_norms_sq must be a non-empty sequence of positive finite numbers")
        object.__setattr__(self, "grad_norms_sq", norms)
        positive("power", self.power)
        w = [g ** (-self.power / 2.0) for g in norms]
        tail, acc = [0.0] * len(w), w[-1]  # acc: Σ_{s>t} w_s, starting with the analysis step's weight
        for t in range(len(w) - 1, -1, -1):
            tail[t] = acc
            acc += w[t]
        raw = [wt * tt for wt, tt in zip(w, tail)]
        peak = max(raw)
        object.__setattr__(self, "_steps", tuple(self.lr * r / peak for r in raw))

    @property
    def horizon(self) -> int:
        return len(self.grad_norms_sq)

    def __call__(self, t):
        return self._steps[t] if 0 <= t < len(self._steps) else 0.0


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
