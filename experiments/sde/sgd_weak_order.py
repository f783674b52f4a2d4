"""sgd-sde-weak: SGD is an order-1 weak approximation of its stochastic modified equation, and an order-2
one of its second-order modified equation.

Source: Q. Li, C. Tai & W. E, "Stochastic Modified Equations and Adaptive Stochastic
Gradient Algorithms", arXiv:1511.06251 (ICML 2017, Thm. 1; JMLR 2019 version "Stochastic
modified equations and dynamics of stochastic gradient algorithms I", Thm. 3): for test
functions g of polynomial growth and a fixed horizon T, k = ⌊T/η⌋,

    order 1:  | E g(x_k) − E g(X_{kη}) | = O(η),   dX = −∇f(X)dt + √η Σ(X)^½ dW;
    order 2:  | E g(x_k) − E g(X_{kη}) | = O(η²),  dX = −∇(f + (η/4)‖∇f‖²)(X)dt + √η Σ(X)^½ dW.

The catalogue also cites [S68] (Malladi et al., arXiv:2205.10287), which builds its
adaptive-method SDEs on the same notion.

sgd-sde-weak (order 1, Monte Carlo).  A rotated quadratic with Gaussian gradient noise
(covariance σ²H), g = f, horizon T = 1 from ‖x_0 − x*‖ = 3, η ∈ {0.2, ..., 0.0125}; SGD is
simulated (convsim's SGD), E g(X_T) of the SDE object built by convsim.sde.sgd_sde (passed
through the context, so mutations reach it) is exact from its OU mean and covariance.  The
per-replica values are ±(f(x_k) − E f(X_T)), the sign fixed by the data at the largest η.
Checked: the exponent of the weak error in η (tight, 1).  What this cannot see: the
diffusion.  The noise contributes Θ(η) to E g, the very order of the error the theorem
allows, so the drift-only gradient flow is also a weak order-1 approximation (Li, Tai & E
make the same remark); an order-1 exponent is blind to a dropped or doubled diffusion, and
those mutations are declared blind here and caught by the companion below.

sgd-sde-weak-order2 (sharpens sgd-sde-weak; exact).  The second-order SME on the same kind
of quadratic (σ = 0.5, where the noise's Θ(η) share of E f is large), η = 0.2/2^j down to
0.003 (quick) / 0.0008 (full), against SGD's exact E f(x_k): the mean (I − ηH)^k e_0 and the
covariance recursion S ← (I − ηH) S (I − ηH)ᵀ + η²C written here from H, C = σ²H and x_0,
never from the SDE object.  Both sides are exact, so the weak error is deterministic and its
exponent is decided in the asymptotic window η ≤ 0.05 (tight, 2, tolerance 0.1).  Dropping or
doubling the diffusion, or dropping or doubling the η/4‖∇f‖² correction (the drift term the
claim is about), leaves an O(η) error: exponent 1, caught.
Negative controls (near misses): the order-1 error is Θ(η^1.25); the order-2 error is O(η^2.25).
"""

import numpy as np

import convsim as cs
from convsim import mutations as mu

SOURCE = cs.Source("Stochastic Modified Equations and Adaptive Stochastic Gradient Algorithms", "1511.06251",
                   "Thm. 1 (JMLR 2019: Thm. 3): SGD's first- and second-order stochastic modified equations are "
                   "weak approximations of order 1 and 2")


def problem_for(s):
    return cs.problems.Quadratic(cs.spectra.geometric(s["d"], L=1.0, mu=0.1), rotate=True, seed=13,
                                 noise=cs.noise.Gaussian(s["sigma"], power=1.0), r0=3.0)


def sde_value(ctx, problem, eta, T, order):
    """E f(X_T) of the (possibly mutated) SDE map's OU process, from its exact mean and covariance."""
    sde = ctx.mutate(cs.sde.sgd_sde(problem, eta, order=order))
    mean, cov = sde.moments(problem.initial_point(), T)
    H, e = problem.hessian(), mean - problem.x_star
    return 0.5 * (e @ H @ e + np.trace(H @ cov))


def experiment(s, ctx):
    problem, T = problem_for(s), s["horizon"]
    etas = [0.2 / 2**k for k in range(s["levels"])]
    cols = []
    for eta in etas:
        steps = int(round(T / eta))
        tr = ctx.simulate(problem, cs.methods.SGD(eta), steps, replicas=s["replicas"], metrics=["suboptimality"],
                          record=[steps])
        cols.append(tr.values("suboptimality")[:, -1] - sde_value(ctx, problem, eta, T, order=1))
    values = np.stack(cols, axis=1)
    values *= np.sign(values[:, 0].mean())
    return cs.Series(np.array(etas), values, "eta", "weak_error", np.full(values.shape[0], -1), {"horizon": T})


def sgd_exact_value(problem, sigma, eta, steps):
    """SGD's exact E f(x_k) on the quadratic with Gaussian noise of covariance σ²H: mean and covariance recursions."""
    H = problem.hessian()
    M, C = np.eye(problem.dim) - eta * H, sigma**2 * H
    e, S = problem.initial_point() - problem.x_star, np.zeros_like(H)
    for _ in range(steps):
        e, S = M @ e, M @ S @ M.T + eta**2 * C
    return 0.5 * (e @ H @ e + np.trace(H @ S))


def order2_experiment(s, ctx):
    problem, T = problem_for(s), s["horizon"]
    etas = [0.2 / 2**k for k in range(s["levels"])]
    errors = [sgd_exact_value(problem, s["sigma"], eta, int(round(T / eta))) - sde_value(ctx, problem, eta, T, order=2)
              for eta in etas]
    values = np.array(errors)[None, :]
    values *= np.sign(values[0, -1])  # the sign of the asymptotic error (smallest eta)
    return cs.Series(np.array(etas), values, "eta", "weak_error", np.full(1, -1), {"horizon": T, "exact": 1.0})


def check_order(order, bound="tight", window=(0.0, 1.0)):
    return lambda series, s: cs.checks.Exponent("weak_error", order, bound=bound, vs="eta",
                                                window=window).check(series)


DIFFUSION = (mu.drop("B", on="LinearSDE", name="SDE diffusion dropped"),
             mu.scale("B", 2.0, on="LinearSDE", name="SDE diffusion x2"))
ORDER1_BLIND = ("the noise moves E g by Theta(eta), the order of error an order-1 statement allows (gradient flow "
                "is weak order 1 too); sgd-sde-weak-order2 catches it")

claim = cs.Claim(
    id="sgd-sde-weak",
    family="sde",
    statement="SGD is a weak order-1 approximation of its SDE: |E g(x_k) - E g(X_{k eta})| = Theta(eta) at fixed horizon",
    source=SOURCE,
    assumptions=("smooth f (a quadratic here)", "test function g = f", "Gaussian gradient noise", "fixed horizon T"),
    experiment=experiment,
    check=check_order(1.0),
    quick={"d": 6, "sigma": 0.2, "horizon": 1.0, "levels": 5, "replicas": 4096},
    full={"d": 10, "sigma": 0.2, "horizon": 1.0, "levels": 6, "replicas": 32768},
    mutations=(mu.scale("step_size", 2.0, on="SGD"), mu.scale("step_size", 0.5, on="SGD"),
               mu.scale("A", 2.0, on="LinearSDE", name="SDE drift x2"),
               *(m.blind(ORDER1_BLIND) for m in DIFFUSION)),
)

order2 = cs.Claim(
    id="sgd-sde-weak-order2",
    family="sde",
    statement="SGD is a weak order-2 approximation of its second-order SDE (drift -grad(f + eta/4 |grad f|^2)): "
              "|E f(x_k) - E f(X_{k eta})| = Theta(eta^2) at fixed horizon",
    source=SOURCE,
    assumptions=("quadratic f, Gaussian gradient noise with covariance sigma^2 H", "test function g = f",
                 "fixed horizon T", "exact moments on both sides"),
    experiment=order2_experiment,
    check=check_order(2.0, window=(0.0, 0.05)),
    quick={"d": 6, "sigma": 0.5, "horizon": 1.0, "levels": 7},
    full={"d": 10, "sigma": 0.5, "horizon": 1.0, "levels": 9},
    sharpens="sgd-sde-weak",
    mutations=(*DIFFUSION, mu.drop("correction", on="LinearSDE", name="eta/4 |grad f|^2 correction dropped"),
               mu.scale("correction", 2.0, on="LinearSDE", name="eta/4 |grad f|^2 correction x2"),
               mu.scale("A", 2.0, on="LinearSDE", name="SDE drift x2")),
)

negative = claim.negative_control(
    "SGD's weak error against its first-order SDE is Theta(eta^1.25) (false: order 1; a near miss at the "
    "tolerance plus the interval)",
    check_order(1.25),
)

order2_negative = order2.negative_control(
    "SGD's weak error against its second-order SDE is O(eta^2.25) (false: Theta(eta^2); a near miss)",
    check_order(2.25, bound="lower", window=(0.0, 0.05)),
)
