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
    the number of items kept, as convention='keras' does; our default divides by their Σw."""
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
    assert float(value(kb, ours)) == pytest.approx((0.5 * nll[0] + 3.0 * nll[1]) / 2, rel=1e-14)
    ours = ml.sparse_categorical_cross_entropy(y, x, from_logits=True, ignore_index=2, sample_weight=w)
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


# --- PyTorch's layout: class axis 1, K extra dimensions ------------------------------------
# (N, C, d1, d2) = (3, 4, 2, 5), classes at axis 1, as PyTorch takes them; labels (N, d1, d2).
K_SHAPE = (3, 4, 2, 5)


def _k_inputs():
    rng = np.random.default_rng(15)
    x = rng.normal(0.0, 2.0, K_SHAPE)
    y = rng.integers(0, K_SHAPE[1], (K_SHAPE[0], *K_SHAPE[2:]))
    y[0, 0, :2] = -100  # ignored under convention='torch'
    soft = rng.dirichlet(np.ones(K_SHAPE[1]), (K_SHAPE[0], *K_SHAPE[2:]))  # (N, d1, d2, C)
    log_p = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    return x, y, np.moveaxis(soft, -1, 1), log_p


K_WEIGHT = [0.5, 2.0, 1.0, 0.25]


def test_torch_convention_takes_class_axis_one_with_extra_dimensions(backend):
    """PyTorch's own numbers on (N, C, d1, d2) inputs, every reduction: cross_entropy with class
    probabilities and with integer labels (-100 ignored, class weights), nll_loss likewise."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, y, soft, log_p = _k_inputs()
    tx, ty, tsoft, tlog = (torch.from_numpy(a) for a in (x, y, soft, log_p))
    bx, bsoft, blog = arrays(backend, x, soft, log_p)
    by = labels(backend, y)
    tw = torch.tensor(K_WEIGHT, dtype=torch.float64)
    for reduction in ("none", "mean", "sum"):
        cases = (
            (ml.categorical_cross_entropy(bsoft, bx, from_logits=True, convention="torch", reduction=reduction),
             F.cross_entropy(tx, tsoft, reduction=reduction)),
            (ml.categorical_cross_entropy(bsoft, bx, from_logits=True, label_smoothing=0.1, axis=1,
                                          convention="torch", reduction=reduction),
             F.cross_entropy(tx, tsoft, label_smoothing=0.1, reduction=reduction)),
            (ml.sparse_categorical_cross_entropy(by, bx, from_logits=True, class_weight=K_WEIGHT, convention="torch",
                                                 reduction=reduction),
             F.cross_entropy(tx, ty, weight=tw, reduction=reduction)),
            (ml.negative_log_likelihood(by, blog, convention="torch", reduction=reduction),
             F.nll_loss(tlog, ty, reduction=reduction)),
            (ml.negative_log_likelihood(by, blog, class_weight=K_WEIGHT, axis=1, convention="torch",
                                        reduction=reduction),
             F.nll_loss(tlog, ty, weight=tw, reduction=reduction)),
        )
        for ours, theirs in cases:
            np.testing.assert_allclose(value(backend, ours), theirs.numpy(), rtol=1e-13, atol=1e-15)
    # the same number without convention=, by the parameters it sets
    np.testing.assert_allclose(
        value(backend, ml.negative_log_likelihood(by, blog, ignore_index=-100, axis=1)),
        F.nll_loss(tlog, ty).numpy(), rtol=1e-13)


def test_torch_convention_names_pytorchs_class_axis(backend):
    x, _, _, log_p = _k_inputs()
    bx, blog = arrays(backend, x, log_p)
    y = labels(backend, np.zeros((3, 4, 2), np.int64))
    for call in (lambda: ml.sparse_categorical_cross_entropy(y, bx, from_logits=True, axis=-1, convention="torch"),
                 lambda: ml.negative_log_likelihood(y, blog, axis=-1, convention="torch")):
        with pytest.raises(ValueError, match=r"convention='torch': torch\.nn\.functional\.(cross_entropy|nll_loss) "
                                             r"is \w+ with axis=1 only; got axis=-1: PyTorch's class axis is always 1"):
            call()
    with pytest.raises(ValueError, match=r"axis=1 only; got axis=-1: PyTorch's class axis is always 1"):
        ml.categorical_cross_entropy(bx, bx, from_logits=True, axis=-1, convention="torch")


# --- negative log-likelihood -----------------------------------------------------------------
def test_nll_hand_values(backend):
    (log_p,) = arrays(backend, LOGITS)  # log of the rows (.7 .2 .1), (.1 .3 .6), (.25 .5 .25)
    y = labels(backend, [0, 2, 1])
    rows = [-math.log(0.7), -math.log(0.6), -math.log(0.5)]
    np.testing.assert_allclose(value(backend, ml.negative_log_likelihood(y, log_p, reduction="none")), rows,
                               rtol=1e-15)
    # weights (2, 1, .5) and label 1 ignored: (2·(−log .7) + 0.5·(−log .6)) / (2 + 0.5)
    out = ml.negative_log_likelihood(y, log_p, class_weight=[2.0, 1.0, 0.5], ignore_index=1)
    np.testing.assert_allclose(value(backend, out), (2 * rows[0] + 0.5 * rows[1]) / 2.5, rtol=1e-15)
    # on log-probabilities it is sparse cross-entropy from logits (log_softmax leaves them unchanged)
    np.testing.assert_allclose(value(backend, out), value(backend, ml.sparse_categorical_cross_entropy(
        y, log_p, from_logits=True, class_weight=[2.0, 1.0, 0.5], ignore_index=1)), rtol=1e-14)
    assert value(backend, ml.negative_log_likelihood(labels(backend, [1, 1, 1]), log_p, ignore_index=1)) == 0.0


def test_nll_bad_inputs(backend):
    (log_p,) = arrays(backend, LOGITS)
    name = backend.xp.backend
    with pytest.raises(ValueError, match=rf"`y_true` must be class labels in \[0, 3\).*\({name}\)"):
        ml.negative_log_likelihood(labels(backend, [0, 3, 1]), log_p)
    with pytest.raises(ValueError, match=rf"expected \(3,\), got \(3, 1\).*\({name}\)"):
        ml.negative_log_likelihood(backend.from_numpy(np.zeros((3, 1), np.int64)), log_p)
    with pytest.raises(ValueError, match=rf"`class_weight` must have shape \(3,\); got \(2,\) \({name}\)"):
        ml.negative_log_likelihood(labels(backend, [0, 1, 2]), log_p, class_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=rf"`axis` 2 is out of range for `y_pred` of shape \(3, 3\).*\({name}\)"):
        ml.negative_log_likelihood(labels(backend, [0, 1, 2]), log_p, axis=2)
    with pytest.raises(TypeError, match="integer class labels"):
        ml.negative_log_likelihood(*arrays(backend, [0.0, 1.0, 2.0]), log_p)


def test_nll_nan_elsewhere_in_the_row_differs_from_torch():
    """PyTorch reads only the label's column; a NaN in the row gives NaN here (NaN in, NaN out)."""
    torch = pytest.importorskip("torch")
    log_p = LOGITS.copy()
    log_p[0, 2] = np.nan
    y = np.array([0, 2, 1])
    theirs = torch.nn.functional.nll_loss(torch.from_numpy(log_p), torch.from_numpy(y), reduction="none").numpy()
    ours = ml.negative_log_likelihood(y, log_p, reduction="none")
    assert theirs[0] == pytest.approx(-math.log(0.7)) and np.isnan(ours[0])
    np.testing.assert_allclose(ours[1:], theirs[1:], rtol=1e-15)


# --- generalized cross-entropy ---------------------------------------------------------------
GCE_P = [[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]]  # Keras's docstring example
GCE_Y = [0, 1, 0, 1]


def test_generalized_cross_entropy_hand_values(backend):
    (p,) = arrays(backend, GCE_P)
    y = labels(backend, GCE_Y)
    picked = np.array([0.7, 0.8, 0.6, 0.6])
    np.testing.assert_allclose(value(backend, ml.generalized_cross_entropy(y, p, reduction="none")),
                               (1 - np.sqrt(picked)) / 0.5, rtol=1e-14)
    # q = 1: the one-hot target's mean absolute error, 1 − p_y; q → 0: cross-entropy
    np.testing.assert_allclose(value(backend, ml.generalized_cross_entropy(y, p, q=1.0, reduction="none")),
                               1 - picked, rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.generalized_cross_entropy(y, p, q=1e-6, reduction="none")),
                               -np.log(picked), rtol=1e-5)
    (logits,) = arrays(backend, np.log(GCE_P))
    np.testing.assert_allclose(value(backend, ml.generalized_cross_entropy(y, logits, from_logits=True)),
                               np.mean((1 - np.sqrt(picked)) / 0.5), rtol=1e-14)


def test_generalized_cross_entropy_bad_inputs(backend):
    (p,) = arrays(backend, GCE_P)
    name = backend.xp.backend
    for q in (0.0, 1.5, -0.5):
        with pytest.raises(ValueError, match=rf"`q` must be a finite number in \(0, 1\]; got {q}"):
            ml.generalized_cross_entropy(labels(backend, GCE_Y), p, q=q)
    with pytest.raises(ValueError, match=rf"`y_true` must be class labels in \[0, 2\).*\({name}\)"):
        ml.generalized_cross_entropy(labels(backend, [0, 2, 0, 1]), p)
    with pytest.raises(ValueError, match=rf"`y_pred` must be a probability in \[0, 1\].*\({name}\)"):
        ml.generalized_cross_entropy(labels(backend, GCE_Y), *arrays(backend, np.log(GCE_P)))
    with pytest.raises(ValueError, match=rf"expected \(4,\), got \(4, 1\).*\({name}\)"):
        ml.generalized_cross_entropy(backend.from_numpy(np.zeros((4, 1), np.int64)), p)


def test_keras_generalized_cross_entropy_differences():
    """The hand values are Keras's; an out-of-range label costs 1/q there silently, raises here."""
    keras = pytest.importorskip("keras")
    kb = load_backend("tensorflow")
    (p,) = arrays(kb, GCE_P)
    gce = keras.losses.CategoricalGeneralizedCrossEntropy(reduction=None, dtype="float64")
    np.testing.assert_allclose(value(kb, gce(labels(kb, GCE_Y), p)), (1 - np.sqrt([0.7, 0.8, 0.6, 0.6])) / 0.5,
                               rtol=1e-14)
    assert value(kb, gce(labels(kb, [0, 5, 0, 1]), p))[1] == 2.0  # 1/q
    with pytest.raises(ValueError, match=r"class labels in \[0, 2\)"):
        ml.generalized_cross_entropy(labels(kb, [0, 5, 0, 1]), p)
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
        keras.losses.CategoricalGeneralizedCrossEntropy(q=1.0)  # ours takes q = 1, the MAE


# --- PolyLoss ------------------------------------------------------------------------------
def test_poly_cross_entropy_hand_values(backend):
    t, x = arrays(backend, ONE_HOT, LOGITS)  # p_t = .7, .6, .5
    p_t = np.array([0.7, 0.6, 0.5])
    got = ml.poly_cross_entropy(t, x, from_logits=True, reduction="none")
    np.testing.assert_allclose(value(backend, got), -np.log(p_t) + 2.0 * (1 - p_t), rtol=1e-14)
    # ε = −1 (the paper's choice for detection) removes the first term of −log p_t = Σ (1 − p_t)^j / j
    got = ml.poly_cross_entropy(t, x, from_logits=True, epsilon=-1.0, reduction="none")
    np.testing.assert_allclose(value(backend, got), -np.log(p_t) - (1 - p_t), rtol=1e-14)
    # from probabilities; ε = 0 is cross-entropy
    (p,) = arrays(backend, np.exp(LOGITS))
    np.testing.assert_allclose(value(backend, ml.poly_cross_entropy(t, p, epsilon=0.0)),
                               value(backend, ml.categorical_cross_entropy(t, p)), rtol=1e-15)
    # a soft row: optax's Σ_c y_c(1 − p_c)
    soft = np.array([[0.5, 0.5, 0.0]])
    (s, row) = arrays(backend, soft, LOGITS[:1])
    expected = -(0.5 * math.log(0.7) + 0.5 * math.log(0.2)) + 2.0 * (0.5 * 0.3 + 0.5 * 0.8)
    np.testing.assert_allclose(value(backend, ml.poly_cross_entropy(s, row, from_logits=True)), expected, rtol=1e-14)


def test_poly_cross_entropy_bad_inputs(backend):
    t, x = arrays(backend, ONE_HOT, LOGITS)
    name = backend.xp.backend
    with pytest.raises(ValueError, match=rf"`y_pred` must be a probability in \[0, 1\].*\({name}\)"):
        ml.poly_cross_entropy(t, x)
    with pytest.raises(ValueError, match=r"`epsilon` must be a finite number; got inf"):
        ml.poly_cross_entropy(t, x, from_logits=True, epsilon=math.inf)
    with pytest.raises(ValueError, match=rf"\(3, 3\) and \(3, 2\).*\({name}\)|\(3, 2\) and \(3, 3\)"):
        ml.poly_cross_entropy(t, arrays(backend, LOGITS[:, :2])[0], from_logits=True)


def test_optax_poly_and_safe_cross_entropy_at_minus_inf_logits():
    """optax's plain softmax cross-entropy (and PolyLoss, built on it) gives NaN for a −inf logit
    with label 0; its safe version and ours give the limit."""
    optax = pytest.importorskip("optax")
    jb = load_backend("jax")
    t, x = arrays(jb, [[1.0, 0.0, 0.0]], [[0.0, 1.0, -np.inf]])
    expected = -math.log(1 / (1 + math.e))
    assert float(optax.losses.safe_softmax_cross_entropy(x, t)[0]) == pytest.approx(expected, rel=1e-15)
    assert np.isnan(float(optax.losses.softmax_cross_entropy(x, t)[0]))
    assert np.isnan(float(optax.losses.poly_loss_cross_entropy(x, t)[0]))
    assert float(value(jb, ml.categorical_cross_entropy(t, x, from_logits=True))) == pytest.approx(expected, rel=1e-15)
    poly = expected + 2.0 * (1 - 1 / (1 + math.e))
    assert float(value(jb, ml.poly_cross_entropy(t, x, from_logits=True, convention="optax"))) == pytest.approx(
        poly, rel=1e-15)


# --- focal: label smoothing, class balancing, torchvision ------------------------------------
def test_focal_label_smoothing_hand_values(backend):
    # binary: y = 1 smoothed by 0.2 to 0.9; p = 0.8: 1 − p_t = 0.9·0.2 + 0.1·0.8 = 0.26;
    # α_t = 0.25·0.9 + 0.75·0.1 = 0.3; BCE = −(0.9 log 0.8 + 0.1 log 0.2)
    t, p = arrays(backend, [1.0], [0.8])
    bce = -(0.9 * math.log(0.8) + 0.1 * math.log(0.2))
    got = ml.binary_focal(t, p, label_smoothing=0.2, reduction="none")
    np.testing.assert_allclose(value(backend, got), [0.3 * 0.26**2 * bce], rtol=1e-14)
    # categorical: one-hot (1, 0) smoothed by 0.2 over 2 classes to (0.9, 0.1); p = (0.8, 0.2)
    t, p = arrays(backend, [[1.0, 0.0]], [[0.8, 0.2]])
    expected = -(0.9 * 0.2**2 * math.log(0.8) + 0.1 * 0.8**2 * math.log(0.2))
    got = ml.categorical_focal(t, p, label_smoothing=0.2, reduction="none")
    np.testing.assert_allclose(value(backend, got), [expected], rtol=1e-14)


def test_keras_focal_label_smoothing_and_class_balancing():
    """Keras's apply_class_balancing=False is our alpha=None (convention='keras' sets it), its
    True with alpha=a our alpha=a; label_smoothing smooths y in every term, in both."""
    keras = pytest.importorskip("keras")
    kb = load_backend("tensorflow")
    t, p = arrays(kb, [[1.0, 0.0, 1.0, 0.3]], [[0.8, 0.4, 0.1, 0.6]])
    for balancing, alpha in ((False, None), (True, 0.25), (True, 0.6)):
        native = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=balancing, alpha=alpha or 0.25,
                                                      label_smoothing=0.1, dtype="float64")(t, p)
        kwargs = {} if alpha is None else {"alpha": alpha}
        ours = ml.binary_focal(t, p, label_smoothing=0.1, convention="keras", **kwargs)
        assert float(value(kb, ours)) == pytest.approx(float(native), rel=1e-14)
    t, p = arrays(kb, ONE_HOT, np.exp(LOGITS))
    native = keras.losses.CategoricalFocalCrossentropy(label_smoothing=0.1, dtype="float64")(t, p)
    ours = ml.categorical_focal(t, p, label_smoothing=0.1, convention="keras")
    assert float(value(kb, ours)) == pytest.approx(float(native), rel=1e-14)
    # Keras's default alpha=0.25 scales every class: ours at its default (no α) is 4× that at γ = 0
    ours = ml.categorical_focal(t, p, gamma=0.0, label_smoothing=0.1)
    assert float(value(kb, ours)) == pytest.approx(4 * float(keras.losses.CategoricalFocalCrossentropy(
        gamma=0.0, label_smoothing=0.1, dtype="float64")(t, p)), rel=1e-14)


def _torchvision_sigmoid_focal(x, y, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss as its source writes it, in NumPy float64."""
    p = 1 / (1 + np.exp(-x))
    ce = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    loss = ce * (1 - (p * y + (1 - p) * (1 - y))) ** gamma
    return loss if alpha < 0 else (alpha * y + (1 - alpha) * (1 - y)) * loss


def test_torchvision_sigmoid_focal_is_recorded_and_reproduced(backend):
    from multiloss.natives import of

    (native,) = [n for n in of("binary_focal").natives if n.api == "torchvision.ops.sigmoid_focal_loss"]
    assert native.unchecked.startswith("torchvision cannot be imported beside the CPU torch wheel")
    assert native.framework == "torch" and native.convention is not None
    x, y = np.array([-3.0, -0.5, 0.0, 0.5, 2.0, 6.0]), np.array([1.0, 0.0, 1.0, 0.3, 0.0, 1.0])
    bx, by = arrays(backend, x, y)
    np.testing.assert_allclose(value(backend, ml.binary_focal(by, bx, from_logits=True, convention="torch",
                                                               reduction="none")),
                               _torchvision_sigmoid_focal(x, y), rtol=1e-13)
    np.testing.assert_allclose(value(backend, ml.binary_focal(by, bx, from_logits=True, alpha=None,
                                                               reduction="none")),
                               _torchvision_sigmoid_focal(x, y, alpha=-1), rtol=1e-13)
    # torchvision forms 1 − p_t as 1 − (p·y + (1 − p)(1 − y)): 0 in float32 at x = 20, y = 1, where ours keeps
    # (1 − σ(20))^2·softplus(−20) ≈ 1.9e-26
    x32, y32 = np.float32([20.0]), np.float32([1.0])
    assert _torchvision_sigmoid_focal(x32, y32)[0] == 0.0
    (b20,) = arrays(backend, [20.0], dtype="float32")
    got = value(backend, ml.binary_focal(arrays(backend, [1.0], dtype="float32")[0], b20, from_logits=True,
                                         reduction="none"))[0]
    assert got == pytest.approx(0.25 * math.exp(-20) ** 2 * math.log1p(math.exp(-20)), rel=1e-4)
    with pytest.raises(ValueError, match=r"convention='torch': torchvision\.ops\.sigmoid_focal_loss is binary_focal "
                                         r"with from_logits=True only"):
        ml.binary_focal(by, by, convention="torch")


def test_torch_modules_under_convention_torch_are_nn_losses_on_extra_dimensions():
    """mt.NegativeLogLikelihood(convention="torch") is nn.NLLLoss, and
    mt.SparseCategoricalCrossEntropy(from_logits=True, convention="torch") nn.CrossEntropyLoss,
    on (N, C, d1, d2) inputs, class weights and label −100 included."""
    torch = pytest.importorskip("torch")
    import multiloss.torch as mt

    x, y, _, log_p = _k_inputs()
    tx, ty, tlog = (torch.from_numpy(a) for a in (x, y, log_p))
    tw = torch.tensor(K_WEIGHT, dtype=torch.float64)
    for reduction in ("mean", "sum", "none"):
        ours = mt.NegativeLogLikelihood(class_weight=K_WEIGHT, convention="torch", reduction=reduction)
        torch.testing.assert_close(ours(tlog, ty), torch.nn.NLLLoss(weight=tw, reduction=reduction)(tlog, ty),
                                   rtol=1e-13, atol=1e-15)
        ours = mt.SparseCategoricalCrossEntropy(from_logits=True, convention="torch", reduction=reduction)
        torch.testing.assert_close(ours(tx, ty), torch.nn.CrossEntropyLoss(reduction=reduction)(tx, ty),
                                   rtol=1e-13, atol=1e-15)
