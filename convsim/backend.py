"""Array backends: NumPy (default), PyTorch (CPU or CUDA), CuPy (GPU) and array_api_strict (tests).

The simulation core only ever talks to an array-API namespace ``xp``; this module
maps backend names to namespaces, dtypes, devices and host transfers.  Optional
libraries (torch, cupy, array_api_strict) are imported only when their backend is asked for.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np

from .errors import ConvsimError

BACKENDS = ("numpy", "torch", "torch-cuda", "cupy", "array_api_strict")
DTYPES = ("float64", "float32")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class _TorchOnCuda:
    """array_api_compat.torch whose array-creating functions default to the CUDA device.

    Arrays created from one of its arrays' namespace (``array_namespace(x)``) are plain
    array_api_compat.torch calls; run code that creates arrays without ``device=`` inside
    :func:`default_device` so that they land on the GPU too."""

    __name__ = "convsim.backend.torch_cuda"
    _CREATORS = frozenset({"asarray", "zeros", "ones", "empty", "full", "arange", "eye", "linspace"})

    def __init__(self, compat, device):
        self._compat, self.device = compat, device

    def __getattr__(self, name):
        attr = getattr(self._compat, name)
        if name in self._CREATORS:
            device = self.device

            def create(*args, **kwargs):
                kwargs.setdefault("device", device)
                return attr(*args, **kwargs)

            return create
        return attr


@functools.lru_cache(maxsize=None)
def namespace(backend: str = "numpy"):
    """The array-API namespace for ``backend``; a one-line error if unavailable."""
    if backend == "numpy":
        import array_api_compat.numpy as xp

        return xp
    if backend in ("torch", "torch-cuda"):
        try:
            import torch
        except ImportError:
            raise ConvsimError(f"backend {backend!r} needs PyTorch (pip install torch)") from None
        import array_api_compat.torch as xp

        if backend == "torch":
            return xp
        if not torch.cuda.is_available():
            raise ConvsimError("backend 'torch-cuda' needs PyTorch with a CUDA GPU, which this machine lacks")
        return _TorchOnCuda(xp, torch.device("cuda"))
    if backend == "cupy":
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("no CUDA device")
        except Exception as exc:  # ImportError, CUDARuntimeError, ...
            raise ConvsimError(
                f"backend 'cupy' needs CuPy and a CUDA GPU, which this machine lacks ({_first_line(exc)})"
            ) from None
        import array_api_compat.cupy as xp

        return xp
    if backend == "array_api_strict":
        try:
            import array_api_strict as xp
        except ImportError:
            raise ConvsimError(
                "backend 'array_api_strict' needs the array-api-strict package (pip install convsim[test])"
            ) from None
        return xp
    raise ConvsimError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def backend_name(xp) -> str:
    """Inverse of :func:`namespace` (by module name)."""
    name = xp.__name__
    if name.endswith("torch_cuda"):
        return "torch-cuda"
    if "torch" in name:
        return "torch"
    if "cupy" in name:
        return "cupy"
    if "strict" in name:
        return "array_api_strict"
    return "numpy"


def is_torch(xp) -> bool:
    return backend_name(xp) in ("torch", "torch-cuda")


def device_of_namespace(xp):
    """The device arrays of ``xp`` are created on: a ``torch.device`` for PyTorch, None otherwise."""
    if isinstance(xp, _TorchOnCuda):
        return xp.device
    if is_torch(xp):
        import torch

        return torch.device("cpu")
    return None


def default_device(xp):
    """A context in which array creation without ``device=`` lands on the backend's device.

    A no-op except for ``torch-cuda``, where problems and methods that call ``xp.zeros(...)`` on
    ``array_namespace(x)`` would otherwise create CPU tensors."""
    device = device_of_namespace(xp)
    if device is None or device.type == "cpu":
        return contextlib.nullcontext()
    return device  # torch.device is a context manager setting the default device (thread-local mode)


def mutable_in_place(x) -> bool:
    """Whether in-place updates of ``x`` are allowed and cheap (NumPy, PyTorch, CuPy arrays).

    array_api_strict arrays take the functional path, so the methods run unchanged on the
    strict reference namespace."""
    module = type(x).__module__
    return isinstance(x, np.ndarray) or module.startswith(("torch", "cupy"))


def dtype_of(xp, dtype: str):
    """The namespace's dtype object for ``"float64"`` or ``"float32"``."""
    if dtype not in DTYPES:
        raise ConvsimError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    return getattr(xp, dtype)


def to_numpy(x) -> np.ndarray:
    """Copy an array of any supported backend to host memory as a NumPy array."""
    if isinstance(x, np.ndarray):
        return x
    module = type(x).__module__
    if hasattr(x, "get") and "cupy" in module:
        return x.get()
    if module.startswith("torch"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def asarray(xp, value, dtype, device=None):
    """Move a host (NumPy) value to the namespace's device with ``dtype``, C-ordered.

    A broadcast view (a start point shared by all replicas) becomes a C-ordered copy: a
    column-major or stride-0 iterate makes every elementwise pass against row-major noise
    slow.  PyTorch always copies, so a tensor never aliases host memory that the caller owns."""
    host = np.asarray(value)
    name = backend_name(xp)
    if name == "numpy":
        out = np.asarray(host, dtype=dtype, order="C")
        return out if out.flags.writeable else out.copy()
    if name in ("torch", "torch-cuda"):
        device = device if device is not None else device_of_namespace(xp)
        return xp.asarray(np.asarray(host, order="C"), dtype=dtype, device=device, copy=True)
    return xp.asarray(np.asarray(host, order="C"), dtype=dtype)


def device_cache(obj) -> dict:
    """The dict of device copies an object keeps (outside dataclass fields: not in equality or ``spec``)."""
    return obj.__dict__.setdefault("_device_cache", {})


def cached_in(cache: dict, xp, dtype, name: str, host_value):
    """:func:`cached_on` for callers that hold a namespace and dtype but no array (bandit and
    online-learning rounds), so that no throwaway array is allocated to key the cache."""
    key = (xp.__name__, dtype, name)
    value = cache.get(key)
    if value is None:
        host = host_value() if callable(host_value) else host_value
        value = cache[key] = asarray(xp, host, dtype)
    return value


def cached_on(cache: dict, like, name: str, host_value):
    """A device copy of a host value matching the namespace, dtype and device of the array ``like``.

    Copies live in ``cache`` per (array type, dtype, device, name), so a hot loop transfers each
    constant once.  ``host_value`` may be a callable, evaluated only on a cache miss.
    """
    device = getattr(like, "device", None) if type(like).__module__.startswith(("torch", "cupy")) else None
    key = (type(like), like.dtype, str(device), name)
    value = cache.get(key)
    if value is None:
        from array_api_compat import array_namespace

        host = host_value() if callable(host_value) else host_value
        value = cache[key] = asarray(array_namespace(like), host, like.dtype, device=device if "torch" in
                                     type(like).__module__ else None)
    return value


def array_library(x):
    """The array library of ``x`` (numpy, torch or cupy) for ufunc-style calls with ``out=``, which
    the in-place hot loops use; only for arrays where :func:`mutable_in_place` holds."""
    module = type(x).__module__
    if module.startswith("torch"):
        import torch

        return torch
    if module.startswith("cupy"):
        import cupy

        return cupy
    return np
