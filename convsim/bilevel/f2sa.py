"""F2SA: the fully first-order stochastic approximation method for bilevel problems, and its
momentum-assisted variant.

Source: J. Kwon, D. Kwon, S. Wright, R. Nowak, "A Fully First-Order Method for Stochastic
Bilevel Optimization", ICML 2023, arXiv:2301.10945 — Algorithm 1 (F2SA) and Algorithm 2
(momentum-assisted F2SA).

F2SA never forms a Hessian: it follows the penalty Lagrangian

    L_λ(x, y) = f(x, y) + λ (g(x, y) − g*(x)),     g*(x) = min_z g(x, z),

whose x-gradient, by Danskin, is ∇_x f(x, y) + λ(∇_x g(x, y) − ∇_x g(x, z*(x))).  Two lower
variables are tracked: z → argmin g(x, ·) and y → argmin L_λ(x, ·).  One outer step k:

    (T inner steps)  z ← z − γ_k ∇_y g(x_k, z)
                     y ← y − α_k (∇_y f(x_k, y) + λ_k ∇_y g(x_k, y))
    x_{k+1} = x_k − ξ α_k (∇_x f(x_k, y) + λ_k (∇_x g(x_k, y) − ∇_x g(x_k, z)))

with α_k = c_α (k + k₀)^−a, γ_k = c_γ (k + k₀)^−c and λ_k = γ_k/α_k, so that the y-update's
effective step on the λ-scaled lower objective, α_k λ_k, equals the z step γ_k.  With
λ_k ∝ k^b (b = a − c) the penalty bias ‖∇F − ∇_x L*_λ‖ = O(1/λ_k) caps E‖∇F(x_k)‖² at
O(k^−2b); the paper's rates — ε^−7/2, ε^−5/2, ε^−3/2 iterations for noise in both levels, in
the upper level only, and none — correspond to b = 1/7, 1/5, 1/3 (:data:`REGIMES`).  The
abstract states the rates; the exponents (a, c) here are the ones that produce them (the
corollary's text was not available to us, see the claim files).

The momentum variant (Algorithm 2, T = 1) replaces each single-sample gradient by a
STORM-type recursive estimator that evaluates the *same sample* at the current and the
previous iterate,

    h̃^k = ∇(·_k; ξ^k) + (1 − η_k)(h̃^{k−1} − ∇(·_{k−1}; ξ^k)),

which is what buys the improved rates ε^−5/2, ε^−2, ε^−3/2 (:data:`MOMENTUM_REGIMES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..errors import ConvsimError, positive
from ..schedules import Schedule, as_schedule
from ..schedules import power_decay
from .penalty import penalty_x_grad
from .protocol import BilevelMethod

REGIMES = {"both": (5 / 7, 4 / 7), "upper": (3 / 5, 2 / 5), "deterministic": (1 / 3, 0.0)}
"""(a, c) of α_k ∝ k^−a and γ_k ∝ k^−c for plain F2SA; λ_k ∝ k^(a−c) gives the rate k^−2(a−c)."""

MOMENTUM_REGIMES = {"both": (3 / 5, 2 / 5), "upper": (1 / 2, 1 / 4), "deterministic": (1 / 3, 0.0)}
"""(a, c) for momentum-assisted F2SA: rates k^−2/5, k^−1/2, k^−2/3 (ε^−5/2, ε^−2, ε^−3/2)."""

CLAIMED_EXPONENT = {False: {"both": 3.5, "upper": 2.5, "deterministic": 1.5},
                    True: {"both": 2.5, "upper": 2.0, "deterministic": 1.5}}
"""The abstract's iteration complexities: iterations to E‖∇F‖² ≤ ε grow as ε^−(this)."""


def paired(oracle, kind: str, new: tuple, old: tuple, batch: int = 1):
    """One stochastic sample of oracle ``kind`` evaluated at two points: ``(at new, at old)``.

    The momentum estimators of Algorithm 2 need ∇(·; ξ) at consecutive iterates with the
    same ξ (the mean-squared-smoothness oracle).  On a finite sum the same indices are
    queried at both points.  For streaming noise the protocol's noise is additive and
    state-independent, so the same sample at ``old`` is the exact answer there plus the noise
    drawn at ``new``.  Either way it counts as two calls (two gradient evaluations).
    """
    problem = oracle.problem
    level = "f" if kind in ("f", "grad_f_x", "grad_f_y") else "g"
    if problem.n_samples(level) is not None:
        idx = oracle.sample(level, batch)
        ask = getattr(oracle, kind)
        return ask(*new, idx=idx), ask(*old, idx=idx)
    exact_new = getattr(problem, kind)(*new)
    exact_old = getattr(problem, kind)(*old)
    v = new[2] if len(new) == 3 else None  # products (hvp_yy, cross_xy, cross_yx): noise scales with ‖v‖
    noisy_new = problem.perturb(kind, exact_new, oracle.rng, batch, v)
    oracle.calls[kind] += 2 * batch
    return noisy_new, exact_old + (noisy_new - exact_new)


class F2SAState(NamedTuple):
    x: object
    y: object       # tracks argmin_y f + λ g
    z: object       # tracks argmin_z g
    hg: object      # the last hypergradient estimate ∇_x f + λ (∇_x g(x, y) − ∇_x g(x, z))
    hg_x: object    # the x at which hg was formed


@dataclass(frozen=True)
class F2SA(BilevelMethod):
    """Algorithm 1 of arXiv:2301.10945 with the polynomial schedules of the module docstring.

    ``alpha``, ``gamma``: the schedules α_k (y and, times ξ, x steps) and γ_k (z steps);
    λ_k = γ_k/α_k.  ``xi``: the ratio ξ of the x step to α_k; ``inner``: T.
    :meth:`for_regime` builds the schedules of a noise regime (:data:`REGIMES`).
    """

    alpha: Schedule = power_decay(0.3, 5 / 7, 10.0)
    gamma: Schedule = power_decay(0.8, 4 / 7, 10.0)
    xi: float = 1.0
    inner: int = 1

    name = "f2sa"
    description = "fully first-order bilevel method: penalty Lagrangian with growing multiplier λ_k = γ_k/α_k"
    source = "Kwon, Kwon, Wright, Nowak, ICML 2023, arXiv:2301.10945, Algorithm 1"
    regimes = REGIMES

    def __post_init__(self):
        for name in ("alpha", "gamma"):
            object.__setattr__(self, name, as_schedule(getattr(self, name)))
        positive("xi", self.xi)
        positive("inner", self.inner, integer=True)

    @classmethod
    def for_regime(cls, regime: str, *, alpha0: float = 0.3, gamma0: float = 0.8, k0: float = 10.0, **kw):
        """α_k = alpha0 (k+k0)^−a, γ_k = gamma0 (k+k0)^−c with the regime's (a, c)."""
        if regime not in cls.regimes:
            raise ConvsimError(f"unknown noise regime {regime!r}; choose one of {', '.join(cls.regimes)}")
        a, c = cls.regimes[regime]
        return cls(alpha=power_decay(alpha0, a, k0), gamma=power_decay(gamma0, c, k0), **kw)

    def lam(self, k: int) -> float:
        """The multiplier λ_k = γ_k/α_k (a host float)."""
        return self.gamma(k) / self.alpha(k)

    # -- protocol --------------------------------------------------------------------------------
    def init(self, x0, y0, oracle):
        return F2SAState(x0, y0, y0, x0 * 0.0, x0)

    def step(self, state, oracle, t):
        x, y, z = state.x, state.y, state.z
        alpha, gamma = self.alpha(t), self.gamma(t)
        lam = gamma / alpha
        for _ in range(self.inner):
            z = z - gamma * oracle.grad_g_y(x, z)
            y = y - alpha * (oracle.grad_f_y(x, y) + lam * oracle.grad_g_y(x, y))
        hg = penalty_x_grad(oracle, x, y, z, lam)
        return F2SAState(x - (self.xi * alpha) * hg, y, z, hg, x)


class F2SAMomentumState(NamedTuple):
    x: object
    y: object
    z: object
    hg: object
    hg_x: object
    prev: tuple     # (x, y, z) of the previous iterate; None before the first step
    est: tuple      # h̃_z, h̃_fy, h̃_gy, h̃_fx, h̃_gxy, h̃_gxz


@dataclass(frozen=True)
class F2SAMomentum(F2SA):
    """Algorithm 2 of arXiv:2301.10945: F2SA with STORM-type momentum estimators (T = 1).

    ``eta0``: the momentum weight is η_k = min(1, c_η γ_k²) — STORM's weight ∝ (step)² on the time
    scale of the fast variable (the paper's rule for η_k was not available to us: only the
    recursion of Appendix "Main Results for Algorithm 2" was read).  ``eta0`` so large that
    η_k = 1 switches the momentum off (the plain same-iteration estimator).
    """

    alpha: Schedule = power_decay(0.3, 3 / 5, 10.0)
    gamma: Schedule = power_decay(0.8, 2 / 5, 10.0)
    eta0: float = 1.0

    name = "f2sa-momentum"
    description = "F2SA with momentum-assisted (STORM-type, same-sample) gradient estimators"
    source = "Kwon, Kwon, Wright, Nowak, ICML 2023, arXiv:2301.10945, Algorithm 2"
    regimes = MOMENTUM_REGIMES

    def __post_init__(self):
        super().__post_init__()
        positive("eta0", self.eta0)
        if self.inner != 1:
            raise ConvsimError("momentum-assisted F2SA takes one inner step per iteration (inner=1)")

    def eta(self, k: int) -> float:
        return min(1.0, self.eta0 * self.gamma(k) ** 2)

    def init(self, x0, y0, oracle):
        return F2SAMomentumState(x0, y0, y0, x0 * 0.0, x0, None, None)

    def step(self, state, oracle, t):
        x, y, z = state.x, state.y, state.z
        alpha, gamma = self.alpha(t), self.gamma(t)
        lam = gamma / alpha
        # (kind, point-builder) of the six estimated directions, in the order of ``est``
        queries = (("grad_g_y", lambda p: (p[0], p[2])), ("grad_f_y", lambda p: (p[0], p[1])),
                   ("grad_g_y", lambda p: (p[0], p[1])), ("grad_f_x", lambda p: (p[0], p[1])),
                   ("grad_g_x", lambda p: (p[0], p[1])), ("grad_g_x", lambda p: (p[0], p[2])))
        now = (x, y, z)
        if state.prev is None:  # h̃^0: plain samples
            est = tuple(getattr(oracle, kind)(*where(now)) for kind, where in queries)
        else:
            keep = 1.0 - self.eta(t)
            est = []
            for (kind, where), h in zip(queries, state.est):
                new, old = paired(oracle, kind, where(now), where(state.prev))
                est.append(new + keep * (h - old))
            est = tuple(est)
        h_z, h_fy, h_gy, h_fx, h_gxy, h_gxz = est
        hg = h_fx + lam * (h_gxy - h_gxz)
        return F2SAMomentumState(x - (self.xi * alpha) * hg, y - alpha * (h_fy + lam * h_gy), z - gamma * h_z,
                                 hg, x, now, est)
