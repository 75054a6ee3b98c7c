"""``convention=``: each framework's numbers, reproduced by ours on every backend.

For every native that defines a convention, at the loss's defaults and each registered
variant it applies to: ours with ``convention=framework`` on every backend equals the native
called at its own defaults with the same parameters, per item; Keras classes also with
their default reduction and a sample weight (Σwℓ / N). The inputs come from the loss's
domain, edge cases first (p = 0 and 1, extreme logits, zero distances), which is where the
frameworks' safeguards differ.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import multiloss
from conftest import ALL_BACKENDS, load_backend
from multiloss.natives import of as natives_of
from multiloss.registry import REGISTRY
from multiloss.testing.matrix import Case
from multiloss.testing.numerics import EPS, PEER_ULPS

FRAMEWORK_MODULES = {"torch": "torch", "keras": "keras", "optax": "optax", "sklearn": "sklearn"}


def _convention_cases():
    for spec in REGISTRY.values():
        for params in ({}, *spec.variants):
            for framework in spec.frameworks:
                try:
                    rule, merged = spec.convention(framework, params)
                except ValueError:  # the framework has no counterpart at these parameters
                    continue
                native = natives_of(spec).following(rule)
                case = Case(spec, params)
                marks = [pytest.mark.skip(reason=native.unchecked)] if native.unchecked else []
                yield pytest.param(case, params, framework, native, merged, id=f"{case.id}-{framework}", marks=marks)


CASES = list(_convention_cases())


def _native_values(case, native, merged, backend, dtype, **call_kwargs):
    """The native on the inputs as they are: it reduces as its framework does (a Keras native
    averages the last axis, and so does ours under its convention)."""
    arrays, _ = case.to_backend(backend, dtype)
    return native.values(dict(zip(case.spec.inputs, arrays)), {**case.spec.params, **merged}, dtype, per_item=False,
                         **call_kwargs)


def _tolerance(case, dtype, values, rows):
    """Both sides round, and a native may cancel intermediates as large as the inputs (e.g.
    (1 − y)·x + softplus(−x) for a large logit x): 16 eps of max(1, |input|, |value|) per item."""
    magnitude = np.max(
        [np.abs(case.inputs[n]).reshape(rows + (-1,)).max(axis=-1, initial=1.0) for n in case.spec.inputs], axis=0
    )
    return PEER_ULPS * EPS[dtype] * (magnitude.reshape(np.shape(values)) + np.abs(values))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend_name", ALL_BACKENDS)
@pytest.mark.parametrize("case, params, framework, native, merged", CASES)
def test_convention_reproduces_native(case, params, framework, native, merged, backend_name, dtype):
    pytest.importorskip(FRAMEWORK_MODULES[framework], reason=f"{framework} is not installed")
    theirs = _native_values(case, native, merged, load_backend(native.backend), dtype)
    backend = load_backend(backend_name)
    arrays, _ = case.to_backend(backend, dtype)
    reduction = "mean" if native.per == "mean" else "none"
    # Only the variant's own parameters, as a user would pass them: the convention fills in the rest.
    ours = case.spec.function(*arrays, **params, reduction=reduction, convention=framework)
    ours = backend.to_numpy(ours).astype(np.float64)
    assert ours.shape == theirs.shape, f"convention={framework!r} gives shape {ours.shape}, {native.api} {theirs.shape}"
    rows = ours.shape if ours.ndim else (1,)
    tol = _tolerance(case, dtype, theirs, rows if ours.ndim else ())
    same = (ours == theirs) | (np.abs(ours - theirs) <= tol)  # inf = inf and NaN only where the native is NaN
    same |= np.isnan(ours) & np.isnan(theirs)
    worst = np.unravel_index(np.argmax(np.where(same, 0, np.abs(ours - theirs))), np.shape(ours))
    assert np.all(same), (
        f"convention={framework!r} on {backend_name} differs from {native.api} at {worst}: "
        f"ours {ours[worst]!r}, theirs {theirs[worst]!r}"
    )


KERAS_CLASSES = [c for c in CASES if c.values[3].framework == "keras" and c.values[3].construct]


@pytest.mark.parametrize("backend_name", ALL_BACKENDS)
@pytest.mark.parametrize("case, params, framework, native, merged", KERAS_CLASSES)
def test_keras_convention_reduces_as_keras(case, params, framework, native, merged, backend_name):
    """Keras's default reduction, sum_over_batch_size, divides Σwℓ by the number of items."""
    pytest.importorskip("keras", reason="keras is not installed")
    default_reduction = dataclasses.replace(native, kwargs={k: v for k, v in native.kwargs.items() if k != "reduction"})
    out_shape = np.shape(_native_values(case, native, merged, load_backend("tensorflow"), "float64"))
    weight = np.linspace(0.0, 2.0, int(np.prod(out_shape))).reshape(out_shape)
    tf_weight = load_backend("tensorflow").from_numpy(weight, "float64")
    theirs = _native_values(case, default_reduction, merged, load_backend("tensorflow"), "float64",
                            sample_weight=tf_weight)
    backend = load_backend(backend_name)
    arrays, _ = case.to_backend(backend, "float64")
    ours = float(backend.to_numpy(case.spec.function(*arrays, **params, convention="keras",
                                                     sample_weight=backend.from_numpy(weight, "float64"))))
    scale = 1 + abs(float(theirs)) + np.max(np.abs(case.inputs[case.spec.inputs[-1]]))
    assert abs(ours - float(theirs)) <= 64 * EPS["float64"] * scale


def test_unknown_convention_names_the_choices():
    message = r"`convention` must be one of \[.*'keras'.*\] for binary_cross_entropy; got 'tf'"
    with pytest.raises(ValueError, match=message):
        multiloss.binary_cross_entropy([1.0], [0.5], convention="tf")


def test_convention_outside_the_natives_reach_says_which_parameter():
    with pytest.raises(ValueError, match=r"convention='optax': optax\.losses\.sigmoid_binary_cross_entropy is "
                                         r"binary_cross_entropy with from_logits=True only; got from_logits=False"):
        multiloss.binary_cross_entropy([1.0], [0.5], convention="optax")


#: The frameworks each loss of the issue's list must reproduce (where frameworks disagree);
#: why the others have none is in each loss's notes (`multiloss conventions LOSS`).
REQUIRED = {
    "binary_cross_entropy": {"keras", "torch", "optax"},
    "categorical_cross_entropy": {"keras", "torch", "optax"},
    "sparse_categorical_cross_entropy": {"keras", "torch", "optax"},
    "binary_focal": {"keras", "optax"},
    "categorical_focal": {"keras"},
    "hinge": {"keras", "optax"},
    "squared_hinge": {"keras"},
    "categorical_hinge": {"keras"},
    "kl_divergence": {"keras", "torch", "optax"},
    "poisson": {"keras", "torch"},
    "huber": {"keras", "torch", "optax"},
    "smooth_l1": {"torch"},
    "triplet_margin": {"torch", "optax"},
    "cosine_similarity": {"keras", "torch", "optax"},
    "cosine_embedding": {"torch"},
    "dice": {"keras", "optax"},
    "tversky": {"keras", "optax"},
}


@pytest.mark.parametrize("name", REQUIRED)
def test_each_disagreeing_loss_has_its_frameworks_conventions(name):
    assert REQUIRED[name] <= set(REGISTRY[name].frameworks)
    tested = {c.values[2] for c in CASES if c.values[0].spec.name == name}
    assert REQUIRED[name] <= tested, f"{name}: no test case for {REQUIRED[name] - tested}"


def test_every_convention_follows_one_registered_native():
    for spec in REGISTRY.values():
        for rule in spec.conventions:
            native = natives_of(spec).following(rule)
            assert (native.api, native.when, native.per == "last_axis") == (rule.native, rule.when, rule.per_sample)


def test_a_convention_without_its_native_is_refused(monkeypatch):
    from multiloss import natives

    spec = REGISTRY["huber"]
    monkeypatch.setitem(natives.NATIVES, spec.name, natives.of(spec))  # restored afterwards
    with pytest.raises(ValueError, match=r"huber: the convention for keras.losses.Huber when \{\} needs one native"):
        natives.register(spec, natives.unreduced("torch.nn.functional.huber_loss", {"delta": "delta"}))


def test_an_array_parameter_against_a_convention_that_needs_none_is_a_clear_error():
    """Array class weights are never a convention's scalar setting (not compared element-wise)."""
    import numpy as np

    import multiloss as ml

    y, x = np.array([0, 1, 2]), np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"with class_weight=None only; got class_weight=array"):
        ml.sparse_categorical_cross_entropy(y, x, class_weight=np.ones(4), convention="keras")
    torch_value = ml.sparse_categorical_cross_entropy(y, x, from_logits=True, class_weight=np.ones(4),
                                                      convention="torch")
    assert np.isclose(torch_value, np.log(4.0))
