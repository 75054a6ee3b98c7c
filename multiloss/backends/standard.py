"""Any other array library that speaks the array API standard: array-api-strict, Dask and CuPy
(through array-api-compat), or a library whose arrays have ``__array_namespace__``.

Its namespace is the library's own with the extension ops' portable defaults (no fused
kernels, no autodiff of ours: a library's own autodiff sees its standard functions). What the
defaults cannot know, this adapter reads from array-api-compat, once per namespace:

- ``is_concrete``: False for a lazy library (Dask: ``array_api_compat.is_lazy_array``), whose
  values exist only when the user computes the graph. Lazy arrays follow the compiled-mode rule
  in every check mode: no value is read (reading would compute the graph, and the user's
  ``compute()`` would compute it again), and an item outside the loss's domain is NaN.
- ``on_host``: the array's device is the CPU (CuPy's is a GPU: no read in ``checks("auto")``).
- ``to_host``: DLPack for host arrays, ``array_api_compat.to_device(x, "cpu")`` otherwise.

Functions of a standard newer than the library (``take_along_axis``, 2024.12, which Dask lacks)
get a portable fill-in; any other function a loss needs and the library lacks is an
``AttributeError`` naming the library, the function and the loss's need.
"""

from __future__ import annotations

import functools
from types import ModuleType

import array_api_compat
import numpy as np

from multiloss.backends._extensions import build_namespace

__all__ = ["FILL_INS", "library_name", "namespace"]


def take_along_axis(x, indices, /, *, axis=-1, xp):
    """The standard's take_along_axis (2024.12) from older functions: for each index, the sum
    over the axis of ``x`` where the position equals the index (the other terms are 0, so a NaN
    or inf elsewhere in the row stays out)."""
    x, indices = xp.moveaxis(x, axis, -1), xp.moveaxis(indices, axis, -1)
    positions = xp.arange(x.shape[-1], dtype=indices.dtype)
    hit = indices[..., None] == positions
    picked = xp.sum(xp.where(hit, x[..., None, :], xp.zeros_like(x[..., None, :])), axis=-1)
    return xp.moveaxis(picked, -1, axis)


#: Standard functions with a portable definition, for libraries that predate them.
FILL_INS = {"take_along_axis": take_along_axis}


def library_name(base: ModuleType) -> str:
    """The library a namespace module belongs to: ``array_api_compat.dask.array`` → "dask"."""
    return base.__name__.removeprefix("array_api_compat.").split(".")[0]


def namespace(base: ModuleType, sample) -> ModuleType:
    """multiloss's namespace over ``base``, the array-API namespace of ``sample``'s library."""
    lazy = array_api_compat.is_lazy_array(sample)

    def on_host(x, /):
        return "cpu" in str(array_api_compat.device(x)).lower()

    def to_host(x, /):
        return np.from_dlpack(x) if on_host(x) else np.asarray(array_api_compat.to_device(x, "cpu"))

    name = library_name(base)
    ns = build_namespace(name, base, {"is_concrete": lambda x, /: not lazy, "on_host": on_host, "to_host": to_host})
    for f, fill in FILL_INS.items():
        if not hasattr(base, f):
            setattr(ns, f, functools.partial(fill, xp=ns))

    def __getattr__(attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise AttributeError(f"{name}'s array namespace ({base.__name__}) has no `{attr}`, which this loss needs")

    ns.__getattr__ = __getattr__
    return ns
