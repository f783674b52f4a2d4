"""Linear stochastic approximation (LSA) with a fixed step, and the exact tail index of its stationary law.

LSA solves Ā θ = b̄ from random estimates (A_k, b_k): θ_{k+1} = θ_k − η (A_{k+1} θ_k − b_{k+1})
(Durmus, Moulines, Naumov, Samsonov, Scaman & Wai, arXiv:2106.01257).  It is SGD whose stochastic
"gradient" is A_{k+1} θ − b_{k+1}, so :class:`ScalarLSA` is a :class:`~convsim.problems.Problem` that
``cs.methods.SGD(eta)`` runs, batched over replicas, with its draws from the replica streams.

In one dimension the recursion is the random affine map θ ← M θ + Q with M = 1 − η a, Q = η b.  When
E log abs(M) < 0 it has a unique stationary law, and by the Kesten–Goldie theorem (Goldie 1991,
Ann. Appl. Probab. 1(1), Theorem 4.1 with Corollary 2.4; Buraczewski, Damek & Mikosch 2016, Theorem
2.4.4) its tails are polynomial, P(abs(θ_∞) > t) ~ c t^(−κ), where κ > 0 solves E abs(1 − η a)^κ = 1
(assumptions: log abs(M) non-arithmetic, E abs(M)^κ log⁺ abs(M) < ∞, E abs(Q)^κ < ∞, P(Mc + Q = c) < 1 for every c;
all hold for Gaussian a and b).  :func:`kesten_index` solves that equation exactly for Gaussian a:
E abs(M)^p is the absolute moment of a normal law, in closed form through Kummer's function 1F1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.special

from ..errors import ConvsimError, positive, require
from ..problems.base import Problem


@dataclass(frozen=True)
class ScalarLSA(Problem):
    """Scalar LSA: A_k = a_mean + a_std·ξ_k, b_k = b_mean + b_std·ζ_k with ξ_k, ζ_k independent N(0, 1).

    ``value`` is the quadratic ½ a_mean θ² − b_mean θ whose gradient is the mean field Āθ − b̄;
    ``stochastic_grad`` is A_{k+1} θ − b_{k+1}, both draws taken at once from the replica streams.
    """

    a_mean: float = 1.0
    a_std: float = 1.0
    b_mean: float = 0.0
    b_std: float = 1.0

    name = "scalar-lsa"
    description = "scalar linear stochastic approximation with Gaussian random A_k and b_k"

    def __post_init__(self):
        positive("a_mean", self.a_mean)
        require(self.a_std >= 0 and self.b_std >= 0, "a_std and b_std must be non-negative")
        object.__setattr__(self, "dim", 1)
        object.__setattr__(self, "_x_star", np.array([self.b_mean / self.a_mean]))
        object.__setattr__(self, "_f_star", -0.5 * self.b_mean**2 / self.a_mean)

    def value(self, x):
        xp = self.namespace_of(x)
        return xp.sum(0.5 * self.a_mean * x * x - self.b_mean * x, axis=-1)

    def grad(self, x):
        return self.a_mean * x - self.b_mean

    def stochastic_grad(self, x, rng):
        z = rng.normal(2)  # (R, 2): the A- and b-noise of each replica, in one draw (buffers are reused)
        a = self.a_mean + self.a_std * z[:, 0:1]
        b = self.b_mean + self.b_std * z[:, 1:2]
        return a * x - b

    def constants(self):
        return {"d": 1, "a_mean": self.a_mean, "a_std": self.a_std, "b_mean": self.b_mean, "b_std": self.b_std,
                "f_star": self._f_star}

    def spec(self):
        return {"name": self.name, "a_mean": self.a_mean, "a_std": self.a_std, "b_mean": self.b_mean,
                "b_std": self.b_std}


def log_abs_normal_moment(p, mean: float, std: float):
    """log E abs(Z)^p for Z ~ N(mean, std²), p > −1: std^p 2^(p/2) Γ((p+1)/2)/√π · 1F1(−p/2; 1/2; −mean²/(2 std²))."""
    p = np.asarray(p, dtype=np.float64)
    z = mean * mean / (2.0 * std * std)
    return (p * math.log(std) + 0.5 * p * math.log(2.0) + scipy.special.gammaln(0.5 * (p + 1.0))
            - 0.5 * math.log(math.pi) + np.log(scipy.special.hyp1f1(-0.5 * p, 0.5, -z)))


def kesten_index(eta: float, a_mean: float = 1.0, a_std: float = 1.0) -> float:
    """The tail index κ > 0 of stationary scalar LSA with step ``eta``: the root of E abs(1 − η a)^κ = 1, a ~ N(a_mean, a_std²).

    p ↦ log E abs(M)^p is convex and vanishes at 0; it has a positive root iff its slope at 0,
    E log abs(M), is negative (a stationary law exists) and abs(M) > 1 with positive probability
    (always, for Gaussian a with a_std > 0).  The root is bracketed by the minimizer and a
    doubling search, then found by Brent's method.
    """
    positive("eta", eta)
    positive("a_std", a_std)
    m, v = 1.0 - eta * a_mean, eta * a_std
    f = lambda p: float(log_abs_normal_moment(p, m, v))
    low = scipy.optimize.minimize_scalar(f, bounds=(1e-9, 200.0), method="bounded", options={"xatol": 1e-10}).x
    if not f(low) < 0:
        raise ConvsimError(f"E log|1 - eta a| >= 0 at eta={eta:g}: scalar LSA has no stationary law")
    high = max(2.0 * low, 1.0)
    while f(high) <= 0:
        high *= 2.0
        require(high < 1e4, f"no tail index below 1e4 at eta={eta:g}")
    return float(scipy.optimize.brentq(f, low, high, xtol=1e-12, rtol=1e-12))
