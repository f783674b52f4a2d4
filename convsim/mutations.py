"""Mutations: named, composable perturbations of what a claim runs.

A claim is evidence only if it can come out differently for a wrong implementation.
A :class:`Mutation` plants such a bug in the *run* — never in the check or the bound:
it rewrites the frozen dataclasses (methods, schedules, learners, SDE terms, bilevel
algorithms, ...) that the claim's experiment hands to its :class:`~convsim.Context`.
The context applies it to every object passed to ``ctx.simulate``, ``simulate_sde``,
``simulate_bandit``, ``run_bilevel`` and the online runner, and to whatever an
experiment passes through ``ctx.mutate`` itself.  References computed outside the
context (closed forms, :mod:`convsim.exact` recursions) are untouched by design.

Constructors (``on`` restricts a mutation to instances of a class, given as the class,
its name, or a tuple of them; by default every dataclass with the field is rewritten):

* :func:`scale` — multiply a field: numbers, arrays, schedules (γ_t → c·γ_t) and
  callables (their output; a drift or diffusion term) alike;
* :func:`set_field` — give a field another value (``set_field("nesterov", False)``);
* :func:`drop` — a term removed: a number set to 0 or a callable's output ×0;
* :func:`shift` — a schedule read one step off (γ_t → γ_{t+k});
* :func:`custom` — any replacement ``fn(obj) -> obj``, for a naive estimator and the like.

``m.blind(why)`` declares a mutation the claim legitimately cannot see (an upper bound
cannot see a smaller step); ``m1 & m2`` applies both.  A mutation that changes nothing
in a claim's whole run is an error, so a declared catch can never pass vacuously.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .errors import ConvsimError, require

EXPECTATIONS = ("caught", "blind")


def _is_instance(obj) -> bool:
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)


def _matches(obj, on) -> bool:
    if on is None:
        return True
    targets = on if isinstance(on, tuple) else (on,)
    names = {c.__name__ for c in type(obj).__mro__}
    return any((isinstance(t, str) and t in names) or (isinstance(t, type) and isinstance(obj, t)) for t in targets)


def _init_fields(obj):
    return [f for f in dataclasses.fields(obj) if f.init]


@dataclass(frozen=True)
class ScaledCall:
    """A callable whose output is multiplied by ``factor`` (a term scaled or dropped)."""

    fn: Callable
    factor: float

    def __call__(self, *args, **kwargs):
        return self.factor * self.fn(*args, **kwargs)


@dataclass(frozen=True)
class Mutation:
    """One named perturbation; see the module docstring.  ``rewrite(obj)`` returns the
    replacement of one matching object, or None where it does not apply."""

    name: str
    rewrite: Callable[[Any], Any] = field(repr=False, compare=False)
    on: Any = None
    expect: str = "caught"
    why: str = ""

    def __post_init__(self):
        require(bool(self.name), "a mutation needs a name")
        require(self.expect in EXPECTATIONS, f"a mutation's expectation must be 'caught' or 'blind', got {self.expect!r}")
        require(self.expect == "caught" or bool(self.why), f"mutation {self.name!r}: say why the claim is blind to it")

    def blind(self, why: str) -> "Mutation":
        """The same mutation, declared as one the claim cannot see (with the reason)."""
        return dataclasses.replace(self, expect="blind", why=why)

    def caught(self) -> "Mutation":
        return dataclasses.replace(self, expect="caught", why="")

    def __and__(self, other: "Mutation") -> "Mutation":
        return compose(self, other)

    def apply(self, obj) -> tuple[Any, int]:
        """``(mutated copy of obj, number of places rewritten)``; obj itself is never modified."""
        return self._walk(obj)

    def _walk(self, obj):
        if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
            parts = [self._walk(v) for v in obj]
            hits = sum(h for _, h in parts)
            return (type(obj)(v for v, _ in parts) if hits else obj), hits
        if isinstance(obj, dict):
            parts = {k: self._walk(v) for k, v in obj.items()}
            hits = sum(h for _, h in parts.values())
            return ({k: v for k, (v, _) in parts.items()} if hits else obj), hits
        if not _is_instance(obj):
            return obj, 0
        hits, changes = 0, {}
        for f in _init_fields(obj):  # inner objects first: wrappers hold methods, schedules hold schedules
            value = getattr(obj, f.name)
            new, h = self._walk(value)
            if h:
                hits += h
                changes[f.name] = new
        if changes:
            obj = dataclasses.replace(obj, **changes)
        if _matches(obj, self.on):
            new = self.rewrite(obj)
            if new is not None:
                obj, hits = new, hits + 1
        return obj, hits


def _field_rewrite(name: str, transform: Callable[[Any], Any]):
    def rewrite(obj):
        if name not in {f.name for f in _init_fields(obj)}:
            return None
        value = getattr(obj, name)
        new = transform(value)
        if new is None or _same_scalar(new, value):  # a field set to the value it has changes nothing
            return None
        try:
            return dataclasses.replace(obj, **{name: new})
        except ConvsimError as exc:
            raise ConvsimError(f"mutating {type(obj).__name__}.{name}: {exc}") from None

    return rewrite


def _same_scalar(a, b) -> bool:
    plain = (numbers.Number, str, type(None))
    return isinstance(a, plain) and isinstance(b, plain) and type(a) is type(b) and a == b


def _scaled(value, factor: float):
    from .schedules import Schedule, scaled

    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, numbers.Integral):
        return int(round(value * factor))
    if isinstance(value, numbers.Real):
        return float(value) * factor
    if isinstance(value, Schedule):
        return scaled(value, factor)
    if isinstance(value, np.ndarray):
        return value * factor
    if callable(value) and not _is_instance(value):
        return ScaledCall(value, factor)
    return None


def _label(factor: float) -> str:
    return f"{factor:g}"


def scale(field_name: str, factor: float, *, on=None, name: str | None = None) -> Mutation:
    """Multiply ``field_name`` by ``factor`` wherever it occurs (step ×2, bonus ×½, diffusion ×2, ...)."""
    factor = float(factor)
    where = f" in {_on_name(on)}" if on is not None else ""
    return Mutation(name or f"{field_name} x{_label(factor)}{where}",
                    _field_rewrite(field_name, lambda v: _scaled(v, factor)), on)


def set_field(field_name: str, value, *, on=None, name: str | None = None) -> Mutation:
    """Give ``field_name`` the value ``value`` (a flag switched, a constant replaced)."""
    where = f" in {_on_name(on)}" if on is not None else ""
    return Mutation(name or f"{field_name}={value!r}{where}", _field_rewrite(field_name, lambda v: value), on)


def drop(field_name: str, *, on=None, name: str | None = None) -> Mutation:
    """Remove a term: a numeric field set to 0, a callable term's output multiplied by 0."""
    where = f" in {_on_name(on)}" if on is not None else ""
    return Mutation(name or f"drop {field_name}{where}", _field_rewrite(field_name, lambda v: _scaled(v, 0.0)), on)


def shift(field_name: str, k: int, *, on=None, name: str | None = None) -> Mutation:
    """Read a schedule ``k`` steps off: γ_t → γ_{t+k} (an off-by-one in the step counter)."""
    from .schedules import Schedule, as_schedule, shifted

    require(int(k) == k and k != 0, f"a schedule shift must be a non-zero integer, got {k!r}")

    def transform(v):
        if isinstance(v, bool) or not isinstance(v, (Schedule, numbers.Real)):
            return None
        return shifted(as_schedule(v), int(k))

    where = f" in {_on_name(on)}" if on is not None else ""
    return Mutation(name or f"{field_name} shifted {int(k):+d}{where}", _field_rewrite(field_name, transform), on)


def custom(name: str, fn: Callable[[Any], Any], *, on) -> Mutation:
    """Replace every object matching ``on`` by ``fn(obj)`` (return None to leave one alone)."""
    require(on is not None, "a custom mutation says which objects it rewrites (on=...)")
    return Mutation(name, fn, on)


def compose(*mutations: Mutation, name: str | None = None) -> Mutation:
    """Apply several mutations in turn (each must change something)."""
    require(len(mutations) >= 2, "compose needs at least two mutations")

    def rewrite(obj):  # never called: Composite overrides apply
        return None

    return _Composite(name or " & ".join(m.name for m in mutations), rewrite, None, parts=tuple(mutations))


@dataclass(frozen=True)
class _Composite(Mutation):
    parts: tuple = ()

    def apply(self, obj):
        total = 0
        for m in self.parts:
            obj, h = m.apply(obj)
            total += h
        return obj, total


def _on_name(on) -> str:
    targets = on if isinstance(on, tuple) else (on,)
    return "/".join(t if isinstance(t, str) else t.__name__ for t in targets)


@dataclass
class MutationResult:
    """One mutation's outcome on one claim (``convsim mutate``)."""

    name: str
    expect: str
    verdict: str
    caught: bool
    why: str = ""
    reason: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        """An expected catch happened (blind mutations are informational)."""
        return self.error is None and (self.caught or self.expect == "blind")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["ok"] = self.ok
        return d
