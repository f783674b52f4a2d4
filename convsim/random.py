"""Seeded random streams, one per fixed-size block of replicas.

Replica ``r`` belongs to block ``r // BLOCK``; every block owns an independent
generator seeded from ``SeedSequence(seed, spawn_key=(block,))``.  A chunk of
replicas is always a whole number of blocks, so the same run split into chunks of
any size (or later across machines) draws exactly the same numbers for every
replica on a given backend.

Generators per backend:

* NumPy (and ``array_api_strict``, which draws on the host): the stream family ``STREAMS``, chosen
  by the environment variable ``CONVSIM_STREAMS``:

  - ``sfc64`` (the default): ``numpy.random.SFC64``, the fastest of NumPy's bit
    generators for every draw convsim makes (``benchmarks/sampler.py``: normals 1.2–1.5× and
    uniforms 1.2–1.4× PCG64's rate, single-threaded, at blocks of 64 × 10 to 64 × 1000), with
    signs read off the raw 64-bit words, 64 a word (~10× the uniform route);
  - ``pcg64``: ``numpy.random.PCG64`` with Rademacher signs from uniforms, the default until the
    switch recorded in the changelog (runs stored before it were computed with these streams).

  The two families draw other numbers from the same laws, so a seeded run differs between
  them; every claim is measured to come out as expected on both at quick settings.

  The family is part of every run's cache key and recorded in its metadata.
* PyTorch on CUDA (``torch-cuda``), or on the CPU with ``generator="torch"``: one
  ``torch.Generator`` per block on the tensors' device, seeded from the same ``SeedSequence``;
  Gamma and Beta draws, which torch cannot draw from a given generator, come from a host SFC64
  stream of the block (a child of its seed) and are copied over.
* PyTorch on the CPU (``torch``) by default draws the NumPy streams straight into the tensors'
  memory: the same random numbers as a NumPy run, so every backend-invariance property holds,
  and SFC64's float64 normals are twice torch's CPU rate (torch's float32 normals are faster
  at wide blocks: ``benchmarks/sampler.py``).
* CuPy: one ``cupy.random`` generator per block.

Streams are reproducible per generator family: NumPy, ``array_api_strict`` and CPU PyTorch runs
draw the same numbers; CuPy and CUDA PyTorch runs draw their own.

Draws are written into buffers that are allocated once per shape and reused at
every step, so the hot loop does not allocate on NumPy and PyTorch.  A returned array is only
valid until the next draw of the same kind and shape.
"""

from __future__ import annotations

import os

import numpy as np

from .backend import asarray, backend_name, device_of_namespace, dtype_of

BLOCK = 64
"""Replicas per random stream; chunk sizes are multiples of it."""

STREAM_FAMILIES = {"pcg64": np.random.PCG64, "sfc64": np.random.SFC64}
STREAMS = os.environ.get("CONVSIM_STREAMS", "sfc64").strip().lower() or "sfc64"
"""The default stream family (``CONVSIM_STREAMS``; see the module docstring), checked on first use."""


def stream_family(family: str | None = None) -> str:
    """``family`` (default: ``STREAMS``) once checked to be one of ``STREAM_FAMILIES``."""
    family = STREAMS if family is None else family
    if family not in STREAM_FAMILIES:
        from .errors import ConvsimError

        raise ConvsimError(f"random streams must be one of {', '.join(STREAM_FAMILIES)} "
                           f"(CONVSIM_STREAMS), got {family!r}")
    return family


GENERATORS = {"numpy": ("numpy",), "array_api_strict": ("numpy",), "torch": ("numpy", "torch"),
              "torch-cuda": ("torch",), "cupy": ("cupy",)}
"""The generator families each backend can draw from: ``"numpy"`` draws on the host (into the
tensor's own memory for CPU PyTorch, so no copy), the others on the device."""

DEFAULT_GENERATOR = {"torch-cuda": "torch", "cupy": "cupy"}
"""The family a backend draws from unless told: CPU PyTorch draws the NumPy streams, so its runs
see the same random numbers as NumPy runs (and SFC64's float64 normals are 2× torch's CPU rate)."""


def block_seed(seed: int, block: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(seed), spawn_key=(int(block),))


def block_generator(seed: int, block: int, family: str | None = None) -> np.random.Generator:
    """The NumPy generator of one block's stream in a stream family (default: ``STREAMS``)."""
    return np.random.Generator(STREAM_FAMILIES[stream_family(family)](block_seed(seed, block)))


def _seed_int(seed: int, block: int) -> int:
    """A 64-bit integer seed of one block, for generators that take an integer (CuPy, PyTorch)."""
    return int(block_seed(seed, block).generate_state(1, np.uint64)[0])


class ReplicaStreams:
    """Random numbers for replicas ``[start, start + count)`` of a seeded run."""

    def __init__(self, xp, seed: int, start: int, count: int, dtype: str = "float64", generator: str | None = None,
                 family: str | None = None):
        if start % BLOCK:
            raise ValueError(f"chunk start {start} is not a multiple of the block size {BLOCK}")
        self.xp = xp
        self.dtype = dtype_of(xp, dtype)
        self.dtype_name = dtype
        self.count = count
        self._backend = backend_name(xp)
        if generator is None:
            generator = DEFAULT_GENERATOR.get(self._backend, "numpy")
        if generator not in GENERATORS.get(self._backend, ("numpy",)):
            raise ValueError(f"backend {self._backend!r} cannot draw from {generator!r} generators")
        self.generator = generator
        self.family = stream_family(family)
        first, last = start // BLOCK, (start + count - 1) // BLOCK
        self._blocks = range(first, last + 1)
        self._seed = int(seed)
        self._slices = [
            slice((b - first) * BLOCK, min((b - first + 1) * BLOCK, count)) for b in self._blocks
        ]
        self._host_gens = None  # torch: host streams for the draws torch has no generator argument for
        if generator == "cupy":
            import cupy

            self._gens = [cupy.random.default_rng(_seed_int(seed, b)) for b in self._blocks]
        elif generator == "torch":
            import torch

            self._device = device_of_namespace(xp)
            self._gens = [torch.Generator(device=self._device).manual_seed(_seed_int(seed, b)) for b in self._blocks]
        else:
            self._gens = [block_generator(seed, b, self.family) for b in self._blocks]
        self._np_dtype = np.dtype(dtype)
        self._buffers: dict = {}
        self.scratch: dict = {}  # per-run sampling state (e.g. epoch permutations), owned by problems

    # -- buffered continuous draws --------------------------------------------------
    def _buffer(self, key, shape):
        buf = self._buffers.get(key)
        if buf is None:
            if self.generator == "cupy":
                buf = self.xp.empty(shape, dtype=self.dtype)
            elif self.generator == "torch":
                buf = self.xp.empty(shape, dtype=self.dtype, device=self._device)
            else:
                buf = np.empty(shape, dtype=self._np_dtype)
            # what callers get: the buffer itself, or a view of its memory as the backend's array
            if self.generator == "numpy" and self._backend == "torch":
                import torch

                view = torch.from_numpy(buf)
            elif self.generator == "numpy" and self._backend == "array_api_strict":
                view = None  # wrapped at every draw (array_api_strict copies)
            else:
                view = buf
            buf = self._buffers[key] = (buf, view)
        return buf

    def _fill(self, kind: str, shape: tuple, draw):
        """Fill a (count, *shape) buffer block by block with ``draw(gen, out)``."""
        full = (self.count, *shape)
        buf, view = self._buffer((kind, full), full)
        for gen, sl in zip(self._gens, self._slices):
            draw(gen, buf[sl])
        return self.xp.asarray(buf) if view is None else view

    def _host(self):
        """Host SFC64 streams of the blocks (children of the block seeds), for draws torch lacks."""
        if self._host_gens is None:
            self._host_gens = [np.random.Generator(STREAM_FAMILIES[self.family](block_seed(self._seed, b).spawn(1)[0]))
                               for b in self._blocks]
        return self._host_gens

    def normal(self, *shape: int):
        """Standard normal draws of shape ``(count, *shape)``."""
        dt = self._np_dtype
        if self.generator == "cupy":
            return self._fill("normal", shape, lambda g, out: out.__setitem__(..., g.standard_normal(out.shape, dtype=dt)))
        if self.generator == "torch":
            return self._fill("normal", shape, lambda g, out: out.normal_(generator=g))
        return self._fill("normal", shape, lambda g, out: g.standard_normal(out=out, dtype=dt))

    def uniform(self, *shape: int):
        """Uniform [0, 1) draws of shape ``(count, *shape)``."""
        dt = self._np_dtype
        if self.generator == "cupy":
            return self._fill("uniform", shape, lambda g, out: out.__setitem__(..., g.random(out.shape, dtype=dt)))
        if self.generator == "torch":
            return self._fill("uniform", shape, lambda g, out: out.uniform_(generator=g))
        return self._fill("uniform", shape, lambda g, out: g.random(out=out, dtype=dt))

    def gamma(self, shape_param: float, *shape: int):
        """Gamma(shape_param, 1) draws of shape ``(count, *shape)``."""
        dt = self._np_dtype
        k = float(shape_param)
        if self.generator == "cupy":
            return self._fill(f"gamma{k}", shape, lambda g, out: out.__setitem__(..., g.standard_gamma(k, out.shape, dtype=dt)))
        if self.generator == "torch":
            host = np.empty((self.count, *shape), dtype=dt)
            for gen, sl in zip(self._host(), self._slices):
                gen.standard_gamma(k, out=host[sl], dtype=dt)
            return asarray(self.xp, host, self.dtype)
        return self._fill(f"gamma{k}", shape, lambda g, out: g.standard_gamma(k, out=out, dtype=dt))

    def gamma_of(self, shape_params):
        """Gamma(k, 1) draws with a per-element shape k, an array of shape ``(count, ...)`` (a fresh array)."""
        if self.generator == "cupy":
            parts = [g.standard_gamma(shape_params[sl]) for g, sl in zip(self._gens, self._slices)]
            return self.xp.astype(self.xp.concat(parts, axis=0), self.dtype)
        from .backend import to_numpy

        k = np.asarray(to_numpy(shape_params), dtype=self._np_dtype)
        out = np.empty_like(k)
        for gen, sl in zip(self._host() if self.generator == "torch" else self._gens, self._slices):
            out[sl] = gen.standard_gamma(k[sl])
        return asarray(self.xp, out, self.dtype)

    def beta_of(self, a, b):
        """Beta(a, b) draws with per-element parameters, arrays of shape ``(count, ...)`` (a fresh array)."""
        if self.generator == "cupy":  # via two Gamma draws
            x, y = self.gamma_of(a), self.gamma_of(b)
            return x / (x + y)
        from .backend import to_numpy

        a, b = np.asarray(to_numpy(a), dtype=self._np_dtype), np.asarray(to_numpy(b), dtype=self._np_dtype)
        out = np.empty_like(a)
        for gen, sl in zip(self._host() if self.generator == "torch" else self._gens, self._slices):
            out[sl] = gen.beta(a[sl], b[sl])
        return asarray(self.xp, out, self.dtype)

    def rademacher(self, *shape: int):
        """Independent ±1 signs of shape ``(count, *shape)`` (a fresh array)."""
        if self.generator == "torch":
            out = self.xp.empty((self.count, *shape), dtype=self.dtype, device=self._device)
            for gen, sl in zip(self._gens, self._slices):
                out[sl].random_(0, 2, generator=gen)
            return out.mul_(-2.0).add_(1.0)
        if self.generator == "cupy" or self.family == "pcg64":  # the 0.1.0 recipe, kept with its streams
            u = self.uniform(*shape)
            return 1.0 - 2.0 * self.xp.astype(u < 0.5, u.dtype)
        out = np.empty((self.count, *shape), dtype=self._np_dtype)
        for gen, sl in zip(self._gens, self._slices):
            block = out[sl].reshape(-1)
            words = gen.bit_generator.random_raw(-(-block.size // 64))  # 64 signs per word, low bit first
            bits = np.unpackbits(words.astype("<u8", copy=False).view(np.uint8), count=block.size, bitorder="little")
            np.multiply(bits, -2.0, out=block, casting="unsafe")  # 1 − 2·bit, ~10× the uniform route
            block += 1.0
        return self.xp.asarray(out)

    def integers(self, high: int, *shape: int):
        """Uniform integers in ``[0, high)`` of shape ``(count, *shape)`` (int64)."""
        full = (self.count, *shape)
        if self.generator == "cupy":
            parts = [g.integers(0, high, size=(sl.stop - sl.start, *shape)) for g, sl in zip(self._gens, self._slices)]
            return self.xp.concat(parts, axis=0) if len(parts) > 1 else parts[0]
        if self.generator == "torch":
            out = self.xp.empty(full, dtype=self.xp.int64, device=self._device)
            for gen, sl in zip(self._gens, self._slices):
                out[sl].random_(0, int(high), generator=gen)
            return out
        out = np.empty(full, dtype=np.int64)
        for gen, sl in zip(self._gens, self._slices):
            out[sl] = gen.integers(0, high, size=(sl.stop - sl.start, *shape))
        return self.xp.asarray(out)


def run_streams(meta: dict, replicas: int) -> ReplicaStreams:
    """The replica streams a recorded run drew from, from their start, for restating the run on its own numbers.

    Seed, backend, dtype, generator and stream family are read from the run's metadata (``meta["seed"]``,
    ``"backend"``, ``"dtype"``, ``"generator"`` and ``meta["versions"]["streams"]``; a missing generator or
    family means the defaults, as for the run).  Valid because every block of 64 replicas owns its stream: one
    ReplicaStreams over all ``replicas`` gives each block the same sequence as any chunking of the run did, so
    the k-th draw here is the run's k-th draw for every replica, provided the restatement repeats the run's draws
    in the same order, kinds and shapes.  Not valid otherwise (a method that draws twice per step, a problem or
    sampler that also draws, a draw of another shape or kind in between): the numbers are then the run's, but
    matched with the wrong steps; nor for metadata edited by hand, since the streams are only as right as it is.
    """
    from .backend import namespace

    return ReplicaStreams(namespace(meta["backend"]), int(meta["seed"]), 0, int(replicas), meta["dtype"],
                          generator=meta.get("generator"), family=meta.get("versions", {}).get("streams"))


def host_stream_family(meta: dict, what: str = "a host restatement") -> str:
    """The NumPy stream family a recorded run drew from, for restating it on the host with the same numbers; a
    one-line error for a run that drew a device's own generators (CuPy, torch-cuda, ``generator="torch"``),
    whose numbers the host streams do not repeat (the restatement would report a spurious difference)."""
    backend = meta["backend"]
    generator = meta.get("generator") or DEFAULT_GENERATOR.get(backend, "numpy")
    if generator != "numpy":
        from .errors import ConvsimError

        raise ConvsimError(f"{what} replays the run's host random streams; a {backend} run with {generator} "
                           "generators draws its own (use numpy, array_api_strict or torch with numpy generators)")
    return stream_family(meta.get("versions", {}).get("streams"))
