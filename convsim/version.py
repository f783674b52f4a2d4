"""The version of convsim (one place: the package, the CLI, run metadata and cache keys read it)."""

__version__ = "0.1.0"
