"""Momentum variants beyond heavy ball and Nesterov: ASGD (Jain et al.), NAG-GS, random-scaling SGDM, Muon."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from array_api_compat import array_namespace

from ..backend import array_library, mutable_in_place
from ..errors import in_range, positive, require
from ..schedules import Schedule
from .base import Method
from .gradient import descend, keeps_dtype, owned_copy


class ASGDState(NamedTuple):
    x: Any  # w_t, the recorded iterate
    v: Any
    y: Any = None  # work arrays of x's shape (backends that update in place): the query point ȳ ...
    scratch: Any = None  # ... and a temporary


@dataclass(frozen=True)
class ASGD(Method):
    """Accelerated SGD of Jain, Kakade, Kidambi, Netrapalli & Sidford (2018, arXiv 1704.08227, Alg. 1),
    the ASGD whose excess risk Li, Deng, Wu, Zhou & Gu (2023, arXiv 2311.14222) bound per eigen-subspace.

    With w_0 = v_0 = x_0, every step:
      ȳ = α w + (1 − α) v;  g = ĝ(ȳ);
      w ← ȳ − δ g;   v ← β ȳ + (1 − β) v − γ g.
    The recorded point is w.  The four parameters are the user's: the papers tie them to the
    step size, μ and the statistical condition number κ̃, and that tuning is not restated here.
    """

    alpha: float
    beta: float
    gamma: float
    delta: float

    name = "asgd"
    description = "accelerated SGD of Jain et al. (2018), parameters (alpha, beta, gamma, delta)"
    source = "Jain et al. (2018), arXiv 1704.08227, Alg. 1; analysed by Li et al. (2023), arXiv 2311.14222"

    def __post_init__(self):
        in_range("alpha", self.alpha, 0.0, 1.0, closed_high=True)
        in_range("beta", self.beta, 0.0, 1.0, closed_high=True)
        require(self.gamma >= 0, f"gamma must be non-negative, got {self.gamma!r}")
        positive("delta", self.delta)

    def init(self, x0):
        if not mutable_in_place(x0):
            return ASGDState(x0, x0)
        return ASGDState(x0, owned_copy(x0), owned_copy(x0, 0.0), owned_copy(x0, 0.0))

    def step(self, state, oracle, t):
        w, v, y, scratch = state
        if scratch is None or not keeps_dtype(v, w, self.alpha, self.beta, self.gamma, self.delta):  # functional path
            y = self.alpha * w + (1.0 - self.alpha) * v
            g = oracle.stochastic_grad(y)
            return ASGDState(y - self.delta * g, self.beta * y + (1.0 - self.beta) * v - self.gamma * g)
        # the same operations in the same order, one new array (w): v, y and scratch are this state's own;
        # y is not written once its gradient is drawn (a gradient may alias its point)
        lib = array_library(w)
        lib.multiply(w, self.alpha, out=y)
        y += lib.multiply(v, 1.0 - self.alpha, out=scratch)
        g = oracle.stochastic_grad(y)
        w_next = descend(y, self.delta, g)
        v *= 1.0 - self.beta
        v += lib.multiply(y, self.beta, out=scratch)
        v -= lib.multiply(g, self.gamma, out=scratch)
        return ASGDState(w_next, v, y, scratch)


class NAGGSState(NamedTuple):
    x: Any
    v: Any


@dataclass(frozen=True)
class NAGGS(Method):
    """NAG-GS (Leplat, Merkulov, Katrutsa, Bershatsky, Tsymboi & Oseledets 2022, arXiv 2209.14937, Alg. 1):
    a semi-implicit Gauss-Seidel step of the accelerated (Nesterov-like) SDE, as in the authors' code.

    With a = α/(1+α), γ_{k+1} = (αμ + γ_k)/(1+α) (so γ_k = μ + (γ_0 − μ)(1+α)^{−k}) and v_0 = x_0:
      x_{k+1} = (1 − a) x_k + a v_k;
      v_{k+1} = (γ_{k+1} v_k + αμ x_{k+1} − α ∇f(x_{k+1})) / (αμ + γ_{k+1}).
    One convsim step evaluates one gradient: it finishes the previous v-update with ĝ(x_k)
    (skipped at t = 0, where v_0 = x_0) and then moves x, exactly the authors' split.
    """

    alpha: float = 0.05
    mu: float = 1.0
    gamma: float = 1.5

    name = "nag-gs"
    description = "NAG-GS: semi-implicit Gauss-Seidel discretization of an accelerated SDE"
    source = "Leplat et al. (2022), arXiv 2209.14937, Alg. 1 (authors' code, skolai/nag-gs)"

    def __post_init__(self):
        positive("alpha", self.alpha)
        require(self.mu >= 0, f"mu must be non-negative, got {self.mu!r}")
        positive("gamma", self.gamma)

    def gamma_at(self, k: int) -> float:
        """γ_k after k updates (host scalar)."""
        return self.mu + (self.gamma - self.mu) * (1.0 + self.alpha) ** (-k)

    def init(self, x0):
        # v is overwritten in place where the backend allows, so it starts as a copy of x0 (x0 is the caller's)
        return NAGGSState(x0, owned_copy(x0) if mutable_in_place(x0) else x0)

    def step(self, state, oracle, t):
        x, v = state
        a, mu = self.alpha, self.mu
        if not keeps_dtype(v, x, a, mu, self.gamma):  # functional path (array_api_strict, a promoted dtype)
            if t > 0:
                g = oracle.stochastic_grad(x)
                gam = self.gamma_at(t)
                v = (gam * v + a * mu * x - a * g) / (a * mu + gam)
            return NAGGSState(x + (a / (1.0 + a)) * (v - x), v)
        # the same operations in the same order: v is this state's own array; the one new array, the
        # next x, serves as the temporary of the v-update first
        lib = array_library(v)
        if t > 0:
            g = oracle.stochastic_grad(x)
            gam = self.gamma_at(t)
            x_next = lib.multiply(x, a * mu)
            v *= gam
            v += x_next
            v -= lib.multiply(g, a, out=x_next)
            v /= a * mu + gam
            x_next = lib.subtract(v, x, out=x_next)
        else:
            x_next = lib.subtract(v, x)
        x_next *= a / (1.0 + a)
        return NAGGSState(lib.add(x, x_next, out=x_next), v)


SCALINGS = ("exponential", "uniform", "none")


class ScaledMomentumState(NamedTuple):
    x: Any
    delta: Any  # the momentum (the update direction Δ)


@dataclass(frozen=True)
class RandomScalingMomentum(Method):
    """SGD with momentum whose every update is scaled by an Exp(1) random scalar
    (Zhang & Cutkosky 2024, arXiv 2405.09742; the online-to-non-convex conversion of their Sec. 3
    with online gradient descent as the online learner).

      g_t = ĝ(x_t);  Δ_{t+1} = β Δ_t − η_t g_t;  s_{t+1} ~ Exp(1) (one per replica);  x_{t+1} = x_t + s_{t+1} Δ_{t+1},
    with Δ_0 = 0.  E[s] = 1, so on average this is SGDM; the exponential scaling makes
    E[f(x + sΔ) − f(x)] = E⟨∇f(x + sΔ), Δ⟩ exact, which the analysis rests on.  The paper's
    body could not be read here: the update is restated from its abstract ("scale the update
    at each time point by an exponentially distributed random scalar") and that identity.
    """

    step_size: Schedule | float
    momentum: float = 0.9
    scaling: str = "exponential"
    """The law of s: "exponential" (Exp(1), the paper's), or, as documented switches for testing the
    mechanism, "uniform" (U(0, 2), the same mean) and "none" (s = 1: plain SGDM)."""

    name = "random-scaling-sgdm"
    description = "SGD with momentum, each update scaled by an Exp(1) random scalar"
    source = "Zhang & Cutkosky (2024), arXiv 2405.09742"

    def __post_init__(self):
        self._schedule_step_size()
        in_range("momentum", self.momentum, 0.0, 1.0)
        require(self.scaling in SCALINGS, f"scaling must be one of {SCALINGS}, got {self.scaling!r}")

    def scaling_expectation(self, phi, breakpoints=()) -> float:
        """E[φ(s)] under this method's law of s, for a host function φ of one float (adaptive quadrature;
        ``breakpoints`` are points in s where φ has a kink)."""
        import scipy.integrate

        if self.scaling == "none":
            return float(phi(1.0))
        hi = 2.0 if self.scaling == "uniform" else np.inf
        density = (lambda s: 0.5) if self.scaling == "uniform" else (lambda s: math.exp(-s))
        cuts = sorted(b for b in breakpoints if 0.0 < b < (hi if np.isfinite(hi) else 60.0))
        edges = [0.0, *cuts, hi]
        return float(sum(scipy.integrate.quad(lambda s: phi(s) * density(s), a, b, limit=200, epsabs=1e-13,
                                              epsrel=1e-12)[0] for a, b in zip(edges[:-1], edges[1:])))

    def init(self, x0):
        return ScaledMomentumState(x0, 0.0 * x0)

    def step(self, state, oracle, t):
        x, delta = state
        xp = array_namespace(x)
        g = oracle.stochastic_grad(x)
        lr = self.step_size(t)
        if mutable_in_place(delta):  # Δ is this state's own array (init allocates it): update it in place
            lib = array_library(delta)
            delta *= self.momentum
            delta -= lib.multiply(g, lr)
        else:
            delta = self.momentum * delta - lr * g
        if self.scaling == "exponential":
            s = -xp.log(1.0 - oracle.rng.uniform(1))  # Exp(1); 1 − U lies in (0, 1]
        elif self.scaling == "uniform":
            s = 2.0 * oracle.rng.uniform(1)
        else:
            s = 1.0
        return ScaledMomentumState(x + s * delta, delta)


NEWTON_SCHULZ_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz(G, steps: int = 5, coefficients=NEWTON_SCHULZ_COEFFICIENTS):
    """Approximate orthogonalization U Vᵀ of a batch of matrices G (…, m, n) by the quintic
    Newton–Schulz iteration X ← aX + (b A + c A²) X, A = X Xᵀ, from X = G/(‖G‖_F + 1e-7),
    working on the wide orientation (transposed when m > n), as in Muon's reference code."""
    xp = array_namespace(G)
    a, b, c = coefficients
    tall = G.shape[-2] > G.shape[-1]
    X = xp.matrix_transpose(G) if tall else G
    X = X / (xp.sqrt(xp.sum(X * X, axis=(-2, -1), keepdims=True)) + 1e-7)
    for _ in range(steps):
        A = X @ xp.matrix_transpose(X)
        X = a * X + (b * A + c * (A @ A)) @ X
    return xp.matrix_transpose(X) if tall else X


def newton_schulz_into(G, work, steps: int = 5, coefficients=NEWTON_SCHULZ_COEFFICIENTS):
    """:func:`newton_schulz` computed in the preallocated arrays ``work`` (see :func:`newton_schulz_work`):
    the same operations in the same order on operands of the same memory layouts (a matrix product's
    rounding may depend on them), so the same numbers; only the (…, 1, 1) norms are new arrays.
    The result is a view of ``work``, valid until the next call."""
    xp, lib = array_namespace(G), array_library(G)
    a, b, c = coefficients
    tall = G.shape[-2] > G.shape[-1]
    squares, X, A, A2, BX = work
    if tall:  # the transposed views keep the layouts that the functional iteration's temporaries have
        G, squares, X = xp.matrix_transpose(G), xp.matrix_transpose(squares), xp.matrix_transpose(X)
    lib.multiply(G, G, out=squares)
    lib.divide(G, xp.sqrt(xp.sum(squares, axis=(-2, -1), keepdims=True)) + 1e-7, out=X)
    for _ in range(steps):
        lib.matmul(X, xp.matrix_transpose(X), out=A)
        lib.matmul(A, A, out=A2)
        A *= b
        A2 *= c
        A += A2
        lib.matmul(A, X, out=BX)
        X *= a
        X += BX
    return xp.matrix_transpose(X) if tall else X


def newton_schulz_work(G):
    """Work arrays for :func:`newton_schulz_into` on matrices shaped like ``G`` (…, m, n), C-ordered."""
    xp = array_namespace(G)
    k, wide = min(G.shape[-2:]), max(G.shape[-2:])

    def empty(*shape):
        return xp.empty((*G.shape[:-2], *shape), dtype=G.dtype, device=getattr(G, "device", None))
    return empty(*G.shape[-2:]), empty(*G.shape[-2:]), empty(k, k), empty(k, k), empty(k, wide)


class MuonState(NamedTuple):
    x: Any
    buf: Any
    scratch: Any = None  # the Nesterov direction's work array (backends that update in place)
    work: Any = None  # Newton–Schulz's work arrays (backends that update in place)


@dataclass(frozen=True)
class Muon(Method):
    """Muon: momentum SGD whose update is orthogonalized by five quintic Newton–Schulz steps
    (Jordan et al. 2024, "Muon: An optimizer for hidden layers in neural networks"; coefficients
    (a, b, c) = (3.4445, −4.7750, 2.0315) from the reference implementation; analysed as steepest
    descent in the spectral norm by Bernstein & Newhouse 2024, arXiv 2409.20325).

    Shape convention: each replica's parameter vector of length m·n is the matrix W = reshape(x, (m, n))
    in row-major (C) order, ``shape=(m, n)``.  With b ← μ b + g and d = g + μ b (Nesterov) or b:
    W ← W − η_t · NS₅(d) · √max(1, m/n).
    """

    step_size: Schedule | float
    shape: tuple = (1, 1)
    momentum: float = 0.95
    nesterov: bool = True
    ns_steps: int = 5

    name = "muon"
    description = "Muon: Newton-Schulz-orthogonalized momentum for matrix parameters (row-major m x n)"
    source = "Jordan et al. (2024), Muon reference implementation; Bernstein & Newhouse (2024), arXiv 2409.20325"

    def __post_init__(self):
        self._schedule_step_size()
        require(len(self.shape) == 2 and all(isinstance(k, int) and k > 0 for k in self.shape),
                f"shape must be two positive integers (rows, cols), got {self.shape!r}")
        in_range("momentum", self.momentum, 0.0, 1.0)
        positive("ns_steps", self.ns_steps, integer=True)

    def init(self, x0):
        m, n = self.shape
        require(x0.shape[-1] == m * n, f"Muon shape {self.shape} needs dimension {m * n}, got {x0.shape[-1]}")
        if not mutable_in_place(x0):
            return MuonState(x0, 0.0 * x0)
        work = newton_schulz_work(array_namespace(x0).reshape(x0, (x0.shape[0], m, n)))
        return MuonState(x0, 0.0 * x0, owned_copy(x0, 0.0) if self.nesterov else None, work)

    def step(self, state, oracle, t):
        x, buf, scratch, work = state
        xp = array_namespace(x)
        m, n = self.shape
        g = oracle.stochastic_grad(x)
        scale = self.step_size(t) * math.sqrt(max(1.0, m / n))
        if work is None or not keeps_dtype(buf, x, g, self.momentum, scale):  # functional path
            buf = self.momentum * buf + g
            d = g + self.momentum * buf if self.nesterov else buf
            update = xp.reshape(newton_schulz(xp.reshape(d, (x.shape[0], m, n)), self.ns_steps), x.shape)
            return MuonState(x - scale * update, buf)
        # the buffer and the work arrays are this state's own: the same operations in the same order, and
        # the next iterate is the step's one new array of x's size
        lib = array_library(buf)
        buf *= self.momentum
        buf += g
        d = buf
        if self.nesterov:
            d = lib.multiply(buf, self.momentum, out=scratch)
            d += g
        update = newton_schulz_into(xp.reshape(d, (x.shape[0], m, n)), work, self.ns_steps)
        return MuonState(descend(x, scale, xp.reshape(update, x.shape)), buf, scratch, work)



class StochasticAGDState(NamedTuple):
    x: Any
    v: Any
    y: Any = None  # work arrays of x's shape (backends that update in place): the query point y_k ...
    scratch: Any = None  # ... and a temporary


@dataclass(frozen=True)
class StochasticAGD(Method):
    """Stochastic Nesterov acceleration by estimating sequences (Nesterov 2004, scheme (2.2.19)) with an SGD
    primal step: the "generalized stochastic AGD" of Mishkin, Pilanci & Schmidt (2024, arXiv 2404.02378)
    with SGD as its primal update.  With x_0 = v_0, γ_0 (default μ) and step η, every step:

      α_k ∈ (0, 1) solves α_k² = η((1 − α_k) γ_k + α_k μ);   γ_{k+1} = (1 − α_k) γ_k + α_k μ;
      y_k = (α_k γ_k v_k + γ_{k+1} x_k) / (γ_k + α_k μ);      g = ĝ(y_k);
      x_{k+1} = y_k − η g;   v_{k+1} = ((1 − α_k) γ_k v_k + α_k μ y_k − α_k g) / γ_{k+1}.

    Under strong growth ρ (E‖ĝ‖² ≤ ρ‖∇f‖²) the step is η = 1/(ρL), for which the SGD step makes the
    expected progress f − E f(x⁺) ≥ ‖∇f‖²/(2ρL); :meth:`strong_growth` builds that choice.  With γ_0 = μ
    the sequences are constant: α = √(μη), γ = μ.  α_k and γ_k are deterministic host scalars.
    """

    eta: float
    mu: float
    gamma0: float | None = None

    name = "stochastic-agd"
    description = "stochastic Nesterov AGD (estimating sequences) with an SGD primal step, eta = 1/(rho L)"
    source = "Mishkin, Pilanci & Schmidt (2024), arXiv 2404.02378; Nesterov (2004), scheme (2.2.19)"

    def __post_init__(self):
        positive("eta", self.eta)
        require(self.mu >= 0, f"mu must be non-negative, got {self.mu!r}")
        require(self.gamma0 is not None or self.mu > 0, "gamma0 is needed when mu = 0")
        if self.gamma0 is not None:
            positive("gamma0", self.gamma0)
        object.__setattr__(self, "_gammas", [self.mu if self.gamma0 is None else float(self.gamma0)])

    @classmethod
    def strong_growth(cls, L: float, mu: float, rho: float, gamma0: float | None = None) -> "StochasticAGD":
        """The step η = 1/(ρL) of the strong-growth analysis."""
        return cls(1.0 / (positive("rho", rho) * positive("L", L)), mu, gamma0)

    def _alpha(self, gam: float) -> float:
        b = self.eta * (gam - self.mu)  # α² + bα − ηγ = 0, its root in (0, 1)
        return 0.5 * (-b + math.sqrt(b * b + 4.0 * self.eta * gam))

    def coefficients(self, k: int) -> tuple[float, float]:
        """(α_k, γ_k): the recursion is deterministic, computed once on the host and kept."""
        gammas = self._gammas
        while len(gammas) <= k:
            gam = gammas[-1]
            a = self._alpha(gam)
            gammas.append((1.0 - a) * gam + a * self.mu)
        return self._alpha(gammas[k]), gammas[k]

    def init(self, x0):
        if not mutable_in_place(x0):
            return StochasticAGDState(x0, x0)
        return StochasticAGDState(x0, owned_copy(x0), owned_copy(x0, 0.0), owned_copy(x0, 0.0))

    def step(self, state, oracle, t):
        x, v, y, scratch = state
        alpha, gam = self.coefficients(t)
        gam_next = (1.0 - alpha) * gam + alpha * self.mu
        if scratch is None or not keeps_dtype(v, x, alpha, gam, gam_next, self.mu, self.eta):  # functional path
            y = (alpha * gam * v + gam_next * x) / (gam + alpha * self.mu)
            g = oracle.stochastic_grad(y)
            v = ((1.0 - alpha) * gam * v + alpha * self.mu * y - alpha * g) / gam_next
            return StochasticAGDState(y - self.eta * g, v)
        # the same operations in the same order, one new array (x): v, y and scratch are this state's own;
        # y is not written once its gradient is drawn (a gradient may alias its point)
        lib = array_library(x)
        lib.multiply(v, alpha * gam, out=y)
        y += lib.multiply(x, gam_next, out=scratch)
        y /= gam + alpha * self.mu
        g = oracle.stochastic_grad(y)
        v *= (1.0 - alpha) * gam
        v += lib.multiply(y, alpha * self.mu, out=scratch)
        v -= lib.multiply(g, alpha, out=scratch)
        v /= gam_next
        return StochasticAGDState(descend(y, self.eta, g), v, y, scratch)
