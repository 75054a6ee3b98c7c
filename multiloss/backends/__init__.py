"""Per-call backend dispatch: which framework do these arrays belong to?

``array_namespace(*arrays)`` returns the array-API namespace (plus multiloss's extension ops,
see :mod:`multiloss.backends._extensions`) of the framework that owns the arrays. The answer is
cached by ``type(x)``, so a call costs a few dict lookups. A framework is considered only when
the user has already imported it (``name in sys.modules``), as einops does; multiloss never
imports one on its own.

Arrays of any other library that speaks the array API standard (Dask, CuPy through
array-api-compat; any with ``__array_namespace__``) get :mod:`multiloss.backends.standard`'s
namespace; pandas and polars Series and DataFrames are NumPy arrays (their values).

Python scalars, lists and tuples belong to no framework: they adopt the framework of the other
arguments, or NumPy when there is none. NumPy scalars (``np.generic``: ``np.float64(2.0)``,
``np.int8(3)``, ``np.bool_(True)``) do the same, as the Python scalars they hold; the dtype
they then take is the loss's (:func:`multiloss._dispatch._as_arrays`). A 0-d ``np.ndarray`` is
an array of NumPy's: next to a tensor it is a ``TypeError``, as any mix of two frameworks (so
is a NumPy scalar inside ``torch.compile``, which traces it as a 0-d ``np.ndarray``: pass a
Python scalar there). ``np.matrix`` (``*`` is a matrix product) and ``np.ma.MaskedArray``
(whose mask only some operations honour) would give wrong numbers silently: they are a
``TypeError`` that says to pass ``np.asarray(x)``; other ``ndarray`` subclasses (``np.memmap``)
are NumPy arrays.

The tools and tests that compare frameworks load them with ``load(name)`` / ``load_all(names)``,
which import them (when called, never at ``import multiloss``) and set them up for comparing.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterable
from types import ModuleType

__all__ = ["BACKENDS", "MODULES", "NAMES", "adapter", "array_namespace", "backend_name", "installed", "jax_x64", "load",
           "load_all", "version"]

#: The backends with an adapter module, in dispatch order: (name, module whose presence enables
#: it, the dotted attribute paths of that module's array types; JAX's tracers under grad/jit/vmap
#: are not all ``jax.Array`` instances). array-api-strict is the standard's reference library:
#: the proof that the losses need nothing beyond it. Arrays of any other library that speaks
#: the standard (Dask, CuPy, ``__array_namespace__``) get :mod:`.standard`'s namespace.
BACKENDS = (
    ("numpy", "numpy", ("ndarray", "generic")),
    ("torch", "torch", ("Tensor",)),
    ("jax", "jax", ("Array", "core.Tracer")),
    ("tensorflow", "tensorflow", ("Tensor", "Variable")),
    ("array_api_strict", "array_api_strict", ("_array_object.Array",)),
)
NAMES = tuple(name for name, _, _ in BACKENDS)
MODULES = {name: module for name, module, _ in BACKENDS}  # backend name -> its framework's module

_NEUTRAL = object()  # marker: Python scalars / sequences, which adopt the other arrays' framework
TABLE = object()  # marker: pandas and polars Series and DataFrames, which become NumPy arrays
_PYTHON_TYPES = (bool, int, float, list, tuple)

_cache: dict[type, object] = {}  # type -> namespace or _NEUTRAL; only ever stored into
_namespaces: dict[str, ModuleType] = {}  # backend name -> its adapter's namespace
_standard: dict[str, ModuleType] = {}  # name of another library's namespace module -> ours over it


def adapter(name: str) -> ModuleType:
    """The adapter module ``multiloss.backends.<name>`` (imports that framework)."""
    if name not in MODULES:
        raise ValueError(f"unknown backend {name!r}; expected one of {list(NAMES)}")
    module = f"multiloss.backends.{name}"
    # The builtin __import__, not importlib.import_module: a first call inside tf.function would
    # have AutoGraph try (and warn about failing) to convert importlib's Python internals.
    __import__(module)
    return sys.modules[module]


def load(name: str) -> ModuleType:
    """The adapter of backend ``name``, set up for checking and comparing frameworks.

    TensorFlow's C++ logging is quiet (unless TF_CPP_MIN_LOG_LEVEL is set) and its Python
    logger at ERROR (each loss setting traces once, and TF would warn about the count); JAX
    gets 64-bit floats (``jax_enable_x64``, process-wide) so that float64 means float64 there,
    unless ``MULTILOSS_JAX_X64=0`` keeps JAX's default 32-bit mode (the mode most JAX users run
    in; its adapter then has no float64). Raises ImportError when the framework is not installed.
    """
    # Read when TensorFlow is imported; set whichever framework comes first, as importing JAX sets it to 1.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    b = adapter(name)
    _namespaces.setdefault(name, b.xp)  # ready for dispatch: a first call inside torch.compile imports nothing
    if name == "jax":
        import jax

        if jax_x64():
            jax.config.update("jax_enable_x64", True)
    elif name == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
    return b


def jax_x64() -> bool:
    """Whether the tools and tests run JAX with 64-bit floats: unless ``MULTILOSS_JAX_X64=0``."""
    return os.environ.get("MULTILOSS_JAX_X64", "1") != "0"


def load_all(
    names: Iterable[str], log: Callable[[str], object] = lambda message: None
) -> tuple[list[ModuleType], list[str]]:
    """``load`` each of ``names``, reporting progress through ``log`` ("importing tensorflow ...
    5.8 s": an import can take seconds); returns the adapters and the names not installed."""
    loaded, missing = [], []
    for name in names:
        start = time.perf_counter()
        log(f"importing {name} ...")
        try:
            loaded.append(load(name))
        except ImportError:
            missing.append(name)
            log(" not installed\n")
            continue
        log(f" {time.perf_counter() - start:.1f} s\n")
    return loaded, missing


def installed(name: str) -> bool:
    """Whether backend ``name``'s framework is installed (without importing it)."""
    return importlib.util.find_spec(MODULES[name]) is not None


def version(name: str) -> str:
    """The installed version of backend ``name``'s framework, "" while it is not imported."""
    return getattr(sys.modules.get(MODULES[name]), "__version__", "")


def _namespace_of(name: str) -> ModuleType:
    try:
        return _namespaces[name]
    except KeyError:
        ns = _namespaces[name] = adapter(name).xp
        return ns


def _resolve(x: object) -> object:
    t = type(x)
    np = sys.modules.get("numpy")
    if issubclass(t, _PYTHON_TYPES) or (np is not None and issubclass(t, np.generic)):
        return _NEUTRAL
    if np is not None and issubclass(t, np.ndarray):
        _refuse_matrix_types(t, np)
    for name, module, attrs in BACKENDS:
        mod = sys.modules.get(module)
        if mod is not None and issubclass(t, tuple(functools.reduce(getattr, a.split("."), mod) for a in attrs)):
            return _namespace_of(name)
    if any(issubclass(t, table) for table in _tables()):
        return TABLE
    return _standard_namespace(x)


def _tables() -> list[type]:
    """pandas' and polars' Series and DataFrame, where those libraries are imported."""
    found = []
    for module in ("pandas", "polars"):
        mod = sys.modules.get(module)
        if mod is not None:
            found += [mod.Series, mod.DataFrame]
    return found


def _standard_namespace(x: object) -> ModuleType:
    """The namespace of any other library that speaks the array API (see :mod:`.standard`)."""
    t = type(x)
    try:
        import array_api_compat

        base = array_api_compat.array_namespace(x)
    except TypeError:
        raise TypeError(
            f"multiloss does not support arrays of type {t.__module__}.{t.__qualname__}; expected NumPy, "
            f"PyTorch, JAX or TensorFlow arrays, or those of a library that implements the array API standard "
            f"(Dask, CuPy, array-api-strict, or any with __array_namespace__)"
        ) from None
    ns = _standard.get(base.__name__)
    if ns is None:
        from multiloss.backends import standard

        ns = _standard[base.__name__] = standard.namespace(base, x)
    return ns


def _refuse_matrix_types(t: type, np: ModuleType) -> None:
    """``np.matrix`` and masked arrays compute something else than ndarray's arithmetic."""
    ma = sys.modules.get("numpy.ma")  # imported on first use: no masked array exists before
    why = ("`*` is a matrix product there" if issubclass(t, np.matrix) else
           "its mask is not honoured by every operation" if ma is not None and issubclass(t, ma.MaskedArray) else None)
    if why is not None:
        raise TypeError(f"multiloss does not support {t.__module__}.{t.__qualname__} ({why}); pass np.asarray(x)")


def array_namespace(*arrays: object) -> ModuleType:
    """The array-API namespace of the framework that owns ``arrays``.

    Parameters
    ----------
    *arrays : array or scalar
        ``None`` arguments are ignored; Python scalars and sequences, and NumPy scalars, adopt
        the framework of the others (NumPy if there are none); pandas and polars Series and
        DataFrames are NumPy's.

    Returns
    -------
    module
        The framework's namespace: the array API standard plus multiloss's extension ops
        (``softplus``, ``log_sigmoid``, ``logsumexp``, ...); its ``backend`` names the framework.
        The arrays of any other library that implements the standard (Dask, CuPy, any with
        ``__array_namespace__``) get that library's namespace with the extension ops' portable
        defaults (:mod:`multiloss.backends.standard`).

    Raises
    ------
    TypeError
        For unsupported types (``np.matrix`` and masked arrays included) and for arrays of two
        different frameworks in one call.

    Examples
    --------
    >>> import numpy as np, multiloss
    >>> multiloss.array_namespace(np.ones(3), 2.0).__name__
    'multiloss.xp.numpy'
    """
    found = None
    for x in arrays:
        if x is None:
            continue
        t = type(x)
        ns = _cache.get(t)
        if ns is None:
            ns = _cache[t] = _resolve(x)
        if ns is TABLE:
            ns = _namespace_of("numpy")
        if ns is _NEUTRAL or ns is found:
            continue
        if found is not None:
            raise TypeError(
                f"arrays from two frameworks in one call: {found.backend} and {ns.backend} "
                f"({t.__module__}.{t.__qualname__}); convert them to one framework first"
            )
        found = ns
    return found if found is not None else _namespace_of("numpy")


def backend_name(x: object) -> str:
    """The name of the library owning ``x``: 'numpy', 'torch', 'jax', 'tensorflow',
    'array_api_strict', or another array-API library's ('dask', 'cupy', ...)."""
    return array_namespace(x).backend


# A framework imported before multiloss gets its adapter now, so that a first loss call inside a
# compiler finds it ready (torch.compile(fullgraph=True) cannot trace an import).
for _name in NAMES:
    if MODULES[_name] in sys.modules:
        _namespace_of(_name)
