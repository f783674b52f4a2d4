import dataclasses

import numpy as np
import pytest

import convsim as cs
from convsim.engine import checkpoints


def test_checkpoints():
    c = checkpoints(1000)
    assert c[0] == 0 and c[-1] == 1000 and np.all(np.diff(c) > 0)
    assert list(checkpoints(10, [3, 5])) == [0, 3, 5, 10]
    assert checkpoints(100, "linear").size > 50
    for bad in (lambda: checkpoints(0), lambda: checkpoints(10, [11]), lambda: checkpoints(10, "sometimes"),
                lambda: checkpoints(-5)):
        with pytest.raises(cs.ConvsimError):
            bad()


def test_divergence_is_detected_counted_and_dated():
    p = cs.problems.Quadratic(cs.spectra.explicit([1.0]), x0=np.zeros(1))
    x0 = np.array([[1.0], [0.0], [1e-100], [0.0]])  # replicas 0 and 2 blow up, 1 and 3 sit at the optimum
    tr = cs.simulate(p, cs.methods.GD(2.5), 4000, 4, x0=x0, record="linear", metrics=["dist_sq"])
    assert tr.n_diverged == 2 and list(tr.diverged_at[[1, 3]]) == [-1, -1]
    # ||x_t||^2 = 2.25^t crosses the divergence threshold 1e20 x max(1, 1) once t > 56.8 (long before
    # it would overflow at t = 875): the first checkpoint past that
    first = tr.diverged_at[0]
    assert first == tr.steps[tr.steps > np.log(1e20) / np.log(2.25)][0]
    assert np.all(np.isnan(tr.metrics["dist_sq"][0, tr.steps >= first]))
    assert tr.diverged_at[2] > first
    assert "2 of 4 replicas diverged" in tr.divergence_summary()
    v = cs.checks.Exponent("dist_sq", -1.0).check(tr)
    assert v.verdict == "inconclusive" and "2 of 4 replicas diverged" in v.reason


def test_user_metrics_are_recorded():
    p = cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1))
    tr = cs.simulate(p, cs.methods.GD(1.0), 20, 2, metrics={"first": lambda prob, x: x[:, 0], "dist_sq": None})
    assert set(tr.metrics) == {"first", "dist_sq"}
    with pytest.raises(cs.ConvsimError, match="returned shape"):
        cs.simulate(p, cs.methods.GD(1.0), 20, 2, metrics={"bad": lambda prob, x: x})


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=0), "steps must be a positive integer"),
    (dict(replicas=-1), "replicas must be a positive integer"),
    (dict(replicas=2.5), "replicas must be a positive integer"),
    (dict(seed=-3), "seed must be a non-negative integer"),
    (dict(x0=np.zeros(7)), "x0 must have shape"),
    (dict(backend="tpu"), "unknown backend"),
])
def test_bad_engine_arguments_are_one_line_errors(kwargs, message):
    p = cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1))
    args = {"steps": 10, "replicas": 2, **kwargs}
    with pytest.raises(cs.ConvsimError, match=message):
        cs.simulate(p, cs.methods.GD(0.1), **args)


def test_sweeps_pair_replicas_and_feed_the_checkers():
    def run(eta):
        p = cs.problems.Quadratic(cs.spectra.explicit([1.0] * 4), noise=cs.noise.Gaussian(1.0))
        return cs.simulate(p, cs.methods.SGD(eta), 2000, 512, seed=0, metrics=["dist_sq"], record="linear")

    sw = cs.sweep(run, {"eta": [0.01, 0.02, 0.04, 0.08]})
    s = sw.series("dist_sq", at=2000)
    assert s.values.shape == (512, 4) and s.x_name == "eta"
    assert cs.checks.Exponent("dist_sq", 1.0, vs="eta", window=(0.01, 0.08)).check(sw).verdict == "consistent"
    with pytest.raises(cs.ConvsimError, match="against 'batch'"):
        cs.checks.Exponent("dist_sq", 1.0, vs="batch").check(s)
    # Stationary E||x||^2 of SGD on H = I with isotropic noise: d·eta·sigma^2/(2 - eta) ∝ eta for small eta.
    v = cs.checks.Exponent("dist_sq", 1.0, window=(0.01, 0.08)).check(s)  # true slope 1 + eta/(2-eta) ≈ 1.02
    assert v.verdict == "consistent", v.summary()
    lvl = cs.checks.Level("dist_sq", "4*0.02/(2-0.02)", rtol=0.05, window=(1000, 2000)).check(sw.traces[1])
    assert lvl.verdict == "consistent", lvl.summary()


def test_progress_bar_is_off_by_default_and_does_not_change_results(capsys):
    p = cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1), noise=cs.noise.Gaussian(0.1))
    a = cs.simulate(p, cs.methods.SGD(0.1), 50, 4)
    b = cs.simulate(p, cs.methods.SGD(0.1), 50, 4, progress=True)
    np.testing.assert_array_equal(a.metrics["dist_sq"], b.metrics["dist_sq"])
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("x0_rows", [False, True])
def test_iterates_are_c_contiguous_and_writable(dtype, x0_rows):
    """A broadcast start would make column-major (or stride-0, read-only) iterates: every pass slow."""
    seen = []

    @dataclasses.dataclass(frozen=True)
    class Probe(cs.methods.SGD):
        def init(self, x0):
            seen.append((x0.flags.c_contiguous, x0.flags.writeable, x0.dtype))
            return super().init(x0)

        def step(self, state, oracle, t):
            out = super().step(state, oracle, t)
            seen.append((out.x.flags.c_contiguous, True, out.x.dtype))
            return out

    p = cs.problems.Quadratic(cs.spectra.geometric(30, 1.0, 0.1), noise=cs.noise.Gaussian(0.1))
    x0 = np.ones((200, 30)) if x0_rows else None
    cs.simulate(p, Probe(0.1), 5, 200, dtype=dtype, chunk_size=64, x0=x0, threads=1)
    assert len(seen) == 4 * 6 and all(c and w and dt == np.dtype(dtype) for c, w, dt in seen)
