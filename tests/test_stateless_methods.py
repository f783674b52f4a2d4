"""SWAN, FRUGAL and SGD-SaI (convsim.methods.stateless): closed forms, invariances, and torch.optim peers."""

import numpy as np
import pytest

import convsim as cs
from convsim.methods.stateless import FRUGAL, SWAN, SGDSaI, grad_norm_rows, gsnr_scale, whiten

torch = None
try:
    import torch  # noqa: F811
except ImportError:
    pass

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the peer implementation) is not installed")


class ScriptedOracle:
    """Hands out a fixed script of gradients (T, R, d), one per call, whatever the point."""

    def __init__(self, grads):
        self.grads, self.calls = grads, 0

    def stochastic_grad(self, x):
        g = self.grads[self.calls]
        self.calls += 1
        return g

    grad = stochastic_grad


def run_scripted(method, x0, grads):
    oracle, state, xs = ScriptedOracle(grads), method.init(x0.copy()), []
    for t in range(grads.shape[0]):
        state = method.step(state, oracle, t)
        xs.append(np.asarray(method.point(state)).copy())
    return np.stack(xs)


def run_torch(param_groups_of, x0, grads, make_opt):
    """torch.optim on a (d,) parameter split into tensors by ``param_groups_of``; x0 and grads of one replica."""
    params = [torch.nn.Parameter(torch.tensor(chunk, dtype=torch.float64)) for chunk in param_groups_of(x0)]
    opt = make_opt(params)
    xs = []
    for g in grads:
        for p, chunk in zip(params, param_groups_of(g)):
            p.grad = torch.tensor(chunk, dtype=torch.float64)
        opt.step()
        xs.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.stack(xs)


# --- SWAN ------------------------------------------------------------------------------------------------------

def test_grad_norm_rows_has_centred_unit_rows(rng):
    G = rng.standard_normal((3, 4, 9)) * rng.uniform(0.1, 10.0, size=(3, 4, 1)) + 2.0
    N = grad_norm_rows(G, eps=0.0)
    np.testing.assert_allclose(N.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(N.std(axis=-1), 1.0, rtol=1e-12)  # population std, as SWAN's GradNorm


def test_whiten_is_the_polar_factor_on_every_backend(backend, rng):
    G = rng.standard_normal((5, 3, 7))
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    xp = cs.backend.namespace(backend)
    got = cs.backend.to_numpy(whiten(cs.backend.asarray(xp, G, cs.backend.dtype_of(xp, "float64"))))
    np.testing.assert_allclose(got, U @ Vt, atol=1e-9)


@needs_torch
def test_whiten_matches_torch_inverse_square_root(rng):
    G = rng.standard_normal((4, 6))
    A = torch.tensor(G @ G.T)
    lam, V = torch.linalg.eigh(A)
    ref = (V @ torch.diag(lam ** -0.5) @ V.T @ torch.tensor(G)).numpy()  # (G Gᵀ)^{-1/2} G
    np.testing.assert_allclose(whiten(G[None])[0], ref, atol=1e-10)


def test_swan_update_is_whitened_centred_and_rescaled(rng):
    m, n = 4, 8
    g = rng.standard_normal((6, 2 * m * n))
    U = SWAN(0.1, shape=(m, n)).update(g).reshape(6, 2, m, n)
    np.testing.assert_allclose(U.sum(axis=-1), 0.0, atol=1e-10)  # centred rows
    np.testing.assert_allclose(U @ np.swapaxes(U, -1, -2), n * np.broadcast_to(np.eye(m), (6, 2, m, m)), atol=1e-6)


def test_swan_update_ignores_a_positive_row_rescaling(rng):
    m, n = 3, 6
    G = rng.standard_normal((2, m, n))
    D = rng.uniform(1e-3, 1e3, size=(2, m, 1))
    method = SWAN(1.0, shape=(m, n))
    a, b = method.update(G.reshape(2, -1)), method.update((D * G).reshape(2, -1))
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    raw = SWAN(1.0, shape=(m, n), normalize=False)
    assert not np.allclose(raw.update(G.reshape(2, -1)), raw.update((D * G).reshape(2, -1)), atol=1e-3)


def test_swan_without_preprocessing_is_sgd(rng):
    x0, grads = rng.standard_normal((2, 12)), rng.standard_normal((5, 2, 12))
    ours = run_scripted(SWAN(0.1, shape=(3, 4), normalize=False, whitening=False), x0, grads)
    np.testing.assert_allclose(ours, x0 - 0.1 * np.cumsum(grads, axis=0), rtol=1e-12)


# --- FRUGAL ----------------------------------------------------------------------------------------------------

@needs_torch
def test_frugal_with_every_block_active_is_torch_adam(rng):
    d = 12
    x0, grads = rng.standard_normal((1, d)), rng.standard_normal((30, 1, d))
    ours = run_scripted(FRUGAL(0.01, block_size=4, density=1.0, update_gap=1000), x0, grads)
    theirs = run_torch(lambda v: [np.ravel(v)], x0[0], grads[:, 0], lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-8))
    np.testing.assert_allclose(ours[:, 0], theirs, rtol=1e-12, atol=1e-14)


def test_frugal_with_no_active_block_is_sign_sgd(rng):
    x0, grads = rng.standard_normal((2, 8)), rng.standard_normal((10, 2, 8))
    ours = run_scripted(FRUGAL(0.05, block_size=2, density=0.0), x0, grads)
    np.testing.assert_allclose(ours, run_scripted(cs.methods.SignSGD(0.05), x0, grads), rtol=1e-14)


def reference_frugal(x0, grads, lr, block_size, active, gap, b1=0.9, b2=0.999, eps=1e-8):
    """FRUGAL's block rule written out per block: the active blocks cycle; Adam restarts with each new set."""
    x = x0.copy()
    blocks = x.size // block_size
    m, v, out = np.zeros_like(x), np.zeros_like(x), []
    for t, g in enumerate(grads):
        if t % gap == 0:
            m[:], v[:] = 0.0, 0.0
            first = (t // gap) * active % blocks
            on = {(first + j) % blocks for j in range(active)}
        k = t % gap + 1
        for b in range(blocks):
            s = slice(b * block_size, (b + 1) * block_size)
            if b in on:
                m[s] = b1 * m[s] + (1 - b1) * g[s]
                v[s] = b2 * v[s] + (1 - b2) * g[s] ** 2
                x[s] -= lr / (1 - b1 ** k) * m[s] / (np.sqrt(v[s]) / np.sqrt(1 - b2 ** k) + eps)
            else:
                x[s] -= lr * np.sign(g[s])
        out.append(x.copy())
    return np.stack(out)


def test_frugal_cycles_blocks_and_restarts_adam(rng):
    x0, grads = rng.standard_normal((1, 9)), rng.standard_normal((20, 1, 9))
    ours = run_scripted(FRUGAL(0.02, block_size=3, density=1 / 3, update_gap=4), x0, grads)
    np.testing.assert_allclose(ours[:, 0], reference_frugal(x0[0], grads[:, 0], 0.02, 3, 1, 4), rtol=1e-12)


# --- SGD-SaI ---------------------------------------------------------------------------------------------------

def test_gsnr_is_invariant_under_block_rescaling(rng):
    g = rng.standard_normal((3, 20))
    c = np.repeat(rng.uniform(1e-3, 1e3, size=(3, 4)), 5, axis=1)
    np.testing.assert_allclose(gsnr_scale(c * g, 5, 0.0), gsnr_scale(g, 5, 0.0), rtol=1e-12)


@needs_torch
def test_sgd_sai_is_torch_sgd_with_per_block_learning_rates(rng):
    """torch's SGD with dampening = momentum is the EMA buffer SGD-SaI uses (buf_0 = g_0), and torch's std
    (unbiased) gives the g-SNR independently."""
    d, bs, lr, mom = 12, 4, 0.1, 0.9
    x0, grads = rng.standard_normal((1, d)), rng.standard_normal((25, 1, d))
    ours = run_scripted(SGDSaI(lr, block_size=bs, momentum=mom), x0, grads)
    g0 = torch.tensor(grads[0, 0]).reshape(-1, bs)
    snr = torch.stack([b.norm() / (b.std() + 1e-8) for b in g0])
    rates = (lr * snr / snr.max()).tolist()
    theirs = run_torch(lambda v: np.split(np.ravel(v), d // bs), x0[0], grads[:, 0],
                       lambda ps: torch.optim.SGD([{"params": [p], "lr": r} for p, r in zip(ps, rates)],
                                                  lr=lr, momentum=mom, dampening=mom))
    np.testing.assert_allclose(ours[:, 0], theirs, rtol=1e-12, atol=1e-14)


def test_sgd_sai_scaling_modes(rng):
    x0, grads = rng.standard_normal((2, 8)), rng.standard_normal((6, 2, 8))
    off = run_scripted(SGDSaI(0.1, block_size=4, scaling="off"), x0, grads)
    plain = run_scripted(cs.methods.SGD(0.1, momentum=0.9, dampening=0.9), x0, grads)
    np.testing.assert_allclose(off, plain, rtol=1e-12)
    once = run_scripted(SGDSaI(0.1, block_size=4), x0, grads)
    every = run_scripted(SGDSaI(0.1, block_size=4, scaling="every_step"), x0, grads)
    np.testing.assert_allclose(once[0], every[0], rtol=1e-14)  # the same first step
    assert not np.allclose(once[-1], every[-1])


# --- every backend ---------------------------------------------------------------------------------------------

METHODS = [lambda: SWAN(0.01, shape=(2, 4)), lambda: FRUGAL(0.01, block_size=8, density=0.5, update_gap=3),
           lambda: SGDSaI(0.5, block_size=8)]


@pytest.mark.parametrize("make", METHODS, ids=["swan", "frugal", "sgd-sai"])
def test_methods_run_alike_on_every_backend(backend, make):
    p = cs.problems.Quadratic(np.repeat([1.0, 0.1], 8), x0=np.linspace(-1.0, 1.0, 16),
                              noise=cs.noise.Gaussian(sigma=0.1))
    ref = cs.simulate(p, make(), 12, 64, metrics=["dist_sq"], record=np.arange(13), seed=1)
    got = cs.simulate(p, make(), 12, 64, backend=backend, metrics=["dist_sq"], record=np.arange(13), seed=1)
    np.testing.assert_allclose(got.values("dist_sq"), ref.values("dist_sq"), rtol=1e-6 if backend != "numpy" else 0)


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(cs.ConvsimError):
        SWAN(0.1, shape=(8, 4))
    with pytest.raises(cs.ConvsimError):
        FRUGAL(0.1, state_free="adam")
    with pytest.raises(cs.ConvsimError):
        SGDSaI(0.1, scaling="sometimes")
    with pytest.raises(cs.ConvsimError):
        FRUGAL(0.1, block_size=3).init(np.zeros((1, 8)))
