"""array-api-strict adapter: the standard's reference namespace, with nothing beyond it.

Every loss runs here on the extension ops' portable defaults (:mod:`.standard`), which proves
that the specs and those defaults use the array API standard only. It has no float16 and no
autodiff: the matrix checks values here.
"""

from __future__ import annotations

import array_api_strict as _base
import numpy as np

from multiloss.backends import standard

__all__ = ["DTYPES", "from_numpy", "to_numpy", "value_and_grad", "xp"]

xp = standard.namespace(_base, _base.asarray(0.0))

#: The floating dtypes this backend has, by name.
DTYPES = {"float64": _base.float64, "float32": _base.float32}


def from_numpy(a, dtype=None):
    return _base.asarray(np.asarray(a), dtype=DTYPES[dtype] if dtype else None)


def to_numpy(x):
    return np.from_dlpack(x)


value_and_grad = None  # array-api-strict has no autodiff
