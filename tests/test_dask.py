"""Replicas and claims on a two-worker dask.distributed LocalCluster (loopback): the same numbers as one process."""

import json

import numpy as np
import pytest

import convsim as cs
from convsim.cli import main

distributed = pytest.importorskip("distributed")


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


def test_claims_on_the_cluster_give_the_serial_verdicts(client, capsys, tmp_path):
    ids = ["gd-linear", "gd-linear-neg", "stationary-cov", "ucb-log"]

    def run(*extra, out):
        main(["verify", *ids, "--quick", "--no-figures", "--format", "json", "--out", str(out), *extra])
        return {r["id"]: r for r in json.loads(capsys.readouterr().out)}

    serial = run(out=tmp_path / "a")
    cluster = run("--scheduler", client.scheduler.address, out=tmp_path / "b")
    for i in ids:
        assert serial[i]["verdict"] == cluster[i]["verdict"] and serial[i]["evidence"] == cluster[i]["evidence"]


def test_an_unreachable_scheduler_is_a_one_line_error(capsys, tmp_path):
    code = main(["verify", "gd-linear", "--quick", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2 and "Dask scheduler" in capsys.readouterr().err
