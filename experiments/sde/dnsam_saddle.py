"""sam-sde-saddle: DNSAM's SDE is attracted to a saddle that SGD's SDE escapes.

Source: E. M. Compagnoni et al., "An SDE for Modeling SAM: Theory and Insights", ICML 2023,
arXiv:2301.08203, abstract and Sec. 4 ("we prove that SAM is attracted to saddle points
under some realistic conditions", via the SDE of DNSAM, SAM normalized by the full
gradient's norm).  Mechanism, from the DNSAM SDE's drift −(∇f + ρH∇f/‖∇f‖): along an
eigendirection with curvature λ < 0 the drift is −λx(1 + ρλ/‖∇f‖), which points TOWARD
the saddle once ‖∇f‖ < ρ|λ|; the noise ρHC/‖∇f‖ does not push it out.
What is encoded: the paper's exact conditions could not be read from the stored copy
(abstract and introduction only), so the claim tests the qualitative statement on a toy
saddle, against SGD's SDE from the same start with the same noise.

Setting: f(x) = ½(x1² − 0.5 x2²) (a saddle at 0), additive Gaussian gradient noise of
standard deviation 0.05 per coordinate, ρ = 0.5, η = 0.02, start (0.5, 0.05), horizon
T = 10; SDEs by Euler–Maruyama with dt = η/2; the discrete methods are convsim's DNSAM and
SGD (one minibatch at both points).  Metric: the escape indicator 1{‖x_T‖ ≥ 1} (a path that escapes grows like e^{t/2}, so
means of ‖x_T‖² would measure the few escapes only).
Checked (Compare, paired replicas): SGD escapes at least 10 times as often as DNSAM, for the
SDEs (sam-sde-saddle) and for the discrete methods (sam-sde-saddle-discrete).  (The factor
was 3 until issue #11; the full run measured 34, flagged [loose] (> 10x inside), so the
statement was sharpened to an order of magnitude — a stronger claim, not a weaker one.)  The tested
statistic is the escape probability P(‖x_T‖ ≥ 1) of each method (the mean of the 0/1
indicator over replicas), and the verdict is on the ratio of the two probabilities; it is
not a rate, so no log-scale fit is involved (the figure's log axis is cosmetic).  Measured
(4096 paths): SGD and its SDE escape with probability 1, DNSAM's SDE about 0.03, discrete
DNSAM about 0.05.
Negative controls (near misses, issue #11): SGD escapes at least 64 times as often as DNSAM
(false: about 34 times for the SDEs and 19 times for the discrete methods).  Resized after a run (disclosed):
with 256 quick paths DNSAM escapes ~8 times, and on the SFC64 streams the ratio's interval reached 85, past the
controls' 64; the quick run now has 1024 paths (SFC64: SDEs 30.1 [22.3, 44.5], discrete 27.0 [20.5, 37.9]).
Mutations: the mechanism is the sharpness term of DNSAM's drift and its normalization by
the full gradient's norm.  Caught: the SDE drift's ρ set to 0, the normalization
removed (USAM's drift, which escapes this saddle since ρ|λ_min| = 0.25 < 1); for the discrete
method ρ ×0.1 and DNSAM replaced by USAM (same ρ).  Blind: ρ doubled (a larger ρ only
strengthens the attraction), the SDE's ρ halved (first declared caught from the quick run,
whose paths cannot resolve the factor; the full run measured the ratio 31 [27, 37], still
attracted, as the mechanism predicts), discrete DNSAM's ρ halved (measured: still attracted, as the
mechanism predicts while ‖∇f‖ < ρ|λ_min| near the saddle) and DNSAM's diffusion dropped (the
attraction is a property of the drift; noise only helps escape).
"""

from dataclasses import replace

import numpy as np
from array_api_compat import array_namespace

import convsim as cs
from convsim import mutations as mu
from convsim.problems.base import Problem

NEEDS_FLOAT64 = "the near-miss control's factor is resolved on the float64 sample; float32 draws other random numbers"

SOURCE = cs.Source("An SDE for Modeling SAM: Theory and Insights", "2301.08203",
                   "Sec. 4: SAM (DNSAM SDE) is attracted to saddle points")


class NoisySaddle(Problem):
    """f(x) = ½ Σ λ_i x_i² with λ of both signs (a saddle at 0) and additive N(0, s² I) gradient noise."""

    name = "noisy-saddle"
    description = "indefinite diagonal quadratic with additive Gaussian gradient noise"

    def __init__(self, curvatures, noise, x0):
        self.lam = np.asarray(curvatures, dtype=np.float64)
        self.dim, self.noise = self.lam.size, float(noise)
        self._x_star, self._f_star, self._x0 = np.zeros(self.dim), 0.0, np.asarray(x0, dtype=np.float64)

    def value(self, x):
        return 0.5 * self.namespace_of(x).sum(self.on(x, "lam", self.lam) * x * x, axis=-1)

    def grad(self, x):
        return self.on(x, "lam", self.lam) * x

    def hvp(self, x, v):
        return self.on(x, "lam", self.lam) * v

    def stochastic_grad(self, x, rng):
        return self.grad(x) + self.noise * rng.normal(self.dim)

    def spec(self):
        return {"name": self.name, "lam": self.lam.tolist(), "noise": self.noise, "x0": self._x0.tolist()}

    def gradient_noise(self) -> cs.sde.GradientNoise:
        return cs.sde.GradientNoise(self.dim, self.grad, self.noise**2 * np.eye(self.dim), np.diag(self.lam),
                                    name=f"noisy-saddle:{self.lam.tolist()}:{self.noise}")


def problem_for(s):
    return NoisySaddle([1.0, -0.5], s["noise"], [0.5, 0.05])


def escaped(_, x):
    """1 where ‖x‖ ≥ 1 (the path has left the saddle's neighbourhood), else 0."""
    xp = array_namespace(x)
    return xp.astype(xp.sum(x * x, axis=-1) >= 1.0, x.dtype)


def experiment(s, ctx):
    problem, eta, T = problem_for(s), s["eta"], s["horizon"]
    noisy, steps, dt = problem.gradient_noise(), int(round(T / eta)), eta / 2
    x0, out, metrics = problem.initial_point(), {}, {"escaped": escaped}
    for name, sde in (("dnsam-sde", cs.sde.dnsam_sde(noisy, eta, s["rho"])), ("sgd-sde", cs.sde.gradient_sde(noisy, eta))):
        trace = ctx.simulate_sde(sde, cs.sde.EulerMaruyama(), x0, T, dt, s["replicas"], metrics=metrics,
                                 record="linear")
        out[name] = replace(trace, steps=trace.steps * (dt / eta))  # SDE time in method steps, for the figure
    for name, method in (("dnsam", cs.methods.DNSAM(eta, rho=s["rho"])), ("sgd", cs.methods.SGD(eta))):
        out[name] = ctx.simulate(problem, method, steps, replicas=s["replicas"], metrics=metrics, record="linear")
    return out


def stays(a, b, factor):
    """``b`` escapes at least ``factor`` times as often as ``a``: P_b(‖x_T‖ ≥ 1) / P_a(‖x_T‖ ≥ 1) ≥ factor."""
    return lambda data, s: cs.checks.Compare("escaped", factor).check(data[a], data[b])


def _without_dnsam_diffusion(sde):
    """DNSAM's SDE with its diffusion dropped (SGD's SDE, the comparison, keeps its noise)."""
    if not sde.name.startswith("dnsam-sde"):
        return None
    return replace(sde, diffusion=mu.ScaledCall(sde.diffusion, 0.0))


SETTINGS = {"noise": 0.05, "rho": 0.5, "eta": 0.02, "horizon": 10.0}

SDE_MUTATIONS = (
    mu.set_field("rho", 0.0, on="SharpnessDrift", name="SDE drift rho=0"),
    mu.scale("rho", 0.5, on="SharpnessDrift", name="SDE drift rho x0.5").blind(
        "at rho = 0.25 the SDE stays attracted (the gradient norm near the saddle is still below rho |lambda_min|): "
        "4096 paths measure the ratio 31 [27, 37]; the quick paths may not resolve the factor 10"),
    mu.set_field("normalization", "none", on="SharpnessDrift", name="SDE drift not normalized (USAM's)"),
    mu.scale("rho", 2.0, on="SharpnessDrift", name="SDE drift rho x2").blind(
        "a larger rho only strengthens the attraction"),
    mu.custom("DNSAM SDE diffusion dropped", _without_dnsam_diffusion, on="SDE").blind(
        "the attraction is the drift's; noise only helps the paths escape"),
)
DISCRETE_MUTATIONS = (
    mu.scale("rho", 0.1, on="DNSAM"),
    mu.scale("rho", 0.5, on="DNSAM").blind("discrete DNSAM stays attracted at rho = 0.25: the attraction holds "
                                           "while the gradient norm near the saddle is below rho |lambda_min|"),
    mu.custom("DNSAM normalization dropped (USAM)", lambda m: cs.methods.USAM(m.inner, rho=m.rho), on="DNSAM"),
    mu.scale("rho", 2.0, on="DNSAM").blind("a larger rho only strengthens the attraction"),
)

claim = cs.Claim(
    id="sam-sde-saddle",
    family="sde",
    statement="DNSAM's SDE is attracted to a saddle that SGD's SDE escapes: P(||X_T|| >= 1) smaller by a factor >= 10",
    source=SOURCE,
    assumptions=("strict saddle with a negative curvature direction", "additive gradient noise", "rho|lambda_min| "
                 "larger than the gradient norm near the saddle"),
    experiment=experiment,
    check=stays("dnsam-sde", "sgd-sde", 10.0),
    quick={**SETTINGS, "replicas": 1024},
    full={**SETTINGS, "replicas": 4096},
    mutations=SDE_MUTATIONS,
)

discrete = cs.Claim(
    id="sam-sde-saddle-discrete",
    family="sde",
    statement="discrete DNSAM is attracted to a saddle that SGD escapes: P(||x_T|| >= 1) smaller by a factor >= 10",
    source=SOURCE,
    assumptions=claim.assumptions,
    experiment=experiment,
    check=stays("dnsam", "sgd", 10.0),
    quick=claim.quick,
    full=claim.full,
    mutations=DISCRETE_MUTATIONS,
)

negative = claim.negative_control(
    "SGD's SDE escapes the saddle at least 64 times as often as DNSAM's SDE (false: about 34 times; a near miss)",
    stays("dnsam-sde", "sgd-sde", 64.0),
)

discrete_negative = discrete.negative_control(
    "SGD escapes the saddle at least 64 times as often as discrete DNSAM (false: about 19 times; a near miss)",
    stays("dnsam", "sgd", 64.0),
)
