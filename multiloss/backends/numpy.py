"""NumPy adapter: array-api-compat's NumPy namespace; the extension ops keep their defaults, but
``squared_difference`` squares in place (one temporary, as NumPy's own ``(a - b)**2``) and
``huber_difference`` builds its branches in place (two temporaries, where the composed form
keeps four), and ``sigmoid_cross_entropy`` sums its parts in place (at most two temporaries)."""

from __future__ import annotations

import array_api_compat.numpy as _base
import numpy as np

from multiloss.backends import _extensions
from multiloss.backends._extensions import build_namespace

__all__ = ["DTYPES", "from_numpy", "to_numpy", "value_and_grad", "xp"]


def _squared_difference(x, y, /, *, reduction="none"):
    d = np.subtract(x, y)
    d = d * d if d.ndim == 0 else np.multiply(d, d, out=d)
    return _extensions._reduce(xp, d, reduction)


def _huber_difference(x, y, delta, /, *, reduction="none"):
    a = np.subtract(x, y)
    if a.ndim == 0:
        return _extensions.huber_difference(x, y, delta, reduction=reduction, xp=xp)
    np.abs(a, out=a)
    inside = a <= delta  # (NaN: False, as the default's where)
    quadratic = a * 0.5
    quadratic *= a  # ½e² as the default rounds it, (½|e|)·|e|
    a -= 0.5 * delta
    a *= delta  # δ(|e| − ½δ)
    np.copyto(a, quadratic, where=inside)
    return _extensions._reduce(xp, a, reduction)


def _sce_parts(x, y, w):
    """As the PyTorch adapter's: (1 − y)·relu(x), softplus(−|x|) (with w: (1 − y)·and w·y·
    softplus(−|x|)), w·y·relu(−x), nonnegative, each in one new array (with at most one more
    alive), summing to the portable form, with its NaN wherever it has one."""
    t = np.maximum(x, 0)
    t *= np.subtract(1, y)
    yield t
    s = np.abs(x)
    np.negative(s, out=s)
    np.exp(s, out=s)
    np.log1p(s, out=s)
    if w is None:
        yield s
    else:
        t = np.subtract(1, y)
        t *= s
        yield t
        s *= y
        s *= w
        yield s
    del s
    t = np.minimum(x, 0)
    np.negative(t, out=t)
    t *= y
    if w is not None:
        t *= w
    yield t


def _sigmoid_cross_entropy(x, y, /, *, pos_weight=None, reduction="none"):
    w = pos_weight
    if (type(x) is not np.ndarray or type(y) is not np.ndarray or x.ndim == 0 or x.shape != y.shape
            or x.dtype != y.dtype or isinstance(w, np.ndarray) and np.broadcast_shapes(w.shape, x.shape) != x.shape):
        return _extensions.sigmoid_cross_entropy(x, y, pos_weight=w, reduction=reduction, xp=xp)
    parts = _sce_parts(x, y, w)
    if reduction == "none":
        out = next(parts)
        for t in parts:
            out += t
            del t
        return out
    total = np.sum(next(parts))
    for t in parts:
        total = total + np.sum(t)
        del t
    return total / x.size if reduction == "mean" else total


xp = build_namespace("numpy", _base, {"squared_difference": _squared_difference, "huber_difference": _huber_difference,
                                      "sigmoid_cross_entropy": _sigmoid_cross_entropy})

#: The floating dtypes this backend has, by name.
DTYPES = {"float64": np.float64, "float32": np.float32, "float16": np.float16}


def from_numpy(a, dtype=None):
    """A NumPy array of ``a`` (``dtype`` a name from DTYPES, or None to keep a's dtype)."""
    return np.asarray(a, dtype=DTYPES[dtype] if dtype else None)


def to_numpy(x):
    return np.asarray(x)


value_and_grad = None  # NumPy has no autodiff
