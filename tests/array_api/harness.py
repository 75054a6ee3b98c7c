"""The TensorFlow namespace as array-api-tests sees it, and the tests it runs on it.

``ARRAY_API_TESTS_MODULE`` imports ``xp`` from here; ``-p tests.array_api.harness`` loads the
hook below. What it does concerns the run, not the library:

- ``tf.TensorShape`` is a tuple in all but name (indexing, ``len``, iteration): it is registered as
  a ``collections.abc.Sequence``, which the suite checks shapes with (array-api-compat's TensorFlow
  run does the same), and Hypothesis's array strategies, which insist on a tuple, get one.
- ``xp`` is the namespace plus TensorFlow's ``complex64``, ``complex128`` and ``conj``, which a few
  tests name (``conj`` in vecdot's reference); the runner keeps the complex dtypes out of those the
  suite draws (``ARRAY_API_TESTS_SKIP_DTYPES``).
- Only the tests of the names the namespace exports run: it implements the part of the standard
  the losses use, so a test of anything else would fail for want of the name. Within them, the
  cases of ``tf.Tensor``'s own operators (``x1 + x2`` in ``test_add``) and of complex inputs
  (the namespace has no complex dtypes) are skipped.
"""

from __future__ import annotations

import collections.abc
import re
from types import ModuleType

import pytest
import tensorflow as tf
from hypothesis.extra import array_api

from multiloss.backends import tensorflow_namespace

collections.abc.Sequence.register(tf.TensorShape)

xp = ModuleType(tensorflow_namespace.__name__, tensorflow_namespace.__doc__)
xp.__dict__.update({name: getattr(tensorflow_namespace, name) for name in tensorflow_namespace.__all__})
xp.__all__, xp.__array_api_version__ = tensorflow_namespace.__all__, tensorflow_namespace.__array_api_version__
xp.complex64, xp.complex128, xp.conj = tf.complex64, tf.complex128, tf.math.conj


def _tuple(shape):
    return tuple(shape) if isinstance(shape, tf.TensorShape) else shape


def _shapes_as_tuples(arrays, mutually_broadcastable_shapes):
    def arrays_(xp, api_version, dtype, shape, **kwargs):
        return arrays(xp, api_version, dtype, _tuple(shape), **kwargs)

    def mutually_broadcastable_shapes_(num_shapes, *, base_shape=(), **kwargs):
        return mutually_broadcastable_shapes(num_shapes, base_shape=_tuple(base_shape), **kwargs)

    return arrays_, mutually_broadcastable_shapes_


array_api._arrays, array_api.mutually_broadcastable_shapes = _shapes_as_tuples(
    array_api._arrays, array_api.mutually_broadcastable_shapes
)

# tests whose id names no function (test_<name>[...] or a special case of one)
_GENERIC = {"test_unary", "test_binary", "test_iop", "test_empty_arrays", "test_nan_propagation",
            "test_func_signature", "test_extension_func_signature", "test_has_names"}  # fmt: skip


def target(nodeid: str) -> str:
    """The name a test of the suite is about: ``test_add[add(x1, x2)]`` → ``add``,
    ``test_unary[abs(x_i is NaN) -> NaN]`` → ``abs``, ``test_has_names[elementwise-abs]`` → ``abs``,
    ``test_add[__add__(x, s)]`` → ``__add__``, ``test_has_names[linalg-matmul]`` → ``linalg.matmul``."""
    func, _, param = nodeid.split("::")[-1].partition("[")
    if func == "test_has_names" and param.startswith(("linalg-", "fft-")):
        return param.rstrip("]").replace("-", ".", 1)
    if func in _GENERIC or param[:1].isidentifier():
        match = re.match(r"(?:\w+-)?(\w+)", param)
        if match and (func in _GENERIC or match[1].startswith("__") or match[1] == func[5:]):
            return match[1]
    return func.removeprefix("test_")


def pytest_ignore_collect(collection_path, config):
    """The inspection tests call ``__array_namespace_info__`` as their module is imported."""
    return collection_path.name == "test_inspection_functions.py" and "__array_namespace_info__" not in xp.__all__


def pytest_collection_modifyitems(config, items):
    names, keep = set(xp.__all__), []
    operator = pytest.mark.skip(reason="a tf.Tensor operator: TensorFlow's own, not the namespace's")
    complex_input = pytest.mark.skip(reason="complex input: the namespace has no complex dtypes")
    for item in items:
        name = target(item.nodeid)
        if name in names:
            keep.append(item)
        elif name.startswith("__") and item.originalname.removeprefix("test_") in names:  # test_add[__add__(x1, x2)]
            keep.append(item)
            item.add_marker(operator)
        case = getattr(item, "callspec", None) and item.callspec.params.get("case")
        if getattr(case, "is_complex", False):
            item.add_marker(complex_input)
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep
