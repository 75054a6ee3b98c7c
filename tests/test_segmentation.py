"""Dice and Tversky: worked values, the smoothing and α/β conventions, empty masks, bad input,
and Keras's and optax's versions under the registry's mapping."""

from __future__ import annotations

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from tests.test_classification import arrays, value
from tests.test_embedding import grads

# Keras's docstring example: two 2×2×1 masks and predictions.
Y = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
P = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])


def test_hand_computed_values(backend):
    y, p = arrays(backend, Y, P)
    # 1 − 2·1/(2 + 2) = 0.5; 1 − 2·0.4/(2 + 1.3) = 0.757575...
    np.testing.assert_allclose(value(backend, ml.dice(y, p, smooth=0.0, reduction="none")), [0.5, 1 - 0.8 / 3.3], rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.dice(y, p, reduction="none")), [1 - 3 / 5, 1 - 1.8 / 4.3], rtol=1e-15)
    # Tversky: TP = 1, FP = 1, FN = 1 and TP = .4, FP = .9, FN = 1.6
    out = value(backend, ml.tversky(y, p, alpha=0.25, beta=0.75, smooth=0.0, reduction="none"))
    np.testing.assert_allclose(out, [1 - 1 / 2.0, 1 - 0.4 / (0.4 + 0.225 + 1.2)], rtol=1e-15)


def test_alpha_weights_false_positives(backend):
    y, p = arrays(backend, [[1.0, 0.0, 0.0]], [[1.0, 1.0, 0.0]])  # one true positive, one false positive
    fp_heavy = value(backend, ml.tversky(y, p, alpha=0.9, beta=0.1, smooth=0.0))
    np.testing.assert_allclose(fp_heavy, 1 - 1 / (1 + 0.9), rtol=1e-15)


def test_tversky_at_one_half_is_dice_with_twice_the_smoothing(backend):
    rng = np.random.default_rng(0)
    y, p = arrays(backend, rng.integers(0, 2, (3, 4, 5)), rng.uniform(size=(3, 4, 5)))
    for s in (0.0, 1.0, 0.5):
        np.testing.assert_allclose(
            value(backend, ml.tversky(y, p, smooth=s, reduction="none")),
            value(backend, ml.dice(y, p, smooth=2 * s, reduction="none")),
            rtol=1e-14,
        )


def test_axis_gives_one_value_per_sample_and_class(backend):
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 2, (2, 3, 3, 4)).astype(float), rng.uniform(size=(2, 3, 3, 4))
    out = value(backend, ml.dice(*arrays(backend, y, p), axis=(1, 2), reduction="none"))
    assert out.shape == (2, 4)
    inter, total = (y * p).sum((1, 2)), y.sum((1, 2)) + p.sum((1, 2))
    np.testing.assert_allclose(out, 1 - (2 * inter + 1) / (total + 1), rtol=1e-14)


def test_an_empty_mask_predicted_empty_is_a_perfect_match(backend):
    y, p = arrays(backend, np.zeros((2, 4)), np.zeros((2, 4)))
    for fn in (ml.dice, ml.tversky):
        assert value(backend, fn(y, p, smooth=0.0)) == 0.0
        for g in grads(backend, lambda a, b, fn=fn: fn(a, b, smooth=0.0), y, p):
            assert np.all(np.isfinite(g))


def test_bad_input(backend):
    b = backend.xp.backend
    y, p = arrays(backend, [[1.0, 0.0]], [[0.5, 1.5]])
    with pytest.raises(ValueError, match=rf"`y_pred` must be a probability in \[0, 1\]; 1 value\(s\) are not \({b}\)"):
        ml.dice(y, p)
    with pytest.raises(ValueError, match=r"`y_true` must be in \[0, 1\] \(a mask\)"):
        ml.tversky(*arrays(backend, [[2.0, 0.0]], [[0.5, 0.5]]))
    with pytest.raises(ValueError, match=r"need a batch axis and at least one more for axis=None; got shape \(2,\)"):
        ml.dice(*arrays(backend, [1.0, 0.0], [0.5, 0.5]))
    with pytest.raises(ValueError, match=r"\(1, 2\) and \(2, 1\)"):
        ml.dice(*arrays(backend, [[1.0, 0.0]], [[0.5], [0.5]]))
    with pytest.raises(ValueError, match=r"`alpha` must be a finite number >= 0"):
        ml.tversky(y, y, alpha=-0.1)


# --- Keras and optax, through the registry's mapping ----------------------------------------
def native(loss, framework):
    (n,) = [n for n in loss.spec.natives if n.framework == framework]
    return n


@pytest.mark.parametrize("params", [{}, {"alpha": 0.2, "beta": 0.8}, {"alpha": 0.8, "beta": 0.2}])
def test_keras_under_the_mapping_differs_only_by_its_epsilon(params):
    kb = load_backend("tensorflow")
    pytest.importorskip("keras")
    rng = np.random.default_rng(2)
    y, p = arrays(kb, rng.integers(0, 2, (4, 6)), rng.uniform(size=(4, 6)))
    for loss in (ml.dice, ml.tversky) if not params else (ml.tversky,):
        full = {**loss.spec.params, **params, "smooth": 0.0, "axis": (1,)}
        ours = value(kb, loss(y, p, **{k: full[k] for k in full if k in loss.spec.params}, reduction="none"))
        theirs = value(kb, native(loss, "keras")({"y_true": y, "y_pred": p}, full, "float64"))
        # Keras: 1 − N/(D + 1e-7) where we have 1 − N/D: a relative 1e-7/D of the ratio
        denominator = value(kb, y).sum(1) + value(kb, p).sum(1)
        np.testing.assert_allclose(theirs, ours, atol=2e-7 / denominator.min(), rtol=0)
        assert np.max(np.abs(theirs - ours)) > 0  # the ε is really there


def test_keras_tversky_swaps_alpha_and_beta():
    """Keras ≤ 3.15.1 weights false negatives by alpha (keras#23333): its alpha is our beta."""
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    version = tuple(int(x) for x in keras.__version__.split(".")[:3])
    y, p = arrays(kb, [[1.0, 1.0, 0.0, 0.0]], [[1.0, 0.0, 1.0, 1.0]])  # TP 1, FN 1, FP 2
    theirs = float(value(kb, keras.losses.Tversky(alpha=0.9, beta=0.1, dtype="float64")(y, p)))
    ours = {ab: float(value(kb, ml.tversky(y, p, alpha=ab[0], beta=ab[1], smooth=0.0))) for ab in ((0.9, 0.1), (0.1, 0.9))}
    assert theirs == pytest.approx(ours[(0.1, 0.9)] if version <= (3, 15, 1) else ours[(0.9, 0.1)], rel=1e-6)
    assert ours[(0.9, 0.1)] == pytest.approx(1 - 1 / (1 + 0.9 * 2 + 0.1 * 1), rel=1e-15)


@pytest.mark.parametrize("loss, params", [("dice", {}), ("dice", {"smooth": 0.5}), ("tversky", {"alpha": 0.3, "beta": 0.7})])
def test_optax_on_class_last_softmax_maps_exactly(loss, params):
    jb = load_backend("jax")
    pytest.importorskip("optax")
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(2, 4, 5, 3)), rng.integers(0, 3, (2, 4, 5))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    y, p = arrays(jb, np.eye(3)[labels], probs)
    fn = getattr(ml, loss)
    full = {**fn.spec.params, **params, "axis": (1, 2)}
    ours = value(jb, fn(y, p, **{k: v for k, v in full.items()}, reduction="none"))
    theirs = value(jb, native(fn, "optax")({"y_true": y, "y_pred": p}, full, "float64"))
    assert ours.shape == theirs.shape == (2, 3)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)
