"""The two helpers the same-noise restatements share: convsim.random.run_streams replays a recorded run's random
numbers from its metadata (per-block streams, so one stream object over all replicas is any chunking of the run),
and convsim.checks.farthest_from_one reads the worst replica of a pathwise identity."""

import importlib.util

import numpy as np
import pytest

import convsim as cs
from convsim.checks import farthest_from_one
from convsim.estimators.runner import sample_rows

REPLICAS, DIM, STEP, SIGMA, SEED = 200, 5, 0.1, 1.0, 11  # 200 replicas: four blocks, the last one partial
SPECTRUM = np.linspace(0.5, 2.0, DIM)

RUNS = [("numpy", None)]
if importlib.util.find_spec("torch") is not None:
    RUNS.append(("torch", "torch"))


def coordinates():
    return {f"x{i}": (lambda problem, x, i=i: x[..., i]) for i in range(DIM)}


def first_step(backend, generator):
    """x_0, the Hessian's diagonal and the run's x_1 (replicas, DIM) of seeded SGD on a quadratic with additive N(0, sigma^2 I) noise."""
    problem = cs.problems.Quadratic(SPECTRUM, cs.noise.Gaussian(SIGMA))
    run = cs.simulate(problem, cs.methods.SGD(STEP), 1, REPLICAS, seed=SEED, backend=backend, chunk_size=64,
                      record=np.arange(2), metrics=coordinates(), generator=generator)
    x1 = np.stack([run.values(f"x{i}")[:, 1] for i in range(DIM)], axis=1)
    return problem.initial_point(), problem.eigenvalues, x1, run


@pytest.mark.parametrize("family", ["sfc64", "pcg64"])
@pytest.mark.parametrize("backend,generator", RUNS)
def test_replayed_normals_restate_the_first_sgd_step_of_every_replica(monkeypatch, family, backend, generator):
    other = "pcg64" if family == "sfc64" else "sfc64"
    monkeypatch.setattr(cs.random, "STREAMS", family)
    x0, eigenvalues, x1, run = first_step(backend, generator)
    assert run.meta["versions"]["streams"] == family
    # the replay must take the family from the metadata, not from the process default
    monkeypatch.setattr(cs.random, "STREAMS", other)
    rng = cs.random.run_streams(run.meta, run.replicas)
    z = np.array(cs.backend.to_numpy(rng.normal(DIM)), dtype=np.float64)
    restated = x0 - STEP * (eigenvalues * x0 + SIGMA * z)   # x_1 = x_0 - eta (H x_0 + sigma z_0)
    np.testing.assert_allclose(x1, restated, rtol=1e-13, atol=1e-15)
    # not a tautology: the other family's numbers (or a shifted replica range) restate another step
    wrong = cs.random.run_streams({**run.meta, "versions": {"streams": other}}, run.replicas)
    moved = x0 - STEP * (eigenvalues * x0 + SIGMA * np.array(cs.backend.to_numpy(wrong.normal(DIM))))
    if generator is None:  # torch generators draw the same numbers whatever the NumPy family
        assert np.min(np.max(np.abs(moved - x1), axis=1)) > 1e-6
    # chunk invariance: the run's chunk of replicas 64..199 draws the same first numbers, and its next draw is new
    chunk = cs.random.ReplicaStreams(cs.backend.namespace(backend), SEED, 64, REPLICAS - 64, generator=generator,
                                     family=family)
    np.testing.assert_array_equal(np.array(cs.backend.to_numpy(chunk.normal(DIM))), z[64:])
    assert np.min(np.max(np.abs(np.array(cs.backend.to_numpy(chunk.normal(DIM))) - z[64:]), axis=1)) > 1e-6


def test_run_streams_defaults_to_the_runs_defaults():
    """No generator or family in the metadata (a run drawn with sample_rows): the backend's defaults, as for the run."""
    meta = {"seed": 3, "backend": "numpy", "dtype": "float64"}
    rows = sample_rows(lambda rng, xp: rng.normal(4), 130, seed=3, chunk=64)
    np.testing.assert_array_equal(cs.random.run_streams(meta, 130).normal(4), rows)


def test_farthest_from_one_picks_the_entry_farthest_in_log():
    ratio = np.array([[1.0, 0.5, 1.0 + 1e-9],
                      [1.9, 1.0, 1.0 - 2e-9],
                      [0.6, 1.5, 1.0]])
    # |log 1.9| = 0.64 > |log 0.6| = 0.51; |log 0.5| = 0.69 > |log 1.5| = 0.41; |log(1 - 2e-9)| > |log(1 + 1e-9)|
    np.testing.assert_array_equal(farthest_from_one(ratio), [[1.9, 0.5, 1.0 - 2e-9]])


def test_farthest_from_one_counts_non_finite_and_non_positive_as_farthest():
    ratio = np.array([[1e6, 1e6, 1e6, 1e6, 1.0],
                      [np.nan, 0.0, -1.0, np.inf, 1.0],
                      [1.0, 1.0, 1.0, 1.0, 1.0]])
    row = farthest_from_one(ratio)
    assert row.shape == (1, 5)
    np.testing.assert_array_equal(row, [[np.inf, 0.0, -1.0, np.inf, 1.0]])  # NaN and inf come back as inf
    # a negative ratio is farthest even when its |log| is 0 (a sign flip is no identity)
    np.testing.assert_array_equal(farthest_from_one(np.array([[1.01], [-1.0]])), [[-1.0]])


def test_farthest_from_one_shape_and_the_check_it_feeds():
    rng = np.random.default_rng(0)
    ratio = 1.0 + 1e-12 * rng.standard_normal((70, 4))
    row = farthest_from_one(ratio)
    assert row.shape == (1, 4)
    assert np.all(np.abs(np.log(row)) == np.max(np.abs(np.log(ratio)), axis=0))
    one = cs.Series(np.arange(1.0, 5.0), row, "t", "ratio", np.full(1, -1), {})
    ones = lambda t: np.ones_like(t)  # noqa: E731
    assert cs.checks.Reference("ratio", ones, rtol=1e-9, decisive="all").check(one).verdict == "consistent"
    ratio[37, 2] = 1.0 + 3e-9  # one replica off by 3x the rtol decides it: no Monte Carlo interval averages it away
    off = cs.Series(np.arange(1.0, 5.0), farthest_from_one(ratio), "t", "ratio", np.full(1, -1), {})
    assert cs.checks.Reference("ratio", ones, rtol=1e-9, decisive="all").check(off).verdict == "violated"
    with pytest.raises(cs.ConvsimError):
        farthest_from_one(np.ones(3))
