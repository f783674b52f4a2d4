"""stationary-cov: SGD's stationary covariance on a quadratic solves a discrete Lyapunov equation;
its SDE's solves the continuous one; the two differ by O(η).

Classic result (no single seed paper; see e.g. Mandt, Hoffman & Blei, "Stochastic Gradient
Descent as Approximate Bayesian Inference", arXiv:1704.04289, §3, for the continuous side).
For f(x) = ½(x − x*)ᵀH(x − x*) and gradient noise ξ with covariance C, SGD
x ← x − η(H(x − x*) + ξ) is a linear recursion whose stationary covariance satisfies

    Σ_SGD = (I − ηH) Σ_SGD (I − ηH)ᵀ + η² C,

while its first-order SDE dX = −H(X − x*)dt + √η C^½ dW (time t = kη) is an OU
process whose stationary covariance satisfies HΣ_SDE + Σ_SDEH = ηC.  When H and C
commute, Σ_SDE⁻¹Σ_SGD = (I − ηH/2)⁻¹ = I + O(η).

Setting: a rotated quadratic (κ = 10) with noise covariance C = σ²H (the noisy quadratic
model) and η = 1 (ηL = 1, where the O(η) gap is large: 1.5x at the top eigenvalue).
Checked: SGD's simulated stationary E‖x − x*‖² against tr Σ_SGD from
scipy.linalg.solve_discrete_lyapunov (convsim.sde.sgd_stationary_covariance; level, ±5%), and
the SDE's (convsim.sde.sgd_sde, the object under test, simulated with the exact OU transition)
against tr Σ_SDE, where Σ_SDE solves HΣ + ΣH = ηC with H and C = σ²H written here from the
problem (scipy.linalg.solve_continuous_lyapunov): never from the SDE object itself, so a wrong
map (a diffusion dropped or doubled, a drift off by a factor) moves the run and not the reference.
(Until issue #11 the SDE's reference was the simulated object's own stationary covariance, which
could not catch anything.)
Negative controls: SGD's stationary E‖x − x*‖² equals the SDE's tr Σ_SDE, and the SDE's equals
SGD's tr Σ_SGD — both false at this step size (ratio ≈ 1.3 against a ±5% band), which is the
point of the O(η) gap.
Mutations: SGD's step ×½ and ×1.5 (the level moves with η); the SDE's diffusion B dropped or
doubled, its drift matrix doubled.
"""

import numpy as np
import scipy.linalg

import convsim as cs
from convsim import mutations as mu

SOURCE = cs.Source("Stochastic Gradient Descent as Approximate Bayesian Inference (continuous side); "
                   "discrete Lyapunov equation of the linear SGD recursion (classic)", "1704.04289",
                   "Sec. 3 (stationary OU covariance); classic discrete-time analysis")


def problem_for(s):
    return cs.problems.Quadratic(cs.spectra.geometric(s["d"], L=1.0, mu=0.1), rotate=True, seed=11,
                                 noise=cs.noise.Gaussian(s["sigma"], power=1.0))


def experiment(s, ctx):
    problem, eta = problem_for(s), s["eta"]
    sgd = ctx.simulate(problem, cs.methods.SGD(eta), s["steps"], replicas=s["replicas"], metrics=["dist_sq"],
                       record="linear")
    ou = cs.sde.sgd_sde(problem, eta)
    t1 = s["steps"] * eta  # the same physical time
    sde = ctx.simulate_sde(ou, cs.sde.ExactOU(), problem.initial_point(), t1, eta, s["replicas"],
                           metrics=("dist_sq",), record="linear")
    return {"sgd": sgd, "sde": sde}


def traces(s):
    """(tr Σ_SGD, tr Σ_SDE) from the problem's closed form: discrete and continuous Lyapunov equations."""
    problem = problem_for(s)
    H = problem.hessian()
    C = s["sigma"] ** 2 * H  # the noisy quadratic model Gaussian(sigma, power=1), batch 1
    disc = float(np.trace(cs.sde.sgd_stationary_covariance(problem, s["eta"])))
    cont = float(np.trace(scipy.linalg.solve_continuous_lyapunov(H, s["eta"] * C)))
    return disc, cont


def level(which, value_index):
    return lambda data, s: cs.checks.Level("dist_sq", traces(s)[value_index], rtol=0.05).check(data[which])


SGD_MUTATIONS = (mu.scale("step_size", 0.5, on="SGD"), mu.scale("step_size", 1.5, on="SGD"))
SDE_MUTATIONS = (mu.drop("B", on="LinearSDE", name="SDE diffusion dropped"),
                 mu.scale("B", 2.0, on="LinearSDE", name="SDE diffusion x2"),
                 mu.scale("A", 2.0, on="LinearSDE", name="SDE drift x2"))

claim = cs.Claim(
    id="stationary-cov",
    family="sde",
    statement="SGD's stationary E||x - x*||^2 on a quadratic equals tr Sigma with Sigma = (I - eta H) Sigma (I - eta H)^T + eta^2 C",
    source=SOURCE,
    assumptions=("quadratic f", "additive gradient noise with covariance C", "constant step eta with eta L < 2"),
    experiment=experiment,
    check=level("sgd", 0),
    quick={"d": 8, "sigma": 1.0, "eta": 1.0, "steps": 2000, "replicas": 512},
    full={"d": 20, "sigma": 1.0, "eta": 1.0, "steps": 20000, "replicas": 4096},
    mutations=SGD_MUTATIONS + tuple(m.blind("the SGD claim reads only SGD's run; the SDE's own claim catches it")
                                    for m in SDE_MUTATIONS[:1]),
)

sde_level = cs.Claim(
    id="stationary-cov-sde",
    family="sde",
    statement="the SDE dX = -H(X - x*) dt + sqrt(eta) C^1/2 dW is stationary at tr Sigma with H Sigma + Sigma H = eta C",
    source=SOURCE,
    assumptions=("Ornstein-Uhlenbeck process integrated exactly",),
    experiment=experiment,
    check=level("sde", 1),
    quick=claim.quick,
    full=claim.full,
    mutations=SDE_MUTATIONS + (SGD_MUTATIONS[0].blind("the SDE claim reads only the SDE's run"),),
)

negative = claim.negative_control(
    "at eta L = 1, SGD's stationary E||x - x*||^2 equals its SDE's tr Sigma_SDE (false: they differ by O(eta))",
    level("sgd", 1),
)

sde_negative = sde_level.negative_control(
    "at eta L = 1, the SDE's stationary E||X - x*||^2 equals SGD's tr Sigma_SGD (false: they differ by O(eta))",
    level("sde", 0),
)
