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
- Zero vectors: the cosine of a zero vector with any finite vector is 0 (PyTorch's value;
  optax's default gives NaN), with a zero gradient. Only an exact zero is: each vector is
  divided by a power of two near its largest magnitude before it is squared, so that a
  finite non-zero vector has its exact norm, cosine and unit vector at any magnitude (no
  overflow at 1e20 nor zero at 1e-30 in float32, and no subnormal squares, which XLA flushes
  to 0 where NumPy and PyTorch keep them).
- NaN in, NaN out: a NaN in an input gives NaN for its row (in-batch losses: for every row);
  the special cases test for their exact condition (a zero norm), never for its negation, which
  NaN would also satisfy. ±inf gives the loss's limit or NaN, never raises, the same on every
  backend.
"""

from __future__ import annotations

import math

from multiloss import _validation as v
from multiloss import domains
from multiloss.losses._scaling import power_of_two
from multiloss.reference import Weighted, hinge, number
from multiloss.registry import Convention, loss

__all__ = [
    "batch_hard_triplet",
    "contrastive",
    "cosine_distance",
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
    """sqrt(s) for s ≥ 0 with derivative 0 (not inf, hence no NaN gradient) at s = 0. Only
    s == 0 is special-cased, so a NaN stays NaN."""
    zero = s == 0
    return xp.where(zero, 0.0, xp.sqrt(xp.where(zero, 1.0, s)))


def _scale(xp, x, axis=-1, at_least=0.0):
    """(K, 1/K) of :func:`~multiloss.losses._scaling.power_of_two` for max(max|x|, ``at_least``)
    along ``axis`` (kept).

    x·(1/K) is exact and its squares neither overflow nor underflow, so a norm or cosine of
    x/K, scaled back by K, is the one of x bit for bit wherever that does not overflow or
    underflow, and right where it does (|x| ≈ 1e20 or 1e-30 in float32, where XLA also flushes
    subnormal squares to 0 and NumPy and PyTorch do not). A zero vector gets K = 1.
    """
    m = xp.max(xp.abs(x), axis=axis, keepdims=True)
    return power_of_two(xp, xp.maximum(m, at_least) if at_least else m)


def _zero_with_gradient(xp, d):
    """0, with the gradient of Σd² over the last axis, 2d: Σ sg(2d)·(d − sg(d)).

    A sum of squares scaled as k·(k·s) (s = Σ(d/k)²) has a value that overflows only where Σd²
    does, but autodiff through it forms k², which overflows (|d| ≈ 2e19 in float32) where the
    gradient 2d does not: such a value is taken with s gradient-stopped, plus this term.
    """
    return xp.sum(xp.stop_gradient(2.0 * d) * (d - xp.stop_gradient(d)), axis=-1)


def _norm(xp, x, p=2.0, shift=0.0):
    """(Σ|x|^p + shift)^(1/p) over the last axis: ‖x‖_p, with ``shift`` ≥ 0 under the root
    (optax's eps). Its derivative at x = 0 (shift = 0) is 0; NaN gives NaN, ±inf gives inf.

    p = 2: K·sqrt(Σ(x/K)² + shift/K²) with K from :func:`_scale` (of max(|x|, √shift)): the
    unscaled result bit for bit, without its overflow and underflow.
    Other p > 1: M·(Σ(|x|/M)^p + shift/M^p)^(1/p) with M = max(|x|, shift^(1/p)) (as a constant:
    the result does not depend on it): the sum is then in [1, n + 1], so neither |x|^p's range
    nor the rounding of 1/p, whose error the power multiplies by |log Σ|x|^p|, costs digits.
    """
    if p == 2:
        k, inverse = _scale(xp, x, at_least=math.sqrt(shift))
        u = x * inverse
        k = xp.squeeze(k, axis=-1)
        s = xp.sum(u * u, axis=-1)
        if shift:
            inverse = xp.squeeze(inverse, axis=-1)
            s = s + (shift * inverse) * inverse
        return k * _safe_sqrt(xp, s)
    a = xp.abs(x)
    if p == 1:
        return xp.sum(a, axis=-1) + shift if shift else xp.sum(a, axis=-1)
    root = shift ** (1.0 / p)
    top = xp.stop_gradient(xp.max(a, axis=-1))
    if shift:
        top = xp.maximum(top, root)
    zero = top == 0
    top = xp.where(zero, 1.0, top)
    s = xp.sum((a / top[..., None]) ** p, axis=-1)
    if shift:
        s = s + (root / top) ** p
    return xp.where(zero, 0.0, top * xp.where(zero, 1.0, s) ** (1.0 / p))


def _cosine(xp, a, b, axis=-1, *, floor=0.0, shift=0.0):
    """cos(a, b) = a·b / (max(‖a‖, floor)·max(‖b‖, floor)) along ``axis``, ‖x‖ = sqrt(Σx² +
    ``shift``); 0 (with zero gradient) when a norm is zero, NaN when an input holds NaN.

    Each vector is first scaled by its own power of two (:func:`_scale`, of max(|x|, √shift,
    floor)), and the denominator is one square root of the product of the two scaled squared
    norms: the cosine of any finite non-zero vectors, to an ulp or two, at any magnitude.
    cos(a, a) is exactly 1 wherever a·a and ‖a‖² round alike (√(s²) = s in binary floating
    point); XLA may contract one of the two sums into fused multiply-adds and not the other.
    """
    at_least = max(math.sqrt(shift), floor)
    (_, ia), (_, ib) = _scale(xp, a, axis, at_least), _scale(xp, b, axis, at_least)
    ua, ub = a * ia, b * ib
    dot = xp.sum(ua * ub, axis=axis)
    sa, sb = xp.sum(ua * ua, axis=axis), xp.sum(ub * ub, axis=axis)
    ia, ib = xp.squeeze(ia, axis=axis), xp.squeeze(ib, axis=axis)
    if shift:
        sa, sb = sa + (shift * ia) * ia, sb + (shift * ib) * ib
    if floor:  # max(‖a‖, floor)² = max(‖a‖², floor²)
        fa, fb = floor * ia, floor * ib
        sa, sb = xp.maximum(sa, fa * fa), xp.maximum(sb, fb * fb)
    den = sa * sb  # about 1 or more unless a norm is 0: it cannot underflow
    zero = den == 0
    # The root goes through a select before dividing: XLA rewrites dot / sqrt(·) as
    # dot · rsqrt(·), two roundings, after which cos(a, a) is no longer exactly 1.
    root = xp.where(zero, 1.0, xp.sqrt(xp.where(zero, 1.0, den)))
    return xp.where(zero, 0.0, dot / root)


def _unit(xp, x):
    """x / ‖x‖ over the last axis (x scaled by :func:`_scale` first: exact at any magnitude);
    a zero row stays zero."""
    u = x * _scale(xp, x)[1]
    n = xp.expand_dims(_safe_sqrt(xp, xp.sum(u * u, axis=-1)), axis=-1)
    zero = n == 0
    return xp.where(zero, 0.0, u / xp.where(zero, 1.0, n))


def _distance(xp, a, b, distance, p=2.0, eps=0.0, eps_at="difference"):
    """‖a − b + eps‖_p (PyTorch's pairwise_distance), (Σ|a − b|^p + eps)^(1/p) with
    ``eps_at="sum"`` (optax's), or 1 − cos(a, b) for "cosine"."""
    if distance == "cosine":
        return 1.0 - _cosine(xp, a, b)
    if not eps:
        return _norm(xp, a - b, p)
    if eps_at == "difference":
        return _norm(xp, a - b + eps, p)
    return _norm(xp, a - b, p, shift=eps)


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
    return (v.Rule("y_true", y_true, "1 or -1", ok=(y_true == 1) | (y_true == -1)),)


# --- pair and triplet losses ----------------------------------------------------------------
def _check_contrastive(xp, y_true, x1, x2, **_):
    return (v.Rule("y_true", y_true, "in [0, 1] (1 = similar pair)", lower=0.0, upper=1.0),)


def _exact_pairwise(a, b, p, eps, eps_at, m):
    """PyTorch's pairwise distance ‖a − b + eps‖_p, or (Σ|a − b|^p + eps)^(1/p) (optax's)."""
    if eps_at == "sum":
        return (m.fsum(abs(x - y) ** p for x, y in zip(a, b)) + eps) ** (1 / number(p, m))
    d = [x - y + eps for x, y in zip(a, b)]
    if p == 2:
        return m.sqrt(m.fsum(t * t for t in d))
    return m.fsum(abs(t) ** p for t in d) ** (1 / number(p, m))


def _exact_cosine_terms(a, b, m, floor=0, shift=0):
    """The terms a_i·b_i / (‖a‖‖b‖) of cos(a, b), each norm at least ``floor``, each squared norm
    plus ``shift``; none (cos = 0) for a zero vector."""
    norms = [max(m.sqrt(m.fsum(x * x for x in v) + shift), number(floor, m)) for v in (a, b)]
    den = norms[0] * norms[1]
    return tuple(x * y / den for x, y in zip(a, b)) if den else (0 * den,)


def _exact_distance_terms(a, b, distance, p, eps, eps_at, m):
    if distance == "cosine":
        return (1, *(-t for t in _exact_cosine_terms(a, b, m)))
    return (_exact_pairwise(a, b, p, eps, eps_at, m),)


def _contrastive_reference(y_true, x1, x2, *, margin, distance, m):
    if distance == "euclidean":
        d2 = m.fsum((a - b) ** 2 for a, b in zip(x1, x2))
        gap = max(margin - m.sqrt(d2), 0)
        return y_true * d2 / 2, (1 - y_true) * gap * gap / 2
    # 1 − cos is as accurate as cos: absolutely. The squares are expanded into cos's terms so
    # that their scale says so: ½y(1 − c)² and ½(1 − y)(margin − 1 + c)² with c = Σ t.
    t = _exact_cosine_terms(x1, x2, m)
    c = sum(t)
    similar = (y_true / 2, *(-y_true * x for x in t), y_true * c * c / 2)
    k = margin - 1
    apart = ((1 - y_true) * k * k / 2, *((1 - y_true) * k * x for x in t), (1 - y_true) * c * c / 2)
    return similar + (apart if k + c > 0 else tuple(0 * x for x in apart))


@loss(
    family="embedding",
    domain=domains.pairs(labels="binary"),
    reference=_contrastive_reference,
    kind="row",
    shapes=_pair_shapes,
    conditions={"margin": ">= 0", "distance": f"in {DISTANCES}"},
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
        k, inverse = _scale(xp, diff)
        u = diff * inverse
        k = xp.squeeze(k, axis=-1)
        s = xp.sum(u * u, axis=-1)  # d² = k²·s, without a square root: exact gradient at 0
        d = k * _safe_sqrt(xp, s)
        # y·d² as one rounding, 0 for y = 0 at any finite d, with the gradient 2y·diff given
        # directly (see _zero_with_gradient)
        similar = (y_true * k) * (k * xp.stop_gradient(s)) + xp.stop_gradient(y_true) * _zero_with_gradient(xp, diff)
    else:
        d = _distance(xp, x1, x2, distance)
        similar = y_true * (d * d)
    gap = xp.maximum(margin - d, 0.0)
    return 0.5 * (similar + (1.0 - y_true) * (gap * gap))


def _triplet_shapes(xp, arrays, params):
    _embeddings(xp, arrays, ("anchor", "positive", "negative"))


def _triplet_margin_reference(anchor, positive, negative, *, margin, p, eps, swap, distance, eps_at, m):
    ap = _exact_distance_terms(anchor, positive, distance, p, eps, eps_at, m)
    an = _exact_distance_terms(anchor, negative, distance, p, eps, eps_at, m)
    if swap:
        pn = _exact_distance_terms(positive, negative, distance, p, eps, eps_at, m)
        an = pn if sum(pn) < sum(an) else an
    return hinge((*ap, *(-t for t in an), margin))


@loss(
    family="embedding",
    domain=domains.triplets(),
    reference=_triplet_margin_reference,
    kind="row",
    labels=(),
    shapes=_triplet_shapes,
    conditions={"margin": ">= 0", "p": ">= 1", "eps": ">= 0", "distance": f"in {DISTANCES}", "eps_at": f"in {EPS_AT}"},
    variants=({"eps": 0.0}, {"swap": True, "p": 1.0, "eps": 0.0}, {"p": 3.0, "margin": 0.5}, {"distance": "cosine"},
              {"eps_at": "sum"}),
    conventions=(
        Convention("torch.nn.functional.triplet_margin_loss", when={"distance": "euclidean", "eps_at": "difference"}),
        Convention("optax.losses.triplet_margin_loss", {"eps_at": "sum"},
                   when={"distance": "euclidean", "eps_at": "sum", "p": 2.0, "swap": False}),
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


def _batch_hard_triplet_reference(labels, embeddings, *, margin, squared, m):
    """Per anchor: the hardest positive (other rows of its label) and negative by distance."""

    def distance(a, b):
        d2 = m.fsum((x - y) ** 2 for x, y in zip(a, b))
        return d2 if squared else m.sqrt(d2)

    out = []
    for i, (label, anchor) in enumerate(zip(labels, embeddings)):
        pos = [distance(anchor, e) for j, (k, e) in enumerate(zip(labels, embeddings)) if k == label and j != i]
        neg = [distance(anchor, e) for k, e in zip(labels, embeddings) if k != label]
        if not pos or not neg:
            out.append(Weighted((0,), 0))
        else:
            out.append(Weighted(hinge((max(pos), -min(neg), margin)), 1))
    return out


@loss(
    family="embedding",
    domain=domains.labelled_embeddings(),
    reference=_batch_hard_triplet_reference,
    kind="batch",
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
    N × N array is kept for the backward pass. At a tie the first index is taken. An anchor
    without a positive or a negative in the batch is left out of the
    ``"mean"`` (weight 0); a batch without any valid anchor gives 0, an empty batch too. A NaN or ±inf embedding
    is in every anchor's distance row: every anchor's value is then NaN.
    """
    if embeddings.shape[0] == 0:  # no anchors: an empty result (no argmax of nothing), still on the tape
        empty = xp.sum(embeddings, axis=-1)
        return empty, empty
    n = xp.dim(embeddings, 0)  # a tensor where tf.function knows the batch size only at run time
    e = xp.stop_gradient(embeddings)
    e = e * _scale(xp, e, axis=None)[1]  # one power of two for the batch: the order is unchanged
    # d²(i, j) − ‖e_i‖², which orders row i as d(i, ·) does.
    score = xp.matmul(-2.0 * e, xp.matrix_transpose(e)) + xp.sum(e * e, axis=-1)[None, :]
    same = labels[:, None] == labels[None, :]
    positives = same & xp.logical_not(xp.eye(n, dtype=xp.bool, device=xp.device_of(embeddings)))
    hardest_positive = xp.argmax(xp.where(positives, score, -math.inf), axis=1)
    hardest_negative = xp.argmin(xp.where(same, math.inf, score), axis=1)
    valid = xp.any(positives, axis=1) & xp.logical_not(xp.all(same, axis=1))
    d_ap = embeddings - xp.take(embeddings, hardest_positive, axis=0)
    d_an = embeddings - xp.take(embeddings, hardest_negative, axis=0)
    if squared:  # k²(s_ap − s_an), one k for both: d² overflows only where the result does
        (k_ap, i_ap), (k_an, i_an) = _scale(xp, d_ap), _scale(xp, d_an)
        k, inverse = xp.maximum(k_ap, k_an), xp.minimum(i_ap, i_an)
        u_ap, u_an = d_ap * inverse, d_an * inverse
        k = xp.squeeze(k, axis=-1)
        s = xp.sum(u_ap * u_ap, axis=-1) - xp.sum(u_an * u_an, axis=-1)
        gap = k * (k * xp.stop_gradient(s)) + (_zero_with_gradient(xp, d_ap) - _zero_with_gradient(xp, d_an))
    else:
        gap = _norm(xp, d_ap) - _norm(xp, d_an)
    weight = xp.astype(valid, embeddings.dtype)
    out = xp.where(valid, xp.maximum(gap + margin, 0.0), 0.0)  # not ·weight: 0·inf is NaN
    # Every anchor's distance row holds each embedding: one NaN or ±inf among them makes them all
    # NaN, decided here rather than by argmax/argmin, which each framework treats NaN in differently.
    return xp.where(xp.all(xp.isfinite(embeddings)), out, math.nan), weight


def _views_shapes(xp, arrays, params):
    shape = _embeddings(xp, arrays, ("z1", "z2"))
    if len(shape) != 2:
        raise ValueError(f"`z1` and `z2` must be 2-D (batch, features); got {shape} ({xp.backend}).")


def _nt_xent_reference(z1, z2, *, temperature, m):
    """SimCLR: view k of the 2N has its other view as positive and every other view j ≠ k in the
    denominator; each pair's value is the mean of its two views' losses."""
    views, n = list(z1) + list(z2), len(z1)
    norms = [m.sqrt(m.fsum(x * x for x in v)) for v in views]

    def cosine_terms(k, j):  # a zero view has cosine 0 with every view (its unit vector is 0)
        den = norms[k] * norms[j]
        return tuple(x * y / den for x, y in zip(views[k], views[j])) if den else (0 * den,)

    out = []
    for i in range(n):
        terms = []
        for k in (i, i + n):
            sims = [m.fsum(cosine_terms(k, j)) / temperature for j in range(2 * n) if j != k]
            # log Σ_j e^{s_j} = Σ_j p_j·(s_j − log p_j), p = softmax(s): as terms, so that the
            # scale holds what each similarity contributes rather than the (cancelling) total.
            top = max(sims)
            lse = top + m.log(m.fsum(m.exp(s - top) for s in sims))
            for s in sims:
                p = m.exp(s - lse)
                terms += [p * s / 2, -p * (s - lse) / 2]
            terms += [-t / (2 * temperature) for t in cosine_terms(k, (k + n) % (2 * n))]
        out.append(tuple(terms))
    return out


@loss(
    family="embedding",
    domain=domains.views(),
    reference=_nt_xent_reference,
    kind="batch",
    labels=(),
    shapes=_views_shapes,
    conditions={"temperature": "> 0"},
    variants=({"temperature": 0.1},),
    conventions=(Convention("optax.losses.ntxent", {"temperature": 0.07}),),
)
def nt_xent(z1, z2, *, temperature=0.5, xp):
    """NT-Xent, SimCLR's normalized temperature-scaled cross-entropy (Chen et al. 2020).

    For the 2N views (z1_i, z2_i) with cosine similarities s/τ, view k's loss is
    −log(exp(s_k,k⁺/τ) / Σ_{j ≠ k} exp(s_kj/τ)): InfoNCE with its other view as the positive
    and the other 2N − 2 views as negatives. The value per pair i is the mean of its two
    views' losses, so ``"mean"`` is SimCLR's mean over the 2N views. One (2N)² similarity
    matrix is formed (from unit vectors scaled by 1/τ on one side); self-similarities are
    masked out, never subtracted (e^{1/τ} would swamp the rest). Accuracy: a few ulps of 1/τ,
    absolutely (the loss is log Σ e^{s_j} − s⁺ with both near 1/τ when it approaches 0). An
    empty batch gives an empty result (``"mean"``: 0).
    """
    if z1.shape[0] == 0:  # no pairs: an empty result, still on the tape
        return xp.sum(z1 * z2, axis=-1)
    n = xp.dim(z1, 0)  # a tensor where tf.function knows the batch size only at run time
    u1, u2 = _unit(xp, z1), _unit(xp, z2)
    u = xp.concat([u1, u2], axis=0)
    logits = xp.matmul(u * (1.0 / temperature), xp.matrix_transpose(u))
    device = xp.device_of(z1)  # where the masks and indices made here go: z1's (a GPU, meta)
    logits = xp.where(xp.eye(2 * n, dtype=xp.bool, device=device), -math.inf, logits)
    other = xp.concat([xp.arange(n, 2 * n, device=device), xp.arange(0, n, device=device)])  # each view's positive
    positive = xp.sum(u1 * u2, axis=-1) * (1.0 / temperature)
    nll = xp.softmax_nll(logits, other, axis=1, picked=xp.concat([positive, positive]))
    halves = xp.reshape(nll, (2, -1))  # [view 1's losses, view 2's]
    return 0.5 * (halves[0, :] + halves[1, :])


# --- cosine ---------------------------------------------------------------------------------
def _cosine_shapes(xp, arrays, params):
    a, b = arrays["y_true"], arrays["y_pred"]
    v.check_same_shape(xp, a, b, "y_true", "y_pred")
    axis = params["axis"]
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"`axis` {axis} is out of range: `y_true` and `y_pred` of shape {v.shape_of(a)} need an "
                         f"axis of vectors ({xp.backend}).")


def _cosine_similarity_reference(y_true, y_pred, *, axis, epsilon, m):
    return tuple(-t for t in _exact_cosine_terms(y_true, y_pred, m, floor=epsilon))


@loss(
    family="embedding",
    domain=domains.real_pairs(),
    reference=_cosine_similarity_reference,
    kind="row",
    labels=(),
    shapes=_cosine_shapes,
    conditions={"epsilon": ">= 0", "axis": "int"},
    conventions=(
        Convention("keras.losses.CosineSimilarity", {"epsilon": 1e-7}),
        Convention("torch.nn.functional.cosine_similarity", {"epsilon": 1e-8, "axis": 1}),
        Convention("optax.losses.cosine_similarity"),
    ),
)
def cosine_similarity(y_true, y_pred, *, axis=-1, epsilon=0.0, xp):
    """Keras's cosine-similarity loss: −cos(y_true, y_pred) along ``axis``, in [−1, 1], best at −1.

    Each norm counts as at least ``epsilon`` (Keras: 1e-7, PyTorch's cosine_similarity: 1e-8),
    cos = y·ŷ / (max(‖y‖, ε)·max(‖ŷ‖, ε)). With ε = 0 a zero vector has cosine 0 (loss 0) with
    a zero gradient. Accurate at any magnitude (a vector with itself: −1, to an ulp).
    """
    return -_cosine(xp, y_true, y_pred, axis=axis, floor=epsilon)


def _cosine_distance_reference(y_true, y_pred, *, axis, epsilon, m):
    return (1, *(-t for t in _exact_cosine_terms(y_true, y_pred, m, floor=epsilon)))


@loss(
    family="embedding",
    domain=domains.real_pairs(),
    reference=_cosine_distance_reference,
    kind="row",
    labels=(),
    shapes=_cosine_shapes,
    conditions={"epsilon": ">= 0", "axis": "int"},
    conventions=(Convention("optax.losses.cosine_distance"),),
)
def cosine_distance(y_true, y_pred, *, axis=-1, epsilon=0.0, xp):
    """Cosine distance: 1 − cos(y_true, y_pred) along ``axis``, in [0, 2], best at 0 (optax's).

    Each norm counts as at least ``epsilon``, as in :func:`cosine_similarity`, of which it is
    1 + the value. With ε = 0 a zero vector has cosine 0 (distance 1) with a zero gradient.
    """
    return 1.0 - _cosine(xp, y_true, y_pred, axis=axis, floor=epsilon)


def _cosine_embedding_reference(y_true, x1, x2, *, margin, eps, m):
    t = _exact_cosine_terms(x1, x2, m, shift=eps)
    if y_true == 1:
        return (1, *(-x for x in t))
    return hinge((*t, -margin))


@loss(
    family="embedding",
    domain=domains.pairs(labels="signs"),
    reference=_cosine_embedding_reference,
    kind="row",
    shapes=_pair_shapes,
    conditions={"eps": ">= 0"},
    checks=_check_signs,
    variants=({"margin": 0.25},),
    conventions=(Convention("torch.nn.functional.cosine_embedding_loss", {"eps": 1e-12}),),
)
def cosine_embedding(y_true, x1, x2, *, margin=0.0, eps=0.0, xp):
    """PyTorch's cosine embedding loss: 1 − cos(x1, x2) for y = 1, max(cos(x1, x2) − margin, 0)
    for y = −1, per row. ``eps`` is added to each squared norm (PyTorch: 1e-12),
    cos = x1·x2 / √((‖x1‖² + eps)(‖x2‖² + eps)). Other labels raise ``ValueError`` in eager
    mode and give NaN under a compiler. The second branch is computed as −y·max(cos − margin, 0)
    (y without gradient), so that a NaN label gives NaN. A zero vector has cosine 0 (PyTorch's
    value too): loss 1 for y = 1."""
    cos = _cosine(xp, x1, x2, shift=eps)
    # −y·max(·) is max(·) for y = −1, and NaN for a NaN label, which y > 0 alone would drop; the
    # label stays a constant (no gradient), as in the branch for y = 1.
    return xp.where(y_true > 0, 1.0 - cos, -xp.stop_gradient(y_true) * xp.maximum(cos - margin, 0.0))


# --- ranking --------------------------------------------------------------------------------


def _margin_ranking_reference(y_true, x1, x2, *, margin, m):
    return hinge((-y_true * x1, y_true * x2, margin))


@loss(
    family="ranking",
    domain=domains.ranked_pairs(),
    reference=_margin_ranking_reference,
    checks=_check_signs,
    variants=({"margin": 0.5},),
    conventions=(Convention("torch.nn.functional.margin_ranking_loss"),),
)
def margin_ranking(y_true, x1, x2, *, margin=0.0, xp):
    """PyTorch's margin ranking loss: max(−y·(x1 − x2) + margin, 0), elementwise; y = 1 means
    x1 should rank higher, y = −1 lower. Other labels raise ``ValueError`` in eager mode and give
    NaN under a compiler."""
    return xp.maximum(margin - y_true * (x1 - x2), 0.0)
