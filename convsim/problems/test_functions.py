"""Classical nonconvex test functions with known global minimizers (for zeroth-order and global methods).

* :class:`Rastrigin` — f(x) = A d + Σ_i [(x_i − s_i)² − A cos(2π (x_i − s_i))]: a lattice of local minima near the
  integer offsets from ``shift``; global minimum 0 at x* = shift (Rastrigin 1974; CBO benchmarks, Riedl et al.
  arXiv 2306.09778).
* :class:`Ackley` — f(x) = −a exp(−b √(‖x − s‖²/d)) − exp(Σ cos(c (x_i − s_i))/d) + a + e: nearly flat outside,
  global minimum 0 at x* = shift (gradient undefined at x*; grad returns 0 there).
* :class:`StrictSaddle` — f(x) = ½ Σ_i h_i x_i² + (q/4) Σ_{i: h_i<0} x_i⁴: a strict saddle at 0 (curvature
  min h < 0) and minimizers at x_i = ±√(−h_i/q) on the negative directions, f* = −Σ h_i²/(4q).
* :class:`SineWell` — f(x) = Σ_i (x_i²/2 + sin²(2x_i)/2): nonconvex (f'' = 1 + 4 cos(4x) dips to −3), 5-smooth,
  Lipschitz Hessian, f* = 0 at 0; its stochastic gradients add N(0, σ²) per coordinate.
All are batch-first and array-API; all but :class:`SineWell` are deterministic (``stochastic_grad`` is the
exact gradient).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import positive, require
from .base import Problem, array_digest


class _Shifted(Problem):
    def _setup(self, d, shift, x0, start_distance):
        self.dim = positive("d", d, integer=True)
        self._x_star = np.zeros(self.dim) if shift is None else np.asarray(shift, dtype=np.float64)
        require(self._x_star.shape == (self.dim,), f"shift must have shape ({self.dim},)")
        self._f_star = 0.0
        self._x0 = (self._x_star + float(start_distance) * np.ones(self.dim) / math.sqrt(self.dim)
                    if x0 is None else np.asarray(x0, dtype=np.float64))

    def _spec(self, **extra):
        return {"name": self.name, "d": self.dim, "shift": array_digest(self._x_star), "x0": array_digest(self._x0),
                **extra}


class Rastrigin(_Shifted):
    """Rastrigin's function, global minimum 0 at ``shift``."""

    name = "rastrigin"
    description = "Rastrigin function A d + sum((x-s)^2 - A cos(2 pi (x-s))): many local minima, global 0 at s"

    def __init__(self, d, *, amplitude=10.0, shift=None, x0=None, start_distance=3.0):
        self.amplitude = float(amplitude)
        self._setup(d, shift, x0, start_distance)

    def value(self, x):
        xp = self.namespace_of(x)
        e = x - self.x_star_on(x)
        return xp.sum(e * e - self.amplitude * xp.cos(2.0 * math.pi * e), axis=-1) + self.amplitude * self.dim

    def grad(self, x):
        xp = self.namespace_of(x)
        e = x - self.x_star_on(x)
        return 2.0 * e + 2.0 * math.pi * self.amplitude * xp.sin(2.0 * math.pi * e)

    def hvp(self, x, v):
        xp = self.namespace_of(x)
        e = x - self.x_star_on(x)
        return (2.0 + 4.0 * math.pi**2 * self.amplitude * xp.cos(2.0 * math.pi * e)) * v

    def constants(self):
        return {"d": self.dim, "f_star": 0.0, "L": 2.0 + 4.0 * math.pi**2 * self.amplitude}

    def spec(self):
        return self._spec(amplitude=self.amplitude)


class Ackley(_Shifted):
    """Ackley's function, global minimum 0 at ``shift``."""

    name = "ackley"
    description = "Ackley function: nearly flat far away, many local minima, global 0 at s"

    def __init__(self, d, *, a=20.0, b=0.2, c=2.0 * math.pi, shift=None, x0=None, start_distance=3.0):
        self.a, self.b, self.c = float(a), float(b), float(c)
        self._setup(d, shift, x0, start_distance)

    def value(self, x):
        xp = self.namespace_of(x)
        e = x - self.x_star_on(x)
        rms = xp.sqrt(xp.sum(e * e, axis=-1) / self.dim)
        mean_cos = xp.sum(xp.cos(self.c * e), axis=-1) / self.dim
        return -self.a * xp.exp(-self.b * rms) - xp.exp(mean_cos) + self.a + math.e

    def grad(self, x):
        xp = self.namespace_of(x)
        e = x - self.x_star_on(x)
        rms = xp.sqrt(xp.sum(e * e, axis=-1, keepdims=True) / self.dim)
        safe = xp.where(rms > 0, rms, xp.ones_like(rms))
        radial = xp.where(rms > 0, self.a * self.b * xp.exp(-self.b * rms) / (self.dim * safe), xp.zeros_like(rms))
        mean_cos = xp.sum(xp.cos(self.c * e), axis=-1, keepdims=True) / self.dim
        return radial * e + xp.exp(mean_cos) * self.c * xp.sin(self.c * e) / self.dim

    def constants(self):
        return {"d": self.dim, "f_star": 0.0}

    def spec(self):
        return self._spec(a=self.a, b=self.b, c=self.c)


class StrictSaddle(Problem):
    """½ Σ h_i x_i² + (q/4) Σ_{h_i<0} x_i⁴: strict saddle at the origin, known minimizers and f*."""

    name = "strict-saddle"
    description = "quadratic-plus-quartic strict saddle at 0 with known minimizers and f*"

    def __init__(self, curvatures, *, quartic=1.0, x0=None):
        self.curvatures = np.asarray(curvatures, dtype=np.float64)
        self.dim = int(self.curvatures.size)
        require(self.dim > 0 and bool(np.any(self.curvatures < 0)), "a strict saddle needs a negative curvature")
        self.quartic = positive("quartic", quartic)
        neg = self.curvatures < 0
        self._negative = neg.astype(np.float64)
        self._x_star = np.where(neg, np.sqrt(np.where(neg, -self.curvatures, 0.0) / self.quartic), 0.0)
        self._f_star = float(-np.sum(self.curvatures[neg] ** 2) / (4.0 * self.quartic))
        self._x0 = np.zeros(self.dim) if x0 is None else np.asarray(x0, dtype=np.float64)

    def value(self, x):
        xp = self.namespace_of(x)
        h, neg = self.on(x, "h", self.curvatures), self.on(x, "neg", self._negative)
        x2 = x * x
        return xp.sum(0.5 * h * x2 + 0.25 * self.quartic * neg * x2 * x2, axis=-1)

    def grad(self, x):
        h, neg = self.on(x, "h", self.curvatures), self.on(x, "neg", self._negative)
        return h * x + self.quartic * neg * x * x * x

    def hvp(self, x, v):
        h, neg = self.on(x, "h", self.curvatures), self.on(x, "neg", self._negative)
        return (h + 3.0 * self.quartic * neg * x * x) * v

    def constants(self):
        return {"d": self.dim, "f_star": self._f_star, "saddle_curvature": float(self.curvatures.min())}

    def spec(self):
        return {"name": self.name, "d": self.dim, "curvatures": array_digest(self.curvatures), "quartic": self.quartic,
                "x0": array_digest(self._x0)}


class BallQuadratic(Problem):
    """f(x) = ½ ‖x − c‖² on the Euclidean ball ‖x‖ ≤ radius, with ‖c‖ > radius: the constrained minimizer is
    x* = radius·c/‖c‖ and f* = ½ (‖c‖ − radius)² (the problem's ``x_star``/``f_star`` are the CONSTRAINED ones).
    ``frank_wolfe_gap(x)`` = max_{‖s‖≤r} ⟨∇f(x), x − s⟩ = ⟨∇f(x), x⟩ + r ‖∇f(x)‖."""

    name = "ball-quadratic"
    description = "0.5||x - c||^2 on a ball with c outside it: constrained optimum and Frank-Wolfe gap in closed form"

    def __init__(self, center, *, radius=1.0):
        self.center = np.asarray(center, dtype=np.float64)
        self.dim = int(self.center.size)
        self.radius = positive("radius", radius)
        norm = float(np.linalg.norm(self.center))
        require(norm > self.radius, "the centre must lie outside the ball (an active constraint)")
        self._x_star = self.radius * self.center / norm
        self._f_star = 0.5 * (norm - self.radius) ** 2
        self._x0 = np.zeros(self.dim)

    def value(self, x):
        e = x - self.on(x, "c", self.center)
        return 0.5 * self.namespace_of(x).sum(e * e, axis=-1)

    def grad(self, x):
        return x - self.on(x, "c", self.center)

    def hvp(self, x, v):
        return v

    def frank_wolfe_gap(self, x):
        xp = self.namespace_of(x)
        g = self.grad(x)
        return xp.sum(g * x, axis=-1) + self.radius * xp.sqrt(xp.sum(g * g, axis=-1))

    def constants(self):
        return {"d": self.dim, "L": 1.0, "f_star": self._f_star, "radius": self.radius, "diameter": 2 * self.radius}

    def spec(self):
        return {"name": self.name, "d": self.dim, "center": array_digest(self.center), "radius": self.radius}


class SineWell(Problem):
    """f(x) = Σ_i (x_i²/2 + sin²(2x_i)/2), ∇f = x + sin(4x), stochastic gradients ∇f + N(0, σ² I), from x₀ = start·1."""

    name = "sine-well"
    description = "separable nonconvex sine well, 5-smooth, f* = 0 at 0, additive Gaussian gradient noise"

    def __init__(self, dim: int = 10, sigma: float = 1.0, start: float = 2.0):
        self.dim = int(positive("dim", dim, integer=True))
        self.sigma = float(sigma)
        require(self.sigma >= 0, f"sigma must be non-negative, got {sigma!r}")
        self.start = float(start)

    def value(self, x):
        xp = self.namespace_of(x)
        s = xp.sin(2.0 * x)
        return xp.sum(0.5 * x * x + 0.5 * s * s, axis=-1)

    def grad(self, x):
        return x + self.namespace_of(x).sin(4.0 * x)

    def stochastic_grad(self, x, rng):
        return self.grad(x) + self.sigma * rng.normal(self.dim)

    def initial_point(self):
        return np.full(self.dim, self.start)

    def spec(self):
        return {"name": self.name, "d": self.dim, "sigma": self.sigma, "start": self.start}
