"""pytest plugin: run any test suite over every installed framework.

Opt-in, so that installing multiloss adds no fixtures to anyone's tests: a suite that wants
them loads it with ``pytest -p multiloss.testing.plugin`` or, in its ``conftest.py``,
``pytest_plugins = ["multiloss.testing.plugin"]``. It gives that suite the fixtures

- ``backend``: the adapter of one framework (``.xp``, ``.DTYPES``, ``.from_numpy``,
  ``.to_numpy``, ``.value_and_grad``; None for NumPy and array-api-strict), parametrized over
  numpy, torch, jax, tensorflow and array_api_strict (the standard's reference library: values
  only) with those ids; a framework that is not installed is skipped with that reason;
- ``dtype``: "float64", "float32", "float16", "bfloat16", each skipped where ``backend`` has none;
- ``xp``: ``backend.xp``, the framework's array-API namespace with multiloss's extension ops;

and the marker ``@pytest.mark.backends("torch", "jax")``, which runs a test on those backends
only. ``MULTILOSS_TEST_BACKENDS=numpy,jax`` restricts the backends of the whole run (the others
are skipped, saying so). Each framework is imported once, by the first test that needs it,
never at collection, by :func:`multiloss.backends.load` (JAX then gets 64-bit floats so that
float64 means float64 on every backend, unless ``MULTILOSS_JAX_X64=0``). Your own fixtures
of the same names take precedence.
For tests that pick backends themselves: ``load_backend(name)`` (the adapter, or the same
skips) and ``compiler(name)`` (jax.jit, tf.function(jit_compile=True) or
torch.compile(fullgraph=True)).
"""

from __future__ import annotations

import pytest

from multiloss.backends import NAMES, installed, load
from multiloss.testing.agree import ENV, selected
from multiloss.testing.numerics import DTYPES

__all__ = ["ALL_BACKENDS", "DTYPES", "compiler", "load_backend", "selected"]

ALL_BACKENDS = NAMES


def pytest_configure(config):
    config.addinivalue_line("markers", "backends(*names): run only on these backends")
    unknown = sorted(set(selected()) - set(ALL_BACKENDS))
    if unknown:
        raise pytest.UsageError(f"{ENV} names unknown backends {unknown}; expected some of {list(ALL_BACKENDS)}")


def pytest_collection_modifyitems(config, items):
    for item in items:
        marker = item.get_closest_marker("backends")
        name = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        if marker is not None and name is not None and name not in marker.args:
            item.add_marker(pytest.mark.skip(reason=f"marked to run on {', '.join(marker.args)} only"))


def load_backend(name: str):
    """The adapter of ``name`` (see :func:`multiloss.backends.load`), or a skip saying why not:
    excluded by MULTILOSS_TEST_BACKENDS, or not installed."""
    if name not in selected():
        pytest.skip(f"{name} not in {ENV}")
    if not installed(name):
        pytest.skip(f"{name} is not installed")
    return load(name)  # a framework that is installed but fails to import is an error


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
    if name == "torch":
        import torch

        return lambda f: torch.compile(f, fullgraph=True, backend="aot_eager")
    raise ValueError(f"`name` must be a backend with a compiler (torch, jax, tensorflow); got {name!r}")


@pytest.fixture(params=ALL_BACKENDS, scope="session")
def backend(request):
    """The adapter module of one framework: ``.xp``, ``.DTYPES``, ``.from_numpy``, ``.to_numpy``,
    ``.value_and_grad`` (None for NumPy)."""
    return load_backend(request.param)


@pytest.fixture(params=DTYPES)
def dtype(request, backend):
    """A floating dtype name that ``backend`` has."""
    if request.param not in backend.DTYPES:
        pytest.skip(f"{backend.xp.backend} has no {request.param}")
    return request.param


@pytest.fixture
def xp(backend):
    """``backend``'s array-API namespace."""
    return backend.xp
