"""Every entry of ``multiloss.backends.tensorflow_namespace.__all__`` checked against NumPy.

Each case is one small program ``run(ns, a)`` written against an array namespace ``ns``,
where ``a`` turns a NumPy array into an array of ``ns``. It runs twice, on our TensorFlow
namespace (``a = tf.constant``) and on ``array_api_compat.numpy`` (``a = np.asarray``), and
the results must agree in dtype (by name), shape and values: exactly for integer, boolean
and manipulation results, within ``ulps`` times the result dtype's epsilon (relative) for
floating math. Most cases are plain calls, ``call(name, id, *args, **kwargs)``, where NumPy
arrays in the arguments become arrays of the namespace and ``DT.x`` becomes its dtype ``x``.

Where the namespace documents a choice that differs from NumPy's (float32 as the default
float, an integer array meeting a float array giving that float dtype, bfloat16 with
float16 giving float32) or NumPy has nothing to compare with (bfloat16), the case states
its expected result as ``want``. ``test_every_name_has_a_case`` fails when a name is added
to ``__all__`` without cases here.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow", reason="TensorFlow is not installed")

import array_api_compat.numpy as npx  # noqa: E402
import ml_dtypes  # noqa: E402

import multiloss.backends.tensorflow_namespace as T  # noqa: E402

bf16 = ml_dtypes.bfloat16

INTEGERS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
FLOATS = ("float16", "float32", "float64")  # the ones NumPy has
DTYPE_NAMES = ("bool", *INTEGERS, "float16", "bfloat16", "float32", "float64")
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
    raises: type[Exception] | None = None  # our namespace must raise this (NumPy is not run)


@dataclass(frozen=True)
class Dtype:
    """A dtype by name, to be looked up in each namespace."""

    name: str


DT = SimpleNamespace(**{d: Dtype(d) for d in DTYPE_NAMES})
CASES: dict[str, list[Case]] = {}


def case(name, id, run, *, want=None, ulps=0, raises=None):
    CASES.setdefault(name, []).append(Case(name, id, run, want, ulps, raises))


def _resolve(ns, a, v):
    if isinstance(v, np.ndarray):
        return a(v)
    if isinstance(v, Dtype):
        return getattr(ns, v.name)
    if isinstance(v, (list, tuple)):
        return type(v)(_resolve(ns, a, x) for x in v)
    return v


def call(name, id, *args, want=None, ulps=0, raises=None, **kwargs):
    """A case that calls ``name(*args, **kwargs)``."""

    def run(ns, a):
        return getattr(ns, name)(*_resolve(ns, a, args), **{k: _resolve(ns, a, v) for k, v in kwargs.items()})

    case(name, id, run, want=want, ulps=ulps, raises=raises)


def f32(values):
    return np.asarray(values, np.float32)


# --- inputs ---------------------------------------------------------------------------------
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


# --- dtypes and their introspection ---------------------------------------------------------
for kind in KINDS:
    case("isdtype", kind, lambda ns, a, k=kind: tuple(ns.isdtype(getattr(ns, d), k) for d in NUMPY_DTYPE_NAMES))
    call("isdtype", f"bfloat16-{kind}", DT.bfloat16, kind, want=kind in ("real floating", "numeric"))
for d in NUMPY_DTYPE_NAMES:
    call("isdtype", f"tuple-{d}", getattr(DT, d), ("unsigned integer", DT.float32, "bool"))
call("isdtype", "dtype-itself", DT.int8, DT.int8)
call("isdtype", "other-dtype", DT.int8, DT.int16)
call("isdtype", "unknown-kind", DT.float32, "floating", raises=ValueError)


def finfo_fields(f):
    return f.bits, float(f.eps), float(f.max), float(f.min), float(f.smallest_normal), f.dtype.name


def iinfo_fields(i):
    return i.bits, i.max, i.min, i.dtype.name


for d in FLOATS:
    case("finfo", d, lambda ns, a, d=d: finfo_fields(ns.finfo(getattr(ns, d))))
case("finfo", "of-an-array", lambda ns, a: finfo_fields(ns.finfo(a(X3.astype(np.float16)))))
_bf = ml_dtypes.finfo(bf16)
case("finfo", "bfloat16", lambda ns, a: finfo_fields(ns.finfo(ns.bfloat16)),
     want=(16, float(_bf.eps), float(_bf.max), float(_bf.min), float(_bf.smallest_normal), "bfloat16"))  # fmt: skip
for d in INTEGERS:
    case("iinfo", d, lambda ns, a, d=d: iinfo_fields(ns.iinfo(getattr(ns, d))))
case("iinfo", "of-an-array", lambda ns, a: iinfo_fields(ns.iinfo(a(I3))))

# result_type: pairs on which NumPy and the standard agree ...
for d1, d2 in [("int8", "uint8"), ("int16", "int64"), ("uint8", "uint32"), ("uint32", "int64"),
               ("bool", "bool"), ("float16", "float32"), ("float32", "float64"), ("float16", "float64")]:  # fmt: skip
    call("result_type", f"{d1}+{d2}", getattr(DT, d1), getattr(DT, d2))
call("result_type", "three", DT.int8, DT.float16, DT.float32)
call("result_type", "one-array", I3.astype(np.uint16))
call("result_type", "arrays", X2.astype(np.float16), I3.astype(np.int8), X2)
# ... Python scalars are weak: they take the dtype of the array they meet ...
call("result_type", "float16-array+float", X2.astype(np.float16), 1.0)
call("result_type", "bfloat16-array+float", X2.astype(bf16), 1.0, want="bfloat16")
call("result_type", "int8-array+int", I3.astype(np.int8), 3)
call("result_type", "float32-array+int", X2, 3)
# ... and the documented choices where NumPy differs or the standard is silent.
for d1, d2, want in [("int32", "float32", "float32"), ("int64", "float16", "float16"),
                     ("uint8", "bfloat16", "bfloat16"), ("bfloat16", "float16", "float32"),
                     ("bfloat16", "float32", "float32"), ("bfloat16", "float64", "float64")]:  # fmt: skip
    call("result_type", f"{d1}+{d2}", getattr(DT, d1), getattr(DT, d2), want=want)
call("result_type", "int-array+float", I3, 0.5, want="float32")
call("result_type", "python-float-alone", 0.5, want="float32")
for d1, d2 in [("bool", "int8"), ("uint64", "int64"), ("int8", "uint64")]:
    call("result_type", f"{d1}+{d2}", getattr(DT, d1), getattr(DT, d2), raises=TypeError)

call("astype", "float32->int32", X3, DT.int32)  # truncates toward zero
call("astype", "float->bool", GRID, DT.bool)
call("astype", "float32->float16", X3, DT.float16)
call("astype", "float64->float32", GRID, DT.float32)
call("astype", "int32->float64", I3, DT.float64)
call("astype", "int32->uint8", I3, DT.uint8)  # wraps
call("astype", "int64->float64-exact", np.array([2**53 - 1, -(2**40) - 1]), DT.float64)
call("astype", "float64->int64-exact", np.array([2.0**53 - 1, -(2.0**40) - 1]), DT.int64)
call("astype", "bool->int8", B3, DT.int8)
call("astype", "same-dtype", X3, DT.float32)
call("astype", "float64->bfloat16", UNARY_IN, DT.bfloat16, want=UNARY_IN.astype(bf16))

# --- creation -------------------------------------------------------------------------------
# asarray gets Python and NumPy objects as they are (``case``, not ``call``).
case("asarray", "python-float", lambda ns, a: ns.asarray(1.5), want=f32(1.5))
case("asarray", "nested-list-of-floats", lambda ns, a: ns.asarray([[0.5, 2.0], [3.0, -1.0]]),
     want=f32([[0.5, 2.0], [3.0, -1.0]]))  # fmt: skip
case("asarray", "python-int", lambda ns, a: ns.asarray(3))
case("asarray", "list-of-ints", lambda ns, a: ns.asarray([1, -2, 3]))
case("asarray", "list-of-bools", lambda ns, a: ns.asarray([True, False]))
case("asarray", "tuple-with-dtype", lambda ns, a: ns.asarray((1.5, 2), dtype=ns.float16))
case("asarray", "bool-as-uint8", lambda ns, a: ns.asarray(True, dtype=ns.uint8))  # TensorFlow refuses
case("asarray", "float-as-int32", lambda ns, a: ns.asarray(2.5, dtype=ns.int32))
for d in ("float64", "float16", "int8", "uint16", "bool"):
    case("asarray", f"numpy-{d}", lambda ns, a, d=d: ns.asarray(X3.astype(d)))
case("asarray", "numpy-float64-scalar", lambda ns, a: ns.asarray(np.float64(2.5)))
case("asarray", "numpy-bfloat16", lambda ns, a: ns.asarray(UNARY_IN.astype(bf16)), want=UNARY_IN.astype(bf16))
call("asarray", "an-array", X3.astype(np.float16))
call("asarray", "an-array-with-dtype", X3, dtype=DT.float64)

for fn in ("zeros", "ones"):
    call(fn, "int32", (2, 3), dtype=DT.int32)
    call(fn, "int-shape-float16", 4, dtype=DT.float16)
    call(fn, "default-float32", (2, 0, 1), want=getattr(np, fn)((2, 0, 1), np.float32))
    call(f"{fn}_like", "keeps-dtype", X3.astype(np.float16))
    call(f"{fn}_like", "with-dtype", I3, dtype=DT.float64)
call("full", "python-int", (2, 3), 7)
call("full", "python-bool", 3, True)
call("full", "with-dtype", (2,), 0.1, dtype=DT.float16)
call("full", "python-float-default", (2, 2), 1.5, want=np.full((2, 2), 1.5, np.float32))
call("full_like", "python-float", X3.astype(np.float16), 0.1)
call("full_like", "python-int", I3, -4)
call("full_like", "with-dtype", I3, 2.5, dtype=DT.float32)
call("arange", "stop", 5)
call("arange", "start-stop-step", 2, 11, 3)
call("arange", "negative-step", 5, -4, -2)
call("arange", "empty", 3, 3)
call("arange", "float32", 0, 2, 0.25, dtype=DT.float32)
call("arange", "ints-dtype-float64", -3, 3, dtype=DT.float64)
call("eye", "square-float32", 3, dtype=DT.float32)
call("eye", "rectangular-k=1-bool", 3, 4, k=1, dtype=DT.bool)
call("eye", "k=-2-float64", 4, k=-2, dtype=DT.float64)
call("arange", "python-floats-default", 0.0, 1.0, 0.25, want=f32([0, 0.25, 0.5, 0.75]))
for d in ("uint8", "uint16", "int8", "int16"):  # TensorFlow has no CPU kernel for these
    call("arange", d, 1, 7, 2, dtype=getattr(DT, d))
call("arange", "start>stop-empty", 3, 1)  # tf.range raises
call("arange", "negative-step-wrong-way", 1, 3, -1, dtype=DT.uint8)

# --- elementwise ----------------------------------------------------------------------------
# Float math on every IEEE special value and some ordinary ones, in each float dtype. NumPy
# and TensorFlow both compute float16 (and TensorFlow bfloat16) through float32: one ulp.
MATH_ULPS = {"sqrt": 1, "exp": 2, "expm1": 2, "log": 2, "log1p": 2, "sinh": 2, "cosh": 2, "tanh": 2}
INTEGER_UNARY = ("abs", "negative", "sign", "square", "floor", "ceil", "round", "isfinite", "isnan", "isinf")
for fn in (*INTEGER_UNARY, *MATH_ULPS):
    ulps = MATH_ULPS.get(fn, 0)
    for d in FLOATS:
        call(fn, d, UNARY_IN.astype(d), ulps=min(ulps, 1) if d == "float16" else ulps)
    with np.errstate(all="ignore"):  # bfloat16: the float32 result, rounded to bfloat16
        want = getattr(npx, fn)(UNARY_IN.astype(bf16).astype(np.float32))
    want = want if want.dtype == bool else want.astype(bf16)
    call(fn, "bfloat16", UNARY_IN.astype(bf16), want=want, ulps=min(ulps, 1))
for fn in INTEGER_UNARY:  # the ones the standard defines on integers, too
    for d in ("int8", "int32", "int64"):
        call(fn, d, SIGNED.astype(d))
    for d in ("uint8", "uint32"):
        call(fn, d, UNSIGNED.astype(d))
call("logical_not", "bool", B3)

ARITHMETIC = ("add", "subtract", "multiply", "divide", "pow", "maximum", "minimum")
COMPARISON = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")
for fn in (*ARITHMETIC, "logaddexp", *COMPARISON):
    ulps = {"divide": 1, "pow": 2, "logaddexp": 2}.get(fn, 0)
    for d in FLOATS:  # every pair of special and ordinary values, by broadcasting
        call(fn, f"grid-{d}", GRID[:, None].astype(d), GRID.astype(d), ulps=min(ulps, 1) if d == "float16" else ulps)
    call(fn, "float32+float64", X2, X2[::-1].astype(np.float64), ulps=ulps)
    call(fn, "float16+float32", X2.astype(np.float16), X2[:, ::-1], ulps=ulps)
    call(fn, "float16+python-float", X2.astype(np.float16), 1.5, ulps=min(ulps, 1))
    call(fn, "python-float+float32", 0.5, X2, ulps=ulps)
    call(fn, "float64+python-int", X2.astype(np.float64), 2, ulps=ulps)
    if fn not in ("logaddexp", "divide"):  # float-only / implementation-defined on integers
        ints = np.abs(SIGNED) % 4 if fn == "pow" else SIGNED  # no negative integer powers
        call(fn, "int32", ints[:, None].astype(np.int32), ints.astype(np.int32))
        call(fn, "int8+python-int", ints.astype(np.int8), 3)
        call(fn, "uint8+int8", np.abs(ints).astype(np.uint8), ints.astype(np.int8) % 3)
        for d in ("uint8", "uint16", "uint32", "uint64"):  # TensorFlow's Pow has no unsigned kernel
            call(fn, d, (UNSIGNED[:, None] % 7).astype(d), (UNSIGNED % 9).astype(d))
# mixed kinds give the float dtype (NumPy would give float64)
call("add", "int32+float32", I3, X3, want=(I3 + X3).astype(np.float32))
call("multiply", "int32+python-float", I3, 0.5, want=(I3 * 0.5).astype(np.float32))
call("less", "int64+float16", I3.astype(np.int64), X3.astype(np.float16), want=I3 < X3.astype(np.float16))
call("add", "bfloat16+float16", X3.astype(bf16), X3.astype(np.float16), want=2 * X3)
call("add", "bfloat16+python-float", X3.astype(bf16), 0.5, want=(X3 + 0.5).astype(bf16))
call("add", "bool+int8", B3, I3.astype(np.int8), raises=TypeError)

# logaddexp at the edges: equal infinities, and values whose exp overflows
for d, big in [("float32", [1e38, 3e38, -3e38, 1000]), ("float64", [1e300, 1.7e308, -1.7e308, 1000]),
               ("float16", [6e4, 6.5e4, -6.5e4, 60])]:  # fmt: skip
    v = np.array([-np.inf, np.inf, 0.0, *big], d)
    call("logaddexp", f"edges-{d}", v[:, None], v, ulps=1)
call("logaddexp", "infinities", f32([-np.inf, np.inf, -np.inf]), f32([-np.inf, np.inf, np.inf]),
     want=f32([-np.inf, np.inf, np.inf]))  # fmt: skip

for fn in ("logical_and", "logical_or"):
    call(fn, "bool-grid", BOOLS[:, None], BOOLS)
    call(fn, "python-bool", B3, True)

call("where", "arrays", B3, X3, -X3)
call("where", "broadcast", B3[:, :, :1], X2[0], X3)
call("where", "float32+float64", B3, X3, 2 * X3.astype(np.float64))
call("where", "float16+python-float", B3, X3.astype(np.float16), 0.5)
call("where", "python-int+int8", B3, -1, I3.astype(np.int8))
call("where", "int32+float32", B3, I3, X3, want=np.where(B3, I3, X3).astype(np.float32))
call("where", "python-floats", B3, 1.0, 0.0, want=B3.astype(np.float32))

call("clip", "python-floats", GRID, -1.0, 0.75)
call("clip", "min-only", X3, min=0.5)
call("clip", "max-only", X3, max=-0.5)
call("clip", "float16", X3.astype(np.float16), 0.1, 1.3)
call("clip", "int32-python-ints", I3, -3, 4)
call("clip", "array-bounds", X3, -np.abs(X2[0]), np.abs(X2[0]))
call("clip", "neither", I3)

PERMUTE_SORT = np.array([1, -1, 1, -1], np.float32)  # X3's rows are sorted already
# --- reductions: every form of axis, with and without keepdims -----------------------------
AXES = {"None": None, "0": 0, "1": 1, "-1": -1, "(0,2)": (0, 2), "(-1,0)": (-1, 0), "(0,1,2)": (0, 1, 2), "()": ()}
for fn, x, ulps in [("sum", X3, 2), ("prod", X3, 4), ("mean", X3, 2), ("max", X3, 0), ("min", X3, 0),
                    ("all", B3, 0), ("any", B3, 0), ("sum", I3, 0), ("max", I3, 0)]:  # fmt: skip
    for label, axis in AXES.items():
        for keepdims in (False, True):
            call(fn, f"{x.dtype}-axis={label}-keepdims={keepdims}", x, axis=axis, keepdims=keepdims, ulps=ulps)
# result dtypes: integers accumulate in the default integer (uint64 for unsigned ones)
for fn in ("sum", "prod"):
    for d in ("int8", "int32", "uint8", "uint16", "bool", "float16", "float64"):
        call(fn, f"dtype-of-{d}", SIGNED[1:4].astype(d), axis=0, ulps=1)
    call(fn, "dtype-argument", I3[0], axis=1, dtype=DT.float64)
call("mean", "float16", np.array([1000, 1000, 1000, 1], np.float16))
call("mean", "float64", X3.astype(np.float64), axis=(0, 1), ulps=2)
for fn in ("max", "min", "sum", "mean", "any", "all"):
    call(fn, "nan-and-inf", GRID.reshape(2, 5), axis=1)
for fn in ("argmax", "argmin"):
    call(fn, "flat", X3)
    call(fn, "ties-first-index", np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]]), axis=1)
    for axis in (0, -1):
        call(fn, f"axis={axis}-keepdims", X3, axis=axis, keepdims=True)
    call(fn, "axis=None-keepdims", X2, keepdims=True)
    call(fn, "int32", I3, axis=1)
for fn in ("all", "any"):
    call(fn, "numbers", np.array([[0, 2], [0, 0]], np.int32), axis=-1)
for axis in (0, 1, -1):
    call("cumulative_sum", f"axis={axis}", X3, axis=axis, ulps=4)
    call("cumulative_sum", f"int32-axis={axis}", I3, axis=axis)
    call("cumulative_sum", f"include_initial-axis={axis}", X3, axis=axis, include_initial=True, ulps=4)
    for descending in (False, True):
        call("sort", f"axis={axis}-descending={descending}", X3 * PERMUTE_SORT, axis=axis, descending=descending)
        call("sort", f"int32-axis={axis}-descending={descending}", I3, axis=axis, descending=descending)
call("cumulative_sum", "1d-axis=None", X2[0], ulps=4)
call("cumulative_sum", "uint8-accumulates-in-uint64", SIGNED[1:4].astype(np.uint8), axis=0)
call("cumulative_sum", "dtype-argument", I3[0], axis=1, dtype=DT.float64)
call("cumulative_sum", "2d-axis=None", X2, raises=ValueError)  # as NumPy: axis is required
call("sort", "ties-default-axis", np.array([[2.0, 1.0, 2.0, -1.0], [0.0, 0.0, -0.5, 3.0]]))

# --- manipulation and indexing --------------------------------------------------------------
call("reshape", "(4,-1)", X3, (4, -1))
call("reshape", "flat", I3, (24,))
call("reshape", "to-0d", X3[:1, :1, :1], ())
call("broadcast_to", "new-axes", X2[0], (2, 3, 4))
call("broadcast_to", "size-one", X3[:, :1], (2, 3, 4))
call("broadcast_to", "0d", np.array(2, np.float16), (3,))
for axis in (0, 1, 3, -1, -2):
    call("expand_dims", f"axis={axis}", X3, axis=axis)
call("expand_dims", "default-axis=0", X2, want=X2[None])  # array_api_compat wants an axis
call("expand_dims", "positional-axis", X2, 1)  # 2024.12: axis is positional-or-keyword
for axis in (3, -4):
    call("expand_dims", f"axis={axis}-out-of-range", X2, axis=axis, raises=IndexError)  # NumPy: AxisError
for label, axis in {"0": 0, "-2": -2, "(0,2)": (0, 2), "(-2,0)": (-2, 0)}.items():
    call("squeeze", f"axis={label}", X2[None, :, None], axis=axis)
call("squeeze", "axis=()", X2[None, :, None], axis=())  # squeezes nothing (tf.squeeze: every size-1 axis)
call("squeeze", "size-3-axis", X2[None], axis=1, raises=ValueError)  # as NumPy
call("squeeze", "size-1-and-size-3-axes", X2[None], axis=(0, 1), raises=ValueError)
call("squeeze", "axis-out-of-range", X2[None], axis=3, raises=IndexError)
for axes in ((2, 0, 1), (0, 1, 2), (1, 2, 0)):
    call("permute_dims", str(axes), X3, axes)
for src, dst in ((0, -1), (-1, 0), (1, 1), ((0, 1), (-1, -2)), ((2, 0), (0, 1))):
    call("moveaxis", f"{src}->{dst}", X3, src, dst)
for axis in (0, 1, -1, None):
    call("concat", f"axis={axis}", [X3, 2 * X3], axis=axis)
call("concat", "unequal-sizes", [X3, X3[:, :, :1]], axis=-1)
call("concat", "float32+float64", (X2, X2.astype(np.float64)), axis=1)
call("concat", "one-array", [I3])
for axis in (0, 1, -1, 3):
    call("stack", f"axis={axis}", [X3, -X3], axis=axis)
call("stack", "int8+int16", (I3.astype(np.int8), I3.astype(np.int16)))
call("take", "1d-axis=None", X2[0], np.array([3, 0, 3]))
call("take", "axis=0", X3, np.array([1, 0, 1]), axis=0)
call("take", "axis=1-negative-indices", X3, np.array([-1, 0, -3]), axis=1)
call("take", "axis=-1-int32-indices", I3, np.array([3, -4, 2], np.int32), axis=-1)
PERMUTE = np.array([1, -1, 1, -1])  # for argsort orders that are not the identity
for axis in (0, 1, -1):
    call("take_along_axis", f"2d-axis={axis}", X2, np.argsort(X2 * PERMUTE, axis=axis), axis=axis)
for axis in (0, 1, 2, -3):
    call("take_along_axis", f"3d-axis={axis}", I3, np.argsort(X3, axis=axis), axis=axis)
call("take_along_axis", "default-axis", X3, np.argsort(X3 * PERMUTE))
call("take_along_axis", "fewer-negative-indices", X2, np.array([[-1], [0], [-4]]), axis=1)
call("take_along_axis", "more-indices-axis=0", X2, np.concatenate([np.argsort(X2 * PERMUTE, axis=0)] * 2), axis=0)
call("take_along_axis", "1d", X2[0], np.array([2, -1, 0]))

# --- linear algebra -------------------------------------------------------------------------
for label, (s1, s2) in {"2d@2d": ((3, 4), (4, 2)), "batched": ((2, 3, 4), (4, 5)),
                        "broadcast-batch": ((2, 1, 3, 4), (5, 4, 2)), "1d@2d": ((4,), (4, 3)),
                        "2d@1d": ((3, 4), (4,)), "1d@1d": ((4,), (4,)), "1d@3d": ((4,), (2, 4, 3)),
                        "3d@1d": ((2, 3, 4), (4,))}.items():  # fmt: skip
    call("matmul", label, np.resize(X3.ravel(), s1), np.resize(X3.ravel()[::-1] / 2, s2), ulps=4)
call("matmul", "float32@float64", X2, X2.T.astype(np.float64), ulps=4)
call("matmul", "int32", I3, I3[0].T)
call("matrix_transpose", "3d", X3)
call("matrix_transpose", "int32", I3[0])
call("vecdot", "axis=-1", X3, X3[::-1], ulps=4)
call("vecdot", "axis=0", X3, X3[::-1], axis=0, ulps=4)
call("vecdot", "broadcast", X3, X2[0], ulps=4)
call("vecdot", "float16+float64", X2.astype(np.float16), X2.astype(np.float64), axis=1, ulps=4)
call("vecdot", "sizes-1-and-3", np.ones(1, np.float32), np.ones(3, np.float32), raises=ValueError)  # as NumPy
call("vecdot", "sizes-1-and-4", X3[:, :, :1], X3[0], axis=-1, raises=ValueError)
call("vecdot", "sizes-1-and-3-axis=-2", X3[0, :1], X3, axis=-2, raises=ValueError)


# --- the checks -----------------------------------------------------------------------------
def _eps(dtype_name):
    return float((ml_dtypes.finfo(bf16) if dtype_name == "bfloat16" else np.finfo(dtype_name)).eps)


def assert_matches(got, want, ulps):
    if isinstance(want, np.ndarray):
        assert isinstance(got, tf.Tensor), f"not a tf.Tensor: {type(got).__name__}"
        assert got.dtype.name == want.dtype.name, f"dtype {got.dtype.name}, want {want.dtype.name}"
        assert tuple(got.shape) == want.shape, f"shape {tuple(got.shape)}, want {want.shape}"
        got, name = got.numpy(), want.dtype.name
        if name == "bfloat16":  # compare the (exactly representable) values as float64
            got, want = got.astype(np.float64), want.astype(np.float64)
        if ulps and want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=ulps * _eps(name), atol=0)
        else:
            np.testing.assert_array_equal(got, want, strict=True)
    elif isinstance(want, (np.dtype, str)):
        assert isinstance(got, tf.DType), f"not a tf.DType: {got!r}"
        assert got.name == (want if isinstance(want, str) else want.name)
    else:
        assert got == want


ALL_CASES = [c for cases in CASES.values() for c in cases]


@pytest.mark.parametrize("c", ALL_CASES, ids=[f"{c.name}-{c.id}" for c in ALL_CASES])
def test_case(c):
    if c.raises is not None:
        with pytest.raises(c.raises):
            c.run(T, tf.constant)
        return
    got = c.run(T, tf.constant)
    if c.want is not None:
        want = c.want
    else:
        with np.errstate(all="ignore"):
            want = c.run(npx, np.asarray)
    assert_matches(got, np.asarray(want) if isinstance(want, (np.ndarray, np.generic)) else want, c.ulps)


def test_every_name_has_a_case():
    """A name added to ``__all__`` needs cases here (dtypes and constants: the tests below)."""
    untested = set(T.__all__) - set(CASES) - set(DTYPE_NAMES) - set(CONSTANT_NAMES)
    assert not untested, f"no test cases for {sorted(untested)}"
    assert set(CASES) | set(DTYPE_NAMES) | set(CONSTANT_NAMES) <= set(T.__all__)


def test_the_standard_version():
    """The namespace claims 2024.12, as array-api-compat's namespaces do: its semantics are that
    version's (Python scalars in binary functions, ``take_along_axis``, ``expand_dims``'s
    positional ``axis``), and the conformance run (``tests/array_api``) tests it at that version."""
    sys.path.insert(0, str(Path(__file__).parent / "array_api"))
    try:
        from run_tensorflow import declared_version
    finally:
        sys.path.pop(0)
    assert T.__array_api_version__ == declared_version() == "2024.12"


def test_the_adapter_has_every_name():
    from multiloss.backends.tensorflow import xp

    assert xp.__array_api_version__ == T.__array_api_version__ == "2024.12"
    for name in T.__all__:
        assert getattr(xp, name) is getattr(T, name), name


def test_the_namespace_stands_alone():
    """Importing it imports neither the adapter nor multiloss's extension ops."""
    code = textwrap.dedent("""
        import sys
        import multiloss.backends.tensorflow_namespace as T
        assert T.sum(T.asarray([1.0, 2.0])).numpy() == 3.0
        extras = {"multiloss.backends.tensorflow", "multiloss.backends._extensions"} & set(sys.modules)
        assert not extras, extras
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype(name):
    dtype = getattr(T, name)
    assert isinstance(dtype, tf.DType)
    assert dtype.name == np.dtype(dtype.as_numpy_dtype).name == name


@pytest.mark.parametrize("name", CONSTANT_NAMES)
def test_constant(name):
    value, want = getattr(T, name), getattr(np, name)
    assert type(value) is float
    assert value == want or (math.isnan(value) and math.isnan(want))


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("first", [0.0, -0.0])
def test_the_sign_of_zero_survives_tensorflows_scalar_cache(first, dtype):
    """TensorFlow caches eager scalars by value and 0.0 == -0.0: a zero converted after the other
    one must keep its own sign, in ``asarray``, ``full`` and a binary function's Python scalar."""
    second, dt = -first, getattr(T, dtype)
    T.asarray(first, dtype=dt), T.add(T.asarray(first, dtype=dt), first), T.full((), first, dtype=dt)
    want = math.copysign(1.0, second)
    for got in (
        T.asarray(second, dtype=dt),
        T.full((1,), second, dtype=dt)[0],
        T.add(T.asarray(second, dtype=dt), second),
    ):  # -0 + -0 = -0, +0 + +0 = +0
        assert math.copysign(1.0, float(got.numpy())) == want, (first, got)


def test_logaddexp_gradient_at_equal_infinities_is_finite():
    """At x1 = x2 the other branch must not see x1 − x2: inf − inf would make the gradient NaN."""
    x1, x2 = (tf.constant([np.inf, -np.inf, 1.5], tf.float64) for _ in range(2))
    with tf.GradientTape() as tape:
        tape.watch([x1, x2])
        out = T.logaddexp(x1, x2)
    g1, g2 = tape.gradient(out, [x1, x2])
    np.testing.assert_array_equal(out.numpy(), [np.inf, -np.inf, 1.5 + math.log(2.0)])
    assert np.all(np.isfinite(g1.numpy())) and np.all(np.isfinite(g2.numpy()))
