"""The frameworks' own detection losses (:mod:`multiloss.losses.detection`): torchvision.ops's
box losses, and the 1-D slice ``multiloss plot`` draws of them: a predicted box sliding along x
past the target box."""

from __future__ import annotations

from multiloss.losses import detection as losses
from multiloss.natives import Native, register
from multiloss.plot import Sweep, grid

_UNCHECKED = ("torchvision cannot be imported beside the CPU torch wheel these tests run on (the only build "
              "that loads here is a 5.5 GB CUDA one): checked against the mpmath reference and worked cases "
              "(tests/test_detection.py) instead")
_NONE = "Keras, optax and scikit-learn have no box regression loss (KerasCV's IoU losses are not Keras 3's)."
_REDUCTION = ("torchvision's default reduction is 'none', one loss per box pair ('mean' and 'sum' optional); "
              "ours is 'mean'.")
_ORDER = ("torchvision takes (boxes1, boxes2) and the loss is symmetric: either may be the target; its "
          "variable names read boxes2 as the ground truth, our y_true.")
_CHECKS = ("torchvision does not check the boxes (its docs ask for 0 ≤ x1 < x2 and 0 ≤ y1 < y2; an inverted box "
           "silently gives a number); we raise for x2 < x1 or y2 < y1 and accept negative coordinates, which the "
           "losses do not depend on (they are invariant under translation).")
_TOUCHING = ("Where two boxes touch (zero overlap, exactly) torchvision's strict overlap mask gives the "
             "intersection no gradient; ours takes half of its one-sided slope there.")
_DTYPE = ("torchvision upcasts integer boxes to float and computes float16 in float16; we accept integer "
          "targets and compute float16 and bfloat16 in float32.")
_FIELDS = {
    "unchecked": _UNCHECKED,
    "label_format": "boxes (x1, y1, x2, y2), shape (N, 4) or (4,), the same shape for both",
}


def _signature(name: str) -> str:
    return f"torchvision.ops.{name}(boxes1, boxes2, reduction='none', eps=1e-07)"


def _sliding_sweep(params, x_range):
    """The unit target box [0, 1]², and a 1 × ½ prediction centred on it vertically, sliding
    along x: x is its left edge (touching at ±1, centred at −¼)."""

    def build(xp, x):
        z = xp.zeros_like(x)
        return {"y_true": xp.stack([z, z, z + 1.0, z + 1.0], axis=-1),
                "y_pred": xp.stack([x, z + 0.25, x + 1.0, z + 0.75], axis=-1)}

    marks = (-1.0, 0.0, 1.0)
    return Sweep("x1 of y_pred = [x1, ¼, x1 + 1, ¾] (y_true = [0, 0, 1, 1])", "x1",
                 grid(*(x_range or (-3.0, 3.0)), marks), {"1 × ½ box past the unit box": build}, marks=marks)


register(
    losses.generalized_box_iou,
    Native("torchvision.ops.generalized_box_iou_loss", {"eps": "eps"}, signature=_signature("generalized_box_iou_loss"),
           reduction="'none': one value per box pair",
           safeguards="eps = 1e-7 added to the union's and the enclosing box's areas",
           notes=(_REDUCTION, _ORDER, _CHECKS, _TOUCHING, _DTYPE), **_FIELDS),
    absent=dict.fromkeys(("keras", "optax", "sklearn"), _NONE),
    sweep=_sliding_sweep,
)

register(
    losses.distance_box_iou,
    Native("torchvision.ops.distance_box_iou_loss", {"eps": "eps"}, signature=_signature("distance_box_iou_loss"),
           reduction="'none': one value per box pair",
           safeguards="eps = 1e-7 added to the union's area and the enclosing box's squared diagonal",
           notes=(_REDUCTION, _ORDER, _CHECKS, _TOUCHING, _DTYPE), **_FIELDS),
    absent=dict.fromkeys(("keras", "optax", "sklearn"), _NONE),
    sweep=_sliding_sweep,
)

register(
    losses.complete_box_iou,
    Native("torchvision.ops.complete_box_iou_loss", {"eps": "eps"}, signature=_signature("complete_box_iou_loss"),
           reduction="'none': one value per box pair",
           safeguards=("eps = 1e-7 added to the union's area, the enclosing box's squared diagonal and α's "
                       "denominator; none in w/h"),
           notes=(_REDUCTION, _ORDER,
                  ("α = v/(1 − IoU + v + ε) carries no gradient in torchvision (no_grad) as in the paper, and "
                   "here (stop_gradient)."),
                  ("torchvision's aspect term takes atan(w/h): a box of zero height gives π/2 with a NaN gradient "
                   "and a point box (w = h = 0) NaN; ours takes atan2(w, h): the same π/2 with a finite gradient, "
                   "and 0 for a point."),
                  _CHECKS, _TOUCHING, _DTYPE), **_FIELDS),
    absent=dict.fromkeys(("keras", "optax", "sklearn"), _NONE),
    sweep=_sliding_sweep,
)
