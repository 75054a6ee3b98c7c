"""Soft overlap losses for segmentation: Dice and Tversky, one value per sample.

Both are computed from their non-negative mismatch terms, never as 1 − ratio: for
y, ŷ ∈ [0, 1], 1 − (2Σyŷ + s)/(Σy + Σŷ + s) = Σ[y(1 − ŷ) + (1 − y)ŷ] / (Σy + Σŷ + s), a sum of
non-negative terms, so the loss keeps its relative accuracy as it approaches 0 rather than
cancelling to an absolute one. ``axis`` says what is summed: None every axis but the first
(the batch axis), one value per sample; "spatial" every axis but the first and last, one
value per sample and class of channels-last (N, ..., C) inputs (optax's default); "all" every
axis, one value for the whole batch (Keras's default); or the given axes.
"""

from __future__ import annotations

from multiloss import _validation as v
from multiloss import domains
from multiloss.registry import DTYPE, Fixed, Native, loss

__all__ = ["dice", "tversky"]


AXES = (None, "spatial", "all")


def _axes(x, axis):
    if axis is None:
        return tuple(range(1, x.ndim))
    if axis == "spatial":
        return tuple(range(1, x.ndim - 1))
    return tuple(range(x.ndim)) if axis == "all" else axis


def _overlap_shapes(xp, arrays, params):
    y_true, y_pred = arrays["y_true"], arrays["y_pred"]
    v.check_same_shape(xp, y_true, y_pred, "y_true", "y_pred")
    axis = params["axis"]
    if isinstance(axis, str) and axis not in AXES:
        raise ValueError(f"`axis` must be one of {AXES}, an int or a tuple of ints; got {axis!r}.")
    if axis in (None, "spatial") and y_pred.ndim < 2:
        raise ValueError(
            f"`y_true` and `y_pred` need a batch axis and at least one more for axis={axis!r}; got shape "
            f"{v.shape_of(y_pred)} ({xp.backend})."
        )
    if params["from_logits"] and y_pred.ndim == 0:
        raise ValueError(
            f"`y_pred` needs a class axis (the last) for from_logits=True; got a 0-D array ({xp.backend})."
        )


def _check_overlap(xp, y_true, y_pred, *, from_logits, **_):
    v.check_bound(xp, y_true, "y_true", "in [0, 1] (a mask)", lower=0.0, upper=1.0)
    if not from_logits:
        v.check_bound(xp, y_pred, "y_pred", "a probability in [0, 1]", lower=0.0, upper=1.0)


def _probabilities(xp, y_pred, from_logits):
    """(p, 1 − p): ``y_pred`` itself, or from logits its softmax over the last axis, or its sigmoid
    when that axis has one channel (optax's apply_softmax).

    1 − p is the other classes' sum where p may be near 1 (only at the largest logit, tied
    classes sharing it), and p above ½ is 1 minus it; elsewhere p ≤ ½ and 1 − p does not
    cancel. (−expm1(log p) would too, but PyTorch and JAX differentiate expm1 as expm1(x) + 1,
    which cancels there.)
    """
    if not from_logits:
        return y_pred, 1.0 - y_pred
    if y_pred.shape[-1] == 1:
        return xp.exp(xp.log_sigmoid(y_pred)), xp.exp(xp.log_sigmoid(-y_pred))
    p = xp.exp(xp.log_softmax(y_pred, axis=-1))
    top = y_pred == xp.max(y_pred, axis=-1, keepdims=True)
    others = xp.sum(xp.where(top, 0.0, p), axis=-1, keepdims=True)
    ties = xp.sum(xp.astype(top, p.dtype), axis=-1, keepdims=True) - 1.0
    # Above ½ (one top class), p as 1 − the others' sum too: autodiff of exp(log_softmax) forms
    # its derivative p(1 − p) with 1 − p cancelling, which the others' sum does not.
    saturated = top & (p > 0.5)
    return xp.where(saturated, 1.0 - others, p), xp.where(top, others + ties * p, 1.0 - p)


def _ratio(xp, penalty, denominator):
    """penalty / denominator, and 0 for 0/0 (an empty mask predicted empty, with smooth = 0)."""
    positive = denominator > 0
    return xp.where(positive, penalty / xp.where(positive, denominator, 1.0), 0.0)


_KERAS_EPSILON = ("Keras has no smoothing: it adds ε = 1e-7 to the denominator only, and its default axis=None "
                  "reduces the whole batch to one value (keras#19637): our smooth=0, epsilon=1e-7, axis='all'.")
_OPTAX_LAYOUT = ("optax.losses.dice_loss applies softmax (sigmoid for one channel) unless apply_softmax=False "
                 "(our from_logits), which demands probabilities summing to 1 over the last (class) axis; it sums "
                 "axes 1 … n−2 (our axis='spatial') per sample and class, then averages the classes.")
_NONE = "PyTorch and scikit-learn have no Dice or Tversky loss (MONAI's are channels-first)."
_KERAS_SAFEGUARDS = "ε = 1e-7 added to the denominator only"
_KERAS_LABELS = "y_pred's shape; probabilities (no activation)"
_OPTAX_LABELS = "one-hot or binary masks, class axis last (predictions: logits by default)"


def _keras_axis(params, dtype):
    """Keras's ``axis`` for ours: its None is our "all" (ours None and "spatial" depend on the rank)."""
    return None if params["axis"] == "all" else params["axis"]


def _optax_axis(params, dtype):
    """optax's ``axis`` for ours: its None is our "spatial"."""
    return None if params["axis"] == "spatial" else params["axis"]


@loss(
    family="segmentation",
    domain=domains.masks(),
    shapes=_overlap_shapes,
    conditions={"smooth": ">= 0", "epsilon": ">= 0"},
    checks=_check_overlap,
    variants=({"smooth": 0.0}, {"smooth": 0.0, "epsilon": 1e-7}, {"from_logits": True}),
    natives=(
        Native("keras", "keras.losses.Dice", order=("y_true", "y_pred"), construct=True, exact=False,
               kwargs={"axis": _keras_axis, "reduction": Fixed(None), "dtype": DTYPE},
               when={"smooth": 0.0, "from_logits": False}, convention={"smooth": 0.0, "epsilon": 1e-7, "axis": "all"},
               signature="keras.losses.Dice(reduction='sum_over_batch_size', name='dice', axis=None, dtype=None)",
               reduction="axis=None sums every axis, the batch's too: one value per batch",
               safeguards=_KERAS_SAFEGUARDS, label_format=_KERAS_LABELS, notes=(_KERAS_EPSILON, _NONE)),
        Native("optax", "optax.losses.dice_loss", order=("y_pred", "y_true"), per="last_axis", exact=False,
               kwargs={"smooth": lambda p, dtype: p["smooth"] / 2, "apply_softmax": "from_logits", "axis": _optax_axis},
               when={"epsilon": 0.0}, convention={"smooth": 2.0, "from_logits": True, "axis": "spatial"},
               signature="optax.losses.dice_loss(predictions, targets, *, class_weights=None, smooth=1.0, alpha=0.5, "
                         "beta=0.5, apply_softmax=True, reduction='mean', ignore_background=False, axis=None)",
               reduction="per sample and class over axes 1 … n−2, then the mean over classes",
               safeguards="smooth = 1 in numerator and denominator", label_format=_OPTAX_LABELS,
               notes=(("optax's dice_loss is Tversky's form, (I + s)/(I + ½(Σŷ − I) + ½(Σy − I) + s) = "
                       "(2I + 2s)/(Σy + Σŷ + 2s): its smooth s is our 2s. optax defaults to s = 1."),
                      _OPTAX_LAYOUT)),
    ),
)
def dice(y_true, y_pred, *, smooth=1.0, axis=None, epsilon=0.0, from_logits=False, xp):
    """Soft Dice loss (Milletari et al. 2016): 1 − (2Σyŷ + s)/(Σy + Σŷ + s + ε) over ``axis``,
    s = ``smooth``, ε = ``epsilon`` (in the denominator only: Keras's 1e-7).

    ``y_true`` is a mask (soft allowed) and ``y_pred`` a probability, each in [0, 1] (checked in
    eager mode), or with ``from_logits`` logits: softmax over the last axis, sigmoid if it has
    one channel (optax). ``smooth`` (default 1; optax's default 1 is our 2) keeps an empty mask's
    loss defined and its gradient alive; with ``smooth=0`` an empty mask predicted empty gives 0.
    dice(smooth=2s) equals tversky(alpha=½, beta=½, smooth=s).
    """
    axes = _axes(y_pred, axis)
    p, q = _probabilities(xp, y_pred, from_logits)
    mismatch = xp.sum(y_true * q + (1.0 - y_true) * p, axis=axes)
    return _ratio(xp, mismatch + epsilon, xp.sum(y_true + p, axis=axes) + (smooth + epsilon))


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
    conditions={"alpha": ">= 0", "beta": ">= 0", "smooth": ">= 0", "epsilon": ">= 0"},
    checks=_check_overlap,
    variants=({"alpha": 0.3, "beta": 0.7}, {"alpha": 0.7, "beta": 0.3, "smooth": 0.0},
              {"alpha": 0.2, "beta": 0.8, "smooth": 0.0, "epsilon": 1e-7}),
    natives=(
        Native("keras", "keras.losses.Tversky", order=("y_true", "y_pred"), construct=True, exact=False,
               kwargs={"alpha": _keras_tversky("alpha"), "beta": _keras_tversky("beta"), "axis": _keras_axis,
                       "reduction": Fixed(None), "dtype": DTYPE},
               when={"smooth": 0.0, "from_logits": False}, convention={"smooth": 0.0, "epsilon": 1e-7, "axis": "all"},
               signature="keras.losses.Tversky(alpha=0.5, beta=0.5, reduction='sum_over_batch_size', name='tversky', "
                         "axis=None, dtype=None)",
               reduction="axis=None sums every axis, the batch's too: one value per batch",
               safeguards=_KERAS_SAFEGUARDS, label_format=_KERAS_LABELS,
               notes=(("Keras 3.15.1 weights false negatives by alpha and false positives by beta, the reverse "
                       "of its docstring and the paper (fixed after 3.15.1 by keras#23333)."), _KERAS_EPSILON, _NONE)),
        Native("optax", "optax.losses.dice_loss", order=("y_pred", "y_true"), per="last_axis", exact=False,
               kwargs={"alpha": "alpha", "beta": "beta", "smooth": "smooth", "apply_softmax": "from_logits",
                       "axis": _optax_axis},
               when={"epsilon": 0.0}, convention={"from_logits": True, "axis": "spatial"},
               signature="optax.losses.dice_loss(predictions, targets, *, class_weights=None, smooth=1.0, alpha=0.5, "
                         "beta=0.5, apply_softmax=True, reduction='mean', ignore_background=False, axis=None)",
               reduction="per sample and class over axes 1 … n−2, then the mean over classes",
               safeguards="smooth = 1 in numerator and denominator", label_format=_OPTAX_LABELS,
               notes=(("optax's dice_loss with alpha (false positives) and beta (false negatives) is this Tversky "
                       "loss."), _OPTAX_LAYOUT)),
    ),
)
def tversky(y_true, y_pred, *, alpha=0.5, beta=0.5, smooth=1.0, axis=None, epsilon=0.0, from_logits=False, xp):
    """Tversky loss (Salehi et al. 2017): 1 − (TP + s)/(TP + α·FP + β·FN + s + ε) over ``axis``.

    TP = Σyŷ, FP = Σ(1 − y)ŷ, FN = Σy(1 − ŷ): α weights false positives and β false negatives,
    as in the paper and optax. Computed as (α·FP + β·FN + ε)/(TP + α·FP + β·FN + s + ε). With
    α = β = ½ it is dice(smooth=2s). Inputs, ``axis``, ``epsilon`` and ``from_logits`` as for
    :func:`dice`.
    """
    axes = _axes(y_pred, axis)
    p, q = _probabilities(xp, y_pred, from_logits)
    tp = xp.sum(y_true * p, axis=axes)
    penalty = alpha * xp.sum((1.0 - y_true) * p, axis=axes) + beta * xp.sum(y_true * q, axis=axes)
    return _ratio(xp, penalty + epsilon, tp + penalty + (smooth + epsilon))
