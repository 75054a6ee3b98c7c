"""listwise_softmax: worked values, masks and item weights, accuracy near 0, bad input, and
optax's ranking_softmax_loss under its native's mapping."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from multiloss.natives import of as natives_of
from tests.test_classification import arrays, value
from tests.test_embedding import grads


def test_hand_computed_values(backend):
    # optax's docstring: scores (2, 1, 3), item 0 relevant: −log(e²/(e + e² + e³)) = log(1 + e⁻¹ + e)
    y, s = arrays(backend, [1.0, 0.0, 0.0], [2.0, 1.0, 3.0])
    np.testing.assert_allclose(value(backend, ml.listwise_softmax(y, s)), math.log(1 + math.exp(-1) + math.e),
                               rtol=1e-15)
    # graded labels count as many times; equal scores: each −log p = log 3; no relevant item: 0
    y, s = arrays(backend, [[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]], [[0.5, 0.5, 0.5], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(value(backend, ml.listwise_softmax(y, s, reduction="none")), [3 * math.log(3), 0.0],
                               rtol=1e-15)


def test_labels_are_not_normalized_per_list(backend):
    """optax's convention (TF-Ranking's SoftmaxLoss divides by Σy): doubling a list's labels
    doubles its loss."""
    y, s = arrays(backend, [[1.0, 0.0, 1.0]], [[0.3, -1.0, 2.0]])
    one = value(backend, ml.listwise_softmax(y, s, reduction="none"))
    two = value(backend, ml.listwise_softmax(y * 2.0, s, reduction="none"))
    np.testing.assert_allclose(two, 2 * one, rtol=1e-15)


def test_where_drops_items_and_empty_lists(backend):
    # optax's docstring: the third item of the first list is padding; mean 0.497
    y, s, where = arrays(backend, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], [[2.0, 1.0, 0.0], [1.0, 0.5, 1.5]],
                         [[1, 1, 0], [1, 1, 1]])
    per_list = [math.log(1 + math.exp(-1)), math.log(math.exp(-0.5) + math.exp(-1) + 1)]
    np.testing.assert_allclose(value(backend, ml.listwise_softmax(y, s, where=where, reduction="none")), per_list,
                               rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.listwise_softmax(y, s, where=where)), np.mean(per_list), rtol=1e-15)
    # a padded item's values are not read, NaN or not; a list with no item gives 0 and leaves the mean
    y, s, where = arrays(backend, [[1.0, 0.0, math.nan], [1.0, 0.0, 0.0]], [[2.0, 1.0, math.nan], [0.0, 0.0, 0.0]],
                         [[1, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(value(backend, ml.listwise_softmax(y, s, where=where, reduction="none")),
                               [per_list[0], 0.0], rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.listwise_softmax(y, s, where=where)), per_list[0], rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.listwise_softmax(y, s, where=where, reduction="sum")), per_list[0],
                               rtol=1e-15)
    g_y, g_s = grads(backend, lambda a, b: ml.listwise_softmax(a, b, where=where), y, s)
    np.testing.assert_array_equal(g_s[1], 0.0)  # the empty list: no gradient, and no NaN
    assert g_s[0, 2] == 0.0 and g_y[0, 2] == 0.0
    p = 1 / (1 + math.exp(-1))  # softmax of (2, 1): ∂/∂s = p − y
    np.testing.assert_allclose(g_s[0, :2], [p - 1, 1 - p], rtol=1e-15)


def test_a_list_of_all_padding_everywhere_gives_zero(backend):
    y, s, where = arrays(backend, [[1.0, 2.0]], [[1.0, 0.0]], [[0, 0]])
    assert value(backend, ml.listwise_softmax(y, s, where=where)) == 0.0


def test_weights_multiply_the_labels(backend):
    y, s, w = arrays(backend, [[1.0, 0.0, 1.0]], [[2.0, 1.0, 3.0]], [[2.0, 5.0, 0.5]])
    z = math.log(math.exp(2) + math.exp(1) + math.exp(3))
    expected = 2 * (z - 2) + 0.5 * (z - 3)
    np.testing.assert_allclose(value(backend, ml.listwise_softmax(y, s, weights=w)), expected, rtol=1e-15)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_accurate_near_a_perfect_ranking(backend, dtype):
    """−log p for the top item is log1p of the others' share, not log(1 + r) rounded: at
    scores (30, 0) it is e⁻³⁰ ≈ 9.4e-14, which log Σe^{s − m} gives as 0 in float32."""
    y, s = arrays(backend, [[1.0, 0.0]], [[30.0, 0.0]], dtype=dtype)
    np.testing.assert_allclose(value(backend, ml.listwise_softmax(y, s)), math.log1p(math.exp(-30.0)),
                               rtol=4 * np.finfo(dtype).eps)
    # and tied top scores: −log ½
    y, s = arrays(backend, [[1.0, 0.0, 0.0]], [[3.0, 3.0, -50.0]], dtype=dtype)
    np.testing.assert_allclose(value(backend, ml.listwise_softmax(y, s)), math.log(2.0), rtol=4 * np.finfo(dtype).eps)


def test_nan_in_nan_out(backend):
    y, s = arrays(backend, [[1.0, 0.0], [1.0, 0.0]], [[math.nan, 0.0], [1.0, 0.0]])
    out = value(backend, ml.listwise_softmax(y, s, reduction="none"))
    assert math.isnan(out[0]) and np.isfinite(out[1])
    y, s = arrays(backend, [[math.nan, 0.0]], [[1.0, 0.0]])
    assert math.isnan(value(backend, ml.listwise_softmax(y, s)))


def test_bad_input(backend):
    b = backend.xp.backend
    y, s = arrays(backend, [[1.0, -1.0]], [[0.5, 0.2]])
    with pytest.raises(ValueError, match=rf"`y_true` must be a relevance label ≥ 0; 1 value\(s\) are not \({b}\)"):
        ml.listwise_softmax(y, s)
    y, s = arrays(backend, [[1.0, 0.0]], [[0.5], [0.2]])
    with pytest.raises(ValueError, match=r"\(1, 2\) and \(2, 1\)"):
        ml.listwise_softmax(y, s)
    y, s, where = arrays(backend, [[1.0, 0.0]], [[0.5, 0.2]], [1.0, 1.0])
    with pytest.raises(ValueError, match=rf"`where`.*\(1, 2\) and \(2,\).*{b}"):
        ml.listwise_softmax(y, s, where=where)
    with pytest.raises(ValueError, match=rf"`weights` must be finite and ≥ 0 \(a weight\); 1 value\(s\) are not "
                                         rf"\({b}\)"):
        ml.listwise_softmax(y, s, weights=arrays(backend, [[1.0, -2.0]])[0])
    with pytest.raises(ValueError, match=r"`where` must be None or an array"):
        ml.listwise_softmax(y, s, where="all")
    with pytest.raises(ValueError, match=rf"`y_pred` needs a list axis \(the last\); got a 0-D array \({b}\)"):
        ml.listwise_softmax(*arrays(backend, 1.0, 0.5))


# --- optax's ranking_softmax_loss, through its native's mapping -----------------------------
def test_optax_native_with_where_and_weights():
    jb = load_backend("jax")
    pytest.importorskip("optax")
    import optax

    (native,) = natives_of(ml.listwise_softmax).natives
    assert native.exact and native.api == "optax.losses.ranking_softmax_loss"
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, (5, 3, 7)).astype(float)
    scores = rng.normal(size=(5, 3, 7)) * 3
    where = rng.uniform(size=(5, 3, 7)) < 0.7
    where[0, 1] = False  # a list of padding only
    weights = rng.uniform(0, 2, (5, 3, 7))
    y, s = arrays(jb, labels, scores)
    where, weights = jb.from_numpy(where), jb.from_numpy(weights, "float64")
    for params in ({"where": None, "weights": None}, {"where": where, "weights": None},
                   {"where": where, "weights": weights}, {"where": None, "weights": weights}):
        ours = value(jb, ml.listwise_softmax(y, s, **{k: v for k, v in params.items() if v is not None},
                                             reduction="none"))
        theirs = native.values({"y_true": y, "y_pred": s}, params, "float64")
        np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-15)
        # their mean leaves out the lists of padding only, as ours does
        mean = optax.losses.ranking_softmax_loss(s, y, where=None if params["where"] is None else where,
                                                 weights=params["weights"])
        np.testing.assert_allclose(value(jb, ml.listwise_softmax(y, s, **{k: v for k, v in params.items()
                                                                            if v is not None})),
                                   float(mean), rtol=1e-14)
    np.testing.assert_allclose(value(jb, ml.listwise_softmax(y, s, convention="optax")),
                               float(optax.losses.ranking_softmax_loss(s, y)), rtol=1e-14)


def test_where_under_jax_jit():
    jb = load_backend("jax")
    import jax

    rng = np.random.default_rng(1)
    y, s = arrays(jb, rng.integers(0, 3, (4, 6)), rng.normal(size=(4, 6)))
    where = jb.from_numpy(np.array([[1, 1, 0, 1, 0, 1]] * 3 + [[0] * 6], np.float64), "float64")

    def f(a, b, w):
        return ml.listwise_softmax(a, b, where=w)

    np.testing.assert_allclose(value(jb, jax.jit(f)(y, s, where)), value(jb, f(y, s, where)), rtol=1e-15)
    g = jax.grad(f, argnums=1)(y, s, where)
    assert np.all(np.isfinite(value(jb, g)))
