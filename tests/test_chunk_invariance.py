"""Results do not depend on the chunk size, in float64 and float32, also with matrix products."""

import numpy as np
import pytest

import convsim as cs

PROBLEMS = {
    "rotated quadratic": lambda: cs.problems.Quadratic(cs.spectra.geometric(30, 1.0, 0.01), rotate=True,
                                                       noise=cs.noise.Gaussian(0.3, power=1)),
    "rotated linear regression": lambda: cs.problems.Quadratic(cs.spectra.geometric(12, 1.0, 0.05), rotate=True,
                                                               noise=cs.noise.LinearRegression(0.5)),
    "least squares": lambda: cs.problems.LeastSquares.random(200, 30, noise_std=0.5, seed=1),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_identical_arrays_for_every_chunk_size(name, dtype):
    p = PROBLEMS[name]()
    method = cs.methods.SGD(0.05, momentum=0.5)
    runs = [cs.simulate(p, method, 100, 200, seed=3, dtype=dtype, chunk_size=c).metrics["dist_sq"]
            for c in (64, 128, 256)]  # 200 replicas: a 8-row remainder block in every chunking
    for r in runs[1:]:
        np.testing.assert_array_equal(runs[0], r)
