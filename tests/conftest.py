import importlib.util

import numpy as np
import pytest

import convsim as cs


def _available(backend):
    try:
        cs.backend.namespace(backend)
        return True
    except cs.ConvsimError:
        return False


def _torch_installed():
    return importlib.util.find_spec("torch") is not None  # without importing it


BACKENDS = [
    "numpy",
    "array_api_strict",
    pytest.param("torch", marks=pytest.mark.skipif(not _torch_installed(), reason="PyTorch not installed")),
    pytest.param("cupy", marks=pytest.mark.skipif(not _available("cupy"), reason="CuPy with a CUDA GPU not available")),
]
TORCH_BACKENDS = [
    pytest.param("torch", marks=pytest.mark.skipif(not _torch_installed(), reason="PyTorch not installed")),
    pytest.param("torch-cuda", marks=pytest.mark.skipif(
        not _torch_installed() or not _available("torch-cuda"), reason="PyTorch with a CUDA GPU not available")),
]


@pytest.fixture(params=BACKENDS)
def backend(request):
    pytest.importorskip(request.param if request.param != "numpy" else "numpy")
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
