"""Figures: the metric's mean with a 95% band, the fit, the claim, the verdict.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``), which needs no
GUI backend and leaves the user's backend choice alone; ``fig.savefig`` renders them headless.
"""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.figure import Figure

from .checks.verdict import Verdict
from .engine.sweep import Sweep
from .engine.trace import Series, Trace

COLORS = {"consistent": "tab:green", "violated": "tab:red", "inconclusive": "tab:orange"}


def _series_list(data, verdict: Verdict) -> list[tuple[str, Series]]:
    metric, x_name = verdict.metric, verdict.details.get("x_name", "t")
    if isinstance(data, Series):
        return [("", data)]
    if isinstance(data, Trace):
        return [("", data.series(metric))]
    if isinstance(data, Sweep):
        return [("", data.series(metric, over=x_name))]
    if isinstance(data, dict):  # several runs side by side: Traces recording the metric, or Series of it
        return [(name, d if isinstance(d, Series) else d.series(metric)) for name, d in data.items()
                if (isinstance(d, Series) and d.metric == metric) or (isinstance(d, Trace) and metric in d.metrics)]
    raise TypeError(f"cannot plot {type(data).__name__}")


def rate(data, verdict: Verdict, *, title: str | None = None):
    """A figure of ``verdict.metric`` against its abscissa, with the fitted law and the claimed bound."""
    if verdict.details.get("law") == "event" and "proportions" in verdict.details:
        return _event(verdict, title)
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    log_x = verdict.details.get("law") != "geometric"
    series = _series_list(data, verdict)
    for label, s in series:
        y = s.healthy
        if y.shape[0] == 0:
            continue
        keep = (s.x > 0 if log_x else np.ones_like(s.x, dtype=bool)) & np.all(np.isfinite(y), axis=0)
        if not keep.any():  # e.g. every replica escaped to inf: nothing to draw on a log scale
            continue
        x, y = s.x[keep], y[:, keep]
        mean = y.mean(axis=0)
        lo, hi = np.percentile(y, [2.5, 97.5], axis=0)
        line, = ax.plot(x, mean, lw=2, label=f"{label + ': ' if label else ''}mean of {y.shape[0]} replicas")
        if y.shape[0] > 1:
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0, label="95% band across replicas")
    _draw_claim(ax, verdict)
    ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log")
    # label what is drawn: runs over steps checked against a parameter, or costs to reach ε, say so
    xs, ys = {s.x_name for _, s in series}, {s.metric for _, s in series}
    ax.set_xlabel(xs.pop() if len(xs) == 1 else verdict.details.get("x_name", "t"))
    ax.set_ylabel(ys.pop() if len(ys) == 1 else verdict.metric)
    return _finish(fig, ax, verdict, title)


def _finish(fig, ax, verdict: Verdict, title: str | None):
    head = textwrap.fill(title, 78) + "\n" if title else ""
    est = "" if verdict.estimate is None else f": estimate {verdict.estimate:.4g}"
    ci = "" if not verdict.ci else f" [{verdict.ci[0]:.4g}, {verdict.ci[1]:.4g}]"
    ax.set_title(f"{head}{verdict.verdict.upper()}{est}{ci}", color=COLORS.get(verdict.verdict, "black"), fontsize=9)
    ax.legend(fontsize=7, loc="best")
    ax.grid(True, which="both", alpha=0.25)
    return fig


def _event(verdict: Verdict, title: str | None):
    """P(event) against the swept parameter with its (Bonferroni) intervals and the claimed band."""
    d = verdict.details
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    x, p = np.asarray(d["points"], float), np.asarray(d["proportions"], float)
    lo, hi = np.asarray(d["intervals"], float).T
    ax.errorbar(x, p, yerr=[p - lo, hi - p], fmt="o-", capsize=3, lw=1.5,
                label=f"event frequency over {verdict.replicas} replicas")
    claimed, tol = float(d["probability"]), float(d.get("tolerance", 0.0))
    band = {"upper": (0.0, claimed + tol), "lower": (claimed - tol, 1.0)}.get(d.get("bound"), (claimed - tol, claimed + tol))
    ax.axhspan(max(band[0], 0.0), min(band[1], 1.0), color=COLORS.get(verdict.verdict), alpha=0.12,
               label=f"claimed {d.get('claim', claimed)}")
    if x.size > 1 and x.min() > 0 and x.max() / x.min() > 10:
        ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(d.get("x_name", "parameter"))
    ax.set_ylabel(f"P({d.get('event', 'event')})")
    return _finish(fig, ax, verdict, title)


def _draw_claim(ax, v: Verdict):
    d, law = v.details, v.details.get("law")
    if v.window and law in ("power", "geometric") and v.estimate is not None:
        x = np.geomspace(*v.window, 50) if law == "power" else np.linspace(*v.window, 50)
        if law == "power":
            corr = d.get("log_power", 0.0) * np.log(np.log(x)) if d.get("log_power") else 0.0
            u, slope = np.log(x), d["slope"]
            fit = np.exp(d["intercept"] + slope * u + corr)
            mid = np.log(np.sqrt(v.window[0] * v.window[1]))
            claim = np.exp(d["intercept"] + slope * mid + v.claimed * (u - mid) + corr)
            ax.plot(x, fit, "k--", lw=1.2, label=f"fit: slope {slope:.3f}")
            ax.plot(x, claim, ":", color=COLORS.get(v.verdict), lw=2, label=f"claimed {d.get('claim', v.claimed)}")
        else:
            mid = 0.5 * (v.window[0] + v.window[1])
            fit = np.exp(d["intercept"] + d["slope"] * x)
            claim = np.exp(d["intercept"] + d["slope"] * mid + np.log(v.claimed) * (x - mid))
            ax.plot(x, fit, "k--", lw=1.2, label=f"fit: rate {v.estimate:.5g}")
            ax.plot(x, claim, ":", color=COLORS.get(v.verdict), lw=2, label=f"claimed rate {v.claimed:.5g}")
    elif law == "bound" and "bound_x" in d:
        ax.plot(d["bound_x"], d["bound_y"], ":", color=COLORS.get(v.verdict), lw=2, label=f"bound {d.get('claim')}")
    elif law == "reference" and "bound_x" in d:
        ax.plot(d["bound_x"], d["bound_y"], ":", color=COLORS.get(v.verdict), lw=2, label="exact reference")
    elif law == "level":
        ax.axhline(v.claimed, ls=":", color=COLORS.get(v.verdict), lw=2, label=f"claimed level {v.claimed:.4g}")
        if v.estimate is not None:
            ax.axhline(v.estimate, ls="--", color="k", lw=1.2, label=f"measured level {v.estimate:.4g}")
