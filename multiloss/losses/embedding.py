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
    "circle",
    "contrastive",
    "cosine_distance",
    "cosine_embedding",
    "cosine_similarity",
    "lifted_structured",
    "margin_ranking",
    "npairs",
    "nt_xent",
    "semi_hard_triplet",
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
    ``eps_at="sum"`` (optax's), 1 − cos(a, b) for "cosine", or ``distance(a, b)`` for a
    function."""
    if callable(distance):
        return distance(a, b)
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
    if callable(distance):
        raise ValueError("the reference of triplet_margin takes a named `distance` only; a function's is the "
                         "function itself")
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
    conditions={"margin": ">= 0", "p": ">= 1", "eps": ">= 0", "distance": f"in {DISTANCES} or callable",
                "eps_at": f"in {EPS_AT}"},
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
    ``triplet_margin_with_distance_loss`` with a cosine distance does. ``distance`` may also be
    a function ``distance(x1, x2)`` of two arrays of shape (..., features) returning the
    distances, shape (...): PyTorch's ``triplet_margin_with_distance_loss(distance_function=)``.
    It is called with the backend's own arrays (torch tensors, JAX arrays, ...; float32 for
    16-bit inputs) and must be differentiable, and compilable under a compiler; ``p``, ``eps``
    and ``eps_at`` then do not apply.
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


# --- mined in-batch losses: distances, similarities and masked sums over the whole batch ---------
def _labelled_shapes(xp, arrays, params):
    """``labels`` (batch,) and 2-D ``embeddings`` (batch, features)."""
    _batch_hard_shapes(xp, arrays, params)


def _pairwise(xp, e, squared=False):
    """The (N, N) distances ‖e_i − e_j‖₂ (or their squares), from the differences themselves:
    ‖a‖² + ‖b‖² − 2a·b would lose the small distances to cancellation. The derivative at a zero
    distance (the diagonal, coincident rows) is 0, as in :func:`_norm`."""
    diff = e[:, None, :] - e[None, :, :]
    return xp.sum(diff * diff, axis=-1) if squared else _norm(xp, diff)


def _masked_logsumexp(xp, x, mask):
    """log Σ_j exp(x_ij) over the j where ``mask``, per row, and whether the row has any such j.
    A row without gives −inf with zero gradients: no log 0, and the masked-out values reach
    neither an exp nor the tape (a NaN there stays out; one among the masked-in gives NaN)."""
    some = xp.any(mask, axis=1)
    top = xp.max(xp.where(mask, x, -math.inf), axis=1, keepdims=True)
    top = xp.stop_gradient(xp.where(xp.isfinite(top), top, 0.0))
    total = xp.sum(xp.where(mask, xp.exp(xp.where(mask, x - top, 0.0)), 0.0), axis=1)
    lse = xp.log(xp.where(some, total, 1.0)) + xp.squeeze(top, axis=1)
    return xp.where(some, lse, -math.inf), some


def _empty_batch(xp, embeddings):
    """The result and weights for a batch of no rows: empty, still on the tape."""
    empty = xp.sum(embeddings, axis=-1)
    return empty, empty


def _finite_or_nan(xp, out, *arrays):
    """``out``, or NaN everywhere if an input holds NaN or ±inf: each is in every row's mining,
    which each framework's min, max and comparisons treat NaN in differently."""
    finite = xp.all(xp.isfinite(arrays[0]))
    for a in arrays[1:]:
        finite = finite & xp.all(xp.isfinite(a))
    return xp.where(finite, out, math.nan)


def _lse_terms(logits, parts, m):
    """log Σ_j e^{z_j} as terms: Σ_j p_j·z_j − Σ_j p_j·log p_j (p = softmax(z)), each z_j given as
    the terms ``parts[j]``: the scale then holds what each z_j contributes, not their (cancelling)
    total."""
    top = max(logits)
    lse = top + m.log(m.fsum(m.exp(z - top) for z in logits))
    terms = []
    for z, part in zip(logits, parts):
        p = m.exp(z - lse)
        terms += [p * t for t in part] + [-p * m.log(p)]
    return lse, terms


def _circle_reference(labels, embeddings, *, gamma, margin, remove_diagonal, m):
    """Sun et al. 2020, eq. 4, on the similarities s = e_i·e_j (at most 1): softplus of
    log Σ_n exp(γ·[s_n + m]₊·(s_n − m)) + log Σ_p exp(−γ·[1 + m − s_p]₊·(s_p − 1 + m)) per anchor;
    an anchor without a positive or a negative has no loss (0, weight 0)."""
    g, mg = number(gamma, m), number(margin, m)
    out = []
    for i, (li, ei) in enumerate(zip(labels, embeddings)):
        pos, neg = [], []  # (logit, its terms: the logit's value moved by s's terms at its slope)
        for j, (lj, ej) in enumerate(zip(labels, embeddings)):
            products = [x * y for x, y in zip(ei, ej)]
            s = m.fsum(products)
            if s > 1:  # Keras clips the distance 1 − s at 0
                s, products = number(1.0, m), [number(1.0, m)]
            if lj != li:
                weight = max(s + mg, 0)
                z, slope = g * weight * (s - mg), (2 * g * s if weight > 0 else 0 * s)
                neg.append((z, [z - slope * s, *(slope * t for t in products)]))
            elif j != i or not remove_diagonal:
                weight = max(1 + mg - s, 0)
                z, slope = -g * weight * (s - 1 + mg), (-2 * g * (1 - s) if weight > 0 else 0 * s)
                pos.append((z, [z - slope * s, *(slope * t for t in products)]))
        if not pos or not neg:
            out.append(Weighted((0 * g,), 0))
            continue
        lse_p, terms_p = _lse_terms([z for z, _ in pos], [t for _, t in pos], m)
        lse_n, terms_n = _lse_terms([z for z, _ in neg], [t for _, t in neg], m)
        total = lse_p + lse_n
        sigma = 1 / (1 + m.exp(-total))
        softplus = total + m.log(1 + m.exp(-total)) if total > 0 else m.log(1 + m.exp(total))
        # softplus(L) = σ(L)·L + (softplus(L) − σ(L)·L), L as its terms
        out.append(Weighted((softplus - sigma * total, *(sigma * t for t in terms_p + terms_n)), 1))
    return out


@loss(
    family="embedding",
    domain=domains.mined_embeddings(norm=0.95),
    reference=_circle_reference,
    kind="batch",
    labels=(),
    indices=("labels",),
    shapes=_labelled_shapes,
    conditions={"gamma": "> 0"},
    variants=({"remove_diagonal": False}, {"gamma": 16.0, "margin": 0.25}),
    conventions=(Convention("keras.losses.Circle"),),
)
def circle(labels, embeddings, *, gamma=80.0, margin=0.4, remove_diagonal=True, xp):
    """Circle loss (Sun et al. 2020, "Circle Loss: A Unified Perspective of Pair Similarity
    Optimization"), one value per anchor, on the similarities s = e_a·e_j of its positives p
    (same label; the anchor itself too with ``remove_diagonal=False``) and negatives n:
    softplus(log Σ_n exp(γ·α_n·(s_n − Δ_n)) + log Σ_p exp(−γ·α_p·(s_p − Δ_p))), with
    α_p = [1 + m − s_p]₊, α_n = [s_n + m]₊, Δ_p = 1 − m, Δ_n = m (m = ``margin``, γ = ``gamma``).

    Keras's ``Circle`` exactly: the embeddings are taken as they are (the paper's cosine
    similarity when they have unit length, which Keras expects of a ``UnitNormalization``
    layer; normalize them first otherwise), and each distance 1 − s is clipped at 0. An anchor
    without a positive or a negative in the batch gives 0 and is left out of the ``"mean"``
    (weight 0), as Keras's mask of zero losses leaves it out of its mean; a batch without any
    such anchor gives 0. A NaN or ±inf embedding gives NaN for every anchor.
    """
    if embeddings.shape[0] == 0:
        return _empty_batch(xp, embeddings)
    n = xp.dim(embeddings, 0)
    distance = xp.maximum(1.0 - xp.matmul(embeddings, xp.matrix_transpose(embeddings)), 0.0)
    same = labels[:, None] == labels[None, :]
    positives = same
    if remove_diagonal:
        positives = same & xp.logical_not(xp.eye(n, dtype=xp.bool, device=xp.device_of(embeddings)))
    negatives = xp.logical_not(same)
    # In distances d = 1 − s: α_p = [m + d]₊, s_p − Δ_p = m − d; α_n = [1 + m − d]₊, s_n − Δ_n = 1 − m − d.
    lse_p, any_p = _masked_logsumexp(xp, -gamma * xp.maximum(margin + distance, 0.0) * (margin - distance), positives)
    lse_n, any_n = _masked_logsumexp(
        xp, gamma * xp.maximum(1.0 + margin - distance, 0.0) * (1.0 - margin - distance), negatives)
    valid = any_p & any_n
    out = xp.where(valid, xp.softplus(xp.where(valid, lse_p + lse_n, 0.0)), 0.0)
    return _finite_or_nan(xp, out, embeddings), xp.astype(valid, embeddings.dtype)


def _semi_hard_triplet_reference(labels, embeddings, *, margin, squared, m):
    """FaceNet's semi-hard negative for each (anchor, positive) pair: the nearest negative
    farther than the positive; without one, the farthest negative (TF-Addons). One item per
    anchor: the sum over its positives, weighted by their number."""

    def distance(a, b):
        d2 = m.fsum((x - y) ** 2 for x, y in zip(a, b))
        return d2 if squared else m.sqrt(d2)

    out = []
    for i, (li, anchor) in enumerate(zip(labels, embeddings)):
        negatives = [distance(anchor, e) for lj, e in zip(labels, embeddings) if lj != li]
        terms, count = [], 0
        for j, (lj, positive) in enumerate(zip(labels, embeddings)):
            if lj != li or j == i or not negatives:
                continue
            d_ap = distance(anchor, positive)
            beyond = [d for d in negatives if d > d_ap]
            terms += hinge((d_ap, -(min(beyond) if beyond else max(negatives)), margin))
            count += 1
        out.append(Weighted(tuple(terms) or (0,), count))
    return out


@loss(
    family="embedding",
    domain=domains.mined_embeddings(),
    reference=_semi_hard_triplet_reference,
    kind="batch",
    labels=(),
    indices=("labels",),
    shapes=_labelled_shapes,
    conditions={"margin": ">= 0"},
    variants=({"squared": False}, {"margin": 0.25}),
)
def semi_hard_triplet(labels, embeddings, *, margin=1.0, squared=True, xp):
    """Triplet loss with online semi-hard negative mining (Schroff, Kalenichenko & Philbin 2015,
    FaceNet), as TF-Addons' ``TripletSemiHardLoss`` defines it: for every anchor a and positive
    p ≠ a of its label, max(d(a, p) − d(a, n) + margin, 0) with n the semi-hard negative, the
    nearest negative farther than p (d(a, n) > d(a, p)), or the farthest negative if there is
    none.

    d is the squared Euclidean distance (FaceNet's, and TF-Addons' default ``"L_2"``), or the
    distance itself with ``squared=False``. The value per anchor is the sum over its
    positives, weighted by their number, so that ``"mean"`` is the mean over (anchor, positive)
    pairs, TF-Addons' value. A pair whose anchor has no negative in the batch is left out
    (TF-Addons gives it margin + d(a, p)); a batch without any pair gives 0. Mining uses
    masked minima and maxima over an (N, N, N) comparison, no boolean indexing: O(N³) memory and
    time, as TF-Addons' tiling. Distances are formed from the differences, (N, N, features). A
    NaN or ±inf embedding gives NaN for every anchor.
    """
    if embeddings.shape[0] == 0:
        return _empty_batch(xp, embeddings)
    n = xp.dim(embeddings, 0)
    d = _pairwise(xp, embeddings, squared)
    same = labels[:, None] == labels[None, :]
    negatives = xp.logical_not(same)
    positives = same & xp.logical_not(xp.eye(n, dtype=xp.bool, device=xp.device_of(embeddings)))
    # [a, p, n]: n is a negative of a farther from a than p is
    beyond = negatives[:, None, :] & (d[:, None, :] > d[:, :, None])
    nearest_beyond = xp.min(xp.where(beyond, d[:, None, :], math.inf), axis=2)
    farthest = xp.max(xp.where(negatives, d, -math.inf), axis=1)
    negative = xp.where(xp.any(beyond, axis=2), nearest_beyond, farthest[:, None])
    valid = positives & xp.any(negatives, axis=1)[:, None]
    pairs = xp.where(valid, xp.maximum(d - xp.where(valid, negative, d) + margin, 0.0), 0.0)
    out = xp.sum(pairs, axis=1)
    return _finite_or_nan(xp, out, embeddings), xp.sum(xp.astype(valid, embeddings.dtype), axis=1)


def _lifted_structured_reference(labels, embeddings, *, margin, m):
    """Song et al. 2016, eq. 4: J_ij = log(Σ_{k ∈ N(i)} e^{m − D_ik} + Σ_{l ∈ N(j)} e^{m − D_jl}) + D_ij
    for each positive pair, and ½·max(J_ij, 0)², summed per anchor over its positives (weight:
    their number; each pair is counted from both ends)."""
    n, mg = len(labels), number(margin, m)
    dist = [[m.sqrt(m.fsum((x - y) ** 2 for x, y in zip(a, b))) for b in embeddings] for a in embeddings]
    out = []
    for i in range(n):
        terms, count = [], 0
        for j in range(n):
            if labels[j] != labels[i] or j == i:
                continue
            count += 1
            others = [(r, k) for r in (i, j) for k in range(n) if labels[k] != labels[r]]
            if not others:
                continue
            lse, parts = _lse_terms([mg - dist[a][k] for a, k in others], [[mg, -dist[a][k]] for a, k in others], m)
            total = lse + dist[i][j]
            if total > 0:
                terms += [total / 2 * t for t in (*parts, dist[i][j])]
        out.append(Weighted(tuple(terms) or (0,), count))
    return out


@loss(
    family="embedding",
    domain=domains.mined_embeddings(),
    reference=_lifted_structured_reference,
    kind="batch",
    labels=(),
    indices=("labels",),
    shapes=_labelled_shapes,
    conditions={"margin": ">= 0"},
    variants=({"margin": 2.0},),
)
def lifted_structured(labels, embeddings, *, margin=1.0, xp):
    """Lifted structured loss (Song, Xiang, Jegelka & Savarese 2016, "Deep Metric Learning via
    Lifted Structured Feature Embedding"), its smooth upper bound: for each positive pair (i, j),
    J_ij = log(Σ_{k ∈ N(i)} exp(margin − D_ik) + Σ_{l ∈ N(j)} exp(margin − D_jl)) + D_ij, N(i) the
    negatives of i, D the Euclidean distance; the loss is 1/(2|P|)·Σ_{(i,j) ∈ P} max(J_ij, 0)²
    over the positive pairs P.

    As TF-Addons' ``lifted_struct_loss``: the value per anchor i is ½·Σ_j max(J_ij, 0)² over its
    positives j, weighted by their number, so that ``"mean"`` is the paper's (and TF-Addons')
    value. A pair with no negative for either end gives 0 (TF-Addons: NaN, for a batch of one
    class). The log-sums are taken per row with their maximum shifted out, then joined per pair.
    A NaN or ±inf embedding gives NaN for every anchor.
    """
    if embeddings.shape[0] == 0:
        return _empty_batch(xp, embeddings)
    n = xp.dim(embeddings, 0)
    d = _pairwise(xp, embeddings)
    same = labels[:, None] == labels[None, :]
    positives = same & xp.logical_not(xp.eye(n, dtype=xp.bool, device=xp.device_of(embeddings)))
    lse, some = _masked_logsumexp(xp, margin - d, xp.logical_not(same))
    either = some[:, None] | some[None, :]
    # log(e^a + e^b) per pair: one end without negatives has −inf, whose e^(a − top) is 0 with no
    # gradient; a pair with neither (log 0) computes log 2 instead and is masked out below.
    a, b = xp.where(either, lse[:, None], 0.0), xp.where(either, lse[None, :], 0.0)
    top = xp.stop_gradient(xp.maximum(a, b))
    joint = xp.log(xp.exp(a - top) + xp.exp(b - top)) + top
    valid = positives & either
    hinge_ = xp.maximum(xp.where(valid, joint + d, 0.0), 0.0)
    out = 0.5 * xp.sum(hinge_ * hinge_, axis=1)
    return _finite_or_nan(xp, out, embeddings), xp.sum(xp.astype(positives, embeddings.dtype), axis=1)


def _npairs_shapes(xp, arrays, params):
    shape = _embeddings(xp, arrays, ("anchors", "positives"))
    if len(shape) != 2:
        raise ValueError(f"`anchors` and `positives` must be 2-D (batch, features); got {shape} ({xp.backend}).")
    _label_shape(xp, arrays["labels"], "labels", shape, "`anchors`")


def _npairs_reference(labels, anchors, positives, *, m):
    """Sohn 2016's multi-class N-pair loss with TF-Addons' targets: −Σ_j t_ij·log softmax_j(a_i·p_j),
    t_i uniform over the j of label i."""
    out = []
    for li, a in zip(labels, anchors):
        products = [[x * y for x, y in zip(a, p)] for p in positives]
        _, terms = _lse_terms([m.fsum(t) for t in products], products, m)
        same = [j for j, lj in enumerate(labels) if lj == li]
        out.append((*terms, *(-x / len(same) for j in same for x in products[j])))
    return out


@loss(
    family="embedding",
    domain=domains.paired_embeddings(),
    reference=_npairs_reference,
    kind="batch",
    labels=(),
    indices=("labels",),
    shapes=_npairs_shapes,
)
def npairs(labels, anchors, positives, *, xp):
    """Multi-class N-pair loss (Sohn 2016, "Improved Deep Metric Learning with Multi-class N-pair
    Loss Objective"): per anchor i, the softmax cross-entropy of the similarities a_i·p_j to every
    positive j in the batch, log Σ_j exp(a_i·p_j) − Σ_j t_ij·a_i·p_j.

    The targets t_i are TF-Addons' (``npairs_loss``): uniform over the positives j with the
    label of i, so that with distinct labels (the paper's N pairs of N classes) this is
    log(1 + Σ_{j ≠ i} exp(a_i·p_j − a_i·p_i)), the paper's eq. 6. No L2 penalty on the embeddings
    (the paper's and tf.contrib's ``reg_lambda``): add it to the loss if wanted. One (N, N)
    similarity matrix is formed from one matrix product. A NaN or ±inf in either input gives NaN
    for every anchor (each positive is in every anchor's softmax).
    """
    if anchors.shape[0] == 0:
        return xp.sum(anchors * positives, axis=-1)
    logits = xp.matmul(anchors, xp.matrix_transpose(positives))
    targets = xp.astype(labels[:, None] == labels[None, :], logits.dtype)
    targets = targets / xp.sum(targets, axis=1, keepdims=True)
    return _finite_or_nan(xp, xp.logsumexp(logits, axis=1) - xp.sum(targets * logits, axis=1), anchors, positives)


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
    variants=({"epsilon": 6.0},),
    conventions=(Convention("optax.losses.cosine_distance"),),
)
def cosine_distance(y_true, y_pred, *, axis=-1, epsilon=0.0, xp):
    """Cosine distance: 1 − cos(y_true, y_pred) along ``axis``, in [0, 2], best at 0 (optax's).

    Each norm counts as at least ``epsilon``, as in :func:`cosine_similarity`, of which it is
    1 + the value: cos = y·ŷ / (max(‖y‖, ε)·max(‖ŷ‖, ε)). optax's ``epsilon`` clips each squared
    norm instead, ‖y‖ = √max(Σy², ε_optax): ours is the square root of optax's (ε_optax = ε²). With
    ε = 0 a zero vector has cosine 0 (distance 1) with a zero gradient (optax: NaN).
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
