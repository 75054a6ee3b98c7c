"""Embedding, similarity and ranking losses: worked examples, zero distances and zero vectors,
in-batch mining, bad input, and the documented differences from torch, Keras and optax."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from multiloss.testing.numerics import EPS, ULPS
from tests.test_classification import arrays, labels, value


def grads(backend, fn, *xs):
    """The gradients of fn at xs, as NumPy arrays (skips NumPy, which has no autodiff)."""
    if backend.value_and_grad is None:
        pytest.skip("numpy has no autodiff")
    _, gs = backend.value_and_grad(fn, *xs)
    return [value(backend, g) for g in gs]


# --- worked examples ------------------------------------------------------------------------
def test_hand_computed_values(backend):
    # contrastive, with the ½: similar pair at distance 5 → ½·25; dissimilar at 5 with margin 6 → ½·1²
    y, a, b = arrays(backend, [1.0, 0.0, 0.0], [[0, 0], [0, 0], [0, 0]], [[3, 4], [3, 4], [0.6, 0.8]])
    np.testing.assert_allclose(value(backend, ml.contrastive(y, a, b, margin=6.0, reduction="none")), [12.5, 0.5, 12.5])
    # triplet: d(a, p) = 1, d(a, n) = 5 (eps = 0) → max(1 − 5 + 1, 0), and 1 − 1 + 1 = 1
    a, p, n = arrays(backend, [[0, 0], [0, 0]], [[1, 0], [0, 1]], [[3, 4], [1, 0]])
    np.testing.assert_allclose(value(backend, ml.triplet_margin(a, p, n, eps=0.0, reduction="none")), [0.0, 1.0])
    np.testing.assert_allclose(value(backend, ml.triplet_margin(a, p, n, eps=0.0, p=1.0, reduction="none")), [0.0, 1.0])
    # margin ranking, worked by hand: x1 = [.5, .2], x2 = [.3, .4], y = 1 → 0.1; margin 1 → 1.0
    y, x1, x2 = arrays(backend, [1.0, 1.0], [0.5, 0.2], [0.3, 0.4])
    np.testing.assert_allclose(value(backend, ml.margin_ranking(y, x1, x2)), 0.1, rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.margin_ranking(y, x1, x2, margin=1.0)), 1.0, rtol=1e-15)
    # cosine: orthogonal → 0, parallel → ∓1
    t, q = arrays(backend, [[1, 0], [2, 2], [1, 1]], [[0, 3], [1, 1], [-3, -3]])
    np.testing.assert_allclose(value(backend, ml.cosine_similarity(t, q, reduction="none")), [0, -1, 1], atol=1e-15)
    np.testing.assert_allclose(value(backend, ml.cosine_distance(t, q, reduction="none")), [1, 0, 2], atol=1e-15)
    y = backend.from_numpy(np.array([1.0, 1.0, -1.0]))
    np.testing.assert_allclose(
        value(backend, ml.cosine_embedding(y, t, q, margin=-0.5, reduction="none")), [1.0, 0.0, 0.0], atol=1e-15
    )


@pytest.mark.parametrize("temperature, expected", [(0.5, 0.2964603288808848), (0.07, 1.148893713426714e-05)])
def test_nt_xent_worked_example(backend, temperature, expected):
    # NT-Xent of two pairs of views [[1,0],[0.9,0.1]] and [[0,1],[0.1,0.9]]; expected from mpmath at
    # 40 digits. (The 1.14440e-5 once quoted for τ = 0.07 is optax in float32: the loss is
    # lse − s⁺ with both near 1/τ, so float32 carries an absolute error of a few ulps of 14.)
    z1, z2 = arrays(backend, [[1, 0], [0, 1]], [[0.9, 0.1], [0.1, 0.9]])
    np.testing.assert_allclose(value(backend, ml.nt_xent(z1, z2, temperature=temperature)), expected, rtol=1e-9)
    z1, z2 = arrays(backend, [[1, 0], [0, 1]], [[0.9, 0.1], [0.1, 0.9]], dtype="float32")
    np.testing.assert_allclose(value(backend, ml.nt_xent(z1, z2, temperature=temperature)), expected,
                               atol=8 * 2.0**-23 / temperature)


def test_nt_xent_is_simclr_cross_entropy_and_symmetric(backend):
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    u = np.concatenate([z1, z2]) / np.linalg.norm(np.concatenate([z1, z2]), axis=1, keepdims=True)
    s = u @ u.T / 0.3
    np.fill_diagonal(s, -np.inf)
    lse = np.log(np.exp(s).sum(axis=1))
    per_view = lse - s[np.arange(10), (np.arange(10) + 5) % 10]
    a, b = arrays(backend, z1, z2)
    ours = value(backend, ml.nt_xent(a, b, temperature=0.3, reduction="none"))
    np.testing.assert_allclose(ours, (per_view[:5] + per_view[5:]) / 2, rtol=1e-13)
    np.testing.assert_allclose(value(backend, ml.nt_xent(b, a, temperature=0.3, reduction="none")), ours, rtol=1e-14)


# --- zero distances and zero vectors --------------------------------------------------------
def test_zero_distance_gives_finite_values_and_gradients(backend):
    """The naive sqrt(Σd²) has an infinite derivative at 0: NaN gradients for identical pairs."""
    x = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]
    y, a, b = arrays(backend, [1.0, 0.0], x, x)
    assert value(backend, ml.contrastive(y, a, b)) == pytest.approx(0.25)  # ½·(1 − 0)² for the dissimilar pair
    for g in grads(backend, lambda u, w: ml.contrastive(y, u, w), a, b):
        np.testing.assert_array_equal(g, 0.0)  # the cone's midpoint slope, not NaN
    n = arrays(backend, [[0.5, -1.0, 2.5], [1.5, 0.25, -1.0]])[0]
    assert value(backend, ml.triplet_margin(a, b, n, eps=0.0)) == pytest.approx(0.5)
    ga, gp, gn = grads(backend, lambda u, w, z: ml.triplet_margin(u, w, z, eps=0.0), a, b, n)
    assert np.all(np.isfinite(ga)) and np.all(np.isfinite(gp)) and np.all(np.isfinite(gn))
    np.testing.assert_array_equal(gp, 0.0)
    np.testing.assert_allclose(ga, -gn)  # only the negative distance moves the anchor
    for fn in (ml.cosine_embedding, ml.contrastive):
        labels_ = arrays(backend, [1.0, 1.0] if fn is ml.cosine_embedding else [1.0, 0.0])[0]
        for g in grads(backend, lambda u, w, fn=fn, t=labels_: fn(t, u, w, margin=0.5), a, b):
            assert np.all(np.isfinite(g))


def test_the_naive_norm_does_give_nan_at_zero_distance():
    """A control: the bug the zero-distance handling prevents exists (torch)."""
    torch = pytest.importorskip("torch")
    a = torch.ones(2, 3, requires_grad=True)
    torch.sqrt(((a - a.detach()) ** 2).sum(-1)).sum().backward()
    assert torch.isnan(a.grad).all()


def test_batch_hard_with_coincident_embeddings_has_finite_gradients(backend):
    e = np.array([[0.0, 0.0], [0.0, 0.0], [0.5, 0.0], [3.0, 0.0]])  # anchors 0 and 1 coincide
    lab, (x,) = labels(backend, [0, 0, 1, 1]), arrays(backend, e)
    # anchors 0, 1: hardest positive at 0, nearest negative at 0.5 → 0.5; anchor 2: 2.5 − 0.5 + 1 = 3;
    # anchor 3: 2.5 − 3 + 1 = 0.5
    np.testing.assert_allclose(value(backend, ml.batch_hard_triplet(lab, x, reduction="none")), [0.5, 0.5, 3.0, 0.5])
    (g,) = grads(backend, lambda u: ml.batch_hard_triplet(lab, u), x)
    assert np.all(np.isfinite(g))


def test_zero_vectors_in_cosine_losses_are_finite_and_documented(backend):
    t, q = arrays(backend, [[0.0, 0.0], [1.0, 2.0]], [[1.0, 2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(value(backend, ml.cosine_similarity(t, q, reduction="none")), [0.0, 0.0])
    np.testing.assert_array_equal(value(backend, ml.cosine_distance(t, q, reduction="none")), [1.0, 1.0])
    y = backend.from_numpy(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(value(backend, ml.cosine_embedding(y, t, q, reduction="none")), [1.0, 0.0])
    z1, z2 = arrays(backend, [[0.0, 0.0], [1.0, 2.0]], [[0.0, 0.0], [2.0, 1.0]])
    assert np.isfinite(value(backend, ml.nt_xent(z1, z2)))
    ga, gb = grads(backend, lambda a, b: ml.cosine_similarity(a, b), t, q)
    np.testing.assert_array_equal(ga[0], 0.0)  # the zero vector's own gradient...
    np.testing.assert_array_equal(gb[1], 0.0)
    np.testing.assert_array_equal(gb[0], 0.0)  # ...and its partner's: cos is 0 whatever the partner
    assert np.all(np.isfinite(ga)) and np.all(np.isfinite(gb))
    for g in grads(backend, lambda a, b: ml.cosine_distance(a, b), t, q):
        np.testing.assert_array_equal(g, 0.0)  # 1 − cos: cos's zero gradients at a zero vector
    for g in grads(backend, lambda a, b: ml.nt_xent(a, b), z1, z2):
        assert np.all(np.isfinite(g))


# --- NaN in, NaN out; any magnitude ---------------------------------------------------------
def test_nan_is_never_taken_for_a_zero_distance_or_a_zero_vector(backend):
    """The zero guards test for s == 0, so a NaN falls into the normal branch (PyTorch gives NaN too)."""
    nan = math.nan
    a, p, n = arrays(backend, [[nan, 0.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [2.0, 0.0]])
    out = value(backend, ml.triplet_margin(a, p, n, reduction="none"))
    assert np.isnan(out[0]) and np.isfinite(out[1])
    t, q = arrays(backend, [[nan, 1.0], [0.0, 0.0], [1.0, 2.0]], [[1.0, 2.0], [nan, 1.0], [3.0, 1.0]])
    out = value(backend, ml.cosine_similarity(t, q, reduction="none"))
    assert np.isnan(out[0]) and np.isnan(out[1]) and np.isfinite(out[2])  # row 1: a zero vector, a NaN partner
    y = backend.from_numpy(np.array([1.0, -1.0, 1.0]))
    out = value(backend, ml.cosine_embedding(y, t, q, reduction="none"))
    assert np.isnan(out[0]) and np.isnan(out[1]) and np.isfinite(out[2])
    z1, z2 = arrays(backend, [[nan, 0.0], [1.0, 2.0], [0.0, 0.0]], [[1.0, 0.0], [2.0, 1.0], [1.0, 1.0]])
    assert np.all(np.isnan(value(backend, ml.nt_xent(z1, z2, reduction="none"))))
    e = arrays(backend, [[0.0, 0.0], [1.0, 0.0], [0.0, nan], [3.0, 1.0]])[0]
    out = value(backend, ml.batch_hard_triplet(labels(backend, [0, 0, 1, 1]), e, reduction="none"))
    assert np.all(np.isnan(out))  # each anchor's distance row holds the NaN: whichever argmax/argmin picks


def test_a_nan_label_under_jit_gives_nan_in_cosine_embedding():
    """Eager mode rejects it; under jax.jit, where it cannot, the y = −1 branch is −y·max(cos − m, 0)."""
    jb = load_backend("jax")
    import jax

    y, a, b = arrays(jb, [math.nan, -1.0], [[1.0, 0.0], [1.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]])
    out = value(jb, jax.jit(lambda *x: ml.cosine_embedding(*x, reduction="none"))(y, a, b))
    assert np.isnan(out[0]) and out[1] == pytest.approx(math.sqrt(0.5), rel=1e-15)


@pytest.mark.parametrize("scale", [1e20, 1e-30, 3e38, 2.0**-124])  # every component normal: ≥ 2⁻¹²⁶
def test_cosines_are_exact_at_any_float32_magnitude(backend, scale):
    """Σx² overflows at 1e20 and is 0 at 1e-30 in float32; each vector is scaled by a power of two
    first. A vector of equal components with itself has cosine exactly 1 (its squares round
    alike however they are summed), others to an ulp, and a 45° pair 1/√2, on every backend."""
    x = arrays(backend, scale * np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -0.5], [0.25, 1.0]]), dtype="float32")[0]
    q = arrays(backend, scale * np.array([[1.0, 0.0], [-1.0, 0.0], [0.5, 0.5], [-0.5, 0.5]]), dtype="float32")[0]
    first = x[:2, :]
    np.testing.assert_array_equal(value(backend, ml.cosine_similarity(first, first, reduction="none")), [-1.0, -1.0])
    np.testing.assert_allclose(value(backend, ml.cosine_similarity(x, x, reduction="none")), -1.0, rtol=2.0**-23)
    np.testing.assert_allclose(value(backend, ml.cosine_distance(x, -x, reduction="none")), 2.0, rtol=2.0**-23)
    want = [-math.sqrt(0.5), -math.sqrt(0.5), -0.25 / math.sqrt(1.25 * 0.5), -0.375 / math.sqrt(1.0625 * 0.5)]
    np.testing.assert_allclose(value(backend, ml.cosine_similarity(x, q, reduction="none")), want, rtol=2.0**-22)
    y = backend.from_numpy(np.array([1.0, 1.0, -1.0, -1.0]), "float32")
    np.testing.assert_allclose(value(backend, ml.cosine_embedding(y, x, x, reduction="none")), [0, 0, 1, 1],
                               atol=2.0**-23)
    for g in grads(backend, lambda a, b: ml.cosine_similarity(a, b), x, q):
        assert np.all(np.isfinite(g))  # ~1/scale: subnormal at 3e38, which XLA flushes to 0


def test_nt_xent_with_subnormal_squares_agrees_across_backends(backend):
    """At |z| ≈ 1e-20 float32 squares are subnormal, which XLA (JAX, TensorFlow) flushes to 0 and
    NumPy and PyTorch keep: the loss was 2.17 on the one and 3.73 on the other. NT-Xent is scale
    invariant: it must be the float64 value of the same inputs."""
    rng = np.random.default_rng(5)
    z1, z2 = rng.normal(size=(4, 3)) * 1e-20, rng.normal(size=(4, 3)) * 1e-20
    a, b = arrays(backend, z1, z2, dtype="float32")
    exact = value(backend, ml.nt_xent(*arrays(backend, value(backend, a), value(backend, b))))
    np.testing.assert_allclose(value(backend, ml.nt_xent(a, b)), exact, rtol=1e-5)
    for g in grads(backend, lambda u, w: ml.nt_xent(u, w), a, b):
        assert np.all(np.isfinite(g))


def test_distances_at_1e20_are_finite_where_the_loss_is(backend):
    """In float32 Σd² overflows at 1e20: the distance was inf and inf − inf gave NaN."""
    a, p, n = arrays(backend, [[1e20, 0.0]], [[1e20, 1e19]], [[-1e20, 0.0]], dtype="float32")
    for kwargs in ({}, {"eps_at": "sum"}, {"p": 3.0}, {"distance": "cosine"}):
        np.testing.assert_array_equal(value(backend, ml.triplet_margin(a, p, n, reduction="none", **kwargs)), [0.0])
        for g in grads(backend, lambda u, w, z, kw=kwargs: ml.triplet_margin(z, w, u, **kw), a, p, n):
            assert np.all(np.isfinite(g)), kwargs  # anchor and negative swapped: an active hinge
    far = value(backend, ml.triplet_margin(a, n, p, eps=0.0, reduction="none"))
    np.testing.assert_allclose(far, [2e20 - 1e19 + 1.0], rtol=1e-6)
    y = backend.from_numpy(np.array([0.0]), "float32")
    assert value(backend, ml.contrastive(y, a, n)) == 0.0  # dissimilar, far beyond the margin: 0, not 0·inf
    for g in grads(backend, lambda u, w: ml.contrastive(y, u, w), a, n):
        np.testing.assert_array_equal(g, 0.0)
    e = arrays(backend, [[1e20, 0.0], [1.1e20, 0.0], [-1e20, 1e20], [-1.2e20, 1e20]], dtype="float32")[0]
    out = value(backend, ml.batch_hard_triplet(labels(backend, [0, 0, 1, 1]), e, reduction="none"))
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, 0.0])  # both classes far apart: finite, exactly 0
    (g,) = grads(backend, lambda u: ml.batch_hard_triplet(labels(backend, [0, 1, 0, 1]), u), e)
    assert np.all(np.isfinite(g))


def test_squared_distances_past_the_overflow_keep_finite_gradients(backend):
    """d² = k²·s computed from embeddings scaled by k: autodiff through k·(k·s) forms k², which
    overflows at |d| ≈ 2e19 in float32 where the gradient 2d does not; and an anchor without a
    positive (weight 0) stays 0 rather than 0·inf (found by the magnitude property)."""
    big = 2.0**64
    e = arrays(backend, [[0.0, big], [big, big], [big, big], [0.0, 0.0]], dtype="float32")[0]
    lab = labels(backend, [1, 0, 1, 3])
    out = value(backend, ml.batch_hard_triplet(lab, e, squared=True, margin=7.0, reduction="none"))
    # anchor 0: d² = 2¹²⁸ (past float32's largest) to its positive and its nearest negative: the
    # margin; anchor 2: 2¹²⁸ − 0 + 7 overflows; anchors 1 and 3 have no positive
    np.testing.assert_array_equal(out, [7.0, 0.0, np.inf, 0.0])
    (g,) = grads(backend, lambda u: ml.batch_hard_triplet(lab, u, squared=True, margin=7.0), e)
    assert np.all(np.isfinite(g))
    y, a, b = arrays(backend, [1.0, 0.0], [[0.0, 0.0], [0.0, 0.0]], [[big, big], [big, big]], dtype="float32")
    assert np.all(np.isinf(value(backend, ml.contrastive(y, a, b, reduction="none"))[:1]))  # ½d² = 2¹²⁸: overflows
    ga, gb = grads(backend, lambda u, w: ml.contrastive(y, u, w, reduction="sum"), a, b)
    np.testing.assert_array_equal(ga, [[-big, -big], [0.0, 0.0]])  # y·(a − b); the dissimilar pair: 0
    np.testing.assert_array_equal(gb, [[big, big], [0.0, 0.0]])


# --- in-batch mining ------------------------------------------------------------------------
def brute_force_batch_hard(lab, e, margin, squared=False):
    d = np.sqrt(((e[:, None] - e[None]) ** 2).sum(-1))
    d = d * d if squared else d
    out, weight = [], []
    for i in range(len(e)):
        pos = [d[i, j] for j in range(len(e)) if lab[j] == lab[i] and j != i]
        neg = [d[i, j] for j in range(len(e)) if lab[j] != lab[i]]
        weight.append(float(bool(pos and neg)))
        out.append(max(max(pos) - min(neg) + margin, 0.0) if pos and neg else 0.0)
    return np.array(out), np.array(weight)


@pytest.mark.parametrize("squared", [False, True])
def test_batch_hard_equals_brute_force_mining(backend, squared):
    rng = np.random.default_rng(3)
    e, lab = rng.normal(size=(24, 5)), rng.integers(0, 6, 24)
    lab[0] = 99  # a singleton: no positive, weight 0
    ref, weight = brute_force_batch_hard(lab, e, 1.5, squared)
    (x,) = arrays(backend, e)
    out = ml.batch_hard_triplet(labels(backend, lab), x, margin=1.5, squared=squared, reduction="none")
    np.testing.assert_allclose(value(backend, out), ref, rtol=1e-13)
    mean = ml.batch_hard_triplet(labels(backend, lab), x, margin=1.5, squared=squared)
    np.testing.assert_allclose(value(backend, mean), ref.sum() / weight.sum(), rtol=1e-13)


def test_batch_hard_without_valid_anchors_is_zero_with_zero_gradients(backend):
    lab, (x,) = labels(backend, [4, 4, 4]), arrays(backend, [[1.0, 2.0], [0.0, 1.0], [3.0, 3.0]])
    assert value(backend, ml.batch_hard_triplet(lab, x)) == 0.0
    (g,) = grads(backend, lambda u: ml.batch_hard_triplet(lab, u), x)
    np.testing.assert_array_equal(g, 0.0)


# --- bad input ------------------------------------------------------------------------------
def test_embedding_shapes_are_checked(backend):
    b = backend.xp.backend
    a3, a2, v3 = arrays(backend, np.ones((4, 3)), np.ones((4, 2)), np.ones(3))
    with pytest.raises(ValueError, match=rf"`anchor` and `positive` and `negative` must be embeddings of one shape.*"
                                         rf"got `anchor` \(4, 3\), `positive` \(4, 2\), `negative` \(4, 3\) \({b}\)"):
        ml.triplet_margin(a3, a2, a3)
    with pytest.raises(ValueError, match=r"at least 2-D; got `x1` \(3,\), `x2` \(3,\)"):
        ml.contrastive(arrays(backend, 1.0)[0], v3, v3)
    message = r"`y_true` must have the embeddings' shape without the feature axis, \(4,\); got \(4, 1\)"
    with pytest.raises(ValueError, match=message):
        ml.cosine_embedding(*arrays(backend, np.ones((4, 1))), a3, a3)
    with pytest.raises(ValueError, match=r"`embeddings` must be 2-D \(batch, features\); got \(4, 3, 1\)"):
        ml.batch_hard_triplet(labels(backend, [0, 0, 1, 1]), arrays(backend, np.ones((4, 3, 1)))[0])
    message = r"`labels` must have `embeddings`' shape without the feature axis, \(4,\); got \(3,\)"
    with pytest.raises(ValueError, match=message):
        ml.batch_hard_triplet(labels(backend, [0, 0, 1]), a3)
    with pytest.raises(TypeError, match="integer class labels"):
        ml.batch_hard_triplet(*arrays(backend, [0.0, 0.0, 1.0, 1.0]), a3)
    with pytest.raises(ValueError, match=r"`z1` and `z2` must be embeddings of one shape.*\(4, 3\).*\(4, 2\)"):
        ml.nt_xent(a3, a2)
    with pytest.raises(ValueError, match=r"2-D \(batch, features\); got \(2, 4, 3\)"):
        ml.nt_xent(*arrays(backend, np.ones((2, 4, 3)), np.ones((2, 4, 3))))


def test_labels_outside_plus_minus_one_raise_in_eager_mode(backend):
    b = backend.xp.backend
    x = arrays(backend, np.ones((3, 2)))[0]
    for bad in ([1.0, 0.0, -1.0], [1.0, 2.0, 1.0]):
        (y,) = arrays(backend, bad)
        with pytest.raises(ValueError, match=rf"`y_true` must be 1 or -1; 1 value\(s\) are not \({b}\)"):
            ml.cosine_embedding(y, x, x)
        s = arrays(backend, [0.5, 0.1, 0.2])[0]
        with pytest.raises(ValueError, match=r"`y_true` must be 1 or -1"):
            ml.margin_ranking(y, s, s)
    with pytest.raises(ValueError, match=r"`y_true` must be in \[0, 1\] \(1 = similar pair\)"):
        ml.contrastive(arrays(backend, [1.0, -1.0, 0.0])[0], x, x)


def test_bad_parameters(backend):
    x = arrays(backend, np.ones((3, 2)))[0]
    with pytest.raises(ValueError, match=r"`p` must be a finite number >= 1; got 0.5"):
        ml.triplet_margin(x, x, x, p=0.5)
    with pytest.raises(ValueError, match=r"`distance` must be a function or one of 'euclidean', 'cosine'; got 'l2' "
                                         r"\(str\)"):
        ml.triplet_margin(x, x, x, distance="l2")
    with pytest.raises(ValueError, match=r"`distance` must be a function or one of .*; got 3 \(int\)"):
        ml.triplet_margin(x, x, x, distance=3)
    with pytest.raises(ValueError, match=r"`temperature` must be a finite number > 0; got 0.0"):
        ml.nt_xent(x, x, temperature=0.0)
    with pytest.raises(ValueError, match=r"`margin` must be a finite number >= 0; got -1.0"):
        ml.contrastive(arrays(backend, [1.0, 0.0, 1.0])[0], x, x, margin=-1.0)


def test_labels_other_than_pm1_are_nan_under_jit_never_a_number():
    """Under jax.jit a label 0 cannot raise: its item is NaN (the value rule), and so is a NaN
    label's, which the y = −1 branch, −y·max(cos − m, 0), keeps."""
    jb = load_backend("jax")
    import jax

    for label in (0.0, math.nan):
        y, a, b = arrays(jb, [label], [[1.0, 0.0]], [[0.0, 1.0]])
        assert math.isnan(value(jb, jax.jit(ml.cosine_embedding)(y, a, b)))


# --- convention= ----------------------------------------------------------------------------
def test_triplet_conventions_at_zero_distance(backend):
    """eps = 1e-6: PyTorch adds it to the difference vector, optax under the root."""
    eps = 1e-6
    a, p, n = arrays(backend, [[0.0, 0.0]], [[0.0, 0.0]], [[0.6, 0.8]])
    torch = value(backend, ml.triplet_margin(a, p, n, convention="torch"))
    optax = value(backend, ml.triplet_margin(a, p, n, convention="optax"))
    np.testing.assert_allclose(torch, math.hypot(eps, eps) - math.hypot(-0.6 + eps, -0.8 + eps) + 1.0, rtol=1e-15)
    np.testing.assert_allclose(optax, math.sqrt(eps) - math.sqrt(1.0 + eps) + 1.0, rtol=1e-15)
    with pytest.raises(ValueError, match=r"optax\.losses\.triplet_margin_loss is triplet_margin with p=2\.0 only; "
                                         r"got p=3\.0"):
        ml.triplet_margin(a, p, n, p=3.0, convention="optax")


def test_cosine_conventions_for_a_near_zero_vector(backend):
    """Keras reads a norm below 1e-7 as 1e-7, PyTorch's cosine_similarity below 1e-8 (on dim 1)."""
    t, q = arrays(backend, [[1e-9, 0.0], [3.0, 4.0]], [[1.0, 1.0], [3.0, 4.0]])
    r = 1 / math.sqrt(2)
    np.testing.assert_allclose(value(backend, ml.cosine_similarity(t, q, reduction="none")), [-r, -1.0], rtol=1e-15)
    keras = value(backend, ml.cosine_similarity(t, q, convention="keras", reduction="none"))
    np.testing.assert_allclose(keras, [-1e-2 * r, -1.0], rtol=1e-15)
    torch = value(backend, ml.cosine_similarity(t, q, convention="torch", reduction="none"))
    np.testing.assert_allclose(torch, [-1e-1 * r, -1.0], rtol=1e-15)
    # PyTorch's default dim is 1: on (N, D, K) inputs one value per sample and column
    x = np.arange(1.0, 13.0).reshape(2, 3, 2)
    a, b = arrays(backend, x, x[:, ::-1])
    expected = -(x * x[:, ::-1]).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(x[:, ::-1], axis=1))
    np.testing.assert_allclose(value(backend, ml.cosine_similarity(a, b, convention="torch", reduction="none")),
                               expected, rtol=1e-15)


def test_cosine_embedding_torch_convention_adds_1e_12_to_squared_norms(backend):
    """At norms of 1e-6 PyTorch's 1e-12 halves the cosine of two equal vectors."""
    y, a = arrays(backend, [1.0, 1.0], [[1e-6, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(value(backend, ml.cosine_embedding(y, a, a, reduction="none")), [0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(value(backend, ml.cosine_embedding(y, a, a, convention="torch", reduction="none")),
                               [0.5, 1.0], rtol=1e-15)


def test_nt_xent_optax_convention_is_its_temperature(backend):
    z1, z2 = arrays(backend, [[1, 0], [0, 1]], [[0.9, 0.1], [0.1, 0.9]])
    np.testing.assert_allclose(value(backend, ml.nt_xent(z1, z2, convention="optax")), 1.148893713426714e-05,
                               rtol=1e-9)


# --- documented differences from the natives ------------------------------------------------
def test_torch_cosine_embedding_adds_1e_12_to_the_squared_norms():
    tb = load_backend("torch")
    import torch.nn.functional as F

    rng = np.random.default_rng(1)
    y, a, b = arrays(tb, rng.choice([-1.0, 1.0], 8), rng.normal(size=(8, 4)) * 1e-3, rng.normal(size=(8, 4)) * 1e-3)
    ours = value(tb, ml.cosine_embedding(y, a, b, reduction="none"))
    theirs = value(tb, F.cosine_embedding_loss(a, b, y, reduction="none"))
    na, nb = (np.sum(value(tb, x) ** 2, axis=1) for x in (a, b))
    # cos·(1 − ½·1e-12·(1/‖a‖² + 1/‖b‖²)) to first order: about 1e-6 relative at norms of 1e-3
    bound = 1e-12 * (1 / na + 1 / nb)
    diff = np.abs(ours - theirs)
    assert np.all(diff <= bound) and np.max(diff) > 1e-3 * np.max(bound)
    # and with the same 1e-12 our formula is torch's
    cos = np.sum(value(tb, a) * value(tb, b), axis=1) / np.sqrt((na + 1e-12) * (nb + 1e-12))
    np.testing.assert_allclose(theirs, np.where(value(tb, y) > 0, 1 - cos, np.maximum(cos, 0)), rtol=1e-12, atol=1e-15)


def test_optax_triplet_puts_eps_under_the_root():
    jb = load_backend("jax")
    optax = pytest.importorskip("optax")
    a, p, n = arrays(jb, [[0.0, 0.0]], [[0.0, 0.0]], [[3.0, 4.0]])
    # optax: sqrt(0 + 1e-6) − sqrt(25 + 1e-6) + 5; PyTorch and we: ‖a − p + eps‖ − ‖a − n + eps‖ + 5
    theirs = float(optax.losses.triplet_margin_loss(a, p, n, margin=5.0, eps=1e-6)[0])
    ours = float(value(jb, ml.triplet_margin(a, p, n, margin=5.0, eps=1e-6)))
    assert theirs == pytest.approx(1e-3 - math.sqrt(25 + 1e-6) + 5.0, rel=1e-12)
    assert ours == pytest.approx(math.hypot(1e-6, 1e-6) - math.hypot(-3 + 1e-6, -4 + 1e-6) + 5.0, rel=1e-12)
    convention = float(value(jb, ml.triplet_margin(a, p, n, margin=5.0, convention="optax")))
    assert convention == pytest.approx(theirs, rel=1e-15)


def test_keras_cosine_similarity_matches_on_zero_vectors():
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    t, q = arrays(kb, [[0.0, 0.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 4.0]])
    theirs = value(kb, keras.losses.CosineSimilarity(reduction=None, dtype="float64")(t, q))
    np.testing.assert_allclose(value(kb, ml.cosine_similarity(t, q, reduction="none")), theirs, atol=1e-15)


def test_cosine_similarity_along_another_axis(backend):
    rng = np.random.default_rng(2)
    t, q = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    a, b = arrays(backend, t, q)
    at, bt = arrays(backend, t.T, q.T)
    np.testing.assert_allclose(
        value(backend, ml.cosine_similarity(a, b, axis=0, reduction="none")),
        value(backend, ml.cosine_similarity(at, bt, reduction="none")),
        rtol=1e-15,
    )


def test_cosine_distance_is_one_plus_cosine_similarity(backend):
    rng = np.random.default_rng(3)
    t, q = arrays(backend, rng.normal(size=(4, 5)), rng.normal(size=(4, 5)))
    for kwargs in ({}, {"epsilon": 10.0}, {"axis": 0}):
        np.testing.assert_allclose(value(backend, ml.cosine_distance(t, q, reduction="none", **kwargs)),
                                   1.0 + value(backend, ml.cosine_similarity(t, q, reduction="none", **kwargs)),
                                   rtol=0, atol=ULPS * EPS["float64"])



# --- circle, semi-hard triplet, lifted structured, N-pair -----------------------------------
def softplus(x):
    return math.log1p(math.exp(x))


def test_circle_worked_example(backend):
    """Sun et al.'s eq. 4 by hand, γ = 2, m = 0.25: on unit vectors e0 = (1, 0), e1 = (0.6, 0.8)
    (class 0) and e2 = (0, 1) (class 1), s01 = 0.6, s02 = 0, s12 = 0.8. A positive's logit is
    −γ·(1 + m − s)·(s − 1 + m), a negative's γ·[s + m]₊·(s − m)."""
    lab, (e,) = labels(backend, [0, 0, 1]), arrays(backend, [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    positive = -2 * (1.25 - 0.6) * (0.6 - 0.75)  # 0.195, both anchors of class 0
    anchor0 = softplus(positive + 2 * 0.25 * (0.0 - 0.25))  # its negative at s = 0
    anchor1 = softplus(positive + 2 * 1.05 * (0.8 - 0.25))  # its negative at s = 0.8
    out = value(backend, ml.circle(lab, e, gamma=2.0, margin=0.25, reduction="none"))
    np.testing.assert_allclose(out, [anchor0, anchor1, 0.0], rtol=1e-14)  # anchor 2: no positive
    mean = value(backend, ml.circle(lab, e, gamma=2.0, margin=0.25))
    np.testing.assert_allclose(mean, (anchor0 + anchor1) / 2, rtol=1e-14)  # anchor 2 has weight 0 (Keras: masked)
    # a negative below −m has weight [s + m]₊ = 0: its logit is 0 (not a negative product)
    lab, (e,) = labels(backend, [0, 0, 1]), arrays(backend, [[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    out = value(backend, ml.circle(lab, e, gamma=2.0, margin=0.25, reduction="none"))
    np.testing.assert_allclose(out[:2], softplus(-2 * 0.25 * 0.25 + 0.0), rtol=1e-14)
    # remove_diagonal=False: the anchor itself is a positive too (s = 1)
    lab, (e,) = labels(backend, [0, 1]), arrays(backend, [[1.0, 0.0], [0.0, 1.0]])
    out = value(backend, ml.circle(lab, e, gamma=2.0, margin=0.25, remove_diagonal=False, reduction="none"))
    np.testing.assert_allclose(out, softplus(-2 * 0.25 * 0.25 - 2 * 0.25 * 0.25), rtol=1e-14)


def test_circle_is_keras_circle():
    kb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(4)
    e = rng.normal(size=(10, 6))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    lab = rng.integers(0, 3, 10)
    lab[0] = 7  # no positive
    for kwargs in ({}, {"gamma": 10.0, "margin": 0.1, "remove_diagonal": False}):
        theirs = value(kb, keras.losses.Circle(**kwargs, reduction=None, dtype="float64")(
            labels(kb, lab), arrays(kb, e)[0]))
        ours = value(kb, ml.circle(labels(kb, lab), arrays(kb, e)[0], reduction="none", **kwargs))
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)
        # Keras masks the zero losses out of its mean (anchor 0, without a positive): our weight 0
        mean = value(kb, keras.losses.Circle(**kwargs, dtype="float64")(labels(kb, lab), arrays(kb, e)[0]))
        assert mean == pytest.approx(theirs.sum() / np.count_nonzero(theirs), rel=1e-12)
        np.testing.assert_allclose(value(kb, ml.circle(labels(kb, lab), arrays(kb, e)[0], convention="keras",
                                                       **kwargs)), mean, rtol=1e-12)


def tfa_semi_hard(lab, e, margin, squared):
    """TF-Addons' triplet_semihard_loss, from its definition: masked minima and maxima over the
    full distance matrix (its masked min/max fall back to the row's max/min on an empty mask)."""
    d = ((e[:, None] - e[None]) ** 2).sum(-1)
    d = d if squared else np.sqrt(d)
    same = lab[:, None] == lab[None, :]
    total, count = 0.0, 0
    for a in range(len(e)):
        for p in range(len(e)):
            if p == a or not same[a, p]:
                continue
            beyond = [d[a, n] for n in range(len(e)) if not same[a, n] and d[a, n] > d[a, p]]
            negatives = [d[a, n] for n in range(len(e)) if not same[a, n]]
            negative = min(beyond) if beyond else max(negatives) if negatives else d[a].min()
            total += max(margin + d[a, p] - negative, 0.0)
            count += 1
    return total / count


@pytest.mark.parametrize("squared", [True, False])
def test_semi_hard_triplet_is_tf_addons_mean(backend, squared):
    rng = np.random.default_rng(5)
    e, lab = rng.normal(size=(16, 4)), rng.integers(0, 4, 16)
    lab[0] = 9  # no positive: weight 0, as TF-Addons counts pairs
    (x,) = arrays(backend, e)
    mean = value(backend, ml.semi_hard_triplet(labels(backend, lab), x, margin=1.5, squared=squared))
    np.testing.assert_allclose(mean, tfa_semi_hard(lab, e, 1.5, squared), rtol=1e-13)


def test_semi_hard_triplet_worked_example(backend):
    """1-D embeddings 0, 1 (class 0) and 1.5, 4 (class 1), margin 2. Squared distances: anchor 0's
    positive at 1, negatives at 2.25 and 16: semi-hard 2.25, 1 − 2.25 + 2 = 0.75; anchor 1's positive
    at 1, negatives at 0.25 and 9: 9, hinge 0; anchor 2's positive at 6.25, negatives at 2.25 and
    0.25, none farther: the farthest, 6.25 − 2.25 + 2 = 6; anchor 3's at 6.25, negatives at 16 and 9:
    9, hinge 0."""
    lab, (e,) = labels(backend, [0, 0, 1, 1]), arrays(backend, [[0.0], [1.0], [1.5], [4.0]])
    out = value(backend, ml.semi_hard_triplet(lab, e, margin=2.0, reduction="none"))
    np.testing.assert_allclose(out, [0.75, 0.0, 6.0, 0.0], rtol=1e-15)
    # distances 1, 1.5, 4 / 0.5, 3 / 2.5: 1 − 1.5 + 2; 0; 2.5 − 1.5 + 2; 2.5 − 3 + 2
    out = value(backend, ml.semi_hard_triplet(lab, e, margin=2.0, squared=False, reduction="none"))
    np.testing.assert_allclose(out, [1.5, 0.0, 3.0, 1.5], rtol=1e-15)
    # two positives per anchor: the value is their sum, the weight their number
    lab, (e,) = labels(backend, [0, 0, 0, 1]), arrays(backend, [[0.0], [1.0], [2.0], [2.5]])
    out = value(backend, ml.semi_hard_triplet(lab, e, margin=1.0, squared=False, reduction="none"))
    # anchor 0: positives at 1 (negative 2.5: 0) and 2 (2.5: 0.5); anchor 1: 1 and 1 (1.5: 0.5 each);
    # anchor 2: 2 and 1 (0.5, none farther: 0.5 → 2.5 and 1.5)
    np.testing.assert_allclose(out, [0.5, 1.0, 4.0, 0.0], rtol=1e-15)
    mean = value(backend, ml.semi_hard_triplet(lab, e, margin=1.0, squared=False))
    np.testing.assert_allclose(mean, 5.5 / 6, rtol=1e-15)


def test_semi_hard_without_negatives_leaves_the_pairs_out(backend):
    """TF-Addons takes a missing negative's distance as 0 (margin + d(a, p)); we count no pair."""
    lab, (e,) = labels(backend, [3, 3, 3]), arrays(backend, [[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
    out = value(backend, ml.semi_hard_triplet(lab, e, reduction="none"))
    np.testing.assert_array_equal(out, 0.0)
    assert value(backend, ml.semi_hard_triplet(lab, e)) == 0.0
    assert tfa_semi_hard(np.array([3, 3, 3]), value(backend, e), 1.0, True) > 1.0  # TF-Addons' margin + d
    (g,) = grads(backend, lambda u: ml.semi_hard_triplet(lab, u), e)
    np.testing.assert_array_equal(g, 0.0)


def tfa_lifted(lab, e, margin):
    """TF-Addons' lifted_struct_loss from its definition: 0.25·Σ over ordered positive pairs of
    max(J, 0)², divided by half their number."""
    d = np.sqrt(((e[:, None] - e[None]) ** 2).sum(-1))
    same = lab[:, None] == lab[None, :]
    total, count = 0.0, 0
    for i in range(len(e)):
        for j in range(len(e)):
            if i == j or not same[i, j]:
                continue
            s = np.exp(margin - d[i][~same[i]]).sum() + np.exp(margin - d[j][~same[j]]).sum()
            total += max(np.log(s) + d[i, j], 0.0) ** 2
            count += 1
    return 0.25 * total / (count / 2)


def test_lifted_structured_worked_example_and_tf_addons_mean(backend):
    """1-D: 0, 1 (class 0), 3 (class 1), margin 1: J = log(e^(1−3) + e^(1−2)) + 1 for the one
    positive pair, and the loss ½·J² (1/(2|P|)·ΣJ², |P| = 1)."""
    lab, (e,) = labels(backend, [0, 0, 1]), arrays(backend, [[0.0], [1.0], [3.0]])
    j = math.log(math.exp(-2.0) + math.exp(-1.0)) + 1.0
    out = value(backend, ml.lifted_structured(lab, e, reduction="none"))
    np.testing.assert_allclose(out, [j * j / 2, j * j / 2, 0.0], rtol=1e-14)  # each end counts it
    np.testing.assert_allclose(value(backend, ml.lifted_structured(lab, e)), j * j / 2, rtol=1e-14)
    rng = np.random.default_rng(6)
    x, lab = rng.normal(size=(12, 3)), rng.integers(0, 3, 12)
    lab[0] = 8
    got = value(backend, ml.lifted_structured(labels(backend, lab), arrays(backend, x)[0], margin=2.0))
    np.testing.assert_allclose(got, tfa_lifted(lab, x, 2.0), rtol=1e-13)


def test_lifted_structured_of_one_class_is_zero_not_nan(backend):
    """No negatives: log 0 for every pair. TF-Addons gives NaN there (−inf·0); we give 0, with zero
    gradients."""
    lab, (e,) = labels(backend, [1, 1, 1]), arrays(backend, [[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(value(backend, ml.lifted_structured(lab, e, reduction="none")), 0.0)
    (g,) = grads(backend, lambda u: ml.lifted_structured(lab, u), e)
    np.testing.assert_array_equal(g, 0.0)
    # one end without negatives is fine: classes 0, 0, 1 where row 2 is every row's only negative
    lab, (e,) = labels(backend, [0, 0, 1, 2]), arrays(backend, [[0.0], [1.0], [3.0], [9.0]])
    for g in grads(backend, lambda u: ml.lifted_structured(lab, u), e):
        assert np.all(np.isfinite(g))


def test_npairs_worked_example(backend):
    """Sohn's eq. 6 with distinct labels: log(1 + Σ_{j ≠ i} exp(a_i·p_j − a_i·p_i)); with a label
    twice (TF-Addons' targets) the anchor's target is split evenly between its two positives."""
    a, p = arrays(backend, [[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 1.0]])
    out = value(backend, ml.npairs(labels(backend, [0, 1]), a, p, reduction="none"))
    # (lse − a_i·p_i cancels: a few ulps of the logits, 2, absolutely)
    np.testing.assert_allclose(out, [math.log1p(math.exp(-2.0)), math.log1p(math.exp(-1.0))], rtol=0, atol=2e-15)
    out = value(backend, ml.npairs(labels(backend, [5, 5]), a, p, reduction="none"))
    np.testing.assert_allclose(out, [math.log(math.exp(2.0) + 1.0) - 1.0, math.log(1.0 + math.e) - 0.5], rtol=0,
                               atol=2e-15)


def test_npairs_is_tf_addons_softmax_cross_entropy(backend):
    rng = np.random.default_rng(7)
    a, p, lab = rng.normal(size=(9, 4)), rng.normal(size=(9, 4)), rng.integers(0, 5, 9)
    sim = a @ p.T
    targets = (lab[:, None] == lab[None, :]).astype(float)
    targets /= targets.sum(1, keepdims=True)
    log_softmax = sim - np.log(np.exp(sim).sum(1, keepdims=True))
    expected = -(targets * log_softmax).sum(1)
    got = value(backend, ml.npairs(labels(backend, lab), *arrays(backend, a, p), reduction="none"))
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_mined_losses_propagate_nan(backend):
    nan = math.nan
    e = arrays(backend, [[0.0, 0.0], [1.0, 0.0], [0.0, nan], [3.0, 1.0]])[0]
    lab = labels(backend, [0, 0, 1, 1])
    for fn in (ml.circle, ml.semi_hard_triplet, ml.lifted_structured):
        assert np.all(np.isnan(value(backend, fn(lab, e, reduction="none")))), fn.__name__
    a, p = arrays(backend, [[1.0, 0.0], [0.0, 1.0]], [[nan, 0.0], [0.0, 1.0]])
    assert np.all(np.isnan(value(backend, ml.npairs(labels(backend, [0, 1]), a, p, reduction="none"))))


def test_mined_losses_bad_input(backend):
    b = backend.xp.backend
    e = arrays(backend, np.ones((4, 3)))[0]
    for fn in (ml.circle, ml.semi_hard_triplet, ml.lifted_structured):
        with pytest.raises(ValueError, match=rf"`embeddings` must be 2-D \(batch, features\); got \(4, 3, 1\) \({b}\)"):
            fn(labels(backend, [0, 0, 1, 1]), arrays(backend, np.ones((4, 3, 1)))[0])
        with pytest.raises(ValueError, match=rf"`labels` must have `embeddings`' shape .* \(4,\); got \(3,\) \({b}\)"):
            fn(labels(backend, [0, 0, 1]), e)
        with pytest.raises(TypeError, match="integer class labels"):
            fn(*arrays(backend, [0.0, 0.0, 1.0, 1.0]), e)
    with pytest.raises(ValueError, match=r"`gamma` must be a finite number > 0; got 0.0"):
        ml.circle(labels(backend, [0, 0, 1, 1]), e, gamma=0.0)
    with pytest.raises(ValueError, match=r"`remove_diagonal` must be True or False; got 'no'"):
        ml.circle(labels(backend, [0, 0, 1, 1]), e, remove_diagonal="no")
    for fn in (ml.semi_hard_triplet, ml.lifted_structured):
        with pytest.raises(ValueError, match=r"`margin` must be a finite number >= 0; got -1.0"):
            fn(labels(backend, [0, 0, 1, 1]), e, margin=-1.0)
    with pytest.raises(ValueError, match=rf"`anchors` and `positives` must be embeddings of one shape.*\(4, 3\).*"
                                         rf"\(4, 2\) \({b}\)"):
        ml.npairs(labels(backend, [0, 1, 2, 3]), e, arrays(backend, np.ones((4, 2)))[0])
    with pytest.raises(ValueError, match=rf"`labels` must have `anchors`' shape .* \(4,\); got \(2,\) \({b}\)"):
        ml.npairs(labels(backend, [0, 1]), e, e)
    with pytest.raises(ValueError, match=rf"`anchors` and `positives` must be 2-D .* got \(2, 4, 3\) \({b}\)"):
        ml.npairs(labels(backend, [0, 1]), *arrays(backend, np.ones((2, 4, 3)), np.ones((2, 4, 3))))


def test_empty_batches_give_empty_results(backend):
    lab, (e,) = labels(backend, np.zeros(0, np.int64)), arrays(backend, np.zeros((0, 3)))
    for fn in (ml.circle, ml.semi_hard_triplet, ml.lifted_structured):
        assert value(backend, fn(lab, e, reduction="none")).shape == (0,)
        assert value(backend, fn(lab, e)) == 0.0
    assert value(backend, ml.npairs(lab, e, e, reduction="none")).shape == (0,)


# --- a distance of the user's own; cosine_distance's epsilon --------------------------------
def manhattan(a, b):
    """A distance written once against the array API: the 1-norm of a − b."""
    from multiloss.backends import array_namespace

    xp = array_namespace(a, b)
    return xp.sum(xp.abs(a - b), axis=-1)


def test_triplet_margin_with_a_distance_function(backend):
    a, p, n = arrays(backend, [[0.0, 0.0], [1.0, 1.0]], [[1.0, 2.0], [1.0, 0.5]], [[2.0, 0.5], [0.0, 0.0]])
    # |1| + |2| − (|2| + |0.5|) + 1 = 1.5; 0.5 − 2 + 1 < 0
    out = value(backend, ml.triplet_margin(a, p, n, distance=manhattan, reduction="none"))
    np.testing.assert_allclose(out, [1.5, 0.0], rtol=1e-15)
    # swap: min(d(a, n), d(p, n)) = min(2.5, 2.5) for row 0, min(2, 1.5) for row 1
    out = value(backend, ml.triplet_margin(a, p, n, distance=manhattan, swap=True, reduction="none"))
    np.testing.assert_allclose(out, [1.5, 0.0], rtol=1e-15)
    ga, gp, gn = grads(backend, lambda u, w, z: ml.triplet_margin(u, w, z, distance=manhattan), a, p, n)
    np.testing.assert_allclose(gp, [[0.5, 0.5], [0.0, 0.0]])  # sign(p − a)/2 for the active row
    assert np.all(np.isfinite(ga)) and np.all(np.isfinite(gn))


def test_triplet_margin_distance_function_is_torchs():
    tb = load_backend("torch")
    import torch.nn.functional as F

    rng = np.random.default_rng(8)
    a, p, n = arrays(tb, *(rng.normal(size=(10, 4)) for _ in range(3)))
    for kwargs in ({}, {"swap": True, "margin": 2.0}):
        ours = value(tb, ml.triplet_margin(a, p, n, distance=manhattan, reduction="none", **kwargs))
        theirs = value(tb, F.triplet_margin_with_distance_loss(a, p, n, distance_function=manhattan,
                                                                reduction="none", **kwargs))
        np.testing.assert_allclose(ours, theirs, rtol=1e-15)
        # the default distance_function is pairwise_distance: our defaults
        theirs = value(tb, F.triplet_margin_with_distance_loss(a, p, n, reduction="none", **kwargs))
        np.testing.assert_allclose(value(tb, ml.triplet_margin(a, p, n, reduction="none", **kwargs)), theirs,
                                   rtol=1e-14)


def test_triplet_margin_distance_function_in_the_wrappers():
    tb = load_backend("torch")
    from multiloss.torch import TripletMargin

    a, p, n = arrays(tb, [[0.0, 0.0]], [[1.0, 2.0]], [[2.0, 0.5]])
    module = TripletMargin(distance=manhattan)
    assert "distance=<function manhattan" in repr(module)
    assert value(tb, module(a, p, n)) == pytest.approx(1.5, rel=1e-15)


def test_cosine_distance_epsilon_is_a_norm_floor_and_optax_clips_its_square(backend):
    """‖(0.3, 0.4)‖ = 0.5 counts as 1 under ε = 1: cos = 0.3, distance 0.7; optax's epsilon clips
    the squared norm (0.25 to 1), so it is optax at epsilon = ε² (1 here, 4 for ε = 2)."""
    t, q = arrays(backend, [[1.0, 0.0], [2.0, 0.0]], [[0.3, 0.4], [0.3, 0.4]])
    np.testing.assert_allclose(value(backend, ml.cosine_distance(t, q, epsilon=1.0, reduction="none")),
                               [0.7, 1.0 - 0.6 / 2.0], rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.cosine_distance(t, q, epsilon=2.0, reduction="none")),
                               [1.0 - 0.3 / 4.0, 1.0 - 0.6 / 4.0], rtol=1e-15)


def test_cosine_distance_matches_optax_at_a_nonzero_epsilon():
    jb = load_backend("jax")
    optax = pytest.importorskip("optax")
    rng = np.random.default_rng(9)
    t, q = arrays(jb, rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) * 0.3)
    for eps in (0.5, 1.0, 2.0):
        theirs = value(jb, optax.losses.cosine_distance(q, t, epsilon=eps**2))
        np.testing.assert_allclose(value(jb, ml.cosine_distance(t, q, epsilon=eps, reduction="none")), theirs,
                                   rtol=1e-14)
        if eps != 1.0:  # not optax at ε itself
            assert not np.allclose(value(jb, optax.losses.cosine_distance(q, t, epsilon=eps)), theirs)
