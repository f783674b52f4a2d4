"""Divergence is a documented threshold relative to the start, the same in float32 and float64."""

import numpy as np
import pytest

import convsim as cs
from convsim.engine.simulate import DIVERGENCE_FACTOR


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_run_that_grows_without_overflowing_is_diverged(dtype):
    p = cs.problems.Quadratic(np.ones(3))
    tr = cs.simulate(p, cs.methods.GD(2.5), 80, 4, record="linear", dtype=dtype)  # |1 - 2.5| = 1.5 per step
    r0 = float(tr.metrics["dist_sq"][0, 0])
    t_cross = int(np.ceil(np.log(DIVERGENCE_FACTOR * max(1.0, r0) / r0) / np.log(2.25)))  # dist_sq = r0 2.25^t
    assert tr.n_diverged == 4 and np.all(tr.diverged_at == tr.steps[tr.steps >= t_cross][0])
    assert np.all(np.isnan(tr.metrics["dist_sq"][:, -1]))


def test_both_dtypes_count_the_same_replicas():
    # float32 overflows near 1e38 and float64 near 1e308; the threshold sits below both
    p = cs.problems.Quadratic(cs.spectra.uniform(4, 0.5, 1.0))
    runs = [cs.simulate(p, cs.methods.GD(2.2), 400, 8, dtype=d) for d in ("float64", "float32")]
    assert runs[0].n_diverged == runs[1].n_diverged == 8
    np.testing.assert_array_equal(runs[0].diverged_at, runs[1].diverged_at)
    noisy = cs.problems.Quadratic(cs.spectra.uniform(4, 0.5, 1.0), noise=cs.noise.Gaussian(0.5))
    counts = [cs.simulate(noisy, cs.methods.SGD(2.2), 400, 64, dtype=d, seed=1).n_diverged
              for d in ("float64", "float32")]
    assert counts == [64, 64]


def test_booleans_are_not_replica_counts():
    with pytest.raises(cs.ConvsimError, match="replicas"):
        cs.simulate(cs.problems.Quadratic(np.ones(2)), cs.methods.GD(0.1), 10, True)
