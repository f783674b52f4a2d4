"""Several runs as one: G copies of a method that differ only in numeric hyperparameters, batched.

A sweep over step sizes (momenta, schedule constants...) at R replicas is G runs that all use
the same seed, so replica r draws the same random numbers at every grid point.  Batching them
stacks the G groups of a chunk of n replicas along the replica axis (row ``g*n + i`` is replica
i of point g) and

- draws each random number once and repeats it for the G groups (:class:`SharedStreams`), and
- replaces every hyperparameter that differs between points by a :class:`PerGroup` value,
  which acts like the point's Python number on the host (a branch on it is taken when every
  point takes it) and like a column of per-row values against an array.

Both keep every floating-point operation of the point-by-point run, so each group's rows are
bit for bit the point's run.  Whatever would not be (a hyperparameter used as a Python float,
a branch that goes different ways for different points, a draw whose parameters depend on the
iterate, a derived attribute computed
from a hyperparameter at construction) raises :class:`NotBatchable` instead, and the caller
runs the points one by one.
"""

from __future__ import annotations

import copy
import dataclasses
import numbers
import operator

import numpy as np

from ..errors import ConvsimError


class NotBatchable(ConvsimError):
    """These runs cannot be batched exactly (the caller falls back to one run per point)."""


def _is_weak(v) -> bool:
    """A Python int or float (not a NumPy scalar): NumPy casts it to the other operand's dtype."""
    return type(v) in (int, float)


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


class PerGroup:
    """One number per group of ``rows`` consecutive rows: the hyperparameter of each grid point.

    On the host it computes like the points' numbers (each operation on each group's value, in
    Python or NumPy scalar arithmetic, as the point's run would).  Against an array whose first
    axis is the G·rows replica rows it becomes the column of per-row values, in the array's dtype
    where the point's number would be a weak Python scalar (NumPy's promotion rules), float64
    where it would be a NumPy scalar.
    """

    __slots__ = ("values", "rows", "weak", "_columns")

    def __init__(self, values, rows: int, weak: bool = True):
        self.values = tuple(values)
        self.rows = int(rows)
        self.weak = weak
        self._columns = {}

    def __repr__(self):
        return f"PerGroup({list(self.values)!r})"

    # -- host decisions: exact only where every group decides alike -------------------
    def _refuse(self, *_):
        raise NotBatchable("a batched hyperparameter is used as a single number (float, int or array)")

    __float__ = __int__ = __index__ = __array__ = _refuse
    __hash__ = None

    def _decide(self, outcomes) -> bool:
        outcomes = {bool(o) for o in outcomes}
        if len(outcomes) > 1:
            raise NotBatchable("a branch on a batched hyperparameter goes different ways for different points")
        return outcomes.pop()

    def __bool__(self):
        return self._decide(self.values)

    def _compare(self, other, op):
        if isinstance(other, PerGroup):
            return self._decide(op(a, b) for a, b in zip(self.values, other.values))
        if _is_number(other):
            return self._decide(op(v, other) for v in self.values)
        return NotImplemented

    # -- against arrays -----------------------------------------------------------
    def column(self, like):
        """The per-row values shaped to broadcast along the first axis of the array ``like``."""
        from array_api_compat import array_namespace

        shape = tuple(like.shape)
        if not shape or shape[0] != self.rows * len(self.values):
            raise NotBatchable(f"a batched hyperparameter meets an array of shape {shape}, not one row per replica")
        xp = array_namespace(like)
        strong = None if self.weak else np.result_type(*self.values).name  # a NumPy scalar keeps its dtype
        key = (xp.__name__, like.dtype, strong, len(shape))
        col = self._columns.get(key)
        if col is None:
            host = np.repeat(np.asarray(self.values, dtype=np.float64), self.rows)
            host = host.reshape((-1,) + (1,) * (len(shape) - 1))
            col = self._columns[key] = xp.asarray(host, dtype=like.dtype if strong is None else getattr(xp, strong))
        return col

    def _binary(self, other, op, reflected):
        if isinstance(other, PerGroup):
            if other.rows != self.rows or len(other.values) != len(self.values):
                raise NotBatchable("batched hyperparameters of different groupings")
            pairs = zip(other.values, self.values) if reflected else zip(self.values, other.values)
            return PerGroup([op(a, b) for a, b in pairs], self.rows, self.weak and other.weak)
        if _is_number(other):
            weak = self.weak and _is_weak(other)
            vals = [op(other, v) if reflected else op(v, other) for v in self.values]
            return PerGroup(vals, self.rows, weak)
        if hasattr(other, "shape") and hasattr(other, "dtype"):
            col = self.column(other)
            return op(other, col) if reflected else op(col, other)
        return NotImplemented

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        arrays = [a for a in inputs if not isinstance(a, PerGroup) and getattr(a, "ndim", 0) > 0]
        if arrays:
            return getattr(ufunc, method)(*(a.column(arrays[0]) if isinstance(a, PerGroup) else a for a in inputs),
                                          **kwargs)
        if kwargs:
            raise NotBatchable(f"np.{ufunc.__name__} on a batched hyperparameter with {sorted(kwargs)}")
        # host arithmetic on scalars, group by group, as the point's run would do it (a NumPy scalar)
        groups = [inp for inp in inputs if isinstance(inp, PerGroup)]
        rows, n = groups[0].rows, len(groups[0].values)
        vals = [ufunc(*(inp.values[g] if isinstance(inp, PerGroup) else inp for inp in inputs)) for g in range(n)]
        return PerGroup(vals, rows, weak=False)

    def __neg__(self):
        return PerGroup([-v for v in self.values], self.rows, self.weak)

    def __pos__(self):
        return self

    def __abs__(self):
        return PerGroup([abs(v) for v in self.values], self.rows, self.weak)


for _name, _op in (("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt), ("le", operator.le),
                   ("gt", operator.gt), ("ge", operator.ge)):
    setattr(PerGroup, f"__{_name}__", lambda self, other, _op=_op: self._compare(other, _op))

for _name, _op in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("pow", operator.pow)):
    setattr(PerGroup, f"__{_name}__", lambda self, other, _op=_op: self._binary(other, _op, False))
    setattr(PerGroup, f"__r{_name}__", lambda self, other, _op=_op: self._binary(other, _op, True))


class SharedStreams:
    """The random streams of ``n`` replicas, every draw repeated for ``groups`` groups of them.

    Row ``g*n + i`` receives replica i's draw: what replica i of each point's own run draws.
    Only draws of a fixed shape are shared; draws whose parameters come from the iterates
    (``gamma_of``, ``beta_of``) or anything else raise :class:`NotBatchable`.
    """

    SHARED = ("normal", "uniform", "gamma", "rademacher", "integers")

    def __init__(self, streams, groups: int):
        self._streams = streams
        self.groups = int(groups)
        self.xp = streams.xp
        self.dtype = streams.dtype
        self.dtype_name = streams.dtype_name
        self.count = streams.count * self.groups
        self.scratch: dict = {}  # the problems' sampling state belongs to the batched rows
        self._buffers: dict = {}

    def _shared(self, draw):
        n = draw.shape[0]
        if isinstance(draw, np.ndarray):  # one preallocated buffer per kind and shape, as ReplicaStreams does
            key = (draw.dtype, draw.shape)
            buf = self._buffers.get(key)
            if buf is None:
                buf = self._buffers[key] = np.empty((self.groups, *draw.shape), dtype=draw.dtype)
            buf[...] = draw
            return buf.reshape(self.groups * n, *draw.shape[1:])
        xp = self.xp
        tiled = xp.broadcast_to(xp.expand_dims(draw, axis=0), (self.groups, *draw.shape))
        return xp.reshape(tiled, (self.groups * n, *draw.shape[1:]))

    def __getattr__(self, name):
        if name not in self.SHARED:
            raise NotBatchable(f"the problem uses the random stream's {name!r}, which batched runs do not share")
        draw = getattr(self._streams, name)
        return lambda *args: self._shared(draw(*args))


@dataclasses.dataclass(frozen=True)
class MethodGroups:
    """G methods of one kind as a template plus the numeric leaves that differ (path -> G values)."""

    template: object
    leaves: dict

    @property
    def groups(self) -> int:
        return len(next(iter(self.leaves.values()))) if self.leaves else 1

    @classmethod
    def of(cls, methods) -> "MethodGroups":
        """The groups of ``methods``; :class:`NotBatchable` unless they differ only in numeric fields."""
        methods = list(methods)
        leaves: dict = {}
        _collect(methods, (), leaves)
        return cls(methods[0], leaves)

    def bind(self, rows: int):
        """A copy of the template whose differing leaves are :class:`PerGroup` values for ``rows`` rows per group."""
        values = {path: PerGroup(v, rows, weak=all(_is_weak(x) for x in v)) for path, v in self.leaves.items()}
        return _rebuild(self.template, (), values)


def _collect(objs, path, leaves):
    first = objs[0]
    if any(type(o) is not type(first) for o in objs):
        raise NotBatchable(f"the grid changes the kind of {'.'.join(path) or 'method'}")
    if dataclasses.is_dataclass(first) and not isinstance(first, type):
        names = {f.name for f in dataclasses.fields(first)}
        for name in names:
            _collect([getattr(o, name) for o in objs], (*path, name), leaves)
        for name, value in vars(first).items():  # attributes derived from the fields must not differ
            if name not in names and name != "_device_cache" and any(not _same(vars(o).get(name), value) for o in objs):
                raise NotBatchable(f"the grid changes the derived attribute {'.'.join((*path, name))}")
        return
    if all(_is_number(o) for o in objs):
        if any(not _same(o, first) for o in objs):
            if any(type(o) is not type(first) for o in objs):
                raise NotBatchable(f"the grid mixes number types in {'.'.join(path)}")
            leaves[path] = tuple(objs)
        return
    if any(not _same(o, first) for o in objs):
        raise NotBatchable(f"the grid changes the non-numeric field {'.'.join(path)}")


def _same(a, b) -> bool:
    if a is b:
        return True
    try:
        eq = a == b
        return bool(np.all(eq)) if not isinstance(eq, bool) else eq
    except Exception:  # incomparable values: treat as different
        return False


def _rebuild(obj, path, values):
    if path in values:
        return values[path]
    if not (dataclasses.is_dataclass(obj) and not isinstance(obj, type)):
        return obj
    inner = {f.name: _rebuild(getattr(obj, f.name), (*path, f.name), values) for f in dataclasses.fields(obj)}
    if all(inner[k] is getattr(obj, k) for k in inner):
        return copy.deepcopy(obj)  # host-side caches (e.g. Nesterov's λ-sequence) stay per run
    clone = copy.copy(obj)  # no __post_init__: the points were validated one by one
    clone.__dict__.pop("_device_cache", None)
    for k, v in inner.items():
        object.__setattr__(clone, k, copy.deepcopy(v) if v is getattr(obj, k) else v)
    return clone
