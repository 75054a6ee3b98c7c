"""This project's test setup. The ``backend``, ``dtype`` and ``xp`` fixtures and the helpers below
come from the pytest plugin :mod:`multiloss.testing.plugin`, which this suite opts into and
``MULTILOSS_TEST_BACKENDS=numpy,jax`` restricts; tests import ``load_backend``, ``compiler`` and
``ALL_BACKENDS`` from here. Project-specific, for tests that use a framework directly: JAX runs
with 64-bit floats from the start of the session (the plugin enables them only when it first
loads JAX; ``MULTILOSS_JAX_X64=0`` keeps JAX's default 32-bit mode, as ``tox -e jax32`` runs it), and
TensorFlow's C++ logging is quiet.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytest_plugins = ["multiloss.testing.plugin"]
pytest.register_assert_rewrite(*pytest_plugins)  # as pytest_plugins would, were it not imported just below

from multiloss.backends import jax_x64  # noqa: E402
from multiloss.testing.plugin import ALL_BACKENDS, compiler, load_backend  # noqa: E402

__all__ = ["ALL_BACKENDS", "compiler", "load_backend"]


def pytest_configure(config):
    if importlib.util.find_spec("jax") is not None and jax_x64():
        import jax

        jax.config.update("jax_enable_x64", True)
