"""Differential privacy: DP-SGD with per-sample clipping, DiceSGD (clipping error feedback), the
clipping bias as an exact fixed point, and accounting through Google's ``dp-accounting`` (lazy)."""

from .bias import clipped_fixed_point, clipping_bias_sq
from .methods import DPSGD, DiceSGD, clip_rows, per_sample_grads

REGISTRY = {cls.name: cls for cls in (DPSGD, DiceSGD)}
"""Privacy methods by name (for ``convsim methods``)."""

__all__ = ["DPSGD", "DiceSGD", "clip_rows", "per_sample_grads", "clipped_fixed_point", "clipping_bias_sq", "REGISTRY"]
