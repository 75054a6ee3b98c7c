"""Margin losses over scores: PyTorch's soft, multi-class and multi-label margins and hinge embedding;
optax's perceptron and sparsemax losses.

Labels, as the frameworks take them: ±1 (``soft_margin``, ``hinge_embedding``, ``perceptron``),
0/1 (``multilabel_soft_margin``: soft labels in [0, 1] too; ``sparsemax``), integer class indices
(``multi_margin``, ``multiclass_perceptron``, ``multiclass_sparsemax``: ``y_pred``'s shape without
its last axis), or PyTorch's lists of class indices ended by −1 (``multilabel_margin``). Eager
checks reject other labels with a ``ValueError``; where values cannot be read (jit, accelerators)
the items they reach get NaN, never a loss from a clamped or wrapped label. Classes are on the
last axis. The hinge (the max(0, ·) kink) is where its derivative is split in half, as every
backend's ``maximum`` splits ties. Each kernel's reference, written from the definition, stands
above it.
"""

from __future__ import annotations

import math

from multiloss import _validation as v
from multiloss import domains
from multiloss.losses.classification import _take
from multiloss.reference import hinge as _hinge_terms
from multiloss.reference import number
from multiloss.registry import Convention, loss

__all__ = [
    "hinge_embedding",
    "multi_margin",
    "multiclass_perceptron",
    "multiclass_sparsemax",
    "multilabel_margin",
    "multilabel_soft_margin",
    "perceptron",
    "soft_margin",
    "sparsemax",
]


# --- helpers ---------------------------------------------------------------------------------
def _check_signs(xp, y_true, y_pred, **_):
    return (v.Rule("y_true", y_true, "a label in {-1, 1}", ok=(y_true == 1) | (y_true == -1)),)


def _check_bits(xp, y_true, y_pred, **_):
    return (v.Rule("y_true", y_true, "a label in {0, 1}", ok=(y_true == 0) | (y_true == 1)),)


def _classes(xp, y_pred, name="y_pred"):
    if y_pred.ndim == 0 or y_pred.shape[-1] == 0:
        raise ValueError(f"`{name}` needs classes on its last axis; got shape {v.shape_of(y_pred)} ({xp.backend}).")


def _check_weight(xp, y_pred, weight):
    if weight is not None and hasattr(weight, "shape") and not v._same(v.shape_of(weight), (y_pred.shape[-1],)):
        raise ValueError(f"`class_weight` must have shape ({y_pred.shape[-1]},), one weight per class of `y_pred` "
                         f"{v.shape_of(y_pred)}; got {v.shape_of(weight)} ({xp.backend}).")


def _index_shapes(xp, arrays, params):
    """Integer labels of ``y_pred``'s shape without its (last) class axis; a class weight per class."""
    labels, y_pred = arrays["y_true"], arrays["y_pred"]
    _classes(xp, y_pred)
    if not v._same(v.shape_of(labels), v.shape_of(y_pred)[:-1]):
        raise ValueError(f"`y_true` (integer labels) must have `y_pred`'s shape without its last (class) axis: "
                         f"expected {v.shape_of(y_pred)[:-1]}, got {v.shape_of(labels)} for y_pred "
                         f"{v.shape_of(y_pred)} ({xp.backend}).")
    _check_weight(xp, y_pred, params.get("class_weight"))


def _row_shapes(xp, arrays, params):
    """``y_true`` of ``y_pred``'s shape, classes on the last axis; a class weight per class."""
    v.check_same_shape(xp, arrays["y_true"], arrays["y_pred"], "y_true", "y_pred")
    _classes(xp, arrays["y_pred"])
    _check_weight(xp, arrays["y_pred"], params.get("class_weight"))


def _check_indices(xp, y_true, y_pred, **_):
    """Class labels in [0, C), read where the policy reads values; elsewhere the kernel gives NaN."""
    if not v.readable(xp, y_true):
        return ()
    n = y_pred.shape[-1]
    return (v.Rule("y_true", y_true, f"a class label in [0, {n})", lower=0, upper=n - 1),)


def _labelled(xp, y_true, y_pred):
    """(labels, their column index, whether each is in [0, C), the class numbers 0..C−1):
    a label out of range (seen only where it cannot raise) reads column 0, and its item is
    then set to NaN by the caller."""
    n = xp.dim(y_pred, -1)  # an int64 tensor where tf.function knows it only at run time
    classes = xp.arange(n, device=xp.device_of(y_pred))
    labels = y_true if y_true.dtype == classes.dtype else xp.astype(y_true, classes.dtype)
    in_range = (labels >= 0) & (labels < n)
    labels = xp.where(in_range, labels, 0)
    return labels, xp.expand_dims(labels, axis=-1), in_range, classes


def _scaled(terms, k):
    return tuple(k * t for t in terms)


# --- binary margins -------------------------------------------------------------------------
def _soft_margin_reference(y_true, y_pred, *, m):
    return m.log(1 + m.exp(-y_true * y_pred))


@loss(
    family="margin",
    domain=domains.signs(zero=False),
    reference=_soft_margin_reference,
    checks=_check_signs,
    conventions=(Convention("torch.nn.functional.soft_margin_loss"),),
)
def soft_margin(y_true, y_pred, *, xp):
    """Soft margin (logistic) loss: log(1 + exp(−y·ŷ)) with y ∈ {−1, 1}.

    The logistic regression loss on a margin y·ŷ (PyTorch's ``soft_margin_loss``), as
    softplus(−y·ŷ): finite for any score (PyTorch's log1p(exp(·)) overflows to inf past
    y·ŷ < −88.7 in float32). It is binary cross-entropy from logits with labels (y + 1)/2.
    """
    return xp.softplus(-y_true * y_pred)


def _hinge_embedding_reference(y_true, y_pred, *, margin, m):
    return y_pred if y_true > 0 else _hinge_terms((margin, -y_pred))  # a label: no slope in y_true


@loss(
    family="margin",
    domain=domains.signs(zero=False),
    reference=_hinge_embedding_reference,
    checks=_check_signs,
    variants=({"margin": 2.0},),
    conventions=(Convention("torch.nn.functional.hinge_embedding_loss"),),
)
def hinge_embedding(y_true, y_pred, *, margin=1.0, xp):
    """Hinge embedding loss: ŷ for y = 1, max(0, margin − ŷ) for y = −1.

    ``y_pred`` is typically a distance between two embeddings (e.g. their L1 distance): pulled
    to 0 for similar pairs (y = 1), pushed beyond ``margin`` for dissimilar ones (y = −1), as
    PyTorch's ``hinge_embedding_loss`` (Hadsell, Chopra & LeCun 2006, with the distance itself
    rather than its square).
    """
    return xp.where(y_true == 1, y_pred, xp.where(y_true == -1, xp.maximum(margin - y_pred, 0.0), math.nan))


def _perceptron_reference(y_true, y_pred, *, m):
    return _hinge_terms((-y_true * y_pred,))


@loss(
    family="margin",
    domain=domains.signs(zero=False),
    reference=_perceptron_reference,
    checks=_check_signs,
    conventions=(Convention("optax.losses.perceptron_loss"),),
)
def perceptron(y_true, y_pred, *, xp):
    """Perceptron loss (Rosenblatt 1958): max(0, −y·ŷ) with y ∈ {−1, 1}.

    Zero for every correctly signed score, however small its margin (the hinge with margin 0);
    optax's ``perceptron_loss``.
    """
    return xp.maximum(-y_true * y_pred, 0.0)


# --- sparsemax --------------------------------------------------------------------------------
def _sparsemax_terms(scores, label, m):
    """The sparsemax loss of ``scores`` with class ``label`` from Martins & Astudillo (2016),
    eq. 18: −z_y + ½Σ_{j∈S}(z_j² − τ²) + ½, S the support of sparsemax(z) and τ its threshold,
    found by sorting: S is the k largest scores for the largest k with 1 + k·z_(k) > Σ_{i≤k} z_(i).
    Scores shifted by their maximum first (the loss does not change): terms of magnitude ≤ 1
    there."""
    top = max(scores)
    z = [s - top for s in scores]
    u = sorted(z, reverse=True)
    k = max(j for j in range(1, len(u) + 1) if 1 + j * u[j - 1] > m.fsum(u[:j]))
    tau = (m.fsum(u[:k]) - 1) / k
    support = [s for s in z if s > tau]
    return (-z[label], *(s * s / 2 for s in support), *(-tau * tau / 2 for _ in support), number(0.5, m))


def _sparsemax_reference(y_true, y_pred, *, m):
    return _sparsemax_terms([0 * y_pred, y_pred], int(y_true > 0.5), m)  # two classes, scores (0, ŷ)


@loss(
    family="margin",
    domain=domains.bits(),
    reference=_sparsemax_reference,
    checks=_check_bits,
    conventions=(Convention("optax.losses.sparsemax_loss"),),
)
def sparsemax(y_true, y_pred, *, xp):
    """Binary sparsemax loss (Martins & Astudillo 2016): the multi-class one on scores (0, ŷ).

    With s = ŷ for y = 0 and −ŷ for y = 1: 0 for s ≤ −1, (s + 1)²/4 for −1 < s < 1, s for s ≥ 1
    (optax's ``sparsemax_loss``, jax.nn.sparse_plus(s)). Zero exactly when the sparse sigmoid
    clip((ŷ + 1)/2, 0, 1) equals the label; labels 0 or 1.
    """
    s = xp.where(y_true == 1, -y_pred, xp.where(y_true == 0, y_pred, math.nan))  # a NaN label: NaN
    t = s + 1.0
    return xp.where(s <= -1.0, 0.0, xp.where(s >= 1.0, s, 0.25 * t * t))


def _multiclass_sparsemax_reference(y_true, y_pred, *, m):
    return _sparsemax_terms(list(y_pred), int(y_true), m)


@loss(
    family="margin",
    domain=domains.sparse(scores=True),
    reference=_multiclass_sparsemax_reference,
    kind="row",
    labels=(),
    indices=("y_true",),
    shapes=_index_shapes,
    checks=_check_indices,
    conventions=(Convention("optax.losses.multiclass_sparsemax_loss"),),
)
def multiclass_sparsemax(y_true, y_pred, *, xp):
    """Sparsemax loss (Martins & Astudillo 2016): ⟨p, z⟩ − z_y + ½(1 − ‖p‖²), p = sparsemax(z).

    p is the Euclidean projection of the scores z onto the probability simplex (``xp.sparsemax``),
    sparse where softmax is dense; equally −z_y + ½Σ_{j∈S}(z_j² − τ²) + ½ over p's support S.
    The Fenchel–Young loss of the Gini entropy: 0 exactly when p is the label's one-hot; its
    gradient is p − onehot(y). ``y_true`` holds integer labels (optax's
    ``multiclass_sparsemax_loss``).
    """
    _, index, in_range, _ = _labelled(xp, y_true, y_pred)
    p = xp.sparsemax(y_pred, axis=-1)
    # ⟨p, z'⟩ − z'_y with z' = z − max z (Σp = 1: the same value): z' lies in [−1, 0] on p's
    # support, so the rounding in p's derivative is not multiplied by the scores' size.
    z = y_pred - xp.stop_gradient(xp.max(y_pred, axis=-1, keepdims=True))
    on_support = xp.sum(p * xp.where(p > 0.0, z, 0.0), axis=-1)  # a −inf score has p = 0: no 0·inf
    out = on_support - xp.squeeze(xp.take_along_axis(z, index, axis=-1), axis=-1) + 0.5 * (1.0 - xp.sum(p * p, axis=-1))
    return xp.where(in_range, out, math.nan)


# --- multi-class margins ------------------------------------------------------------------------
def _multiclass_perceptron_reference(y_true, y_pred, *, m):
    return max(y_pred), -y_pred[int(y_true)]


@loss(
    family="margin",
    domain=domains.sparse(scores=True),
    reference=_multiclass_perceptron_reference,
    kind="row",
    labels=(),
    indices=("y_true",),
    shapes=_index_shapes,
    checks=_check_indices,
    conventions=(Convention("optax.losses.multiclass_perceptron_loss"),),
)
def multiclass_perceptron(y_true, y_pred, *, xp):
    """Multi-class perceptron loss (Collins 2002): max_c ŷ_c − ŷ_y, integer labels y.

    Zero when the label's score is a largest one; optax's ``multiclass_perceptron_loss``.
    """
    _, index, in_range, _ = _labelled(xp, y_true, y_pred)
    out = xp.max(y_pred, axis=-1) - xp.squeeze(xp.take_along_axis(y_pred, index, axis=-1), axis=-1)
    # a NaN score gives NaN, also where the max skips it (TensorFlow's does)
    return xp.where(in_range & xp.logical_not(xp.any(xp.isnan(y_pred), axis=-1)), out, math.nan)


def _multi_margin_reference(y_true, y_pred, *, p, margin, class_weight, m):
    y, c = int(y_true), len(y_pred)
    w = 1 if class_weight is None else class_weight[y]
    terms = []
    for i, x in enumerate(y_pred):
        if i == y:
            continue
        if p == 1:
            terms += _hinge_terms((margin, -y_pred[y], x))
        else:
            terms.append(max(0, margin - y_pred[y] + x) ** 2)
    return _scaled(terms, number(w, m) / c)


@loss(
    family="margin",
    domain=domains.sparse(scores=True),
    reference=_multi_margin_reference,
    kind="row",
    labels=(),
    indices=("y_true",),
    shapes=_index_shapes,
    conditions={"p": "in (1, 2)", "class_weight": "array or None"},
    checks=_check_indices,
    variants=({"p": 2}, {"margin": 0.5, "class_weight": (0.5, 1.0, 2.0, 0.0, 1.5, 1.0, 3.0, 0.25)}),
    conventions=(Convention("torch.nn.functional.multi_margin_loss"),),
)
def multi_margin(y_true, y_pred, *, p=1, margin=1.0, class_weight=None, xp):
    """Multi-class margin loss (Weston & Watkins 1999): w_y·Σ_{i≠y} max(0, margin − ŷ_y + ŷ_i)^p / C.

    Every wrong class whose score comes within ``margin`` of the label's adds its shortfall (to
    the power ``p``, 1 or 2), averaged over the C classes, as PyTorch's ``multi_margin_loss``.
    ``class_weight`` (one per class) scales item i's loss by the weight of its label, w_{y_i}
    (outside the power, as PyTorch computes it; its docs show it inside); ``"mean"`` then
    divides by the number of items, not by Σw (PyTorch). ``y_true`` holds integer labels.
    """
    labels, index, in_range, classes = _labelled(xp, y_true, y_pred)
    h = xp.maximum(margin - (xp.take_along_axis(y_pred, index, axis=-1) - y_pred), 0.0)
    if p == 2:
        h = h * h
    out = xp.mean(xp.where(index == classes, 0.0, h), axis=-1)
    if class_weight is not None:
        out = _take(xp, class_weight, labels) * out
    return xp.where(in_range, out, math.nan)


# --- multi-label margins ------------------------------------------------------------------------
def _multilabel_soft_margin_reference(y_true, y_pred, *, class_weight, m):
    c = len(y_pred)
    terms = []
    for k, (t, x) in enumerate(zip(y_true, y_pred)):
        w = 1 if class_weight is None else class_weight[k]
        # −t·log σ(x) − (1 − t)·log(1 − σ(x)), σ(x) = 1/(1 + e^−x)
        terms += [w * t * m.log(1 + m.exp(-x)) / c, w * (1 - t) * m.log(1 + m.exp(x)) / c]
    return tuple(terms)


@loss(
    family="margin",
    domain=domains.binary(logits=True),
    reference=_multilabel_soft_margin_reference,
    kind="row",
    shapes=_row_shapes,
    conditions={"class_weight": "array or None"},
    checks=lambda xp, y_true, y_pred, **_: (v.Rule("y_true", y_true, "in [0, 1]", lower=0.0, upper=1.0),),
    variants=({"class_weight": (0.5, 1.0, 2.0, 0.0, 1.5, 1.0, 3.0, 0.25)},),
    conventions=(
        Convention("torch.nn.functional.multilabel_soft_margin_loss"),
        Convention("keras.losses.BinaryCrossentropy", when={"class_weight": None}),
    ),
)
def multilabel_soft_margin(y_true, y_pred, *, class_weight=None, xp):
    """Multi-label soft margin loss: (1/C)·Σ_c w_c·[−y_c log σ(ŷ_c) − (1 − y_c) log(1 − σ(ŷ_c))].

    One-vs-all logistic loss per sample: the binary cross-entropy of each class's logit with
    its label (0/1, or soft in [0, 1]) averaged over the C classes of the last axis, as PyTorch's
    ``multilabel_soft_margin_loss``; ``class_weight`` (one per class) scales each class's term
    and still divides by C. Each term is softplus(∓ŷ): exact for any logit.
    """
    terms = xp.sigmoid_cross_entropy(y_pred, y_true)
    if class_weight is not None:
        terms = class_weight * terms
    return xp.mean(terms, axis=-1)


def _multilabel_margin_reference(y_true, y_pred, *, m):
    listed = []
    for t in y_true:
        if t == -1:
            break
        listed.append(int(t))
    others = [i for i in range(len(y_pred)) if i not in listed]
    c = len(y_pred)
    return tuple(t / c for j in listed for i in others for t in _hinge_terms((1, -y_pred[j], y_pred[i])))


def _check_label_lists(xp, y_true, y_pred, **_):
    if not v.readable(xp, y_true):
        return ()
    n = y_pred.shape[-1]
    return (v.Rule("y_true", y_true, f"a class index in [0, {n}) or -1 (which ends the row's list)", lower=-1,
                   upper=n - 1),)


@loss(
    family="margin",
    domain=domains.label_lists(),
    reference=_multilabel_margin_reference,
    kind="row",
    labels=(),
    indices=("y_true",),
    shapes=_row_shapes,
    checks=_check_label_lists,
    conventions=(Convention("torch.nn.functional.multilabel_margin_loss"),),
)
def multilabel_margin(y_true, y_pred, *, xp):
    """Multi-label margin loss: Σ_{j listed} Σ_{i not listed} max(0, 1 − (ŷ_j − ŷ_i)) / C.

    Each row of ``y_true`` (``y_pred``'s shape) lists the row's target classes as indices; the
    first −1 ends the list and what follows is ignored (PyTorch's ``multilabel_margin_loss``).
    Every listed class's score should beat every unlisted one's by 1; a class listed twice counts
    twice. Built with comparisons and a cumulative sum (no boolean indexing): compiles, at
    C² memory per row.
    """
    n = xp.dim(y_pred, -1)
    classes = xp.arange(n, device=xp.device_of(y_pred))
    labels = y_true if y_true.dtype == classes.dtype else xp.astype(y_true, classes.dtype)
    in_range = xp.all((labels >= -1) & (labels < n), axis=-1)
    ended = xp.cumulative_sum(xp.astype(labels == -1, y_pred.dtype), axis=-1) > 0.0
    hits = (xp.expand_dims(labels, axis=-1) == classes) & xp.expand_dims(xp.logical_not(ended), axis=-1)
    count = xp.sum(xp.astype(hits, y_pred.dtype), axis=-2)  # times each class is listed
    gap = xp.maximum(1.0 - (xp.expand_dims(y_pred, axis=-1) - xp.expand_dims(y_pred, axis=-2)), 0.0)  # [j, i]
    pairs = xp.where(xp.expand_dims(count == 0.0, axis=-2), gap, 0.0)  # i unlisted
    out = xp.sum(count * xp.mean(pairs, axis=-1), axis=-1)
    # a NaN score gives NaN, also in a row whose every class is listed (no pair reads it)
    return xp.where(in_range & xp.logical_not(xp.any(xp.isnan(y_pred), axis=-1)), out, math.nan)
