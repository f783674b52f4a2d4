"""P3 zeroth-order: the hybrid first-order / ZO split (ElasticZO) against closed forms and peer methods."""

import sys

import numpy as np
import pytest

import convsim as cs
from convsim import zeroth_order as zo
from convsim.backend import namespace, to_numpy
from convsim.errors import ConvsimError
from convsim.methods import Oracle
from convsim.random import ReplicaStreams
from convsim.zeroth_order.hybrid import HybridZO

R = 8192
FIRST = (1, 4)


def _problem(d=6):
    return cs.problems.Quadratic(cs.spectra.geometric(d, 1.0, 0.2), rotate=True, seed=2)


def _update_directions(method, problem, x, backend, seed=5):
    """(x − x⁺)/γ for R independent replicas at the same x: the method's gradient surrogate."""
    xp = namespace(backend)
    xb = xp.asarray(np.broadcast_to(x, (R, x.size)).copy(), dtype=xp.float64)
    oracle = Oracle(problem, ReplicaStreams(xp, seed, 0, R))
    new = method.step(method.init(xb), oracle, 0).x
    return (x - to_numpy(new)) / float(method.step_size(0))


def test_hybrid_surrogate_mean_and_second_moment_match_closed_forms(backend):
    p = _problem()
    x = np.linspace(-1.0, 1.0, 6)
    grad = p.hessian() @ (x - p.x_star)
    fo = np.zeros(6)
    fo[list(FIRST)] = 1.0
    g = _update_directions(HybridZO(0.1, FIRST), p, x, backend)
    # E g = ∇f; the first-order coordinates are exact in every replica
    np.testing.assert_allclose(g[:, list(FIRST)], np.broadcast_to(grad[list(FIRST)], (R, 2)), rtol=1e-6, atol=1e-8)
    se = g.std(axis=0) / np.sqrt(R)
    assert np.all(np.abs(g.mean(axis=0) - grad) <= 5 * se + 1e-8)
    # E‖g‖² = ‖P_F ∇f‖² + (d_Z + 2)‖P_Z ∇f‖² (Gaussian two-point on the d_Z = 4 ZO coordinates)
    sq = np.sum(g * g, axis=1)
    exact = np.sum((fo * grad) ** 2) + (4 + 2) * np.sum(((1 - fo) * grad) ** 2)
    assert abs(sq.mean() - exact) <= 5 * sq.std() / np.sqrt(R)


def test_hybrid_with_no_first_order_coordinates_is_gaussian_zo_sgd_and_with_all_is_gd():
    p = _problem()
    run = lambda m: cs.simulate(p, m, 20, 16, metrics=["dist_sq"], seed=7).values("dist_sq")
    np.testing.assert_allclose(run(HybridZO(0.05, ())), run(zo.ZOSGD(0.05, zo.GaussianTwoPoint(1e-3, 1))),
                               rtol=1e-10)
    np.testing.assert_allclose(run(HybridZO(0.05, tuple(range(6)))), run(cs.methods.GD(0.05)), rtol=1e-10)


def test_exact_recursion_reduces_to_zo_sgd_and_to_gd():
    p = _problem()
    rec = [1, 3, 10, 40]
    np.testing.assert_allclose(zo.hybrid_zo_suboptimality(p, 0.05, first_order=(), directions=3, record=rec),
                               zo.zo_sgd_suboptimality(p, 0.05, law="gaussian", directions=3, record=rec), rtol=1e-12)
    lam = np.asarray(p.eigenvalues)
    c = zo.exact.eigen_error_sq(p)
    gd = [0.5 * np.sum(lam * c * (1 - 0.05 * lam) ** (2 * t)) for t in rec]
    np.testing.assert_allclose(zo.hybrid_zo_suboptimality(p, 0.05, first_order=range(6), directions=1, record=rec),
                               gd, rtol=1e-12)


@pytest.mark.parametrize("directions", [1, 3])
def test_exact_recursion_matches_monte_carlo_of_the_hybrid(directions):
    p = _problem()
    steps = [1, 5, 15]
    trace = cs.simulate(p, HybridZO(0.2, FIRST, directions=directions), 15, R, metrics=["suboptimality"],
                        record=steps, seed=11)
    f = trace.values("suboptimality")
    ref = zo.hybrid_zo_suboptimality(p, 0.2, first_order=FIRST, directions=directions, record=trace.steps)
    assert np.all(np.abs(f.mean(axis=0) - ref) <= 5 * f.std(axis=0) / np.sqrt(R) + 1e-10), (f.mean(axis=0), ref)


def test_zeroth_order_fed_first_order_block_costs_twice_and_adds_noise():
    p = _problem()
    ablated = HybridZO(0.1, FIRST, first_order_oracle="zeroth-order")
    assert ablated.evaluation_counts() == (4, 0) and HybridZO(0.1, FIRST).evaluation_counts() == (2, 0)
    g = _update_directions(ablated, p, np.linspace(-1.0, 1.0, 6), "numpy")
    assert np.all(g[:, list(FIRST)].std(axis=0) > 0.1)


def test_hybrid_agrees_across_backends():
    p = _problem()
    m = HybridZO(0.05, FIRST, directions=2)
    a = cs.simulate(p, m, 15, 32, backend="numpy", metrics=["dist_sq"]).values("dist_sq")
    b = cs.simulate(p, m, 15, 32, backend="array_api_strict", metrics=["dist_sq"]).values("dist_sq")
    np.testing.assert_allclose(a, b, rtol=1e-10)


@pytest.mark.parametrize("kwargs", [{"first_order": (1, 1)}, {"first_order": (-1,)}, {"directions": 0},
                                    {"first_order_oracle": "hessian"}, {"smoothing": 0.0}])
def test_hybrid_rejects_bad_fields(kwargs):
    with pytest.raises(ConvsimError):
        HybridZO(0.1, **kwargs)


def test_hybrid_rejects_coordinates_beyond_the_dimension():
    with pytest.raises(ConvsimError):
        cs.simulate(_problem(), HybridZO(0.1, (9,)), 2, 2)
    with pytest.raises(ConvsimError):
        zo.hybrid_zo_suboptimality(_problem(), 0.1, first_order=(9,), directions=1, record=[1])


def _claim_module(name):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "experiments" / "zeroth_order" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"zo_p3_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_zo_sah_step_is_the_exact_block_newton_step_on_a_rotated_quadratic(backend):
    """On a quadratic the 6-point fit is exact, so one step solves H_SS u = ∇_S f on the drawn pair S."""
    sah = _claim_module("zo_sah")
    p = _problem()
    hess = p.hessian()
    x = np.linspace(-1.0, 1.0, 6)
    grad = hess @ (x - p.x_star)
    method = sah.ZOSAH(0.7, pairs=2)
    xp = namespace(backend)
    n = 64
    xb = xp.asarray(np.broadcast_to(x, (n, 6)).copy(), dtype=xp.float64)
    moved = x - to_numpy(method.step(method.init(xb), Oracle(p, ReplicaStreams(xp, 3, 0, n)), 0).x)
    for row in moved:
        support = np.flatnonzero(np.abs(row) > 1e-12)
        assert support.size == 4  # two disjoint pairs
        # each pair's block Newton step; the pairing is unknown, so check one of the 3 pairings matches
        a, b, c, d = support
        candidates = []
        for (i, j), (k, l) in (((a, b), (c, d)), ((a, c), (b, d)), ((a, d), (b, c))):
            u = np.zeros(6)
            for s in ((i, j), (k, l)):
                u[list(s)] = 0.7 * np.linalg.solve(hess[np.ix_(s, s)], grad[list(s)])
            candidates.append(np.max(np.abs(u - row)))
        assert min(candidates) < 1e-6


def test_zo_sah_without_curvature_is_a_two_coordinate_gradient_step():
    sah = _claim_module("zo_sah")
    p = _problem()
    x = np.linspace(-1.0, 1.0, 6)
    grad = p.hessian() @ (x - p.x_star)
    m = sah.ZOSAH(0.5, pairs=1, curvature=False)
    xb = np.broadcast_to(x, (32, 6)).copy()
    moved = (x - m.step(m.init(xb), Oracle(p, ReplicaStreams(namespace("numpy"), 1, 0, 32)), 0).x) / 0.5
    for row in moved:
        s = np.flatnonzero(np.abs(row) > 1e-12)
        np.testing.assert_allclose(row[s], grad[s], rtol=1e-6)
    assert m.evaluation_counts() == (6, 0)
