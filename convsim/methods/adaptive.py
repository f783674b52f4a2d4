"""Adaptive methods.  Where torch.optim has the method, convsim follows its update exactly
(checked step by step in tests/test_methods.py); otherwise the paper's algorithm."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..backend import array_library, mutable_in_place
from ..errors import in_range, positive, require
from ..schedules import Schedule
from .base import Method
from .gradient import Iterate


class AdamState(NamedTuple):
    x: Any
    m: Any
    v: Any
    v_max: Any = None  # AMSGrad only
    scratch: Any = None  # a work array of x's shape (backends that update in place)


def _zeros(x0, in_place: bool, count: int):
    """``count`` zero arrays like ``x0``: separate arrays where the state is updated in place."""
    if in_place:
        return [0.0 * x0 for _ in range(count)]
    zero = 0.0 * x0
    return [zero] * count


def _ema_(acc, keep: float, new, weight: float, scratch, lib):
    """acc ← keep·acc + weight·new in place, rounded as the expression (``scratch`` may be ``new``)."""
    acc *= keep
    acc += lib.multiply(new, weight, out=scratch)
    return acc


class _Adaptive(Method):
    """Validation shared by the adaptive methods."""

    def _check(self, *betas: str):
        self._schedule_step_size()
        for name in betas:
            in_range(name, getattr(self, name), 0.0, 1.0)
        positive("eps", self.eps)
        in_range("weight_decay", self.weight_decay, 0.0, math.inf)

    def _grad(self, x, oracle):
        """Stochastic gradient with L2 weight decay folded in (torch's coupled form)."""
        g = oracle.stochastic_grad(x)
        return g + self.weight_decay * x if self.weight_decay else g


@dataclass(frozen=True)
class Adam(_Adaptive):
    """Adam (Kingma & Ba 2015) exactly as ``torch.optim.Adam``; ``amsgrad=True`` gives AMSGrad.

    m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²  (AMSGrad: v̂ ← max(v̂, v));
    x ← x − (γ_t / (1−β1^{t+1})) · m / (√v / √(1−β2^{t+1}) + ε).
    With ``decoupled=True`` weight decay is AdamW's x ← x(1 − γ_t λ) before the step.
    ``bias_correction=False`` drops the factors 1/(1−β1^{t+1}) and 1/√(1−β2^{t+1}) (x ← x − γ_t m/(√v + ε):
    the uncorrected, zero-initialized moments whose bias Kingma & Ba's Sec. 3 corrects); the default True is
    torch's update above.
    """

    step_size: Schedule | float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False
    decoupled: bool = False
    bias_correction: bool = True

    name = "adam"
    description = "Adam / AMSGrad with bias correction (torch.optim.Adam semantics)"
    source = "Kingma & Ba (2015), arXiv 1412.6980, Alg. 1; AMSGrad: Reddi et al. (2018), arXiv 1904.09237"

    def __post_init__(self):
        self._check("beta1", "beta2")

    def init(self, x0):
        in_place = mutable_in_place(x0)
        m, v, v_max, scratch = _zeros(x0, in_place, 4)
        return AdamState(x0, m, v, v_max if self.amsgrad else None, scratch if in_place else None)

    def step(self, state, oracle, t):
        x, m, v, v_max, scratch = state
        lr = self.step_size(t)
        g = oracle.stochastic_grad(x) if self.decoupled else self._grad(x, oracle)
        b1, b2 = self.beta1, self.beta2
        bc1, bc2 = (1.0 - b1 ** (t + 1), 1.0 - b2 ** (t + 1)) if self.bias_correction else (1.0, 1.0)
        inv_sqrt_bc2 = 1.0 / math.sqrt(bc2)
        decay = 1.0 - lr * self.weight_decay if self.decoupled and self.weight_decay else None
        if scratch is None:  # functional path (array_api_strict)
            if decay is not None:
                x = x * decay
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * (g * g)
            xp = array_namespace(x)
            if self.amsgrad:
                v_max = xp.maximum(v_max, v)
            denom = xp.sqrt(v_max if self.amsgrad else v) * inv_sqrt_bc2 + self.eps
            return AdamState(x - (lr / bc1) * m / denom, m, v, v_max, None)
        # In place, the same operations in the same order (so the same rounding): m, v, v_max and
        # scratch belong to this state alone; x and g are never written (wrappers and oracles share them).
        lib = array_library(x)
        _ema_(m, b1, g, 1.0 - b1, scratch, lib)
        lib.multiply(g, g, out=scratch)
        _ema_(v, b2, scratch, 1.0 - b2, scratch, lib)
        if self.amsgrad:
            lib.maximum(v_max, v, out=v_max)
        denom = lib.sqrt(v_max if self.amsgrad else v, out=scratch)
        denom *= inv_sqrt_bc2
        denom += self.eps
        x_new = lib.multiply(m, lr / bc1)
        x_new /= denom
        if decay is not None:
            x = lib.multiply(x, decay, out=scratch)
        return AdamState(lib.subtract(x, x_new, out=x_new), m, v, v_max, scratch)


@dataclass(frozen=True)
class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, ``torch.optim.AdamW`` defaults."""

    weight_decay: float = 1e-2
    decoupled: bool = True

    name = "adamw"
    description = "Adam with decoupled weight decay (torch.optim.AdamW semantics)"
    source = "Loshchilov & Hutter (2019), arXiv 1711.05101, Alg. 2"


class NAdamState(NamedTuple):
    x: Any
    m: Any
    v: Any
    scratch: Any = None


@dataclass(frozen=True)
class NAdam(_Adaptive):
    """NAdam (Dozat 2016) exactly as ``torch.optim.NAdam``.

    μ_t = β1 (1 − ½·0.96^{tψ}) for t = 1, 2, …; with Π_t = μ_1⋯μ_t and d = √(v/(1−β2^t)) + ε:
    x ← x − γ (1−μ_t)/(1−Π_t) · g/d − γ μ_{t+1}/(1−Π_t μ_{t+1}) · m/d.
    The products Π_t are host scalars, computed from t alone.
    """

    step_size: Schedule | float = 2e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum_decay: float = 4e-3

    name = "nadam"
    description = "Nesterov-accelerated Adam (torch.optim.NAdam semantics)"
    source = "Dozat (2016), Incorporating Nesterov Momentum into Adam"

    def __post_init__(self):
        self._check("beta1", "beta2")
        in_range("momentum_decay", self.momentum_decay, 0.0, math.inf)

    def mu(self, k: int) -> float:
        return self.beta1 * (1.0 - 0.5 * 0.96 ** (k * self.momentum_decay))

    def init(self, x0):
        in_place = mutable_in_place(x0)
        m, v, scratch = _zeros(x0, True, 3)
        return NAdamState(x0, m, v, scratch if in_place else None)

    def step(self, state, oracle, t):
        x, m, v, scratch = state
        g = self._grad(x, oracle)
        k = t + 1
        mu, mu_next = self.mu(k), self.mu(k + 1)
        prod = math.prod(self.mu(i) for i in range(1, k + 1))
        b1, b2 = self.beta1, self.beta2
        inv_bc2 = 1.0 / (1.0 - b2**k)
        lr = self.step_size(t)
        c_grad, c_momentum = lr * (1.0 - mu) / (1.0 - prod), lr * mu_next / (1.0 - prod * mu_next)
        if scratch is None:  # functional path (array_api_strict)
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * (g * g)
            denom = array_namespace(x).sqrt(v * inv_bc2) + self.eps
            x = x - c_grad * g / denom
            return NAdamState(x - c_momentum * m / denom, m, v, None)
        lib = array_library(x)
        _ema_(m, b1, g, 1.0 - b1, scratch, lib)
        lib.multiply(g, g, out=scratch)
        _ema_(v, b2, scratch, 1.0 - b2, scratch, lib)
        denom = lib.sqrt(lib.multiply(v, inv_bc2, out=scratch), out=scratch)
        denom += self.eps
        x_new = lib.multiply(g, c_grad)
        x_new /= denom
        x_new = lib.subtract(x, x_new, out=x_new)
        term = lib.multiply(m, c_momentum)
        term /= denom
        x_new -= term
        return NAdamState(x_new, m, v, scratch)


class RMSpropState(NamedTuple):
    x: Any
    v: Any
    g_avg: Any = None
    buf: Any = None
    scratch: Any = None


@dataclass(frozen=True)
class RMSprop(_Adaptive):
    """RMSprop (Tieleman & Hinton 2012) exactly as ``torch.optim.RMSprop`` (centered, momentum).

    v ← α v + (1−α) g²;  a = √(v − ḡ²) (centered) or √v;  a += ε;
    b ← μ b + g/a and x ← x − γ b (momentum), else x ← x − γ g/a.
    """

    step_size: Schedule | float = 1e-2
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0
    centered: bool = False

    name = "rmsprop"
    description = "RMSprop, optionally centered and with momentum (torch.optim.RMSprop semantics)"
    source = "Tieleman & Hinton (2012), Lecture 6.5; Graves (2013) for the centered form"

    def __post_init__(self):
        self._check("alpha", "momentum")

    def init(self, x0):
        in_place = mutable_in_place(x0)
        v, g_avg, buf, scratch = _zeros(x0, in_place, 4)
        return RMSpropState(x0, v, g_avg if self.centered else None, buf if self.momentum else None,
                            scratch if in_place else None)

    def step(self, state, oracle, t):
        x, v, g_avg, buf, scratch = state
        g = self._grad(x, oracle)
        a = self.alpha
        lr = self.step_size(t)
        if scratch is None:  # functional path (array_api_strict)
            v = a * v + (1.0 - a) * (g * g)
            xp = array_namespace(x)
            if self.centered:
                g_avg = a * g_avg + (1.0 - a) * g
                avg = xp.sqrt(v - g_avg * g_avg) + self.eps
            else:
                avg = xp.sqrt(v) + self.eps
            if self.momentum:
                buf = self.momentum * buf + g / avg
                return RMSpropState(x - lr * buf, v, g_avg, buf, None)
            return RMSpropState(x - lr * g / avg, v, g_avg, buf, None)
        lib = array_library(x)
        lib.multiply(g, g, out=scratch)
        _ema_(v, a, scratch, 1.0 - a, scratch, lib)
        if self.centered:
            _ema_(g_avg, a, g, 1.0 - a, scratch, lib)
            lib.multiply(g_avg, g_avg, out=scratch)
            avg = lib.sqrt(lib.subtract(v, scratch, out=scratch), out=scratch)
        else:
            avg = lib.sqrt(v, out=scratch)
        avg += self.eps
        if self.momentum:
            buf *= self.momentum
            buf += lib.divide(g, avg, out=avg)
            x_new = lib.multiply(buf, lr)
        else:
            x_new = lib.multiply(g, lr)
            x_new /= avg
        return RMSpropState(lib.subtract(x, x_new, out=x_new), v, g_avg, buf, scratch)


class AccumulatorState(NamedTuple):
    x: Any
    acc: Any
    scratch: Any = None


@dataclass(frozen=True)
class Adagrad(_Adaptive):
    """Diagonal AdaGrad (Duchi, Hazan & Singer 2011) exactly as ``torch.optim.Adagrad``.

    s ← s + g²;  x ← x − γ_t/(1 + t·lr_decay) · g/(√s + ε).
    """

    step_size: Schedule | float = 1e-2
    eps: float = 1e-10
    weight_decay: float = 0.0
    lr_decay: float = 0.0
    initial_accumulator_value: float = 0.0

    name = "adagrad"
    description = "diagonal AdaGrad (torch.optim.Adagrad semantics)"
    source = "Duchi, Hazan & Singer (2011), JMLR 12"

    def __post_init__(self):
        self._check()
        in_range("lr_decay", self.lr_decay, 0.0, math.inf)
        in_range("initial_accumulator_value", self.initial_accumulator_value, 0.0, math.inf)

    def init(self, x0):
        scratch = 0.0 * x0 if mutable_in_place(x0) else None
        return AccumulatorState(x0, 0.0 * x0 + self.initial_accumulator_value, scratch)

    def step(self, state, oracle, t):
        x, acc, scratch = state
        g = self._grad(x, oracle)
        clr = self.step_size(t) / (1.0 + t * self.lr_decay)
        if scratch is None:  # functional path (array_api_strict)
            acc = acc + g * g
            return AccumulatorState(x - clr * g / (array_namespace(x).sqrt(acc) + self.eps), acc, None)
        lib = array_library(x)
        acc += lib.multiply(g, g, out=scratch)
        denom = lib.sqrt(acc, out=scratch)
        denom += self.eps
        x_new = lib.multiply(g, clr)
        x_new /= denom
        return AccumulatorState(lib.subtract(x, x_new, out=x_new), acc, scratch)


@dataclass(frozen=True)
class AdagradNorm(Method):
    """AdaGrad-Norm (Ward, Wu & Bottou 2019): b² ← b² + ‖g‖², then x ← x − η g / b (one scalar per replica)."""

    step_size: Schedule | float = 1.0
    b0: float = 1e-2

    name = "adagrad-norm"
    description = "AdaGrad-Norm: one adaptive scalar step per replica"
    source = "Ward, Wu & Bottou (2019), arXiv 1806.01811, Alg. 1"

    def __post_init__(self):
        self._schedule_step_size()
        positive("b0", self.b0)

    def init(self, x0):
        xp = array_namespace(x0)
        return AccumulatorState(x0, xp.zeros((x0.shape[0], 1), dtype=x0.dtype) + self.b0**2)

    def step(self, state, oracle, t):
        x, b2, _ = state
        g = oracle.stochastic_grad(x)
        xp = array_namespace(x)
        b2 = b2 + xp.sum(g * g, axis=-1, keepdims=True)
        return AccumulatorState(x - self.step_size(t) * g / xp.sqrt(b2), b2)


class AdaptiveBatchState(NamedTuple):
    x: Any
    b2: Any      # AdaGrad-Norm accumulator b², (R, 1)
    batch: Any   # current batch size per replica, (R, 1)


@dataclass(frozen=True)
class AdagradNormAdaptiveBatch(Method):
    """AdAdaGradNorm (Lau, Liu & Kolar 2024, arXiv 2402.11215): AdaGrad-Norm on minibatch gradients whose batch
    size grows by the norm test of adaptive sampling, here with the noise variance known.

    At x_k with batch B_k (B_0 = ``batch0``): ĝ = mean of B_k stochastic gradients; b² ← b² + ‖ĝ‖²;
    x ← x − η ĝ / b; then B_{k+1} = min(max_batch, max(B_k, ⌈σ² / (θ² ‖ĝ‖²)⌉)), the smallest batch passing the
    norm test E‖ĝ − ∇F‖² ≤ θ²‖ĝ‖² for one-sample noise variance σ² = ``noise_variance`` (the paper estimates σ²
    by the batch's sample variance; here it is given).  The batch mean is drawn in law, as
    ∇F(x) + (ĝ₁ − ∇F(x))/√B from one stochastic gradient ĝ₁: exact for additive Gaussian noise independent of x
    (e.g. ``convsim.noise.Gaussian`` on a quadratic), which this method therefore requires.
    """

    step_size: Schedule | float = 1.0
    b0: float = 1e-2
    test_constant: float = 0.5
    noise_variance: float = 1.0
    batch0: int = 1
    max_batch: float = 1e8

    name = "adagrad-norm-batch"
    description = "AdAdaGradNorm: AdaGrad-Norm with norm-test adaptive batch sizes (noise variance given)"
    source = "Lau, Liu & Kolar (2024), arXiv 2402.11215 (AdAdaGradNorm)"

    def __post_init__(self):
        self._schedule_step_size()
        positive("b0", self.b0)
        positive("test_constant", self.test_constant)
        require(self.noise_variance >= 0, f"noise_variance must be non-negative, got {self.noise_variance!r}")
        positive("batch0", self.batch0, integer=True)
        require(self.max_batch >= self.batch0, f"max_batch must be at least batch0, got {self.max_batch!r}")

    def init(self, x0):
        xp = array_namespace(x0)
        ones = xp.ones((x0.shape[0], 1), dtype=x0.dtype)
        return AdaptiveBatchState(x0, ones * self.b0**2, ones * float(self.batch0))

    def step(self, state, oracle, t):
        x, b2, batch = state
        xp = array_namespace(x)
        exact = oracle.grad(x)
        g = exact + (oracle.stochastic_grad(x) - exact) / xp.sqrt(batch)
        norm_sq = xp.sum(g * g, axis=-1, keepdims=True)
        b2 = b2 + norm_sq
        needed = xp.ceil(self.noise_variance / (self.test_constant**2 * xp.maximum(norm_sq, 1e-300)))
        batch = xp.minimum(xp.maximum(batch, needed), self.max_batch)
        return AdaptiveBatchState(x - self.step_size(t) * g / xp.sqrt(b2), b2, batch)


@dataclass(frozen=True)
class SignSGD(Method):
    """signSGD (Bernstein et al. 2018): x ← x − γ_t sign(g)."""

    step_size: Schedule | float

    name = "sign-sgd"
    description = "signSGD: steps along the sign of the stochastic gradient"
    source = "Bernstein, Wang, Azizzadenesheli & Anandkumar (2018), arXiv 1802.04434"

    def __post_init__(self):
        self._schedule_step_size()

    def init(self, x0):
        return Iterate(x0)

    def step(self, state, oracle, t):
        g = oracle.stochastic_grad(state.x)
        return Iterate(state.x - self.step_size(t) * array_namespace(g).sign(g))


@dataclass(frozen=True)
class NormalizedSGD(Method):
    """Normalized SGD: x ← x − γ_t g / (‖g‖ + ε), one norm per replica."""

    step_size: Schedule | float
    eps: float = 1e-12

    name = "normalized-sgd"
    description = "normalized SGD: unit-length steps along the stochastic gradient"
    source = "Nesterov (1984); Hazan, Levy & Shalev-Shwartz (2015), arXiv 1507.02030"

    def __post_init__(self):
        self._schedule_step_size()
        positive("eps", self.eps)

    def init(self, x0):
        return Iterate(x0)

    def step(self, state, oracle, t):
        g = oracle.stochastic_grad(state.x)
        xp = array_namespace(g)
        norm = xp.sqrt(xp.sum(g * g, axis=-1, keepdims=True))
        return Iterate(state.x - self.step_size(t) * g / (norm + self.eps))


class BeliefState(NamedTuple):
    x: Any
    m: Any
    s: Any
    scratch: Any = None


@dataclass(frozen=True)
class AdaBelief(_Adaptive):
    """AdaBelief (Zhuang et al. 2020, arXiv 2010.07468, Alg. 2), as in the authors' code.

    m ← β1 m + (1−β1) g;  s ← β2 s + (1−β2)(g − m)² + ε  (ε accumulates in s, as in the
    official implementation, which the authors say is authoritative);
    x ← x − γ_t · (m/(1−β1^t)) / (√(s/(1−β2^t)) + ε).
    """

    step_size: Schedule | float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-16
    weight_decay: float = 0.0

    name = "adabelief"
    description = "AdaBelief: Adam with the variance of g around its EMA in the denominator"
    source = "Zhuang et al. (2020), arXiv 2010.07468, Alg. 2"

    def __post_init__(self):
        self._check("beta1", "beta2")

    def init(self, x0):
        in_place = mutable_in_place(x0)
        m, s, scratch = _zeros(x0, True, 3)
        return BeliefState(x0, m, s, scratch if in_place else None)

    def step(self, state, oracle, t):
        x, m, s, scratch = state
        g = self._grad(x, oracle)
        b1, b2 = self.beta1, self.beta2
        inv_bc1, inv_bc2 = 1.0 / (1.0 - b1 ** (t + 1)), 1.0 / (1.0 - b2 ** (t + 1))
        lr = self.step_size(t)
        if scratch is None:  # functional path (array_api_strict)
            m = b1 * m + (1.0 - b1) * g
            d = g - m
            s = b2 * s + (1.0 - b2) * (d * d) + self.eps
            denom = array_namespace(x).sqrt(s * inv_bc2) + self.eps
            return BeliefState(x - lr * (m * inv_bc1) / denom, m, s, None)
        lib = array_library(x)
        _ema_(m, b1, g, 1.0 - b1, scratch, lib)
        d = lib.subtract(g, m, out=scratch)
        _ema_(s, b2, lib.multiply(d, d, out=scratch), 1.0 - b2, scratch, lib)
        s += self.eps
        denom = lib.sqrt(lib.multiply(s, inv_bc2, out=scratch), out=scratch)
        denom += self.eps
        x_new = lib.multiply(m, inv_bc1)
        x_new *= lr
        x_new /= denom
        return BeliefState(lib.subtract(x, x_new, out=x_new), m, s, scratch)


class DiffGradState(NamedTuple):
    x: Any
    m: Any
    v: Any
    g_prev: Any


@dataclass(frozen=True)
class DiffGrad(_Adaptive):
    """diffGrad (Dubey et al. 2019, arXiv 1909.11015), as in the authors' corrected code (diffGrad_v2).

    ξ = 1/(1 + exp(−|g_{t−1} − g_t|)) with g_0 = 0;  m, v as in Adam;
    x ← x − γ_t √(1−β2^t)/(1−β1^t) · ξ m/(√v + ε).
    """

    step_size: Schedule | float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0

    name = "diffgrad"
    description = "diffGrad: Adam damped by a friction coefficient of the gradient change"
    source = "Dubey et al. (2019), arXiv 1909.11015, Eq. (4)-(6)"

    def __post_init__(self):
        self._check("beta1", "beta2")

    def init(self, x0):
        zero = 0.0 * x0
        return DiffGradState(x0, zero, zero, zero)

    def step(self, state, oracle, t):
        x, m, v, g_prev = state
        g = self._grad(x, oracle)
        xp = array_namespace(x)
        b1, b2 = self.beta1, self.beta2
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * (g * g)
        friction = 1.0 / (1.0 + xp.exp(-xp.abs(g_prev - g)))
        scale = self.step_size(t) * math.sqrt(1.0 - b2 ** (t + 1)) / (1.0 - b1 ** (t + 1))
        return DiffGradState(x - scale * friction * m / (xp.sqrt(v) + self.eps), m, v, g)


class AdanState(NamedTuple):
    x: Any
    m: Any
    v: Any
    n: Any
    g_prev: Any


@dataclass(frozen=True)
class Adan(Method):
    """Adan (Xie et al. 2022, arXiv 2208.06677, Alg. 1) in the paper's convention.

    The β's weight the *new* term (defaults 0.02, 0.08, 0.01) and there is no bias
    correction; m_0 = g_0, v_0 = 0, n_0 = g_0²; for k ≥ 1, with Δ = g_k − g_{k−1}:
    m ← (1−β1) m + β1 g;  v ← (1−β2) v + β2 Δ;  n ← (1−β3) n + β3 (g + (1−β2) Δ)²;
    x ← (x − γ/(√n + ε) ⊙ (m + (1−β2) v)) / (1 + λγ).
    optax's ``adan`` instead follows the authors' code (1−β convention, zero
    initialization, bias correction, decoupled decay); convsim follows the paper,
    whose theorems are about this recursion.  ``difference=False`` drops the
    gradient-difference terms (Δ ≡ 0: v stays 0 and n is the EMA of g²), an ablation
    that claims use to show their verdict depends on Adan's Nesterov term.
    """

    step_size: Schedule | float = 1e-3
    beta1: float = 0.02
    beta2: float = 0.08
    beta3: float = 0.01
    eps: float = 1e-8
    weight_decay: float = 0.0
    difference: bool = True

    name = "adan"
    description = "Adan: adaptive Nesterov momentum (paper's recursion and initialization)"
    source = "Xie et al. (2022), arXiv 2208.06677, Alg. 1"

    def __post_init__(self):
        self._schedule_step_size()
        for name in ("beta1", "beta2", "beta3"):
            in_range(name, getattr(self, name), 0.0, 1.0, closed_low=False, closed_high=True)
        positive("eps", self.eps)
        in_range("weight_decay", self.weight_decay, 0.0, math.inf)

    def init(self, x0):
        zero = 0.0 * x0
        return AdanState(x0, zero, zero, zero, zero)

    def step(self, state, oracle, t):
        x, m, v, n, g_prev = state
        g = oracle.stochastic_grad(x)
        b1, b2, b3 = self.beta1, self.beta2, self.beta3
        if t == 0:
            m, v, n = g, 0.0 * g, g * g
        else:
            # The same recursion as the docstring, written to allocate only the new state arrays and
            # update them in place (it is memory-bound): u = g + (1−β2)Δ and then n reuse Δ's buffer,
            # and m + β1(g − m) = (1−β1)m + β1 g.  The state arrays passed in are never modified.
            diff = g - g_prev if self.difference else 0.0 * g
            m_new = g - m
            m_new *= b1
            m_new += m
            v_new = diff - v
            v_new *= b2
            v_new += v
            diff *= 1.0 - b2
            diff += g  # u
            diff *= diff
            diff -= n
            diff *= b3
            diff += n  # n ← (1−β3) n + β3 u²
            m, v, n = m_new, v_new, diff
        lr = self.step_size(t)
        denom = array_namespace(x).sqrt(n)
        denom += self.eps
        step = (1.0 - b2) * v
        step += m
        step /= denom
        step *= -lr
        step += x  # x − γ (m + (1−β2) v)/(√n + ε)
        if self.weight_decay:
            step /= 1.0 + self.weight_decay * lr
        return AdanState(step, m, v, n, g)
