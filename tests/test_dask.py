"""Replicas and claims on a two-worker dask.distributed LocalCluster (loopback): the same numbers as one process."""

import contextlib
import io
import json

import numpy as np
import pytest

import convsim as cs
from convsim.claims import discover
from convsim.cli import main
from test_parallel import ONE_PER_FAMILY, assert_same_trace, runs_of_every_simulator

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=50)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_replicas_split_across_workers_give_the_local_trace(client):
    p = cs.problems.Quadratic(cs.spectra.geometric(10, 1.0, 0.01), noise=cs.noise.Gaussian(0.3), rotate=True)
    m = cs.methods.SGD(0.05, momentum=0.9)
    metrics = {"dist_sq": None, "norm": lambda problem, x: (x * x).sum(axis=-1)}  # lambdas travel with Dask
    local = cs.simulate(p, m, 200, 333, seed=5, chunk_size=64, metrics=metrics)  # 333: not a multiple of 64
    remote = cs.simulate(p, m, 200, 333, seed=5, chunk_size=64, metrics=metrics, executor=client)
    for k in local.metrics:
        np.testing.assert_array_equal(local.metrics[k], remote.metrics[k])
    np.testing.assert_array_equal(local.diverged_at, remote.diverged_at)


@pytest.mark.parametrize("name", sorted(runs_of_every_simulator()))
def test_every_simulator_split_across_the_cluster_gives_the_local_trace(client, name):
    run = runs_of_every_simulator()[name]  # 333 replicas in chunks of 64: six tasks, the last one of 13
    assert_same_trace(run(None), run(client))


def _verify(argv) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["verify", *ONE_PER_FAMILY, "--quick", "--no-figures", "--format", "json", *argv])
    return {r["id"]: r for r in json.loads(out.getvalue())}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The serial records of one claim of every family (and a control)."""
    return _verify(["--out", str(tmp_path_factory.mktemp("serial"))])


def test_claims_on_the_cluster_give_the_serial_verdicts(client, serial, tmp_path):
    cluster = _verify(["--scheduler", client.scheduler.address, "--out", str(tmp_path)])
    for i in ONE_PER_FAMILY:
        assert serial[i]["verdict"] == cluster[i]["verdict"] and serial[i]["evidence"] == cluster[i]["evidence"], i


def test_a_claims_replicas_split_across_the_cluster_give_its_serial_verdict(client, serial):
    claims = discover()
    for i in (i for i in ONE_PER_FAMILY if not claims[i].negative_of):  # every family's simulator, 64 replicas a task
        split = claims[i].run(cs.Context(executor=client, chunk_size=64), quick=True).verdict
        assert split.verdict == serial[i]["verdict"], i
        assert json.loads(json.dumps(split.to_dict())) == serial[i]["evidence"], i  # as verify writes it


def test_an_unreachable_scheduler_is_a_one_line_error(capsys, tmp_path):
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code = main(["verify", "gd-linear", "--quick", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2 and "Dask scheduler" in capsys.readouterr().err
