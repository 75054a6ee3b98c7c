"""Margin losses (PyTorch's soft / multi-class / multi-label margins and hinge embedding, optax's
perceptron and sparsemax losses): worked values, bad input, and the documented differences from
the frameworks' own."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from tests.test_classification import arrays, labels, value

SCORES = [[0.1, 0.2, 0.4, 0.8]]  # one sample, four classes


# --- worked examples ------------------------------------------------------------------------
def test_binary_margins_by_hand(backend):
    y, x = arrays(backend, [1.0, -1.0, 1.0, -1.0], [0.0, 0.0, math.log(3.0), math.log(3.0)])
    # log(1 + e^{−y·x}): ln 2 at 0; ln(1 + 1/3) and ln(1 + 3) at ±ln 3
    np.testing.assert_allclose(value(backend, ml.soft_margin(y, x, reduction="none")),
                               [math.log(2), math.log(2), math.log(4 / 3), math.log(4)], rtol=1e-15)
    y, x = arrays(backend, [1.0, -1.0, -1.0], [0.3, -2.0, 0.3])
    # x for y = 1; max(0, 1 − x) for y = −1: 1 − (−2) = 3, 1 − 0.3 = 0.7; margin 0.2: 2.2, 0
    np.testing.assert_allclose(value(backend, ml.hinge_embedding(y, x, reduction="none")), [0.3, 3.0, 0.7], rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.hinge_embedding(y, x, margin=0.2, reduction="none")), [0.3, 2.2, 0.0],
                               rtol=1e-15)
    y, x = arrays(backend, [1.0, -1.0, 1.0], [2.0, 2.0, -0.5])
    np.testing.assert_allclose(value(backend, ml.perceptron(y, x, reduction="none")), [0.0, 2.0, 0.5])


def test_binary_sparsemax_by_hand(backend):
    # s = x for y = 0, −x for y = 1: 0 below −1, (s + 1)²/4 inside, s above 1
    y, x = arrays(backend, [1.0, 0.0, 1.0, 0.0, 0.0], [3.0, 0.0, 0.0, -0.5, 2.0])
    np.testing.assert_allclose(value(backend, ml.sparsemax(y, x, reduction="none")), [0.0, 0.25, 0.25, 0.0625, 2.0])


def test_multiclass_sparsemax_by_hand(backend):
    # z = (1, ½, −1): sorted sums 1, 1.5, 0.5; 1 + k·z_(k) > Σ for k = 1, 2 only → τ = (1.5 − 1)/2 = ¼,
    # p = (¾, ¼, 0). Label 1: −½ + ½[(1 − 1/16) + (¼ − 1/16)] + ½ = 9/16; label 0: −1 + 9/16 + ½ = 1/16.
    # z = (2, 0, 0): p is label 0's one-hot, loss 0; label 2: −0 + ½(4 − 1) + ½ = 2.
    z = arrays(backend, [[1.0, 0.5, -1.0], [1.0, 0.5, -1.0], [2.0, 0.0, 0.0], [2.0, 0.0, 0.0]])[0]
    y = labels(backend, [1, 0, 0, 2])
    np.testing.assert_allclose(value(backend, ml.multiclass_sparsemax(y, z, reduction="none")),
                               [9 / 16, 1 / 16, 0.0, 2.0], rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(value(backend, backend.xp.sparsemax(z)), [[0.75, 0.25, 0]] * 2 + [[1, 0, 0]] * 2)
    # a score shift changes neither: (1e4 + z)
    z = arrays(backend, [[1e4 + 1.0, 1e4 + 0.5, 1e4 - 1.0]])[0]
    np.testing.assert_allclose(value(backend, ml.multiclass_sparsemax(labels(backend, [1]), z)), 9 / 16, rtol=1e-12)


def test_multiclass_sparsemax_gradient_is_p_minus_one_hot(backend):
    if backend.value_and_grad is None:
        pytest.skip("numpy has no autodiff")
    z = arrays(backend, [[1.0, 0.5, -1.0], [3e4, -2.0, 0.25]])[0]
    y = labels(backend, [1, 2])
    _, (g,) = backend.value_and_grad(lambda a: ml.multiclass_sparsemax(y, a, reduction="sum"), z)
    np.testing.assert_allclose(value(backend, g), [[0.75, -0.75, 0.0], [1.0, 0.0, -1.0]], atol=1e-15)


def test_multiclass_margins_by_hand(backend):
    x = arrays(backend, SCORES * 2)[0]
    y = labels(backend, [3, 0])
    # label 3: max(0, 1 − 0.8 + x_i) over i = 0, 1, 2 is 0.3, 0.4, 0.6 → 1.3 / 4; label 0: 1.1, 1.3, 1.7 → 4.1 / 4
    np.testing.assert_allclose(value(backend, ml.multi_margin(y, x, reduction="none")), [0.325, 1.025], rtol=1e-15)
    # p = 2: (0.09 + 0.16 + 0.36) / 4; class weights scale the row by its label's weight (4, then 1)
    np.testing.assert_allclose(value(backend, ml.multi_margin(y, x, p=2, reduction="none")),
                               [0.1525, (1.21 + 1.69 + 2.89) / 4], rtol=1e-14)
    w = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_allclose(value(backend, ml.multi_margin(y, x, p=2, class_weight=w, reduction="none")),
                               [0.61, (1.21 + 1.69 + 2.89) / 4], rtol=1e-14)
    # a negative margin: label 3 beats every class by more than ½
    np.testing.assert_allclose(value(backend, ml.multi_margin(y, x, margin=-0.35, reduction="none"))[0], 0.0)
    # the perceptron: max − the label's score
    np.testing.assert_allclose(value(backend, ml.multiclass_perceptron(y, x, reduction="none")), [0.0, 0.7])


def test_multilabel_margin_by_hand(backend):
    x = arrays(backend, SCORES * 5)[0]
    y = labels(backend, [[3, 0, -1, 1], [3, 3, -1, 1], [3, -1, 2, -1], [-1, 0, 1, 2], [0, 1, 2, 3]])
    # [3, 0]: unlisted 1, 2; j = 3: 0.4 + 0.6, j = 0: 1.1 + 1.3 → 3.4 / 4.
    # [3, 3]: unlisted 0, 1, 2; 0.3 + 0.4 + 0.6 = 1.3, twice → 2.6 / 4.
    # [3] (the 2 after −1 is ignored): 1.3 / 4. Nothing listed, or everything: 0.
    np.testing.assert_allclose(value(backend, ml.multilabel_margin(y, x, reduction="none")),
                               [0.85, 0.65, 0.325, 0.0, 0.0], rtol=1e-15)


def test_multilabel_soft_margin_by_hand(backend):
    y, x = arrays(backend, [[1.0, 0.0, 1.0]], [[0.3, -2.0, 0.3]])

    def softplus(t):
        return math.log1p(math.exp(t))

    # −y log σ(x) − (1 − y) log(1 − σ(x)) = softplus(−x) for y = 1, softplus(x) for y = 0; mean over 3 classes
    terms = [softplus(-0.3), softplus(-2.0), softplus(-0.3)]
    np.testing.assert_allclose(value(backend, ml.multilabel_soft_margin(y, x)), sum(terms) / 3, rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.multilabel_soft_margin(y, x, class_weight=[1.0, 2.0, 3.0])),
                               (terms[0] + 2 * terms[1] + 3 * terms[2]) / 3, rtol=1e-15)
    # soft labels: y = ½ at x = 0 costs ln 2
    y, x = arrays(backend, [[0.5]], [[0.0]])
    np.testing.assert_allclose(value(backend, ml.multilabel_soft_margin(y, x)), math.log(2), rtol=1e-15)


def test_soft_margin_is_finite_where_the_naive_form_overflows(backend):
    y, x = arrays(backend, [1.0, -1.0], [-1e4, 1e4], dtype="float32")
    np.testing.assert_allclose(value(backend, ml.soft_margin(y, x, reduction="none")), [1e4, 1e4])


# --- bad input -------------------------------------------------------------------------------
def test_labels_outside_their_set_raise_in_eager_mode(backend):
    b = backend.xp.backend
    y, x = arrays(backend, [1.0, 0.0, -1.0], [0.5, 0.5, 0.5])
    for fn in (ml.soft_margin, ml.hinge_embedding, ml.perceptron):
        with pytest.raises(ValueError, match=rf"`y_true` must be a label in \{{-1, 1\}}; 1 value\(s\) are not \({b}\)"):
            fn(y, x)
    y = arrays(backend, [1.0, 0.0, -1.0])[0]
    with pytest.raises(ValueError, match=rf"`y_true` must be a label in \{{0, 1\}}; 1 value\(s\) are not \({b}\)"):
        ml.sparsemax(y, x)
    with pytest.raises(ValueError, match=rf"`y_true` must be in \[0, 1\]; 1 value\(s\) are not \({b}\)"):
        ml.multilabel_soft_margin(*arrays(backend, [[1.0, 0.0, -1.0]], [[0.5, 0.5, 0.5]]))


@pytest.mark.parametrize("bad", [4, -1])
def test_class_labels_out_of_range_raise_in_eager_mode(backend, bad):
    b = backend.xp.backend
    x, y = arrays(backend, SCORES * 2)[0], labels(backend, [0, bad])
    for fn in (ml.multi_margin, ml.multiclass_perceptron, ml.multiclass_sparsemax):
        with pytest.raises(ValueError, match=rf"`y_true` must be a class label in \[0, 4\); 1 value\(s\) are not "
                                             rf"\({b}\)"):
            fn(y, x)


def test_label_lists_out_of_range_raise_in_eager_mode(backend):
    b = backend.xp.backend
    x = arrays(backend, SCORES)[0]
    for bad in ([[3, -2, -1, -1]], [[3, -1, 4, 0]]):  # also after the list's end, as PyTorch
        with pytest.raises(ValueError, match=rf"`y_true` must be a class index in \[0, 4\) or -1 \(which ends the "
                                             rf"row's list\); 1 value\(s\) are not \({b}\)"):
            ml.multilabel_margin(labels(backend, bad), x)


def test_shapes_and_parameters_are_checked(backend):
    b = backend.xp.backend
    x = arrays(backend, SCORES * 2)[0]
    with pytest.raises(ValueError, match=rf"`y_true` \(integer labels\) must have `y_pred`'s shape without its last "
                                         rf"\(class\) axis: expected \(2,\), got \(2, 1\) for y_pred \(2, 4\) \({b}\)"):
        ml.multi_margin(labels(backend, [[0], [1]]), x)
    with pytest.raises(ValueError, match=rf"`class_weight` must have shape \(4,\).*got \(3,\) \({b}\)"):
        ml.multi_margin(labels(backend, [0, 1]), x, class_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"`y_true` and `y_pred` must have the same shape"):
        ml.multilabel_margin(labels(backend, [[0, -1, 0]] * 2), x)
    with pytest.raises(ValueError, match=r"`y_true` and `y_pred` must have the same shape"):
        ml.multilabel_soft_margin(*arrays(backend, [[1.0, 0.0]] * 2), x)
    with pytest.raises(ValueError, match=rf"`y_pred` needs classes on its last axis; got shape \(\) \({b}\)"):
        ml.multiclass_perceptron(labels(backend, 0), arrays(backend, 1.0)[0])
    with pytest.raises(ValueError, match=r"`p` must be one of 1, 2; got 3 \(int\)"):
        ml.multi_margin(labels(backend, [0, 1]), x, p=3)
    with pytest.raises(ValueError, match=r"`margin` must be a finite number; got inf"):
        ml.hinge_embedding(*arrays(backend, [1.0], [0.5]), margin=math.inf)
    with pytest.raises(ValueError, match=r"`y_true` and `y_pred` must have the same shape"):
        ml.soft_margin(*arrays(backend, [[1.0], [-1.0]], [0.5, 0.5]))


def test_bad_labels_under_jit_give_nan_never_a_number():
    """Under jax.jit labels cannot be read: the items they reach are NaN (PyTorch would raise;
    optax silently reads a clamped, wrapped or zero score)."""
    jb = load_backend("jax")
    import jax

    x = arrays(jb, SCORES * 2)[0]
    for fn in (ml.multi_margin, ml.multiclass_perceptron, ml.multiclass_sparsemax):
        out = value(jb, jax.jit(lambda y, x, fn=fn: fn(y, x, reduction="none"))(labels(jb, [3, 4]), x))
        assert np.isfinite(out[0]) and np.isnan(out[1]), fn.__name__
    out = value(jb, jax.jit(lambda y, x: ml.multilabel_margin(y, x, reduction="none"))(
        labels(jb, [[3, -1, 0, 0], [3, -1, 7, 0]]), x))
    assert np.isfinite(out[0]) and np.isnan(out[1])
    y, s = arrays(jb, [1.0, 0.0, 2.0], [0.5, 0.5, 0.5])
    for fn in (ml.soft_margin, ml.hinge_embedding, ml.perceptron):
        out = value(jb, jax.jit(lambda y, x, fn=fn: fn(y, x, reduction="none"))(y, s))
        assert np.isfinite(out[0]) and np.all(np.isnan(out[1:])), fn.__name__


# --- the frameworks' documented differences ---------------------------------------------------
def test_torch_soft_margin_overflows_in_float32_and_reads_any_label():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import torch.nn.functional as F

    x, y = torch.tensor([-100.0]), torch.tensor([1.0])
    assert math.isinf(F.soft_margin_loss(x, y).item())
    assert float(ml.soft_margin(y, x)) == pytest.approx(100.0)
    assert F.soft_margin_loss(torch.tensor([5.0]), torch.tensor([0.0])).item() == pytest.approx(math.log(2))


def test_torch_hinge_embedding_gives_a_zero_label_both_terms():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import torch.nn.functional as F

    x = torch.tensor([0.25])
    assert F.hinge_embedding_loss(x, torch.tensor([0.0])).item() == pytest.approx(0.25 + 0.75)


def test_torch_multi_margin_weights_outside_the_power_and_means_over_samples():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import torch.nn.functional as F

    x, y, w = torch.tensor(SCORES * 2), torch.tensor([3, 0]), torch.tensor([1.0, 2.0, 3.0, 4.0])
    h = torch.tensor([0.3, 0.4, 0.6])  # label 3's shortfalls
    got = F.multi_margin_loss(x[:1], y[:1], p=2, weight=w, reduction="none").item()
    assert got == pytest.approx(4 * float((h**2).sum()) / 4)  # w·h², not (w·h)² as its docs write
    assert got != pytest.approx(float(((4 * h) ** 2).sum()) / 4)
    theirs = F.multi_margin_loss(x, y, weight=w).item()  # Σ w_y ℓ / N, not / Σ w_y
    assert theirs == pytest.approx((4 * 0.325 + 1 * 1.025) / 2)
    assert float(ml.multi_margin(y, x, class_weight=w)) == pytest.approx(theirs)


def test_torch_multilabel_margin_counts_a_class_listed_twice_twice():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    import torch.nn.functional as F

    x = torch.tensor(SCORES)
    for target, expected in (([[3, 0, -1, 1]], 0.85), ([[3, 3, -1, 1]], 0.65)):
        t = torch.tensor(target)
        assert F.multilabel_margin_loss(x, t).item() == pytest.approx(expected)
        assert float(ml.multilabel_margin(t, x)) == pytest.approx(expected)
    with pytest.raises(RuntimeError, match="out of range"):  # after the list's end too
        F.multilabel_margin_loss(x, torch.tensor([[3, -1, 7, 0]]))


def test_optax_reads_labels_as_given():
    jb = load_backend("jax")
    import jax.numpy as jnp
    import optax

    # perceptron: a 0 label gives 0 whatever the score; sparsemax: any nonzero label is 1
    assert np.all(np.asarray(optax.losses.perceptron_loss(jnp.array([0.5, -3.0]), jnp.array([0.0, 0.0]))) == 0)
    assert float(optax.losses.sparsemax_loss(jnp.array(0.5), jnp.array(2))) == pytest.approx(0.0625)
    # multi-class: a label out of range reads score 0 (perceptron) or the last class (sparsemax)
    z = jnp.array([[1.0, 0.5, -1.0]])
    assert float(optax.losses.multiclass_perceptron_loss(z, jnp.array([3]))[0]) == pytest.approx(1.0)
    last = float(optax.losses.multiclass_sparsemax_loss(z, jnp.array([2]))[0])
    for bad in (3, -1):
        assert float(optax.losses.multiclass_sparsemax_loss(z, jnp.array([bad]))[0]) == pytest.approx(last)
    with pytest.raises(ValueError, match="class label in"):
        ml.multiclass_sparsemax(labels(jb, [3]), z)


def test_keras_binary_cross_entropy_from_logits_is_multilabel_soft_margin():
    keras = pytest.importorskip("keras", reason="keras is not installed")

    y, x = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), np.array([[0.3, -2.0, 0.3], [4.0, 1.0, -1.0]])
    theirs = keras.losses.BinaryCrossentropy(from_logits=True, reduction=None, dtype="float64")(y, x)
    np.testing.assert_allclose(np.asarray(theirs), ml.multilabel_soft_margin(y, x, reduction="none"), rtol=1e-12)
