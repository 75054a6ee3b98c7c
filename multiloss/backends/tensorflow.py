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

from multiloss.backends import _extensions
from multiloss.backends import tensorflow_namespace as namespace
from multiloss.backends._extensions import build_namespace

__all__ = ["DTYPES", "from_numpy", "to_numpy", "value_and_grad", "xp"]


def _fuse(fn, /):
    # One function per parameter setting: each then traces once per input signature, rather
    # than one function retracing for every setting (and warning about it).
    compiled = {}  # parameter setting -> tf.function, for calls inside the user's tf.function
    eager = {}  # (parameter setting, each input's dtype and shape, batch size unknown) -> what runs eager calls

    def call(*arrays, **params):
        static = {k: v for k, v in params.items() if not namespace._is_array(v)}
        dynamic = [k for k, v in params.items() if namespace._is_array(v)]  # array parameters are traced
        key = (tuple(static.items()), tuple(dynamic))
        inputs = [*arrays, *(params[k] for k in dynamic)]
        if tf.executing_eagerly() and not _functions_run_eagerly() and all(type(a) is _EAGER_TENSOR for a in inputs):
            n = len(arrays)
            specs = (key, *((a.dtype, _batch_free(a.shape) if i < n else tuple(a.shape)) for i, a in enumerate(inputs)))
            run = eager.get(specs)
            if run is None:
                run = eager[specs] = _eager(_kernel(fn, static, dynamic, n), specs[1:])
            return run(inputs)
        f = compiled.get(key)
        if f is None:
            f = compiled[key] = _compile(_kernel(fn, static, dynamic, len(arrays)))
        return f(*inputs)

    return call


def _kernel(fn, static, dynamic, n):
    """``fn`` at one parameter setting, taking its arrays and then its array parameters."""

    def kernel(*a):
        return fn(*a[:n], **static, **dict(zip(dynamic, a[n:], strict=True)))

    return kernel


def _compile(kernel):
    # XLA: static shapes, as under jax.jit. Kernels have no Python control flow on values
    # (jax.jit runs them too), so AutoGraph has nothing to convert: without it a first
    # call traces in half the time.
    return tf.function(kernel, jit_compile=True, autograph=False)


_EAGER_TENSOR = type(tf.constant(0.0))
_functions_run_eagerly = tf.config.functions_run_eagerly  # tf.config.run_functions_eagerly(True): Python, op by op
_PLUMBING = frozenset({"Placeholder", "Identity", "IdentityN", "NoOp", "Const"})  # a traced graph's non-computing ops


def _batch_free(shape):
    """An input's shape with its batch size (the leading axis) unknown, unless it is empty."""
    dims = tuple(shape)
    return (None, *dims[1:]) if dims and dims[0] else dims


def _eager(kernel, specs):
    """How eager calls of ``kernel`` on arrays of ``specs`` (dtype, shape: None where unknown) run.

    Traced once with the batch size unknown (the leading axis of each loss input, as Keras
    traces a loss), and compiled by XLA for each size it meets: a new batch size compiles but
    never retraces, nor warns about retracing. A Python branch on a size still sees the other
    axes' sizes, and an empty batch's (0). The concrete function is called directly
    (``_call_flat``, which records on any ``GradientTape`` as its public call does): the
    ``tf.function`` call's signature matching costs 3× the XLA launch at small sizes. A kernel of
    one op (mean squared error) runs that op eagerly, which costs 1/5 of the launch and is as
    fast at 10⁶ elements.

    Why XLA, although its first compile logs four INFO lines where TF_CPP_MIN_LOG_LEVEL is 0
    (TensorFlow's default, which prints TensorFlow's own start-up INFO lines too): a plain graph
    costs twice as much per call, and Grappler's constant folding reassociates the kernels'
    exact sums (Poisson's ε: 4e-15 where XLA is exact; focal from logits: 5 ulps in float32),
    so eager values would differ from ``jit_compile=True``'s.
    """
    f = _compile(kernel).get_concrete_function(*(tf.TensorSpec(shape, dtype) for dtype, shape in specs))
    if sum(op.type not in _PLUMBING for op in f.graph.get_operations()) <= 1:
        return lambda inputs: kernel(*inputs)
    call_flat, captured = getattr(f, "_call_flat", None), f.captured_inputs
    if call_flat is None:  # a TensorFlow without it: the public call
        return lambda inputs: f(*inputs)
    return lambda inputs: call_flat(inputs, captured)


def _dim(x, axis, /):
    n = x.shape[axis]  # None while tracing with this dimension unknown: its size at run time
    return n if n is not None else tf.shape(x, out_type=tf.int64)[axis]


def _scan(step, carry, xs, /):
    """The Python loop (unrolled into the graph) where the length is known, as it is in eager
    calls and wherever the time axis is static; ``tf.foldl``, one while loop, where it is known
    only at run time. The gradient of a while loop in a kernel compiled by XLA (``fuse``) needs
    its TensorList accumulators outside the compiled function, which TensorFlow refuses
    ("TensorList crossing the XLA/TF boundary"): an unrolled loop has none."""
    if xs[0].shape[0] is not None:
        return _extensions.scan(step, carry, xs, xp=xp)
    return tf.foldl(lambda c, x: step(c, *x), tuple(xs), initializer=carry)


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
        "squared_difference": lambda x, y, /, *, reduction="none": _extensions._reduce(
            xp, tf.math.squared_difference(x, y), reduction),
        "scan": _scan,
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
