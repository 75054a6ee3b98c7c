"""multiloss.keras: one keras.losses.Loss per loss (several arrays stacked on axis 1 of y_pred),
equal to the function under Keras's reduction, usable in model.compile on each Keras backend,
and serializable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import load_backend
from multiloss.registry import REGISTRY
from multiloss.testing.matrix import cases
from multiloss.testing.numerics import EPS, ULPS

keras = pytest.importorskip("keras", reason="keras is not installed")
mk = pytest.importorskip("multiloss.keras")

CASES = cases()


def camel(name):
    return "".join(p.capitalize() for p in name.split("_"))


def test_a_class_for_each_loss():
    for name in REGISTRY:
        assert issubclass(getattr(mk, camel(name)), keras.losses.Loss), name
    assert mk.stacked(REGISTRY["triplet_margin"]) == ("anchor", "positive", "negative")
    assert mk.stacked(REGISTRY["gaussian_nll"]) == ("mean", "var")
    assert mk.stacked(REGISTRY["huber"]) == ()


def keras_arguments(case, arrays, xp):
    """(y_true, y_pred) for the Keras class: labels as y_true, the other arrays stacked on axis 1."""
    named = dict(zip(case.spec.inputs, arrays))
    parts = mk.stacked(case.spec)
    if not parts:
        return arrays
    labels = [n for n in case.spec.inputs if n not in parts]
    y_pred = xp.stack([named[n] for n in parts], axis=1)
    return (named[labels[0]] if labels else xp.zeros(y_pred.shape[:1], dtype=y_pred.dtype)), y_pred


def test_stacked_y_pred_shape_is_checked():
    load_backend("tensorflow")
    import tensorflow as tf

    with pytest.raises(ValueError, match=r"TripletMargin takes y_pred with \['anchor', 'positive', 'negative'\] "
                                         r"stacked on axis 1: shape \(batch, 3, \.\.\.\); got \(4, 2, 5\)"):
        mk.TripletMargin()(tf.zeros(4), tf.zeros((4, 2, 5)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_keras_loss_is_the_function_under_keras_reduction(case, dtype):
    backend = load_backend("tensorflow")
    arrays, _ = case.to_backend(backend, dtype)
    arrange = getattr(case.spec.kernel, "keras_inputs", None)
    if arrange is not None:  # y_true and y_pred only, the other arrays made from them (CTC's lengths)
        arrays = arrange(keras.ops, *arrays[:2], case.params)
    loss = getattr(mk, camel(case.spec.name))(**case.params, dtype=dtype)
    ours = case.call(*arrays, reduction="sum_over_batch_size")  # Keras's default: Σℓ / number of items
    theirs = loss(*keras_arguments(case, arrays, backend.xp)[:2 if arrange is not None else None])
    np.testing.assert_allclose(backend.to_numpy(theirs), backend.to_numpy(ours), rtol=ULPS * EPS["float32"])


def test_config_round_trip():
    loss = mk.SparseCategoricalCrossEntropy(from_logits=True, class_weight=(1.0, 2.0), ignore_index=-1)
    again = mk.SparseCategoricalCrossEntropy.from_config(json.loads(json.dumps(loss.get_config())))
    assert again.params == loss.params and again.reduction == loss.reduction
    with pytest.raises(ValueError, match=r"`delta` must be a finite number > 0"):
        mk.Huber(delta=0.0)


KERAS_BACKENDS = [
    pytest.param(b, marks=pytest.mark.skipif(
        __import__("importlib").util.find_spec(m) is None, reason=f"{m} is not installed"))
    for b, m in (("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "torch"))
]


@pytest.mark.parametrize("keras_backend", KERAS_BACKENDS)
def test_fit_save_and_load_on_each_keras_backend(keras_backend):
    """A model compiled with multiloss.keras.Huber trains as one with keras.losses.Huber (same
    weights, same data, SGD), and saved with it, loads back; a model whose output stacks [mean,
    var] trains with GaussianNll (run in a fresh process: Keras picks its backend once, at import)."""
    script = Path(__file__).parent / "scripts" / "keras_fit_and_reload.py"
    env = {**os.environ, "KERAS_BACKEND": keras_backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["backend"] == keras_backend
    np.testing.assert_allclose(result["ours"], result["theirs"], rtol=1e-5)
    assert result["loss_class"] == "Huber" and result["delta"] == 0.5
    np.testing.assert_allclose(result["evaluate"][1], result["evaluate"][0], rtol=1e-6)
    assert np.all(np.isfinite(result["gaussian"])) and result["gaussian"][-1] < result["gaussian"][0]


def test_convention_keras_is_keras_own_loss():
    """BinaryCrossEntropy(convention="keras") is keras.losses.BinaryCrossentropy, its 1e-7 clip
    and its reductions included, and keeps its convention through get_config."""
    tf = load_backend("tensorflow")
    p = tf.from_numpy(np.array([[0.0, 0.3, 1.0], [0.9, 1e-30, 0.5]]), "float64")
    y = tf.from_numpy(np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]), "float64")
    w = tf.from_numpy(np.array([0.5, 2.0]), "float64")
    for reduction in ("sum_over_batch_size", "sum", None):
        ours = mk.BinaryCrossEntropy(convention="keras", reduction=reduction, dtype="float64")
        theirs = keras.losses.BinaryCrossentropy(reduction=reduction, dtype="float64")
        np.testing.assert_allclose(ours(y, p, sample_weight=w), theirs(y, p, sample_weight=w), rtol=1e-15)
    again = mk.BinaryCrossEntropy.from_config(json.loads(json.dumps(ours.get_config())))
    assert again.convention == "keras" and again.params["epsilon"] == 1e-7


def test_repr_shows_the_config():
    """As the torch modules print theirs: the parameters set (not the defaults), the convention,
    the reduction, and a name other than the loss's."""
    assert repr(mk.Huber()) == "Huber(reduction='sum_over_batch_size')"
    assert repr(mk.Huber(delta=0.5, reduction="sum", name="h")) == "Huber(delta=0.5, reduction='sum', name='h')"
    assert repr(mk.BinaryCrossEntropy(convention="keras")) == (
        "BinaryCrossEntropy(epsilon=1e-07, convention='keras', reduction='sum_over_batch_size')")


@pytest.mark.skipif(__import__("importlib").util.find_spec("jax") is None, reason="jax is not installed")
def test_class_labels_on_keras_jax_in_32_bit_mode_warn_nothing():
    """JAX's default mode has no int64: the labels' cast must not ask for it (it warned, before
    the ValueError a label out of range gets). A fresh process: Keras picks its backend once."""
    code = textwrap.dedent("""
        import warnings
        import numpy as np
        import jax
        assert not jax.config.jax_enable_x64
        import multiloss.keras as mk
        warnings.simplefilter("error")
        loss = mk.SparseCategoricalCrossEntropy()
        p = np.full((2, 3), 1 / 3, np.float32)
        print(float(loss(np.array([0, 1]), p)))
        try:
            loss(np.array([0, 5]), p)
        except ValueError as exc:
            print(exc)
    """)
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Warning" not in out.stderr, out.stderr
    value, message = out.stdout.strip().splitlines()[-2:]
    assert float(value) == pytest.approx(np.log(3), rel=1e-6)
    assert message == "`y_true` must be class labels in [0, 3); 1 value(s) are not (jax)."
