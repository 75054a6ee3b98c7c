"""Dispatch: the framework is chosen from the arrays on every call, cheaply and strictly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import multiloss
from multiloss import array_namespace, backend_name
from multiloss.backends import _cache


def test_import_multiloss_imports_no_framework():
    code = (
        "import sys, multiloss, multiloss.testing.matrix\n"
        "multiloss.mse([1.0, 2.0], [1.5, 2.5])\n"
        "print(sorted({'torch', 'tensorflow', 'jax', 'keras', 'optax'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_backend_of_each_framework(backend):
    x = backend.from_numpy(np.ones(3), "float32")
    assert backend_name(x) == backend.xp.backend
    assert array_namespace(x, None, 2.0, [1.0, 2.0, 3.0]) is backend.xp


def test_python_values_alone_are_numpy():
    assert backend_name(1.5) == "numpy"
    assert array_namespace([1.0, 2.0], (3.0,), None).backend == "numpy"
    assert multiloss.mse([1.0, 2.0], [1.0, 4.0]) == 2.0


def test_python_lists_adopt_the_other_arrays_framework(backend):
    y_pred = backend.from_numpy(np.array([1.0, 4.0]), "float32")
    out = multiloss.mse([1.0, 2.0], y_pred)
    assert backend_name(out) == backend.xp.backend
    assert float(backend.to_numpy(out)) == 2.0


def test_resolution_is_cached_by_type(backend):
    x = backend.from_numpy(np.ones(2), "float32")
    array_namespace(x)
    assert _cache[type(x)] is backend.xp


def test_unsupported_type_names_the_type():
    with pytest.raises(TypeError, match=r"fractions\.Fraction"):
        from fractions import Fraction

        array_namespace(Fraction(1, 2))


@pytest.mark.parametrize("other", ["torch", "jax", "tensorflow"])
def test_two_frameworks_in_one_call_is_a_type_error(other):
    from conftest import load_backend

    b = load_backend(other)
    with pytest.raises(TypeError, match=rf"two frameworks.*numpy and {other}|{other} and numpy"):
        array_namespace(np.ones(2), b.from_numpy(np.ones(2), "float32"))
    with pytest.raises(TypeError, match="two frameworks"):
        multiloss.mse(np.ones(2), b.from_numpy(np.ones(2), "float32"))


def test_dispatch_sees_jax_tracers():
    from conftest import load_backend

    jax = load_backend("jax")
    import jax as j

    names = []
    j.jit(lambda x: names.append(backend_name(x)) or x)(jax.from_numpy(np.ones(2)))
    j.grad(lambda x: names.append(backend_name(x)) or x.sum())(jax.from_numpy(np.ones(2)))
    j.vmap(lambda x: names.append(backend_name(x)) or x)(jax.from_numpy(np.ones(2)))
    assert names == ["jax"] * 3


def test_dispatch_sees_tf_function_tensors_and_variables():
    from conftest import load_backend

    load_backend("tensorflow")
    import tensorflow as tf

    names = []
    tf.function(lambda x: names.append(backend_name(x)) or x)(tf.ones(2))
    assert names == ["tensorflow"]
    assert backend_name(tf.Variable([1.0])) == "tensorflow"
