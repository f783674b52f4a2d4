"""Refuse a run that cannot fit in memory before allocating it, with a one-line error."""

from __future__ import annotations

import os

from ..errors import ConvsimError

GIB = 2**30


def available_bytes() -> int:
    """Physical memory this process could use (the machine's total where the available figure is unknown)."""
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES") if hasattr(os, "sysconf") else 0
        if pages <= 0:
            pages = os.sysconf("SC_PHYS_PAGES")
        return int(pages) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2**62  # unknown: let the allocator decide


def require_memory(nbytes: float, what: str, *, available: int | None = None) -> None:
    """A ConvsimError saying how much a run needs when ``nbytes`` exceeds the available memory."""
    available = available_bytes() if available is None else available
    if nbytes > available:
        raise ConvsimError(f"{what} needs about {nbytes / GIB:.3g} GiB of memory, more than the "
                           f"{available / GIB:.3g} GiB available; use fewer replicas, checkpoints or metrics")
