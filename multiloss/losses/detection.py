"""Bounding-box losses: generalized, distance and complete IoU of boxes (x1, y1, x2, y2).

A box is the last axis, of size 4: corners (x1, y1) and (x2, y2) with x2 ≥ x1 and y2 ≥ y1
(checked: a ``ValueError`` in eager mode, NaN for that box under a compiler). ``y_true`` holds
the target boxes and ``y_pred`` the predicted ones, one loss per pair; the three losses are
symmetric in the two. A zero-area box and boxes that do not overlap give finite values and
gradients; ``eps`` (torchvision's 1e-7, the default) is added to each denominator as
torchvision does.

All lengths are computed from the coordinates scaled by a power of two near the largest
coordinate of the pair (exact: the loss is a ratio of lengths and areas, the same number), so
that areas neither overflow for coordinates near the dtype's limits nor become subnormal (which
XLA flushes to 0) for tiny ones; ``eps``, an area, is scaled with them. 1 − IoU is computed as
(U − I + ε)/(U + ε), a ratio of non-negative terms that keeps its accuracy as it nears 0.

A NaN coordinate gives NaN for its pair's loss.
"""

from __future__ import annotations

import math

from multiloss import _validation as v
from multiloss import domains
from multiloss.losses._scaling import power_of_two
from multiloss.reference import number
from multiloss.registry import Convention, loss

__all__ = ["complete_box_iou", "distance_box_iou", "generalized_box_iou"]


def _box_shapes(xp, arrays, params):
    y_true, y_pred = arrays["y_true"], arrays["y_pred"]
    v.check_same_shape(xp, y_true, y_pred, "y_true", "y_pred")
    if y_pred.ndim == 0 or y_pred.shape[-1] not in (4, None):
        raise ValueError(f"`y_true` and `y_pred` must hold boxes (x1, y1, x2, y2) on a last axis of size 4; got "
                         f"shape {v.shape_of(y_pred)} ({xp.backend}).")


def _check_boxes(xp, y_true, y_pred, **_):
    return tuple(_box_rule(xp, name, x) for name, x in (("y_true", y_true), ("y_pred", y_pred)))


def _box_rule(xp, name, x):
    """x2 ≥ x1 and y2 ≥ y1 (a NaN breaks no rule); a broken box's x2 or y2 is the value flagged
    (NaN under a compiler, so its pair's loss is NaN)."""
    good = xp.logical_not(x[..., 2:] < x[..., :2])
    return v.Rule(name, x, "boxes (x1, y1, x2, y2) with x2 ≥ x1 and y2 ≥ y1",
                  ok=xp.concat([xp.ones_like(good), good], axis=-1))


def _ratio(xp, n, d, at_zero):
    """n / d (d ≥ 0), and ``at_zero`` where d = 0 (with eps = 0, a pair without area); NaN stays
    NaN. Both are first scaled by a power of two near d (exact: the same quotient), as JAX and
    TensorFlow differentiate n/d through d², which underflows (and XLA flushes to 0) for a tiny d
    where the derivative itself does not (two point boxes: d = the scaled ε)."""
    zero = d == 0
    _, inverse = power_of_two(xp, d)
    return xp.where(zero, at_zero, (n * inverse) / xp.where(zero, 1.0, d * inverse))


class _Pair:
    """The geometry of box pairs, in coordinates scaled by a power of two (see the module
    docstring): widths, heights, the intersection, the union and the enclosing box."""

    def __init__(self, xp, y_true, y_pred, eps):
        size = xp.maximum(xp.max(xp.abs(y_true), axis=-1), xp.max(xp.abs(y_pred), axis=-1))
        _, inverse = power_of_two(xp, size)
        inverse = inverse[..., None]
        t, p = y_true * inverse, y_pred * inverse
        self.xp = xp
        self.true, self.pred = t, p
        self.w_true, self.h_true = t[..., 2] - t[..., 0], t[..., 3] - t[..., 1]
        self.w_pred, self.h_pred = p[..., 2] - p[..., 0], p[..., 3] - p[..., 1]
        low, high = xp.maximum(t[..., :2], p[..., :2]), xp.minimum(t[..., 2:], p[..., 2:])
        overlap = xp.maximum(high - low, 0.0)
        self.intersection = overlap[..., 0] * overlap[..., 1]
        self.union = self.w_true * self.h_true + self.w_pred * self.h_pred - self.intersection
        self.enclosing = xp.maximum(t[..., 2:], p[..., 2:]) - xp.minimum(t[..., :2], p[..., :2])
        # eps is an area: scaled by 1/K², held within the normal numbers (below the largest for
        # tiny boxes, above the smallest for huge ones), where the ratios it enters are 1 or 0 to
        # the dtype's precision anyway; a subnormal ε would make 1/ε's gradient overflow.
        finfo = xp.finfo(y_pred.dtype)
        scaled = (eps * inverse[..., 0]) * inverse[..., 0]
        self.eps = xp.maximum(xp.minimum(scaled, float(finfo.max)), float(finfo.smallest_normal)) if eps else 0.0

    def one_minus_iou(self):
        """1 − I/(U + ε), as (U − I + ε)/(U + ε): 1 where U + ε = 0."""
        gap = self.union - self.intersection
        return _ratio(self.xp, gap + self.eps, self.union + self.eps, 1.0)

    def centre_term(self):
        """ρ²/(c² + ε): the squared distance of the centres over the enclosing box's squared
        diagonal (0 where both are 0)."""
        xp, t, p = self.xp, self.true, self.pred
        dx = ((p[..., 0] + p[..., 2]) - (t[..., 0] + t[..., 2])) * 0.5
        dy = ((p[..., 1] + p[..., 3]) - (t[..., 1] + t[..., 3])) * 0.5
        c = self.enclosing
        return _ratio(xp, dx * dx + dy * dy, c[..., 0] * c[..., 0] + c[..., 1] * c[..., 1] + self.eps, 0.0)


def _angle(xp, w, h):
    """atan2(w, h) for w, h ≥ 0, as atan of the ratio ≤ 1 (accurate, and finite with its
    gradient for h = 0 or w = 0); 0 for w = h = 0 (a point, whose aspect is undefined)."""
    tall = w <= h
    return xp.where(tall, xp.atan(w / xp.where(tall & (h > 0), h, 1.0)),
                    math.pi / 2 - xp.atan(h / xp.where(tall, 1.0, w)))


# --- references: the definitions over scalars ---------------------------------------------------
def _geometry(y_true, y_pred):
    """Areas A (target), B (prediction), the intersection I, the enclosing box's (width,
    height), the centres' offsets (dx, dy), and each box's (width, height)."""
    x1g, y1g, x2g, y2g = y_true
    x1, y1, x2, y2 = y_pred
    wg, hg, w, h = x2g - x1g, y2g - y1g, x2 - x1, y2 - y1
    iw = max(min(x2, x2g) - max(x1, x1g), 0)
    ih = max(min(y2, y2g) - max(y1, y1g), 0)
    cw, ch = max(x2, x2g) - min(x1, x1g), max(y2, y2g) - min(y1, y1g)
    dx, dy = (x1 + x2) / 2 - (x1g + x2g) / 2, (y1 + y2) / 2 - (y1g + y2g) / 2
    return wg * hg, w * h, iw * ih, (cw, ch), (dx, dy), (wg, hg), (w, h)


def _held(x, m):
    """``x`` as a constant of the derivative: rounded to float64, which a central difference's
    step (1e-25, relative) does not move. None where float64 cannot hold it."""
    f = float(x)
    return number(f, m) if f != 0 and math.isfinite(f) else None


def _quotient(parts, d, at_zero, m):
    """Σ parts / d (``at_zero`` where d = 0), as terms: each part over d₀, d held (:func:`_held`),
    and n/d − n/d₀ (≈ 0). Their sum is the quotient; their magnitudes, and their derivatives'
    (dn/d and −n·dd/d²), are what a floating-point evaluation of the quotient and of its
    gradient is accurate relative to."""
    if d == 0:
        return (at_zero,)
    n, held = sum(parts), _held(d, m)
    if held is None:
        return (n / d,)
    return (*(p / held for p in parts), n / d - n / held)


def _jaccard_distance(a, b, i, eps, m):
    """1 − I/(|A ∪ B| + ε) = (|A \\ B| + |B \\ A| + ε)/(|A ∪ B| + ε): the symmetric difference over the
    union; 1 where both are empty and ε = 0."""
    return _quotient((a - i, b - i, eps), a + b - i + eps, 1, m)


def _giou_reference(y_true, y_pred, *, eps, m):
    """1 − IoU + |C \\ (A ∪ B)|/|C| (Rezatofighi et al. 2019), with ε in both denominators."""
    eps = number(eps, m)
    a, b, i, (cw, ch), _, _, _ = _geometry(y_true, y_pred)
    c = cw * ch
    return (*_jaccard_distance(a, b, i, eps, m), *_quotient((c, -a, -b, i), c + eps, 0, m))


def _diou_reference(y_true, y_pred, *, eps, m):
    """1 − IoU + ρ²/c² (Zheng et al. 2020): ρ the distance between the centres, c the
    enclosing box's diagonal; ε in both denominators."""
    eps = number(eps, m)
    a, b, i, (cw, ch), (dx, dy), _, _ = _geometry(y_true, y_pred)
    return (*_jaccard_distance(a, b, i, eps, m), *_quotient((dx * dx, dy * dy), cw * cw + ch * ch + eps, 0, m))


def _ciou_reference(y_true, y_pred, *, eps, m):
    """DIoU + αv (Zheng et al. 2020): v = 4/π²·(arctan(w_gt/h_gt) − arctan(w/h))² (the angles
    atan2(w, h): π/2 for a box of zero height, 0 for a point), weighted by α = v/(1 − IoU + v + ε),
    a constant of the gradient (the paper's gradient; torchvision's no_grad): held (:func:`_held`)."""
    distance = _diou_reference(y_true, y_pred, eps=eps, m=m)
    eps = number(eps, m)
    a, b, i, _, _, (wg, hg), (w, h) = _geometry(y_true, y_pred)
    v = 4 / m.pi**2 * (m.atan2(wg, hg) - m.atan2(w, h)) ** 2
    d = sum(_jaccard_distance(a, b, i, eps, m)) + v + eps
    alpha = 0 if d == 0 else _held(v / d, m) or 0
    return (*distance, alpha * v)


_CONDITIONS = {"eps": ">= 0"}
_COMMON = {"family": "detection", "domain": domains.boxes(), "kind": "row", "shapes": _box_shapes,
           "conditions": _CONDITIONS, "checks": _check_boxes, "variants": ({"eps": 0.0},)}


@loss(reference=_giou_reference,
      conventions=(Convention("torchvision.ops.generalized_box_iou_loss", {"eps": 1e-7}),), **_COMMON)
def generalized_box_iou(y_true, y_pred, *, eps=1e-7, xp):
    """Generalized IoU loss (Rezatofighi et al. 2019): ``1 − IoU + |C \\ (A ∪ B)|/|C|`` of boxes
    (x1, y1, x2, y2) on the last axis.

    IoU = I/(U + ε), with I the intersection's area, ``U = |A| + |B| − I`` the union's, and C the
    smallest box enclosing both; the second term, ``(|C| − U)/(|C| + ε)``, keeps a gradient for
    boxes that do not overlap. ``eps`` (default 1e-7, torchvision's) is added to both
    denominators; with ``eps=0`` a pair of zero-area boxes has IoU 0. In [0, 2); 0 for identical
    boxes up to ε/U. Symmetric in ``y_true`` and ``y_pred``. torchvision:
    ``generalized_box_iou_loss(y_pred, y_true, reduction="none")``.
    """
    pair = _Pair(xp, y_true, y_pred, eps)
    c = pair.enclosing
    area = c[..., 0] * c[..., 1]
    return pair.one_minus_iou() + _ratio(xp, area - pair.union, area + pair.eps, 0.0)


@loss(reference=_diou_reference,
      conventions=(Convention("torchvision.ops.distance_box_iou_loss", {"eps": 1e-7}),), **_COMMON)
def distance_box_iou(y_true, y_pred, *, eps=1e-7, xp):
    """Distance IoU loss (Zheng et al. 2020): 1 − IoU + ρ²/c² of boxes (x1, y1, x2, y2) on the
    last axis.

    ρ is the distance between the boxes' centres and c the diagonal of the smallest box
    enclosing both: the penalty pulls the centres together even where the boxes do not
    overlap, and does not grow with the enclosing box's area as GIoU's does. IoU = I/(U + ε);
    ``eps`` (default 1e-7, torchvision's) is added to U and c². In [0, 2). Symmetric in
    ``y_true`` and ``y_pred``. torchvision: ``distance_box_iou_loss(y_pred, y_true,
    reduction="none")``.
    """
    pair = _Pair(xp, y_true, y_pred, eps)
    return pair.one_minus_iou() + pair.centre_term()


@loss(reference=_ciou_reference,
      conventions=(Convention("torchvision.ops.complete_box_iou_loss", {"eps": 1e-7}),), **_COMMON)
def complete_box_iou(y_true, y_pred, *, eps=1e-7, xp):
    """Complete IoU loss (Zheng et al. 2020): 1 − IoU + ρ²/c² + αv of boxes (x1, y1, x2, y2) on
    the last axis.

    DIoU (:func:`distance_box_iou`) plus an aspect-ratio term: v = 4/π²·(arctan(w_gt/h_gt) −
    arctan(w/h))², weighted by α = v/(1 − IoU + v + ε), which carries no gradient (the paper's
    gradient; torchvision computes α under ``no_grad``). The angles are atan2(w, h): π/2 for a
    box of zero height, 0 for a point (where torchvision's w/h is 0/0: NaN). ``eps`` (default
    1e-7, torchvision's) is added to U, c² and α's denominator. Symmetric in ``y_true`` and
    ``y_pred``. torchvision: ``complete_box_iou_loss(y_pred, y_true, reduction="none")``.
    """
    pair = _Pair(xp, y_true, y_pred, eps)
    one_minus_iou = pair.one_minus_iou()
    gap = _angle(xp, pair.w_true, pair.h_true) - _angle(xp, pair.w_pred, pair.h_pred)
    v = (4.0 / math.pi**2) * (gap * gap)
    alpha = xp.stop_gradient(_ratio(xp, v, one_minus_iou + v + eps, 0.0))
    return one_minus_iou + pair.centre_term() + alpha * v
