"""Every entry of ``multiloss.backends.tensorflow.__all__`` checked against NumPy.

Each case is one small program ``run(ns, a)`` written against an array namespace ``ns``,
where ``a`` turns a NumPy array into an array of ``ns``. It runs twice: on our TensorFlow
namespace (``a = tf.constant``) and on ``array_api_compat.numpy`` (``a = np.asarray``), and
the two results must agree in dtype (by name), shape and values: exactly for integer,
boolean and manipulation results, within ``ulps`` units of the result dtype's epsilon for
floating math. Where the adapter documents a choice that differs from NumPy's (float32 as
the default float, an integer array meeting a float array giving that float dtype, bfloat16
with float16 giving float32), or NumPy has no reference (bfloat16), the case gives its
expected result as ``want`` instead.

``test_every_name_has_a_case`` fails when a name is added to ``__all__`` with no case here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow", reason="TensorFlow is not installed")

import array_api_compat.numpy as npx  # noqa: E402
import ml_dtypes  # noqa: E402

import multiloss.backends.tensorflow as T  # noqa: E402

xp = T.xp
bf16 = ml_dtypes.bfloat16

DTYPE_NAMES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
               "float16", "bfloat16", "float32", "float64")  # fmt: skip
NUMPY_DTYPE_NAMES = tuple(d for d in DTYPE_NAMES if d != "bfloat16")
CONSTANT_NAMES = ("e", "pi", "inf", "nan")
KINDS = ("bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating", "numeric")


@dataclass(frozen=True)
class Case:
    name: str  # the entry of __all__ under test
    id: str
    run: Callable  # run(ns, a) -> result
    want: Any = None  # the expected result, where it is not NumPy's
    ulps: float = 0  # 0: exact
    raises: type[Exception] | None = None  # our namespace must raise this (no NumPy run)


CASES: dict[str, list[Case]] = {}


def case(name, id, run, *, want=None, ulps=0, raises=None):
    CASES.setdefault(name, []).append(Case(name, id, run, want, ulps, raises))


def f32(values):
    return np.asarray(values, np.float32)


# --- inputs (NumPy; each case converts them with ``a``) ----------------------------------
# 24 distinct non-zero values, no symmetry, so a reduction or move over the wrong axis shows.
X3 = ((np.arange(24) * 7 % 24 - 11.5) / 4).reshape(2, 3, 4).astype(np.float32)
I3 = (np.arange(24) * 7 % 24 - 11).reshape(2, 3, 4).astype(np.int32)
B3 = X3 > 0.5
X2 = X3[0]  # (3, 4)
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0]
UNARY_IN = np.array(SPECIAL + [-3.5, -1.0, -0.5, -1e-3, 1e-3, 0.25, 0.5, 1.5, 2.5, 7.0, 20.0])
GRID = np.array(SPECIAL + [-2.5, -1.0, 0.5, 1.0, 3.0])  # binary ops: GRID[:, None] op GRID
BOOLS = np.array([True, False])
SIGNED = np.array([-7, -1, 0, 1, 5, 11])
UNSIGNED = np.array([0, 1, 5, 200])
FLOATS = ("float16", "float32", "float64")


# --- dtypes and their introspection -----------------------------------------------------
for kind in KINDS:
    case("isdtype", kind, lambda ns, a, k=kind: tuple(ns.isdtype(getattr(ns, d), k) for d in NUMPY_DTYPE_NAMES))
    case("isdtype", f"bfloat16-{kind}", lambda ns, a, k=kind: ns.isdtype(ns.bfloat16, k),
         want=kind in ("real floating", "numeric"))  # fmt: skip
for d in NUMPY_DTYPE_NAMES:
    case("isdtype", f"tuple-{d}",
         lambda ns, a, d=d: ns.isdtype(getattr(ns, d), ("unsigned integer", ns.float32, "bool")))  # fmt: skip
case("isdtype", "dtype-kind", lambda ns, a: (ns.isdtype(ns.int8, ns.int8), ns.isdtype(ns.int8, ns.int16)))
case("isdtype", "unknown-kind", lambda ns, a: ns.isdtype(ns.float32, "floating"), raises=ValueError)


def finfo_fields(f):
    dtype = f.dtype if isinstance(f.dtype, str) else f.dtype.name
    return f.bits, float(f.eps), float(f.max), float(f.min), float(f.smallest_normal), dtype


for d in FLOATS:
    case("finfo", d, lambda ns, a, d=d: finfo_fields(ns.finfo(getattr(ns, d))))
case("finfo", "of-an-array", lambda ns, a: finfo_fields(ns.finfo(a(X3.astype(np.float16)))))
_bf = ml_dtypes.finfo(bf16)
case("finfo", "bfloat16", lambda ns, a: finfo_fields(ns.finfo(ns.bfloat16)),
     want=(16, float(_bf.eps), float(_bf.max), float(_bf.min), float(_bf.smallest_normal), "bfloat16"))  # fmt: skip

for d in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
    case("iinfo", d, lambda ns, a, d=d: (lambda i: (i.bits, i.max, i.min, i.dtype.name))(ns.iinfo(getattr(ns, d))))
case("iinfo", "of-an-array", lambda ns, a: ns.iinfo(a(I3)).max)

# result_type: pairs of dtypes NumPy and the standard agree on ...
for d1, d2 in [("int8", "uint8"), ("int16", "int64"), ("uint8", "uint32"), ("uint32", "int64"), ("bool", "bool"),
               ("float16", "float32"), ("float32", "float64"), ("float16", "float64"), ("float32", "float32")]:  # fmt: skip
    case("result_type", f"{d1}+{d2}", lambda ns, a, d1=d1, d2=d2: ns.result_type(getattr(ns, d1), getattr(ns, d2)))
case("result_type", "three", lambda ns, a: ns.result_type(ns.int8, ns.float16, ns.float32))
# ... Python scalars are weak: they take the dtype of the array they meet ...
case("result_type", "f16-array+float", lambda ns, a: ns.result_type(a(X2.astype(np.float16)), 1.0))
case("result_type", "bf16-array+float", lambda ns, a: ns.result_type(a(X2.astype(bf16)), 1.0), want="bfloat16")
case("result_type", "i8-array+int", lambda ns, a: ns.result_type(a(I3.astype(np.int8)), 3))
case("result_type", "f32-array+int", lambda ns, a: ns.result_type(a(X2), 3))
# ... and the documented choices where NumPy differs or the standard is silent.
for d1, d2, want in [("int32", "float32", "float32"), ("int64", "float16", "float16"), ("uint8", "bfloat16", "bfloat16"),
                     ("bfloat16", "float16", "float32"), ("bfloat16", "float32", "float32"),
                     ("bfloat16", "float64", "float64"), ("int8", "uint64", None)]:  # fmt: skip
    case("result_type", f"{d1}+{d2}", lambda ns, a, d1=d1, d2=d2: ns.result_type(getattr(ns, d1), getattr(ns, d2)),
         want=want, raises=None if want else TypeError)  # fmt: skip
case("result_type", "int-array+float", lambda ns, a: ns.result_type(a(I3), 0.5), want="float32")
case("result_type", "float-alone", lambda ns, a: ns.result_type(0.5), want="float32")
case("result_type", "bool+int8", lambda ns, a: ns.result_type(ns.bool, ns.int8), raises=TypeError)
case("result_type", "uint64+int64", lambda ns, a: ns.result_type(ns.uint64, ns.int64), raises=TypeError)

case("astype", "float32->int32", lambda ns, a: ns.astype(a(X3), ns.int32))  # truncates toward zero
case("astype", "float->bool", lambda ns, a: ns.astype(a(GRID), ns.bool))
case("astype", "float32->float16", lambda ns, a: ns.astype(a(X3), ns.float16))
case("astype", "float64->float32", lambda ns, a: ns.astype(a(GRID), ns.float32))
case("astype", "int32->float64", lambda ns, a: ns.astype(a(I3), ns.float64))
case("astype", "bool->int8", lambda ns, a: ns.astype(a(B3), ns.int8))
case("astype", "same-dtype", lambda ns, a: ns.astype(a(X3), ns.float32))
case("astype", "float64->bfloat16", lambda ns, a: ns.astype(a(UNARY_IN), ns.bfloat16), want=UNARY_IN.astype(bf16))

# --- creation -------------------------------------------------------------------------------
case("asarray", "python-float", lambda ns, a: ns.asarray(1.5), want=f32(1.5))
case("asarray", "list-of-floats", lambda ns, a: ns.asarray([[0.5, 2.0], [3.0, -1.0]]),
     want=f32([[0.5, 2.0], [3.0, -1.0]]))  # fmt: skip
case("asarray", "python-int", lambda ns, a: ns.asarray(3))
case("asarray", "list-of-ints", lambda ns, a: ns.asarray([1, -2, 3]))
case("asarray", "list-of-bools", lambda ns, a: ns.asarray([True, False]))
case("asarray", "tuple-with-dtype", lambda ns, a: ns.asarray((1.5, 2), dtype=ns.float16))
for d in ("float64", "float16", "int8", "uint16", "bool"):
    case("asarray", f"numpy-{d}", lambda ns, a, d=d: ns.asarray(X3.astype(d)))
case("asarray", "numpy-float64-scalar", lambda ns, a: ns.asarray(np.float64(2.5)))
case("asarray", "numpy-bfloat16", lambda ns, a: ns.asarray(UNARY_IN.astype(bf16)), want=UNARY_IN.astype(bf16))
case("asarray", "an-array", lambda ns, a: ns.asarray(a(X3.astype(np.float16))))
case("asarray", "an-array-with-dtype", lambda ns, a: ns.asarray(a(X3), dtype=ns.float64))

for fn in ("zeros", "ones"):
    case(fn, "int32", lambda ns, a, fn=fn: getattr(ns, fn)((2, 3), dtype=ns.int32))
    case(fn, "float16-int-shape", lambda ns, a, fn=fn: getattr(ns, fn)(4, dtype=ns.float16))
    case(fn, "default-float32", lambda ns, a, fn=fn: getattr(ns, fn)((2, 0, 1)),
         want=getattr(np, fn)((2, 0, 1), np.float32))  # fmt: skip
    case(f"{fn}_like", "keeps-dtype", lambda ns, a, fn=fn: getattr(ns, f"{fn}_like")(a(X3.astype(np.float16))))
    case(f"{fn}_like", "with-dtype", lambda ns, a, fn=fn: getattr(ns, f"{fn}_like")(a(I3), dtype=ns.float64))
case("full", "python-int", lambda ns, a: ns.full((2, 3), 7))
case("full", "python-bool", lambda ns, a: ns.full(3, True))
case("full", "with-dtype", lambda ns, a: ns.full((2,), 0.1, dtype=ns.float16))
case("full", "python-float-default", lambda ns, a: ns.full((2, 2), 1.5), want=np.full((2, 2), 1.5, np.float32))
case("full_like", "python-float", lambda ns, a: ns.full_like(a(X3.astype(np.float16)), 0.1))
case("full_like", "python-int", lambda ns, a: ns.full_like(a(I3), -4))
case("full_like", "with-dtype", lambda ns, a: ns.full_like(a(I3), 2.5, dtype=ns.float32))
case("arange", "stop", lambda ns, a: ns.arange(5))
case("arange", "start-stop-step", lambda ns, a: ns.arange(2, 11, 3))
case("arange", "negative-step", lambda ns, a: ns.arange(5, -4, -2))
case("arange", "empty", lambda ns, a: ns.arange(3, 3))
case("arange", "float32", lambda ns, a: ns.arange(0, 2, 0.25, dtype=ns.float32))
case("arange", "int-dtype-float64", lambda ns, a: ns.arange(-3, 3, dtype=ns.float64))
case("arange", "python-floats-default", lambda ns, a: ns.arange(0.0, 1.0, 0.25), want=f32([0, 0.25, 0.5, 0.75]))

# --- elementwise ----------------------------------------------------------------------------
# Float math: on every IEEE special value and some ordinary ones, in each float dtype. NumPy
# and TensorFlow both compute float16 through float32, so float16 agrees to an ulp.
MATH_ULPS = {"sqrt": 1, "exp": 2, "expm1": 2, "log": 2, "log1p": 2, "sinh": 2, "cosh": 2, "tanh": 2}
for fn in ("abs", "negative", "sign", "square", "floor", "ceil", "round", "isfinite", "isnan", "isinf", *MATH_ULPS):
    for d in FLOATS:
        ulps = MATH_ULPS.get(fn, 0) if d != "float16" else int(fn in MATH_ULPS)
        case(fn, d, lambda ns, a, fn=fn, d=d: getattr(ns, fn)(a(UNARY_IN.astype(d))), ulps=ulps)
    # bfloat16: the float32 result, rounded to bfloat16
    with np.errstate(all="ignore"):
        want = getattr(npx, fn)(UNARY_IN.astype(bf16).astype(np.float32))
    case(fn, "bfloat16", lambda ns, a, fn=fn: getattr(ns, fn)(a(UNARY_IN.astype(bf16))),
         want=want if want.dtype == np.bool_ else want.astype(bf16), ulps=int(fn in MATH_ULPS))  # fmt: skip
# ... and the ones defined on integers, in signed and unsigned dtypes.
for fn in ("abs", "negative", "sign", "square", "floor", "ceil", "round", "isfinite", "isnan", "isinf"):
    for d in ("int8", "int32", "int64"):
        case(fn, d, lambda ns, a, fn=fn, d=d: getattr(ns, fn)(a(SIGNED.astype(d))))
    for d in ("uint8", "uint32"):
        case(fn, d, lambda ns, a, fn=fn, d=d: getattr(ns, fn)(a(UNSIGNED.astype(d))))
case("logical_not", "bool", lambda ns, a: ns.logical_not(a(B3)))

ARITHMETIC = ("add", "subtract", "multiply", "divide", "pow", "maximum", "minimum")
COMPARISON = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")
for fn in (*ARITHMETIC, "logaddexp", *COMPARISON):
    ulps = {"divide": 1, "pow": 2, "logaddexp": 2}.get(fn, 0)
    for d in FLOATS:  # every pair of special and ordinary values, by broadcasting
        case(fn, f"grid-{d}", lambda ns, a, fn=fn, d=d: getattr(ns, fn)(a(GRID[:, None].astype(d)), a(GRID.astype(d))),
             ulps=ulps if d != "float16" else int(ulps > 0))  # fmt: skip
    case(fn, "float32+float64", lambda ns, a, fn=fn: getattr(ns, fn)(a(X2), a(X2[::-1].astype(np.float64))), ulps=ulps)
    case(fn, "float16+float32", lambda ns, a, fn=fn: getattr(ns, fn)(a(X2.astype(np.float16)), a(X2[:, ::-1])), ulps=ulps)
    case(fn, "float16+python-float", lambda ns, a, fn=fn: getattr(ns, fn)(a(X2.astype(np.float16)), 1.5),
         ulps=int(ulps > 0))  # fmt: skip
    case(fn, "python-float+float32", lambda ns, a, fn=fn: getattr(ns, fn)(0.5, a(X2)), ulps=ulps)
    case(fn, "float64+python-int", lambda ns, a, fn=fn: getattr(ns, fn)(a(X2.astype(np.float64)), 2), ulps=ulps)
    if fn != "logaddexp":  # integers (logaddexp is float-only in the standard)
        ints = SIGNED if fn != "pow" else np.abs(SIGNED) % 4  # no negative integer powers
        if fn != "divide":  # integer division is implementation-defined
            case(fn, "int32", lambda ns, a, fn=fn, b=ints: getattr(ns, fn)(a(b[:, None].astype(np.int32)), a(b.astype(np.int32))))
            case(fn, "int8+python-int", lambda ns, a, fn=fn, b=ints: getattr(ns, fn)(a(b.astype(np.int8)), 3))
            case(fn, "uint8+int8", lambda ns, a, fn=fn, b=ints: getattr(ns, fn)(a(np.abs(b).astype(np.uint8)), a(b.astype(np.int8) % 3)))
# mixed kinds: the float dtype (NumPy would give float64)
case("add", "int32+float32", lambda ns, a: ns.add(a(I3), a(X3)), want=(I3 + X3).astype(np.float32))
case("multiply", "int32+python-float", lambda ns, a: ns.multiply(a(I3), 0.5), want=(I3 * 0.5).astype(np.float32))
case("less", "int64+float16", lambda ns, a: ns.less(a(I3.astype(np.int64)), a(X3.astype(np.float16))),
     want=I3 < X3.astype(np.float16))  # fmt: skip
case("add", "bfloat16+float16", lambda ns, a: ns.add(a(X3.astype(bf16)), a(X3.astype(np.float16))), want=2 * X3)
case("add", "bfloat16+python-float", lambda ns, a: ns.add(a(X3.astype(bf16)), 0.5), want=(X3 + 0.5).astype(bf16))
case("add", "bool+int8", lambda ns, a: ns.add(a(B3), a(I3.astype(np.int8))), raises=TypeError)

# logaddexp at the edges: equal infinities, and values whose exp overflows
for d, big in [("float32", [1e38, 3e38, -3e38]), ("float64", [1e300, 1.7e308, -1.7e308]), ("float16", [6e4, 6.5e4, -6.5e4])]:
    v = np.array([-np.inf, np.inf, *big, 0.0, 1000.0 if d != "float16" else 60.0], d)
    case("logaddexp", f"edges-{d}", lambda ns, a, v=v: ns.logaddexp(a(v[:, None]), a(v)), ulps=1)
case("logaddexp", "infinities", lambda ns, a: ns.logaddexp(a(f32([-np.inf, np.inf, -np.inf])), a(f32([-np.inf, np.inf, np.inf]))),
     want=f32([-np.inf, np.inf, np.inf]))  # fmt: skip

for fn in ("logical_and", "logical_or"):
    case(fn, "bool-grid", lambda ns, a, fn=fn: getattr(ns, fn)(a(BOOLS[:, None]), a(BOOLS)))
    case(fn, "python-bool", lambda ns, a, fn=fn: getattr(ns, fn)(a(B3), True))

case("where", "arrays", lambda ns, a: ns.where(a(B3), a(X3), a(-X3)))
case("where", "broadcast", lambda ns, a: ns.where(a(B3[:, :, :1]), a(X2[0]), a(X3)))
case("where", "float32+float64", lambda ns, a: ns.where(a(B3), a(X3), a(X3.astype(np.float64) * 2)))
case("where", "float16+python-float", lambda ns, a: ns.where(a(B3), a(X3.astype(np.float16)), 0.5))
case("where", "python-int+int8", lambda ns, a: ns.where(a(B3), -1, a(I3.astype(np.int8))))
case("where", "int32+float32", lambda ns, a: ns.where(a(B3), a(I3), a(X3)), want=np.where(B3, I3, X3).astype(np.float32))
case("where", "python-floats", lambda ns, a: ns.where(a(B3), 1.0, 0.0), want=B3.astype(np.float32))

case("clip", "python-floats", lambda ns, a: ns.clip(a(GRID), -1.0, 0.75))
case("clip", "min-only", lambda ns, a: ns.clip(a(X3), min=0.5))
case("clip", "max-only", lambda ns, a: ns.clip(a(X3), max=-0.5))
case("clip", "float16", lambda ns, a: ns.clip(a(X3.astype(np.float16)), 0.1, 1.3))
case("clip", "int32-python-ints", lambda ns, a: ns.clip(a(I3), -3, 4))
case("clip", "array-bounds", lambda ns, a: ns.clip(a(X3), a(-np.abs(X2[0])), a(np.abs(X2[0]))))
case("clip", "neither", lambda ns, a: ns.clip(a(I3)))

# --- reductions: every axis form, with and without keepdims ---------------------------------
AXES = {"None": None, "0": 0, "-1": -1, "1": 1, "(0,2)": (0, 2), "(-1,0)": (-1, 0), "(0,1,2)": (0, 1, 2), "()": ()}
for fn, x, ulps in [("sum", X3, 2), ("prod", X3, 4), ("mean", X3, 2), ("max", X3, 0), ("min", X3, 0),
                    ("all", B3, 0), ("any", B3, 0), ("sum", I3, 0), ("max", I3, 0)]:  # fmt: skip
    for label, axis in AXES.items():
        for keepdims in (False, True):
            case(fn, f"{x.dtype}-axis={label}-keepdims={keepdims}",
                 lambda ns, a, fn=fn, x=x, axis=axis, keepdims=keepdims: getattr(ns, fn)(a(x), axis=axis, keepdims=keepdims),
                 ulps=ulps)  # fmt: skip
# the result dtypes: integers accumulate in the default integer (uint64 for unsigned ones)
for fn in ("sum", "prod"):
    for d in ("int8", "int32", "uint8", "uint16", "bool", "float16", "float64"):
        case(fn, f"dtype-of-{d}", lambda ns, a, fn=fn, d=d: getattr(ns, fn)(a(SIGNED[1:4].astype(d)), axis=0), ulps=1)
    case(fn, "dtype-argument", lambda ns, a, fn=fn: getattr(ns, fn)(a(I3[0]), axis=1, dtype=ns.float64))
case("mean", "float16", lambda ns, a: ns.mean(a(np.array([1000, 1000, 1000, 1], np.float16))))
case("mean", "float64", lambda ns, a: ns.mean(a(X3.astype(np.float64)), axis=(0, 1)), ulps=2)
for fn in ("max", "min", "sum", "mean", "any", "all"):
    case(fn, "nan-and-inf", lambda ns, a, fn=fn: getattr(ns, fn)(a(GRID.reshape(2, 5)), axis=1))
for fn in ("all", "any"):
    case(fn, "numbers", lambda ns, a, fn=fn: getattr(ns, fn)(a(np.array([[0, 2], [0, 0]], np.int32)), axis=-1))

# --- manipulation and indexing ------------------------------------------------------------
IDX2 = np.argsort(X2 * np.array([1, -1, 1, -1]), axis=0)  # a permutation along each axis
case("reshape", "(4,-1)", lambda ns, a: ns.reshape(a(X3), (4, -1)))
case("reshape", "flat", lambda ns, a: ns.reshape(a(I3), (24,)))
case("reshape", "to-scalar", lambda ns, a: ns.reshape(a(X3[:1, :1, :1]), ()))
case("broadcast_to", "leading", lambda ns, a: ns.broadcast_to(a(X2[0]), (2, 3, 4)))
case("broadcast_to", "size-one", lambda ns, a: ns.broadcast_to(a(X3[:, :1]), (2, 3, 4)))
case("broadcast_to", "scalar", lambda ns, a: ns.broadcast_to(a(np.float16(2)), (3,)))
for axis in (0, 1, 3, -1, -2):
    case("expand_dims", f"axis={axis}", lambda ns, a, axis=axis: ns.expand_dims(a(X3), axis=axis))
case("expand_dims", "default-axis=0", lambda ns, a: ns.expand_dims(a(X2)), want=X2[None])
for label, axis in {"0": 0, "-2": -2, "(0,2)": (0, 2), "(-2,0)": (-2, 0)}.items():
    case("squeeze", f"axis={label}", lambda ns, a, axis=axis: ns.squeeze(a(X2[None, :, None]), axis=axis))
for axes in ((2, 0, 1), (0, 1, 2), (1, 2, 0)):
    case("permute_dims", str(axes), lambda ns, a, axes=axes: ns.permute_dims(a(X3), axes))
for src, dst in ((0, -1), (-1, 0), (1, 1), ((0, 1), (-1, -2)), ((2, 0), (0, 1))):
    case("moveaxis", f"{src}->{dst}", lambda ns, a, s=src, d=dst: ns.moveaxis(a(X3), s, d))
for axis in (0, 1, -1, None):
    case("concat", f"axis={axis}", lambda ns, a, axis=axis: ns.concat([a(X3), a(2 * X3)], axis=axis))
case("concat", "unequal-sizes", lambda ns, a: ns.concat([a(X3), a(X3[:, :, :1])], axis=-1))
case("concat", "float32+float64", lambda ns, a: ns.concat((a(X2), a(X2.astype(np.float64))), axis=1))
case("concat", "one-array", lambda ns, a: ns.concat([a(I3)]))
for axis in (0, 1, -1, 3):
    case("stack", f"axis={axis}", lambda ns, a, axis=axis: ns.stack([a(X3), a(-X3)], axis=axis))
case("stack", "int8+int16", lambda ns, a: ns.stack((a(I3.astype(np.int8)), a(I3.astype(np.int16)))))
case("take", "1d-axis=None", lambda ns, a: ns.take(a(X2[0]), a(np.array([3, 0, 3]))))
case("take", "axis=0", lambda ns, a: ns.take(a(X3), a(np.array([1, 0, 1])), axis=0))
case("take", "axis=1-negative-indices", lambda ns, a: ns.take(a(X3), a(np.array([-1, 0, -3])), axis=1))
case("take", "axis=-1", lambda ns, a: ns.take(a(I3), a(np.array([3, -4, 2], np.int32)), axis=-1))
for axis in (0, 1, -1):
    case("take_along_axis", f"2d-axis={axis}",
         lambda ns, a, axis=axis: ns.take_along_axis(a(X2), a(np.argsort(X2 * np.array([1, -1, 1, -1]), axis=axis)), axis=axis))  # fmt: skip
for axis in (0, 1, 2, -1, -3):
    case("take_along_axis", f"3d-axis={axis}",
         lambda ns, a, axis=axis: ns.take_along_axis(a(I3), a(np.argsort(X3, axis=axis)), axis=axis))  # fmt: skip
case("take_along_axis", "fewer-indices-negative", lambda ns, a: ns.take_along_axis(a(X2), a(np.array([[-1], [0], [-4]])), axis=1))
case("take_along_axis", "more-indices-axis0", lambda ns, a: ns.take_along_axis(a(X2), a(np.concatenate([IDX2, IDX2])), axis=0))
case("take_along_axis", "default-axis", lambda ns, a: ns.take_along_axis(a(X2), a(np.argsort(X2))))
case("take_along_axis", "1d", lambda ns, a: ns.take_along_axis(a(X2[0]), a(np.array([2, -1, 0]))))

# --- linear algebra -----------------------------------------------------------------------
for label, (s1, s2) in {"2d@2d": ((3, 4), (4, 2)), "batched": ((2, 3, 4), (4, 5)), "broadcast": ((2, 1, 3, 4), (5, 4, 2)),
                        "1d@2d": ((4,), (4, 3)), "2d@1d": ((3, 4), (4,)), "1d@1d": ((4,), (4,)),
                        "1d@3d": ((4,), (2, 4, 3)), "3d@1d": ((2, 3, 4), (4,))}.items():  # fmt: skip
    m1 = np.resize(X3.ravel(), s1)
    m2 = np.resize(X3.ravel()[::-1] / 2, s2)
    case("matmul", label, lambda ns, a, m1=m1, m2=m2: ns.matmul(a(m1), a(m2)), ulps=4)
case("matmul", "float32@float64", lambda ns, a: ns.matmul(a(X2), a(X2.T.astype(np.float64))), ulps=4)
case("matmul", "int32", lambda ns, a: ns.matmul(a(I3), a(I3[0].T)))
case("vecdot", "axis=-1", lambda ns, a: ns.vecdot(a(X3), a(X3[::-1])), ulps=4)
case("vecdot", "axis=0", lambda ns, a: ns.vecdot(a(X3), a(X3[::-1]), axis=0), ulps=4)
case("vecdot", "broadcast", lambda ns, a: ns.vecdot(a(X3), a(X2[0])), ulps=4)
case("vecdot", "float16+float64", lambda ns, a: ns.vecdot(a(X2.astype(np.float16)), a(X2.astype(np.float64)), axis=1), ulps=4)


# --- the checks ---------------------------------------------------------------------------
def _name(dtype):
    return dtype if isinstance(dtype, str) else dtype.name


def _eps(dtype_name):
    return float((ml_dtypes.finfo(bf16) if dtype_name == "bfloat16" else np.finfo(dtype_name)).eps)


def assert_matches(got, want, ulps):
    if isinstance(want, (np.ndarray, np.generic)):
        want = np.asarray(want)
        assert isinstance(got, tf.Tensor), f"not a tf.Tensor: {type(got).__name__}"
        assert got.dtype.name == want.dtype.name, f"dtype {got.dtype.name}, NumPy {want.dtype.name}"
        assert tuple(got.shape) == want.shape, f"shape {tuple(got.shape)}, NumPy {want.shape}"
        got, name = got.numpy(), want.dtype.name
        if name == "bfloat16":  # compare the (exactly representable) values as float64
            got, want = got.astype(np.float64), want.astype(np.float64)
        if ulps and want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=ulps * _eps(name), atol=0)
        else:
            np.testing.assert_array_equal(got, want, strict=True)
    elif isinstance(want, (np.dtype, str)):
        assert isinstance(got, tf.DType), f"not a tf.DType: {got!r}"
        assert got.name == _name(want)
    else:
        assert got == want


ALL_CASES = [c for cases in CASES.values() for c in cases]


@pytest.mark.parametrize("c", ALL_CASES, ids=[f"{c.name}-{c.id}" for c in ALL_CASES])
def test_case(c):
    fn = getattr(xp, c.name)
    assert fn is getattr(T, c.name)
    if c.raises is not None:
        with pytest.raises(c.raises):
            c.run(xp, tf.constant)
        return
    got = c.run(xp, tf.constant)
    if c.want is not None:
        want = c.want
    else:
        with np.errstate(all="ignore"):
            want = c.run(npx, np.asarray)
        if isinstance(want, np.ndarray) or np.isscalar(want) and isinstance(want, np.generic):
            want = np.asarray(want)
    assert_matches(got, want, c.ulps)


def test_every_name_has_a_case():
    """Adding a name to ``__all__`` needs cases here; constants are checked below."""
    untested = set(T.__all__) - set(CASES) - set(DTYPE_NAMES) - set(CONSTANT_NAMES)
    assert not untested, f"no test cases for {sorted(untested)}"
    assert set(CASES) <= set(T.__all__), f"cases for names not in __all__: {sorted(set(CASES) - set(T.__all__))}"
    assert set(DTYPE_NAMES) | set(CONSTANT_NAMES) <= set(T.__all__)


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_constant(name):
    dtype = getattr(xp, name)
    assert isinstance(dtype, tf.DType)
    assert dtype.name == name
    assert np.dtype(dtype.as_numpy_dtype).name == (name if name != "bool" else "bool")
    assert dtype is getattr(T, name)


@pytest.mark.parametrize("name", CONSTANT_NAMES)
def test_constant(name):
    value = getattr(xp, name)
    assert type(value) is float
    want = getattr(np, name)
    assert value == want or (math.isnan(value) and math.isnan(want))


def test_namespace_has_every_name():
    assert xp.__array_api_version__ == T.__array_api_version__ == "2024.12"
    for name in T.__all__:
        assert getattr(xp, name) is getattr(T, name), name
