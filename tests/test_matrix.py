"""The test matrix: every registered loss × backend × dtype × reduction, against the reference.

Truth is the independent per-element reference (plain Python over mpmath at 60 digits),
evaluated at the inputs *as rounded to the dtype under test*, so only the library's own
rounding is measured. Tolerances are stated once, below, in units of the dtype's epsilon.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from multiloss import backend_name
from multiloss._validation import _dtype_name
from multiloss.testing.matrix import cases, math_module
from multiloss.testing.numerics import EPS, FINITE_MAX, GRAD_ULPS, REF_NOISE, TINY, ULPS, compute_dtype

CASES = cases()
M = math_module()

#: Rounding errors one elementwise evaluation may make, in units of the compute dtype's eps
#: (the library's accuracy contract, shared with the `multiloss` command). A sum of n terms
#: adds n more (the worst-case bound of recursive summation). 16-bit results add one rounding
#: to the output dtype and may underflow to its smallest subnormal.
K = ULPS
K_GRAD = GRAD_ULPS

REDUCTIONS = {  # id: (reduction, weights: None | "element" | "sample")
    "none": ("none", None),
    "sum": ("sum", None),
    "mean": ("mean", None),
    "weighted-mean": ("mean", "element"),
    "sum_over_batch_size-per-sample": ("sum_over_batch_size", "sample"),
}


def make_weights(kind, shape):
    if kind is None:
        return None
    rng = np.random.default_rng(7)
    w = rng.uniform(0.0, 2.0, shape if kind == "element" else shape[:1])
    w.ravel()[1::5] = 0.0  # zero weights are common (masks) and must drop their items; item 0, often
    # the domain's hardest edge case, keeps its weight so that its gradient is checked
    return w


@functools.cache
def _reference(case_id, key):
    case, inputs, weights = _pending.pop(key)
    return case.reference(inputs, M, weights=weights)


_pending: dict = {}


def reference(case, inputs, weights):
    """The case's reference at ``inputs`` (as held in the dtype under test), with gradients of
    the ``weights``-weighted sum; cached, since every backend holds the same values."""
    key = tuple((n, a.tobytes()) for n, a in sorted(inputs.items())) + (weights.tobytes(),)
    _pending[key] = (case, inputs, weights)
    return _reference(case.id, key)


def roundtrip(backend, a, dtype):
    """``a`` as the backend stores it in ``dtype``, and those exact values in float64."""
    x = backend.from_numpy(a, dtype)
    return x, backend.to_numpy(x).astype(np.float64)


def check_result(out, backend, dtype, shape):
    assert backend_name(out) == backend.xp.backend
    assert _dtype_name(out.dtype) == dtype
    assert tuple(out.shape) == shape


def assert_within(got, expected, tol, what):
    with np.errstate(invalid="ignore"):  # inf − inf: equal infinities are exact
        err = np.where(got == expected, 0.0, np.abs(got - expected))
    bad = ~(err <= tol)
    if np.any(bad):
        i = np.unravel_index(np.argmax(np.where(bad, err / np.maximum(tol, 1e-300), 0)), np.shape(err))
        raise AssertionError(
            f"{what}: {int(np.sum(bad))} of {np.size(err)} outside tolerance; worst at {i}: "
            f"got {np.ravel(got)[np.ravel_multi_index(i, np.shape(err)) if np.ndim(err) else 0]!r}, "
            f"expected {np.ravel(expected)[np.ravel_multi_index(i, np.shape(err)) if np.ndim(err) else 0]!r}, "
            f"error {np.ravel(err)[np.ravel_multi_index(i, np.shape(err)) if np.ndim(err) else 0]:.3g} > "
            f"tolerance {np.ravel(tol)[np.ravel_multi_index(i, np.shape(err)) if np.ndim(err) else 0]:.3g}"
        )


def expected_reduction(values, scales, reduction, w, dtype, item_weights):
    """Reduce reference values (already weighted by the loss's own item weights, which count
    in the mean's divisor); return (expected, tolerance)."""
    eps_out, eps_c, tiny = EPS[dtype], EPS[compute_dtype(dtype)], TINY[dtype]
    n = values.size
    if w is None:
        w = np.ones(values.shape)
    elif w.ndim < values.ndim:
        w = np.broadcast_to(w.reshape(w.shape + (1,) * (values.ndim - w.ndim)), values.shape)
    if reduction == "none":
        expected = values * w
        tol = eps_out * np.abs(expected) + K * eps_c * scales * np.abs(w) + tiny
        over = np.abs(expected) > FINITE_MAX[dtype]  # values that do not fit the output dtype
        return np.where(over, np.copysign(np.inf, expected), expected), np.where(over, 0.0, tol)
    if hasattr(M, "mpf"):
        total = float(M.fsum(M.mpf(float(x)) for x in (values * w).ravel()))
    else:
        total = float(np.sum(values * w))
    bound = (K + n) * eps_c * float(np.sum(scales * np.abs(w)))
    divisor = {"sum": 1.0, "sum_over_batch_size": float(n), "mean": float(np.sum(w * item_weights))}[reduction]
    divisor = divisor or 1.0
    expected = total / divisor
    if abs(expected) > FINITE_MAX[dtype]:  # the result does not fit the output dtype
        return math.copysign(math.inf, expected), 0.0
    return expected, eps_out * abs(expected) + bound / divisor + tiny


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_value_matches_reference(case, reduction, backend, dtype):
    arrays, held = case.to_backend(backend, dtype)
    grad_weights = roundtrip(backend, make_weights("element", case.out_shape), dtype)[1]
    values, scales, _, _, item_weights = reference(case, held, grad_weights)
    red, wkind = REDUCTIONS[reduction]
    w = make_weights(wkind, case.out_shape)
    kwargs = {}
    if w is not None:
        kwargs["sample_weight"], w = roundtrip(backend, w, dtype)
    out = case.call(*arrays, reduction=red, **kwargs)
    check_result(out, backend, dtype, case.out_shape if red == "none" else ())
    expected, tol = expected_reduction(values, scales, red, w, dtype, item_weights)
    assert_within(backend.to_numpy(out).astype(np.float64), expected, tol, f"{case.id} {reduction} {dtype}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradient_matches_reference(case, backend, dtype):
    if backend.value_and_grad is None:
        pytest.skip(f"{backend.xp.backend} has no autodiff")
    arrays, held = case.to_backend(backend, dtype)
    weights, w = roundtrip(backend, make_weights("element", case.out_shape), dtype)
    _, _, grads, gscales, item_weights = reference(case, held, w)
    divisor = float(np.sum(w * item_weights)) or 1.0
    eps_out, eps_c, tiny = EPS[dtype], EPS[compute_dtype(dtype)], TINY[dtype]
    for name, g in case.grad_of_sum(backend, arrays, sample_weight=weights).items():
        check_result(g, backend, dtype, case.inputs[name].shape)
        with np.errstate(invalid="ignore"):  # an undefined (NaN/inf) derivative times weight 0
            expected = grads[name] / divisor
            # Where the derivative does not exist (NaN: d/dy of y·log(rate) at y = rate = 0, or
            # ±inf: d/dy of −y·log(rate) at rate = 0), the library defines one; it must be finite.
            undefined = ~np.isfinite(expected)
            tol = eps_out * np.abs(expected) + K_GRAD * eps_c * gscales[name] / divisor + tiny + REF_NOISE
            over = np.abs(expected) > FINITE_MAX[dtype]  # a derivative that does not fit the output dtype
            expected, tol = np.where(over, np.copysign(np.inf, expected), expected), np.where(over, 0.0, tol)
        actual = backend.to_numpy(g).astype(np.float64)
        assert np.all(np.isfinite(actual[undefined])), f"d{case.id}/d{name}: non-finite where undefined"
        assert_within(actual[~undefined], expected[~undefined], tol[~undefined], f"d{case.id}/d{name} {dtype}")
