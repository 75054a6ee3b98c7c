"""Classification and margin losses: worked examples, the extremes, identities, bad input, and
the documented differences from torch, Keras and optax."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import multiloss as ml
from conftest import compiler, load_backend
from multiloss.registry import REGISTRY
from multiloss.testing.matrix import Case, math_module
from multiloss.testing.numerics import EPS, GRAD_ULPS, NORMAL, REF_NOISE, ULPS
from multiloss.testing.numerics import TINY as SUBNORMAL


def arrays(backend, *values, dtype="float64"):
    return [backend.from_numpy(np.asarray(v, np.float64), dtype) for v in values]


def labels(backend, values):
    return backend.from_numpy(np.asarray(values, np.int64))


def value(backend, x):
    return backend.to_numpy(x).astype(np.float64)


LOGITS = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25]]))
ONE_HOT = np.eye(3)[[0, 2, 1]]


# --- worked examples ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-14), ("float32", 1e-6)])
def test_seed_article_bce(backend, dtype, rtol):
    # −(log .9 + log .9 + log .8 + log .4)/4 = 0.337538...; the article prints 0.3677.
    t, p = arrays(backend, [1, 0, 1, 1], [0.9, 0.1, 0.8, 0.4], dtype=dtype)
    expected = -(2 * math.log(0.9) + math.log(0.8) + math.log(0.4)) / 4
    np.testing.assert_allclose(value(backend, ml.binary_cross_entropy(t, p)), expected, rtol=rtol)
    assert round(expected, 5) == 0.33754


def test_hand_computed_values(backend):
    t, x = arrays(backend, ONE_HOT, LOGITS)
    rows = [-math.log(0.7), -math.log(0.6), -math.log(0.5)]
    np.testing.assert_allclose(value(backend, ml.categorical_cross_entropy(t, x, from_logits=True, reduction="none")),
                               rows, rtol=1e-14)
    y = labels(backend, [0, 2, 1])
    np.testing.assert_allclose(
        value(backend, ml.sparse_categorical_cross_entropy(y, x, from_logits=True, reduction="none")), rows, rtol=1e-14)
    # hinge: label 0 is the negative class; margin exactly 1 gives 0
    t, s = arrays(backend, [1, -1, 0, 1], [0.3, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(value(backend, ml.hinge(t, s, reduction="none")), [0.7, 1.5, 1.5, 0.0], rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.squared_hinge(t, s, reduction="none")), [0.49, 2.25, 2.25, 0.0],
                               rtol=1e-15)
    # Crammer–Singer: 1 + max wrong − true = 1 + (−0.5) − 2 < 0 → 0; 1 + 0.3 − 0.1 = 1.2
    t, s = arrays(backend, [[1, 0, 0], [0, 1, 0]], [[2.0, -0.5, -1.0], [0.3, 0.1, -2.0]])
    np.testing.assert_allclose(value(backend, ml.categorical_hinge(t, s, reduction="none")), [0.0, 1.2], rtol=1e-15)
    # KL of p from q = Σ p log(p/q)
    p, q = arrays(backend, [[0.5, 0.5, 0.0]], [[0.25, 0.25, 0.5]])
    np.testing.assert_allclose(value(backend, ml.kl_divergence(p, q)), math.log(2.0), rtol=1e-15)


# --- the extremes ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_probabilities_at_exactly_zero_and_one(backend, dtype):
    """p = 0 with y = 1 (and p = 1 with y = 0) cost −log(tiny): finite, documented."""
    t, p = arrays(backend, [1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], dtype=dtype)
    out = value(backend, ml.binary_cross_entropy(t, p, reduction="none"))
    big = -math.log(NORMAL[dtype])  # 87.34 in float32, 708.40 in float64
    np.testing.assert_allclose(out, [big, big, 0.0, 0.0], rtol=1e-6)
    if backend.value_and_grad is not None:
        _, (_, g) = backend.value_and_grad(lambda a, b: ml.binary_cross_entropy(a, b, reduction="sum"), t, p)
        assert np.all(np.isfinite(value(backend, g)))


def test_probability_extremes_differ_from_keras_and_torch():
    """Keras clips to [1e-7, 1 − 1e-7] (16.12), PyTorch clamps the log at −100 (100.0); ours is
    −log(tiny) (87.34 in float32)."""
    tb, kb = load_backend("torch"), load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    import torch

    t, p = arrays(kb, [[1.0]], [[0.0]], dtype="float32")
    assert float(keras.losses.binary_crossentropy(t, p)[0]) == pytest.approx(16.118, abs=1e-3)
    assert float(torch.nn.functional.binary_cross_entropy(torch.zeros(1), torch.ones(1))) == 100.0
    bce = ml.binary_cross_entropy(*arrays(tb, [1.0], [0.0], dtype="float32"))
    assert float(value(tb, bce)) == pytest.approx(87.3365, rel=1e-6)


@pytest.mark.parametrize("dtype, big", [("float32", 1e4), ("float16", 65504.0)])
def test_extreme_logits_give_finite_losses_and_gradients(backend, dtype, big):
    if dtype not in backend.DTYPES:
        pytest.skip(f"{backend.xp.backend} has no {dtype}")
    t, x = arrays(backend, [1.0, 0.0, 1.0, 0.0], [big, -big, -big, big], dtype=dtype)
    # one very wrong row (loss = big, which float16 can still hold) and one very right row
    scores = arrays(backend, [[big, 0.0, 0.0], [0.0, big, 0.0]], dtype=dtype)[0]
    one_hot, y = arrays(backend, [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype)[0], labels(backend, [0, 1])
    calls = [
        (lambda a: ml.binary_cross_entropy(t, a, from_logits=True, reduction="none"), x),
        (lambda a: ml.binary_focal(t, a, from_logits=True, reduction="none"), x),
        (lambda a: ml.categorical_cross_entropy(one_hot, a, from_logits=True, reduction="none"), scores),
        (lambda a: ml.sparse_categorical_cross_entropy(y, a, from_logits=True, reduction="none"), scores),
        (lambda a: ml.categorical_focal(one_hot, a, from_logits=True, reduction="none"), scores),
        (lambda a: ml.kl_divergence(one_hot, a, from_logits=True, reduction="none"), scores),
    ]
    for fn, arg in calls:
        out = value(backend, fn(arg))
        assert np.all(np.isfinite(out)), out
        if backend.value_and_grad is not None:
            _, (g,) = backend.value_and_grad(lambda a, fn=fn: backend.xp.sum(fn(a)), arg)
            assert np.all(np.isfinite(value(backend, g)))
    # the wrong-way logit costs |x| exactly; the right-way one costs e^-|x| (0 here)
    np.testing.assert_allclose(value(backend, calls[0][0](x)), [0.0, 0.0, big, big], rtol=2.0**-10)


# --- identities -----------------------------------------------------------------------------
@pytest.mark.parametrize("from_logits", [False, True])
def test_focal_with_gamma_zero_and_no_alpha_is_cross_entropy_exactly(backend, from_logits):
    rng = np.random.default_rng(3)
    t = rng.integers(0, 2, 64).astype(np.float64)
    p = rng.normal(0, 3, 64) if from_logits else rng.uniform(0.01, 0.99, 64)
    t, p = arrays(backend, t, p)
    focal = value(backend, ml.binary_focal(t, p, alpha=None, gamma=0.0, from_logits=from_logits, reduction="none"))
    bce = value(backend, ml.binary_cross_entropy(t, p, from_logits=from_logits, reduction="none"))
    np.testing.assert_array_equal(focal, bce)
    t, x = arrays(backend, ONE_HOT, LOGITS)
    np.testing.assert_array_equal(
        value(backend, ml.categorical_focal(t, x, gamma=0.0, from_logits=True)),
        value(backend, ml.categorical_cross_entropy(t, x, from_logits=True)),
    )


def test_categorical_focal_takes_a_weight_per_class(backend):
    t, x = arrays(backend, ONE_HOT, LOGITS)
    alpha = [0.5, 2.0, 1.0]  # rows' true classes are 0, 2, 1
    p_true = np.array([0.7, 0.6, 0.5])
    expected = -np.array([0.5, 1.0, 2.0]) * (1 - p_true) ** 2 * np.log(p_true)
    out = ml.categorical_focal(t, x, alpha=alpha, from_logits=True, reduction="none")
    np.testing.assert_allclose(value(backend, out), expected, rtol=1e-13)


def test_sparse_equals_categorical_on_one_hot_targets(backend):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 2, (16, 5))
    y = rng.integers(0, 5, 16)
    (xs,) = arrays(backend, x)
    for smoothing in (0.0, 0.2):
        options = {"from_logits": True, "label_smoothing": smoothing, "reduction": "none"}
        sparse = ml.sparse_categorical_cross_entropy(labels(backend, y), xs, **options)
        dense = ml.categorical_cross_entropy(*arrays(backend, np.eye(5)[y]), xs, **options)
        np.testing.assert_allclose(value(backend, sparse), value(backend, dense), rtol=1e-13)


def test_logits_and_probabilities_agree(backend):
    x = np.array([-3.0, -0.5, 0.0, 2.0])
    t, xs, ps = arrays(backend, [1, 0, 1, 0.3], x, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(
        value(backend, ml.binary_cross_entropy(t, xs, from_logits=True, reduction="none")),
        value(backend, ml.binary_cross_entropy(t, ps, reduction="none")),
        rtol=1e-14,
    )


# --- ignore_index, class weights, all ignored -----------------------------------------------
def test_all_labels_ignored_gives_zero_and_zero_gradients(backend):
    (x,) = arrays(backend, LOGITS)
    y = labels(backend, [-100, -100, -100])
    assert value(backend, ml.sparse_categorical_cross_entropy(y, x, from_logits=True, ignore_index=-100)) == 0.0
    if backend.value_and_grad is not None:
        _, (g,) = backend.value_and_grad(
            lambda a: ml.sparse_categorical_cross_entropy(y, a, from_logits=True, ignore_index=-100), x
        )
        np.testing.assert_array_equal(value(backend, g), 0.0)


def test_class_weights_and_ignore_follow_pytorch_mean(backend):
    (x,) = arrays(backend, LOGITS)
    y = labels(backend, [0, 2, 1])
    w = [2.0, 1.0, 0.5]
    nll = np.array([-math.log(0.7), -math.log(0.6), -math.log(0.5)])
    out = ml.sparse_categorical_cross_entropy(y, x, from_logits=True, class_weight=w, ignore_index=1)
    # item 3 (label 1) is ignored: (2·nll0 + 0.5·nll1) / (2 + 0.5)
    np.testing.assert_allclose(value(backend, out), (2 * nll[0] + 0.5 * nll[1]) / 2.5, rtol=1e-14)


# --- bad input ------------------------------------------------------------------------------
def test_out_of_range_labels_raise_in_eager_mode(backend):
    (x,) = arrays(backend, LOGITS)
    for bad in ([0, 3, 1], [0, -1, 1]):
        with pytest.raises(ValueError, match=rf"class labels in \[0, 3\).*1 value\(s\).*\({backend.xp.backend}\)"):
            ml.sparse_categorical_cross_entropy(labels(backend, bad), x, from_logits=True)
    ml.sparse_categorical_cross_entropy(labels(backend, [0, -1, 1]), x, from_logits=True, ignore_index=-1)


def test_sparse_label_shape_is_checked(backend):
    (x,) = arrays(backend, LOGITS)
    with pytest.raises(ValueError, match=r"expected \(3,\), got \(3, 1\)"):
        ml.sparse_categorical_cross_entropy(backend.from_numpy(np.zeros((3, 1), np.int64)), x, from_logits=True)
    with pytest.raises(TypeError, match="integer class labels"):
        ml.sparse_categorical_cross_entropy(*arrays(backend, [0.0, 1.0, 2.0]), x, from_logits=True)
    with pytest.raises(ValueError, match=r"`class_weight` must have shape \(3,\)"):
        ml.sparse_categorical_cross_entropy(labels(backend, [0, 1, 2]), x, class_weight=[1.0, 2.0], from_logits=True)


def test_other_bad_inputs(backend):
    t, p = arrays(backend, [1.0, 0.0], [0.5, 1.5])
    with pytest.raises(ValueError, match=r"`y_pred` must be a probability in \[0, 1\]"):
        ml.binary_cross_entropy(t, p)
    ml.binary_cross_entropy(t, p, from_logits=True)  # any real logit is fine
    with pytest.raises(ValueError, match=r"`y_true` must be a label in \{-1, 1\}"):
        ml.hinge(*arrays(backend, [1.0, 2.0], [0.5, 0.5]))
    with pytest.raises(ValueError, match=r"\(2, 1\) and \(2,\)"):
        ml.binary_cross_entropy(*arrays(backend, [[1.0], [0.0]], [0.5, 0.5]))
    with pytest.raises(TypeError, match="floating dtype"):
        ml.categorical_cross_entropy(*arrays(backend, ONE_HOT), backend.from_numpy(np.ones((3, 3), np.int32)))


def test_out_of_range_labels_under_jit_give_nan_not_a_wrong_number():
    """Under jit the labels cannot be read, so they cannot raise: they give NaN."""
    jb, tb = load_backend("jax"), load_backend("tensorflow")
    import jax
    import tensorflow as tf

    def loss(y, a):
        return ml.sparse_categorical_cross_entropy(y, a, from_logits=True, reduction="none")

    for b, compile_ in ((jb, jax.jit), (tb, lambda f: tf.function(f, jit_compile=True))):
        (x,) = arrays(b, LOGITS)
        out = value(b, compile_(loss)(labels(b, [0, 7, -1]), x))
        assert out[0] == pytest.approx(-math.log(0.7), rel=1e-12)
        assert np.isnan(out[1]) and np.isnan(out[2])


# --- documented differences from the natives, and convention= reproducing them -------------
KERAS_EPS = {"float64": 1e-7, "float32": float(np.float32(1e-7))}
KERAS_ONE = {"float64": 1 - 1e-7, "float32": float(np.float32(1 - 1e-7))}  # 1 − 1.19e-7 in float32
DTYPE_RTOL = {"float64": 1e-14, "float32": 4 * 2.0**-23}
# y, p: both ends and a soft label, one per row (Keras averages the last axis per sample)
EXTREMES = ([[1.0], [0.0], [0.3], [1.0], [0.0]], [[0.0], [1.0], [0.0], [0.5], [0.25]])


def _keras_bce(dtype):
    """Keras's BCE at EXTREMES by hand: p clipped to [ε, 1 − ε] in the dtype, then logs."""
    y, p = (np.ravel(a) for a in EXTREMES)
    pc = np.clip(p, KERAS_EPS[dtype], KERAS_ONE[dtype])
    qc = np.asarray(1 - pc, dtype).astype(np.float64)  # 1 − p rounds in the dtype
    return -(y * np.log(pc) + (1 - y) * np.log(qc))


TORCH_BCE = [100.0, 100.0, 30.0, math.log(2.0), -math.log(0.75)]  # each log clamped at −100


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_conventions_at_probabilities_zero_and_one(backend, dtype):
    """y=1, p=0: Keras −log(1e-7) = 16.118 (its clip), PyTorch 100 (its clamp), ours −log(tiny);
    y=0, p=1: Keras −log(1 − (1 − 1e-7)) with 1 − 1e-7 rounded: 15.942 in float32 (1 − 1.19e-7)."""
    t, p = arrays(backend, *EXTREMES, dtype=dtype)
    keras = value(backend, ml.binary_cross_entropy(t, p, convention="keras", reduction="none"))
    torch_ = value(backend, ml.binary_cross_entropy(t, p, convention="torch", reduction="none")).ravel()
    np.testing.assert_allclose(keras, _keras_bce(dtype), rtol=DTYPE_RTOL[dtype])
    np.testing.assert_allclose(torch_, TORCH_BCE, rtol=DTYPE_RTOL[dtype])
    assert keras[0] == pytest.approx(16.118095650958319 if dtype == "float64" else 16.118095, rel=DTYPE_RTOL[dtype])
    assert keras[1] == pytest.approx(16.118095651484676 if dtype == "float64" else 15.942385, rel=DTYPE_RTOL[dtype])
    ours = value(backend, ml.binary_cross_entropy(t, p, reduction="none")).ravel()
    assert ours[0] == pytest.approx(-math.log(NORMAL[dtype]), rel=1e-6)  # no convention: unchanged
    if backend.value_and_grad is not None:  # the clip and the clamp are flat where they act
        # y=.3, p=0: Keras clips both logs there; PyTorch clamps log p only, log(1 − p) has slope −1
        for convention, slopes in (("keras", [0.0, 0.0, 0.0]), ("torch", [0.0, 0.0, 0.7])):
            _, (_, g) = backend.value_and_grad(
                lambda a, b, c=convention: ml.binary_cross_entropy(a, b, convention=c, reduction="sum"), t, p)
            np.testing.assert_allclose(value(backend, g).ravel()[:3], slopes, rtol=DTYPE_RTOL[dtype])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_hand_values_are_the_natives(dtype):
    tb, kb = load_backend("torch"), load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    import torch

    t, p = arrays(tb, *EXTREMES, dtype=dtype)
    np.testing.assert_allclose(value(tb, torch.nn.functional.binary_cross_entropy(p, t, reduction="none")).ravel(),
                               TORCH_BCE, rtol=DTYPE_RTOL[dtype])
    t, p = arrays(kb, *EXTREMES, dtype=dtype)
    native = keras.losses.BinaryCrossentropy(reduction=None, dtype=dtype)(t, p)
    np.testing.assert_allclose(value(kb, native), _keras_bce(dtype), rtol=DTYPE_RTOL[dtype])


@pytest.mark.parametrize("from_logits", [False, True])
def test_torch_bce_weight_divides_by_the_number_of_items(backend, from_logits):
    """PyTorch's weight= rescales items and 'mean' still divides by their number: mean(w·ℓ)."""
    tb = load_backend("torch")
    import torch

    y, p, w = [1.0, 0.0, 1.0, 1.0], [0.2, 0.7, 0.5, 0.9], [1.0, 2.0, 0.0, 1.0]
    x = np.log(p) - np.log1p(-np.asarray(p))
    F = torch.nn.functional
    native = F.binary_cross_entropy_with_logits if from_logits else F.binary_cross_entropy
    expected = float(native(*arrays(tb, x if from_logits else p, y), weight=arrays(tb, w)[0]))
    ell = -(np.asarray(y) * np.log(p) + (1 - np.asarray(y)) * np.log1p(-np.asarray(p)))
    assert expected == pytest.approx(np.mean(np.asarray(w) * ell), rel=1e-14)
    t, a, sw = arrays(backend, y, x if from_logits else p, w)
    got = ml.binary_cross_entropy(t, a, from_logits=from_logits, sample_weight=sw, convention="torch")
    assert float(value(backend, got)) == pytest.approx(expected, rel=1e-14)
    ours = ml.binary_cross_entropy(t, a, from_logits=from_logits, sample_weight=sw)  # Σwℓ/Σw
    assert float(value(backend, ours)) == pytest.approx(np.sum(np.asarray(w) * ell) / 4.0, rel=1e-14)


def test_sparse_conventions_ignore_labels(backend):
    """PyTorch ignores label −100 by default; Keras ignores ignore_class and averages the rest."""
    (x,) = arrays(backend, LOGITS)
    kept = (-math.log(0.7) + -math.log(0.5)) / 2  # rows 0 and 2
    with pytest.raises(ValueError, match=r"class labels in \[0, 3\)"):
        ml.sparse_categorical_cross_entropy(labels(backend, [0, -100, 1]), x, from_logits=True)
    got = ml.sparse_categorical_cross_entropy(labels(backend, [0, -100, 1]), x, from_logits=True, convention="torch")
    assert float(value(backend, got)) == pytest.approx(kept, rel=1e-14)
    got = ml.sparse_categorical_cross_entropy(labels(backend, [0, 2, 1]), x, from_logits=True, ignore_index=2,
                                              convention="keras")
    assert float(value(backend, got)) == pytest.approx(kept, rel=1e-14)


# p of a row with a zero: Keras clips it to 1e-7, then log-softmax renormalizes the clipped row.
SPARSE_P = [[0.7, 0.3, 0.0], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25]]
SPARSE_Y = [2, 2, 1]
SPARSE_KERAS = [-math.log(1e-7) + math.log(1.0 + 1e-7), -math.log(0.6), -math.log(0.5)]


def test_sparse_keras_convention_clips_then_renormalizes(backend):
    (p,) = arrays(backend, SPARSE_P)
    got = ml.sparse_categorical_cross_entropy(labels(backend, SPARSE_Y), p, convention="keras", reduction="none")
    np.testing.assert_allclose(value(backend, got), SPARSE_KERAS, rtol=1e-14)


def test_sparse_keras_natives():
    """The hand values above are Keras's; with ignore_class and a sample weight Keras divides by
    the number of items kept, convention='keras' by their Σw (a documented difference)."""
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    (p,) = arrays(kb, SPARSE_P)
    native = keras.losses.SparseCategoricalCrossentropy(reduction=None, dtype="float64")(labels(kb, SPARSE_Y), p)
    np.testing.assert_allclose(value(kb, native), SPARSE_KERAS, rtol=1e-14)
    (x,) = arrays(kb, LOGITS)
    y, (w,) = labels(kb, [0, 2, 1]), arrays(kb, [0.5, 1.0, 3.0])
    nll = [-math.log(0.7), -math.log(0.5)]  # rows 0 and 2; row 1 (label 2) ignored
    native = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2, dtype="float64")
    assert float(native(y, x, sample_weight=w)) == pytest.approx((0.5 * nll[0] + 3.0 * nll[1]) / 2, rel=1e-14)
    ours = ml.sparse_categorical_cross_entropy(y, x, from_logits=True, ignore_index=2, sample_weight=w,
                                               convention="keras")
    assert float(value(kb, ours)) == pytest.approx((0.5 * nll[0] + 3.0 * nll[1]) / 3.5, rel=1e-14)


# Rows that do not sum to 1, one with p = 0 on the true class: Keras renormalizes, then clips.
CCE_Y, CCE_P = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], [[0.2, 0.2, 0.0], [0.3, 0.3, 0.3]]
CCE_KERAS = [-math.log(1e-7), math.log(3.0)]  # p / Σp = (½, ½, 0) → 1e-7; (⅓, ⅓, ⅓)
CFOCAL_KERAS = [0.25 * (1 - 1e-7) ** 2 * CCE_KERAS[0], 0.25 * (2 / 3) ** 2 * CCE_KERAS[1]]  # α = .25, γ = 2


def test_keras_categorical_conventions_renormalize_and_clip(backend):
    t, p = arrays(backend, CCE_Y, CCE_P)
    got = ml.categorical_cross_entropy(t, p, convention="keras", reduction="none")
    np.testing.assert_allclose(value(backend, got), CCE_KERAS, rtol=1e-14)
    got = ml.categorical_focal(t, p, convention="keras", reduction="none")
    np.testing.assert_allclose(value(backend, got), CFOCAL_KERAS, rtol=1e-14)
    ours = ml.categorical_cross_entropy(t, p, reduction="none")  # neither: −log(tiny), −log(0.3)
    np.testing.assert_allclose(value(backend, ours), [-math.log(NORMAL["float64"]), -math.log(0.3)], rtol=1e-14)


def test_keras_categorical_natives():
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    t, p = arrays(kb, CCE_Y, CCE_P)
    native = keras.losses.CategoricalCrossentropy(reduction=None, dtype="float64")(t, p)
    np.testing.assert_allclose(value(kb, native), CCE_KERAS, rtol=1e-14)
    native = keras.losses.CategoricalFocalCrossentropy(reduction=None, dtype="float64")(t, p)
    np.testing.assert_allclose(value(kb, native), CFOCAL_KERAS, rtol=1e-14)


def test_keras_categorical_hinge_lets_the_true_class_into_the_max(backend):
    t, s = arrays(backend, [[1, 0, 0], [1, 0, 0]], [[0.5, -0.2, -0.4], [0.5, 0.3, -0.4]])
    np.testing.assert_allclose(value(backend, ml.categorical_hinge(t, s, reduction="none")), [0.3, 0.8], rtol=1e-15)
    # row 0: every wrong score is negative, so Keras's max is the zeroed true class's 0
    keras = ml.categorical_hinge(t, s, convention="keras", reduction="none")
    np.testing.assert_allclose(value(backend, keras), [0.5, 0.8], rtol=1e-15)


def test_keras_categorical_hinge_native():
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    t, s = arrays(kb, [[1, 0, 0], [1, 0, 0]], [[0.5, -0.2, -0.4], [0.5, 0.3, -0.4]])
    np.testing.assert_allclose(value(kb, keras.losses.CategoricalHinge(reduction=None, dtype="float64")(t, s)),
                               [0.5, 0.8], rtol=1e-15)


def test_optax_multiclass_hinge_is_ours_on_integer_labels():
    jb = load_backend("jax")
    optax = pytest.importorskip("optax")
    rng = np.random.default_rng(5)
    s, y = rng.normal(0, 1, (8, 4)), rng.integers(0, 4, 8)
    t, ss = arrays(jb, np.eye(4)[y], s)
    np.testing.assert_allclose(
        value(jb, ml.categorical_hinge(t, ss, reduction="none")),
        np.maximum(np.asarray(optax.losses.multiclass_hinge_loss(ss, labels(jb, y))), 0.0),
        rtol=1e-14,
        atol=1e-15,  # optax's max(s + 1[j≠y]) − s_y rounds where ours is exactly 0
    )


def _kl_case():
    rng = np.random.default_rng(6)
    p = rng.dirichlet(np.ones(5), 4)
    p[0, 0] = 0.0
    p[0] /= p[0].sum()
    x = rng.normal(0, 1, (4, 5))
    log_q = x - np.log(np.exp(x).sum(axis=-1, keepdims=True))
    terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - log_q), 0.0)
    return p, log_q, terms


def test_kl_divergence_is_pytorch_batchmean_not_mean():
    tb = load_backend("torch")
    import torch

    p, log_q, terms = _kl_case()
    ps, lq = arrays(tb, p, log_q)
    batchmean = float(torch.nn.functional.kl_div(lq, ps, reduction="batchmean"))
    with pytest.warns(UserWarning, match="batchmean"):  # torch itself warns about its 'mean'
        mean = float(torch.nn.functional.kl_div(lq, ps, reduction="mean"))
    np.testing.assert_allclose(value(tb, ml.kl_divergence(ps, lq, from_logits=True)), batchmean, rtol=1e-14)
    np.testing.assert_allclose(mean * 5, batchmean, rtol=1e-14)  # torch's 'mean' divides by N·C
    np.testing.assert_allclose([batchmean, mean], [terms.sum() / 4, terms.sum() / 20], rtol=1e-14)


def test_kl_conventions(backend):
    """PyTorch's kl_div and optax take log q as given; PyTorch's default 'mean' divides by N·C."""
    p, log_q, terms = _kl_case()
    ps, lq = arrays(backend, p, log_q + 0.5)  # unnormalized log q: used as given, not renormalized
    shifted = terms - 0.5 * p
    got = ml.kl_divergence(ps, lq, convention="torch")
    assert float(value(backend, got)) == pytest.approx(shifted.sum() / 20, rel=1e-14)
    got = ml.kl_divergence(ps, lq, convention="optax", reduction="none")
    np.testing.assert_allclose(value(backend, got), shifted.sum(axis=-1), rtol=1e-14)


def test_optax_kl_divergence_takes_log_predictions():
    jb = load_backend("jax")
    optax = pytest.importorskip("optax")
    p, log_q, terms = _kl_case()
    ps, lq = arrays(jb, p, log_q + 0.5)
    np.testing.assert_allclose(np.asarray(optax.losses.kl_divergence(lq, ps)), (terms - 0.5 * p).sum(axis=-1),
                               rtol=1e-14)


KL_P, KL_Q = [[0.5, 0.5, 0.0]], [[0.25, 0.25, 0.5]]
KL_KERAS = math.log(2.0) + 1e-7 * math.log(1e-7 / 0.5)  # y_true = 0 clipped to 1e-7


def test_keras_kl_convention_clips_zero_targets(backend):
    p, q = arrays(backend, KL_P, KL_Q)
    assert float(value(backend, ml.kl_divergence(p, q))) == pytest.approx(math.log(2.0), rel=1e-15)
    assert float(value(backend, ml.kl_divergence(p, q, convention="keras"))) == pytest.approx(KL_KERAS, rel=1e-15)


def test_keras_kl_clips_zero_targets():
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    p, q = arrays(kb, KL_P, KL_Q)
    assert float(keras.losses.KLDivergence(dtype="float64")(p, q)) == pytest.approx(KL_KERAS, rel=1e-15)


HINGE_SCORES = [[0.5, 0.5]]
HINGE = {  # labels → per-sample mean of max(0, 1 − y·ŷ), by label rule
    "binary batch": ([[0.0, 1.0]], {"zero_negative": 1.0, "binary_batch": 1.0, "signs": 0.75}),
    "batch with a −1": ([[0.0, -1.0]], {"zero_negative": 1.5, "binary_batch": 1.25, "signs": 1.25}),
}


@pytest.mark.parametrize("batch", HINGE)
def test_hinge_label_rules(backend, batch):
    """0 is −1 (ours), or Keras's 2y − 1 only when every label is 0 or 1, or 0 (optax)."""
    y, expected = HINGE[batch]
    t, s = arrays(backend, y, HINGE_SCORES)
    for labels_, mean in expected.items():
        assert float(value(backend, ml.hinge(t, s, labels=labels_))) == pytest.approx(mean, rel=1e-15)
    keras = ml.hinge(t, s, convention="keras", reduction="none")
    np.testing.assert_allclose(value(backend, keras), [expected["binary_batch"]], rtol=1e-15)
    assert float(value(backend, ml.hinge(t, s, convention="optax"))) == pytest.approx(expected["signs"], rel=1e-15)


@pytest.mark.parametrize("batch", HINGE)
def test_keras_hinge_natives(batch):
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    y, expected = HINGE[batch]
    t, s = arrays(kb, y, HINGE_SCORES)
    assert float(keras.losses.hinge(t, s)[0]) == pytest.approx(expected["binary_batch"], rel=1e-15)
    squared = np.mean(np.maximum(1 - np.where(np.all(np.isin(y, (0, 1))), 2 * np.asarray(y) - 1, y) * 0.5, 0) ** 2)
    assert float(keras.losses.squared_hinge(t, s)[0]) == pytest.approx(squared, rel=1e-15)
    assert float(value(kb, ml.squared_hinge(t, s, convention="keras"))) == pytest.approx(squared, rel=1e-15)


@pytest.mark.parametrize("name", ["jax", "tensorflow", "torch"])
def test_conventions_compile(name):
    """Keras's batch-wide {0, 1} test is a select, so it compiles and decides per call; the
    clip and the clamp compile too."""
    compile_ = compiler(name)
    b = load_backend(name)
    t, p = arrays(b, *EXTREMES)
    ml.binary_cross_entropy(t, p)  # dispatch once eagerly: torch.compile cannot trace its first import
    fn = compile_(lambda t, s: ml.hinge(t, s, convention="keras"))
    for y, expected in HINGE.values():
        assert float(value(b, fn(*arrays(b, y, HINGE_SCORES)))) == pytest.approx(expected["binary_batch"], rel=1e-15)
    for convention, expected in (("keras", _keras_bce("float64")), ("torch", TORCH_BCE)):
        fn = compile_(lambda a, c, convention=convention: ml.binary_cross_entropy(a, c, convention=convention,
                                                                                   reduction="none"))
        np.testing.assert_allclose(value(b, fn(t, p)).ravel(), expected, rtol=1e-14)


# --- the safeguard parameters against the independent reference ---------------------------
# At values that clip many of the domain's inputs (2^-7: its bounds are exact in float32), values
# and gradients within the matrix's accuracy contract, in PyTorch: each new setting costs JAX and
# TensorFlow a second of compiling, and the tests above and test_conventions.py run these
# parameters on every backend against Keras, PyTorch and optax. normalize and log_input are
# checked only there: their gradients cancel inside what the reference holds as one term
# (log Σp, y·log y), so its scale cannot bound the rounding.
SAFEGUARDS = [
    ("binary_cross_entropy", {"epsilon": 2**-7}),
    ("binary_cross_entropy", {"from_logits": True, "epsilon": 2**-7}),
    ("binary_cross_entropy", {"log_floor": -2.0}),
    ("binary_cross_entropy", {"from_logits": True, "log_floor": -2.0}),
    ("binary_focal", {"epsilon": 2**-7}),
    ("binary_focal", {"from_logits": True, "epsilon": 2**-7}),
    ("categorical_cross_entropy", {"epsilon": 2**-7}),
    ("categorical_cross_entropy", {"from_logits": True, "epsilon": 2**-7}),
    ("sparse_categorical_cross_entropy", {"epsilon": 2**-7, "normalize": True}),
    ("categorical_focal", {"epsilon": 2**-7, "alpha": 0.25}),
    ("categorical_focal", {"from_logits": True, "epsilon": 2**-7}),
    ("categorical_hinge", {"zero_true_class": True}),
    ("kl_divergence", {"epsilon": 2**-7}),
    ("kl_divergence", {"from_logits": True, "epsilon": 2**-7}),
    ("kl_divergence", {"class_mean": True}),
    ("hinge", {"labels": "signs"}),
    ("squared_hinge", {"labels": "signs"}),
]


@functools.cache
def _safeguard_reference(index, dtype):
    name, params = SAFEGUARDS[index]
    case = Case(REGISTRY[name], params, shape=(4, 6))
    _, held = case.to_backend(load_backend("numpy"), dtype)
    return case, case.reference(held, math_module())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("index", range(len(SAFEGUARDS)),
                         ids=[f"{n}-" + "-".join(f"{k}={v}" for k, v in p.items()) for n, p in SAFEGUARDS])
def test_safeguard_parameters_match_the_reference(index, dtype):
    backend = load_backend("torch")
    case, (values, scales, grads, gscales, _) = _safeguard_reference(index, dtype)
    arrays_, _ = case.to_backend(backend, dtype)
    got = value(backend, case.call(*arrays_, reduction="none"))
    np.testing.assert_array_less(np.abs(got - values), (ULPS + 1) * EPS[dtype] * scales + SUBNORMAL[dtype])
    for name, g in case.grad_of_sum(backend, arrays_, reduction="sum").items():
        defined = ~np.isnan(grads[name])
        err = np.abs(value(backend, g) - grads[name])[defined]
        tol = GRAD_ULPS * EPS[dtype] * gscales[name] + SUBNORMAL[dtype] + REF_NOISE
        np.testing.assert_array_less(err, tol[defined])


def test_safeguard_parameters_are_checked(backend):
    t, p = arrays(backend, [1.0, 0.0], [0.5, 0.5])
    for kwargs, message in (
        ({"epsilon": 0.5}, r"`epsilon` must be None or a finite number in \(0, 0\.5\); got 0\.5 \(float\)"),
        ({"epsilon": -1e-7}, r"`epsilon` must be None or a finite number in \(0, 0\.5\); got -1e-07"),
        ({"log_floor": 1.0}, r"`log_floor` must be None or a finite number <= 0; got 1\.0"),
    ):
        with pytest.raises(ValueError, match=message):  # parameters are checked before the backend is known
            ml.binary_cross_entropy(t, p, **kwargs)
    with pytest.raises(ValueError, match=r"`labels` must be one of 'zero_negative', 'binary_batch', 'signs'; "
                                         r"got 'pm1' \(str\)"):
        ml.hinge(t, p, labels="pm1")
    q = arrays(backend, [[0.5, 0.5]])[0]
    with pytest.raises(ValueError, match=r"`from_logits` and `log_input` cannot both be True"):
        ml.kl_divergence(q, q, from_logits=True, log_input=True)
    with pytest.raises(ValueError, match=r"convention='keras': keras\.losses\.KLDivergence is kl_divergence with "
                                         r"from_logits=False only; got from_logits=True"):
        ml.kl_divergence(q, q, from_logits=True, convention="keras")
