"""Stateless and split-state alternatives to Adam: SWAN, FRUGAL (block splitting) and SGD-SaI.

Parameters are a flat vector per replica, read as equal contiguous blocks (a model's parameter tensors):
SWAN reads ``d = k·m·n`` as k stacked m × n matrices (row-major), FRUGAL and SGD-SaI as ``d / block_size``
blocks of ``block_size`` coordinates.

* :class:`SWAN` (Ma, Gong, Scetbon & Meeds 2024, "SWAN: SGD with Normalization and Whitening Enables
  Stateless LLM Training", arXiv 2412.13148, Alg. 1-3): the instantaneous gradient G of each matrix is
  row-standardized (GradNorm: each row minus its mean over the n columns, divided by its population standard
  deviation), then whitened (GradWhitening: (G̃G̃ᵀ)^{-1/2} G̃, here computed exactly from the eigendecomposition
  of the m × m Gram matrix; the paper approximates it by Newton–Schulz iterations), optionally rescaled to
  the Frobenius norm of G̃, and W ← W − η ΔW.  No state but the iterate.
* :class:`FRUGAL` (Zmushko, Beznosikov, Takáč & Horváth 2024, "FRUGAL: Memory-Efficient Optimization by
  Reducing State Overhead for Scalable Training", arXiv 2411.07837, Alg. 1, block variant of the authors'
  ``BlockOptimizer``): a fraction ``density`` of the blocks is state-full (Adam, its moments and bias
  correction reset whenever the active set changes, every ``update_gap`` steps); the other blocks take the
  state-free step −η·s·sign(g) (or −η·s·g, or nothing), s = ``inactive_lr_scale``.  The active set moves
  cyclically (the authors' ``ascending`` order; their default ``random`` order is not built).
* :class:`SGDSaI` (Xu, Xiang, Cai & Wen 2024, "No More Adam: Learning Rate Scaling at Initialization is All
  You Need", arXiv 2412.11768; the authors' ``sgd_sai.py``): at the first step each block gets the g-SNR
  ‖g_b‖₂ / (std(g_b) + ε) (std unbiased, over the block's entries), divided by the largest over the blocks;
  then SGD with EMA momentum (buffer = g at the first step, then μ·buf + (1−μ)·g) and decoupled weight decay:
  x ← x(1 − ηλ) − η·gsnr_b/max_b gsnr·buf.  ``scaling="every_step"`` recomputes the g-SNR at every step,
  ``"off"`` sets every scale to 1 (mutations of the mechanism).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..errors import in_range, positive, require
from ..schedules import Schedule
from .base import Method
from .gradient import Iterate


def _blocks(x, block_size: int):
    require(x.shape[-1] % block_size == 0,
            f"block_size {block_size} must divide the dimension {x.shape[-1]}")
    return x.shape[-1] // block_size


def grad_norm_rows(G, eps: float = 1e-8):
    """SWAN's GradNorm: each row of G (…, m, n) minus its mean over the n columns, over its population std."""
    xp = array_namespace(G)
    centered = G - xp.mean(G, axis=-1, keepdims=True)
    std = xp.sqrt(xp.mean(centered * centered, axis=-1, keepdims=True))
    return centered / (std + eps)


def whiten(G, eps: float = 1e-12):
    """SWAN's GradWhitening (G Gᵀ)^{-1/2} G of wide matrices G (…, m, n), m ≤ n, from the eigendecomposition of
    the Gram matrix; eigenvalues below eps·(largest) count as zero (rank-deficient G)."""
    xp = array_namespace(G)
    lam, V = xp.linalg.eigh(G @ xp.matrix_transpose(G))
    floor = eps * xp.max(lam, axis=-1, keepdims=True)
    inv_sqrt = xp.where(lam > floor, 1.0 / xp.sqrt(xp.where(lam > floor, lam, 1.0)), 0.0)
    Z = (V * inv_sqrt[..., None, :]) @ xp.matrix_transpose(V)
    return Z @ G


@dataclass(frozen=True)
class SWAN(Method):
    """SWAN: W ← W − η · c · GradWhitening(GradNorm(G)) per m × n matrix, c = ‖G̃‖_F/‖ΔW‖_F if ``rescale``."""

    step_size: Schedule | float
    shape: tuple = (1, 1)
    normalize: bool = True
    whitening: bool = True
    rescale: bool = True
    eps: float = 1e-8

    name = "swan"
    description = "SWAN: stateless SGD on row-standardized (GradNorm) and whitened (GradWhitening) matrix gradients"
    source = "Ma, Gong, Scetbon & Meeds (2024), arXiv 2412.13148, Alg. 1-3"

    def __post_init__(self):
        self._schedule_step_size()
        require(len(self.shape) == 2 and all(isinstance(k, int) and k > 0 for k in self.shape),
                f"shape must be two positive integers (rows, cols), got {self.shape!r}")
        require(self.shape[0] <= self.shape[1], f"SWAN whitens wide matrices (rows <= cols), got {self.shape}")
        positive("eps", self.eps)

    def init(self, x0):
        m, n = self.shape
        require(x0.shape[-1] % (m * n) == 0, f"SWAN shape {self.shape} must tile the dimension {x0.shape[-1]}")
        return Iterate(x0)

    def update(self, g):
        """The preprocessed direction ΔW for gradients g (R, d)."""
        xp = array_namespace(g)
        m, n = self.shape
        G = xp.reshape(g, (g.shape[0], -1, m, n))
        if self.normalize:
            G = grad_norm_rows(G, self.eps)
        out = whiten(G) if self.whitening else G
        if self.rescale and self.whitening:
            norm = lambda A: xp.sqrt(xp.sum(A * A, axis=(-2, -1), keepdims=True))
            out = out * (norm(G) / (norm(out) + self.eps))
        return xp.reshape(out, g.shape)

    def step(self, state, oracle, t):
        g = oracle.stochastic_grad(state.x)
        return Iterate(state.x - self.step_size(t) * self.update(g))


class FrugalState(NamedTuple):
    x: Any
    m: Any
    v: Any


@dataclass(frozen=True)
class FRUGAL(Method):
    """FRUGAL(Adam, signSGD) with block splitting: Adam on ``round(density·blocks)`` cyclically chosen blocks
    (moments reset every ``update_gap`` steps), the state-free rule on the rest."""

    step_size: Schedule | float
    block_size: int = 1
    density: float = 0.25
    update_gap: int = 200
    state_free: str = "sign"  # "sign" | "sgd" | "none"
    inactive_lr_scale: float = 1.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    name = "frugal"
    description = "FRUGAL: Adam on a cyclic subset of blocks, state-free signSGD on the others"
    source = "Zmushko, Beznosikov, Takac & Horvath (2024), arXiv 2411.07837, Alg. 1 (authors' BlockOptimizer)"

    def __post_init__(self):
        self._schedule_step_size()
        positive("block_size", self.block_size, integer=True)
        positive("update_gap", self.update_gap, integer=True)
        in_range("density", self.density, 0.0, 1.0, closed_high=True)
        in_range("beta1", self.beta1, 0.0, 1.0)
        in_range("beta2", self.beta2, 0.0, 1.0)
        require(self.state_free in ("sign", "sgd", "none"),
                f"state_free must be 'sign', 'sgd' or 'none', got {self.state_free!r}")
        require(self.inactive_lr_scale >= 0, f"inactive_lr_scale must be >= 0, got {self.inactive_lr_scale!r}")

    def init(self, x0):
        _blocks(x0, self.block_size)
        return FrugalState(x0, 0.0 * x0, 0.0 * x0)

    def active_mask(self, xp, d: int, t: int, like):
        """1 on the coordinates of the blocks that are state-full at step t, 0 elsewhere (cyclic order)."""
        blocks = d // self.block_size
        active = round(blocks * self.density)
        start = ((t // self.update_gap) * active) % blocks
        block_of = xp.astype(xp.arange(d), like.dtype) // self.block_size
        return xp.astype(((block_of - start) % blocks) < active, like.dtype)

    def step(self, state, oracle, t):
        x, m, v = state
        xp = array_namespace(x)
        g = oracle.stochastic_grad(x)
        lr = self.step_size(t)
        mask = self.active_mask(xp, x.shape[-1], t, x)
        if t % self.update_gap == 0:  # a new active set: the state-full moments restart from zero
            m, v = 0.0 * m, 0.0 * v
        k = t % self.update_gap + 1  # steps since the moments restarted (Adam's bias correction)
        m = mask * (self.beta1 * m + (1.0 - self.beta1) * g)
        v = mask * (self.beta2 * v + (1.0 - self.beta2) * (g * g))
        bc1, bc2 = 1.0 - self.beta1 ** k, 1.0 - self.beta2 ** k
        adam = (lr / bc1) * m / (xp.sqrt(v) / bc2 ** 0.5 + self.eps)
        if self.state_free == "sign":
            free = xp.sign(g)
        elif self.state_free == "sgd":
            free = g
        else:
            free = 0.0 * g
        return FrugalState(x - adam - (lr * self.inactive_lr_scale) * (1.0 - mask) * free, m, v)


class SaIState(NamedTuple):
    x: Any
    buf: Any
    scale: Any  # per-coordinate g-SNR scale, fixed at the first step


def gsnr_scale(g, block_size: int, eps: float):
    """SGD-SaI's per-block g-SNR ‖g_b‖/(std(g_b) + ε) (std unbiased), over its largest block, per coordinate."""
    xp = array_namespace(g)
    R, d = g.shape
    B = xp.reshape(g, (R, d // block_size, block_size))
    mean = xp.mean(B, axis=-1, keepdims=True)
    std = xp.sqrt(xp.sum((B - mean) ** 2, axis=-1, keepdims=True) / max(block_size - 1, 1))
    snr = xp.sqrt(xp.sum(B * B, axis=-1, keepdims=True)) / (std + eps)
    snr = snr / xp.max(snr, axis=1, keepdims=True)
    return xp.reshape(snr * (0.0 * B + 1.0), (R, d))


@dataclass(frozen=True)
class SGDSaI(Method):
    """SGD-SaI: EMA-momentum SGD whose per-block step is scaled once, at the first step, by the g-SNR."""

    step_size: Schedule | float
    block_size: int = 1
    momentum: float = 0.9
    eps: float = 1e-8
    weight_decay: float = 0.0
    scaling: str = "init"  # "init" | "every_step" | "off"

    name = "sgd-sai"
    description = "SGD-SaI: momentum SGD with per-block learning rates scaled at initialization by the g-SNR"
    source = "Xu, Xiang, Cai & Wen (2024), arXiv 2412.11768; authors' sgd_sai.py"

    def __post_init__(self):
        self._schedule_step_size()
        positive("block_size", self.block_size, integer=True)
        in_range("momentum", self.momentum, 0.0, 1.0)
        require(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay!r}")
        require(self.scaling in ("init", "every_step", "off"),
                f"scaling must be 'init', 'every_step' or 'off', got {self.scaling!r}")

    def init(self, x0):
        _blocks(x0, self.block_size)
        return SaIState(x0, 0.0 * x0, 0.0 * x0 + 1.0)

    def step(self, state, oracle, t):
        x, buf, scale = state
        g = oracle.stochastic_grad(x)
        lr = self.step_size(t)
        if self.scaling == "every_step" or (self.scaling == "init" and t == 0):
            scale = gsnr_scale(g, self.block_size, self.eps)
        buf = g if t == 0 else self.momentum * buf + (1.0 - self.momentum) * g
        decay = 1.0 - self.weight_decay * lr
        return SaIState(x * decay - lr * scale * buf, buf, scale)
