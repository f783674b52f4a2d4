"""Nonconvex family, part 3: the ordered linear autoencoder (closed forms: Eckart–Young, PCA by SVD,
finite differences), robust matrix sensing with an ℓ1 loss (subgradients restated per measurement,
finite differences away from kinks) and the subgradient method with geometric steps (its update
restated, and GD with the same steps as a peer)."""

import numpy as np
import pytest
import scipy.linalg

import convsim as cs
from convsim.methods import GD, Oracle
from convsim.methods.subgradient import GeometricSubgradient
from convsim.problems.autoencoder import OrderedLinearAutoencoder, mean_misalignment, nested_loss
from convsim.problems.robust_sensing import RobustMatrixSensing, relative_recovery_error
from convsim.problems.matrix_sensing import MatrixSensing


def central_differences(p, x, h=1e-6):
    fd = np.zeros_like(x)
    for j in range(x.shape[1]):
        d = np.zeros_like(x)
        d[:, j] = h
        fd[:, j] = (p.value(x + d) - p.value(x - d)) / (2 * h)
    return fd


# -- ordered linear autoencoder ---------------------------------------------------------------------
def test_autoencoder_gradient_matches_finite_differences():
    for ordered in (True, False):
        p = OrderedLinearAutoencoder(6, 3, spectrum=(1.0, 0.5, 0.25), samples=50, ordered=ordered)
        x = np.random.default_rng(0).standard_normal((3, p.dim)) * 0.5
        np.testing.assert_allclose(p.grad(x), central_differences(p, x), atol=1e-7)


def test_autoencoder_loss_is_the_sample_reconstruction_error():
    p = OrderedLinearAutoencoder(5, 2, spectrum=(1.0, 0.4), samples=30, rank_probabilities=(0.3, 0.7))
    x = np.random.default_rng(1).standard_normal((2, p.dim))
    for r in range(2):
        U, V = x[r, :10].reshape(5, 2), x[r, 10:].reshape(5, 2)
        per_b = [0.5 * np.mean(np.sum((p.data - p.data @ (U[:, :b] @ V[:, :b].T).T) ** 2, axis=1)) for b in (1, 2)]
        np.testing.assert_allclose(p.truncation_losses(x)[r], per_b, rtol=1e-12)
        np.testing.assert_allclose(p.value(x)[r], 0.3 * per_b[0] + 0.7 * per_b[1], rtol=1e-12)


def test_autoencoder_principal_components_and_optimum_are_pca():
    p = OrderedLinearAutoencoder(6, 3, spectrum=(1.0, 0.5, 0.25), samples=80)
    lam, E = np.linalg.eigh(p.covariance)  # a peer of the SVD: eigenpairs of the covariance
    np.testing.assert_allclose(p.eigenvalues, lam[::-1], rtol=1e-10)
    x_star = p.x_star[None]
    # At U = V = top principal directions every truncation attains Eckart–Young: f_b = ½ Σ_{i>b} λ_i.
    np.testing.assert_allclose(p.truncation_losses(x_star)[0], [0.5 * lam[::-1][b:].sum() for b in (1, 2, 3)],
                               rtol=1e-10)
    np.testing.assert_allclose(p.value(x_star)[0], p.nested_optimum, rtol=1e-10)
    np.testing.assert_allclose(p.grad(x_star), 0.0, atol=1e-12)
    np.testing.assert_allclose(mean_misalignment(p, x_star), 0.0, atol=1e-12)


def test_plain_training_is_rotation_invariant_but_ordered_training_is_not():
    """Rotating the columns of the optimum inside the top-k subspace keeps the full-width loss (plain
    training cannot tell) but raises the nested loss (ordered dropout can)."""
    plain = OrderedLinearAutoencoder(6, 3, spectrum=(1.0, 0.5, 0.25), samples=80, ordered=False)
    ordered = OrderedLinearAutoencoder(6, 3, spectrum=(1.0, 0.5, 0.25), samples=80)
    E = plain.components[:, :3]
    Q = np.linalg.qr(np.random.default_rng(2).standard_normal((3, 3)))[0]
    rotated = np.concatenate([(E @ Q).reshape(-1), (E @ Q).reshape(-1)])[None]
    np.testing.assert_allclose(plain.value(rotated), plain.value(plain.x_star[None]), rtol=1e-10)
    assert ordered.value(rotated)[0] > ordered.nested_optimum * (1 + 1e-3)
    assert nested_loss(ordered, rotated)[0] > nested_loss(ordered, ordered.x_star[None])[0]


def test_autoencoder_runs_on_every_backend(backend):
    p = OrderedLinearAutoencoder(6, 3, spectrum=(1.0, 0.5, 0.25), samples=40)
    kw = dict(metrics={"loss": nested_loss, "mis": mean_misalignment}, x0=p.initial_points(4), record=np.arange(11))
    ref = cs.simulate(p, GD(0.3), 10, 4, **kw)
    run = cs.simulate(p, GD(0.3), 10, 4, backend=backend, **kw)
    np.testing.assert_allclose(run.values("loss"), ref.values("loss"), rtol=1e-9)
    np.testing.assert_allclose(run.values("mis"), ref.values("mis"), rtol=1e-7, atol=1e-12)


class FixedUniform:
    """A stream whose uniform draws are given (to read off which truncation b each replica samples)."""

    def __init__(self, u):
        self.u = np.asarray(u, dtype=float)[:, None]

    def uniform(self, *shape):
        return self.u


def test_sampled_gradient_is_the_drawn_truncation_and_unbiased():
    probs = (0.2, 0.5, 0.3)
    p = OrderedLinearAutoencoder(6, 3, spectrum=(1.0, 0.5, 0.25), samples=40, rank_probabilities=probs)
    x = np.random.default_rng(6).standard_normal((1, p.dim)) * 0.5
    per_b = []
    for b in (1, 2, 3):  # ∇f_b alone: the nested objective with all mass on b
        only_b = OrderedLinearAutoencoder(6, 3, spectrum=(1.0, 0.5, 0.25), samples=40,
                                          rank_probabilities=tuple(float(j == b) for j in (1, 2, 3)))
        per_b.append(only_b.grad(x)[0])
    # u in [0, 0.2) draws b = 1, [0.2, 0.7) b = 2, [0.7, 1) b = 3
    for u, b in ((0.0, 1), (0.19, 1), (0.2, 2), (0.69, 2), (0.7, 3), (0.99, 3)):
        np.testing.assert_allclose(p.stochastic_grad(x, FixedUniform([u]))[0], per_b[b - 1], rtol=1e-12)
    np.testing.assert_allclose(sum(q * g for q, g in zip(probs, per_b)), p.grad(x)[0], rtol=1e-12)


def test_sampled_gradient_vanishes_at_the_ordered_optimum():
    p = OrderedLinearAutoencoder(6, 3, spectrum=(1.0, 0.5, 0.25), samples=40)
    x = np.repeat(p.x_star[None], 3, axis=0)
    np.testing.assert_allclose(p.stochastic_grad(x, FixedUniform([0.1, 0.5, 0.9])), 0.0, atol=1e-12)


def test_sampled_training_is_chunk_and_backend_invariant(backend):
    p = OrderedLinearAutoencoder(6, 3, spectrum=(1.0, 0.5, 0.25), samples=40)
    kw = dict(metrics={"loss": nested_loss}, x0=p.initial_points(8), record=np.arange(11))
    ref = cs.simulate(p, cs.methods.SGD(0.3), 10, 8, **kw)
    run = cs.simulate(p, cs.methods.SGD(0.3), 10, 8, backend=backend, chunk_size=4, **kw)
    np.testing.assert_allclose(run.values("loss"), ref.values("loss"), rtol=1e-9)


def test_autoencoder_rejects_bad_probabilities():
    with pytest.raises(cs.ConvsimError):
        OrderedLinearAutoencoder(5, 2, rank_probabilities=(0.5, 0.6))


# -- robust matrix sensing ----------------------------------------------------------------------------
def robust(**kw):
    base = dict(n=5, rank=2, width=3, measurements=60, outlier_fraction=0.25, outlier_scale=5.0)
    return RobustMatrixSensing(**{**base, **kw})


def test_robust_sensing_shares_matrix_sensing_measurements_and_corrupts_a_fraction():
    p = robust()
    clean = MatrixSensing(5, 2, 3, measurements=60)
    np.testing.assert_array_equal(p.sensing, clean.sensing)
    np.testing.assert_array_equal(p.target, clean.target)
    np.testing.assert_allclose(p.observations - clean.observations, p.outliers, atol=1e-12)
    assert np.count_nonzero(p.outliers) == 15
    np.testing.assert_array_equal(np.flatnonzero(p.outliers), p.corrupted)


@pytest.mark.parametrize("symmetric", [True, False])
def test_l1_value_and_subgradient_restated_per_measurement(symmetric):
    p = robust(symmetric=symmetric, n2=None if symmetric else 4)
    x = np.random.default_rng(3).standard_normal((2, p.dim)) * 0.7
    for r in range(2):
        M = p.model(x[r:r + 1])[0]
        res = np.array([np.sum(A.reshape(M.shape) * M) for A in p.sensing]) - p.observations
        np.testing.assert_allclose(p.value(x[r:r + 1])[0], np.mean(np.abs(res)), rtol=1e-12)
    # Away from kinks (no residual at 0) the ℓ1 loss is differentiable: the subgradient is the gradient.
    np.testing.assert_allclose(p.grad(x), central_differences(p, x, 1e-7), atol=1e-6)


def test_l2_contrast_is_matrix_sensing_on_the_corrupted_observations():
    p = robust(loss="l2")
    x = np.random.default_rng(4).standard_normal((2, p.dim))
    np.testing.assert_allclose(p.grad(x), central_differences(p, x), atol=1e-6)
    with pytest.raises(cs.ConvsimError):
        robust().hvp(x, x)


def test_relative_recovery_error_at_the_ground_truth():
    p = robust()
    np.testing.assert_allclose(relative_recovery_error(p, p.ground_truth_point()[None]), 0.0, atol=1e-12)
    np.testing.assert_allclose(relative_recovery_error(p, np.zeros((1, p.dim))), 1.0, rtol=1e-12)


# -- the subgradient method with geometric steps --------------------------------------------------------
def test_geometric_subgradient_step_is_the_update_restated():
    p = robust()
    x = np.random.default_rng(5).standard_normal((3, p.dim))
    m = GeometricSubgradient(0.2, decay=0.9)
    state = m.init(x)
    expected = x.copy()
    for t in range(4):
        state = m.step(state, Oracle(p, None), t)
        expected = expected - 0.2 * 0.9 ** t * p.grad(expected)
    np.testing.assert_allclose(state.x, expected, rtol=1e-12)


def test_geometric_subgradient_matches_gd_with_the_same_steps(backend):
    """A peer: GD driven by the schedule η_t = η_0 q^t written out as an explicit table."""
    p = robust()
    x0 = p.initial_points(4) * 100
    kw = dict(metrics={"err": relative_recovery_error}, x0=x0, record=np.arange(16))
    steps = 0.1 * 0.97 ** np.arange(15)

    class Table(cs.schedules.Schedule):
        def __call__(self, t):
            return float(steps[t])

    ref = cs.simulate(p, GD(Table()), 15, 4, **kw)
    run = cs.simulate(p, GeometricSubgradient(0.1, decay=0.97), 15, 4, backend=backend, **kw)
    np.testing.assert_allclose(run.values("err"), ref.values("err"), rtol=1e-9)


def test_geometric_subgradient_validates():
    with pytest.raises(cs.ConvsimError):
        GeometricSubgradient(0.1, decay=0.0)
    with pytest.raises(cs.ConvsimError):
        GeometricSubgradient(-0.1)


def test_claim_references_are_the_closed_forms():
    import importlib.util
    spec = importlib.util.spec_from_file_location("maestro_pca", "experiments/nonconvex/maestro_pca.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    s = mod.SETTINGS["quick"]
    _, sv, _ = scipy.linalg.svd(mod.problem_of(s).data / np.sqrt(s["samples"]))
    lam = sv ** 2
    assert np.isclose(mod.eckart_young_level(s), 0.5 * np.mean([lam[b:].sum() for b in (1, 2, 3, 4)]))
