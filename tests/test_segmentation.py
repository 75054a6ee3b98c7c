"""Dice and Tversky: worked values, the smoothing and α/β conventions, empty masks, bad input,
and Keras's and optax's versions under their natives' mapping."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from multiloss.natives import of as natives_of
from tests.test_classification import arrays, value
from tests.test_embedding import grads

# Keras's docstring example: two 2×2×1 masks and predictions.
Y = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
P = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])


def test_hand_computed_values(backend):
    y, p = arrays(backend, Y, P)
    # 1 − 2·1/(2 + 2) = 0.5; 1 − 2·0.4/(2 + 1.3) = 0.757575...
    np.testing.assert_allclose(value(backend, ml.dice(y, p, smooth=0.0, reduction="none")), [0.5, 1 - 0.8 / 3.3],
                               rtol=1e-15)
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


def test_tiny_probabilities_without_smoothing_have_finite_gradients(backend):
    """An empty mask, probabilities of 1e-20 (float32) and smooth = 0: the ratio's denominator is
    1e-20, whose square, in JAX's derivative g·n·d⁻² of n/d, is 0 (found by the magnitude property)."""
    for dtype, tiny in (("float32", 1e-20), ("float64", 1e-200)):
        y, p = arrays(backend, np.zeros((2, 4)), np.full((2, 4), tiny), dtype=dtype)
        np.testing.assert_array_equal(value(backend, ml.dice(y, p, smooth=0.0, reduction="none")), [1.0, 1.0])
        for g in grads(backend, lambda a, b: ml.dice(a, b, smooth=0.0), y, p):
            assert np.all(np.isfinite(g)), (dtype, g)  # (Σp/Σp is flat in p: 0 up to ε/Σp, the quotient rule's)


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


# --- Keras and optax, through their natives' mapping ----------------------------------------
def native(loss, framework):
    (n,) = [n for n in natives_of(loss).natives if n.framework == framework]
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
    ours = {ab: float(value(kb, ml.tversky(y, p, alpha=ab[0], beta=ab[1], smooth=0.0)))
            for ab in ((0.9, 0.1), (0.1, 0.9))}
    assert theirs == pytest.approx(ours[(0.1, 0.9)] if version <= (3, 15, 1) else ours[(0.9, 0.1)], rel=1e-6)
    assert ours[(0.9, 0.1)] == pytest.approx(1 - 1 / (1 + 0.9 * 2 + 0.1 * 1), rel=1e-15)


@pytest.mark.parametrize("loss, params, theirs", [
    ("dice", {}, {}),
    ("dice", {"smooth": 0.5}, {"smooth": 0.25}),  # optax's smooth is half ours
    ("tversky", {"alpha": 0.3, "beta": 0.7}, {"alpha": 0.3, "beta": 0.7}),
])
@pytest.mark.parametrize("channels", [3, 1])
def test_optax_convention_on_logits_is_optax_at_its_defaults(loss, params, theirs, channels):
    """optax.losses.dice_loss(logits, targets): softmax (sigmoid for one channel), sums over the
    spatial axes per sample and class, then the mean over classes."""
    jb = load_backend("jax")
    optax = pytest.importorskip("optax")
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(2, 4, 5, channels)) * 3, rng.integers(0, max(channels, 2), (2, 4, 5))
    masks = np.eye(channels)[labels] if channels > 1 else labels[..., None].astype(float)
    y, x = arrays(jb, masks, logits)
    ours = value(jb, getattr(ml, loss)(y, x, **params, convention="optax", reduction="none"))
    expected = value(jb, optax.losses.dice_loss(x, y, **theirs))
    assert ours.shape == expected.shape == (2,)
    np.testing.assert_allclose(ours, expected, rtol=1e-13)


def test_optax_convention_by_hand(backend):
    """One pixel, two classes: softmax([0, log 3]) = (¼, ¾); with optax's smooth 1 per class
    1 − (I + 1)/(½(P + T) + 1), averaged over the two classes."""
    y, x = arrays(backend, [[[0.0, 1.0]]], [[[0.0, math.log(3.0)]]])
    per_class = [1 - 1 / (0.125 + 1), 1 - 1.75 / (0.875 + 1)]
    np.testing.assert_allclose(value(backend, ml.dice(y, x, convention="optax", reduction="none")),
                               [np.mean(per_class)], rtol=1e-15)


def test_keras_convention_reduces_the_whole_batch(backend):
    """Keras's docstring example: axis=None gives one value for the batch, 0.6164384 (float32)."""
    y, p = arrays(backend, Y, P)
    expected = 1 - 2 * 1.4 / (4.0 + 3.3 + 1e-7)  # Σyŷ = 1.4, Σy = 4, Σŷ = 3.3
    out = ml.dice(y, p, convention="keras", reduction="none")
    assert backend.to_numpy(out).shape == ()
    np.testing.assert_allclose(value(backend, out), expected, rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.dice(y, p, smooth=0.0, axis="all", reduction="none")),
                               1 - 2 * 1.4 / 7.3, rtol=1e-15)
    # per sample, as Keras's axis=(1, 2, 3): ε in the denominator only
    per_sample = value(backend, ml.dice(y, p, axis=(1, 2, 3), convention="keras", reduction="none"))
    np.testing.assert_allclose(per_sample, [1 - 2 / (4 + 1e-7), 1 - 0.8 / (3.3 + 1e-7)], rtol=1e-15)
    tversky = value(backend, ml.tversky(y, p, convention="keras", reduction="none"))
    np.testing.assert_allclose(tversky, 1 - 1.4 / (1.4 + 0.5 * 2.6 + 0.5 * 1.9 + 1e-7), rtol=1e-15)


def test_keras_convention_matches_keras_dice():
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    y, p = arrays(kb, Y, P)
    np.testing.assert_allclose(value(kb, ml.dice(y, p, convention="keras")),
                               float(keras.losses.Dice(dtype="float64")(y, p)), rtol=1e-15)


def test_axis_spatial_and_all(backend):
    rng = np.random.default_rng(5)
    t, q = rng.integers(0, 2, (2, 3, 4)).astype(float), rng.uniform(size=(2, 3, 4))
    y, p = arrays(backend, t, q)
    spatial = value(backend, ml.dice(y, p, smooth=0.0, axis="spatial", reduction="none"))
    np.testing.assert_allclose(spatial, 1 - 2 * (t * q).sum(1) / (t.sum(1) + q.sum(1)), rtol=1e-14)
    everything = value(backend, ml.dice(y, p, smooth=0.0, axis="all", reduction="none"))
    np.testing.assert_allclose(everything, 1 - 2 * (t * q).sum() / (t.sum() + q.sum()), rtol=1e-14)
    with pytest.raises(ValueError, match=r"`axis` must be one of \(None, 'spatial', 'all'\), an int or a tuple of "
                                         r"ints, each an axis of `y_pred` of shape \(2, 3, 4\); got 'batch'"):
        ml.dice(y, p, axis="batch")
    with pytest.raises(ValueError, match=rf"need a batch axis and at least one more for axis='spatial'; got shape "
                                         rf"\(4,\) \({backend.xp.backend}\)"):
        ml.dice(*arrays(backend, t[0, 0], q[0, 0]), axis="spatial")
    with pytest.raises(ValueError, match=r"keras\.losses\.Dice is dice with from_logits=False only"):
        ml.dice(y, p, from_logits=True, convention="keras")


def test_from_logits_keeps_accuracy_near_a_perfect_match(backend):
    """1 − p for a confident softmax is the other classes' share, not 1 − 0.99999...: the loss
    keeps its relative accuracy as it approaches 0 (here ≈ 2e-9 in float64 and float32)."""
    logits, mask = np.array([[[20.0, 0.0, 0.0]]]), np.array([[[1.0, 0.0, 0.0]]])
    e = np.exp(-20.0)
    q = 2 * e / (1 + 2 * e)  # 1 − p of the first class; each other class has p = e/(1 + 2e)
    expected = (q + 2 * e / (1 + 2 * e)) / (1 + 1 + 1.0)  # mismatch / (Σy + Σp + smooth)
    for dtype in ("float64", "float32"):
        y, x = arrays(backend, mask, logits, dtype=dtype)
        np.testing.assert_allclose(value(backend, ml.dice(y, x, from_logits=True, reduction="none")), [expected],
                                   rtol=8 * np.finfo(dtype).eps)  # 1 − p would be off by ~eps/2e-9


def test_a_convention_under_jax_jit():
    jb = load_backend("jax")
    import jax

    rng = np.random.default_rng(6)
    logits = rng.normal(size=(2, 4, 4, 3))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    y, x, p = arrays(jb, np.eye(3)[rng.integers(0, 3, (2, 4, 4))], logits, probs)

    def f(a, b, c):
        return ml.dice(a, b, convention="optax", reduction="none"), ml.tversky(a, c, convention="keras")

    for got, expected in zip(jax.jit(f)(y, x, p), f(y, x, p)):
        np.testing.assert_allclose(value(jb, got), value(jb, expected), rtol=1e-14)


# --- dice's class weights and background; binary and generalized Dice --------------------------
def test_dice_class_weights_and_background_by_hand(backend):
    y, p = arrays(backend, [[1.0, 0.0, 1.0]], [[0.9, 0.2, 0.6]])
    # without class 0: 1 − 2·0.6/(1 + 0.8) = 1/3
    np.testing.assert_allclose(value(backend, ml.dice(y, p, smooth=0.0, ignore_background=True)), 1 / 3, rtol=1e-15)
    # per class (axis "spatial" of (N, C) inputs: each pixel its own): 1 − 2yp/(y + p), times its weight
    per_class = np.array([1 - 1.8 / 1.9, 1.0, 1 - 1.2 / 1.6])
    w = arrays(backend, [2.0, 0.5, 4.0])[0]
    out = value(backend, ml.dice(y, p, smooth=0.0, axis="spatial", class_weights=w, reduction="none"))
    np.testing.assert_allclose(out, [per_class * [2.0, 0.5, 4.0]], rtol=1e-15)
    out = value(backend, ml.dice(y, p, smooth=0.0, axis="spatial", class_weights=w, ignore_background=True,
                                 reduction="none"))
    np.testing.assert_allclose(out, [per_class[1:] * [0.5, 4.0]], rtol=1e-15)
    # one channel has no background to leave out
    y1, p1 = arrays(backend, [[[1.0], [0.0]]], [[[0.5], [0.25]]])
    np.testing.assert_allclose(value(backend, ml.dice(y1, p1, smooth=0.0, ignore_background=True)),
                               1 - 1.0 / 1.75, rtol=1e-15)


def test_dice_class_weights_bad_input(backend):
    b = backend.xp.backend
    y, p = arrays(backend, [[1.0, 0.0, 1.0]], [[0.9, 0.2, 0.6]])
    with pytest.raises(ValueError, match=rf"`class_weights` must have shape \(3,\), one weight per class of `y_pred` "
                                         rf"of shape \(1, 3\); got \(2,\) \({b}\)"):
        ml.dice(y, p, axis="spatial", class_weights=arrays(backend, [1.0, 2.0])[0])
    with pytest.raises(ValueError, match=rf"`axis` must keep the class axis \(the last\), e.g. axis='spatial'; got "
                                         rf"axis=None for `y_pred` of shape \(1, 3\) \({b}\)"):
        ml.dice(y, p, class_weights=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=rf"`class_weights` must be finite and ≥ 0 \(a weight\); 1 value\(s\) are not "
                                         rf"\({b}\)"):
        ml.dice(y, p, axis="spatial", class_weights=arrays(backend, [1.0, -2.0, 3.0])[0])
    with pytest.raises(ValueError, match=r"`ignore_background` must be True or False; got 1"):
        ml.dice(y, p, ignore_background=1)


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("ignore_background", [False, True])
def test_dice_optax_convention_with_class_weights_and_background(channels, ignore_background):
    jb = load_backend("jax")
    optax = pytest.importorskip("optax")
    rng = np.random.default_rng(7)
    logits, labels = rng.normal(size=(2, 4, 5, channels)) * 3, rng.integers(0, max(channels, 2), (2, 4, 5))
    masks = np.eye(channels)[labels] if channels > 1 else labels[..., None].astype(float)
    weights = rng.uniform(0.0, 2.0, channels)
    y, x, w = arrays(jb, masks, logits, weights)
    ours = value(jb, ml.dice(y, x, class_weights=w, ignore_background=ignore_background, convention="optax",
                             reduction="none"))
    theirs = value(jb, optax.losses.dice_loss(x, y, class_weights=w, ignore_background=ignore_background))
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    (native,) = [n for n in natives_of(ml.dice).natives if n.framework == "optax"]
    params = {**ml.dice.spec.params, "smooth": 2.0, "from_logits": True, "axis": "spatial", "class_weights": weights,
              "ignore_background": ignore_background}
    np.testing.assert_allclose(native.values({"y_true": y, "y_pred": x}, params, "float64", per_item=False), theirs,
                               rtol=1e-15)


def test_binary_dice_by_hand(backend):
    # logits 0 → p = ½: 1 − (2·½ + 1)/(1 + 1 + 1) = ⅓; probabilities as dice's
    y, x = arrays(backend, [[1.0, 0.0]], [[0.0, 0.0]])
    np.testing.assert_allclose(value(backend, ml.binary_dice(y, x, from_logits=True)), 1 / 3, rtol=1e-15)
    rng = np.random.default_rng(8)
    y, p = arrays(backend, rng.integers(0, 2, (3, 4, 2)), rng.uniform(size=(3, 4, 2)))
    np.testing.assert_allclose(value(backend, ml.binary_dice(y, p, reduction="none")),
                               value(backend, ml.dice(y, p, reduction="none")), rtol=1e-15)
    # from logits: a sigmoid per element (multi-label), never dice's softmax over the last axis
    t, z = rng.integers(0, 2, (3, 4, 2)).astype(float), rng.normal(size=(3, 4, 2))
    s = 1 / (1 + np.exp(-z))
    expected = 1 - (2 * (t * s).sum((1, 2)) + 1) / (t.sum((1, 2)) + s.sum((1, 2)) + 1)
    y, x = arrays(backend, t, z)
    np.testing.assert_allclose(value(backend, ml.binary_dice(y, x, from_logits=True, reduction="none")), expected,
                               rtol=1e-14)
    assert not np.allclose(value(backend, ml.dice(y, x, from_logits=True, reduction="none")), expected)


def test_binary_dice_is_optax_at_its_defaults():
    jb = load_backend("jax")
    optax = pytest.importorskip("optax")
    rng = np.random.default_rng(9)
    for shape in ((3, 5), (2, 4, 4), (2, 4, 4, 1)):
        y, x = arrays(jb, rng.integers(0, 2, shape), rng.normal(size=shape) * 3)
        np.testing.assert_allclose(value(jb, ml.binary_dice(y, x, convention="optax", reduction="none")),
                                   value(jb, optax.losses.binary_dice_loss(x, y)), rtol=1e-14)
    with pytest.raises(ValueError, match=r"optax\.losses\.binary_dice_loss is binary_dice with from_logits=True only"):
        ml.binary_dice(y, x, from_logits=False, convention="optax")


def test_binary_dice_bad_input(backend):
    b = backend.xp.backend
    with pytest.raises(ValueError, match=rf"`y_pred` must be a probability in \[0, 1\]; 1 value\(s\) are not \({b}\)"):
        ml.binary_dice(*arrays(backend, [[1.0, 0.0]], [[0.5, -0.5]]))
    with pytest.raises(ValueError, match=r"need a batch axis and at least one more for axis=None; got shape \(2,\)"):
        ml.binary_dice(*arrays(backend, [1.0, 0.0], [0.5, 0.5]))
    with pytest.raises(ValueError, match=r"`smooth` must be a finite number >= 0"):
        ml.binary_dice(*arrays(backend, [[1.0, 0.0]], [[0.5, 0.5]]), smooth=-1.0)


def test_generalized_dice_by_hand(backend):
    # balanced classes (one pixel each): weights 1, 1; (N, C) inputs: each pixel its own ratio
    y, p = arrays(backend, [[1.0, 0.0], [0.0, 1.0]], [[0.75, 0.25], [0.5, 0.5]])
    # sample 0: class 0 1 − 1.5/1.75 = 1/7, class 1 (y = 0) 1; sample 1: 1 and 1 − 1/1.5
    expected = [(1 / 7 + 1) / 2, (1 + 1 / 3) / 2]
    np.testing.assert_allclose(value(backend, ml.generalized_dice(y, p, smooth=0.0, reduction="none")), expected,
                               rtol=1e-15)
    # three pixels of class 0, one of class 1: weights ∝ 1/9 and 1, scaled to sum to 2: 0.2 and 1.8
    t = np.array([[[1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])
    q = np.array([[[0.5, 0.5], [1.0, 0.0]], [[0.5, 0.5], [0.5, 0.5]]])
    d = 1 - 2 * (t * q).sum(1) / (t.sum(1) + q.sum(1))  # per sample and class, over the two pixels
    y, p = arrays(backend, t, q)
    out = value(backend, ml.generalized_dice(y, p, smooth=0.0, weight_epsilon=1e-300, reduction="none"))
    np.testing.assert_allclose(out, (d * [0.2, 1.8]).mean(1), rtol=1e-14)
    out = value(backend, ml.generalized_dice(y, p, smooth=0.0, weight_epsilon=1e-300, ignore_background=True,
                                             reduction="none"))
    np.testing.assert_allclose(out, d[:, 1] * 1.8, rtol=1e-14)  # class 0 left out, its weight still scaling


@pytest.mark.parametrize("shape", [(2, 4, 5, 3), (6, 8), (3, 4, 1)])
@pytest.mark.parametrize("ignore_background", [False, True])
def test_generalized_dice_is_optax_at_its_defaults(shape, ignore_background):
    jb = load_backend("jax")
    optax = pytest.importorskip("optax")
    rng = np.random.default_rng(10)
    labels = rng.integers(0, max(shape[-1], 2), shape[:-1])
    masks = np.eye(shape[-1])[labels] if shape[-1] > 1 else labels[..., None].astype(float)
    y, x = arrays(jb, masks, rng.normal(size=shape) * 3)
    theirs = float(optax.losses.multiclass_generalized_dice_loss(x, y, ignore_background=ignore_background))
    ours = value(jb, ml.generalized_dice(y, x, ignore_background=ignore_background, convention="optax"))
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    # Sudre et al.'s single ratio, 1 − 2Σ w·I / Σ w·(T + P), is another number
    p = np.exp(value(jb, x)) / np.exp(value(jb, x)).sum(-1, keepdims=True) if shape[-1] > 1 else None
    if p is not None and not ignore_background:
        axes = tuple(range(masks.ndim - 1))
        w = 1 / (masks.sum(axes) ** 2 + 1e-7)
        sudre = 1 - 2 * (w * (masks * p).sum(axes)).sum() / (w * (masks.sum(axes) + p.sum(axes))).sum()
        assert abs(sudre - theirs) > 1e-3


def test_generalized_dice_bad_input(backend):
    b = backend.xp.backend
    with pytest.raises(ValueError, match=rf"need a batch axis and a class axis \(the last\); got shape \(2,\) "
                                         rf"\({b}\)"):
        ml.generalized_dice(*arrays(backend, [1.0, 0.0], [0.5, 0.5]))
    with pytest.raises(ValueError, match=r"`y_true` must be in \[0, 1\] \(a mask\)"):
        ml.generalized_dice(*arrays(backend, [[2.0, 0.0]], [[0.5, 0.5]]))
    with pytest.raises(ValueError, match=r"`weight_epsilon` must be a finite number > 0"):
        ml.generalized_dice(*arrays(backend, [[1.0, 0.0]], [[0.5, 0.5]]), weight_epsilon=0.0)
