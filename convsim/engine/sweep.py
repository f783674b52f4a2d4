"""Parameter sweeps: the same experiment over a grid, with common random numbers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..errors import ConvsimError, require
from .batched import NotBatchable
from .simulate import simulate, simulate_points, submitter
from .trace import Series, Trace


@dataclass
class Sweep:
    """Traces of one experiment at every point of a parameter grid.

    All points use the same seed, so replica r sees the same random streams at
    every grid point (common random numbers) and differences between points are
    paired.
    """

    points: list[dict]
    traces: list[Trace]
    batched: bool = False  # the grid ran as one batched simulation

    @property
    def parameters(self) -> list[str]:
        return list(self.points[0])

    def series(self, metric: str, over: str | None = None, at: int | str = "final") -> Series:
        """The metric at one checkpoint of every run, against the swept parameter ``over``.

        ``at`` is ``"final"`` or a step count present in every trace.
        """
        over = over or (self.parameters[0] if len(self.parameters) == 1 else None)
        require(over is not None, f"say which parameter to plot against: one of {', '.join(self.parameters)}")
        require(over in self.parameters, f"unknown swept parameter {over!r}; swept: {', '.join(self.parameters)}")
        x = np.array([float(p[over]) for p in self.points])
        cols, diverged = [], np.full(self.traces[0].replicas, -1, dtype=np.int64)
        for tr in self.traces:
            require(tr.replicas == diverged.size, "every run of a sweep needs the same number of replicas")
            if at == "final":
                j = -1
            else:
                hits = np.flatnonzero(tr.steps == int(at))
                if not hits.size:
                    raise ConvsimError(f"step {at} is not a checkpoint of every run")
                j = int(hits[0])
            cols.append(tr.values(metric)[:, j])
            diverged = np.where((diverged < 0) & (tr.diverged_at >= 0), tr.diverged_at, diverged)
        constants = dict(self.traces[0].constants)
        return Series(x, np.stack(cols, axis=1), over, metric, diverged, constants)


@dataclass(frozen=True)
class Experiment:
    """One experiment whose method is built from each grid point: the form of ``run`` that
    :func:`sweep` can batch.  ``Experiment(problem, lambda eta: SGD(eta), steps, replicas, seed=0)``
    called with a point runs ``simulate(problem, method(**point), steps, replicas, **options)``."""

    problem: object
    method: Callable
    steps: int
    replicas: int = 1
    options: dict = field(default_factory=dict)

    def __init__(self, problem, method: Callable, steps: int, replicas: int = 1, **options):
        require(callable(method), "Experiment(problem, method, ...) needs a function building the method from a point")
        for name, value in (("problem", problem), ("method", method), ("steps", steps), ("replicas", replicas),
                            ("options", options)):
            object.__setattr__(self, name, value)

    def __call__(self, **point) -> Trace:
        return simulate(self.problem, self.method(**point), self.steps, self.replicas, **self.options)


def _run_point(run, point):  # module level, so process pools can pickle it
    return run(**point)


def sweep(run: Callable[..., Trace], grid: dict[str, Sequence], *, executor=None, batch: bool = True) -> Sweep:
    """Call ``run(**point)`` for every point of the Cartesian product ``grid``.

    ``run`` builds the problem and method from the point and returns a
    :class:`Trace` (usually by calling :func:`convsim.simulate` with a fixed seed).
    When ``run`` is an :class:`Experiment` (a fixed problem, a method per point) and ``batch``
    is true, the whole grid runs as ONE batched simulation (:func:`~convsim.engine.simulate.simulate_points`)
    with the numbers of the point-by-point runs, bit for bit; grids it cannot batch exactly
    (a non-numeric or structural change, see :mod:`convsim.engine.batched`) run point by point.

    ``executor`` (a ``concurrent.futures`` executor or a ``dask.distributed.Client``) spreads
    the work: a batched grid by chunks of whole random-stream blocks, other grids point by point.
    The Traces are those of a local run (a process pool needs a picklable ``run``).
    """
    require(bool(grid), "a sweep needs at least one parameter")
    names = list(grid)
    for name, values in grid.items():
        require(len(values) > 0, f"swept parameter {name!r} has no values")
    points = [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]
    if batch and isinstance(run, Experiment) and len(points) > 1:
        methods = [run.method(**p) for p in points]  # each point validated by its own constructor
        try:
            options = dict(run.options, executor=executor) if executor is not None else run.options
            traces = simulate_points(run.problem, methods, run.steps, run.replicas, **options)
            return Sweep(points, traces, batched=True)
        except (NotBatchable, TypeError, ValueError):
            pass  # not exactly batchable: the point-by-point runs below (which raise any genuine error)
    if executor is None:
        return Sweep(points, [run(**p) for p in points])
    submit = submitter(executor)
    futures = [submit(_run_point, run, p) for p in points]
    return Sweep(points, [f.result() for f in futures])
