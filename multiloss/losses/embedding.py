"""Embedding, similarity and ranking losses: contrastive, triplet, batch-hard triplet, NT-Xent,
cosine similarity / embedding, margin ranking.

Embeddings are the last axis of inputs of at least two dimensions (one loss per row);
``y_true`` of a pair loss has the embeddings' shape without that axis.

Numerics, on every backend:
- Zero distance: ‖x‖ = sqrt(Σx²) has an infinite derivative at x = 0, which autodiff turns
  into NaN (0·inf) for identical embeddings. Norms here take the derivative there to be 0, the
  midpoint of the one-sided slopes (the cone's subgradient at its tip), so values and gradients
  stay finite. An exactly coincident dissimilar pair therefore gets no push apart (PyTorch's
  ``eps`` pushes it along (1, …, 1) instead); any noise breaks the tie.
- Zero vectors: the cosine of a zero vector with anything is 0 (PyTorch's value; optax's
  default gives NaN), with a zero gradient.
"""

from __future__ import annotations

import math

from multiloss import _validation as v
from multiloss import domains
from multiloss.registry import DTYPE, Fixed, Native, loss

__all__ = [
    "batch_hard_triplet",
    "contrastive",
    "cosine_embedding",
    "cosine_similarity",
    "margin_ranking",
    "nt_xent",
    "triplet_margin",
]

DISTANCES = ("euclidean", "cosine")
EPS_AT = ("difference", "sum")


# --- building blocks ------------------------------------------------------------------------
def _safe_sqrt(xp, s):
    """sqrt(s) for s ≥ 0 with derivative 0 (not inf, hence no NaN gradient) at s = 0."""
    positive = s > 0
    return xp.where(positive, xp.sqrt(xp.where(positive, s, 1.0)), 0.0)


def _norm(xp, x, p=2.0):
    """‖x‖_p over the last axis; its derivative at x = 0 is 0.

    Other than p = 1 or 2 it is M·(Σ(|x|/M)^p)^(1/p) with M = max|x| (as a constant: the result
    does not depend on it): the sum is then in [1, n], so neither |x|^p's range nor the rounding
    of 1/p, whose error the power multiplies by |log Σ|x|^p|, costs digits.
    """
    if p == 2:
        return _safe_sqrt(xp, xp.sum(x * x, axis=-1))
    a = xp.abs(x)
    if p == 1:
        return xp.sum(a, axis=-1)
    top = xp.stop_gradient(xp.max(a, axis=-1))
    positive = top > 0
    top = xp.where(positive, top, 1.0)
    s = xp.sum((a / top[..., None]) ** p, axis=-1)
    return xp.where(positive, top * xp.where(positive, s, 1.0) ** (1.0 / p), 0.0)


def _cosine(xp, a, b, axis=-1, *, floor=0.0, shift=0.0):
    """cos(a, b) = a·b / (‖a‖‖b‖) along ``axis``, with each norm at least ``floor`` and ``shift``
    added to each squared norm; 0 (with zero gradient) when a norm is zero."""
    dot = xp.sum(a * b, axis=axis)
    norm_a = _safe_sqrt(xp, xp.sum(a * a, axis=axis) + shift)
    norm_b = _safe_sqrt(xp, xp.sum(b * b, axis=axis) + shift)
    if floor:
        norm_a, norm_b = xp.maximum(norm_a, floor), xp.maximum(norm_b, floor)
    den = norm_a * norm_b
    positive = den > 0
    return xp.where(positive, dot / xp.where(positive, den, 1.0), 0.0)


def _unit(xp, x):
    """x / ‖x‖ over the last axis; a zero row stays zero."""
    n = xp.expand_dims(_norm(xp, x), axis=-1)
    positive = n > 0
    return xp.where(positive, x / xp.where(positive, n, 1.0), 0.0)


def _distance(xp, a, b, distance, p=2.0, eps=0.0, eps_at="difference"):
    """‖a − b + eps‖_p (PyTorch's pairwise_distance), (Σ|a − b|^p + eps)^(1/p) with
    ``eps_at="sum"`` (optax's), or 1 − cos(a, b) for "cosine"."""
    if distance == "cosine":
        return 1.0 - _cosine(xp, a, b)
    if not eps:
        return _norm(xp, a - b, p)
    if eps_at == "difference":
        return _norm(xp, a - b + eps, p)
    d = a - b
    if p == 2:
        return xp.sqrt(xp.sum(d * d, axis=-1) + eps)
    return (xp.sum(xp.abs(d) ** p, axis=-1) + eps) ** (1.0 / p)


# --- validation -----------------------------------------------------------------------------
def _embeddings(xp, arrays: dict, names) -> tuple:
    """Embedding inputs: at least 2-D, one shape. Returns that shape."""
    shapes = {n: v.shape_of(arrays[n]) for n in names}
    first = shapes[names[0]]
    if len(first) < 2 or not all(v._same(s, first) for s in shapes.values()):
        given = ", ".join(f"`{n}` {s}" for n, s in shapes.items())
        raise ValueError(
            f"{' and '.join(f'`{n}`' for n in names)} must be embeddings of one shape (..., features), "
            f"at least 2-D; got {given} ({xp.backend})."
        )
    return first


def _label_shape(xp, label, name, embeddings_shape, what="the embeddings"):
    expected = embeddings_shape[:-1]
    if not v._same(v.shape_of(label), expected):
        raise ValueError(
            f"`{name}` must have {what}' shape without the feature axis, {expected}; "
            f"got {v.shape_of(label)} ({xp.backend})."
        )


def _pair_shapes(xp, arrays, params):
    _label_shape(xp, arrays["y_true"], "y_true", _embeddings(xp, arrays, ("x1", "x2")))


def _check_signs(xp, y_true, *_, **__):
    v.check_all(xp, (y_true == 1) | (y_true == -1), "y_true", "1 or -1")


def _check_distance(distance):
    if distance not in DISTANCES:
        raise ValueError(f"`distance` must be one of {DISTANCES}; got {distance!r}.")


def _check_triplet(xp, *arrays, distance, eps_at, **_):
    _check_distance(distance)
    if eps_at not in EPS_AT:
        raise ValueError(f"`eps_at` must be one of {EPS_AT}; got {eps_at!r}.")


# --- pair and triplet losses ----------------------------------------------------------------
def _check_contrastive(xp, y_true, x1, x2, *, distance, **_):
    _check_distance(distance)
    v.check_bound(xp, y_true, "y_true", "in [0, 1] (1 = similar pair)", lower=0.0, upper=1.0)


@loss(
    family="embedding",
    domain=domains.pairs(labels="binary"),
    shapes=_pair_shapes,
    conditions={"margin": ">= 0"},
    checks=_check_contrastive,
    variants=({"margin": 2.0}, {"distance": "cosine", "margin": 0.5}),
)
def contrastive(y_true, x1, x2, *, margin=1.0, distance="euclidean", xp):
    """Contrastive loss (Hadsell, Chopra & LeCun 2006): ½·y·d² + ½·(1 − y)·max(margin − d, 0)².

    y = 1 marks a similar pair (pulled together), y = 0 a dissimilar one (pushed beyond
    ``margin``); the paper writes Y = 0 for similar. d = ‖x1 − x2‖₂, or 1 − cos with
    ``distance="cosine"``. With the paper's ½, so the similar-pair gradient is d·∇d; TF-Addons'
    ``contrastive_loss`` (which takes d itself as ``y_pred``) omits it and is twice this.
    """
    if distance == "euclidean":
        diff = x1 - x2
        squared = xp.sum(diff * diff, axis=-1)  # d² without a square root: exact gradient at 0
        d = _safe_sqrt(xp, squared)
    else:
        d = _distance(xp, x1, x2, distance)
        squared = d * d
    gap = xp.maximum(margin - d, 0.0)
    return 0.5 * (y_true * squared + (1.0 - y_true) * (gap * gap))


def _triplet_shapes(xp, arrays, params):
    _embeddings(xp, arrays, ("anchor", "positive", "negative"))


@loss(
    family="embedding",
    domain=domains.triplets(),
    labels=(),
    shapes=_triplet_shapes,
    conditions={"margin": ">= 0", "p": ">= 1", "eps": ">= 0"},
    checks=_check_triplet,
    variants=({"eps": 0.0}, {"swap": True, "p": 1.0, "eps": 0.0}, {"p": 3.0, "margin": 0.5}, {"distance": "cosine"},
              {"eps_at": "sum"}),
    natives=(
        Native("torch", "torch.nn.functional.triplet_margin_loss", order=("anchor", "positive", "negative"),
               kwargs={"margin": "margin", "p": "p", "eps": "eps", "swap": "swap", "reduction": Fixed("none")},
               when={"distance": "euclidean", "eps_at": "difference"}, convention={},
               signature="torch.nn.functional.triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, "
                         "eps=1e-06, swap=False, size_average=None, reduce=None, reduction='mean')",
               safeguards="eps = 1e-6 added to each component of a − p (pairwise_distance)",
               label_format="no labels: anchor, positive, negative of one shape (N, D) or (D,)",
               notes=("PyTorch raises for margin ≤ 0 (2.13); margin = 0 is allowed here.",
                      "Keras and scikit-learn have no triplet loss (TF-Addons' mines triplets in the batch).")),
        Native("optax", "optax.losses.triplet_margin_loss", order=("anchor", "positive", "negative"),
               kwargs={"margin": "margin", "norm_degree": "p", "eps": "eps"},
               when={"distance": "euclidean", "eps_at": "sum", "p": 2.0, "swap": False}, convention={"eps_at": "sum"},
               signature="optax.losses.triplet_margin_loss(anchors, positives, negatives, axis=-1, norm_degree=2, "
                         "margin=1.0, eps=1e-06)",
               safeguards="eps = 1e-6 under the root: a floor of √eps = 1e-3 on every distance",
               label_format="no labels: anchors, positives, negatives of one shape",
               notes=(("optax adds eps under the root, (Σ(a − p)² + eps)^(1/2), our eps_at='sum'; PyTorch and our "
                       "default add it to the difference vector."),
                      "optax has no abs() in the p-norm, so its odd norm degrees are wrong, and no swap.",
                      "With eps = 0 optax's gradient at zero distance is NaN.")),
    ),
)
def triplet_margin(anchor, positive, negative, *, margin=1.0, p=2.0, eps=1e-6, swap=False, distance="euclidean",
                   eps_at="difference", xp):
    """Triplet margin loss (Schroff et al. 2015): max(d(a, p) − d(a, n) + margin, 0) per row.

    PyTorch's semantics: d(x, y) = ‖x − y + eps‖_p, ``eps`` added to the difference vector;
    ``eps_at="sum"`` adds it under the root instead, d = (Σ|x − y|^p + eps)^(1/p) (optax's).
    ``swap`` uses min(d(a, n), d(p, n)) as the negative distance (Balntas et al. 2016).
    ``distance="cosine"`` uses d = 1 − cos (``p`` and ``eps`` then do not apply), as
    ``triplet_margin_with_distance_loss`` with a cosine distance does.
    """
    d_ap = _distance(xp, anchor, positive, distance, p, eps, eps_at)
    d_an = _distance(xp, anchor, negative, distance, p, eps, eps_at)
    if swap:
        d_an = xp.minimum(d_an, _distance(xp, positive, negative, distance, p, eps, eps_at))
    return xp.maximum(d_ap - d_an + margin, 0.0)


# --- in-batch losses ------------------------------------------------------------------------
def _batch_hard_shapes(xp, arrays, params):
    labels, embeddings = arrays["labels"], arrays["embeddings"]
    if embeddings.ndim != 2:
        raise ValueError(f"`embeddings` must be 2-D (batch, features); got {v.shape_of(embeddings)} ({xp.backend}).")
    _label_shape(xp, labels, "labels", v.shape_of(embeddings), "`embeddings`")


@loss(
    family="embedding",
    domain=domains.labelled_embeddings(),
    labels=(),
    indices=("labels",),
    shapes=_batch_hard_shapes,
    conditions={"margin": ">= 0"},
    variants=({"squared": True, "margin": 7.0},),
)
def batch_hard_triplet(labels, embeddings, *, margin=1.0, squared=False, xp):
    """Batch-hard triplet loss (Hermans, Beyer & Leibe 2017), one value per anchor:
    max(max_{p: same label, p ≠ a} d(a, p) − min_{n: other label} d(a, n) + margin, 0).

    d = ‖a − b‖₂, or its square with ``squared``. The hardest positive and negative are
    mined on all pairwise distances at once from one matrix product (d² = ‖a‖² + ‖b‖² − 2a·b,
    without gradient), then the two chosen distances are recomputed from the embeddings, which
    is where the gradient flows: the loss keeps full accuracy despite the product's cancellation
    (which could only pick the other of two pairs equally hard to within ~√eps·‖e‖), and no
    N × N array is kept for the backward pass. At a tie the first index is taken. An anchor without a positive or a negative in the batch is left out of the
    ``"mean"`` (weight 0); a batch without any valid anchor gives 0.
    """
    n = embeddings.shape[0]
    e = xp.stop_gradient(embeddings)
    # d²(i, j) − ‖e_i‖², which orders row i as d(i, ·) does.
    score = xp.matmul(-2.0 * e, xp.matrix_transpose(e)) + xp.sum(e * e, axis=-1)[None, :]
    same = labels[:, None] == labels[None, :]
    positives = same & xp.logical_not(xp.eye(n, dtype=xp.bool))
    hardest_positive = xp.argmax(xp.where(positives, score, -math.inf), axis=1)
    hardest_negative = xp.argmin(xp.where(same, math.inf, score), axis=1)
    valid = xp.any(positives, axis=1) & xp.logical_not(xp.all(same, axis=1))
    d_ap = embeddings - xp.take(embeddings, hardest_positive, axis=0)
    d_an = embeddings - xp.take(embeddings, hardest_negative, axis=0)
    if squared:
        d_ap, d_an = xp.sum(d_ap * d_ap, axis=-1), xp.sum(d_an * d_an, axis=-1)
    else:
        d_ap, d_an = _norm(xp, d_ap), _norm(xp, d_an)
    weight = xp.astype(valid, embeddings.dtype)
    return xp.maximum(d_ap - d_an + margin, 0.0) * weight, weight


def _views_shapes(xp, arrays, params):
    shape = _embeddings(xp, arrays, ("z1", "z2"))
    if len(shape) != 2:
        raise ValueError(f"`z1` and `z2` must be 2-D (batch, features); got {shape} ({xp.backend}).")


def _optax_views(xp, arrays):
    """optax.ntxent's arguments: the 2N views and their labels (i for both views of pair i)."""
    n = arrays["z1"].shape[0]
    labels = xp.arange(n)
    return xp.concat([arrays["z1"], arrays["z2"]], axis=0), xp.concat([labels, labels])


@loss(
    family="embedding",
    domain=domains.views(),
    labels=(),
    shapes=_views_shapes,
    conditions={"temperature": "> 0"},
    variants=({"temperature": 0.1},),
    natives=(
        Native("optax", "optax.losses.ntxent", args=_optax_views, per="mean",
               kwargs={"temperature": "temperature"}, convention={"temperature": 0.07},
               signature="optax.losses.ntxent(embeddings, labels, temperature=0.07)",
               reduction="the mean over positive pairs (one value)",
               safeguards="squared norms clipped at the dtype's machine epsilon",
               label_format="one group label per embedding; views sharing a label are positives",
               notes=(("optax takes the 2N views stacked with group labels and returns the mean; its default "
                       "temperature is 0.07 (SimCLR's paper uses 0.5 and 0.1)."),
                      ("optax clips each squared norm at the dtype's eps, so views shorter than √eps (1.5e-8 in "
                       "float64, 3.5e-4 in float32) differ, a zero view's cosine being 0 in both; no parameter "
                       "of ours reproduces that."))),
    ),
)
def nt_xent(z1, z2, *, temperature=0.5, xp):
    """NT-Xent, SimCLR's normalized temperature-scaled cross-entropy (Chen et al. 2020).

    For the 2N views (z1_i, z2_i) with cosine similarities s/τ, view k's loss is
    −log(exp(s_k,k⁺/τ) / Σ_{j ≠ k} exp(s_kj/τ)): InfoNCE with its other view as the positive
    and the other 2N − 2 views as negatives. The value per pair i is the mean of its two
    views' losses, so ``"mean"`` is SimCLR's mean over the 2N views. One (2N)² similarity
    matrix is formed (from unit vectors scaled by 1/τ on one side); self-similarities are
    masked out, never subtracted (e^{1/τ} would swamp the rest). Accuracy: a few ulps of 1/τ,
    absolutely (the loss is log Σ e^{s_j} − s⁺ with both near 1/τ when it approaches 0).
    """
    n = z1.shape[0]
    u1, u2 = _unit(xp, z1), _unit(xp, z2)
    u = xp.concat([u1, u2], axis=0)
    logits = xp.matmul(u * (1.0 / temperature), xp.matrix_transpose(u))
    logits = xp.where(xp.eye(2 * n, dtype=xp.bool), -math.inf, logits)
    other = xp.concat([xp.arange(n, 2 * n), xp.arange(0, n)])  # each view's positive
    positive = xp.sum(u1 * u2, axis=-1) * (1.0 / temperature)
    nll = xp.softmax_nll(logits, other, axis=1, picked=xp.concat([positive, positive]))
    return 0.5 * (nll[:n] + nll[n:])


# --- cosine ---------------------------------------------------------------------------------
def _cosine_shapes(xp, arrays, params):
    a, b = arrays["y_true"], arrays["y_pred"]
    v.check_same_shape(xp, a, b, "y_true", "y_pred")
    if a.ndim == 0:
        raise ValueError(f"`y_true` and `y_pred` must have an `axis` of vectors; got 0-D arrays ({xp.backend}).")


@loss(
    family="embedding",
    domain=domains.real_pairs(),
    labels=(),
    shapes=_cosine_shapes,
    conditions={"epsilon": ">= 0"},
    natives=(
        Native("keras", "keras.losses.CosineSimilarity", order=("y_true", "y_pred"), construct=True,
               kwargs={"axis": "axis", "reduction": Fixed(None), "dtype": DTYPE}, convention={"epsilon": 1e-7},
               signature="keras.losses.CosineSimilarity(axis=-1, reduction='sum_over_batch_size', "
                         "name='cosine_similarity', dtype=None)",
               safeguards="each norm at least ε = 1e-7 (x·min(rsqrt(Σx²), 1/ε))",
               label_format="y_pred's shape (a rank differing by one is squeezed or expanded)",
               notes=(("Keras normalizes each vector as x·min(rsqrt(Σx²), 1e7) (l2_normalize with ε = 1e-7), so a "
                       "zero vector's cosine is 0, as here, and one shorter than 1e-7 is not scaled to length 1: "
                       "our epsilon=1e-7."),
                      ("Keras's loss is −cos in [−1, 1], best at −1, and can print −1.0000001 in float32."))),
        Native("torch", "torch.nn.functional.cosine_similarity", order=("y_true", "y_pred"), scale=-1.0,
               kwargs={"dim": "axis", "eps": "epsilon"}, convention={"epsilon": 1e-8, "axis": 1},
               signature="torch.nn.functional.cosine_similarity(x1, x2, dim=1, eps=1e-8)",
               safeguards="each norm at least eps = 1e-8", label_format="x1's shape (others broadcast)",
               notes=(("PyTorch has no cosine-similarity loss: cosine_similarity is the similarity, −1 × ours, on "
                       "dim=1 by default; with eps = 0 a zero vector gives NaN there, 0 here."),)),
        Native("optax", "optax.losses.cosine_similarity", order=("y_pred", "y_true"), scale=-1.0,
               kwargs={"axis": "axis", "epsilon": lambda p, dtype: p["epsilon"] ** 2}, convention={},
               signature="optax.losses.cosine_similarity(predictions, targets, *, epsilon=0.0, axis=-1, where=None)",
               safeguards="none by default: epsilon clips each squared norm", label_format="predictions' shape",
               notes=(("optax's cosine_similarity is the similarity, −1 × ours; its epsilon clips the squared "
                       "norm (our epsilon²), and at its default 0 a zero vector gives NaN there, 0 here."),)),
    ),
)
def cosine_similarity(y_true, y_pred, *, axis=-1, epsilon=0.0, xp):
    """Keras's cosine-similarity loss: −cos(y_true, y_pred) along ``axis``, in [−1, 1], best at −1.

    Each norm counts as at least ``epsilon`` (Keras: 1e-7, PyTorch's cosine_similarity: 1e-8),
    cos = y·ŷ / (max(‖y‖, ε)·max(‖ŷ‖, ε)). With ε = 0 a zero vector has cosine 0 (loss 0) with
    a zero gradient.
    """
    return -_cosine(xp, y_true, y_pred, axis=axis, floor=epsilon)


@loss(
    family="embedding",
    domain=domains.pairs(labels="signs"),
    shapes=_pair_shapes,
    conditions={"eps": ">= 0"},
    checks=_check_signs,
    variants=({"margin": 0.25},),
    natives=(
        Native("torch", "torch.nn.functional.cosine_embedding_loss", order=("x1", "x2", "y_true"), exact=False,
               kwargs={"margin": "margin", "reduction": Fixed("none")}, convention={"eps": 1e-12},
               signature="torch.nn.functional.cosine_embedding_loss(input1, input2, target, margin=0, "
                         "size_average=None, reduce=None, reduction='mean')",
               safeguards="1e-12 added to each squared norm",
               label_format="±1 per row; any other value silently gives 0",
               notes=(("PyTorch adds 1e-12 to each squared norm, a relative difference of about 1e-12/‖x‖² "
                       "(seen in float64): our eps=1e-12."),
                      "PyTorch silently gives 0 for a target other than ±1 (pytorch#23782); we raise.",
                      "Keras, optax and scikit-learn have no cosine embedding loss.")),
    ),
)
def cosine_embedding(y_true, x1, x2, *, margin=0.0, eps=0.0, xp):
    """PyTorch's cosine embedding loss: 1 − cos(x1, x2) for y = 1, max(cos(x1, x2) − margin, 0)
    for y = −1, per row. ``eps`` is added to each squared norm (PyTorch: 1e-12),
    cos = x1·x2 / √((‖x1‖² + eps)(‖x2‖² + eps)). Other labels raise ``ValueError`` in eager
    mode. A zero vector has cosine 0 (PyTorch's value too): loss 1 for y = 1."""
    cos = _cosine(xp, x1, x2, shift=eps)
    return xp.where(y_true > 0, 1.0 - cos, xp.maximum(cos - margin, 0.0))


# --- ranking --------------------------------------------------------------------------------
@loss(
    family="ranking",
    domain=domains.ranked_pairs(),
    checks=_check_signs,
    variants=({"margin": 0.5},),
    natives=(
        Native("torch", "torch.nn.functional.margin_ranking_loss", order=("x1", "x2", "y_true"),
               kwargs={"margin": "margin", "reduction": Fixed("none")}, convention={},
               signature="torch.nn.functional.margin_ranking_loss(input1, input2, target, margin=0, "
                         "size_average=None, reduce=None, reduction='mean')",
               safeguards="none", label_format="±1 (not checked: any value is used as is)",
               notes=(("PyTorch checks only that the inputs have the same number of dimensions and broadcasts "
                       "the rest; it accepts any target value silently."),
                      "Keras, optax and scikit-learn have no margin ranking loss.")),
    ),
)
def margin_ranking(y_true, x1, x2, *, margin=0.0, xp):
    """PyTorch's margin ranking loss: max(−y·(x1 − x2) + margin, 0), elementwise; y = 1 means
    x1 should rank higher, y = −1 lower. Other labels raise ``ValueError`` in eager mode."""
    return xp.maximum(margin - y_true * (x1 - x2), 0.0)
