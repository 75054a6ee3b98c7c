"""TensorFlow adapter: our array-API namespace for TensorFlow + TensorFlow's fused kernels.

TensorFlow has no array-API namespace of its own; ours, the standard's functions with
array-API semantics, is :mod:`multiloss.backends.tensorflow_namespace`. This module builds
``xp`` from it with the extension ops (``fuse`` compiles a loss's kernel with
``tf.function(jit_compile=True)``; ``dim`` gives a size that ``tf.function`` knows only at run
time as an int64 tensor) and holds the conversions the tests and tools use.
"""

from __future__ import annotations

from types import SimpleNamespace

import ml_dtypes
import numpy as np
import tensorflow as tf

from multiloss.backends import tensorflow_namespace as namespace
from multiloss.backends._extensions import build_namespace

__all__ = ["DTYPES", "from_numpy", "to_numpy", "value_and_grad", "xp"]


def _fuse(fn, /):
    # One tf.function per parameter setting: each then traces once per input signature,
    # rather than one function retracing for every setting (and warning about it).
    compiled = {}

    def call(*arrays, **params):
        static = {k: v for k, v in params.items() if not namespace._is_array(v)}
        dynamic = [k for k, v in params.items() if namespace._is_array(v)]  # array parameters are traced
        key = (tuple(static.items()), tuple(dynamic))
        f = compiled.get(key)
        if f is None:
            n = len(arrays)

            def traced(*a):
                return fn(*a[:n], **static, **dict(zip(dynamic, a[n:], strict=True)))

            # XLA: static shapes, as under jax.jit. Kernels have no Python control flow on values
            # (jax.jit runs them too), so AutoGraph has nothing to convert: without it a first
            # call traces in half the time.
            f = compiled[key] = tf.function(traced, jit_compile=True, autograph=False)
        return f(*arrays, *(params[k] for k in dynamic))

    return call


def _dim(x, axis, /):
    n = x.shape[axis]  # None while tracing with this dimension unknown: its size at run time
    return n if n is not None else tf.shape(x, out_type=tf.int64)[axis]


def _reduced(out, reduction):
    return out if reduction == "none" else tf.reduce_mean(out) if reduction == "mean" else tf.reduce_sum(out)


def _logsumexp(x, /, *, axis=None, keepdims=False):
    return tf.reduce_logsumexp(x, axis=namespace._axis(axis), keepdims=keepdims)


xp = build_namespace(
    "tensorflow",
    SimpleNamespace(**{name: getattr(namespace, name) for name in namespace.__all__}),
    {
        "softplus": tf.math.softplus,
        "log_sigmoid": tf.math.log_sigmoid,
        "logsumexp": _logsumexp,
        "log_softmax": lambda x, /, *, axis=-1: tf.nn.log_softmax(x, axis=axis),
        "squared_difference": lambda x, y, /, *, reduction="none": _reduced(tf.math.squared_difference(x, y),
                                                                            reduction),
        "fuse": _fuse,
        "stop_gradient": tf.stop_gradient,
        "dim": _dim,
        "is_concrete": lambda x, /: tf.executing_eagerly(),
        "on_host": lambda x, /: ":CPU:" in x.device,
        "to_host": lambda x, /: x.numpy(),
    },
    index_dtypes=(tf.int64, tf.int32),  # tf.gather's indices; other widths are cast to int64
)
xp.__array_api_version__ = namespace.__array_api_version__

DTYPES = {"float64": tf.float64, "float32": tf.float32, "float16": tf.float16, "bfloat16": tf.bfloat16}


def from_numpy(a, dtype=None):
    return tf.constant(np.asarray(a), dtype=DTYPES[dtype] if dtype else None)


def to_numpy(x):
    x = x.numpy() if hasattr(x, "numpy") else np.asarray(x)
    return x.astype(np.float32) if x.dtype == ml_dtypes.bfloat16 else np.asarray(x)


def value_and_grad(fn, *args):
    with tf.GradientTape() as tape:
        tape.watch(args)
        value = fn(*args)
    grads = tape.gradient(value, args, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return value, tuple(grads)
