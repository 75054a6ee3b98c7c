"""NumPy adapter: array-api-compat's NumPy namespace; every extension op keeps its default."""

from __future__ import annotations

import array_api_compat.numpy as _base
import numpy as np

from multiloss.backends._extensions import build_namespace

__all__ = ["DTYPES", "from_numpy", "to_numpy", "value_and_grad", "xp"]

xp = build_namespace("numpy", _base, {})

#: The floating dtypes this backend has, by name.
DTYPES = {"float64": np.float64, "float32": np.float32, "float16": np.float16}


def from_numpy(a, dtype=None):
    """A NumPy array of ``a`` (``dtype`` a name from DTYPES, or None to keep a's dtype)."""
    return np.asarray(a, dtype=DTYPES[dtype] if dtype else None)


def to_numpy(x):
    return np.asarray(x)


value_and_grad = None  # NumPy has no autodiff
