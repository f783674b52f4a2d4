"""Figures: the metric's mean with a 95% band, the fit, the claim, the verdict.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``), which needs no
GUI backend and leaves the user's backend choice alone; ``fig.savefig`` renders them headless.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatterSciNotation

from .checks.verdict import Verdict
from .engine.sweep import Sweep
from .engine.trace import Series, Trace

_SUPERSCRIPT = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")


class PlainLogFormatter(LogFormatterSciNotation):
    """Log-axis tick labels as plain Unicode (10⁻³, 2×10⁻³) instead of mathtext: the labels and tick
    choices are matplotlib's, but no TeX parser runs for them (parsing them was most of a figure's
    rendering time in the catalogue)."""

    def __call__(self, x, pos=None):
        text = super().__call__(x, pos)
        if not text.startswith("$"):
            return text
        body = text.strip("$").removeprefix(r"\mathdefault{").removesuffix("}")
        body = body.replace(r"\times", "×").replace(r"\cdot", "·")
        return re.sub(r"\^\{([^{}]*)\}", lambda m: m.group(1).translate(_SUPERSCRIPT), body)


def _log_scale(ax, which: str):
    """Put ``ax``'s ``which`` axis ("x" or "y") on a log scale with plain-text tick labels."""
    getattr(ax, f"set_{which}scale")("log")
    axis = getattr(ax, f"{which}axis")
    axis.set_major_formatter(PlainLogFormatter())
    axis.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False))


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


LABELS = {
    "t": r"step $t$", "eps": r"target accuracy $\varepsilon$", "T": r"horizon $T$", "B": r"batch size $B$",
    "kappa": r"condition number $\kappa$", "d": r"dimension $d$", "n": r"rounds $n$", "eta": r"step size $\eta$",
    "dist_sq": r"$\|x_t - x^\star\|^2$", "suboptimality": r"$f(x_t) - f^\star$", "value": r"$f(x_t)$",
    "grad_norm_sq": r"$\|\nabla f(x_t)\|^2$", "regret": r"regret $R_t$", "dynamic_regret": r"dynamic regret",
    "grad_h_sq": r"$\|\nabla h(x_k)\|^2$", "y_err_sq": r"$\|y_k - y^\star(x_k)\|^2$", "h_gap": r"$h(x_k) - h^\star$",
    "hg_err_sq": r"hypergradient error $\|\hat g_k - \nabla h(x_k)\|^2$", "sigma2": r"$\sigma^2_{1:T}$",
    "Sigma2": r"$\Sigma^2_{1:T}$", "calls_total": "oracle calls",
}
"""Axis labels of the metrics and abscissae convsim records; other names are shown as they are."""


def label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    if name.startswith("cost_to_"):
        return f"cost to reach $\\varepsilon$ ({label(name[8:])})"
    return name.replace("_", " ").replace("$", r"\$")


def _short(text, width: int = 48) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def rate(data, verdict: Verdict, *, title: str | None = None):
    """A figure of what ``verdict`` tested: the metric (or the cost to reach ε) against its abscissa,
    the band across replicas, the fitted law, the claim, the shaded fit window, and a caption with the
    verdict and its evidence.  Geometric laws are drawn on a linear abscissa; 0/1 metrics on a linear
    ordinate; the ordinate is limited to the data, so a bound far below it cannot flatten the figure."""
    if verdict.details.get("law") == "event" and "proportions" in verdict.details:
        return _event(verdict, title)
    fig = Figure(figsize=(6.4, 4.6))
    ax = fig.subplots()
    law = verdict.details.get("law")
    log_x = law != "geometric" and not _geometric_in_t(verdict.details.get("claim"))
    median = verdict.details.get("statistic") == "median"
    series = _series_list(data, verdict)
    drawn = []
    for name, s in series:
        y = s.healthy
        if y.shape[0] == 0:
            continue
        keep = (s.x > 0 if log_x else np.ones_like(s.x, dtype=bool)) & np.all(np.isfinite(y), axis=0)
        if not keep.any():  # e.g. every replica escaped to inf: nothing to draw on a log scale
            continue
        x, y = s.x[keep], y[:, keep]
        center = np.median(y, axis=0) if median else y.mean(axis=0)
        n = y.shape[0]
        what = "median" if median else "mean"
        text = f"{what} of {n} replicas" if n > 1 else "1 run (deterministic)"
        line, = ax.plot(x, center, lw=2, label=f"{name}: {text}" if name else text)
        if n > 1 and not np.all((y == 0) | (y == 1)):  # a 0/1 metric's band says nothing: its mean is P(event)
            lo, hi = np.percentile(y, [2.5, 97.5], axis=0)
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.18, lw=0)
        drawn.append(y)
    binary = bool(drawn) and all(np.all((y == 0) | (y == 1)) for y in drawn)
    _draw_claim(ax, verdict)
    if verdict.window and law in ("power", "geometric", "complexity-mean", "reference", "ratio", "level"):
        ax.axvspan(*verdict.window, color="0.5", alpha=0.08, lw=0, label="fit window")
    elif verdict.tightness and verdict.tightness.get("window"):
        ax.axvspan(*verdict.tightness["window"], color="0.5", alpha=0.08, lw=0, label="decisive window")
    if not binary:
        _log_scale(ax, "y")
        _limit_to_data(ax, drawn)
    if log_x:
        _log_scale(ax, "x")
    xs, ys = {s.x_name for _, s in series}, {s.metric for _, s in series}
    ax.set_xlabel(label(xs.pop() if len(xs) == 1 else verdict.details.get("x_name", "t")))
    ax.set_ylabel(label(ys.pop() if len(ys) == 1 else verdict.metric))
    return _finish(fig, ax, verdict, title)


def _geometric_in_t(claim) -> bool:
    """A bound such as (1 - mu/L)**t or rho**(2*t): a geometric law, drawn against a linear t."""

    return bool(claim) and re.search(r"\*\*\s*\(?[^()]*\bt\b", str(claim)) is not None


def _limit_to_data(ax, drawn):
    values = np.concatenate([y[np.isfinite(y) & (y > 0)] for y in drawn]) if drawn else np.array([])
    if values.size:
        lo, hi = np.percentile(values, [0.5, 99.5])
        ax.set_ylim(lo / 10, hi * 10)


def _finish(fig, ax, verdict: Verdict, title: str | None):
    """Title: the claim and its verdict; caption: the evidence, short enough for a paper's column."""
    claim, _, statement = (title or "").partition(": ")
    ax.set_title(f"{claim}: {verdict.verdict.upper()}" if claim else verdict.verdict.upper(),
                 color=COLORS.get(verdict.verdict, "black"), fontsize=10, loc="left")
    est = "n/a" if verdict.estimate is None else f"{verdict.estimate:.4g}"
    ci = "" if not verdict.ci else f" [{verdict.ci[0]:.3g}, {verdict.ci[1]:.3g}]"
    claimed = verdict.claimed if not isinstance(verdict.claimed, float) else f"{verdict.claimed:.4g}"
    lines = [_short(statement, 110)] if statement else []
    lines.append(_short(f"{verdict.check}: estimate {est}{ci} vs claimed {claimed}; {verdict.replicas} replicas, "
                        f"{verdict.diverged} diverged", 110))
    if verdict.tightness:
        from .checks.verdict import describe_tightness

        lines.append(_short(describe_tightness(verdict.tightness), 110))
    # Fixed margins, not a layout engine: constrained layout drew every figure three times (most of the
    # catalogue's figure time); the margins fit the widest tick labels the figures use (e.g. 2×10⁻¹²).
    inch = fig.get_figheight()
    room = (0.13 * len(lines) + 0.05) / inch  # the caption sits below the axes, inside the saved figure
    fig.subplots_adjust(left=0.8 / fig.get_figwidth(), right=0.97, top=1 - 0.32 / inch, bottom=room + 0.5 / inch)
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=7, va="bottom", ha="left")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=7, loc="best")
    ax.grid(True, which="both", alpha=0.25)
    return fig


def _event(verdict: Verdict, title: str | None):
    """P(event) against the swept parameter with its (Bonferroni) intervals and the claimed band."""
    d = verdict.details
    fig = Figure(figsize=(6.4, 4.4))
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
        _log_scale(ax, "x")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(label(d.get("x_name", "parameter")))
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
            ax.plot(x, claim, ":", color=COLORS.get(v.verdict), lw=2, label=_short(f"claimed {d.get('claim', v.claimed)}"))
        else:
            mid = 0.5 * (v.window[0] + v.window[1])
            fit = np.exp(d["intercept"] + d["slope"] * x)
            claim = np.exp(d["intercept"] + d["slope"] * mid + np.log(v.claimed) * (x - mid))
            ax.plot(x, fit, "k--", lw=1.2, label=f"fit: rate {v.estimate:.5g}")
            ax.plot(x, claim, ":", color=COLORS.get(v.verdict), lw=2, label=f"claimed rate {v.claimed:.5g}")
    elif law == "bound" and "bound_x" in d:
        ax.plot(d["bound_x"], d["bound_y"], ":", color=COLORS.get(v.verdict), lw=2,
                label=_short(f"bound {d.get('claim')}"))
    elif law == "reference" and "bound_x" in d:
        ax.plot(d["bound_x"], d["bound_y"], ":", color=COLORS.get(v.verdict), lw=2, label="exact reference")
    elif law == "level":
        ax.axhline(v.claimed, ls=":", color=COLORS.get(v.verdict), lw=2, label=f"claimed level {v.claimed:.4g}")
        if v.estimate is not None:
            ax.axhline(v.estimate, ls="--", color="k", lw=1.2, label=f"measured level {v.estimate:.4g}")
