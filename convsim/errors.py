"""The one exception type users see.

Every user-facing failure (bad hyperparameters, unknown names, a missing GPU,
mismatched shapes) raises :class:`ConvsimError` with a one-line message; the CLI
prints that line and exits non-zero instead of showing a traceback.
"""


class ConvsimError(ValueError):
    """A user-facing error whose message is one line."""


def require(condition: bool, message: str) -> None:
    """Raise :class:`ConvsimError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ConvsimError(message)


def positive(name: str, value, *, integer: bool = False):
    """Validate that ``value`` is a (finite) positive number and return it."""
    kind = "a positive integer" if integer else "a positive number"
    if isinstance(value, bool):  # True is an int to Python, never a count or a size to a user
        raise ConvsimError(f"{name} must be {kind}, got {value!r}")
    try:
        ok = value > 0 and value == value and value != float("inf")
    except TypeError:
        ok = False
    if integer:
        ok = ok and int(value) == value
    require(ok, f"{name} must be {kind}, got {value!r}")
    return int(value) if integer else float(value)


def in_range(name: str, value, low: float, high: float, *, closed_low=True, closed_high=False):
    """Validate ``low <= value < high`` (closedness configurable) and return it."""
    try:
        above = value >= low if closed_low else value > low
        below = value <= high if closed_high else value < high
        ok = bool(above and below)
    except TypeError:
        ok = False
    lb = "[" if closed_low else "("
    rb = "]" if closed_high else ")"
    require(ok, f"{name} must lie in {lb}{low}, {high}{rb}, got {value!r}")
    return float(value)


def finite_array(name: str, value, shape: tuple | None = None):
    """``value`` as a float64 NumPy array whose entries are all finite (a one-line error otherwise)."""
    import numpy as np

    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConvsimError(f"{name} must be an array of numbers, got {type(value).__name__} {value!r:.60}") from None
    if shape is not None and a.shape != tuple(shape):
        raise ConvsimError(f"{name} must have shape {tuple(shape)}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ConvsimError(f"{name} has {int(np.sum(~np.isfinite(a)))} non-finite entries (NaN or inf)")
    return a


def finite(name: str, value) -> float:
    """``value`` as a finite float (a one-line error for NaN, inf, strings, None)."""
    import math

    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConvsimError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v):
        raise ConvsimError(f"{name} must be a finite number, got {value!r}")
    return v
