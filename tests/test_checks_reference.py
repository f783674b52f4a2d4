"""The Reference checker's decisive window: late points of a curve in time, or every point of a parameter sweep."""

import numpy as np
import pytest

import convsim as cs
from convsim.engine.trace import Series


def _series(means, replicas=4000, seed=0):
    rng = np.random.default_rng(seed)
    values = np.asarray(means)[None, :] * (1 + 0.01 * rng.standard_normal((replicas, len(means))))
    return Series(np.arange(1.0, len(means) + 1), values, "point", "m", np.full(replicas, -1), {})


def test_decisive_all_reports_the_farthest_point_of_every_point():
    data = _series([1.04, 1.0, 1.0, 1.0])  # the only deviation sits at the first, non-late point
    late = cs.checks.Reference("m", np.ones(4), rtol=0.1).check(data)
    every = cs.checks.Reference("m", np.ones(4), rtol=0.1, decisive="all").check(data)
    assert late.verdict == every.verdict == "consistent"
    assert every.estimate == pytest.approx(1.04, abs=2e-3)
    assert abs(late.estimate - 1.0) < 2e-3  # the late window does not see it


def test_decisive_must_be_known():
    with pytest.raises(cs.ConvsimError, match="decisive"):
        cs.checks.Reference("m", np.ones(3), decisive="early")
