"""The Monotone checker (convsim.checks.monotone): excursions restated, and calibration — true statements
accepted and near misses rejected at least 95% of the time."""

import numpy as np
import pytest

import convsim as cs
from convsim.checks.monotone import Monotone, excursions


def trace_of(values, diverged_at=None):
    values = np.asarray(values, dtype=float)
    R, T = values.shape
    return cs.Trace(np.arange(T), {"m": values}, np.full(R, -1) if diverged_at is None else np.asarray(diverged_at),
                    {}, {})


def decreasing_paths(rng, R, T):
    """Positive, strictly decreasing paths with random relative decrements in (1e-4, 1e-2)."""
    return np.cumprod(np.concatenate([np.ones((R, 1)), 1 - rng.uniform(1e-4, 1e-2, (R, T - 1))], axis=1), axis=1)


def test_excursions_are_the_worst_relative_step():
    y = np.array([[4.0, 3.0, 3.3, 1.0], [1.0, 2.0, 4.0, 8.0], [2.0, np.nan, 1.0, 0.5]])
    got = excursions(y, "nonincreasing")
    np.testing.assert_allclose(got[:2], [0.1, 1.0])
    assert got[2] == np.inf
    np.testing.assert_allclose(excursions(y[:2], "nondecreasing"), [2.3 / 3.3, -1.0])


def test_a_monotone_path_with_rounding_noise_is_accepted_and_a_bump_beyond_rtol_rejected(rng):
    y = decreasing_paths(rng, 200, 50)
    flat = np.ones((200, 50)) * (1 + 1e-16 * rng.standard_normal((200, 50)))  # constant up to rounding
    assert Monotone("m", rtol=1e-12).check(trace_of(y)).verdict == "consistent"
    assert Monotone("m", rtol=1e-12).check(trace_of(flat)).verdict == "consistent"
    bumped = y.copy()
    bumped[:, 25] = bumped[:, 24] * (1 + 2e-12)  # every replica rises by twice the tolerance once
    v = Monotone("m", rtol=1e-12).check(trace_of(bumped))
    assert v.verdict == "violated" and v.tightness["value"] > 0
    bumped[:, 25] = bumped[:, 24] * (1 + 0.5e-12)  # half the tolerance: still monotone to rtol
    assert Monotone("m", rtol=1e-12).check(trace_of(bumped)).verdict == "consistent"


def test_diverged_replicas_count_against_the_claim(rng):
    y = decreasing_paths(rng, 100, 20)
    v = Monotone("m", level=0.95).check(trace_of(y, diverged_at=np.where(np.arange(100) < 20, 5, -1)))
    assert v.verdict == "violated" and "80 of 100" in v.reason


def test_window_and_direction(rng):
    y = decreasing_paths(rng, 100, 30)
    y[:, 3] = 10.0  # an early jump, outside the window
    assert Monotone("m").check(trace_of(y)).verdict == "violated"
    assert Monotone("m", window=(5, 29)).check(trace_of(y)).verdict == "consistent"
    assert Monotone("m", direction="nondecreasing", window=(5, 29)).check(trace_of(-y)).verdict == "consistent"
    with pytest.raises(cs.ConvsimError):
        Monotone("m", direction="up")


@pytest.mark.parametrize("p_monotone, expected", [(0.99, "consistent"), (0.90, "violated")])
def test_calibration_of_the_level(p_monotone, expected):
    """Each replica is monotone with probability p (else one bump of 1e-6); the claim is P ≥ 0.95 over 800
    replicas.  p = 0.99 is true, p = 0.90 a near miss (5 points below the level, about 2.4 interval
    half-widths): each decided correctly in at least 95% of 200 trials."""
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(200):
        y = decreasing_paths(rng, 800, 12)
        bump = rng.uniform(size=800) > p_monotone
        y[bump, 6] = y[bump, 5] * (1 + 1e-6)
        hits += Monotone("m", level=0.95, rtol=1e-12).check(trace_of(y)).verdict == expected
    assert hits >= 190, hits


def test_calibration_of_the_tolerance():
    """All replicas bump once by a random relative amount; rtol 1e-8 against bumps uniform on (0, 0.9e-8)
    (true) and on (1.1e-8, 2e-8) (a near miss by 10%): decided correctly in every one of 100 trials."""
    rng = np.random.default_rng(11)
    for low, high, expected in ((0.0, 0.9e-8, "consistent"), (1.1e-8, 2e-8, "violated")):
        for _ in range(100):
            y = decreasing_paths(rng, 200, 10)
            y[:, 5] = y[:, 4] * (1 + rng.uniform(low, high, 200))
            assert Monotone("m", rtol=1e-8).check(trace_of(y)).verdict == expected
