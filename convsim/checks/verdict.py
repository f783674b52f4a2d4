"""Verdicts and the statistics shared by the checkers."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from ..errors import ConvsimError, in_range, positive
from ..engine.sweep import Sweep
from ..engine.trace import Series, Trace

CONSISTENT, VIOLATED, INCONCLUSIVE = "consistent", "violated", "inconclusive"
VERDICTS = (CONSISTENT, VIOLATED, INCONCLUSIVE)
BOUNDS = ("upper", "lower", "tight")


@dataclass
class Verdict:
    """A checker's decision with the evidence it rests on.

    ``estimate`` and ``ci`` are in the units of ``claimed`` (an exponent, a rate,
    a ratio to the bound, a level, a factor); ``window`` is the range of the
    abscissa used; ``replicas`` counts all replicas and ``diverged`` those left out.
    """

    verdict: str
    check: str
    metric: str
    claimed: float | str
    estimate: float | None
    ci: tuple[float, float] | None
    confidence: float
    window: tuple[float, float] | None
    replicas: int
    diverged: int
    reason: str
    details: dict = field(default_factory=dict)
    tightness: dict | None = None

    @property
    def consistent(self) -> bool:
        return self.verdict == CONSISTENT

    @property
    def loose(self) -> bool:
        """The statement is far from what was measured (see :func:`is_loose`)."""
        return is_loose(self.tightness)

    def to_dict(self) -> dict:
        return _jsonable(asdict(self))

    def __repr__(self):
        ci = f" [{self.ci[0]:.4g}, {self.ci[1]:.4g}]" if self.ci else ""
        est = f"{self.estimate:.4g}" if self.estimate is not None else "n/a"
        tight = f", {describe_tightness(self.tightness)}" if self.tightness else ""
        return (f"Verdict({self.verdict}: {self.check} {self.metric} {est}{ci} vs {self.claimed}, "
                f"{self.replicas} replicas ({self.diverged} diverged){tight})")

    def _repr_html_(self):
        color = {"consistent": "green", "violated": "red"}.get(self.verdict, "darkorange")
        return (f"<p><b style='color:{color}'>{self.verdict}</b> — {self.check} of <code>{self.metric}</code>: "
                f"{self.reason}</p>")

    def summary(self) -> str:
        ci = f" [{self.ci[0]:.4g}, {self.ci[1]:.4g}]" if self.ci else ""
        est = f"{self.estimate:.4g}" if self.estimate is not None else "n/a"
        tight = f"; {describe_tightness(self.tightness)}" if self.tightness else ""
        return (f"{self.verdict}: {self.check} {self.metric} estimate {est}{ci} vs claimed {self.claimed} "
                f"({self.reason}{tight})")


LOOSE_RATIO, LOOSE_DIFFERENCE = 10.0, 0.5
"""A statement is *loose* when what was measured is more than 10× inside (or outside) it,
for ratio-type evidence, or more than 0.5 away, for exponents and probabilities."""


def tightness(kind: str, value: float, window=None, what: str = "") -> dict | None:
    """How close a statement is to what was measured, in the decisive window.

    ``kind="ratio"``: measured / stated (a mean over its bound, a level over its closed
    form, a rate's log over the claimed one); 1 is tight.  ``kind="difference"``:
    measured − stated (a fitted exponent minus the claimed one, a probability minus its
    threshold); 0 is tight.  For a negative control the same number is its *margin*.
    """
    if value is None or not math.isfinite(float(value)):
        return None
    return {"kind": kind, "value": float(value), "window": None if window is None else [float(window[0]), float(window[1])],
            "what": what}


def is_loose(t: dict | None) -> bool:
    if not t:
        return False
    v = t["value"]
    if t["kind"] == "ratio":
        return v <= 0 or v < 1 / LOOSE_RATIO or v > LOOSE_RATIO
    return abs(v) > LOOSE_DIFFERENCE


def describe_tightness(t: dict | None) -> str:
    if not t:
        return "tightness n/a"
    where = f" over {t['window'][0]:g}..{t['window'][1]:g}" if t.get("window") else ""
    sign = "" if t["kind"] == "ratio" else "+" if t["value"] >= 0 else ""
    return f"tightness {t['what'] or t['kind']} {sign}{t['value']:.3g}{where}"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else str(v)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


class Checker:
    """Base class: ``check(data)`` takes a Trace, a Sweep-derived Series or a Series."""

    kind = "check"

    def __init__(self, metric: str, *, vs: str | None = None, confidence: float = 0.95, max_diverged: float = 0.05,
                 seed: int = 0, n_resamples: int = 2000):
        self.metric = metric
        self.vs = vs
        self.n_resamples = positive("n_resamples", n_resamples, integer=True)
        self.confidence = in_range("confidence", confidence, 0.5, 1.0, closed_low=False)
        self.max_diverged = in_range("max_diverged", max_diverged, 0.0, 1.0, closed_high=True)
        self.seed = seed

    def series(self, data) -> Series:
        """The data as a Series of ``self.metric`` against ``self.vs``.

        A Trace gives the metric against the step count ``t``; a Sweep gives the
        metric at the last checkpoint of each run against the swept parameter ``vs``.
        """
        if isinstance(data, Trace):
            data = data.series(self.metric)
        elif isinstance(data, Sweep):
            data = data.series(self.metric, over=self.vs)
        if not isinstance(data, Series):
            raise ConvsimError(f"a check needs a Trace, a Sweep or a Series, got {type(data).__name__}")
        if data.metric != self.metric:
            raise ConvsimError(f"this check is about {self.metric!r}, the data holds {data.metric!r}")
        if self.vs is not None and data.x_name != self.vs:
            raise ConvsimError(f"this check is against {self.vs!r}, the data is against {data.x_name!r}")
        return data

    def healthy(self, s: Series) -> tuple[np.ndarray | None, Verdict | None]:
        """The replicas to fit, or an inconclusive verdict if too many diverged."""
        n, bad = s.values.shape[0], int(np.sum(s.diverged))
        if bad > self.max_diverged * n or n - bad < 1:
            first = int(np.min(s.diverged_at[s.diverged])) if bad else -1
            return None, self.verdict(
                INCONCLUSIVE, s, None, None, None,
                f"{bad} of {n} replicas diverged (first by step {first}), more than the allowed "
                f"{self.max_diverged:.0%}", claimed=self.claimed_repr())
        return s.healthy, None

    def claimed_repr(self):
        return getattr(self, "claimed", None)

    def verdict(self, decision, s: Series, estimate, ci, window, reason, claimed=None, tightness=None,
                **details) -> Verdict:
        first = s.diverged_at[s.diverged]
        details.setdefault("x_name", s.x_name)
        if first.size:
            details["first_divergence_step"] = int(first.min())
        return Verdict(decision, self.kind, self.metric, claimed if claimed is not None else self.claimed_repr(),
                       None if estimate is None else float(estimate),
                       None if ci is None else (float(ci[0]), float(ci[1])), self.confidence,
                       None if window is None else (float(window[0]), float(window[1])),
                       int(s.values.shape[0]), int(np.sum(s.diverged)), reason, details, tightness)


def decide(lo: float, hi: float, claimed: float, bound: str, margin_low: float, margin_high: float) -> str:
    """Interval decision rule shared by the slope-type checkers.

    The claim fixes an acceptance band: ``(-inf, claimed + margin_high]`` for an
    upper bound (O), ``[claimed - margin_low, inf)`` for a lower bound (Ω), and
    ``[claimed - margin_low, claimed + margin_high]`` for a tight rate (Θ).  The
    verdict is ``consistent`` when the confidence interval lies inside the band,
    ``violated`` when it lies entirely outside, and ``inconclusive`` otherwise.
    """
    low = -math.inf if bound == "upper" else claimed - margin_low
    high = math.inf if bound == "lower" else claimed + margin_high
    if low <= lo and hi <= high:
        return CONSISTENT
    if hi < low or lo > high:
        return VIOLATED
    return INCONCLUSIVE


def bootstrap(samples: tuple[np.ndarray, ...], statistic: Callable, confidence: float, seed: int,
              n_resamples: int = 2000, *, of_means: bool = False) -> tuple[float, float, float]:
    """Point estimate and percentile-bootstrap interval, resampling replicas (axis 0) jointly.

    ``statistic(*arrays)`` receives arrays of shape ``(B, R, ...)`` (B resamples of
    the R replicas, paired across ``samples``) and returns shape ``(B,)``; with ``of_means`` it
    receives each resample's replica means instead, shape ``(B, ...)``, computed as resample
    counts times the data (one matrix product instead of gathering B·R rows; the same resamples,
    equal up to the order of summation).
    Replicas that are all identical (a deterministic run) give a zero-width interval.
    """
    if of_means:
        estimate = float(statistic(*(a.mean(axis=0)[None] for a in samples))[0])
    else:
        estimate = float(statistic(*(a[None] for a in samples))[0])
    n = samples[0].shape[0]
    if n < 2 or all(np.all(a == a[:1]) for a in samples):
        return estimate, estimate, estimate
    rng = np.random.default_rng(seed)
    by_counts = of_means and all(np.all(np.isfinite(a)) for a in samples)  # 0 × inf would poison a mean
    per_replica = n if by_counts else sum(a[0].size for a in samples)
    batch = max(1, min(n_resamples, 4_000_000 // max(1, n * per_replica)))
    stats = []
    for done in range(0, n_resamples, batch):
        idx = rng.integers(0, n, size=(min(batch, n_resamples - done), n))
        if by_counts:
            rows = idx.shape[0]
            counts = np.bincount((idx + n * np.arange(rows)[:, None]).ravel(), minlength=rows * n).reshape(rows, n)
            means = [(counts @ a.reshape(n, -1)).reshape(rows, *a.shape[1:]) / n for a in samples]
            stats.append(statistic(*means))
        elif of_means:
            stats.append(statistic(*(a[idx].mean(axis=1) for a in samples)))
        else:
            stats.append(statistic(*(a[idx] for a in samples)))
    alpha = 1.0 - confidence
    lo, hi = np.quantile(np.concatenate(stats), [alpha / 2, 1 - alpha / 2])
    return estimate, float(lo), float(hi)


def check_bound(bound: str) -> str:
    if bound not in BOUNDS:
        raise ConvsimError(f"unknown bound kind {bound!r}; use 'upper' (O), 'lower' (Omega) or 'tight' (Theta)")
    return bound
