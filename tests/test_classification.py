"""Classification and margin losses: worked examples, the extremes, identities, bad input, and
the documented differences from torch, Keras and optax."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend


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
    np.testing.assert_allclose(value(backend, ml.categorical_cross_entropy(t, x, from_logits=True, reduction="none")), rows, rtol=1e-14)
    y = labels(backend, [0, 2, 1])
    np.testing.assert_allclose(value(backend, ml.sparse_categorical_cross_entropy(y, x, from_logits=True, reduction="none")), rows, rtol=1e-14)
    # hinge: label 0 is the negative class; margin exactly 1 gives 0
    t, s = arrays(backend, [1, -1, 0, 1], [0.3, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(value(backend, ml.hinge(t, s, reduction="none")), [0.7, 1.5, 1.5, 0.0], rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.squared_hinge(t, s, reduction="none")), [0.49, 2.25, 2.25, 0.0], rtol=1e-15)
    # Crammer–Singer: 1 + max wrong − true = 1 + (−0.5) − 2 < 0 → 0; 1 + 0.3 − 0.1 = 1.2
    t, s = arrays(backend, [[1, 0, 0], [0, 1, 0]], [[2.0, -0.5, -1.0], [0.3, 0.1, -2.0]])
    np.testing.assert_allclose(value(backend, ml.categorical_hinge(t, s, reduction="none")), [0.0, 1.2], rtol=1e-15)
    # KL of p from q = Σ p log(p/q)
    p, q = arrays(backend, [[0.5, 0.5, 0.0]], [[0.25, 0.25, 0.5]])
    np.testing.assert_allclose(value(backend, ml.kl_divergence(p, q)), math.log(2.0), rtol=1e-15)


# --- the extremes ---------------------------------------------------------------------------
TINY = {"float32": 2.0**-126, "float64": 2.0**-1022}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_probabilities_at_exactly_zero_and_one(backend, dtype):
    """p = 0 with y = 1 (and p = 1 with y = 0) cost −log(tiny): finite, documented."""
    t, p = arrays(backend, [1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], dtype=dtype)
    out = value(backend, ml.binary_cross_entropy(t, p, reduction="none"))
    big = -math.log(TINY[dtype])  # 87.34 in float32, 708.40 in float64
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
    assert float(value(tb, ml.binary_cross_entropy(*arrays(tb, [1.0], [0.0], dtype="float32")))) == pytest.approx(87.3365, rel=1e-6)


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
        sparse = ml.sparse_categorical_cross_entropy(labels(backend, y), xs, from_logits=True, label_smoothing=smoothing, reduction="none")
        dense = ml.categorical_cross_entropy(*arrays(backend, np.eye(5)[y]), xs, from_logits=True, label_smoothing=smoothing, reduction="none")
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


# --- documented differences from the natives ------------------------------------------------
def test_keras_categorical_hinge_lets_the_true_class_into_the_max():
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    t, s = arrays(kb, [[1, 0, 0], [1, 0, 0]], [[0.5, -0.2, -0.4], [0.5, 0.3, -0.4]])
    keras_out = value(kb, keras.losses.CategoricalHinge(reduction=None, dtype="float64")(t, s))
    ours = value(kb, ml.categorical_hinge(t, s, reduction="none"))
    np.testing.assert_allclose(ours, [0.3, 0.8], rtol=1e-15)  # 1 + max wrong − true
    np.testing.assert_allclose(keras_out, [0.5, 0.8], rtol=1e-15)  # row 1: the zeroed true class (0) wins the max


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


def test_kl_divergence_is_pytorch_batchmean_not_mean():
    tb = load_backend("torch")
    import torch

    rng = np.random.default_rng(6)
    p = rng.dirichlet(np.ones(5), 4)
    x = rng.normal(0, 1, (4, 5))
    ps, xs = arrays(tb, p, x)
    ours = value(tb, ml.kl_divergence(ps, xs, from_logits=True))
    log_q = torch.log_softmax(xs, dim=-1)
    batchmean = float(torch.nn.functional.kl_div(log_q, ps, reduction="batchmean"))
    with pytest.warns(UserWarning, match="batchmean"):  # torch itself warns about its 'mean'
        mean = float(torch.nn.functional.kl_div(log_q, ps, reduction="mean"))
    np.testing.assert_allclose(ours, batchmean, rtol=1e-14)
    np.testing.assert_allclose(mean * 5, batchmean, rtol=1e-14)  # torch's 'mean' divides by N·C
    # PyTorch's log-probability input works as logits
    np.testing.assert_allclose(value(tb, ml.kl_divergence(ps, log_q, from_logits=True)), batchmean, rtol=1e-13)


def test_optax_kl_divergence_takes_log_predictions():
    jb = load_backend("jax")
    optax = pytest.importorskip("optax")
    import jax

    rng = np.random.default_rng(7)
    p, x = arrays(jb, rng.dirichlet(np.ones(4), 3), rng.normal(0, 1, (3, 4)))
    np.testing.assert_allclose(
        value(jb, ml.kl_divergence(p, x, from_logits=True, reduction="none")),
        np.asarray(optax.losses.kl_divergence(jax.nn.log_softmax(x), p)),
        rtol=1e-13,
    )


def test_keras_kl_clips_zero_targets():
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    p, q = arrays(kb, [[0.5, 0.5, 0.0]], [[0.25, 0.25, 0.5]])
    keras_out = float(keras.losses.KLDivergence(dtype="float64")(p, q))
    ours = float(value(kb, ml.kl_divergence(p, q)))
    assert ours == pytest.approx(math.log(2.0), rel=1e-15)
    np.testing.assert_allclose(keras_out - ours, 1e-7 * math.log(1e-7 / 0.5), rtol=1e-6)


def test_keras_hinge_converts_zero_labels_only_when_the_whole_batch_is_binary():
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    s = arrays(kb, [[0.5, 0.5]])[0]
    all_binary = arrays(kb, [[0.0, 1.0]])[0]
    mixed = arrays(kb, [[0.0, -1.0]])[0]
    np.testing.assert_allclose(float(keras.losses.hinge(all_binary, s)[0]), float(value(kb, ml.hinge(all_binary, s))))
    assert float(keras.losses.hinge(mixed, s)[0]) != pytest.approx(float(value(kb, ml.hinge(mixed, s))))
