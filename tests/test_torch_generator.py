"""simulate(generator="torch"): CPU PyTorch runs drawn from torch generators, one per block of 64 replicas."""

import numpy as np
import pytest

import convsim as cs
from convsim.errors import ConvsimError

torch = pytest.importorskip("torch")


def _run(**kw):
    p = cs.problems.Quadratic(np.linspace(1.0, 0.1, 6), noise=cs.noise.Gaussian(0.3))
    opts = dict(record=[10, 40], seed=3, backend="torch", dtype="float32", metrics=["dist_sq"])
    return cs.simulate(p, cs.methods.SGD(0.2), 40, 200, **{**opts, **kw}).values("dist_sq")


def test_torch_generators_are_reproducible_chunk_invariant_and_other_numbers():
    a = _run(generator="torch", chunk_size=64)
    assert np.array_equal(a, _run(generator="torch", chunk_size=64))
    assert np.array_equal(a, _run(generator="torch", chunk_size=128))  # streams belong to blocks, not chunks
    numpy_streams = _run()
    assert not np.allclose(a, numpy_streams)  # other random numbers ...
    # ... from the same law: SGD's stationary E||x - x*||^2 agrees between the two within Monte Carlo error
    late_a, late_n = a[:, -1], numpy_streams[:, -1]
    se = np.sqrt(late_a.var() / late_a.size + late_n.var() / late_n.size)
    assert abs(late_a.mean() - late_n.mean()) < 4 * se


def test_the_generator_is_in_the_runs_meta_and_key(tmp_path):
    p = cs.problems.Quadratic(np.ones(3), noise=cs.noise.Gaussian(0.1))
    trace = cs.simulate(p, cs.methods.SGD(0.1), 5, 64, backend="torch", generator="torch")
    assert trace.meta["generator"] == "torch"
    ctx = cs.Context(backend="torch", store=cs.store.ResultStore(tmp_path))
    one = ctx.simulate(p, cs.methods.SGD(0.1), 5, 64)
    other = ctx.simulate(p, cs.methods.SGD(0.1), 5, 64, generator="torch")
    assert len(list(tmp_path.rglob("*.nc"))) == 2  # never served the other generator's stored run
    assert not np.array_equal(one.values("dist_sq"), other.values("dist_sq"))


def test_a_generator_the_backend_cannot_use_is_a_one_line_error():
    p = cs.problems.Quadratic(np.ones(3))
    with pytest.raises(ConvsimError, match="cannot draw from 'torch' generators"):
        cs.simulate(p, cs.methods.SGD(0.1), 5, 64, backend="numpy", generator="torch")
