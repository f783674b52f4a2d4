"""Recorded runs: per-replica metrics at checkpoints, divergence, constants, metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConvsimError


@dataclass
class Series:
    """What a checker consumes: a metric of R replicas at P abscissae.

    ``values[r, p]`` is the metric of replica r at ``x[p]`` (a step count, or a swept
    parameter); ``diverged`` marks replicas excluded from fits, ``diverged_at`` the
    step at which each diverged (-1: never).
    """

    x: np.ndarray
    values: np.ndarray
    x_name: str
    metric: str
    diverged_at: np.ndarray
    constants: dict = field(default_factory=dict)

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    def __repr__(self):
        return (f"Series({self.metric} against {self.x_name}: {self.values.shape[0]} replicas x {self.x.size} points, "
                f"{int(self.diverged.sum())} diverged)")

    @property
    def healthy(self) -> np.ndarray:
        """Values of the replicas that never diverged: shape (R_ok, P)."""
        return self.values[~self.diverged]


@dataclass
class Trace:
    """The result of :func:`convsim.simulate`.

    ``metrics[name]`` has shape ``(replicas, len(steps))``; ``diverged_at[r]`` is the
    first checkpoint step at which replica r had a non-finite metric (-1: never),
    and its metrics are NaN from there on.
    """

    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    diverged_at: np.ndarray
    constants: dict
    meta: dict

    @property
    def replicas(self) -> int:
        return int(self.diverged_at.size)

    def __repr__(self):
        last = int(self.steps[-1]) if self.steps.size else 0
        where = f"claim={self.meta['claim']!r}, " if self.meta.get("claim") else ""
        return (f"Trace({where}replicas={self.replicas}, checkpoints={self.steps.size} up to t={last}, "
                f"metrics={list(self.metrics)}, diverged={self.n_diverged})")

    def _repr_html_(self):
        rows = "".join(f"<tr><td>{m}</td><td>{np.nanmean(v[:, 0]):.4g}</td><td>{np.nanmean(v[:, -1]):.4g}</td></tr>"
                       for m, v in self.metrics.items())
        return (f"<p>{self!r}</p><table><tr><th>metric</th><th>mean at first checkpoint</th>"
                f"<th>mean at last checkpoint</th></tr>{rows}</table>")

    @property
    def n_diverged(self) -> int:
        return int(np.sum(self.diverged_at >= 0))

    def values(self, metric: str) -> np.ndarray:
        if metric not in self.metrics:
            raise ConvsimError(f"metric {metric!r} was not recorded; recorded: {', '.join(self.metrics)}")
        return self.metrics[metric]

    def series(self, metric: str) -> Series:
        return Series(self.steps.astype(np.float64), self.values(metric), "t", metric, self.diverged_at, self.constants)

    def mean(self, metric: str) -> np.ndarray:
        """Mean over the replicas that did not diverge."""
        ok = self.diverged_at < 0
        if not np.any(ok):
            return np.full(self.steps.shape, np.nan)
        return self.values(metric)[ok].mean(axis=0)

    def divergence_summary(self) -> str:
        n = self.n_diverged
        if not n:
            return "no replica diverged"
        first = int(np.min(self.diverged_at[self.diverged_at >= 0]))
        return f"{n} of {self.replicas} replicas diverged (first detected by step {first})"

    def to_xarray(self):
        """An ``xarray.Dataset`` with dimensions (replica, step)."""
        import xarray as xr

        data = {k: (("replica", "step"), v) for k, v in self.metrics.items()}
        data["diverged_at"] = (("replica",), self.diverged_at)
        return xr.Dataset(data, coords={"step": self.steps, "replica": np.arange(self.replicas)})
