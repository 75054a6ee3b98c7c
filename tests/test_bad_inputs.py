"""The bad-input catalogue: what every registered loss does with inputs it was not made for, on
every backend, driven by the registry (each loss at its defaults and variants, on the matrix's
inputs from its domain).

NaN and ±inf, eager. A NaN in one element of any floating input (predictions and float labels
alike) gives NaN for the item(s) that element belongs to (its element, its row, or in-batch every
item) and NaN for the ``"mean"``; no value rule rejects a NaN. A ±inf gives the same result on
every backend (the loss's limit or NaN), NumPy's being the baseline; where it is outside the
loss's domain (a probability, a label) the loss's rule raises ``ValueError`` naming it, and the
kernel, run with the rules switched off, must still agree across backends.

Out of the domain: every value rule of every case (``checks=``), broken at one item, is a
``ValueError`` naming the argument in eager mode and NaN for that item under jax.jit,
tf.function and torch.compile. Empty batches, 0-d inputs, axes, dtypes, weights and every
parameter's condition: a clear exception or the documented value (the README's "What bad input
gets"). Variables, integer widths, NumPy scalars next to tensors, ndarray subclasses and meta
tensors are in test_input_types.py; unknown sizes in test_dynamic_shapes.py.
"""

from __future__ import annotations

import ast
import math
import re
import traceback
from pathlib import Path

import numpy as np
import pytest

import multiloss as ml
import multiloss._validation as validation
from conftest import ALL_BACKENDS, compiler, load_backend
from multiloss.registry import REGISTRY
from multiloss.testing.matrix import cases
from multiloss.testing.numerics import EPS, PEER_ULPS, relative_gap

CASES = [case for case in cases() if case.spec.builtin]  # (losses other tests register are theirs)
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
                m.setattr(validation, "enforce", lambda xp, rules, names, args, **_: (args, None))
                out = case.call(*arrays, reduction="none"), case.call(*arrays)
    return tuple(backend.to_numpy(x).astype(np.float64) for x in out)


# --- NaN and ±inf ---------------------------------------------------------------------------
@pytest.mark.parametrize("case, name", INPUTS, ids=IDS)
def test_nan_gives_nan_for_its_items_and_the_mean(case, name, backend, monkeypatch):
    inputs, items = with_value(case, name, math.nan)
    dtype = "float64" if "float64" in backend.DTYPES else "float32"  # (JAX in 32-bit mode)
    arrays = [backend.from_numpy(inputs[n], None if n in case.spec.indices else dtype) for n in case.spec.inputs]
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
        if "float64" in backend.DTYPES:  # (not JAX in 32-bit mode, MULTILOSS_JAX_X64=0)
            results[b] = call(case, name, backend, inputs, monkeypatch)
    (base_none, base_mean) = results.pop("numpy")
    for b, (none, mean) in results.items():
        for got, want, what in ((none, base_none, "none"), (mean, base_mean, "mean")):
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{b} {case.id} {what}: NaNs")
            gap = relative_gap(got, want, "float64")
            assert np.all(gap <= PEER_ULPS), f"{b} {case.id} {what}: {got} against NumPy's {want}"


# --- out of the loss's domain: eager raises, compiled gives NaN for that item ---------------------
def _domain_breaches():
    """(case, input name, a value that breaks the loss's rule on it) for every value rule of every
    case: below a lower bound, above an upper one, or outside an allowed set (0.5)."""
    numpy_xp = load_backend("numpy").xp
    found = []
    for case in cases():
        spec = case.spec
        if spec.checks is None:
            continue
        arrays = [np.asarray(case.inputs[n], np.int64 if n in spec.indices else np.float64) for n in spec.inputs]
        for rule in spec.checks(numpy_xp, *arrays, **case.params) or ():
            if rule.ok is not None:
                values = (0.5,)
            else:
                values = tuple(b + step for b, step in ((rule.lower, -1), (rule.upper, 1)) if b is not None)
            found += [pytest.param(case, rule.name, value, id=f"{case.id}-{rule.name}={value}") for value in values]
    return found


BREACHES = _domain_breaches()


def _breached(backend, case, name, value):
    inputs = dict(case.inputs)
    x = np.array(inputs[name], dtype=np.int64 if name in case.spec.indices else np.float64)
    x.flat[0] = value
    inputs[name] = x
    return [backend.from_numpy(inputs[n], None if n in case.spec.indices else "float32") for n in case.spec.inputs]


@pytest.mark.parametrize(("case", "name", "value"), BREACHES)
def test_out_of_domain_is_a_value_error_in_eager_mode(backend, case, name, value):
    with pytest.raises(ValueError, match=rf"^`{name}` must be .*; 1 value\(s\) are not \({backend.xp.backend}\)\.$"):
        case.call(*_breached(backend, case, name, value))


@pytest.mark.parametrize("framework", ["jax", "tensorflow", "torch"])
def test_out_of_domain_is_nan_for_that_item_under_a_compiler(framework):
    """Every breach of every rule at once in one compiled function: the item holding the bad value
    (the first) is NaN, the others equal the valid inputs' eager values."""
    backend, compile_fn = load_backend(framework), compiler(framework)
    calls = [(case, _breached(backend, case, name, value)) for case, name, value in (p.values for p in BREACHES)]

    def all_losses(inputs):
        return [case.call(*args, reduction="none") for (case, _), args in zip(calls, inputs)]

    eager = [backend.to_numpy(case.call(*case.to_backend(backend, "float32")[0], reduction="none")).reshape(-1)
             for case, _ in calls]
    got = compile_fn(all_losses)([args for _, args in calls])
    for (case, _), out, valid, p in zip(calls, got, eager, BREACHES):
        out = backend.to_numpy(out).reshape(-1)
        assert np.isnan(out[0]), f"{p.id}: {out[0]} under {framework}'s compiler"
        rest = slice(1, None) if case.spec.kind != "batch" else slice(0, 0)
        # Items without the bad value keep their values; hinge's labels="binary_batch" reads the whole batch.
        if case.params.get("labels") != "binary_batch":
            np.testing.assert_allclose(out[rest], valid[rest], rtol=PEER_ULPS * EPS["float32"], err_msg=p.id)


# --- empty batches ------------------------------------------------------------------------------
def _empty(case):
    """The case's inputs with a batch of 0 (the first axis of every input)."""
    return {n: a[:0] for n, a in case.inputs.items()}


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_an_empty_batch_is_no_item(backend, case):
    """One rule for every loss: "none" gives an empty array, "mean" and "sum" 0 (as when no item
    counts: all weights 0), with zero gradients."""
    arrays = [backend.from_numpy(a, None if n in case.spec.indices else "float32") for n, a in _empty(case).items()]
    none = backend.to_numpy(case.call(*arrays, reduction="none"))
    assert none.shape[:1] == (0,) and none.size == 0, none.shape
    for reduction in ("mean", "sum", "sum_over_batch_size"):
        assert float(backend.to_numpy(case.call(*arrays, reduction=reduction))) == 0.0
    if backend.value_and_grad is not None:
        floats = [i for i, n in enumerate(case.spec.inputs) if n not in case.spec.indices]

        def f(*xs):
            args = list(arrays)
            for i, x in zip(floats, xs):
                args[i] = x
            return case.call(*args)

        _, grads = backend.value_and_grad(f, *(arrays[i] for i in floats))
        for g in grads:
            assert backend.to_numpy(g).size == 0


# --- 0-d inputs, axes, dtypes -------------------------------------------------------------------
@pytest.mark.parametrize("case", [c for c in cases() if not c.params.keys() - c.spec.params.keys()
                                  and c.spec.kind != "element"], ids=lambda c: c.id)
def test_a_0d_input_to_a_loss_of_rows_is_a_value_error(backend, case):
    arrays = [backend.from_numpy(a.reshape(-1)[0], None if n in case.spec.indices else "float32")
              for n, a in case.inputs.items()]
    with pytest.raises(ValueError, match=rf"`[a-z_0-9]+`.*\({backend.xp.backend}\)\.$"):
        case.call(*arrays)


AXIS_LOSSES = [spec for spec in REGISTRY.values() if "axis" in spec.params and spec.params["axis"] == -1]


@pytest.mark.parametrize("spec", AXIS_LOSSES, ids=lambda s: s.name)
@pytest.mark.parametrize("axis", [2, -3, 1.0, (1,), "1"])
def test_a_bad_class_axis_is_a_value_error_naming_it(backend, spec, axis):
    case = next(c for c in cases() if c.spec is spec)
    arrays = case.to_backend(backend, "float32")[0]
    with pytest.raises(ValueError, match=r"`axis`"):
        spec.function(*arrays, **{**case.params, "axis": axis})


@pytest.mark.parametrize("case", [c for c in cases() if not c.params.keys() - c.spec.params.keys()],
                         ids=lambda c: c.id)
def test_wrong_dtypes_are_type_errors_naming_the_argument(backend, case):
    """Integer predictions, and floating class labels, are refused before anything is computed."""
    spec = case.spec
    for name in spec.inputs:
        if name in spec.labels:
            continue  # labels of any numeric dtype are accepted
        inputs = dict(case.inputs)
        inputs[name] = np.asarray(inputs[name]).astype(np.float64 if name in spec.indices else np.int32)
        arrays = [backend.from_numpy(inputs[n], "float32" if n not in spec.indices and n != name else None)
                  for n in spec.inputs]
        with pytest.raises(TypeError, match=rf"^`{name}` must .*\({backend.xp.backend}\)\.$"):
            case.call(*arrays)


# --- weights ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_bad_sample_weights_are_value_errors(backend, bad):
    for case in cases():
        arrays = case.to_backend(backend, "float32")[0]
        n = case.out_shape[0]
        w = np.ones(n)
        w[0] = bad
        with pytest.raises(ValueError, match=rf"^`sample_weight` must be finite and ≥ 0 \(a weight\); 1 value\(s\) are "
                                             rf"not \({backend.xp.backend}\)\.$"):
            case.call(*arrays, sample_weight=backend.from_numpy(w, "float32"))


def test_bad_class_and_positive_weights_are_value_errors(backend):
    t = backend.from_numpy(np.array([0, 1, 2]))
    logits = backend.from_numpy(np.zeros((3, 3)), "float32")
    for bad in (-1.0, np.nan):
        with pytest.raises(ValueError, match=rf"^`class_weight` must be finite and ≥ 0 .*\({backend.xp.backend}\)\.$"):
            ml.sparse_categorical_cross_entropy(t, logits, from_logits=True, class_weight=[1.0, bad, 1.0])
        with pytest.raises(ValueError, match=rf"^`pos_weight` must be finite and ≥ 0 .*\({backend.xp.backend}\)\.$"):
            ml.binary_cross_entropy(logits, logits, from_logits=True, pos_weight=[1.0, bad, 1.0])
        with pytest.raises(ValueError, match=r"^`pos_weight` must be None or an array of weights or a finite number "
                                             r">= 0; got"):
            ml.binary_cross_entropy(logits, logits, from_logits=True, pos_weight=bad)
    with pytest.raises(ValueError, match=rf"`pos_weight` must broadcast against `y_pred` \(3, 3\).*got \(2,\) "
                                         rf"\({backend.xp.backend}\)"):
        ml.binary_cross_entropy(logits, logits, from_logits=True, pos_weight=[1.0, 2.0])


# --- parameters ---------------------------------------------------------------------------------
def _bad_values(condition):
    """Values that break a parameter condition, and what each stands for."""
    condition = condition.removesuffix(" or callable")  # (none of the values below is callable)
    if condition == "bool":
        return ["False", 1, None]
    if condition.startswith("in "):
        return ["nope", 3 if 1 in ast.literal_eval(condition[3:]) else 1]
    if condition.removesuffix(" or None") == "int":
        return [1.5, "1", True]
    bad = [float("nan"), float("inf"), "1", True]
    for text, value in (("> 0", 0.0), (">= 0", -1.0), (">= 1", 0.5), ("[0, 1]", 1.5), ("(0, 0.5)", 0.5),
                        ("<= 0", 1.0)):
        if condition.startswith(text):
            bad.append(value)
    return bad


PARAMETERS = [pytest.param(spec, name, value, id=f"{spec.name}-{name}={value!r}")
              for spec in REGISTRY.values() for name, condition in spec.conditions.items()
              if condition not in ("array or None",) for value in _bad_values(condition)]


@pytest.mark.parametrize(("spec", "name", "value"), PARAMETERS)
def test_a_bad_parameter_is_a_value_error_naming_it(spec, name, value):
    """Every parameter with a condition (every bool, float, choice and index parameter has one):
    a wrong type or a value out of range is a ValueError that names it and says what it must be,
    before anything is computed (NumPy inputs suffice)."""
    case = next(c for c in cases() if c.spec is spec)
    with pytest.raises(ValueError, match=rf"^`{name}` must be .*; got {re.escape(repr(value))} "):
        spec.function(*case.inputs.values(), **{name: value})


def test_every_bool_float_choice_and_optional_parameter_has_a_condition():
    """The overlap losses' ``axis`` (None, "spatial", "all", an int or a tuple) is checked against
    the inputs' rank by their shape check instead (test_a_bad_overlap_axis_...)."""
    for spec in REGISTRY.values():
        for name, default in spec.params.items():
            if (isinstance(default, (bool, float, str)) or default is None) and (spec.family, name) != (
                    "segmentation", "axis"):
                assert name in spec.conditions, f"{spec.name}({name}=...) has no condition"


@pytest.mark.parametrize("spec", [s for s in REGISTRY.values() if s.family == "segmentation" and "axis" in s.params],
                         ids=lambda s: s.name)
@pytest.mark.parametrize("axis", [2, -3, "batch", (1, "a"), 1.0])
def test_a_bad_overlap_axis_is_a_value_error_naming_it(backend, spec, axis):
    case = next(c for c in cases() if c.spec is spec)
    with pytest.raises(ValueError, match=rf"^`axis` must be one of .*; got {re.escape(repr(axis))} "
                                         rf"\({backend.xp.backend}\)\.$"):
        spec.function(*case.to_backend(backend, "float32")[0], **{**case.params, "axis": axis})
