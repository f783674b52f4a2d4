"""Online convex optimization learners, vectorized over replicas.

Protocol: ``state = learner.init(R, domain, xp, dtype)``; each round the learner plays
``state.x`` (shape (R, d)), observes g_t = ∇f_t(x_t) and returns ``learner.update(state, g, t, xp)``
(t = 0, 1, ... counts completed rounds, so round t + 1 of the papers).

Step sizes: a host schedule (``cs.schedules``: ``constant``, ``inverse_sqrt``, ``inverse_time``,
evaluated at t) or :class:`Adaptive`, η_t = min{cap, D/√(δ + Σ_{s<t} ‖g_s − M_s‖²)} with M_s the
hint (0 for learners without hints), one per replica.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import in_range, positive, require
from ..schedules import Schedule
from .domains import Ball, Simplex


@dataclass(frozen=True)
class Adaptive:
    """η_t = min{cap, D / √(δ + Σ_{s<t} ‖g_s − M_s‖²)}, per replica (AdaGrad-norm type; with hints,
    the optimistic step size of the SEA analyses)."""

    D: float
    delta: float = 1.0
    cap: float = math.inf

    def __post_init__(self):
        positive("D", self.D)
        positive("delta", self.delta)
        in_range("cap", self.cap, 0.0, math.inf, closed_low=False, closed_high=True)

    def __call__(self, t, acc, xp):
        return xp.minimum(self.cap, self.D / xp.sqrt(self.delta + acc))

    def spec(self):
        return {"name": "adaptive", "D": self.D, "delta": self.delta, "cap": self.cap}


def _eta(step, t, acc, xp):
    return step(t, acc, xp) if isinstance(step, Adaptive) else step(t)


def _step_spec(step):
    if isinstance(step, Adaptive):
        return step.spec()
    return {"name": type(step).__name__, **{k: getattr(step, k) for k in getattr(step, "__dataclass_fields__", {})}}


def _check_step(step):
    require(isinstance(step, (Adaptive, Schedule)), f"a step size must be a cs.schedules schedule or "
                                                    f"cs.online.Adaptive, got {type(step).__name__}")


def _sq(xp, v):
    return xp.sum(v * v, axis=1, keepdims=True)


def _softmax(xp, z):
    w = xp.exp(z - xp.max(z, axis=1, keepdims=True))
    return w / xp.sum(w, axis=1, keepdims=True)


class _Mirror:
    """Shared by OMD-type learners: the mirror map's primal step and its link to the play."""

    def _check_domain(self, domain):
        if self.mirror == "entropic":
            require(isinstance(domain, Simplex), "the entropic mirror map lives on the simplex")
        require(self.mirror in ("euclidean", "entropic"), f"unknown mirror map {self.mirror!r}; "
                                                          "use 'euclidean' or 'entropic'")

    def _start(self, domain, R, xp, dtype):
        # entropic OMD keeps the logits log x (the dual variable up to a constant)
        x = domain.start(R, xp, dtype)
        return x, (xp.log(x) if self.mirror == "entropic" else x)

    def _descend(self, domain, z, eta, g, xp):
        """argmin_x ⟨g, x⟩ + B(x, z)/η: (point, mirror variable)."""
        if self.mirror == "entropic":
            z = z - eta * g
            return _softmax(xp, z), z
        x = domain.project(z - eta * g, xp)
        return x, x


class OMDState(NamedTuple):
    x: Any
    z: Any  # x itself (Euclidean) or logits (entropic)
    acc: Any  # Σ ‖g_s‖², for Adaptive steps


@dataclass(frozen=True)
class OMD(_Mirror):
    """Online mirror descent: x_{t+1} = argmin_x ⟨g_t, x⟩ + B_ψ(x, x_t)/η_t.

    ``mirror="euclidean"`` (ψ = ½‖·‖²) is projected online gradient descent (Zinkevich 2003);
    ``"entropic"`` (negative entropy, simplex) is exponentiated gradient / Hedge,
    x_{t+1,i} ∝ x_{t,i} e^{−η_t g_{t,i}}.
    """

    step: Any
    mirror: str = "euclidean"
    name = "omd"

    def __post_init__(self):
        _check_step(self.step)

    def init(self, R, domain, xp, dtype):
        self._check_domain(domain)
        x, z = self._start(domain, R, xp, dtype)
        return OMDState(x, z, xp.zeros((R, 1), dtype=dtype))

    def update(self, state, g, t, xp, domain):
        x, z = self._descend(domain, state.z, _eta(self.step, t, state.acc, xp), g, xp)
        return OMDState(x, z, state.acc + _sq(xp, g))

    def spec(self):
        return {"name": self.name, "mirror": self.mirror, "step": _step_spec(self.step)}


def OGD(step) -> OMD:
    """Projected online gradient descent, x_{t+1} = Π(x_t − η_t g_t): OMD with the Euclidean mirror map."""
    return OMD(step, "euclidean")


class FTRLState(NamedTuple):
    x: Any
    G: Any  # Σ_{s≤t} g_s
    acc: Any
    hint: Any  # M_{t+1} (zero without optimism)


@dataclass(frozen=True)
class FTRL:
    """Follow the regularized leader with linearized losses: x_{t+1} = argmin_x ⟨G_t + M_{t+1}, x⟩ + ψ(x)/η_{t+1}.

    ``regularizer="euclidean"``: ψ = ½‖x‖², so x_{t+1} = Π(−η (G_t + M_{t+1})) on a ball centred at 0 or
    on the simplex; ``"entropic"``: x_{t+1} = softmax(−η (G_t + M_{t+1})).  ``optimistic=True`` uses the
    last gradient as the hint, M_{t+1} = g_t (optimistic FTRL, Rakhlin & Sridharan 2013; the
    algorithm Sachs et al. 2022 analyse in the SEA model); otherwise M = 0.
    """

    step: Any
    regularizer: str = "euclidean"
    optimistic: bool = False
    name = "ftrl"

    def __post_init__(self):
        _check_step(self.step)
        require(self.regularizer in ("euclidean", "entropic"), f"unknown regularizer {self.regularizer!r}")

    def init(self, R, domain, xp, dtype):
        if self.regularizer == "entropic":
            require(isinstance(domain, Simplex), "the entropic regularizer lives on the simplex")
        zero = xp.zeros((R, domain.d), dtype=dtype)
        return FTRLState(domain.start(R, xp, dtype), zero, xp.zeros((R, 1), dtype=dtype), zero)

    def update(self, state, g, t, xp, domain):
        G = state.G + g
        acc = state.acc + _sq(xp, g - state.hint)
        hint = g if self.optimistic else state.hint
        eta = _eta(self.step, t + 1, acc, xp)
        if self.regularizer == "entropic":
            x = _softmax(xp, -eta * (G + hint))
        else:
            x = domain.project(-eta * (G + hint), xp)
        return FTRLState(x, G, acc, hint)

    def spec(self):
        return {"name": self.name, "regularizer": self.regularizer, "optimistic": self.optimistic,
                "step": _step_spec(self.step)}


class OptimisticState(NamedTuple):
    x: Any  # x_t, the play
    z: Any  # x̂_t (Euclidean) or its logits (entropic)
    hint: Any  # M_t
    acc: Any  # Σ_{s<t} ‖g_s − M_s‖²


@dataclass(frozen=True)
class OptimisticOMD(_Mirror):
    """Optimistic online mirror descent with the last gradient as hint (Rakhlin & Sridharan 2013;
    Chiang et al. 2012):

        x_t = argmin_x ⟨M_t, x⟩ + B_ψ(x, x̂_t)/η_t,   x̂_{t+1} = argmin_x ⟨g_t, x⟩ + B_ψ(x, x̂_t)/η_t,

    M_{t+1} = g_t (M_1 = 0).  With ``Adaptive`` steps, η_t = min{cap, D/√(δ + Σ_{s<t}‖g_s − M_s‖²)}.

    ``optimistic=False`` drops the hint (M_t = 0): then x_t = x̂_t and the learner is plain OMD
    with the same step (the field exists so that a dropped hint can be planted).
    """

    step: Any
    mirror: str = "euclidean"
    optimistic: bool = True
    name = "optimistic-omd"

    def __post_init__(self):
        _check_step(self.step)

    def init(self, R, domain, xp, dtype):
        self._check_domain(domain)
        x, z = self._start(domain, R, xp, dtype)
        return OptimisticState(x, z, xp.zeros((R, domain.d), dtype=dtype), xp.zeros((R, 1), dtype=dtype))

    def update(self, state, g, t, xp, domain):
        _, z = self._descend(domain, state.z, _eta(self.step, t, state.acc, xp), g, xp)
        acc = state.acc + _sq(xp, g - state.hint)
        hint = g if self.optimistic else 0.0 * g  # M_{t+1} = g_t
        x, _ = self._descend(domain, z, _eta(self.step, t + 1, acc, xp), hint, xp)
        return OptimisticState(x, z, hint, acc)

    def spec(self):
        spec = {"name": self.name, "mirror": self.mirror, "step": _step_spec(self.step)}
        return spec if self.optimistic else {**spec, "optimistic": False}


class NewtonState(NamedTuple):
    x: Any  # the play
    hat: Any  # x̂ (optimistic) or x (plain)
    hint: Any
    A: Any  # (R, d, d)


@dataclass(frozen=True)
class ONS:
    """Online Newton step (Hazan, Agarwal & Kale 2007; Hazan, Introduction to Online Convex
    Optimization, Algorithm 12) on a ball:

        A_t = ε I + Σ_{s≤t} g_s g_sᵀ,   x_{t+1} = Π^{A_t}(x_t − (1/γ) A_t⁻¹ g_t),

    Π^A the projection in the norm ‖·‖_A.  For α-exp-concave losses with ‖g‖ ≤ G on a set of
    diameter D the book takes γ = ½ min{1/(GD), α} and ε = 1/(γ² D²) (:meth:`tuned`).

    ``optimistic=True``: the last gradient as hint, with the matrix built from g_s − M_s
    (the gradual-variation ONS of Chiang et al. 2012, the exp-concave learner of the SEA analyses):

        x_t = Π^{A_{t−1}}(x̂_t − (1/γ) A_{t−1}⁻¹ M_t),   A_t = A_{t−1} + (g_t − M_t)(g_t − M_t)ᵀ,
        x̂_{t+1} = Π^{A_t}(x̂_t − (1/γ) A_t⁻¹ g_t).
    """

    gamma: float
    epsilon: float
    optimistic: bool = False
    name = "ons"

    def __post_init__(self):
        positive("gamma", self.gamma)
        positive("epsilon", self.epsilon)

    @classmethod
    def tuned(cls, alpha: float, G: float, D: float, optimistic: bool = False) -> "ONS":
        gamma = 0.5 * min(1.0 / (G * D), alpha)
        return cls(gamma, 1.0 / (gamma**2 * D**2), optimistic)

    def init(self, R, domain, xp, dtype):
        require(isinstance(domain, Ball), "ONS is implemented on a Ball")
        x = domain.start(R, xp, dtype)
        A = self.epsilon * xp.eye(domain.d, dtype=dtype)[None, :, :] + xp.zeros((R, 1, 1), dtype=dtype)
        return NewtonState(x, x, xp.zeros_like(x), A)

    def _newton(self, domain, point, A_eig, v, xp):
        """Π^A(point − (1/γ) A⁻¹ v) from A's eigenpairs."""
        lam, Q = A_eig
        inv_v = xp.sum(Q * (xp.sum(Q * v[:, :, None], axis=1) / lam)[:, None, :], axis=2)  # Q Λ⁻¹ Qᵀ v
        return domain.project_in_norm(point - inv_v / self.gamma, lam, Q, xp)

    def update(self, state, g, t, xp, domain):
        r = g - state.hint
        A = state.A + r[:, :, None] * r[:, None, :]
        eig = xp.linalg.eigh(A)
        hat = self._newton(domain, state.hat, eig, g, xp)
        if not self.optimistic:
            return NewtonState(hat, hat, state.hint, A)
        return NewtonState(self._newton(domain, hat, eig, g, xp), hat, g, A)

    def spec(self):
        return {"name": self.name, "gamma": self.gamma, "epsilon": self.epsilon, "optimistic": self.optimistic}
