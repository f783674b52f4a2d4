"""The float64 restatements behind the session-5 sharp companions `shuffling-exact`, `shuffling-compare-exact`,
`dog-rate-exact`, `asgd-risk-variance-exact` and `aid-itd-saba-exact`: each reproduces the batched run path by
path on every backend and under both stream families, and each depends on what it restates (the sampling scheme,
the step constants), so agreement is not a tautology."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import convsim as cs
from convsim import random as streams
from convsim.claims import Context

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ["pcg64", "sfc64"]


def load(family, name):
    spec = importlib.util.spec_from_file_location(f"s5_h1_{name}", ROOT / "experiments" / family / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shuffling = load("first_order", "shuffling")
dog = load("first_order", "dog")
asgd = load("first_order", "asgd_risk")
aid = load("bilevel", "aid_itd")

SHUFFLING_SMALL = {**shuffling.COMMON, "n": 8, "d": 3, "points": 6, "epochs": 6, "replicas": 64}
DOG_SMALL = {**dog.QUICK, "steps": 200}
ASGD_SMALL = {**asgd.QUICK, "steps": 120}
SABA_SMALL = {**aid.saba.quick, "steps": 200}


@pytest.fixture(params=FAMILIES)
def family(request, monkeypatch):
    monkeypatch.setattr(streams, "STREAMS", request.param)
    return request.param


def assert_all_one(series, rtol):
    values = series.values[:, np.all(np.isfinite(series.values), axis=0)]
    assert values.size > 0
    np.testing.assert_allclose(values, 1.0, rtol=rtol, atol=0)


def test_shuffling_restatement_matches_both_samplings(backend, family):
    runs = shuffling.experiment(SHUFFLING_SMALL, Context(backend=backend))
    assert runs["reshuffle"].meta["versions"]["streams"] == family
    ratios = shuffling.restated_ratios(runs, SHUFFLING_SMALL)
    assert_all_one(ratios["RR / restated"], 1e-11)
    assert_all_one(ratios["edge / restated edge"], 1e-11)


def test_shuffling_restatement_depends_on_the_sampling_and_the_step(family):
    s = SHUFFLING_SMALL
    runs = shuffling.experiment(s, Context())
    problem = cs.problems.LogisticRegression.random(s["n"], s["d"], reg=s["reg"], seed=2, sampling="reshuffle")
    rr = runs["reshuffle"]
    args = (s["epochs"], rr.meta["seed"], family, rr.steps)
    swapped = shuffling.restated_dist_sq(problem, "with-replacement", *args)
    assert np.max(np.abs(rr.values("dist_sq")[:64, -1] / swapped[:, -1] - 1)) > 1e-2
    nudged = shuffling.restated_dist_sq(problem, "reshuffle", *args, step_constant=4.0 * (1 + 1e-6))
    assert np.max(np.abs(rr.values("dist_sq")[:64, -1] / nudged[:, -1] - 1)) > 1e-7
    # a permutation per epoch: every sample is visited once per epoch by the restated sampler
    gen = streams.block_generator(rr.meta["seed"], 0, family)
    order = np.argsort(gen.random((64, s["n"])), axis=1)
    assert np.all(np.sort(order, axis=1) == np.arange(s["n"]))


def test_dog_restatement_matches_the_rate_run(backend, family):
    data = dog.exact_experiment(DOG_SMALL, Context(backend=backend))
    assert_all_one(data["DoG / restated"], 1e-11)
    # r_eps is what the restatement is most sensitive to: a relative 1e-6 change is visible
    nudged = dog.restated_ratio(data["rate"], DOG_SMALL, r_eps=dog.R_EPS * (1 + 1e-6))
    assert np.max(np.abs(nudged.values[:, -1] - 1)) > 1e-9


def test_asgd_restatement_matches_the_variance_runs(backend, family):
    runs = asgd.experiment(ASGD_SMALL, Context(backend=backend))
    assert_all_one(asgd.restated_edge(runs, ASGD_SMALL), 1e-11)
    # SGD restated with the ASGD recursion would not match: the two restatements are distinct algorithms
    trace = runs["asgd-variance"]
    as_sgd = asgd.restated_variance_risk(ASGD_SMALL, False, trace.meta["seed"], family, trace.steps)
    late = trace.steps > 0
    assert np.max(np.abs(trace.values("suboptimality")[:64, late] / as_sgd[:, late] - 1)) > 1e-2


def test_saba_restatement_matches_the_run(backend, family):
    trace = aid.saba_experiment(SABA_SMALL, Context(backend=backend))
    assert_all_one(aid.saba_restated_ratio(trace, SABA_SMALL), 1e-10)
    nudged = aid.saba_restated_ratio(trace, SABA_SMALL, gamma_factor=1 + 1e-6)
    assert np.max(np.abs(nudged.values[:, -1] - 1)) > 1e-7


@pytest.mark.parametrize("claim", [dog.exact, dog.exact_negative], ids=lambda c: c.id)
def test_companion_and_near_miss_give_their_expected_verdicts(claim, family):
    """The cheapest pair end to end (the catalogue's verify runs the others): the near miss is resolved."""
    outcome = claim.run(Context(), quick=True)
    assert outcome.verdict.verdict == claim.expected, outcome.verdict.reason


def test_companions_declare_their_parents():
    assert (shuffling.exact.sharpens, shuffling.compare_exact.sharpens) == ("shuffling", "shuffling-compare")
    assert dog.exact.sharpens == "dog-rate"
    assert asgd.variance_exact.sharpens == "asgd-risk-variance"
    assert aid.saba_exact.sharpens == "aid-itd-saba"


def test_restatements_refuse_runs_that_drew_device_streams():
    """A CuPy or CUDA-torch run draws its own streams: replaying the host ones would be a spurious violation."""
    trace = cs.engine.Trace(np.arange(3), {}, np.full(64, -1), {},
                            {"backend": "cupy", "seed": 0, "versions": {"streams": "pcg64"}})
    with pytest.raises(cs.ConvsimError, match="host random streams"):
        cs.random.host_stream_family(trace.meta, "x")
    trace.meta["backend"] = "torch"
    assert cs.random.host_stream_family(trace.meta, "x") == "pcg64"
    trace.meta["generator"] = "torch"
    with pytest.raises(cs.ConvsimError, match="host random streams"):
        cs.random.host_stream_family(trace.meta, "x")
