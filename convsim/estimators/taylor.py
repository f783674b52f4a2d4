"""Stochastic Taylor-mode estimation of the Laplacian (STDE, Shi, Hu, Lin & Kawaguchi, arXiv:2412.00088).

The second-order directional derivative ∂²f(x)[v, v] = d²/dt² f(x + t v)|₀ is read off a univariate
Taylor-mode pass: push the jet (x, v, 0) through f and take twice its second coefficient.  With random
directions E[vvᵀ] = I it is an unbiased estimate of Δf(x) = tr ∇²f(x); the mean over N directions has
variance Var_v(vᵀHv)/N, with Var = 2 Σ_{i≠j} H_ij² for Rademacher v and 2‖H‖²_F for Gaussian v.

:class:`Jet2` is the second-order jet arithmetic (sum and product rules on coefficient triples);
:class:`QuarticTest` is f(x) = ½ xᵀQx + (c/4) Σ x_i⁴, with ∇²f = Q + 3c diag(x²) in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import positive, require


@dataclass(frozen=True)
class Jet2:
    """A truncated Taylor series a₀ + a₁ t + a₂ t² (arrays), closed under + and ×."""

    a0: object
    a1: object
    a2: object

    def __add__(self, other):
        if isinstance(other, Jet2):
            return Jet2(self.a0 + other.a0, self.a1 + other.a1, self.a2 + other.a2)
        return Jet2(self.a0 + other, self.a1, self.a2)

    def __mul__(self, other):
        if isinstance(other, Jet2):
            return Jet2(self.a0 * other.a0, self.a0 * other.a1 + self.a1 * other.a0,
                        self.a0 * other.a2 + self.a1 * other.a1 + self.a2 * other.a0)
        return Jet2(self.a0 * other, self.a1 * other, self.a2 * other)

    __radd__, __rmul__ = __add__, __mul__


@dataclass(frozen=True)
class QuarticTest:
    """f(x) = ½ xᵀQx + (c/4) Σ x_i⁴ at a fixed point x (host arrays), evaluated on jets."""

    Q: np.ndarray
    c: float
    x: np.ndarray

    def hessian(self) -> np.ndarray:
        return self.Q + 3.0 * self.c * np.diag(self.x**2)

    def laplacian(self) -> float:
        return float(np.trace(self.hessian()))

    def probe_variance(self, probe: str) -> float:
        """Var_v(vᵀHv) for one direction: 2 Σ_{i≠j} H_ij² (Rademacher) or 2‖H‖²_F (Gaussian)."""
        H = self.hessian()
        off = np.sum(H**2) - np.sum(np.diag(H) ** 2)
        return float(2 * off) if probe == "rademacher" else float(2 * np.sum(H**2))

    def on_jet(self, jet: Jet2, xp, Q):
        """f of a batch of jets whose coefficients have shape (R, N, d): a jet of shape (R, N)."""
        quad = Jet2(xp.matmul(jet.a0, Q), xp.matmul(jet.a1, Q), xp.matmul(jet.a2, Q))  # Q x as a jet (linear)
        xx = jet * jet
        terms = 0.5 * (jet * quad) + (0.25 * self.c) * (xx * xx)
        return Jet2(xp.sum(terms.a0, axis=-1), xp.sum(terms.a1, axis=-1), xp.sum(terms.a2, axis=-1))


@dataclass(frozen=True)
class STDELaplacian:
    """Δf(x) ≈ (1/N) Σ_n ∂²f(x)[v_n, v_n] from second-order Taylor-mode passes along random v_n.

    ``probe`` is "rademacher" or "gaussian"; ``second_order_factor`` 2 turns the jet's t² coefficient into
    the second derivative (f(x + tv) = f + t ∂f[v] + (t²/2) ∂²f[v, v])."""

    directions: int
    probe: str = "rademacher"
    second_order_factor: float = 2.0

    def __post_init__(self):
        positive("directions", self.directions, integer=True)
        require(self.probe in ("rademacher", "gaussian"), "probe must be 'rademacher' or 'gaussian'")

    def estimate(self, f: QuarticTest, rng, xp, dtype):
        """One estimate per replica of ``rng`` (shape (R,)), from ``directions`` fresh directions each."""
        d, N = f.x.size, self.directions
        v = rng.rademacher(N, d) if self.probe == "rademacher" else rng.normal(N, d)
        x = xp.asarray(f.x, dtype=dtype)
        zero = xp.zeros_like(v)
        jet = Jet2(x + zero, v, zero)
        out = f.on_jet(jet, xp, xp.asarray(f.Q, dtype=dtype))
        return xp.mean(self.second_order_factor * out.a2, axis=1)
