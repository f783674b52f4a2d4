"""The momentum methods' in-place steps (heavy ball, Nesterov, ASGD, NAG-GS, stochastic AGD, Muon).

On NumPy and PyTorch these methods overwrite the arrays their state owns; on array_api_strict they
take the functional path.  Either way every step must give the numbers of the functional update
formulas bit for bit: the reference below is a frozen copy of those formulas (as they were before
the in-place steps), run on the same random draws.  The in-place path must also leave alone the
arrays it does not own (the start point, the gradients, every iterate it has returned: wrappers such
as Lookahead and Averaged keep them) and keep its buffers as the same C-ordered arrays."""

import math
import tracemalloc

import numpy as np
import pytest

import convsim as cs
from convsim.backend import asarray, dtype_of, mutable_in_place, namespace, to_numpy
from convsim.methods import Oracle
from convsim.random import ReplicaStreams

M = cs.methods
REPLICAS = 70  # a full block of 64 and a 6-row remainder
DIM = 6


def _newton_schulz(G, steps, coefficients=(3.4445, -4.7750, 2.0315)):
    from array_api_compat import array_namespace

    xp = array_namespace(G)
    a, b, c = coefficients
    tall = G.shape[-2] > G.shape[-1]
    X = xp.matrix_transpose(G) if tall else G
    X = X / (xp.sqrt(xp.sum(X * X, axis=(-2, -1), keepdims=True)) + 1e-7)
    for _ in range(steps):
        A = X @ xp.matrix_transpose(X)
        X = a * X + (b * A + c * (A @ A)) @ X
    return xp.matrix_transpose(X) if tall else X


# -- the frozen functional formulas: (init, step) on plain tuples whose first two entries the method's state shares
def _heavy_ball(m, s, oracle, t):
    x, x_prev = s
    return x - m.step_size(t) * oracle.stochastic_grad(x) + m.momentum * (x - x_prev), x


def _nesterov(m, s, oracle, t):
    x, y = s
    x_next = y - m.step_size(t) * oracle.stochastic_grad(y)
    return x_next, x_next + m.coefficient(t + 1) * (x_next - x)


def _asgd(m, s, oracle, t):
    w, v = s
    y = m.alpha * w + (1.0 - m.alpha) * v
    g = oracle.stochastic_grad(y)
    return y - m.delta * g, m.beta * y + (1.0 - m.beta) * v - m.gamma * g


def _nag_gs(m, s, oracle, t):
    x, v = s
    a, mu = m.alpha, m.mu
    if t > 0:
        g = oracle.stochastic_grad(x)
        gam = m.gamma_at(t)
        v = (gam * v + a * mu * x - a * g) / (a * mu + gam)
    return x + (a / (1.0 + a)) * (v - x), v


def _stochastic_agd(m, s, oracle, t):
    x, v = s
    alpha, gam = m.coefficients(t)
    gam_next = (1.0 - alpha) * gam + alpha * m.mu
    y = (alpha * gam * v + gam_next * x) / (gam + alpha * m.mu)
    g = oracle.stochastic_grad(y)
    v = ((1.0 - alpha) * gam * v + alpha * m.mu * y - alpha * g) / gam_next
    return y - m.eta * g, v


def _muon(m, s, oracle, t):
    from array_api_compat import array_namespace

    x, buf = s
    xp = array_namespace(x)
    rows, cols = m.shape
    g = oracle.stochastic_grad(x)
    buf = m.momentum * buf + g
    d = g + m.momentum * buf if m.nesterov else buf
    update = xp.reshape(_newton_schulz(xp.reshape(d, (x.shape[0], rows, cols)), m.ns_steps), x.shape)
    return x - (m.step_size(t) * math.sqrt(max(1.0, rows / cols))) * update, buf


FROZEN = {
    M.HeavyBall: (lambda x0: (x0, x0), _heavy_ball), M.Nesterov: (lambda x0: (x0, x0), _nesterov),
    M.ASGD: (lambda x0: (x0, x0), _asgd), M.NAGGS: (lambda x0: (x0, x0), _nag_gs),
    M.StochasticAGD: (lambda x0: (x0, x0), _stochastic_agd), M.Muon: (lambda x0: (x0, 0.0 * x0), _muon),
}

METHODS = [
    M.HeavyBall(0.1, 0.5), M.HeavyBall(cs.schedules.inverse_time(0.3, 5.0), 0.8),
    M.Nesterov(0.5), M.Nesterov(0.3, 0.7),
    M.ASGD(alpha=0.3, beta=0.2, gamma=0.4, delta=0.5), M.ASGD(alpha=1.0, beta=1.0, gamma=0.0, delta=0.2),
    M.NAGGS(), M.NAGGS(alpha=0.3, mu=0.1, gamma=2.0),
    M.StochasticAGD(0.5, 0.1), M.StochasticAGD(0.5, 0.1, gamma0=1.0),
    M.Muon(0.05, shape=(2, 3)), M.Muon(0.05, shape=(3, 2), nesterov=False), M.Muon(0.02, shape=(3, 2), momentum=0.5),
]
IDS = [f"{m.name}-{i}" for i, m in enumerate(METHODS)]
F64 = np.float64
NUMPY_SCALARS = [  # strongly typed hyperparameters: the functional path promotes float32 NumPy state to float64
    M.HeavyBall(F64(0.1), F64(0.5)), M.Nesterov(F64(0.3), 0.7), M.ASGD(F64(0.3), F64(0.2), F64(0.4), F64(0.5)),
    M.NAGGS(alpha=F64(0.3), mu=F64(0.1), gamma=F64(2.0)), M.StochasticAGD(F64(0.5), F64(0.1), gamma0=F64(1.0)),
    M.Muon(F64(0.05), shape=(2, 3), momentum=F64(0.9)),
]


def _problem():
    return cs.problems.Quadratic(cs.spectra.geometric(DIM, 1.0, 0.1), noise=cs.noise.Gaussian(0.3))


def _start(xp, dtype, seed=3):
    host = np.random.default_rng(seed).normal(size=(REPLICAS, DIM))
    host[0, 0] = -0.0  # a signed zero: 0·x0 and copies of x0 must keep its sign where the formulas do
    return asarray(xp, host, dtype_of(xp, dtype))


def _oracle(problem, xp, dtype):
    return Oracle(problem, ReplicaStreams(xp, 11, 0, REPLICAS, dtype))


def _bits(a):
    return to_numpy(a).copy()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("method", METHODS + NUMPY_SCALARS, ids=IDS + [f"{m.name}-numpy-scalars" for m in NUMPY_SCALARS])
def test_every_step_is_the_frozen_formula_bit_for_bit(method, dtype, backend):
    if backend == "array_api_strict" and any(method is m for m in NUMPY_SCALARS):
        pytest.skip("array_api_strict takes no NumPy scalars")
    xp, problem = namespace(backend), _problem()
    init, frozen_step = FROZEN[type(method)]
    x0 = _start(xp, dtype)
    state, frozen = method.init(x0), init(_start(xp, dtype))
    ours, theirs = _oracle(problem, xp, dtype), _oracle(problem, xp, dtype)
    for t in range(12):
        state, frozen = method.step(state, ours, t), frozen_step(method, frozen, theirs, t)
        for k in (0, 1):  # the iterate and the second state array (previous point, y, v or buffer)
            np.testing.assert_array_equal(_bits(state[k]), _bits(frozen[k]), err_msg=f"step {t}, field {k}")
            assert np.array_equal(np.signbit(_bits(state[k])), np.signbit(_bits(frozen[k])))
        assert state[0].dtype == frozen[0].dtype and state[1].dtype == frozen[1].dtype
        assert tuple(state[0].shape) == (REPLICAS, DIM)


def _owned(method, state):
    """The arrays the in-place path may overwrite: every state field but the iterate and heavy ball's previous point."""
    shared = {0, 1} if isinstance(method, M.HeavyBall) else {0}
    arrays = {}
    for k, a in enumerate(state):
        if k not in shared and a is not None:  # Muon's Newton–Schulz work is a tuple of arrays
            arrays.update({(k, i): w for i, w in enumerate(a)} if isinstance(a, tuple) else {(k, None): a})
    return arrays


class _Constant:
    """A deterministic oracle whose gradient is one fixed array, or the query point itself (an alias)."""

    rng = None

    def __init__(self, g=None):
        self.g = g

    def stochastic_grad(self, x):
        return x if self.g is None else self.g


@pytest.mark.parametrize("alias", [False, True], ids=["fixed-gradient", "gradient-aliases-point"])
@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_in_place_steps_keep_their_buffers_and_never_write_what_they_do_not_own(method, alias, backend):
    xp = namespace(backend)
    x0 = _start(xp, "float64")
    g = None if alias else 0.5 * _start(xp, "float64", seed=4)
    x0_bits, g_bits = _bits(x0), None if alias else _bits(g)
    init, frozen_step = FROZEN[type(method)]
    state, frozen = method.init(x0), init(_start(xp, "float64"))
    owned = _owned(method, state)
    returned = []  # every iterate handed out, with its bits when handed out
    for t in range(6):
        state, frozen = method.step(state, _Constant(g), t), frozen_step(method, frozen, _Constant(g), t)
        returned.append((state.x, _bits(state.x)))
        np.testing.assert_array_equal(_bits(state.x), _bits(frozen[0]))
    np.testing.assert_array_equal(_bits(x0), x0_bits)
    if not alias:
        np.testing.assert_array_equal(_bits(g), g_bits)
    for x, bits in returned:
        np.testing.assert_array_equal(_bits(x), bits)
    if not mutable_in_place(x0):
        return
    assert owned, "the in-place path owns some state"
    for (k, i), a in owned.items():
        assert (state[k] if i is None else state[k][i]) is a, f"{state._fields[k]} was replaced, not updated in place"
        assert to_numpy(a).flags.c_contiguous if backend == "numpy" else a.is_contiguous()
        assert all(a is not x for x, _ in returned) and a is not x0
    assert all(x is not returned[-1][0] for x, _ in returned[:-1]), "each step hands out a new iterate"


@pytest.mark.parametrize("method", [M.HeavyBall(0.1, 0.5), M.Nesterov(0.5), M.Nesterov(0.3, 0.7)], ids=lambda m: m.name)
@pytest.mark.parametrize("wrap", [lambda m: M.Lookahead(m, k=3, alpha=0.5), lambda m: M.Averaged(m, start=2)],
                         ids=["lookahead", "averaged"])
def test_wrappers_that_keep_iterates_see_the_functional_numbers(method, wrap):
    """Lookahead's slow weights become the inner iterate and heavy ball's next previous point: written in place
    they would drift.  NumPy (in place) against array_api_strict (functional), through the engine."""
    p, w = _problem(), wrap(method)
    a = cs.simulate(p, w, 40, REPLICAS, seed=5, record=[1, 7, 40])
    b = cs.simulate(p, w, 40, REPLICAS, seed=5, record=[1, 7, 40], backend="array_api_strict")
    for name in a.metrics:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])


@pytest.mark.parametrize("make, grid", [
    (lambda eta: M.HeavyBall(eta, 0.5), {"eta": [0.01, 0.1, 0.3]}),
    (lambda mu: M.HeavyBall(0.1, mu), {"mu": [0.0, 0.5, 0.9]}),
    (lambda delta: M.ASGD(0.3, 0.2, 0.4, delta), {"delta": [0.1, 0.5]}),
    (lambda a: M.NAGGS(alpha=a), {"a": [0.05, 0.3]}),
])
def test_batched_sweeps_of_in_place_steps_give_the_point_by_point_numbers(make, grid):
    from convsim.engine import Experiment

    experiment = Experiment(_problem(), make, 60, REPLICAS, seed=2, record=6, metrics=["dist_sq"])
    batched, serial = cs.sweep(experiment, grid), cs.sweep(experiment, grid, batch=False)
    assert batched.batched
    for x, y in zip(batched.traces, serial.traces):
        np.testing.assert_array_equal(x.metrics["dist_sq"], y.metrics["dist_sq"])


def _traced_peak(step):
    """Bytes of traced (NumPy) memory live at the peak of ``step()`` beyond what was live before (the
    caller keeps the state the step replaces alive, as a run does until the step returns)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak


ELEMENTWISE = [m for m in METHODS if not isinstance(m, M.Muon)]


@pytest.mark.parametrize("method", ELEMENTWISE, ids=[i for m, i in zip(METHODS, IDS) if not isinstance(m, M.Muon)])
def test_a_step_allocates_one_new_array_the_next_iterate(method):
    """Traced NumPy memory during a step, on a deterministic oracle whose gradient allocates nothing:
    the new iterate (plus small host objects) and nothing else, where the functional formulas peak at
    2 (heavy ball, Nesterov, NAG-GS) to 4 (ASGD, stochastic AGD) arrays (5 to 11 temporaries in all)."""
    R, d = 512, 64
    x0 = np.random.default_rng(0).normal(size=(R, d))
    g = 0.1 * np.random.default_rng(1).normal(size=(R, d))
    state = method.init(x0)
    for t in range(3):  # past the first steps (NAG-GS skips its gradient at t = 0)
        state = method.step(state, _Constant(g), t)
    peak = _traced_peak(lambda: method.step(state, _Constant(g), 3))
    assert x0.nbytes <= peak < 1.25 * x0.nbytes, f"{method.name}: {peak / x0.nbytes:.2f} arrays allocated in a step"


@pytest.mark.parametrize("shape", [(25, 40), (40, 25), (16, 16), (1, 7), (7, 1)])
def test_newton_schulz_in_work_arrays_is_the_functional_iteration_bit_for_bit(shape, backend):
    """Matrices large enough for the BLAS kernels to block (where a product's rounding can depend on
    its operands' layouts), both orientations, reused work arrays: the functional numbers exactly."""
    from convsim.methods.momentum import newton_schulz, newton_schulz_into, newton_schulz_work

    xp = namespace(backend)
    if not mutable_in_place(xp.zeros(1)):
        pytest.skip("the functional path has no work arrays")
    rng = np.random.default_rng(7)
    work = None
    for _ in range(3):
        G = asarray(xp, rng.normal(size=(REPLICAS, *shape)), dtype_of(xp, "float64"))
        work = newton_schulz_work(G) if work is None else work
        ours = newton_schulz_into(G, work, 5)
        np.testing.assert_array_equal(_bits(ours), _bits(newton_schulz(G, 5)))
        np.testing.assert_array_equal(_bits(ours), _bits(_newton_schulz(G, 5)))


@pytest.mark.parametrize("shape", [(16, 32), (32, 16)])
def test_a_muon_step_allocates_the_next_iterate_and_small_norms_only(shape):
    R = 64
    method = M.Muon(0.01, shape=shape)
    x0 = np.random.default_rng(0).normal(size=(R, shape[0] * shape[1]))
    g = 0.1 * np.random.default_rng(1).normal(size=x0.shape)
    state = method.step(method.init(x0), _Constant(g), 0)
    peak = _traced_peak(lambda: method.step(state, _Constant(g), 1))
    assert x0.nbytes <= peak < 1.25 * x0.nbytes, f"{peak / x0.nbytes:.2f} arrays allocated in a step"
