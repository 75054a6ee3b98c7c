"""Soft overlap losses for segmentation: Dice and Tversky, one value per sample.

Both are computed from their non-negative mismatch terms, never as 1 − ratio: for
y, ŷ ∈ [0, 1], 1 − (2Σyŷ + s)/(Σy + Σŷ + s) = Σ[y(1 − ŷ) + (1 − y)ŷ] / (Σy + Σŷ + s), a sum of
non-negative terms, so the loss keeps its relative accuracy as it approaches 0 rather than
cancelling to an absolute one. ``axis=None`` sums over every axis but the first (the batch
axis); pass e.g. ``axis=(1, 2)`` on (N, H, W, C) inputs for one value per sample and class.
"""

from __future__ import annotations

from multiloss import _validation as v
from multiloss import domains
from multiloss.registry import DTYPE, Fixed, Native, loss

__all__ = ["dice", "tversky"]


def _axes(x, axis):
    return tuple(range(1, x.ndim)) if axis is None else axis


def _overlap_shapes(xp, arrays, params):
    y_true, y_pred = arrays["y_true"], arrays["y_pred"]
    v.check_same_shape(xp, y_true, y_pred, "y_true", "y_pred")
    if params["axis"] is None and y_pred.ndim < 2:
        raise ValueError(
            f"`y_true` and `y_pred` need a batch axis and at least one more for axis=None; got shape "
            f"{v.shape_of(y_pred)} ({xp.backend})."
        )


def _check_overlap(xp, y_true, y_pred, **_):
    v.check_bound(xp, y_true, "y_true", "in [0, 1] (a mask)", lower=0.0, upper=1.0)
    v.check_bound(xp, y_pred, "y_pred", "a probability in [0, 1]", lower=0.0, upper=1.0)


def _ratio(xp, penalty, denominator):
    """penalty / denominator, and 0 for 0/0 (an empty mask predicted empty, with smooth = 0)."""
    positive = denominator > 0
    return xp.where(positive, penalty / xp.where(positive, denominator, 1.0), 0.0)


_KERAS_EPSILON = ("Keras has no smoothing: it adds ε = 1e-7 to the denominator only, and its default axis=None "
                  "reduces the whole batch to one value (keras#19637); our smooth = 0 differs from it by "
                  "a relative ε/(Σy + Σŷ).")
_OPTAX_LAYOUT = ("optax.losses.dice_loss applies softmax (sigmoid for one channel) unless apply_softmax=False, "
                 "which demands probabilities summing to 1 over the last (class) axis; with reduction='none' it "
                 "gives one value per sample and class, summed over axes 1 … n−2.")


@loss(
    family="segmentation",
    domain=domains.masks(),
    shapes=_overlap_shapes,
    conditions={"smooth": ">= 0"},
    checks=_check_overlap,
    variants=({"smooth": 0.0},),
    natives=(
        Native("keras", "keras.losses.Dice", order=("y_true", "y_pred"), construct=True, exact=False,
               kwargs={"axis": "axis", "reduction": Fixed(None), "dtype": DTYPE}, when={"smooth": 0.0}, notes=(_KERAS_EPSILON,)),
        Native("optax", "optax.losses.dice_loss", order=("y_pred", "y_true"), exact=False,
               kwargs={"smooth": lambda p, dtype: p["smooth"] / 2, "apply_softmax": Fixed(False),
                       "reduction": Fixed("none"), "axis": "axis"},
               notes=("optax's dice_loss is Tversky's form, (I + s)/(I + ½(Σŷ − I) + ½(Σy − I) + s) = "
                      "(2I + 2s)/(Σy + Σŷ + 2s): its smooth s is our 2s. optax defaults to s = 1.",
                      _OPTAX_LAYOUT)),
    ),
)
def dice(y_true, y_pred, *, smooth=1.0, axis=None, xp):
    """Soft Dice loss (Milletari et al. 2016): 1 − (2Σyŷ + s)/(Σy + Σŷ + s) over ``axis``, s = ``smooth``.

    ``y_true`` is a mask (soft allowed) and ``y_pred`` a probability, each in [0, 1] (checked in
    eager mode). ``smooth`` (default 1, as optax) keeps an empty mask's loss defined and its
    gradient alive; with ``smooth=0`` an empty mask predicted empty gives 0. dice(smooth=2s)
    equals tversky(alpha=½, beta=½, smooth=s).
    """
    axes = _axes(y_pred, axis)
    mismatch = xp.sum(y_true * (1.0 - y_pred) + (1.0 - y_true) * y_pred, axis=axes)
    return _ratio(xp, mismatch, xp.sum(y_true + y_pred, axis=axes) + smooth)


def _keras_tversky(keras_name: str):
    """Our parameter for Keras's ``alpha`` / ``beta``: Keras ≤ 3.15.1 weights false negatives by
    alpha and false positives by beta (keras#23333 fixed it after 3.15.1)."""

    def value(params, dtype):
        import keras

        version = tuple(int(x) for x in keras.__version__.split(".")[:3] if x.isdigit())
        swapped = version <= (3, 15, 1)
        return params[{"alpha": "beta", "beta": "alpha"}[keras_name] if swapped else keras_name]

    return value


@loss(
    family="segmentation",
    domain=domains.masks(),
    shapes=_overlap_shapes,
    conditions={"alpha": ">= 0", "beta": ">= 0", "smooth": ">= 0"},
    checks=_check_overlap,
    variants=({"alpha": 0.3, "beta": 0.7}, {"alpha": 0.7, "beta": 0.3, "smooth": 0.0}),
    natives=(
        Native("keras", "keras.losses.Tversky", order=("y_true", "y_pred"), construct=True, exact=False,
               kwargs={"alpha": _keras_tversky("alpha"), "beta": _keras_tversky("beta"), "axis": "axis",
                       "reduction": Fixed(None), "dtype": DTYPE},
               when={"smooth": 0.0},
               notes=("Keras 3.15.1 weights false negatives by alpha and false positives by beta, the reverse "
                      "of its docstring and the paper (fixed after 3.15.1 by keras#23333).", _KERAS_EPSILON)),
        Native("optax", "optax.losses.dice_loss", order=("y_pred", "y_true"), exact=False,
               kwargs={"alpha": "alpha", "beta": "beta", "smooth": "smooth", "apply_softmax": Fixed(False),
                       "reduction": Fixed("none"), "axis": "axis"},
               notes=("optax's dice_loss with alpha (false positives) and beta (false negatives) is this Tversky "
                      "loss.", _OPTAX_LAYOUT)),
    ),
)
def tversky(y_true, y_pred, *, alpha=0.5, beta=0.5, smooth=1.0, axis=None, xp):
    """Tversky loss (Salehi et al. 2017): 1 − (TP + s)/(TP + α·FP + β·FN + s) over ``axis``.

    TP = Σyŷ, FP = Σ(1 − y)ŷ, FN = Σy(1 − ŷ): α weights false positives and β false negatives,
    as in the paper and optax. Computed as (α·FP + β·FN)/(TP + α·FP + β·FN + s). With α = β = ½
    it is dice(smooth=2s). Inputs and ``axis`` as for :func:`dice`.
    """
    axes = _axes(y_pred, axis)
    tp = xp.sum(y_true * y_pred, axis=axes)
    penalty = alpha * xp.sum((1.0 - y_true) * y_pred, axis=axes) + beta * xp.sum(y_true * (1.0 - y_pred), axis=axes)
    return _ratio(xp, penalty, tp + penalty + smooth)
