"""Candidate samplers for the per-block replica streams, side by side in one run.

Each candidate fills a preallocated (64, d) block (one random stream's share of a chunk)
with standard normals, uniforms or signs, ``blocks`` times per round; the best of
``repeats`` interleaved rounds is reported in draws per second, single-threaded.

Candidates: NumPy's PCG64, PCG64DXSM, SFC64 and Philox bit generators
(``standard_normal(out=, dtype=)``, ``random(out=)``); ``torch.randn`` / ``torch.rand`` with one
``torch.Generator`` per block writing into the same NumPy buffer (CPU, one thread; only where
torch is installed); and a counter-based route: Philox raw 64-bit words turned into normals by a
vectorized Box–Muller transform in NumPy, and a splitmix64 counter with Box–Muller compiled by
numba (only where numba imports); Rademacher signs from uniforms or from raw bits.

    python benchmarks/sampler.py [--dims 10 100 1000] [--blocks 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

BLOCK = 64


def best_rate(fns: dict, draws: int, repeats: int) -> dict:
    """Draws per second of each function, best of ``repeats`` interleaved rounds."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: draws / seconds for name, seconds in best.items()}


def numpy_candidates(d: int, blocks: int) -> dict:
    out = {}
    for bitgen in ("PCG64", "PCG64DXSM", "SFC64", "Philox"):
        gens = [np.random.Generator(getattr(np.random, bitgen)(b)) for b in range(blocks)]
        for dtype in ("float64", "float32"):
            buf = np.empty((BLOCK, d), dtype=dtype)
            out[f"numpy {bitgen} normal {dtype}"] = (lambda g=gens, b=buf, t=dtype: [x.standard_normal(out=b, dtype=t) for x in g])
            out[f"numpy {bitgen} uniform {dtype}"] = (lambda g=gens, b=buf, t=dtype: [x.random(out=b, dtype=t) for x in g])
    return out


def rademacher_candidates(d: int, blocks: int) -> dict:
    """±1 signs: uniforms compared with 1/2 (convsim 0.1.0) against 64 signs per raw 64-bit word."""
    gens = [np.random.Generator(np.random.SFC64(b)) for b in range(blocks)]
    buf = np.empty(BLOCK * d)

    def compare():
        for g in gens:
            g.random(out=buf)
            1.0 - 2.0 * (buf < 0.5).astype(np.float64)

    def bits():
        for g in gens:
            words = g.bit_generator.random_raw(-(-buf.size // 64))
            b = np.unpackbits(words.view(np.uint8), count=buf.size, bitorder="little")
            np.multiply(b, -2.0, out=buf, casting="unsafe")
            np.add(buf, 1.0, out=buf)

    return {"numpy SFC64 rademacher via uniform<1/2": compare, "numpy SFC64 rademacher via raw bits": bits}


def box_muller_numpy(d: int, blocks: int) -> dict:
    """Philox raw words -> two uniforms per word pair -> Box–Muller, all NumPy ufuncs in place."""
    out = {}
    bitgens = [np.random.Philox(b) for b in range(blocks)]
    n = BLOCK * d
    for dtype, shift, scale in (("float64", 11, 2.0**-53), ("float32", 40, 2.0**-24)):
        half = (n + 1) // 2
        raw = np.empty(2 * half, dtype=np.uint64)
        u = np.empty(2 * half, dtype=dtype)
        buf = np.empty(2 * half, dtype=dtype)

        def fill(bitgens=bitgens, raw=raw, u=u, buf=buf, shift=shift, scale=scale, half=half):
            for bg in bitgens:
                raw[:] = bg.random_raw(raw.size)
                np.right_shift(raw, shift, out=raw)
                np.multiply(raw, scale, out=u, casting="unsafe")
                u1, u2 = u[:half], u[half:]
                np.subtract(1.0, u1, out=u1)  # (0, 1]
                np.log(u1, out=u1)
                np.multiply(u1, -2.0, out=u1)
                np.sqrt(u1, out=u1)
                np.multiply(u2, 2 * np.pi, out=u2)
                np.cos(u2, out=buf[:half])
                np.sin(u2, out=buf[half:])
                buf[:half] *= u1
                buf[half:] *= u1

        out[f"philox + box-muller numpy {dtype}"] = fill
    return out


def torch_candidates(d: int, blocks: int) -> dict:
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(1)
    out = {}
    gens = [torch.Generator().manual_seed(b) for b in range(blocks)]
    for dtype in ("float64", "float32"):
        buf = np.empty((BLOCK, d), dtype=dtype)
        t = torch.from_numpy(buf)
        out[f"torch randn {dtype} (1 thread)"] = (lambda g=gens, t=t: [torch.randn(t.shape, generator=x, out=t, dtype=t.dtype) for x in g])
        out[f"torch rand {dtype} (1 thread)"] = (lambda g=gens, t=t: [torch.rand(t.shape, generator=x, out=t, dtype=t.dtype) for x in g])
    return out


def numba_candidates(d: int, blocks: int) -> dict:
    try:
        import numba
    except ImportError:
        return {}

    @numba.njit(cache=False, fastmath=False)
    def splitmix_box_muller(key, counter, out):
        # counter-based: word i of the block is splitmix64(key ^ (counter + i)), two words -> two normals
        n = out.size
        flat = out.reshape(-1)
        for i in range(0, n - 1, 2):
            z = (key + np.uint64(counter + i) * np.uint64(0x9E3779B97F4A7C15))
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z ^= z >> np.uint64(31)
            w = (key + np.uint64(counter + i + 1) * np.uint64(0x9E3779B97F4A7C15))
            w = (w ^ (w >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            w = (w ^ (w >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            w ^= w >> np.uint64(31)
            u1 = 1.0 - (z >> np.uint64(11)) * 2.0**-53
            u2 = (w >> np.uint64(11)) * 2.0**-53
            r = np.sqrt(-2.0 * np.log(u1))
            flat[i] = r * np.cos(2 * np.pi * u2)
            flat[i + 1] = r * np.sin(2 * np.pi * u2)

    out = {}
    for dtype in ("float64", "float32"):
        buf = np.empty((BLOCK, d), dtype=dtype)
        splitmix_box_muller(np.uint64(1), 0, buf)  # compile outside the timing
        out[f"numba splitmix + box-muller {dtype}"] = (
            lambda b=buf: [splitmix_box_muller(np.uint64(k), 0, b) for k in range(blocks)])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--blocks", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    for d in a.dims:
        fns = {**numpy_candidates(d, a.blocks), **rademacher_candidates(d, a.blocks), **box_muller_numpy(d, a.blocks), **torch_candidates(d, a.blocks),
               **numba_candidates(d, a.blocks)}
        rates = best_rate(fns, BLOCK * d * a.blocks, a.repeats)
        base = rates["numpy PCG64 normal float64"]
        print(f"\nblock shape ({BLOCK}, {d}), {a.blocks} blocks per round, best of {a.repeats}")
        print(f"{'candidate':<40} {'draws/s':>10} {'vs PCG64 normal f64':>20}")
        for name, rate in sorted(rates.items(), key=lambda kv: -kv[1]):
            print(f"{name:<40} {rate:>10.3e} {rate / base:>20.2f}")


if __name__ == "__main__":
    main()
