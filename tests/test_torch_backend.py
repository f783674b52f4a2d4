"""The PyTorch backend: the engine, problems and methods unchanged on torch tensors.

CPU PyTorch draws the NumPy streams into its tensors, so a torch run must agree with the NumPy
run to rounding (same random numbers, torch's kernels); with ``generator="torch"`` (and on
CUDA) each block has its own torch.Generator, tested for chunk invariance and seeding."""

import subprocess
import sys

import numpy as np
import pytest

import convsim as cs
from convsim.random import BLOCK, ReplicaStreams

from conftest import TORCH_BACKENDS

torch = pytest.importorskip("torch")

CHUNK = BLOCK  # explicit chunk sizes: independent of the engine's default chunk table


def _problem(d=6, noise=0.3):
    return cs.problems.Quadratic(cs.spectra.geometric(d, 1.0, 0.1), noise=cs.noise.Gaussian(noise) if noise else None)


METHODS = [
    cs.methods.SGD(0.2), cs.methods.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    cs.methods.SGD(0.1, momentum=0.5, dampening=0.2), cs.methods.HeavyBall(0.1, 0.5), cs.methods.Nesterov(0.5),
    cs.methods.Adam(0.05), cs.methods.Adam(0.05, amsgrad=True, weight_decay=0.01), cs.methods.AdamW(0.05),
    cs.methods.NAdam(0.05), cs.methods.RMSprop(0.01, centered=True, momentum=0.5), cs.methods.Adagrad(0.1),
    cs.methods.AdaBelief(0.05), cs.methods.DiffGrad(0.05), cs.methods.Adan(0.05), cs.methods.AdagradNorm(0.5),
    cs.methods.RandomScalingMomentum(0.1), cs.methods.Averaged(cs.methods.Adam(0.05)),
    cs.methods.Lookahead(cs.methods.SGD(0.1, momentum=0.9)),
]


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cpu_torch_runs_match_numpy_to_rounding(method, dtype):
    kw = dict(steps=60, replicas=BLOCK + 9, seed=3, record=[1, 10, 60], chunk_size=CHUNK, dtype=dtype)
    ours = cs.simulate(_problem(), method, backend="torch", **kw)
    ref = cs.simulate(_problem(), method, **kw)
    rtol = 1e-9 if dtype == "float64" else 2e-3
    for name in ref.metrics:
        np.testing.assert_allclose(ours.metrics[name], ref.metrics[name], rtol=rtol, atol=1e-12)
    assert ours.meta["backend"] == "torch" and ours.meta["dtype"] == dtype


def test_gd_on_torch_is_the_closed_form():
    spectrum = np.array([1.0, 0.5, 0.1])
    p = cs.problems.Quadratic(spectrum)
    tr = cs.simulate(p, cs.methods.GD(0.5), 20, 2, backend="torch", record=list(range(21)), chunk_size=CHUNK)
    d0 = p.initial_point() - p.x_star
    expected = [np.sum(((1 - 0.5 * spectrum) ** (2 * t)) * d0**2) for t in tr.steps]
    np.testing.assert_allclose(tr.metrics["dist_sq"][0], expected, rtol=1e-12)


def test_torch_runs_are_chunk_invariant_and_reproducible():
    p, m = _problem(), cs.methods.Adam(0.05)
    a = cs.simulate(p, m, 80, 3 * BLOCK + 1, seed=2, backend="torch", chunk_size=BLOCK)
    b = cs.simulate(p, m, 80, 3 * BLOCK + 1, seed=2, backend="torch", chunk_size=4 * BLOCK)
    np.testing.assert_array_equal(a.metrics["dist_sq"], b.metrics["dist_sq"])


@pytest.mark.parametrize("backend", TORCH_BACKENDS)
def test_torch_generators_are_chunk_invariant_through_a_method(backend):
    """Steps driven by hand with one torch.Generator per block: splitting replicas into
    chunks of whole blocks gives every replica the same trajectory."""
    xp = cs.backend.namespace(backend)
    p, m = _problem(), cs.methods.Adam(0.05)

    def run(start, count):
        x = cs.backend.asarray(xp, np.broadcast_to(p.initial_point(), (count, p.dim)), xp.float64)
        oracle = cs.methods.Oracle(p, ReplicaStreams(xp, 5, start, count, generator="torch"))
        with cs.backend.default_device(xp):
            state = m.init(x)
            for t in range(30):
                state = m.step(state, oracle, t)
        return cs.backend.to_numpy(m.point(state))

    whole = run(0, 3 * BLOCK)
    np.testing.assert_array_equal(whole[BLOCK:], run(BLOCK, 2 * BLOCK))
    assert not np.array_equal(whole[:BLOCK], whole[BLOCK:2 * BLOCK])


def test_methods_update_their_own_state_in_place_and_never_the_inputs():
    """The in-place hot loops write only into the arrays the method's state owns."""
    x0 = torch.ones((4, 3), dtype=torch.float64)
    g = torch.full((4, 3), 0.5, dtype=torch.float64)

    class Fixed:
        rng = None

        def stochastic_grad(self, x):
            return g

    for method in (cs.methods.Adam(0.1), cs.methods.SGD(0.1, momentum=0.9), cs.methods.RMSprop(0.1, momentum=0.5),
                   cs.methods.NAdam(0.1), cs.methods.Adagrad(0.1), cs.methods.AdaBelief(0.1)):
        state = method.init(x0)
        m_before = state[1]
        for t in range(3):
            state = method.step(state, Fixed(), t)
        assert torch.equal(x0, torch.ones((4, 3), dtype=torch.float64)), method.name
        assert torch.equal(g, torch.full((4, 3), 0.5, dtype=torch.float64)), method.name
        if m_before is not None:  # the same preallocated moment array, updated in place
            assert state[1] is m_before, method.name


def test_noise_models_and_finite_sums_run_on_torch():
    for problem in (cs.problems.Quadratic(cs.spectra.geometric(5, 1.0, 0.1), noise=cs.noise.StudentT(3.0, 0.2)),
                    cs.problems.LeastSquares.random(40, 5, seed=1, batch_size=4),
                    cs.problems.LogisticRegression.random(40, 5, seed=1, batch_size=4, sampling="reshuffle")):
        kw = dict(steps=30, replicas=BLOCK + 3, seed=1, record=[30], chunk_size=CHUNK)
        ours = cs.simulate(problem, cs.methods.SGD(0.05), backend="torch", **kw)
        ref = cs.simulate(problem, cs.methods.SGD(0.05), **kw)
        for name in ref.metrics:
            np.testing.assert_allclose(ours.metrics[name], ref.metrics[name], rtol=1e-9, atol=1e-12)


def test_torch_is_never_imported_unless_asked():
    code = ("import sys, convsim as cs\n"
            "p = cs.problems.Quadratic([1.0, 0.5], noise=cs.noise.Gaussian(0.1))\n"
            "cs.simulate(p, cs.methods.Adam(0.1), 20, 8)\n"
            "cs.simulate(p, cs.methods.Adam(0.1), 20, 8, backend='array_api_strict')\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_torch_cuda_without_a_gpu_is_a_one_line_error():
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present; torch-cuda is tested by TORCH_BACKENDS")
    with pytest.raises(cs.ConvsimError, match="needs PyTorch with a CUDA GPU") as err:
        cs.backend.namespace("torch-cuda")
    assert "\n" not in str(err.value)


def test_missing_torch_is_a_one_line_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    cs.backend.namespace.cache_clear()
    try:
        with pytest.raises(cs.ConvsimError, match=r"needs PyTorch \(pip install torch\)"):
            cs.backend.namespace("torch")
    finally:
        cs.backend.namespace.cache_clear()
