"""The bad-input catalogue: what every registered loss does with inputs it was not made for, on
every backend, driven by the registry (each loss at its defaults and variants, on the matrix's
inputs from its domain).

NaN and ±inf, eager. A NaN in one element of any floating input (predictions and float labels
alike) gives NaN for the item(s) that element belongs to (its element, its row, or in-batch every
item) and NaN for the ``"mean"``; no value rule rejects a NaN. A ±inf gives the same result on
every backend (the loss's limit or NaN), NumPy's being the baseline; where it is outside the
loss's domain (a probability, a label) the loss's rule raises ``ValueError`` naming it, and the
kernel, run with the rules switched off, must still agree across backends.
"""

from __future__ import annotations

import math
import traceback
from pathlib import Path

import numpy as np
import pytest

import multiloss._validation as validation
from conftest import ALL_BACKENDS, load_backend
from multiloss.testing.matrix import cases
from multiloss.testing.numerics import PEER_ULPS, relative_gap

CASES = cases()
#: (case, floating input): class labels are integers and cannot hold NaN.
INPUTS = [(case, name) for case in CASES for name in case.spec.inputs if name not in case.spec.indices]
IDS = [f"{case.id}-{name}" for case, name in INPUTS]
#: Where the loss's value rules raise, in multiloss._validation: the only place a bad value may.
VALUE_CHECKS = ("enforce",)


def with_value(case, name, x):
    """The case's inputs with element (1, 1, ...) of ``name`` set to ``x`` (row 1: in most
    domains an edge case, such as a zero distance), and the items that element belongs to."""
    a = case.inputs[name].astype(np.float64)
    where = (1,) * a.ndim
    a[where] = x
    items = ... if case.kind == "batch" else where[: len(case.out_shape)]
    return {**case.inputs, name: a}, items


def raised_by_value_check(exc: ValueError, name: str) -> bool:
    """``exc`` comes from an eager value check of the argument ``name``, and says so."""
    last = traceback.extract_tb(exc.__traceback__)[-1]
    return (Path(last.filename).name == "_validation.py" and last.name in VALUE_CHECKS
            and str(exc).startswith(f"`{name}` "))


def call(case, name, backend, inputs, monkeypatch):
    """(per-item values, mean) as NumPy float64 on ``backend``: through the public function,
    or, where an eager value check of ``name`` rejects the input, with the value checks off."""
    arrays = [backend.from_numpy(inputs[n], None if n in case.spec.indices else "float64") for n in case.spec.inputs]
    with np.errstate(all="ignore"):  # NumPy warns of inf − inf and the like: expected here
        try:
            out = case.call(*arrays, reduction="none"), case.call(*arrays)
        except ValueError as exc:
            assert raised_by_value_check(exc, name), f"{case.id}: a ValueError other than {name}'s value check: {exc}"
            with monkeypatch.context() as m:
                m.setattr(validation, "enforce", lambda xp, rules, names, args: args)
                out = case.call(*arrays, reduction="none"), case.call(*arrays)
    return tuple(backend.to_numpy(x).astype(np.float64) for x in out)


# --- NaN and ±inf ---------------------------------------------------------------------------
@pytest.mark.parametrize("case, name", INPUTS, ids=IDS)
def test_nan_gives_nan_for_its_items_and_the_mean(case, name, backend, monkeypatch):
    inputs, items = with_value(case, name, math.nan)
    arrays = [backend.from_numpy(inputs[n], None if n in case.spec.indices else "float64") for n in case.spec.inputs]
    with np.errstate(all="ignore"):
        none, mean = (backend.to_numpy(x).astype(np.float64) for x in (case.call(*arrays, reduction="none"),
                                                                          case.call(*arrays)))
    assert none.shape == case.out_shape
    assert np.all(np.isnan(none[items])), f"{case.id}: NaN in {name} gave {none[items]} for its item(s)"
    assert np.isnan(mean), f"{case.id}: NaN in {name} gave a mean of {mean}"


@pytest.mark.parametrize("sign", [math.inf, -math.inf], ids=["+inf", "-inf"])
@pytest.mark.parametrize("case, name", INPUTS, ids=IDS)
def test_infinity_never_raises_and_every_backend_agrees(case, name, sign, monkeypatch):
    inputs, _ = with_value(case, name, sign)
    results = {}
    for b in ALL_BACKENDS:
        try:
            backend = load_backend(b)
        except pytest.skip.Exception:
            continue
        results[b] = call(case, name, backend, inputs, monkeypatch)
    (base_none, base_mean) = results.pop("numpy")
    for b, (none, mean) in results.items():
        for got, want, what in ((none, base_none, "none"), (mean, base_mean, "mean")):
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{b} {case.id} {what}: NaNs")
            gap = relative_gap(got, want, "float64")
            assert np.all(gap <= PEER_ULPS), f"{b} {case.id} {what}: {got} against NumPy's {want}"
