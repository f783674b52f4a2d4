"""Bandit learners, vectorized over replicas: ``init(R, K, xp, dtype)``, ``select``, ``update``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import in_range, positive, require


class CountState(NamedTuple):
    counts: Any  # (R, K) pulls
    sums: Any  # (R, K) reward sums


def _one_hot(xp, arms, K, dtype):
    return xp.astype(xp.arange(K)[None, :] == arms[:, None], dtype)


class _CountingLearner:
    def init(self, R, K, xp, dtype):
        return CountState(xp.zeros((R, K), dtype=dtype), xp.zeros((R, K), dtype=dtype))

    def update(self, state, arms, rewards, t, xp):
        hot = _one_hot(xp, arms, state.counts.shape[1], state.counts.dtype)
        return CountState(state.counts + hot, state.sums + hot * rewards[:, None])

    def spec(self):
        return {"name": self.name, **{k: getattr(self, k) for k in getattr(self, "__dataclass_fields__", {})}}


@dataclass(frozen=True)
class UCB1(_CountingLearner):
    """UCB1 (Auer, Cesa-Bianchi & Fischer 2002): pull each arm once, then
    argmax_i  x̄_i + bonus · √(2 ln t / n_i), t the number of rounds played so far.

    ``bonus`` scales the exploration term; the paper's algorithm is ``bonus = 1`` (the
    field exists so that a mis-scaled bonus can be planted and must be seen)."""

    bonus: float = 1.0
    name = "ucb1"

    def __post_init__(self):
        in_range("bonus", self.bonus, 0.0, math.inf)

    def select(self, state, rng, t, xp):
        K = state.counts.shape[1]
        if t < K:
            return xp.full((state.counts.shape[0],), t, dtype=xp.int64)
        index = state.sums / state.counts + self.bonus * xp.sqrt(2.0 * math.log(t) / state.counts)
        return xp.argmax(index, axis=1)


@dataclass(frozen=True)
class MOSS(_CountingLearner):
    """MOSS (Audibert & Bubeck 2009): after one pull each, argmax_i x̄_i + √(max(ln(T/(K n_i)), 0)/n_i)
    for a known horizon T."""

    horizon: int
    name = "moss"

    def __post_init__(self):
        positive("horizon", self.horizon, integer=True)

    def select(self, state, rng, t, xp):
        R, K = state.counts.shape
        if t < K:
            return xp.full((R,), t, dtype=xp.int64)
        n = state.counts
        bonus = xp.sqrt(xp.maximum(xp.log(self.horizon / (K * n)), 0.0) / n)
        return xp.argmax(state.sums / n + bonus, axis=1)


@dataclass(frozen=True)
class KLUCB(_CountingLearner):
    """KL-UCB for Bernoulli rewards (Garivier & Cappé 2011): after one pull each, the index is
    max{q ∈ [x̄_i, 1] : n_i · d(x̄_i, q) ≤ ln t + c ln ln t}, found by bisection.

    ``divergence="bernoulli"`` (the paper's) takes d = KL(Bernoulli(p) ‖ Bernoulli(q));
    ``"gaussian"`` takes d = 2(q − p)², Pinsker's lower bound on it, whose index is the closed
    form x̄_i + √((ln t + c ln ln t)/(2 n_i)) — a UCB1-type bonus, which is not asymptotically optimal on
    Bernoulli arms whose means are away from ½ (KL > 2Δ² there)."""

    c: float = 0.0
    iterations: int = 32
    divergence: str = "bernoulli"
    name = "kl-ucb"

    def __post_init__(self):
        in_range("c", self.c, 0.0, math.inf)
        positive("iterations", self.iterations, integer=True)
        require(self.divergence in ("bernoulli", "gaussian"),
                f"unknown divergence {self.divergence!r}; use 'bernoulli' or 'gaussian'")

    def select(self, state, rng, t, xp):
        R, K = state.counts.shape
        if t < K:
            return xp.full((R,), t, dtype=xp.int64)
        n, mean = state.counts, state.sums / state.counts
        budget = (math.log(t) + (self.c * math.log(math.log(t)) if t > math.e else 0.0)) / n
        if self.divergence == "gaussian":
            return xp.argmax(mean + xp.sqrt(0.5 * budget), axis=1)
        lo, hi = mean, xp.ones_like(mean)
        for _ in range(self.iterations):  # KL(mean, q) increases in q on [mean, 1]
            mid = 0.5 * (lo + hi)
            inside = bernoulli_kl_array(xp, mean, mid) <= budget
            lo, hi = xp.where(inside, mid, lo), xp.where(inside, hi, mid)
        return xp.argmax(lo, axis=1)


def bernoulli_kl_array(xp, p, q, eps=1e-15):
    """Elementwise KL(Bernoulli(p) ‖ Bernoulli(q)), clipped away from 0 and 1."""
    p, q = xp.clip(p, eps, 1 - eps), xp.clip(q, eps, 1 - eps)
    return p * xp.log(p / q) + (1 - p) * xp.log((1 - p) / (1 - q))


@dataclass(frozen=True)
class EpsilonGreedy(_CountingLearner):
    """ε-greedy: the empirically best arm, or a uniform arm with probability ε (each arm once first)."""

    epsilon: float = 0.1
    name = "epsilon-greedy"

    def __post_init__(self):
        in_range("epsilon", self.epsilon, 0.0, 1.0, closed_high=True)

    def select(self, state, rng, t, xp):
        R, K = state.counts.shape
        if t < K:
            return xp.full((R,), t, dtype=xp.int64)
        greedy = xp.argmax(state.sums / state.counts, axis=1)
        explore = rng.integers(K)
        return xp.where(rng.uniform() < self.epsilon, explore, greedy)


@dataclass(frozen=True)
class ThompsonBernoulli(_CountingLearner):
    """Thompson sampling for Bernoulli rewards (Thompson 1933; Agrawal & Goyal 2012): draw
    θ_i ~ Beta(a + S_i, b + F_i) for every arm and pull argmax θ_i.

    ``update_every = k`` lets the posterior absorb only the rewards of rounds t ≡ 0 (mod k);
    the algorithm is k = 1 (the field exists so that a skipped update can be planted)."""

    a: float = 1.0
    b: float = 1.0
    update_every: int = 1
    name = "thompson"

    def __post_init__(self):
        in_range("a", self.a, 0.0, math.inf, closed_low=False)
        in_range("b", self.b, 0.0, math.inf, closed_low=False)
        positive("update_every", self.update_every, integer=True)

    def update(self, state, arms, rewards, t, xp):
        if t % self.update_every:
            return state
        return _CountingLearner.update(self, state, arms, rewards, t, xp)

    def select(self, state, rng, t, xp):
        return xp.argmax(rng.beta_of(self.a + state.sums, self.b + state.counts - state.sums), axis=1)


class Exp3State(NamedTuple):
    log_weights: Any


@dataclass(frozen=True)
class EXP3:
    """EXP3 (Auer, Cesa-Bianchi, Freund & Schapire 2002, Fig. 1): p = (1−γ) w/Σw + γ/K; the pulled
    arm's weight is multiplied by exp(γ x̂/K) with x̂ = x/p (weights kept in log space)."""

    gamma: float

    name = "exp3"

    def __post_init__(self):
        in_range("gamma", self.gamma, 0.0, 1.0, closed_low=False, closed_high=True)

    def init(self, R, K, xp, dtype):
        return Exp3State(xp.zeros((R, K), dtype=dtype))

    def probabilities(self, state, xp):
        lw = state.log_weights
        w = xp.exp(lw - xp.max(lw, axis=1, keepdims=True))
        K = lw.shape[1]
        return (1.0 - self.gamma) * w / xp.sum(w, axis=1, keepdims=True) + self.gamma / K

    def select(self, state, rng, t, xp):
        p = self.probabilities(state, xp)
        cdf = xp.cumulative_sum(p, axis=1)
        u = rng.uniform()[:, None] * cdf[:, -1:]
        return xp.minimum(xp.sum(xp.astype(cdf <= u, xp.int64), axis=1), p.shape[1] - 1)

    def update(self, state, arms, rewards, t, xp):
        p = self.probabilities(state, xp)
        K = p.shape[1]
        hot = _one_hot(xp, arms, K, p.dtype)
        p_arm = xp.sum(p * hot, axis=1)
        return Exp3State(state.log_weights + hot * (self.gamma * rewards / p_arm / K)[:, None])

    def spec(self):
        return {"name": self.name, "gamma": self.gamma}

    @staticmethod
    def tuned_gamma(K: int, g: float) -> float:
        """γ = min{1, √(K ln K / ((e−1) g))} of Corollary 3.2, for a bound g ≥ G_max."""
        return min(1.0, math.sqrt(K * math.log(K) / ((math.e - 1) * g)))


@dataclass(frozen=True)
class EXP3IX:
    """EXP3-IX (Neu 2015): p = w/Σw; the pulled arm's loss ℓ = 1 − x is estimated as ℓ/(p + γ)
    (implicit exploration) and its weight multiplied by exp(−η ℓ̂)."""

    eta: float
    gamma: float

    name = "exp3-ix"

    def __post_init__(self):
        positive("eta", self.eta)
        in_range("gamma", self.gamma, 0.0, math.inf)

    def init(self, R, K, xp, dtype):
        return Exp3State(xp.zeros((R, K), dtype=dtype))

    def probabilities(self, state, xp):
        lw = state.log_weights
        w = xp.exp(lw - xp.max(lw, axis=1, keepdims=True))
        return w / xp.sum(w, axis=1, keepdims=True)

    select = EXP3.select

    def update(self, state, arms, rewards, t, xp):
        p = self.probabilities(state, xp)
        hot = _one_hot(xp, arms, p.shape[1], p.dtype)
        p_arm = xp.sum(p * hot, axis=1)
        loss_hat = (1.0 - rewards) / (p_arm + self.gamma)
        return Exp3State(state.log_weights - self.eta * hot * loss_hat[:, None])

    def spec(self):
        return {"name": self.name, "eta": self.eta, "gamma": self.gamma}

    @staticmethod
    def tuned(K: int, T: int) -> "EXP3IX":
        """η = 2γ = √(2 ln K/(KT)), the choice of Neu (2015), Theorem 1."""
        eta = math.sqrt(2 * math.log(K) / (K * T))
        return EXP3IX(eta, eta / 2)


@dataclass(frozen=True)
class ExploreThenCommit(_CountingLearner):
    """Explore-then-commit (Lattimore & Szepesvári, Bandit Algorithms, Algorithm 1): pull the arms
    round-robin for m·K rounds, then commit to the arm with the best empirical mean.

    The counts and sums freeze after exploration, so the committed arm never changes.
    """

    m: int
    name = "explore-then-commit"

    def __post_init__(self):
        positive("m", self.m, integer=True)

    def select(self, state, rng, t, xp):
        R, K = state.counts.shape
        if t < self.m * K:
            return xp.full((R,), t % K, dtype=xp.int64)
        return xp.argmax(state.sums / state.counts, axis=1)

    def update(self, state, arms, rewards, t, xp):
        if t >= self.m * state.counts.shape[1]:
            return state
        return _CountingLearner.update(self, state, arms, rewards, t, xp)

    @staticmethod
    def tuned_m(gap: float, T: int) -> int:
        """m = max{1, ⌈4/Δ² ln(TΔ²/4)⌉}, the two-armed choice of Lattimore & Szepesvári (eq. 6.5)."""
        positive("gap", gap)
        return max(1, math.ceil(4 / gap**2 * math.log(max(T * gap**2 / 4, 1.0))))


@dataclass(frozen=True)
class ThompsonGaussian(_CountingLearner):
    """Thompson sampling with Gaussian priors (Agrawal & Goyal 2017, J. ACM 64(5), Algorithm 2):
    θ_i ~ N(S_i/(n_i + 1), σ²/(n_i + 1)) for every arm and pull argmax θ_i (σ = 1 in the paper)."""

    sigma: float = 1.0
    name = "thompson-gaussian"

    def __post_init__(self):
        positive("sigma", self.sigma)

    def select(self, state, rng, t, xp):
        n1 = state.counts + 1.0
        theta = state.sums / n1 + (self.sigma * rng.normal(state.counts.shape[1])) / xp.sqrt(n1)
        return xp.argmax(theta, axis=1)


class TsallisState(NamedTuple):
    loss_estimates: Any  # (R, K) cumulative importance-weighted loss estimates L̂
    weights: Any  # (R, K) the sampling distribution of the current round
    normalizer: Any  # (R, 1) its x, the warm start of the next round's Newton solve


@dataclass(frozen=True)
class TsallisINF:
    """Tsallis-INF with α = ½ (Zimmert & Seldin, arXiv:1807.07623; JMLR 22(28), 2021): FTRL on the
    simplex with the ½-Tsallis entropy, importance-weighted loss estimates and learning rate
    η_t = 2/√t — the variant whose adversarial pseudo-regret bound is 4√(KT) + 1 (their
    Theorem 1; the JMLR version also analyses reduced-variance estimates with η_t = 4/√t, not
    implemented here).  The play is

        w_{t,i} = 4 (η_t (L̂_{t−1,i} − x))^{−2},   x < min_i L̂_{t−1,i} chosen so that Σ_i w_{t,i} = 1;

    the pulled arm's loss ℓ = 1 − reward is estimated by importance weighting, ℓ/w_{t,I_t}.
    The normalization x solves Σ_i w_i(x) = 1.  Newton's method runs on h(x) = (Σ_i w_i(x))^(−½),
    which is affine in x when the L̂_i are equal and concave otherwise, so it converges from
    either side; iterates are kept at or below min L̂ − 2/η, where h ≤ 1.  Started from the
    previous round's x, four steps reach the cold-started 30-step solution to ~1e-15 (3000
    rounds, 10 arms, 256 replicas); vectorized over replicas.
    """

    newton_steps: int = 4
    eta0: float = 2.0  # η_t = eta0/√t; the paper's Theorem 1 takes 2 (a field, so a mis-scaled rate can be planted)
    importance_weighting: bool = True  # ℓ̂ = ℓ/w (the paper); False: ℓ̂ = ℓ, a dropped weight (plantable bug)
    rewards_as_losses: bool = False  # True: ℓ = reward instead of 1 − reward, a sign bug (plantable)
    name = "tsallis-inf"

    def __post_init__(self):
        positive("newton_steps", self.newton_steps, integer=True)
        positive("eta0", self.eta0)

    def init(self, R, K, xp, dtype):  # L̂ = 0: the first play is uniform, x = −2√K/η_1
        return TsallisState(xp.zeros((R, K), dtype=dtype), xp.full((R, K), 1.0 / K, dtype=dtype),
                            xp.full((R, 1), -2.0 * math.sqrt(K) / self.learning_rate(0), dtype=dtype))

    def learning_rate(self, t: int) -> float:
        return self.eta0 / math.sqrt(t + 1)  # round t + 1 of the paper (t counts from 0 here)

    def weights(self, loss_estimates, eta, xp, start=None):
        """The FTRL play for cumulative loss estimates (R, K) and learning rate η (and its x)."""
        return self._solve(loss_estimates, eta, xp, start)[0]

    def _solve(self, loss_estimates, eta, xp, start):
        K = loss_estimates.shape[1]
        low = xp.min(loss_estimates, axis=1, keepdims=True)
        cap = low - 2.0 / eta  # here the best arm alone weighs 1: the root lies at or left of it
        # Cold start: at min L̂ − 2√K/η every weight is ≤ 1/K.  Newton on the concave decreasing h
        # converges from either side (from the left its first step lands right of the root, from
        # the right it descends monotonically), so last round's x is a valid warm start.
        x = low - 2.0 * math.sqrt(K) / eta if start is None else xp.minimum(start, cap)
        ones = xp.ones((K, 1), dtype=loss_estimates.dtype)  # row sums as products: faster for few arms
        for _ in range(self.newton_steps):  # products, not powers: pow() dominates otherwise
            inv = 1.0 / (loss_estimates - x)
            inv2 = inv * inv
            s = inv2 @ ones  # Σ w = 4 s / η²,  h = (η/2) s^(−½)
            root = xp.sqrt(s)
            # Newton step −(h − 1)/h' with h' = −(η/2) s^(−3/2) Σ (L̂_i − x)^(−3)
            x = xp.minimum(x + (0.5 * eta / root - 1.0) * s * root / (0.5 * eta * ((inv2 * inv) @ ones)), cap)
        inv = 1.0 / (loss_estimates - x)
        w = inv * inv
        return w / (w @ ones), x  # w ∝ 4/(η(L̂ − x))²; normalizing removes the residual

    def probabilities(self, state, xp):
        return state.weights

    select = EXP3.select  # samples from ``probabilities``

    def update(self, state, arms, rewards, t, xp):
        w = state.weights
        hot = _one_hot(xp, arms, w.shape[1], w.dtype)
        w_arm = xp.sum(w * hot, axis=1)
        loss = rewards if self.rewards_as_losses else 1.0 - rewards
        loss_estimates = state.loss_estimates + hot * ((loss / w_arm) if self.importance_weighting else loss)[:, None]
        return TsallisState(loss_estimates, *self._solve(loss_estimates, self.learning_rate(t + 1), xp,
                                                         state.normalizer))

    def spec(self):
        spec = {"name": self.name, "newton_steps": self.newton_steps, "eta0": self.eta0}
        bugs = {k: getattr(self, k) for k, default in (("importance_weighting", True), ("rewards_as_losses", False))
                if getattr(self, k) != default}  # the paper's learner keeps its old spec (and cache key)
        return {**spec, **bugs}
