"""The per-block samplers: the documented streams, their distributions, independence across
blocks, chunk invariance and reproducibility, for every generator family available here."""

import importlib.util
import os

import numpy as np
import pytest
import scipy.stats

import convsim as cs
from convsim.random import BLOCK, STREAM_FAMILIES, ReplicaStreams, block_seed, stream_family

HAS_TORCH = importlib.util.find_spec("torch") is not None
SOURCES = [  # (backend, generator: the NumPy stream family for "numpy", or the device's own)
    ("numpy", "pcg64"),
    ("numpy", "sfc64"),
    pytest.param("torch", "numpy", marks=pytest.mark.skipif(not HAS_TORCH, reason="PyTorch not installed")),
    pytest.param("torch", "torch", marks=pytest.mark.skipif(not HAS_TORCH, reason="PyTorch not installed")),
]


def streams(backend, generator, seed, start, count, dtype="float64"):
    if generator in STREAM_FAMILIES:
        return ReplicaStreams(cs.backend.namespace(backend), seed, start, count, dtype, family=generator)
    return ReplicaStreams(cs.backend.namespace(backend), seed, start, count, dtype, generator=generator)


def host(a):
    return np.asarray(cs.backend.to_numpy(a), dtype=np.float64)


@pytest.mark.parametrize("family, bits", [("pcg64", np.random.PCG64), ("sfc64", np.random.SFC64)])
def test_numpy_blocks_draw_the_documented_streams(family, bits):
    rng = streams("numpy", family, 11, 0, BLOCK + 3)
    z, u, signs = host(rng.normal(5)), host(rng.uniform(2)), host(rng.rademacher(3))
    for block, rows in ((0, slice(0, BLOCK)), (1, slice(BLOCK, BLOCK + 3))):
        n = rows.stop - rows.start
        ref = np.random.Generator(bits(block_seed(11, block)))
        np.testing.assert_array_equal(z[rows], ref.standard_normal((n, 5)))
        np.testing.assert_array_equal(u[rows], ref.random((n, 2)))
        if family == "pcg64":  # the 0.1.0 recipe: a sign from a uniform
            np.testing.assert_array_equal(signs[rows], 1.0 - 2.0 * (ref.random((n, 3)) < 0.5))
        else:  # 64 signs per raw word, low bit first
            bits_ = np.unpackbits(ref.bit_generator.random_raw(-(-n * 3 // 64)).astype("<u8").view(np.uint8), count=n * 3,
                                  bitorder="little")
            np.testing.assert_array_equal(signs[rows].ravel(), 1.0 - 2.0 * bits_)


@pytest.mark.skipif("CONVSIM_STREAMS" in os.environ, reason="CONVSIM_STREAMS chooses another default")
def test_the_default_stream_family_is_the_fastest_one():
    assert stream_family() == "sfc64" and streams("numpy", None, 0, 0, 1).family == "sfc64"
    with pytest.raises(cs.ConvsimError, match="pcg64, sfc64"):
        stream_family("mt19937")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend, generator", SOURCES)
def test_normal_and_uniform_draws_have_the_right_law(backend, generator, dtype):
    rng = streams(backend, generator, 3, 0, 4 * BLOCK, dtype)
    z, u = rng.normal(500), rng.uniform(500)
    assert cs.backend.to_numpy(z).dtype == np.dtype(dtype) and tuple(z.shape) == (4 * BLOCK, 500)
    z, u = host(z).ravel(), host(u).ravel()
    n = z.size
    # moments within 5 standard errors: mean 0, variance 1, skewness 0, excess kurtosis 0
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(scipy.stats.skew(z)) < 5 * np.sqrt(6 / n)
    assert abs(scipy.stats.kurtosis(z)) < 5 * np.sqrt(24 / n)
    assert scipy.stats.kstest(z, scipy.stats.norm.cdf).pvalue > 1e-4
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n) and abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / n)
    assert scipy.stats.kstest(u, scipy.stats.uniform.cdf).pvalue > 1e-4


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend, generator", SOURCES)
def test_rademacher_signs_are_fair_and_independent(backend, generator, dtype):
    rng = streams(backend, generator, 5, 0, 2 * BLOCK + 7, dtype)
    s = rng.rademacher(301)  # 301 signs per row: not a multiple of the 64 signs in a raw word
    assert cs.backend.to_numpy(s).dtype == np.dtype(dtype)
    s = host(s)
    assert set(np.unique(s)) == {-1.0, 1.0}
    n = s.size
    assert abs(s.mean()) < 5 / np.sqrt(n)
    # neighbouring signs (within a word and across word boundaries) and rows are uncorrelated
    assert abs(np.mean(s[:, 1:] * s[:, :-1])) < 5 / np.sqrt(n)
    assert abs(np.mean(s[1:] * s[:-1])) < 5 / np.sqrt(n)
    # successive draws differ (the stream advances)
    assert not np.array_equal(s, host(rng.rademacher(301)))


@pytest.mark.parametrize("backend, generator", SOURCES)
def test_blocks_are_independent_streams(backend, generator):
    z = host(streams(backend, generator, 0, 0, 4 * BLOCK).normal(1000))
    blocks = z.reshape(4, BLOCK * 1000)
    r = np.corrcoef(blocks)
    off = r[~np.eye(4, dtype=bool)]
    assert np.max(np.abs(off)) < 5 / np.sqrt(BLOCK * 1000)
    # and distributed alike: two-sample KS between blocks
    assert scipy.stats.ks_2samp(blocks[0], blocks[3]).pvalue > 1e-4


@pytest.mark.parametrize("backend, generator", SOURCES)
def test_draws_do_not_depend_on_the_chunking(backend, generator):
    whole = streams(backend, generator, 9, 0, 3 * BLOCK + 5)
    later = streams(backend, generator, 9, BLOCK, 2 * BLOCK + 5)
    for _ in range(2):  # the second draw checks that every block's stream advanced alike
        for draw in (lambda r: r.normal(7), lambda r: r.uniform(3), lambda r: r.rademacher(70),
                     lambda r: r.integers(10, 4), lambda r: r.gamma(2.5, 3)):
            np.testing.assert_array_equal(host(draw(whole))[BLOCK:], host(draw(later)))


@pytest.mark.parametrize("backend, generator", SOURCES)
def test_seeds_reproduce_and_differ(backend, generator):
    a, b, c = (host(streams(backend, generator, s, 0, BLOCK).normal(50)) for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_cpu_torch_draws_the_numpy_streams_into_its_tensors():
    torch = pytest.importorskip("torch")
    ours = streams("torch", None, 4, 0, BLOCK + 1)
    ref = streams("numpy", None, 4, 0, BLOCK + 1)
    z = ours.normal(6)
    assert isinstance(z, torch.Tensor) and z.dtype == torch.float64
    np.testing.assert_array_equal(z.numpy(), ref.normal(6))
    assert ours.normal(6).data_ptr() == z.data_ptr()  # one buffer, refilled: no allocation per step


def test_torch_generators_seed_from_the_block_seed_sequence():
    torch = pytest.importorskip("torch")
    rng = streams("torch", "torch", 6, BLOCK, BLOCK)
    seed = int(block_seed(6, 1).generate_state(1, np.uint64)[0])
    ref = torch.empty((BLOCK, 4), dtype=torch.float64).normal_(generator=torch.Generator().manual_seed(seed))
    np.testing.assert_array_equal(rng.normal(4).numpy(), ref.numpy())


def test_gamma_and_beta_on_torch_generators_follow_their_laws():
    pytest.importorskip("torch")
    rng = streams("torch", "torch", 2, 0, 3000)
    k = np.tile([0.7, 3.0], (3000, 1))
    assert scipy.stats.kstest(host(rng.gamma_of(k))[:, 1], scipy.stats.gamma(3.0).cdf).pvalue > 1e-4
    assert scipy.stats.kstest(host(rng.beta_of(k, 2.0 * np.ones_like(k)))[:, 0], scipy.stats.beta(0.7, 2.0).cdf).pvalue > 1e-4
    assert scipy.stats.kstest(host(rng.gamma(1.5, 2)).ravel(), scipy.stats.gamma(1.5).cdf).pvalue > 1e-4


def test_a_generator_a_backend_cannot_use_is_refused():
    with pytest.raises(ValueError, match="cannot draw from 'torch'"):
        streams("numpy", "torch", 0, 0, BLOCK)
