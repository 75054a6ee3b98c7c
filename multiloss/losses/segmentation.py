"""Soft overlap losses for segmentation: Dice and Tversky, one value per sample.

Both are computed from their non-negative mismatch terms, never as 1 − ratio: for
y, ŷ ∈ [0, 1], 1 − (2Σyŷ + s)/(Σy + Σŷ + s) = Σ[y(1 − ŷ) + (1 − y)ŷ] / (Σy + Σŷ + s), a sum of
non-negative terms, so the loss keeps its relative accuracy as it approaches 0 rather than
cancelling to an absolute one. ``axis`` says what is summed: None every axis but the first
(the batch axis), one value per sample; "spatial" every axis but the first and last, one
value per sample and class of channels-last (N, ..., C) inputs (optax's default); "all" every
axis, one value for the whole batch (Keras's default); or the given axes.

A NaN gives NaN for the value it is summed into; ±inf gives the loss's limit or NaN, never
raises, the same on every backend.
"""

from __future__ import annotations

from multiloss import _validation as v
from multiloss import domains
from multiloss.losses._scaling import power_of_two
from multiloss.registry import Convention, loss

__all__ = ["binary_dice", "dice", "generalized_dice", "tversky"]


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
    axes = (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else axis
    if axis not in AXES and not (isinstance(axes, tuple) and all(
            isinstance(a, int) and not isinstance(a, bool) and -y_pred.ndim <= a < y_pred.ndim for a in axes)):
        raise ValueError(f"`axis` must be one of {AXES}, an int or a tuple of ints, each an axis of `y_pred` of "
                         f"shape {v.shape_of(y_pred)}; got {axis!r} ({xp.backend}).")
    if axis in (None, "spatial") and y_pred.ndim < 2:
        raise ValueError(
            f"`y_true` and `y_pred` need a batch axis and at least one more for axis={axis!r}; got shape "
            f"{v.shape_of(y_pred)} ({xp.backend})."
        )
    if params["from_logits"] and y_pred.ndim == 0:
        raise ValueError(
            f"`y_pred` needs a class axis (the last) for from_logits=True; got a 0-D array ({xp.backend})."
        )
    weights = params.get("class_weights")
    if weights is not None:
        if tuple(weights.shape) != (y_pred.shape[-1],):
            raise ValueError(f"`class_weights` must have shape ({y_pred.shape[-1]},), one weight per class of "
                             f"`y_pred` of shape {v.shape_of(y_pred)}; got {v.shape_of(weights)} ({xp.backend}).")
        if y_pred.ndim - 1 in {a % y_pred.ndim for a in _axes(y_pred, axis)}:
            raise ValueError(f"`class_weights` weigh each class's loss: `axis` must keep the class axis (the last), "
                             f"e.g. axis='spatial'; got axis={axis!r} for `y_pred` of shape {v.shape_of(y_pred)} "
                             f"({xp.backend}).")


def _check_overlap(xp, y_true, y_pred, *, from_logits, **_):
    mask = v.Rule("y_true", y_true, "in [0, 1] (a mask)", lower=0.0, upper=1.0)
    if from_logits:
        return (mask,)
    return mask, v.Rule("y_pred", y_pred, "a probability in [0, 1]", lower=0.0, upper=1.0)


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
    channels = y_pred.shape[-1]
    if channels == 1:
        return _sigmoid_probabilities(xp, y_pred)
    if channels is None:  # tf.function knows the channel count only at run time: both, then pick
        one = xp.dim(y_pred, -1) == 1
        (p, q), (soft_p, soft_q) = _sigmoid_probabilities(xp, y_pred[..., :1]), _softmax_probabilities(xp, y_pred)
        return xp.where(one, p, soft_p), xp.where(one, q, soft_q)
    return _softmax_probabilities(xp, y_pred)


def _sigmoid_probabilities(xp, y_pred):
    return xp.exp(xp.log_sigmoid(y_pred)), xp.exp(xp.log_sigmoid(-y_pred))


def _softmax_probabilities(xp, y_pred):
    p = xp.exp(xp.log_softmax(y_pred, axis=-1))
    top = y_pred == xp.max(y_pred, axis=-1, keepdims=True)
    others = xp.sum(xp.where(top, 0.0, p), axis=-1, keepdims=True)
    ties = xp.sum(xp.astype(top, p.dtype), axis=-1, keepdims=True) - 1.0
    # Above ½ (one top class), p as 1 − the others' sum too: autodiff of exp(log_softmax) forms
    # its derivative p(1 − p) with 1 − p cancelling, which the others' sum does not.
    saturated = top & (p > 0.5)
    return xp.where(saturated, 1.0 - others, p), xp.where(top, others + ties * p, 1.0 - p)


def _ratio(xp, penalty, denominator):
    """penalty / denominator, and 0 for 0/0 (an empty mask predicted empty, with smooth = 0).
    Only a zero denominator is special-cased: a NaN one gives NaN.

    Both are first scaled by a power of two near the denominator (exact: the same quotient), as
    some frameworks differentiate n/d as g·n·d⁻² (JAX), whose d⁻² overflows for a tiny
    denominator (probabilities of 1e-20 in float32, without smoothing) where the derivative
    itself, n/d², does not.
    """
    zero = denominator == 0
    _, inverse = power_of_two(xp, denominator)
    return xp.where(zero, 0.0, (penalty * inverse) / xp.where(zero, 1.0, denominator * inverse))


def _exact_probabilities(row, from_logits, m):
    """A row of probabilities, or from logits its softmax (a sigmoid for a single channel)."""
    if not from_logits:
        return row
    if len(row) == 1:
        return [1 / (1 + m.exp(-row[0]))]
    total = m.fsum(m.exp(x) for x in row)
    return [m.exp(x) / total for x in row]


def _dice_reference(y_true, y_pred, *, smooth, axis, epsilon, from_logits, class_weights, ignore_background, m):
    """1 − (2Σyŷ + s)/(Σy + Σŷ + s + ε), as its non-negative terms:
    (Σ[y(1 − ŷ) + (1 − y)ŷ] + ε)/(Σy + Σŷ + s + ε), the same number (2Σyŷ + s cancels against
    Σy + Σŷ + s), whose magnitudes are the scale. A row is one sample's classes (the matrix's
    inputs are 2-D): ``ignore_background`` leaves out its first; ``class_weights`` need the class
    axis kept, which a row does not (their own tests check them)."""
    del class_weights
    y_pred = _exact_probabilities(y_pred, from_logits, m)
    if ignore_background and len(y_pred) > 1:
        y_true, y_pred = y_true[1:], y_pred[1:]
    den = m.fsum(y_true) + m.fsum(y_pred) + smooth + epsilon
    if den == 0:  # an empty mask predicted empty, without smoothing: a perfect match
        den = 1
    return (*((y * (1 - p) + (1 - y) * p) / den for y, p in zip(y_true, y_pred)), epsilon / den)


@loss(
    family="segmentation",
    domain=domains.masks(),
    reference=_dice_reference,
    kind="row",
    shapes=_overlap_shapes,
    conditions={"smooth": ">= 0", "epsilon": ">= 0", "class_weights": "array or None"},
    checks=_check_overlap,
    variants=({"smooth": 0.0}, {"smooth": 0.0, "epsilon": 1e-7}, {"from_logits": True},
              {"ignore_background": True}),
    conventions=(
        Convention("keras.losses.Dice", {"smooth": 0.0, "epsilon": 1e-7, "axis": "all"},
                   when={"smooth": 0.0, "from_logits": False, "class_weights": None, "ignore_background": False}),
        Convention("optax.losses.dice_loss", {"smooth": 2.0, "from_logits": True, "axis": "spatial"},
                   when={"epsilon": 0.0}, per_sample=True),
    ),
)
def dice(y_true, y_pred, *, smooth=1.0, axis=None, epsilon=0.0, from_logits=False, class_weights=None,
         ignore_background=False, xp):
    """Soft Dice loss (Milletari et al. 2016): 1 − (2Σyŷ + s)/(Σy + Σŷ + s + ε) over ``axis``,
    s = ``smooth``, ε = ``epsilon`` (in the denominator only: Keras's 1e-7).

    ``y_true`` is a mask (soft allowed) and ``y_pred`` a probability, each in [0, 1] (checked in
    eager mode), or with ``from_logits`` logits: softmax over the last axis, sigmoid if it has
    one channel (optax). ``smooth`` (default 1; optax's default 1 is our 2) keeps an empty mask's
    loss defined and its gradient alive; with ``smooth=0`` an empty mask predicted empty gives 0.
    dice(smooth=2s) equals tversky(alpha=½, beta=½, smooth=s).

    ``ignore_background`` leaves the first class (channel 0 of the last axis, after the softmax)
    out of the sums, unless there is one channel; ``class_weights`` (one per class, ≥ 0)
    multiply each class's loss, which needs ``axis`` to keep the class axis ("spatial"): as
    optax's ``dice_loss``, whose mean over the classes then divides by their number.
    """
    axes = _axes(y_pred, axis)
    p, q = _probabilities(xp, y_pred, from_logits)
    if ignore_background and y_pred.shape[-1] != 1:
        carry = 0.0 * (y_true[..., :1] + p[..., :1])  # class 0's NaN (an out-of-domain value) still reaches its item
        y_true, p, q = y_true[..., 1:] + carry, p[..., 1:], q[..., 1:]
        class_weights = None if class_weights is None else class_weights[1:]
    mismatch = xp.sum(y_true * q + (1.0 - y_true) * p, axis=axes)
    out = _ratio(xp, mismatch + epsilon, xp.sum(y_true + p, axis=axes) + (smooth + epsilon))
    return out if class_weights is None else out * class_weights


def _binary_dice_reference(y_true, y_pred, *, smooth, axis, from_logits, m):
    """1 − (2Σyp + s)/(Σy + Σp + s), p = 1/(1 + e^{−x}) of each logit x with ``from_logits``, as
    its terms Σ[y(1 − p) + (1 − y)p]/(Σy + Σp + s)."""
    p = [1 / (1 + m.exp(-x)) for x in y_pred] if from_logits else y_pred
    den = m.fsum(y_true) + m.fsum(p) + smooth
    return tuple((y * (1 - pi) + (1 - y) * pi) / (den if den else 1) for y, pi in zip(y_true, p))


@loss(
    family="segmentation",
    domain=domains.masks(),
    reference=_binary_dice_reference,
    kind="row",
    shapes=_overlap_shapes,
    conditions={"smooth": ">= 0"},
    checks=_check_overlap,
    variants=({"from_logits": True}, {"smooth": 0.0}),
    conventions=(
        Convention("optax.losses.binary_dice_loss", {"smooth": 2.0, "from_logits": True},
                   when={"axis": None, "from_logits": True}),
    ),
)
def binary_dice(y_true, y_pred, *, smooth=1.0, axis=None, from_logits=False, xp):
    """Binary (multi-label) soft Dice loss: 1 − (2Σyp + s)/(Σy + Σp + s) over ``axis``, with
    p = sigmoid(``y_pred``) of each element when ``from_logits``.

    optax's ``binary_dice_loss``: every element is its own binary mask, never a softmax over a
    class axis (:func:`dice`'s from_logits takes one). Inputs, ``smooth`` (optax's 1 is our 2)
    and ``axis`` as for :func:`dice`; on probabilities it is dice itself.
    """
    axes = _axes(y_pred, axis)
    p, q = _sigmoid_probabilities(xp, y_pred) if from_logits else (y_pred, 1.0 - y_pred)
    mismatch = xp.sum(y_true * q + (1.0 - y_true) * p, axis=axes)
    return _ratio(xp, mismatch, xp.sum(y_true + p, axis=axes) + smooth)


def _generalized_shapes(xp, arrays, params):
    y_true, y_pred = arrays["y_true"], arrays["y_pred"]
    v.check_same_shape(xp, y_true, y_pred, "y_true", "y_pred")
    if y_pred.ndim < 2:
        raise ValueError(f"`y_true` and `y_pred` need a batch axis and a class axis (the last); got shape "
                         f"{v.shape_of(y_pred)} ({xp.backend}).")


def _pixels(x):
    """One sample's nested rows (any rank), as its list of class rows."""
    return [x] if not isinstance(x[0], list) else [row for inner in x for row in _pixels(inner)]


def _generalized_dice_reference(y_true, y_pred, *, smooth, from_logits, ignore_background, weight_epsilon, m):
    """Per sample, the mean over classes c of w_c·(1 − (2I_c + s)/(T_c + P_c + s)), sums over the
    sample's pixels, w_c ∝ 1/((Σ_batch y_c)² + ε) scaled to sum to the number of classes; each
    term w_c·Σ[y(1 − p) + (1 − y)p]/(T_c + P_c + s)/classes."""
    ys = [_pixels(sample) for sample in y_true]
    ps = [[_exact_probabilities(row, from_logits, m) for row in _pixels(sample)] for sample in y_pred]
    classes = len(ys[0][0])
    inverse = [1 / (m.fsum(row[c] for sample in ys for row in sample) ** 2 + weight_epsilon) for c in range(classes)]
    w = [classes * x / m.fsum(inverse) for x in inverse]
    kept = range(1 if ignore_background and classes > 1 else 0, classes)
    out = []
    for y, p in zip(ys, ps):
        terms = []
        for c in kept:
            den = m.fsum(row[c] for row in y) + m.fsum(row[c] for row in p) + smooth
            terms += [w[c] * (a[c] * (1 - b[c]) + (1 - a[c]) * b[c]) / (den if den else 1) / len(kept)
                      for a, b in zip(y, p)]
        out.append(tuple(terms))
    return out


@loss(
    family="segmentation",
    domain=domains.masks(),
    reference=_generalized_dice_reference,
    kind="batch",
    shapes=_generalized_shapes,
    conditions={"smooth": ">= 0", "weight_epsilon": "> 0"},
    checks=_check_overlap,
    variants=({"from_logits": True}, {"ignore_background": True, "smooth": 0.5}),
    conventions=(
        Convention("optax.losses.multiclass_generalized_dice_loss", {"smooth": 2.0, "from_logits": True},
                   when={"from_logits": True, "weight_epsilon": 1e-7}),
    ),
)
def generalized_dice(y_true, y_pred, *, smooth=1.0, from_logits=False, ignore_background=False, weight_epsilon=1e-7,
                     xp):
    """Generalized Dice loss with Sudre et al. 2017's class weights, as optax computes it: per
    sample, the mean over classes c of w_c·(1 − (2I_c + s)/(T_c + P_c + s)).

    Channels last: I_c = Σyp, T_c = Σy, P_c = Σp over the sample's spatial axes (those between
    the first and the last; none for (N, C) inputs, each pixel then its own). The weights come
    from the whole batch: w_c = 1/((Σ y_c)² + ε), ε = ``weight_epsilon``, the sum over every axis
    but the last, scaled to sum to the number of classes, so rare classes weigh more. This is
    optax's ``multiclass_generalized_dice_loss``, a weighted mean of per-class Dice losses;
    Sudre's paper puts the weights inside one ratio, 1 − 2Σ_c w_c I_c / Σ_c w_c (T_c + P_c).
    ``ignore_background`` leaves class 0's loss out of the mean (its weight still counts in the
    scaling, as optax's). ``smooth`` (optax's 1 is our 2) and ``from_logits`` (softmax over the
    last axis, sigmoid for one channel) as for :func:`dice`. One value per sample, each
    depending on the batch through the weights: a NaN anywhere in the batch makes every
    sample's loss NaN.
    """
    spatial = tuple(range(1, y_pred.ndim - 1))
    p, q = _probabilities(xp, y_pred, from_logits)
    batch = tuple(range(y_true.ndim - 1))
    # (+ 0·Σp: the batch's weights, and so every sample's loss, are NaN where any input is)
    frequency = xp.sum(y_true, axis=batch) + 0.0 * xp.sum(p, axis=batch)
    inverse = 1.0 / (frequency * frequency + weight_epsilon)
    weights = inverse / xp.mean(inverse)  # summing to the number of classes
    mismatch = xp.sum(y_true * q + (1.0 - y_true) * p, axis=spatial)
    losses = _ratio(xp, mismatch, xp.sum(y_true + p, axis=spatial) + smooth) * weights
    if ignore_background and y_pred.shape[-1] != 1:
        losses = losses[..., 1:] + 0.0 * losses[..., :1]  # (class 0's NaN still reaches its sample)
    return xp.mean(losses, axis=-1)


def _tversky_reference(y_true, y_pred, *, alpha, beta, smooth, axis, epsilon, from_logits, m):
    """1 − (TP + s)/(TP + α·FP + β·FN + s + ε), as its terms
    (α·FP + β·FN + ε)/(TP + α·FP + β·FN + s + ε)."""
    y_pred = _exact_probabilities(y_pred, from_logits, m)
    tp = m.fsum(y * p for y, p in zip(y_true, y_pred))
    penalties = [alpha * (1 - y) * p + beta * y * (1 - p) for y, p in zip(y_true, y_pred)] + [epsilon]
    den = tp + m.fsum(penalties) + smooth
    return tuple(x / (den if den else 1) for x in penalties)


@loss(
    family="segmentation",
    domain=domains.masks(),
    reference=_tversky_reference,
    kind="row",
    shapes=_overlap_shapes,
    conditions={"alpha": ">= 0", "beta": ">= 0", "smooth": ">= 0", "epsilon": ">= 0"},
    checks=_check_overlap,
    variants=({"alpha": 0.3, "beta": 0.7}, {"alpha": 0.7, "beta": 0.3, "smooth": 0.0},
              {"alpha": 0.2, "beta": 0.8, "smooth": 0.0, "epsilon": 1e-7}),
    conventions=(
        Convention("keras.losses.Tversky", {"smooth": 0.0, "epsilon": 1e-7, "axis": "all"},
                   when={"smooth": 0.0, "from_logits": False}),
        Convention("optax.losses.dice_loss", {"from_logits": True, "axis": "spatial"}, when={"epsilon": 0.0},
                   per_sample=True),
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
