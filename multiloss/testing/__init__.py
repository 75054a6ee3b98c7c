"""Public testing helpers: ``assert_backends_agree`` (one function, every installed framework,
values and gradients compared), ``check_loss`` (your registered loss checked against its
reference on every installed framework, as ``multiloss check`` checks the built-ins) and
``strategies`` (hypothesis strategies of valid inputs for every registered loss); the pytest
plugin with ``backend``, ``dtype`` and ``xp`` fixtures is
:mod:`multiloss.testing.plugin`, which a suite opts into (``pytest -p multiloss.testing.plugin``
or ``pytest_plugins = ["multiloss.testing.plugin"]`` in a conftest.py). The matrix
(:mod:`multiloss.testing.matrix`) and the tolerance model (:mod:`multiloss.testing.numerics`)
are shared with the ``multiloss`` command.

Each is imported on first use: importing ``multiloss.testing`` imports neither hypothesis nor
any framework.
"""

from __future__ import annotations

import importlib

__all__ = ["assert_backends_agree", "check_loss", "strategies"]


def __getattr__(name):
    if name == "assert_backends_agree":
        from multiloss.testing.agree import assert_backends_agree

        return assert_backends_agree
    if name == "check_loss":
        from multiloss.testing.report import check_loss

        return check_loss
    if name == "strategies":
        return importlib.import_module("multiloss.testing.strategies")
    raise AttributeError(f"module 'multiloss.testing' has no attribute {name!r}")
