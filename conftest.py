"""Test-matrix fixtures: ``backend`` over the installed frameworks and ``dtype`` over floats.

``MULTILOSS_TEST_BACKENDS=numpy,jax`` restricts the backends. A framework that is not
installed is skipped with that reason. Each framework is imported once per session; JAX
runs with 64-bit floats enabled so the float64 column means float64 everywhere.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from multiloss.backends import BACKENDS, adapter  # noqa: E402

ALL_BACKENDS = [name for name, _, _ in BACKENDS]
SELECTED = [b for b in os.environ.get("MULTILOSS_TEST_BACKENDS", ",".join(ALL_BACKENDS)).split(",") if b]
DTYPES = ["float64", "float32", "float16", "bfloat16"]
MODULES = {name: module for name, module, _ in BACKENDS}


def pytest_configure(config):
    unknown = set(SELECTED) - set(ALL_BACKENDS)
    if unknown:
        raise pytest.UsageError(f"MULTILOSS_TEST_BACKENDS names unknown backends {sorted(unknown)}")
    if importlib.util.find_spec("jax") is not None:
        import jax

        jax.config.update("jax_enable_x64", True)


def load_backend(name: str):
    """The adapter of ``name``, or a skip saying why it is missing."""
    if name not in SELECTED:
        pytest.skip(f"{name} not in MULTILOSS_TEST_BACKENDS")
    pytest.importorskip(MODULES[name], reason=f"{name} is not installed")
    return adapter(name)


def compiler(name: str):
    """The whole-function compiler of a framework (loaded, or skipped): jax.jit,
    tf.function(jit_compile=True), or torch.compile(fullgraph=True) with the aot_eager backend
    (no C++ build; a graph break is an error)."""
    load_backend(name)
    if name == "jax":
        import jax

        return jax.jit
    if name == "tensorflow":
        import tensorflow as tf

        return lambda f: tf.function(f, jit_compile=True)
    import torch

    return lambda f: torch.compile(f, fullgraph=True, backend="aot_eager")


@pytest.fixture(params=ALL_BACKENDS, scope="session")
def backend(request):
    """The adapter module of one framework: ``.xp``, ``.DTYPES``, ``.from_numpy``, ``.to_numpy``,
    ``.value_and_grad`` (None for NumPy)."""
    return load_backend(request.param)


@pytest.fixture(params=DTYPES)
def dtype(request, backend):
    if request.param not in backend.DTYPES:
        pytest.skip(f"{backend.xp.backend} has no {request.param}")
    return request.param


@pytest.fixture
def xp(backend):
    return backend.xp
