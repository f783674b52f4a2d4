"""The exact references of the bilevel sharp companions, and the fields added for mutations.

The references of :mod:`convsim.bilevel.exact` are written from the update equations, apart from
the algorithm classes; here they must agree with simulated runs (peer agreement): to round-off for
deterministic oracles, to Monte Carlo accuracy with noise.
"""

import dataclasses

import numpy as np
import pytest

import convsim.bilevel as bl
from convsim import mutations as mu
from convsim.bilevel import exact
from convsim.bilevel.bo_rep import BOREP
from convsim.bilevel.f2sa import F2SA, F2SAMomentum
from convsim.schedules import power_decay

PROBLEM = {"mu_g": 0.8, "L_g": 1.0, "coupling": 1.0, "c_min": 0.5, "c_max": 0.5, "mu_x": 0.5, "r0": 0.3}


def problem(sigma_f=0.0, sigma_g=0.0):
    return bl.QuadraticBilevel(3, 4, sigma_f=sigma_f, sigma_g=sigma_g, seed=2, **PROBLEM)


def f2sa(a=0.5, c=0.25, momentum=False, **kw):
    cls = F2SAMomentum if momentum else F2SA
    return cls(alpha=power_decay(0.3, a, 10.0), gamma=power_decay(0.8, c, 10.0), **kw)


def moments(p, method, steps, momentum=False, eta=None):
    a, c = method.alpha.p, method.gamma.p
    coeff = exact.f2sa_coefficients(0.3, a, 0.8, c, 10.0, method.xi, method.inner)
    x0, y0 = p.initial_point()
    if momentum:
        return exact.f2sa_momentum_moments(p, coeff, eta, x0, y0, steps)
    return exact.penalty_moments(p, coeff, x0, y0, y0, steps)


@pytest.mark.parametrize("inner", [1, 3])
def test_f2sa_exact_iterates_deterministic(inner):
    p, m = problem(), f2sa(inner=inner)
    tr = bl.simulate_bilevel(p, m, 300, 2, record=12, metrics=["grad_h_sq"])
    np.testing.assert_allclose(tr.mean("grad_h_sq"), moments(p, m, tr.steps), rtol=1e-9)


def test_f2sa_momentum_exact_iterates_deterministic():
    p, m = problem(), f2sa(momentum=True)
    tr = bl.simulate_bilevel(p, m, 300, 2, record=12, metrics=["grad_h_sq"])
    ref = moments(p, m, tr.steps, momentum=True, eta=lambda k: 0.3)  # η plays no role without noise
    np.testing.assert_allclose(tr.mean("grad_h_sq"), ref, rtol=1e-9)


def test_penalty_exact_iterates_deterministic():
    p = problem()
    m = bl.PenaltyMethod(sigma=0.05, lr=0.2, inner=4, inner_lr=0.7)
    tr = bl.simulate_bilevel(p, m, 200, 2, record=10, metrics=["grad_h_sq"])
    x0, y0 = p.initial_point()
    ref = exact.penalty_moments(p, exact.penalty_coefficients(0.05, 0.2, 4, 0.7), x0, y0, y0, tr.steps)
    np.testing.assert_allclose(tr.mean("grad_h_sq"), ref, rtol=1e-9)


@pytest.mark.parametrize("momentum", [False, True])
def test_exact_second_moments_match_monte_carlo(momentum):
    """With noise in both levels the exact E||grad h||^2 (mean and covariance recursion) matches 4096 replicas."""
    p, m = problem(0.3, 0.3), f2sa(momentum=momentum)
    tr = bl.simulate_bilevel(p, m, 100, 2048, record=[50, 100], metrics=["grad_h_sq"])
    eta = (lambda k: min(1.0, (0.8 * (k + 10.0) ** -0.25) ** 2)) if momentum else None
    ref = moments(p, m, tr.steps, momentum=momentum, eta=eta)
    noiseless = moments(problem(), m, tr.steps, momentum=momentum, eta=eta)
    assert np.all(ref[1:] > 2.0 * noiseless[1:])  # the noise term dominates: the covariance recursion is tested
    np.testing.assert_allclose(tr.mean("grad_h_sq"), ref, rtol=0.08)


def test_momentum_off_equals_unit_weight_recursion():
    """eta0 so large that eta_k = 1 is the plain same-iteration estimator: the exact recursion with eta = 1."""
    p = problem(0.3, 0.3)
    m = dataclasses.replace(f2sa(momentum=True), eta0=1e12)
    assert m.eta(5) == 1.0
    tr = bl.simulate_bilevel(p, m, 100, 2048, record=[100], metrics=["grad_h_sq"])
    ref = moments(p, m, tr.steps, momentum=True, eta=lambda k: 1.0)
    np.testing.assert_allclose(tr.mean("grad_h_sq"), ref, rtol=0.08)


def test_borep_normalize_field():
    p = bl.UnboundedSmoothBilevel(dim_x=3, dim_y=4, kappa=0.5, mu_g=0.5, L_g=1.0, seed=1)
    x0 = np.asarray(p.x_star) + 3.0
    on = bl.simulate_bilevel(p, BOREP(lr=0.02, beta=0.0), 1, 1, x0=x0, record=[1], metrics=["dist_sq"])
    off = bl.simulate_bilevel(p, BOREP(lr=0.02, beta=0.0, normalize=False), 1, 1, x0=x0, record=[1],
                              metrics=["dist_sq"])
    # a normalized step has length eta exactly; the raw one follows the (large) gradient
    r_on, r_off = np.sqrt(on.values("dist_sq")[0, -1]), np.sqrt(off.values("dist_sq")[0, -1])
    assert abs(r_on - np.linalg.norm(x0 - p.x_star)) <= 0.02 + 1e-12
    assert abs(r_off - np.linalg.norm(x0 - p.x_star)) > 0.1
    changed, hits = mu.set_field("normalize", False).apply(BOREP())
    assert hits == 1 and changed.normalize is False
