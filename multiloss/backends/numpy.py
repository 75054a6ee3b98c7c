"""NumPy adapter: array-api-compat's NumPy namespace; the extension ops keep their defaults, but
``squared_difference`` squares in place (one temporary, as NumPy's own ``(a - b)**2``)."""

from __future__ import annotations

import array_api_compat.numpy as _base
import numpy as np

from multiloss.backends._extensions import build_namespace

__all__ = ["DTYPES", "from_numpy", "to_numpy", "value_and_grad", "xp"]

def _squared_difference(x, y, /, *, reduction="none"):
    d = np.subtract(x, y)
    d = d * d if d.ndim == 0 else np.multiply(d, d, out=d)
    return d if reduction == "none" else np.mean(d) if reduction == "mean" else np.sum(d)


xp = build_namespace("numpy", _base, {"squared_difference": _squared_difference})

#: The floating dtypes this backend has, by name.
DTYPES = {"float64": np.float64, "float32": np.float32, "float16": np.float16}


def from_numpy(a, dtype=None):
    """A NumPy array of ``a`` (``dtype`` a name from DTYPES, or None to keep a's dtype)."""
    return np.asarray(a, dtype=DTYPES[dtype] if dtype else None)


def to_numpy(x):
    return np.asarray(x)


value_and_grad = None  # NumPy has no autodiff
