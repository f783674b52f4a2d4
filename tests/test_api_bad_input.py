"""Bad input to the Python API is one clear ConvsimError, never a bare exception or a silent result."""

import numpy as np
import pytest

import convsim as cs


class Listy(cs.problems.Problem):
    name = "listy"

    def __init__(self, returns):
        self.dim, self.returns = 2, returns
        self._x0, self._x_star, self._f_star = np.ones(2), np.zeros(2), 0.0

    def value(self, x):
        return self.returns if self.returns is not None else 0.5 * (x * x).sum(axis=-1)

    def grad(self, x):
        return x


def quad():
    return cs.problems.Quadratic(np.ones(2))


@pytest.mark.parametrize("make", [
    lambda: cs.simulate(Listy([1.0, 2.0]), cs.methods.GD(0.1), 5, 2),            # value returns a list
    lambda: cs.simulate(Listy(3.0), cs.methods.GD(0.1), 5, 2),                   # value returns a scalar
    lambda: cs.simulate(quad(), cs.methods.GD(0.1), 5, 2, metrics={"m": lambda p, x: 1.0}),
    lambda: cs.simulate(quad(), cs.methods.GD(0.1), 5, 2, metrics={"m": lambda p, x: [0, 0]}),
    lambda: cs.simulate(quad(), cs.methods.GD(0.1), 5, True),
    lambda: cs.simulate(quad(), cs.methods.GD(0.1), 5, 10**12),
    lambda: cs.simulate(quad(), cs.methods.GD(0.1), 5, 2, x0=[np.nan, 0.0]),
    lambda: cs.simulate(quad(), cs.methods.GD(0.1), 5, 2, x0=[np.inf, 0.0]),
    lambda: cs.simulate(quad(), cs.methods.GD(0.1), 5, 2, x0="abc"),
    lambda: cs.problems.LeastSquares(np.full((4, 2), np.nan), np.zeros(4)),
    lambda: cs.checks.Exponent("m", float("nan")),
    lambda: cs.checks.Linear("m", float("inf")),
    lambda: cs.checks.Complexity("m", float("nan")),
])
def test_bad_input_is_one_convsim_error(make, capfd):
    with pytest.raises(cs.ConvsimError) as info:
        make()
    assert "\n" not in str(info.value)
    assert capfd.readouterr().err == ""  # nothing printed by LAPACK or numpy


def test_numpy_scalars_are_step_sizes():
    m = cs.methods.SGD(np.float32(0.1))
    assert m.step_size(3) == pytest.approx(0.1)
