"""Figures draw one mean curve per run they are given, with the verdict in the title."""

import numpy as np
import pytest

import convsim as cs


def _series(slope, metric="err", seed=0):
    x = np.geomspace(1, 1e3, 12)
    noise = np.random.default_rng(seed).lognormal(0, 0.1, (20, x.size))
    return cs.Series(x, x**slope * noise, "t", metric, np.full(20, -1))


def _mean_curves(fig):
    return [line for line in fig.axes[0].get_lines() if line.get_label().startswith(("mean", "a: mean", "b: mean"))]


def test_a_dict_of_series_gives_one_labelled_curve_each_and_the_verdict_in_the_title():
    runs = {"a": _series(-1.0), "b": _series(-0.5, seed=1), "other": _series(-1.0, metric="loss")}
    verdict = cs.checks.Exponent("err", -1.0, bound="upper").check(runs["a"])
    fig = cs.plot.rate(runs, verdict)
    labels = [line.get_label() for line in _mean_curves(fig)]
    assert labels == ["a: mean of 20 replicas", "b: mean of 20 replicas"]  # the other metric is left out
    assert fig.axes[0].get_title(loc="left").startswith(verdict.verdict.upper())
    np.testing.assert_allclose(_mean_curves(fig)[0].get_ydata(), runs["a"].values.mean(axis=0))


def test_diverged_replicas_are_left_out_of_the_mean():
    s = _series(-1.0)
    s.values[3] = np.nan
    s.diverged_at[3] = 5
    verdict = cs.checks.Exponent("err", -1.0, bound="upper").check(s)
    (curve,) = _mean_curves(cs.plot.rate(s, verdict))
    np.testing.assert_allclose(curve.get_ydata(), np.delete(s.values, 3, axis=0).mean(axis=0))
    assert curve.get_label() == "mean of 19 replicas"


def test_unplottable_data_is_a_clear_error():
    verdict = cs.checks.Exponent("err", -1.0, bound="upper").check(_series(-1.0))
    with pytest.raises(TypeError, match="cannot plot list"):
        cs.plot.rate([1, 2], verdict)


def test_the_x_axis_names_what_is_drawn_not_what_the_check_swept():
    runs = {"a": _series(-1.0)}
    verdict = cs.checks.Exponent("err", -1.0, bound="upper").check(runs["a"])
    verdict.details["x_name"] = "r"  # e.g. an event check over a swept distance r
    assert cs.plot.rate(runs, verdict).axes[0].get_xlabel() == cs.plot.label("t") == "step $t$"


def test_the_y_axis_names_the_drawn_series_metric():
    costs = cs.Series(np.geomspace(1e-3, 1e-1, 6), np.outer(np.ones(8), np.geomspace(1e4, 10, 6)), "eps",
                      "cost_to_err", np.full(8, -1))
    verdict = cs.checks.Exponent("err", -1.5, bound="upper").check(_series(-1.0))
    ax = cs.plot.rate(costs, verdict).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == (cs.plot.label("eps"), cs.plot.label("cost_to_err"))


def test_event_verdicts_plot_the_event_frequency_against_the_parameter():
    runs = {x: cs.Trace(np.array([0, 10]), {"dist_sq": np.ones((40, 2))}, np.where(np.arange(40) < k, 5, -1),
                        {}, {}) for x, k in ((1.0, 0), (2.0, 10), (4.0, 40))}
    verdict = cs.checks.Event(0.5, bound="upper").check(runs)
    ax = cs.plot.rate(runs, verdict).axes[0]
    (bars,) = [c for c in ax.containers if c.get_label().startswith("event frequency")]
    np.testing.assert_allclose(bars.lines[0].get_ydata(), [0.0, 0.25, 1.0])
    assert ax.get_ylabel() == "P(diverges)" and verdict.verdict == "violated"


def test_a_series_with_no_finite_value_is_skipped_not_a_crash():
    s = _series(-1.0)
    verdict = cs.checks.Exponent("err", -1.0, bound="upper").check(s)
    s.values[:] = np.inf
    assert not _mean_curves(cs.plot.rate(s, verdict))
