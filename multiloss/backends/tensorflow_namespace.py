"""An array-API namespace for TensorFlow, which has none.

array-api-compat does not cover TensorFlow, so this module implements, with array-API
semantics, the part of the standard that multiloss's specs use; ``__all__`` lists exactly
what is here, and ``tests/test_tensorflow_namespace.py`` checks every entry against NumPy.
It stands alone (no multiloss extension ops): :mod:`multiloss.backends.tensorflow`, the
adapter, adds those to it and converts arrays for the tests and tools.

Semantics follow the 2024.12 standard: ``axis`` as int, tuple or None, ``keepdims``,
type promotion between arrays by ``result_type`` (TensorFlow itself refuses mixed dtypes),
and Python scalars that take the dtype of the array they meet. Where the standard leaves a
choice to the library, we take NumPy's and JAX's: an integer array meeting a floating array
promotes to the floating dtype; bfloat16 with float16 promotes to float32; the default
floating dtype for Python floats alone is float32, TensorFlow's.
"""

from __future__ import annotations

import builtins
import math
from typing import NamedTuple

import ml_dtypes
import numpy as np
import tensorflow as tf
from tensorflow.python.ops import gen_math_ops

__array_api_version__ = "2024.12"

# --- dtypes -----------------------------------------------------------------------------------
bool = tf.bool  # noqa: A001 (the standard's name)
int8, int16, int32, int64 = tf.int8, tf.int16, tf.int32, tf.int64
uint8, uint16, uint32, uint64 = tf.uint8, tf.uint16, tf.uint32, tf.uint64
float16, bfloat16, float32, float64 = tf.float16, tf.bfloat16, tf.float32, tf.float64

_SIGNED = (int8, int16, int32, int64)
_UNSIGNED = (uint8, uint16, uint32, uint64)
_FLOATS = (float16, bfloat16, float32, float64)
_INTEGRAL = _SIGNED + _UNSIGNED
_DEFAULT_FLOAT = float32
_DEFAULT_INT = int64
e, pi, inf, nan = math.e, math.pi, math.inf, math.nan


def _dtype(x):
    return x if isinstance(x, tf.DType) else x.dtype


def isdtype(dtype, kind):
    """Whether ``dtype`` is of ``kind`` (a dtype, a kind name, or a tuple of those)."""
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, tf.DType):
        return dtype == kind
    kinds = {
        "bool": (bool,),
        "signed integer": _SIGNED,
        "unsigned integer": _UNSIGNED,
        "integral": _SIGNED + _UNSIGNED,
        "real floating": _FLOATS,
        "complex floating": (),
        "numeric": _SIGNED + _UNSIGNED + _FLOATS,
    }
    if kind not in kinds:
        raise ValueError(f"unknown dtype kind {kind!r}")
    return dtype in kinds[kind]


class finfo_object(NamedTuple):
    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: tf.DType


class iinfo_object(NamedTuple):
    bits: int
    max: int
    min: int
    dtype: tf.DType


def finfo(type, /):  # noqa: A002 (the standard's name)
    """Machine limits of a floating dtype (bfloat16 through ml_dtypes)."""
    dt = _dtype(type)
    f = ml_dtypes.finfo(dt.as_numpy_dtype) if dt == bfloat16 else np.finfo(dt.as_numpy_dtype)
    return finfo_object(f.bits, float(f.eps), float(f.max), float(f.min), float(f.smallest_normal), dt)


def iinfo(type, /):  # noqa: A002
    dt = _dtype(type)
    i = np.iinfo(dt.as_numpy_dtype)
    return iinfo_object(i.bits, int(i.max), int(i.min), dt)


def _promote_pair(a, b):
    if a == b:
        return a
    if a == bool or b == bool:
        raise TypeError(f"no array-API promotion between {a.name} and {b.name}")
    af, bf = a in _FLOATS, b in _FLOATS
    if af and bf:
        if float64 in (a, b):
            return float64
        return float32  # any other pair of distinct floats (f16/bf16/f32)
    if af or bf:  # integer with floating: the floating dtype (NumPy/JAX choice)
        return a if af else b
    if (a in _SIGNED) == (b in _SIGNED):
        return a if a.size >= b.size else b
    s, u = (a, b) if a in _SIGNED else (b, a)
    if s.size > u.size:
        return s
    wider = {1: int16, 2: int32, 4: int64}.get(u.size)
    if wider is None:
        raise TypeError(f"no array-API promotion between {a.name} and {b.name}")
    return wider


def result_type(*arrays_and_dtypes):
    """The dtype that ``arrays_and_dtypes`` promote to; Python scalars are weak."""
    dtypes = [_dtype(x) for x in arrays_and_dtypes if isinstance(x, (tf.DType, tf.Tensor, tf.Variable))]
    if not dtypes:
        scalars = [type(x) for x in arrays_and_dtypes]
        if float in scalars:
            return _DEFAULT_FLOAT
        return bool if scalars and builtins.all(s is builtins.bool for s in scalars) else _DEFAULT_INT
    out = dtypes[0]
    for d in dtypes[1:]:
        out = _promote_pair(out, d)
    if out not in _FLOATS and builtins.any(isinstance(x, float) for x in arrays_and_dtypes):
        out = _DEFAULT_FLOAT
    return out


def _is_array(x):
    return isinstance(x, (tf.Tensor, tf.Variable))


def _constant(value, dtype):
    """A tensor of ``dtype`` from a Python scalar. TensorFlow caches eager scalars by
    value, and 0.0 == -0.0: a float zero goes through NumPy, or it would come back with the sign
    of the last one converted. So does what TensorFlow refuses to convert (True as uint8)."""
    if type(value) is not float or value != 0.0:
        try:
            return tf.constant(value, dtype)
        except TypeError:
            pass
    return tf.constant(np.asarray(value).astype(dtype.as_numpy_dtype))


def _promote(*args):
    """Tensors of one dtype from arrays and Python scalars, by ``result_type``."""
    dt = result_type(*args)
    return [(tf.cast(a, dt) if a.dtype != dt else a) if _is_array(a) else _constant(a, dt) for a in args]


# --- creation and conversion --------------------------------------------------------------
def asarray(obj, /, *, dtype=None, device=None, copy=None):
    """``obj`` as a tensor. A ``tf.Variable`` is read (``tf.convert_to_tensor``: the read is on
    any ``GradientTape``, so gradients reach the variable): the functions here take variables,
    but a variable has no ``ndim``, ``T`` or ``mT``."""
    if _is_array(obj):
        if isinstance(obj, tf.Variable):
            obj = tf.convert_to_tensor(obj)
        return obj if dtype is None or obj.dtype == dtype else tf.cast(obj, dtype)
    if dtype is None and isinstance(obj, (int, float, list, tuple)) and not isinstance(obj, np.generic):
        arr = np.asarray(obj)
        if arr.dtype == np.float64:  # Python floats: TensorFlow's default float
            dtype = _DEFAULT_FLOAT
        elif arr.dtype == np.int64:  # Python ints: the default integer (TensorFlow's is int32)
            dtype = _DEFAULT_INT
    if dtype is not None and isinstance(obj, (int, float)):  # bool is an int
        return _constant(obj, dtype)
    return tf.convert_to_tensor(obj, dtype=dtype)


def astype(x, dtype, /, *, copy=True, device=None):
    return x if x.dtype == dtype else tf.cast(x, dtype)


def zeros(shape, *, dtype=None, device=None):
    return tf.zeros(shape, dtype or _DEFAULT_FLOAT)


def ones(shape, *, dtype=None, device=None):
    return tf.ones(shape, dtype or _DEFAULT_FLOAT)


def full(shape, fill_value, *, dtype=None, device=None):
    return tf.fill(shape, _constant(fill_value, dtype or result_type(fill_value)))


def zeros_like(x, /, *, dtype=None, device=None):
    return tf.zeros_like(x, dtype=dtype or x.dtype)


def ones_like(x, /, *, dtype=None, device=None):
    return tf.ones_like(x, dtype=dtype or x.dtype)


def full_like(x, /, fill_value, *, dtype=None, device=None):
    return tf.fill(tf.shape(x), _constant(fill_value, dtype or x.dtype))


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None):
    n_cols = n_rows if n_cols is None else n_cols
    rows, cols = tf.range(n_rows)[:, None], tf.range(n_cols)[None, :]
    return tf.cast(cols - rows == k, dtype or float32)


def arange(start, /, stop=None, step=1, *, dtype=None, device=None):
    if stop is None:
        start, stop = 0, start
    dtype = dtype or result_type(start, stop, step)
    if builtins.all(isinstance(v, (int, float)) for v in (start, stop, step)) and (stop - start) * step < 0:
        stop = start  # empty, as the standard (tf.range raises); sizes traced as tensors are >= 0
    if dtype in (int8, int16) + _UNSIGNED:  # no CPU kernel: counted in int64
        return tf.cast(tf.range(start, stop, step, dtype=int64), dtype)
    return tf.range(start, stop, step, dtype=dtype)


# --- elementwise --------------------------------------------------------------------------
def _unary(tf_fn, name, kinds=(), other=None):
    """``tf_fn`` as an array-API function; ``other`` serves the dtypes in ``kinds``, which
    TensorFlow's kernel refuses (integers for floor/isnan, unsigned for abs/sign)."""

    def fn(x, /):
        return other(x) if x.dtype in kinds else tf_fn(x)

    fn.__name__ = fn.__qualname__ = name
    return fn


def _binary(tf_fn, name):
    def fn(x1, x2, /):
        return tf_fn(*_promote(x1, x2))

    fn.__name__ = fn.__qualname__ = name
    return fn


abs = _unary(tf.abs, "abs", _UNSIGNED, tf.identity)  # noqa: A001
negative = _unary(tf.negative, "negative", _UNSIGNED, lambda x: tf.zeros_like(x) - x)  # wraps
sign = _unary(tf.sign, "sign", _UNSIGNED, lambda x: tf.cast(x > 0, x.dtype))
sqrt = _unary(tf.sqrt, "sqrt")
square = _unary(tf.square, "square")
exp = _unary(tf.exp, "exp")
expm1 = _unary(tf.math.expm1, "expm1")
log = _unary(tf.math.log, "log")


def log1p(x, /):
    """log(1 + x). Under XLA (our fused kernels) TensorFlow's float64 log1p is off by up to
    ~126 ulps on (−0.5, −0.25); there 1 + x is exact to half an ulp and log(1 + x) is accurate."""
    if x.dtype != float64:
        return tf.math.log1p(x)
    mid = (x > -0.5) & (x < -0.25)  # log only sees its own inputs: at x = −1 its 1/(1 + x) would
    return tf.where(mid, tf.math.log(1.0 + tf.where(mid, x, tf.zeros_like(x))), tf.math.log1p(x))  # make a NaN gradient


sinh = _unary(tf.sinh, "sinh")
cosh = _unary(tf.cosh, "cosh")
tanh = _unary(tf.tanh, "tanh")
floor = _unary(tf.floor, "floor", _INTEGRAL, tf.identity)
ceil = _unary(tf.math.ceil, "ceil", _INTEGRAL, tf.identity)
round = _unary(tf.round, "round")  # noqa: A001 (half to even, as the standard)
isfinite = _unary(tf.math.is_finite, "isfinite", _INTEGRAL, lambda x: tf.ones_like(x, dtype=bool))
isnan = _unary(tf.math.is_nan, "isnan", _INTEGRAL, lambda x: tf.zeros_like(x, dtype=bool))
isinf = _unary(tf.math.is_inf, "isinf", _INTEGRAL, lambda x: tf.zeros_like(x, dtype=bool))
logical_not = _unary(tf.logical_not, "logical_not")

add = _binary(tf.add, "add")
subtract = _binary(tf.subtract, "subtract")
multiply = _binary(tf.multiply, "multiply")
divide = _binary(tf.divide, "divide")


def _pow(x1, x2):
    if x1.dtype in _UNSIGNED:  # TensorFlow has no unsigned Pow; int64's wraps to the same low bits
        return tf.cast(tf.pow(tf.cast(x1, int64), tf.cast(x2, int64)), x1.dtype)
    return tf.pow(x1, x2)


pow = _binary(_pow, "pow")  # noqa: A001


def _unbroadcast(g, x):
    """Sum ``g`` over the axes along which ``x`` was broadcast, back to ``x``'s shape."""
    axes, _ = tf.raw_ops.BroadcastGradientArgs(s0=tf.shape(x), s1=tf.shape(g))
    return tf.reshape(tf.reduce_sum(g, axis=axes), tf.shape(x))


def _ties_split(tf_fn, wins):
    """``tf_fn`` (max or min) whose gradient at ties is split evenly between the arguments, as
    in torch and JAX; TensorFlow's own gives it all to the first, so a kink like
    max(q·d, (q − 1)·d) at d = 0 would get a different gradient on this backend alone."""

    @tf.custom_gradient
    def split(x1, x2):
        def grad(g):
            w1 = tf.where(x1 == x2, tf.constant(0.5, g.dtype), tf.cast(wins(x1, x2), g.dtype))
            return _unbroadcast(g * w1, x1), _unbroadcast(g - g * w1, x2)

        return tf_fn(x1, x2), grad

    def fn(x1, x2):
        return split(x1, x2) if x1.dtype.is_floating else tf_fn(x1, x2)

    return fn


maximum = _binary(_ties_split(tf.maximum, tf.greater), "maximum")
minimum = _binary(_ties_split(tf.minimum, tf.less), "minimum")
equal = _binary(tf.equal, "equal")
not_equal = _binary(tf.not_equal, "not_equal")
less = _binary(tf.less, "less")
less_equal = _binary(tf.less_equal, "less_equal")
greater = _binary(tf.greater, "greater")
greater_equal = _binary(tf.greater_equal, "greater_equal")
logical_and = _binary(tf.logical_and, "logical_and")
logical_or = _binary(tf.logical_or, "logical_or")


def logaddexp(x1, x2, /):
    """log(exp(x1) + exp(x2)) without overflow; equal infinities give that infinity."""
    x1, x2 = _promote(x1, x2)
    m = tf.maximum(x1, x2)
    tie = x1 == x2  # the other branch never sees a tie: inf − inf would make its gradient NaN
    gap = tf.abs(tf.where(tie, tf.zeros_like(x1), x1 - x2))
    return tf.where(tie, x1 + math.log(2.0), m + tf.math.log1p(tf.exp(-gap)))


def where(condition, x1, x2, /):
    x1, x2 = _promote(x1, x2)
    return tf.where(condition, x1, x2)


def clip(x, /, min=None, max=None):  # noqa: A002
    if min is not None:
        x = tf.maximum(x, tf.cast(min, x.dtype) if _is_array(min) else _constant(min, x.dtype))
    if max is not None:
        x = tf.minimum(x, tf.cast(max, x.dtype) if _is_array(max) else _constant(max, x.dtype))
    return x


# --- reductions ---------------------------------------------------------------------------
def _axis(axis):
    return list(axis) if isinstance(axis, tuple) else axis


_AXES = {}  # rank (axis None) or axis tuple -> the axes to reduce as an int32 tensor, for eager reductions


def _axes(x, axis):
    """The eager reduction ops' ``axis`` argument: an int as it is, None and tuples as a cached
    int32 tensor (made once per rank or tuple: converting a Python list costs 4 op calls)."""
    if axis is None:
        key = x.shape.rank
    elif isinstance(axis, tuple):
        key = axis
    else:
        return axis
    axes = _AXES.get(key)
    if axes is None:
        axes = _AXES[key] = tf.constant(list(range(key)) if axis is None else list(axis), tf.int32)
    return axes


def _reduction(op, graph_op):
    """A reduction: in eager mode TensorFlow's generated op itself (``tf.reduce_*``'s Python layers
    cost 3× the op at small sizes), under tracing ``tf.reduce_*``, which builds the same op."""

    def fn(x, axis, keepdims):
        if tf.executing_eagerly():
            return op(x, _axes(x, axis), keep_dims=keepdims)
        return graph_op(x, axis=_axis(axis), keepdims=keepdims)

    return fn


_sum = _reduction(gen_math_ops._sum, tf.reduce_sum)
_prod = _reduction(gen_math_ops.prod, tf.reduce_prod)
_mean = _reduction(gen_math_ops.mean, tf.reduce_mean)
_max = _reduction(gen_math_ops._max, tf.reduce_max)
_min = _reduction(gen_math_ops._min, tf.reduce_min)
_all = _reduction(gen_math_ops._all, tf.reduce_all)
_any = _reduction(gen_math_ops._any, tf.reduce_any)


def _accumulator(x, dtype):
    """The standard's default dtype for sum/prod: the default integer for bool and signed
    integers, uint64 for unsigned ones (as NumPy), else ``x``'s own."""
    if dtype is None and x.dtype in (bool,) + _SIGNED:
        return _DEFAULT_INT
    if dtype is None and x.dtype in _UNSIGNED:
        return uint64
    return dtype


def sum(x, /, *, axis=None, dtype=None, keepdims=False):  # noqa: A001
    dtype = _accumulator(x, dtype)
    return _sum(x if dtype is None or x.dtype == dtype else tf.cast(x, dtype), axis, keepdims)


def prod(x, /, *, axis=None, dtype=None, keepdims=False):
    dtype = _accumulator(x, dtype)
    return _prod(x if dtype is None or x.dtype == dtype else tf.cast(x, dtype), axis, keepdims)


def mean(x, /, *, axis=None, keepdims=False):
    return _mean(x, axis, keepdims)


def max(x, /, *, axis=None, keepdims=False):  # noqa: A001
    return _max(x, axis, keepdims)


def min(x, /, *, axis=None, keepdims=False):  # noqa: A001
    return _min(x, axis, keepdims)


def all(x, /, *, axis=None, keepdims=False):  # noqa: A001
    return _all(x if x.dtype == bool else tf.cast(x, bool), axis, keepdims)


def argmax(x, /, *, axis=None, keepdims=False):
    """The first index of the maximum (of the flattened ``x`` for axis=None), as int64."""
    return _arg(tf.math.argmax, x, axis, keepdims)


def argmin(x, /, *, axis=None, keepdims=False):
    """The first index of the minimum (of the flattened ``x`` for axis=None), as int64."""
    return _arg(tf.math.argmin, x, axis, keepdims)


def _arg(tf_fn, x, axis, keepdims):
    if axis is None:
        out = tf_fn(tf.reshape(x, [-1]), axis=0, output_type=tf.int64)
        return tf.reshape(out, [1] * x.ndim) if keepdims else out
    out = tf_fn(x, axis=axis, output_type=tf.int64)
    return tf.expand_dims(out, axis) if keepdims else out


def any(x, /, *, axis=None, keepdims=False):  # noqa: A001
    return _any(x if x.dtype == bool else tf.cast(x, bool), axis, keepdims)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"cumulative_sum: `axis` is required for {x.ndim}-d `x` (tensorflow)")
        axis = 0
    dtype = _accumulator(x, dtype)
    x = x if dtype is None or x.dtype == dtype else tf.cast(x, dtype)
    out = tf.cumsum(x, axis=axis)
    if include_initial:
        shape = tf.tensor_scatter_nd_update(tf.shape(out), [[axis % x.ndim]], [1])
        out = tf.concat([tf.zeros(shape, out.dtype), out], axis)
    return out


def sort(x, /, *, axis=-1, descending=False, stable=True):
    """Sorted along ``axis``; tf.sort's descending order is the reverse of its stable ascending one
    (the same values: only argsort could tell ties apart)."""
    return tf.sort(x, axis=axis, direction="DESCENDING" if descending else "ASCENDING")


# --- manipulation and indexing ------------------------------------------------------------
def reshape(x, /, shape, *, copy=None):
    return tf.reshape(x, shape)


def broadcast_to(x, /, shape):
    return tf.broadcast_to(x, shape)


def expand_dims(x, /, axis=0):
    try:
        return tf.expand_dims(x, axis)
    except tf.errors.InvalidArgumentError:  # eager only: tracing raises ValueError itself
        n = x.shape.rank
        msg = f"expand_dims: `axis` must be in [{-n - 1}, {n}] for {n}-d `x`; got {axis} (tensorflow)"
        raise IndexError(msg) from None


def squeeze(x, /, axis):
    """As the standard: ``axis=()`` squeezes nothing (``tf.squeeze`` would squeeze every size-1 axis)."""
    if axis == ():
        return x
    try:
        return tf.squeeze(x, axis=_axis(axis))
    except tf.errors.InvalidArgumentError:  # eager only: tracing raises ValueError itself
        shape, axes = tuple(x.shape), axis if isinstance(axis, tuple) else (axis,)
        if not builtins.all(-len(shape) <= a < len(shape) for a in axes):
            msg = f"squeeze: `axis` must be in [{-len(shape)}, {len(shape) - 1}]; got {axis} (tensorflow)"
            raise IndexError(msg) from None
        msg = f"squeeze: `axis` must name axes of size 1; got {axis} for shape {shape} (tensorflow)"
        raise ValueError(msg) from None


def permute_dims(x, /, axes):
    return tf.transpose(x, axes)


def moveaxis(x, source, destination, /):
    return tf.experimental.numpy.moveaxis(x, source, destination)


def concat(arrays, /, *, axis=0):
    arrays = _promote(*arrays)
    if axis is None:
        return tf.concat([tf.reshape(a, [-1]) for a in arrays], 0)
    return tf.concat(arrays, axis)


def stack(arrays, /, *, axis=0):
    return tf.stack(_promote(*arrays), axis)


def _wrap(indices, n):
    """Negative indices counted from the end, as the standard requires (tf.gather refuses them)."""
    indices = tf.convert_to_tensor(indices)
    return tf.where(indices < 0, indices + tf.cast(n, indices.dtype), indices)


def take(x, indices, /, *, axis=None):
    if axis is None:
        x, axis = tf.reshape(x, [-1]), 0
    return tf.gather(x, _wrap(indices, tf.shape(x)[axis]), axis=axis)


def take_along_axis(x, indices, /, *, axis=-1):
    """x's values at ``indices`` along ``axis``; the other axes of both must match."""
    axis = axis % x.ndim
    if axis != x.ndim - 1:
        x, indices = moveaxis(x, axis, -1), moveaxis(indices, axis, -1)
    out = tf.gather(x, _wrap(indices, tf.shape(x)[-1]), batch_dims=x.ndim - 1)
    return out if axis == x.ndim - 1 else moveaxis(out, -1, axis)


# --- linear algebra -----------------------------------------------------------------------
def matmul(x1, x2, /):
    """As the standard: a 1-D operand is a row (x1) or column (x2) vector whose axis is dropped."""
    x1, x2 = _promote(x1, x2)
    out = tf.linalg.matmul(x1[None] if x1.ndim == 1 else x1, x2[:, None] if x2.ndim == 1 else x2)
    if x1.ndim == 1:
        out = tf.squeeze(out, -2)
    return tf.squeeze(out, -1) if x2.ndim == 1 else out


def matrix_transpose(x, /):
    return tf.linalg.matrix_transpose(x)


def vecdot(x1, x2, /, *, axis=-1):
    """As the standard: the contracted axes must have one size (``x1 * x2`` would broadcast them)."""
    x1, x2 = _promote(x1, x2)
    s1, s2 = x1.shape, x2.shape
    a = axis - builtins.max(len(s1), len(s2)) if axis >= 0 else axis
    n1, n2 = (s[a] if -a <= len(s) else 1 for s in (s1, s2))
    if n1 is not None and n2 is not None and n1 != n2:
        raise ValueError(f"vecdot: `x1` and `x2` must have one size along `axis`={axis}; got shapes "
                         f"{tuple(x1.shape)} and {tuple(x2.shape)} (tensorflow)")  # fmt: skip
    return tf.reduce_sum(x1 * x2, axis=axis)


__all__ = [
    # dtypes and their introspection
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "e", "pi", "inf", "nan",
    "isdtype", "finfo", "iinfo", "result_type", "astype",
    # creation
    "asarray", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "eye",
    # elementwise
    "abs", "negative", "sign", "sqrt", "square", "exp", "expm1", "log", "log1p", "sinh",
    "cosh", "tanh", "floor", "ceil", "round", "isfinite", "isnan", "isinf", "logical_not",
    "add", "subtract", "multiply", "divide", "pow", "maximum", "minimum", "logaddexp",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "where", "clip",
    # reductions
    "sum", "prod", "mean", "max", "min", "all", "any", "argmax", "argmin", "cumulative_sum", "sort",
    # manipulation and indexing
    "reshape", "broadcast_to", "expand_dims", "squeeze", "permute_dims", "moveaxis",
    "concat", "stack", "take", "take_along_axis",
    # linear algebra
    "matmul", "matrix_transpose", "vecdot",
]  # fmt: skip
