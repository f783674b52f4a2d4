"""convsim.exact: the exact moment recursions against Monte Carlo (z-scores), closed forms, and power.

The Monte Carlo test: at every checkpoint and for every recorded statistic (the error's
coordinates, their pairwise products, dist_sq, suboptimality) the z-score
(mean over replicas − exact expectation)/(standard error) must stay below the
Bonferroni threshold of a 1e-3 family-wise level; the same statistic must exceed it for a
wrong method (step ×2, momentum changed), so the test can fail.
"""

import numpy as np
import pytest
import scipy.stats

import convsim as cs
import convsim.exact as exact
from convsim import methods as M
from convsim import schedules as S

REPLICAS, STEPS, RECORD = 2048, 40, [0, 1, 2, 3, 5, 8, 13, 21, 40]
FAMILY_LEVEL = 1e-3


def problem(noise, rotate=True, d=3, batch_size=2):
    lam = cs.spectra.geometric(d, L=1.0, mu=0.2)
    return cs.problems.Quadratic(lam, noise=noise, rotate=rotate, x_star=np.linspace(-0.5, 0.5, d),
                                 batch_size=batch_size, r0=1.5)


NOISES = {"gaussian": cs.noise.Gaussian(0.6, power=1.0), "linreg": cs.noise.LinearRegression(0.5)}

METHODS = {
    "sgd-inverse-time": M.SGD(S.inverse_time(1.0, 3.0)),
    "sgd-momentum-dampening": M.SGD(0.2, momentum=0.6, dampening=0.3),
    "sgd-nesterov-weight-decay": M.SGD(0.2, momentum=0.5, nesterov=True, weight_decay=0.1),
    "heavy-ball": M.HeavyBall(0.25, 0.5),
    "nesterov-convex": M.Nesterov(0.3),
    "nesterov-constant": M.Nesterov(0.3, 0.4),
    "averaged": M.Averaged(M.SGD(0.3)),
    "tail-averaged": M.Averaged(M.SGD(0.3), start=5),
    "ema": M.EMA(M.SGD(0.3), decay=0.8),
    "swa": M.SWA(M.SGD(0.3), cycle=3),
    "lookahead-sgd": M.Lookahead(M.SGD(0.3), k=3, alpha=0.5),
    "lookahead-momentum": M.Lookahead(M.SGD(0.2, momentum=0.5), k=4, alpha=0.7),
}


def statistics(p):
    """Per-replica statistics recorded by simulate, with the exact expectation of each from ExactMoments."""
    d, xs = p.dim, p.x_star
    stats = {f"e{i}": (lambda pb, x, i=i: x[:, i] - float(xs[i])) for i in range(d)}
    stats.update({f"e{i}e{j}": (lambda pb, x, i=i, j=j: (x[:, i] - float(xs[i])) * (x[:, j] - float(xs[j])))
                  for i in range(d) for j in range(i, d)})
    stats.update({"dist_sq": None, "suboptimality": None})

    def expected(ex):
        out = {f"e{i}": ex.mean[:, i] - xs[i] for i in range(d)}
        err = ex.mean - xs
        for i in range(d):
            for j in range(i, d):
                out[f"e{i}e{j}"] = ex.covariance[:, i, j] + err[:, i] * err[:, j]
        out["dist_sq"], out["suboptimality"] = ex.expected("dist_sq"), ex.expected("suboptimality")
        return out

    return stats, expected


def z_scores(p, method, reference_method=None, backend="numpy", replicas=REPLICAS, seed=1):
    """|z| of every statistic at every checkpoint, for a run of ``method`` against the exact moments of
    ``reference_method`` (default: the same method)."""
    stats, expected = statistics(p)
    trace = cs.simulate(p, method, STEPS, replicas, record=RECORD, metrics=stats, seed=seed, backend=backend)
    ex = exact.moments(p, reference_method or method, STEPS, record=RECORD, covariance=True)
    assert np.array_equal(ex.steps, trace.steps)
    zs = []
    for name, ref in expected(ex).items():
        v = trace.values(name)
        se = v.std(axis=0, ddof=1) / np.sqrt(v.shape[0])
        err = v.mean(axis=0) - ref
        random = se > 1e-12 * (1 + np.abs(ref))
        zs.append(np.abs(err[random]) / se[random])
        assert np.allclose(err[~random], 0, atol=1e-10 * (1 + np.max(np.abs(ref))))  # deterministic points: exact
    return np.concatenate(zs)


def threshold(n_tests):
    return scipy.stats.norm.ppf(1 - FAMILY_LEVEL / (2 * n_tests))


@pytest.mark.parametrize("noise", list(NOISES))
@pytest.mark.parametrize("name", list(METHODS))
def test_monte_carlo_agrees_with_exact_moments(name, noise):
    z = z_scores(problem(NOISES[noise]), METHODS[name])
    assert z.max() < threshold(z.size), f"max |z| = {z.max():.2f} over {z.size} statistics"


@pytest.mark.parametrize("noise", list(NOISES))
def test_agreement_on_array_api_strict(noise):
    z = z_scores(problem(NOISES[noise]), METHODS["lookahead-momentum"], backend="array_api_strict", replicas=1024)
    assert z.max() < threshold(z.size)


@pytest.mark.parametrize("noise", list(NOISES))
def test_the_statistic_rejects_a_wrong_method(noise):
    """The same test statistic fails when the run's step is doubled, or its momentum changed."""
    p = problem(NOISES[noise])
    for truth, wrong in ((M.SGD(0.15), M.SGD(0.3)), (M.HeavyBall(0.25, 0.5), M.HeavyBall(0.25, 0.3)),
                         (M.EMA(M.SGD(0.3), 0.8), M.EMA(M.SGD(0.3), 0.6))):
        z = z_scores(p, wrong, reference_method=truth)
        assert z.max() > threshold(z.size), f"{wrong} not told apart from {truth}"


def test_diagonal_recursion_equals_the_dense_one():
    for noise in NOISES.values():
        p = problem(noise, d=4)
        for method in METHODS.values():
            a, b = exact.moments(p, method, 30), exact.moments(p, method, 30, covariance=True)
            assert np.allclose(a.mean, b.mean, rtol=1e-10, atol=1e-12)
            assert np.allclose(a.eigen_second_moments, b.eigen_second_moments, rtol=1e-10, atol=1e-14)
            for metric in exact.METRICS:
                assert np.allclose(a.expected(metric), b.expected(metric), rtol=1e-10, atol=1e-14)


def test_gd_is_deterministic_and_exact():
    p = problem(NOISES["linreg"])  # GD uses exact gradients whatever the noise model
    trace = cs.simulate(p, M.GD(0.7), 50, 1)
    ex = exact.moments(p, M.GD(0.7), 50, covariance=True)
    assert np.allclose(trace.values("suboptimality")[0], ex.expected("suboptimality"), rtol=1e-12, atol=1e-15)
    assert np.allclose(ex.covariance, 0.0)


def test_finite_sum_least_squares_with_replacement():
    for batch_size, reg in ((1, 0.0), (3, 0.05)):
        p = cs.problems.LeastSquares.random(12, 3, noise_std=0.5, batch_size=batch_size, reg=reg, seed=4)
        gamma = 1.0 / (2.0 * p.constants()["L_max"])
        stats, expected = statistics(p)
        trace = cs.simulate(p, M.SGD(gamma, momentum=0.3), STEPS, REPLICAS, record=RECORD, metrics=stats, seed=3)
        ex = exact.moments(p, M.SGD(gamma, momentum=0.3), STEPS, record=RECORD)
        ref = expected(ex)
        z = np.concatenate([np.abs(trace.values(n).mean(0) - ref[n])[1:] /
                            (trace.values(n).std(0, ddof=1)[1:] / np.sqrt(REPLICAS)) for n in ref])
        assert z.max() < threshold(z.size)
        wrong = exact.moments(p, M.SGD(2 * gamma, momentum=0.3), STEPS, record=RECORD).expected("dist_sq")
        v = trace.values("dist_sq")
        assert np.max(np.abs(v.mean(0) - wrong)[1:] / (v.std(0, ddof=1)[1:] / np.sqrt(REPLICAS))) > threshold(z.size)


def test_sgd_stationary_covariance_closed_forms():
    lam = cs.spectra.geometric(4, L=1.0, mu=0.1)
    sigma, gamma = 0.7, 0.4
    p = cs.problems.Quadratic(lam, noise=cs.noise.Gaussian(sigma, power=1.0), rotate=True)
    cov = exact.stationary_covariance(p, M.SGD(gamma))
    assert np.allclose(cov, cs.sde.sgd_stationary_covariance(p, gamma), rtol=1e-10, atol=1e-14)
    Q = p.rotation
    assert np.allclose(np.diag(Q.T @ cov @ Q), gamma * sigma**2 / (2 - gamma * lam), rtol=1e-10)  # per eigendirection
    long = exact.moments(p, M.SGD(gamma), 400, record=[400], covariance=True)
    assert np.allclose(long.covariance[-1], cov, rtol=1e-8, atol=1e-14)
    hb = exact.stationary_covariance(p, M.HeavyBall(gamma, 0.5))
    assert np.allclose(hb, cs.sde.heavy_ball_stationary_covariance(p, gamma, 0.5), rtol=1e-10, atol=1e-14)


def test_lookahead_stationary_variance_closed_form():
    """At synchronization points, per coordinate: V_LA = α(1+β)/(2 − α(1−β)) V_SGD with β = (1 − γa)^k
    (Zhang et al. 2019, arXiv 1907.08610, Sec. 3, derived from the same recursion)."""
    lam = cs.spectra.geometric(4, L=1.0, mu=0.05)
    gamma, k, alpha = 0.5, 5, 0.5
    p = cs.problems.Quadratic(lam, noise=cs.noise.Gaussian(1.0, power=1.0))
    v_sgd = gamma**2 * lam / (1 - (1 - gamma * lam) ** 2)
    beta = (1 - gamma * lam) ** k
    v_la = alpha * (1 + beta) / (2 - alpha * (1 - beta)) * v_sgd
    cov = exact.stationary_covariance(p, M.Lookahead(M.SGD(gamma), k=k, alpha=alpha))
    assert np.allclose(np.diag(cov), v_la, rtol=1e-10)


def test_unsupported_inputs_are_one_line_errors():
    p = problem(NOISES["gaussian"])
    for bad in (lambda: exact.moments(p, M.Adam(0.1) if hasattr(M, "Adam") else M.Clipped(M.SGD(0.1)), 5),
                lambda: exact.moments(problem(cs.noise.StudentT(3.0)), M.SGD(0.1), 5),
                lambda: exact.moments(cs.problems.LogisticRegression.random(10, 2), M.SGD(0.1), 5),
                lambda: exact.stationary_covariance(p, M.SGD(S.inverse_time(1.0))),
                lambda: exact.stationary_covariance(problem(NOISES["linreg"]), M.SGD(0.1))):
        with pytest.raises(cs.ConvsimError) as err:
            bad()
        assert "\n" not in str(err.value)
    with pytest.raises(cs.ConvsimError):
        exact.moments(p, M.SGD(0.1), 5).expected("grad_norm")


def test_nesterov_sequence_offset_is_followed_and_default_checkpoints_match_simulate():
    p = problem(NOISES["gaussian"])
    z = z_scores(p, M.Nesterov(0.3, sequence_offset=1))
    assert z.max() < threshold(z.size)
    assert np.array_equal(exact.moments(p, M.SGD(0.1), 500).steps, cs.simulate(p, M.SGD(0.1), 500, 1).steps)
