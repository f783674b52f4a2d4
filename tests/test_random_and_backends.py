import numpy as np
import pytest

import convsim as cs
from convsim.random import BLOCK, ReplicaStreams


def _noisy_problem():
    return cs.problems.Quadratic(cs.spectra.geometric(8, 1.0, 0.1), noise=cs.noise.Gaussian(0.3))


def test_chunking_does_not_change_any_number():
    p, m = _noisy_problem(), cs.methods.SGD(0.2)
    whole = cs.simulate(p, m, 300, 3 * BLOCK + 5, seed=7)
    for chunk in (BLOCK, 2 * BLOCK):
        split = cs.simulate(p, m, 300, 3 * BLOCK + 5, seed=7, chunk_size=chunk)
        np.testing.assert_array_equal(whole.metrics["dist_sq"], split.metrics["dist_sq"])


def test_first_blocks_do_not_depend_on_the_total_replica_count():
    p, m = _noisy_problem(), cs.methods.SGD(0.2)
    small = cs.simulate(p, m, 100, BLOCK, seed=3)
    large = cs.simulate(p, m, 100, 4 * BLOCK, seed=3)
    np.testing.assert_array_equal(small.metrics["dist_sq"], large.metrics["dist_sq"][:BLOCK])


def test_seeds_reproduce_and_differ():
    p, m = _noisy_problem(), cs.methods.SGD(0.2)
    a, b, c = (cs.simulate(p, m, 50, 8, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.metrics["dist_sq"], b.metrics["dist_sq"])
    assert not np.array_equal(a.metrics["dist_sq"], c.metrics["dist_sq"])


def test_blocks_are_independent_streams():
    xp = cs.backend.namespace("numpy")
    z = np.asarray(ReplicaStreams(xp, 0, 0, 2 * BLOCK).normal(2000))
    r = np.corrcoef(z[:BLOCK].ravel(), z[BLOCK:].ravel())[0, 1]
    assert abs(r) < 5 / np.sqrt(BLOCK * 2000)
    assert abs(z.mean()) < 5 / np.sqrt(z.size) and abs(z.var() - 1) < 0.01


def test_array_api_strict_matches_numpy_to_rounding():
    p, m = _noisy_problem(), cs.methods.Adam(0.05)
    a = cs.simulate(p, m, 200, 16, seed=5)
    b = cs.simulate(p, m, 200, 16, seed=5, backend="array_api_strict")
    np.testing.assert_allclose(a.metrics["suboptimality"], b.metrics["suboptimality"], rtol=1e-10, atol=1e-300)


def test_float32_runs_in_float32():
    tr = cs.simulate(_noisy_problem(), cs.methods.SGD(0.2), 100, 8, dtype="float32")
    assert tr.meta["dtype"] == "float32" and np.all(np.isfinite(tr.metrics["dist_sq"]))


def test_unknown_or_missing_backends_are_one_line_errors():
    with pytest.raises(cs.ConvsimError, match="unknown backend 'jax'"):
        cs.backend.namespace("jax")
    with pytest.raises(cs.ConvsimError, match="unknown dtype"):
        cs.simulate(_noisy_problem(), cs.methods.SGD(0.1), 10, dtype="float16")


def test_cupy_without_gpu_is_a_clear_error():
    try:
        import cupy  # noqa: F401

        pytest.skip("CuPy is installed; the GPU path is tested by the backend fixture")
    except ImportError:
        pass
    with pytest.raises(cs.ConvsimError, match="needs CuPy and a CUDA GPU") as err:
        cs.simulate(_noisy_problem(), cs.methods.SGD(0.1), 10, backend="cupy")
    assert "\n" not in str(err.value)


def test_gamma_and_beta_draws_with_per_element_parameters():
    import scipy.stats

    xp = cs.backend.namespace("numpy")
    rng = ReplicaStreams(xp, 0, 0, 4000)
    k = np.tile([0.5, 3.0], (4000, 1))
    g = np.asarray(rng.gamma_of(k))
    b = np.asarray(rng.beta_of(k, 2.0 * np.ones_like(k)))
    assert scipy.stats.kstest(g[:, 1], scipy.stats.gamma(3.0).cdf).pvalue > 1e-3
    assert scipy.stats.kstest(b[:, 0], scipy.stats.beta(0.5, 2.0).cdf).pvalue > 1e-3


def test_device_copies_are_made_once_per_namespace_and_dtype(backend):
    from convsim.backend import cached_in, cached_on, device_cache

    xp = cs.backend.namespace(backend)
    owner = type("Owner", (), {})()
    calls = []

    def host():
        calls.append(1)
        return np.arange(3.0)

    cache = device_cache(owner)
    a = cached_in(cache, xp, xp.float64, "v", host)
    assert cached_in(cache, xp, xp.float64, "v", host) is a and a.dtype == xp.float64
    assert cached_in(cache, xp, xp.float32, "v", host).dtype == xp.float32
    like = xp.zeros((2,), dtype=xp.float64)
    assert cached_on(cache, like, "w", host) is cached_on(cache, like, "w", host)
    assert len(calls) == 3 and device_cache(owner) is cache
    np.testing.assert_array_equal(cs.backend.to_numpy(a), np.arange(3.0))


IN_PLACE_METHODS = [
    cs.methods.SGD(0.1), cs.methods.SGD(0.1, momentum=0.9), cs.methods.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    cs.methods.SGD(0.1, momentum=0.5, dampening=0.3), cs.methods.Adam(0.05), cs.methods.Adam(0.05, amsgrad=True),
    cs.methods.AdamW(0.05, weight_decay=0.1), cs.methods.Adam(0.05, bias_correction=False), cs.methods.NAdam(0.05),
    cs.methods.RMSprop(0.01), cs.methods.RMSprop(0.01, centered=True, momentum=0.5, weight_decay=0.01),
    cs.methods.Adagrad(0.1, lr_decay=0.01), cs.methods.AdaBelief(0.05), cs.methods.RandomScalingMomentum(0.1),
]


@pytest.mark.parametrize("method", IN_PLACE_METHODS, ids=lambda m: m.name)
def test_in_place_hot_loops_equal_the_functional_path_bit_for_bit(method):
    """NumPy updates the state in place, array_api_strict takes the functional path: the same
    operations in the same order, so the same numbers exactly (same random draws on both)."""
    p = _noisy_problem()
    a = cs.simulate(p, method, 100, 16, seed=5, record=[1, 10, 100])
    b = cs.simulate(p, method, 100, 16, seed=5, record=[1, 10, 100], backend="array_api_strict")
    for name in a.metrics:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])
