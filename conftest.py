"""This project's test setup. The ``backend``, ``dtype`` and ``xp`` fixtures and the helpers below
come from the pytest plugin :mod:`multiloss.testing.plugin` (entry point ``multiloss``), which
``MULTILOSS_TEST_BACKENDS=numpy,jax`` restricts; tests import ``load_backend``, ``compiler`` and
``ALL_BACKENDS`` from here. Project-specific, for tests that use a framework directly: JAX runs
with 64-bit floats from the start of the session (the plugin enables them only when it first
loads JAX), and TensorFlow's C++ logging is quiet.
"""

from __future__ import annotations

import importlib.util
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from multiloss.testing import plugin
from multiloss.testing.plugin import ALL_BACKENDS, compiler, load_backend

__all__ = ["ALL_BACKENDS", "compiler", "load_backend"]


def pytest_configure(config):
    # With plugin autoloading off (PYTEST_DISABLE_PLUGIN_AUTOLOAD), the entry point is not read.
    if not config.pluginmanager.has_plugin("multiloss"):
        config.pluginmanager.register(plugin, "multiloss")
    if importlib.util.find_spec("jax") is not None:
        import jax

        jax.config.update("jax_enable_x64", True)
