"""tngd: an Ornstein–Uhlenbeck system at equilibrium solves the natural-gradient system; time averages converge at the OU rate.

Source: K. Donatella, S. Duffield, M. Aifer, D. Melanson, G. Crooks & P. J. Coles, "Thermodynamic Natural
Gradient Descent", arXiv:2405.13817, seed [S132].  What was read: the abstract (a hybrid digital-analog
loop in which an analog system "at equilibrium" replaces the linear solve of natural gradient descent:
the gradient and the curvature matrix F are loaded, the analog dynamics run, and their state is read).
The theorem bodies were not read; the encoded mechanism is the one the abstract names: the OU process
dx = −(F x − g) dt + √(2T) dW has the stationary law N(F⁻¹g, T F⁻¹), so the time average of its samples
estimates the natural-gradient direction F⁻¹g, with mean squared error given exactly by the sampled
chain's autocorrelation and falling as 1/N (:mod:`convsim.estimators.ou`; the exact Gaussian transition,
no discretization error).

Setting: d = 6, F = MMᵀ/6 + I/2 (M Gaussian, seed 12; eigenvalues 0.50–2.69), g Gaussian, T = 0.1,
samples every Δt = 0.5, from an equilibrium start; x̄_N over N ∈ {1, 2, 4, …, 512} samples.

Claims:
  - tngd: E‖x̄_N − F⁻¹g‖² equals the exact OU time-average error at every N within 8% (Reference).
  - tngd-neg (near miss, a constant halved): the same with the fluctuation–dissipation convention off by 2
    (noise √T dW instead of √(2T) dW).
  - tngd-rate: E‖x̄_N − F⁻¹g‖² = Θ(N^(−1)) on N ∈ [64, 512] (Exponent, tolerance 0.1).
  - tngd-rate-neg: Θ(N^(−0.85)) — the tolerance plus the interval away.

Mutations: the drift coupling ×2 (same mean, other covariance and mixing: caught by tngd, blind for the
rate), the force g scaled by 0.9 in the drift (the equilibrium mean misses F⁻¹g: a bias floor, caught by
both), the temperature ×1.25 and the sampling interval ×2 (caught by tngd; blind for the rate).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.estimators.ou import ThermodynamicSolver, time_average_mse
from convsim.estimators.runner import as_series, reference_at_every_point, sample_rows

SOURCE = cs.Source("Thermodynamic Natural Gradient Descent (Donatella, Duffield, Aifer, Melanson, Crooks & Coles)",
                   "2405.13817", "an analog OU system at equilibrium solves the natural-gradient linear system "
                   "(abstract); time-average error of the exact sampled OU chain")

RECORD = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
T, DT = 0.1, 0.5


def system():
    rng = np.random.default_rng(12)
    M = rng.standard_normal((6, 6))
    return M @ M.T / 6 + 0.5 * np.eye(6), rng.standard_normal(6)


def experiment(s, ctx):
    F, g = system()
    solver = ctx.mutate(ThermodynamicSolver(DT, T))
    replicas = ctx.replicas or s["replicas"]

    def run():
        values = sample_rows(lambda rng, xp: solver.running_errors(F, g, RECORD, rng, xp, ctx.dtype), replicas,
                             seed=ctx.seed, backend=ctx.backend, dtype=ctx.dtype)
        return cs.Trace(np.array(RECORD), {"sq_error": values}, np.full(replicas, -1), {}, {})

    trace = ctx.cached({"simulator": "ou-time-average", "solver": solver, "F": F, "g": g, "replicas": replicas}, run)
    return as_series(trace.values("sq_error"), RECORD, "N", "sq_error")


def check_exact(data, s, temperature=T):
    ref = time_average_mse(system()[0], temperature, DT, RECORD)
    return reference_at_every_point("sq_error", ref, rtol=0.08, what="exact OU time-average error")(data)


def check_rate(data, s, claimed=-1.0):
    return cs.checks.Exponent("sq_error", claimed, bound="tight", vs="N", window=(64, 512), tolerance=0.1,
                              n_resamples=500).check(data)


ASSUMPTIONS = ("F symmetric positive definite, d = 6", "equilibrium start, exact sampled OU chain",
               "T = 0.1, samples every 0.5")
claim = cs.Claim(
    id="tngd", family="other",
    statement="the time average of N OU samples has E|x_N - F^-1 g|^2 = sum_i (T/lambda_i) [N + 2 rho_i (N(1-rho_i) "
              "- (1-rho_i^N))/(1-rho_i)^2]/N^2",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=check_exact,
    quick={"replicas": 8192}, full={"replicas": 2**17},
    mutations=(mu.scale("coupling", 2.0), mu.scale("force_scale", 0.9), mu.scale("temperature", 1.25),
               mu.scale("dt", 2.0)))

negative = claim.negative_control("the same with the noise sqrt(T) dW instead of sqrt(2T) dW (the error halved)",
                                  lambda data, s: check_exact(data, s, T / 2))

rate = cs.Claim(
    id="tngd-rate", family="other",
    statement="E|x_N - F^-1 g|^2 = Theta(N^-1): the OU time average converges to the natural-gradient direction",
    source=SOURCE, assumptions=ASSUMPTIONS, experiment=experiment, check=check_rate,
    quick=claim.quick, full=claim.full,
    mutations=(mu.scale("force_scale", 0.9),
               mu.scale("coupling", 2.0).blind("a faster system still averages at the 1/N rate"),
               mu.scale("temperature", 1.25).blind("the temperature scales the error, not its rate"),
               mu.scale("dt", 2.0).blind("the sampling interval changes the constant, not the rate")))

rate_negative = rate.negative_control("E|x_N - F^-1 g|^2 = Theta(N^-0.85)",
                                      lambda data, s: check_rate(data, s, -0.85))
