"""The results store: one netCDF file per run, written atomically, reused on re-runs.

Format ``convsim-trace/2`` (netCDF-3, 64-bit offsets; readable by ``xarray.open_dataset(path)``
or ``scipy.io.netcdf_file``):

* dimensions ``replica`` and ``step``;
* variable ``step(step)``: checkpoint step counts (int32);
* one variable ``<metric>(replica, step)`` per recorded metric (float64, NaN after divergence);
* variable ``diverged_at(replica)``: checkpoint step at which the replica diverged, -1 if never (int32);
* global attribute ``claim``: the id of the claim whose run this is (empty outside a claim);
* global attributes ``meta_<key>`` (``meta_seed``, ``meta_problem_name``, ``meta_versions_numpy``, ...):
  the metadata flattened into plain numbers and strings, readable without parsing JSON;
* global attributes ``format``, ``meta`` (JSON: problem, method, steps, replicas, seed, backend,
  dtype, versions, ...), ``constants`` (JSON: the problem's constants), ``key`` (the cache key the
  run was stored under), ``code`` (the convsim version and source digest that produced it) and
  ``checksum`` (SHA-256 of the stored arrays, verified on every load).

The cache key (:func:`fingerprint`) is a content hash of everything a result depends on:
arrays by their bytes, functions by their code, defaults, closure values and the globals
they read, objects by all their attributes (dataclass fields, or ``vars``), and the code
that ran (convsim's version and a digest of its source; the claim file's source is added
by :class:`~convsim.Context`).  A result is served only if its key, code digest and
checksum all match; anything else is recomputed, never served.

``pandas`` users: ``xarray.open_dataset(path).to_dataframe()`` gives one row per (replica, step).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import numbers
import os
import re
import tempfile
import time
import types
from pathlib import Path

import numpy as np
from scipy.io import netcdf_file

from .engine.trace import Trace
from .errors import ConvsimError

FORMAT = "convsim-trace/2"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DERIVED = frozenset({"_device_cache", "_cache"})  # device copies and memo tables: derived from the inputs
_STALE_TMP_SECONDS = 600.0


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _array_digest(a) -> dict:
    a = np.ascontiguousarray(np.asarray(a))
    return {"array": _digest(a.tobytes() + str((a.dtype.str, a.shape)).encode())}


def _code_digest(code: types.CodeType) -> dict:
    consts = [_code_digest(c) if isinstance(c, types.CodeType) else canonical(c) for c in code.co_consts]
    return {"bytecode": _digest(code.co_code), "consts": consts, "names": list(code.co_names),
            "vars": list(code.co_varnames), "free": list(code.co_freevars)}


def _global_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _global_names(c)
    return names


def canonical(obj, _path: tuple = ()):
    """A JSON-able structure that determines ``obj`` by content (see the module docstring).

    Raises a one-line :class:`ConvsimError` for an object it cannot see into."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return {"float": float(obj).hex()}  # exact, unlike repr for numpy scalars of other widths
    if isinstance(obj, numbers.Complex):
        return {"complex": [float(obj.real).hex(), float(obj.imag).hex()]}
    if isinstance(obj, (np.ndarray, np.generic)):
        return _array_digest(obj)
    if obj is Ellipsis or obj is NotImplemented:
        return {"constant": repr(obj)}
    if isinstance(obj, slice):
        return {"slice": [canonical(obj.start), canonical(obj.stop), canonical(obj.step)]}
    if isinstance(obj, type):
        return {"class": f"{obj.__module__}.{obj.__qualname__}"}
    if isinstance(obj, types.ModuleType):
        return {"module": obj.__name__}  # its code is covered by the source digests
    if id(obj) in _path:
        return {"cycle": type(obj).__qualname__}
    path = _path + (id(obj),)
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return [canonical(v, path) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return {"set": sorted(json.dumps(canonical(v, path), sort_keys=True) for v in obj)}
    if isinstance(obj, dict):
        items = [(json.dumps(canonical(k, path), sort_keys=True), canonical(v, path)) for k, v in obj.items()]
        return {"dict": sorted(items, key=lambda kv: kv[0])}
    if isinstance(obj, functools.partial):
        return {"partial": canonical(obj.func, path), "args": canonical(obj.args, path),
                "keywords": canonical(obj.keywords, path)}
    if isinstance(obj, types.MethodType):
        return {"bound": canonical(obj.__func__, path), "self": canonical(obj.__self__, path)}
    if isinstance(obj, types.FunctionType):
        g = obj.__globals__
        used = {n: canonical(g[n], path) for n in sorted(_global_names(obj.__code__)) if n in g}
        closure = [canonical(c.cell_contents, path) for c in (obj.__closure__ or ())]
        return {"function": f"{obj.__module__}.{obj.__qualname__}", "code": _code_digest(obj.__code__),
                "defaults": canonical(obj.__defaults__, path), "kwdefaults": canonical(obj.__kwdefaults__, path),
                "closure": closure, "globals": used}
    if isinstance(obj, (types.BuiltinFunctionType, np.ufunc)) or type(obj).__name__ == "cython_function_or_method":
        return {"builtin": f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', obj.__name__)}"}
    cls = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if dataclasses.is_dataclass(obj):
        fields = {f.name: canonical(getattr(obj, f.name), path) for f in dataclasses.fields(obj) if f.compare}
        extra = {k: canonical(v, path) for k, v in vars(obj).items()
                 if k not in fields and k not in _DERIVED and not k.startswith("__")} if hasattr(obj, "__dict__") else {}
        return {"object": cls, "fields": fields, "extra": extra}
    if hasattr(obj, "__dict__") or hasattr(type(obj), "__slots__"):
        attrs = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
        for name in getattr(type(obj), "__slots__", ()):
            if hasattr(obj, name):
                attrs[name] = getattr(obj, name)
        return {"object": cls, "attrs": {k: canonical(v, path) for k, v in sorted(attrs.items()) if k not in _DERIVED}}
    raise ConvsimError(f"cannot key a stored result on a {type(obj).__name__} object; give it a spec() or pass "
                       "plain numbers, arrays and dataclasses")


@functools.lru_cache(maxsize=None)
def source_digest(root: str | None = None) -> str:
    """SHA-256 of every ``*.py`` file of the convsim package (or of ``root``): results of older code are never served."""
    base = Path(root) if root else Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(base.rglob("*.py")):
        h.update(str(path.relative_to(base)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of one file (a claim file: editing it invalidates its stored runs)."""
    try:
        return _digest(Path(path).read_bytes())
    except OSError:
        return ""


def code_identity() -> dict:
    from .version import __version__

    from .random import stream_family

    return {"convsim": __version__, "source": source_digest(), "streams": stream_family()}


def fingerprint(config) -> str:
    """The cache key of a run: a content hash of ``config`` (see :func:`canonical`) and the code that runs it."""
    payload = {"config": canonical(config), "code": code_identity()}
    return _digest(json.dumps(payload, sort_keys=True).encode())[:32]


def checksum(trace: Trace) -> str:
    """SHA-256 of a trace's arrays as stored (steps, divergence, each metric in name order)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(trace.steps, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(trace.diverged_at, dtype=np.float64).tobytes())
    for name in sorted(trace.metrics):
        h.update(name.encode())
        h.update(np.ascontiguousarray(trace.metrics[name], dtype=np.float64).tobytes())
    return h.hexdigest()


def save_trace(trace: Trace, path: str | os.PathLike, key: str = "") -> Path:
    """Write ``trace`` to ``path`` atomically (a temporary file renamed into place), with its checksum."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for name in trace.metrics:
        if not _NAME.match(name) or name in ("step", "diverged_at"):
            raise ConvsimError(f"metric name {name!r} cannot be stored; use letters, digits and underscores")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with netcdf_file(tmp, "w", version=2) as f:
            f.format = FORMAT
            f.claim = str(trace.meta.get("claim", ""))
            for name, value in _flat("meta", trace.meta):
                setattr(f, name, value)
            f.meta = json.dumps(trace.meta, default=repr)
            f.constants = json.dumps(trace.constants, default=repr)
            f.key = key
            f.code = json.dumps(code_identity())
            f.checksum = checksum(trace)
            f.createDimension("replica", trace.replicas)
            f.createDimension("step", trace.steps.size)
            if trace.steps.size and int(np.max(trace.steps)) >= 2**31:
                raise ConvsimError("runs of 2^31 steps or more cannot be stored (netCDF-3 integers are 32-bit)")
            steps = f.createVariable("step", "i4", ("step",))
            steps[:] = trace.steps.astype(np.int32)
            div = f.createVariable("diverged_at", "i4", ("replica",))
            div[:] = trace.diverged_at.astype(np.int32)
            for name, values in trace.metrics.items():
                var = f.createVariable(name, "f8", ("replica", "step"))
                var[:] = values
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are shared like any other file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _flat(prefix: str, value):
    """(attribute name, number or string) pairs of nested metadata: ``meta_problem_name`` = "quadratic"."""
    if isinstance(value, dict):
        for k, v in value.items():
            name = re.sub(r"[^A-Za-z0-9_]", "_", f"{prefix}_{k}")
            yield from _flat(name, v)
    elif isinstance(value, bool):
        yield prefix, int(value)
    elif isinstance(value, (int, float, np.integer, np.floating)) and abs(float(value)) < 2**31:
        yield prefix, value
    elif isinstance(value, (list, tuple)) and len(value) > 64:
        yield prefix, f"{len(value)} values (see meta)"
    else:
        yield prefix, value if isinstance(value, str) else json.dumps(value, default=repr)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_trace(path: str | os.PathLike, *, verify: bool = True) -> Trace:
    """Read a trace written by :func:`save_trace`; with ``verify``, a damaged file is a ConvsimError."""
    with netcdf_file(path, "r", mmap=False) as f:
        fmt = f.format.decode() if isinstance(f.format, bytes) else f.format
        if fmt != FORMAT:
            raise ConvsimError(f"{path} is not a {FORMAT} file")
        meta = json.loads(_text(f.meta))
        constants = json.loads(_text(f.constants))
        steps = np.asarray(f.variables["step"][:], dtype=np.int64)
        diverged = np.asarray(f.variables["diverged_at"][:], dtype=np.int64)
        metrics = {k: np.array(v[:], dtype=np.float64) for k, v in f.variables.items() if k not in ("step", "diverged_at")}
        stored_sum = _text(getattr(f, "checksum", b""))
    metrics = {k: metrics[k] for k in meta.get("metrics", metrics)}
    trace = Trace(steps, metrics, diverged, constants, meta)
    if verify and stored_sum != checksum(trace):
        raise ConvsimError(f"{path} is damaged: its arrays do not match the stored checksum")
    return trace


def _attributes(path) -> dict:
    with netcdf_file(path, "r", mmap=False) as f:
        return {k: _text(getattr(f, k, b"")) for k in ("format", "key", "code")}


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


class ResultStore:
    """A folder of runs keyed by the fingerprint of their full configuration.

    A stored run is served only when its file is whole (checksum), was stored under the
    same key and by the same code; anything else is removed and recomputed.  Temporary
    files left by a killed writer are removed once they are older than ten minutes (a
    younger one may belong to a run still writing)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ConvsimError(f"results folder {self.root} exists and is not a folder")
        self.clean_stale()

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def path(self, key: str) -> Path:
        return self.runs / f"{key}.nc"

    def load(self, key: str) -> Trace | None:
        p = self.path(key)
        if not p.exists():
            return None
        try:
            attrs = _attributes(p)
            if attrs["key"] != key or attrs["code"] != json.dumps(code_identity()):
                raise ConvsimError("stored by other code or under another key")
            return load_trace(p)
        except Exception:  # damaged, stale or from an older format: never served
            p.unlink(missing_ok=True)
            return None

    def save(self, key: str, trace: Trace) -> Path:
        return save_trace(trace, self.path(key), key)

    def clean_stale(self, older_than: float = _STALE_TMP_SECONDS) -> int:
        """Remove temporary files of interrupted writes; returns how many."""
        if not self.runs.is_dir():
            return 0
        now, removed = time.time(), 0
        for tmp in self.runs.glob(".*.tmp"):
            try:
                if now - tmp.stat().st_mtime >= older_than:
                    tmp.unlink()
                    removed += 1
            except OSError:
                pass
        return removed

    def info(self) -> dict:
        """Counts and sizes: runs served as they are, runs that would be recomputed, temporary files."""
        ok = stale = 0
        size = 0
        current = json.dumps(code_identity())
        files = sorted(self.runs.glob("*.nc")) if self.runs.is_dir() else []
        for p in files:
            size += p.stat().st_size
            try:
                attrs = _attributes(p)
                load_trace(p)
                good = attrs["key"] == p.stem and attrs["code"] == current
            except Exception:
                good = False
            ok, stale = ok + good, stale + (not good)
        tmp = len(list(self.runs.glob(".*.tmp"))) if self.runs.is_dir() else 0
        return {"folder": str(self.root), "runs": len(files), "current": ok, "stale_or_damaged": stale,
                "temporary": tmp, "bytes": size}

    def clear(self) -> int:
        """Remove every stored run and temporary file; returns how many files."""
        if not self.runs.is_dir():
            return 0
        removed = 0
        for p in list(self.runs.glob("*.nc")) + list(self.runs.glob(".*.tmp")):
            p.unlink(missing_ok=True)
            removed += 1
        return removed
