"""Sweeps on a two-worker dask.distributed LocalCluster (loopback): the local numbers, batched or point by point."""

import numpy as np
import pytest

import convsim as cs
from convsim.engine import Experiment

distributed = pytest.importorskip("distributed")


def test_a_sweep_on_the_cluster_gives_the_local_traces():
    p = cs.problems.Quadratic(cs.spectra.geometric(10, 1.0, 0.01), noise=cs.noise.Gaussian(0.3), rotate=True)
    experiment = Experiment(p, lambda eta: cs.methods.SGD(eta, momentum=0.5), 60, 150, seed=5, chunk_size=64)
    grid = {"eta": [0.01, 0.05, 0.2]}  # 150 replicas: a remainder block of 22
    local = cs.sweep(experiment, grid, batch=False)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=50)
    with cluster, distributed.Client(cluster) as client:
        for batch in (True, False):
            swept = cs.sweep(experiment, grid, executor=client, batch=batch)
            assert swept.batched == batch
            for a, b in zip(local.traces, swept.traces):
                np.testing.assert_array_equal(a.metrics["dist_sq"], b.metrics["dist_sq"])
                np.testing.assert_array_equal(a.diverged_at, b.diverged_at)
