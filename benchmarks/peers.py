"""convsim against its peers, side by side in one run: what a user who switches tools would get.

SGD and Adam on a diagonal quadratic with isotropic Gaussian gradient noise (one standard normal
per coordinate and step), measured as replica·dimension updates per second at R·d = 1e4, 1e6 and
1e7 in float64 and float32:

- convsim on each available backend (numpy on 1 thread and on all usable cores; torch, cupy and
  torch-cuda where they work; array_api_strict is a test backend and is left out),
- the same update hand-fused in NumPy (preallocated buffers, in-place ufuncs) on 1 thread and on
  all cores (rows split between threads, one generator each),
- eager PyTorch (``torch.optim.SGD`` / ``torch.optim.Adam`` with the gradient set by hand), and
  JAX ``jit`` + ``lax.scan``, where installed (optional imports),
- each library's normal sampler alone (the floor of both methods) and the copy bandwidth
  (elements copied per second by ``np.copyto``).

Ratios are printed against the single-thread NumPy sampler (``/np-sampler``) and against the
fastest hand-fused NumPy SGD loop (``/fused sgd``).  Each entry is the best of ``--repeats``
interleaved rounds after a warm-up round; the machine's load (``os.getloadavg``) is printed, since shared machines are noisy.

    python benchmarks/peers.py [--sizes 1e4 1e6 1e7] [--dtypes float64 float32] [--repeats 3]
                               [--work 2e7]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import convsim as cs
from convsim.engine import default_threads
from throughput import best_times  # benchmarks/ is the script's directory

SIGMA, LR, ADAM_LR, B1, B2, EPS = 0.1, 0.1, 1e-3, 0.9, 0.999, 1e-8


def shape_for(size: int) -> tuple[int, int]:
    d = 100 if size <= 10**4 else 1000
    return max(1, size // d), d


# -- hand-fused NumPy ---------------------------------------------------------------
def fused_sgd(h, x, steps, gen):
    z, g = np.empty_like(x), np.empty_like(x)
    for _ in range(steps):
        gen.standard_normal(out=z, dtype=x.dtype)
        np.multiply(h, x, out=g)
        z *= SIGMA
        g += z
        g *= LR
        x -= g


def fused_adam(h, x, steps, gen):
    z, g, m, v, tmp = (np.zeros_like(x) for _ in range(5))
    for t in range(steps):
        gen.standard_normal(out=z, dtype=x.dtype)
        np.multiply(h, x, out=g)
        z *= SIGMA
        g += z
        m *= B1
        m += (1 - B1) * g  # one temporary, as a user would write it
        v *= B2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - B2
        v += tmp
        bc1, bc2 = 1 - B1 ** (t + 1), 1 - B2 ** (t + 1)
        np.sqrt(v, out=tmp)
        tmp *= 1 / bc2**0.5
        tmp += EPS
        np.divide(m, tmp, out=tmp)
        tmp *= ADAM_LR / bc1
        x -= tmp


def threaded(kernel, h, R, d, dtype, steps, threads):
    """``kernel`` on ``threads`` row slices at once, one generator per slice (as convsim's chunks)."""
    bounds = np.linspace(0, R, threads + 1).astype(int)
    xs = [np.ones((hi - lo, d), dtype=dtype) for lo, hi in zip(bounds[:-1], bounds[1:])]
    gens = [np.random.default_rng(i) for i in range(threads)]
    if threads == 1:
        return lambda: kernel(h, xs[0], steps, gens[0])
    pool = ThreadPoolExecutor(threads)
    return lambda: list(pool.map(lambda i: kernel(h, xs[i], steps, gens[i]), range(threads)))


# -- peers ------------------------------------------------------------------------------
def torch_peers(R, d, dtype, steps, h_host):
    try:
        import torch
    except ImportError:
        return {}
    dt = getattr(torch, dtype)
    h = torch.as_tensor(h_host, dtype=dt)
    gen = torch.Generator().manual_seed(0)
    buf = torch.empty((R, d), dtype=dt)

    def run(opt_cls, **kw):
        def go():
            x = torch.ones((R, d), dtype=dt)
            opt = opt_cls([x], **kw)
            z = torch.empty_like(x)
            with torch.no_grad():
                for _ in range(steps):
                    torch.randn(z.shape, generator=gen, dtype=dt, out=z)
                    x.grad = torch.addcmul(z.mul_(SIGMA), h, x)
                    opt.step()
        return go

    return {"torch eager sgd": run(torch.optim.SGD, lr=LR), "torch eager adam": run(torch.optim.Adam, lr=ADAM_LR),
            "torch sampler": lambda: [torch.randn((R, d), generator=gen, dtype=dt, out=buf) for _ in range(steps)]}


def jax_peers(R, d, dtype, steps, h_host):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    dt = getattr(jnp, dtype)
    h = jnp.asarray(h_host, dtype=dt)

    @jax.jit
    def sgd(x, key):
        def body(x, k):
            return x - LR * (h * x + SIGMA * jax.random.normal(k, x.shape, dt)), None
        return jax.lax.scan(body, x, jax.random.split(key, steps))[0]

    @jax.jit
    def sampler(key):
        return jax.lax.scan(lambda c, k: (c + jax.random.normal(k, (R, d), dt)[0, 0], None), jnp.zeros((), dt),
                            jax.random.split(key, steps))[0]

    x0, key = jnp.ones((R, d), dt), jax.random.PRNGKey(0)
    sgd(x0, key).block_until_ready()
    sampler(key).block_until_ready()
    return {"jax jit+scan sgd": lambda: sgd(x0, key).block_until_ready(),
            "jax sampler": lambda: sampler(key).block_until_ready()}


def convsim_runs(R, d, dtype, steps, cores):
    problem = cs.problems.Quadratic(cs.spectra.geometric(d, 1.0, 1e-3), noise=cs.noise.Gaussian(SIGMA))
    runs = {}
    for backend in ("numpy", "torch", "cupy", "torch-cuda"):
        try:
            cs.backend.namespace(backend)
        except cs.ConvsimError:
            continue
        for threads in ((1, cores) if backend == "numpy" and cores > 1 else (None,)):
            # CPU torch draws the NumPy streams by default; its own generators are the faster float32 route
            for generator in ((None, "torch") if backend == "torch" else (None,)):
                tag = (f"convsim {backend}" + (f" {threads}t" if threads else "")
                       + (f" {generator}-gen" if generator else ""))
                for name, method in (("sgd", cs.methods.SGD(LR)), ("adam", cs.methods.Adam(ADAM_LR))):
                    runs[f"{tag} {name}"] = (lambda m=method, b=backend, th=threads, g=generator: cs.simulate(
                        problem, m, steps, R, record=[steps], metrics=["dist_sq"], backend=b, dtype=dtype,
                        threads=th, generator=g))
    return runs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e6, 1e7])
    ap.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", type=float, default=2e7, help="replica·dimension updates per measurement")
    a = ap.parse_args(argv)
    cores = default_threads("numpy")
    print(f"usable cores {cores}; load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for size in (int(s) for s in a.sizes):
        R, d = shape_for(size)
        steps = max(3, int(a.work / (R * d)))
        for dtype in a.dtypes:
            h = np.geomspace(1.0, 1e-3, d).astype(dtype)
            gen, buf, copy_src = np.random.default_rng(0), np.empty((R, d), dtype), np.ones((R, d), dtype)
            fns = {
                "numpy sampler 1t": lambda: [gen.standard_normal(out=buf, dtype=dtype) for _ in range(steps)],
                "copy bandwidth": lambda: [np.copyto(buf, copy_src) for _ in range(steps)],
                "fused numpy sgd 1t": threaded(fused_sgd, h, R, d, dtype, steps, 1),
                "fused numpy adam 1t": threaded(fused_adam, h, R, d, dtype, steps, 1),
            }
            if cores > 1:
                fns[f"fused numpy sgd {cores}t"] = threaded(fused_sgd, h, R, d, dtype, steps, cores)
                fns[f"fused numpy adam {cores}t"] = threaded(fused_adam, h, R, d, dtype, steps, cores)
            fns.update(convsim_runs(R, d, dtype, steps, cores))
            fns.update(torch_peers(R, d, dtype, steps, h))
            fns.update(jax_peers(R, d, dtype, steps, h))
            rates = {name: R * d * steps / sec for name, sec in best_times(fns, a.repeats, warmup=True).items()}
            floor = rates["numpy sampler 1t"]
            fused = max(v for k, v in rates.items() if k.startswith("fused numpy sgd"))
            print(f"\nR*d={R * d:.0e} (R={R}, d={d}) {dtype}, {steps} steps; per second = replica·dim updates "
                  f"(samples, elements copied)")
            print(f"{'what':<28} {'per second':>11} {'/np-sampler':>12} {'/fused sgd':>11}")
            for name, rate in rates.items():
                print(f"{name:<28} {rate:>11.3e} {rate / floor:>12.2f} {rate / fused:>11.2f}")


if __name__ == "__main__":
    main()
