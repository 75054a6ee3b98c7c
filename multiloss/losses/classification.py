"""Classification and margin losses: binary / categorical / sparse cross-entropy, focal, hinge, KL.

Numerics, on every backend:
- From logits, log-probabilities are log-sigmoid / log-softmax (softplus and log-sum-exp
  forms): finite values and gradients for logits of ±1e4 and float16's ±65504.
- From probabilities, each log is taken at max(p, tiny), tiny = the smallest normal number of
  the compute dtype (1.2e-38 in float32, 2.2e-308 in float64): p = 0 with y = 1 gives
  −log(tiny) = 87.34 (float32), finite, and a zero gradient there (the clamp is flat), as in
  Keras. Keras instead clips p to [1e-7, 1 − 1e-7] (16.12); PyTorch clamps the log at −100
  (100.0). For saturated probabilities use ``from_logits=True``.
- Per-sample losses (categorical, sparse, KL) reduce the class ``axis`` first; ``"mean"`` then
  averages over samples (for KL, PyTorch's ``"batchmean"``, the true KL per sample).

The frameworks' safeguards and label rules are ordinary parameters, off by default: ``epsilon``
(Keras's clipping), ``log_floor`` (PyTorch's −100), ``normalize`` (Keras renormalizes class
probabilities), the hinge's ``labels``, ``zero_true_class`` (Keras's categorical hinge) and KL's
``log_input`` / ``class_mean`` (PyTorch's ``kl_div``). ``convention="keras" | "torch" |
"optax"`` sets them from the registry's natives, so that ours gives that framework's numbers.
"""

from __future__ import annotations

import math
import struct

from multiloss import _validation as v
from multiloss import domains
from multiloss.registry import DTYPE, AsArray, Fixed, Native, loss

__all__ = [
    "binary_cross_entropy",
    "binary_focal",
    "categorical_cross_entropy",
    "categorical_focal",
    "categorical_hinge",
    "hinge",
    "kl_divergence",
    "sparse_categorical_cross_entropy",
    "squared_hinge",
]

_KERAS_EPSILON = 1e-7  # keras.config.epsilon()'s default
_TORCH_LOG_FLOOR = -100.0  # PyTorch's binary_cross_entropy clamps each log here


def _tiny(xp, x):
    return xp.finfo(x.dtype).smallest_normal


def _rounded(xp, x, *values):
    """``values`` rounded to ``x``'s dtype (float32 or float64, the compute dtypes), as a clip
    rounds its bounds: 1 − 1e-7 is 1 − 1.19e-7 in float32."""
    if xp.finfo(x.dtype).bits == 32:
        return struct.unpack(f"{len(values)}f", struct.pack(f"{len(values)}f", *values))
    return values


def _binary_logs(xp, y_pred, from_logits, epsilon=None, log_floor=None):
    """(log p, log(1 − p)) of binary predictions, each finite; ``epsilon`` clips them as
    :func:`_clip_binary_logs` does, ``log_floor`` clamps each from below, and a p or 1 − p under
    the dtype's smallest normal number counts as 0 there (its log is the floor)."""
    if from_logits:
        log_p, log_q = -xp.softplus(-y_pred), -xp.softplus(y_pred)
    else:
        tiny = _tiny(xp, y_pred)
        # log(1 − p): log1p(−p) below ½ (accurate for small p), log(1 − p) above (1 − p is exact
        # there), each fed only its own inputs so that p = 1 puts no inf into the other's gradient.
        q = 1.0 - y_pred
        small = y_pred < 0.5
        log_q = xp.where(small, xp.log1p(-xp.where(small, y_pred, 0.0)), xp.log(xp.maximum(q, tiny)))
        log_p = xp.log(xp.maximum(y_pred, tiny))
    if epsilon is not None:
        log_p, log_q = _clip_binary_logs(xp, log_p, log_q, epsilon)
    if log_floor is not None:
        log_p, log_q = xp.maximum(log_p, log_floor), xp.maximum(log_q, log_floor)
        if not from_logits:
            log_p, log_q = xp.where(y_pred < tiny, log_floor, log_p), xp.where(q < tiny, log_floor, log_q)
    return log_p, log_q


def _clip_binary_logs(xp, log_p, log_q, epsilon):
    """The logs of p clipped to [ε, 1 − ε] and of 1 minus that, as Keras takes them (the bounds
    rounded to the dtype), clipped in log space so that they stay exact inside the bounds."""
    lo, hi = _rounded(xp, log_p, epsilon, 1.0 - epsilon)
    (top,) = _rounded(xp, log_p, 1.0 - lo)  # 1 − p at p = ε, rounded; 1 − hi is exact
    return xp.clip(log_p, math.log(lo), math.log(hi)), xp.clip(log_q, math.log(1.0 - hi), math.log(top))


def _log_probs(xp, y_pred, from_logits, axis, epsilon=None, normalize=False):
    """Log-probabilities over the class ``axis``, always finite: a −inf logit's log-probability
    is read as the dtype's lowest value, so a class with y = 0 contributes 0, not 0·(−inf).

    Keras's categorical path: ``normalize`` divides probabilities by their sum over ``axis``
    (softmax already sums to 1), and ``epsilon`` then clips them to [ε, 1 − ε], in log space."""
    if from_logits:
        log_p = xp.maximum(xp.log_softmax(y_pred, axis=axis), xp.finfo(y_pred.dtype).min)
    else:
        log_p = xp.log(xp.maximum(y_pred, _tiny(xp, y_pred)))
        if normalize:
            log_p = log_p - xp.log(xp.sum(y_pred, axis=axis, keepdims=True))
    if epsilon is not None:
        lo, hi = _rounded(xp, y_pred, epsilon, 1.0 - epsilon)
        log_p = xp.clip(log_p, math.log(lo), math.log(hi))
    return log_p


def _modulating(xp, one_minus_pt, gamma, tiny):
    """(1 − p_t)^γ, or None for γ = 0 (no factor: focal is then exactly cross-entropy); below
    γ = 1 through exp(γ·log(max(·, tiny))) so the gradient stays finite where 1 − p_t = 0."""
    if gamma == 0:
        return None
    if gamma >= 1:
        return one_minus_pt**gamma
    return xp.exp(gamma * xp.log(xp.maximum(one_minus_pt, tiny)))


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_safeguards(xp, epsilon=None, log_floor=None):
    if epsilon is not None and not (_number(epsilon) and 0 < epsilon < 0.5):
        raise ValueError(f"`epsilon` must be None or a number in (0, 0.5); got {epsilon!r} ({xp.backend}).")
    if log_floor is not None and not (_number(log_floor) and log_floor <= 0):
        raise ValueError(f"`log_floor` must be None or a finite number ≤ 0; got {log_floor!r} ({xp.backend}).")


def _check_probabilities(xp, y_pred, from_logits):
    if not from_logits:
        condition = "a probability in [0, 1] (pass from_logits=True for logits)"
        v.check_bound(xp, y_pred, "y_pred", condition, lower=0.0, upper=1.0)


def _check_binary(xp, y_true, y_pred, *, from_logits, epsilon, log_floor=None, **_):
    _check_safeguards(xp, epsilon, log_floor)
    v.check_bound(xp, y_true, "y_true", "in [0, 1]", lower=0.0, upper=1.0)
    _check_probabilities(xp, y_pred, from_logits)


_SMOOTHING = {"label_smoothing": "[0, 1]"}
_KERAS_CLIP = ("Keras clips probabilities to [1e-7, 1 − 1e-7] (y=1, p=0 gives 16.12; 1 − 1e-7 rounds to "
               "1 − 1.19e-7 in float32); ours clamp p at the dtype's tiny (87.34 in float32).")
_KERAS_LOGITS = ("On its TensorFlow backend Keras silently takes the logit path when y_pred carries a "
                 "sigmoid's or softmax's _keras_logits (a Dense layer's activation); convention='keras' "
                 "cannot see that and follows from_logits.")
_KERAS_BINARY = "0/1 or soft labels, same shape as y_pred"
_ONE_HOT = "one-hot or soft labels over the last axis, same shape as y_pred"
_PER_SAMPLE = "sum over the class axis per sample, then sum_over_batch_size"


# --- binary ---------------------------------------------------------------------------------
def _bce(xp, y, log_p, log_q, pos_weight):
    positive = y * log_p if pos_weight is None else pos_weight * y * log_p
    return -(positive + (1.0 - y) * log_q)


_BCE_KERAS = {
    "order": ("y_true", "y_pred"), "per": "last_axis", "construct": True,
    "kwargs": {"from_logits": "from_logits", "label_smoothing": "label_smoothing", "reduction": Fixed(None),
               "dtype": DTYPE},
    "signature": "keras.losses.BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1, "
                 "reduction='sum_over_batch_size', name='binary_crossentropy', dtype=None)",
    "label_format": _KERAS_BINARY,
}
_BCE_TORCH_FORMAT = "0/1 or soft labels in [0, 1], same shape as input"


@loss(
    family="classification",
    domain=domains.binary(),
    conditions=_SMOOTHING,
    checks=_check_binary,
    variants=({"from_logits": True}, {"from_logits": True, "pos_weight": 3.0}, {"label_smoothing": 0.2}),
    natives=(
        Native("torch", "torch.nn.functional.binary_cross_entropy", kwargs={"reduction": Fixed("none")},
               when={"from_logits": False, "label_smoothing": 0.0, "pos_weight": None},
               convention={"log_floor": _TORCH_LOG_FLOOR}, weight_divisor="count",
               signature="torch.nn.functional.binary_cross_entropy(input, target, weight=None, size_average=None, "
                         "reduce=None, reduction='mean')",
               reduction="'mean' over all elements; weight= rescales each element and still divides by their number",
               safeguards="clamps each log at −100 (y=1, p=0 gives 100); raises for p outside [0, 1]",
               label_format=_BCE_TORCH_FORMAT,
               notes=(("PyTorch clamps each log at −100 (y=1, p=0 gives 100), has no label smoothing, "
                       "and raises for probabilities outside [0, 1]."),
                      ("PyTorch's gradient at a clamped log is ∓1/max(p(1 − p), 1e-12) (−1e12 at p=0); "
                       "convention='torch' gives that clamp's own gradient, 0."),
                      ("In float32 PyTorch takes the log of a subnormal p (1e-40 gives 92.1); "
                       "convention='torch' counts p below 1.2e-38 as 0 (100)."))),
        Native("torch", "torch.nn.functional.binary_cross_entropy_with_logits",
               kwargs={"reduction": Fixed("none"), "pos_weight": AsArray("pos_weight")},
               when={"from_logits": True, "label_smoothing": 0.0}, convention={}, weight_divisor="count",
               signature="torch.nn.functional.binary_cross_entropy_with_logits(input, target, weight=None, "
                         "size_average=None, reduce=None, reduction='mean', pos_weight=None)",
               reduction="'mean' over all elements; weight= rescales each element and still divides by their number",
               safeguards="none needed: (1 − y)x + softplus(−x)",
               label_format=_BCE_TORCH_FORMAT,
               notes=("PyTorch's pos_weight multiplies the positive term: (1−y)x + (1 + (pw−1)y)·softplus(−x).",)),
        Native("keras", "keras.losses.BinaryCrossentropy", when={"pos_weight": None, "from_logits": False},
               convention={"epsilon": _KERAS_EPSILON},
               safeguards="clips p to [1e-7, 1 − 1e-7] (y=1, p=0 gives 16.12)",
               notes=(_KERAS_CLIP, "Keras smooths binary labels toward ½: y(1 − ls) + ls/2, as we do."), **_BCE_KERAS),
        Native("keras", "keras.losses.BinaryCrossentropy", when={"pos_weight": None, "from_logits": True},
               convention={}, safeguards="none from logits (log-sigmoid form), except on its NumPy backend",
               notes=(_KERAS_LOGITS,
                      ("From logits Keras's NumPy backend takes the sigmoid and clips it (y=1, x=−1e4 gives 16.12): "
                       "epsilon=1e-7 gives that clip."),), **_BCE_KERAS),
        Native("optax", "optax.losses.sigmoid_binary_cross_entropy", order=("y_pred", "y_true"),
               when={"from_logits": True, "label_smoothing": 0.0, "pos_weight": None}, convention={},
               signature="optax.losses.sigmoid_binary_cross_entropy(logits, labels)",
               safeguards="none needed: log-sigmoid form",
               label_format="0/1 or soft labels, broadcastable to logits",
               notes=("optax takes logits only.",)),
    ),
)
def binary_cross_entropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, pos_weight=None, epsilon=None,
                         log_floor=None, xp):
    """Binary cross-entropy: −[w·y·log p + (1 − y)·log(1 − p)], w = ``pos_weight`` (default 1).

    ``y_pred`` is a probability, or a logit with ``from_logits`` (then log p = −softplus(−x),
    exact for any x). Labels may be soft; ``label_smoothing`` maps y to y(1 − ls) + ls/2
    (Keras). ``pos_weight`` (a number or an array over the last axes) weights positives as
    PyTorch's BCEWithLogitsLoss does. ``epsilon`` clips p (from logits, sigmoid(x)) to
    [ε, 1 − ε] first (Keras: 1e-7, y=1, p=0 gives 16.12); ``log_floor`` clamps each log at
    that value (PyTorch: −100, giving 100). The seed example y=[1,0,1,1], p=[.9,.1,.8,.4]
    gives 0.33754.
    """
    y = y_true if label_smoothing == 0 else y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    log_p, log_q = _binary_logs(xp, y_pred, from_logits, epsilon, log_floor)
    return _bce(xp, y, log_p, log_q, pos_weight)


_FOCAL_KERAS = {
    "order": ("y_true", "y_pred"), "per": "last_axis", "construct": True,
    "kwargs": {"apply_class_balancing": lambda p, dtype: p["alpha"] is not None,
               "alpha": lambda p, dtype: 0.25 if p["alpha"] is None else p["alpha"], "gamma": "gamma",
               "from_logits": "from_logits", "reduction": Fixed(None), "dtype": DTYPE},
    "signature": "keras.losses.BinaryFocalCrossentropy(apply_class_balancing=False, alpha=0.25, gamma=2.0, "
                 "from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', "
                 "name='binary_focal_crossentropy', dtype=None)",
    "label_format": _KERAS_BINARY,
}
_FOCAL_ALPHA = ("Keras applies α only with apply_class_balancing=True (default off); we apply α=0.25 "
                "by default, as the paper and torchvision do.")


@loss(
    family="classification",
    domain=domains.binary(),
    conditions={"gamma": ">= 0"},
    checks=_check_binary,
    variants=({"from_logits": True}, {"alpha": None, "gamma": 0.0}, {"from_logits": True, "gamma": 0.5}),
    natives=(
        Native("keras", "keras.losses.BinaryFocalCrossentropy", when={"from_logits": False},
               convention={"alpha": None, "epsilon": _KERAS_EPSILON},
               safeguards="clips p to [1e-7, 1 − 1e-7] inside the logs; the focal factor uses p unclipped",
               notes=(_FOCAL_ALPHA, _KERAS_CLIP), **_FOCAL_KERAS),
        Native("keras", "keras.losses.BinaryFocalCrossentropy", when={"from_logits": True},
               convention={"alpha": None},
               safeguards="from logits: the sigmoid, whose logits its TensorFlow backend recovers for the logs",
               notes=(_FOCAL_ALPHA,
                      ("From logits Keras takes the sigmoid; its TensorFlow backend recovers the logits for the "
                       "cross-entropy (exact, as convention='keras'), its JAX, torch and NumPy backends clip the "
                       "sigmoid (y=1, x=−1e4 gives 16.12: epsilon=1e-7 gives that clip).")), **_FOCAL_KERAS),
        Native("optax", "optax.losses.sigmoid_focal_loss", order=("y_pred", "y_true"),
               kwargs={"alpha": "alpha", "gamma": "gamma"}, when={"from_logits": True}, convention={"alpha": None},
               signature="optax.losses.sigmoid_focal_loss(logits, labels, *, alpha=None, gamma=2.0)",
               safeguards="none needed: log-sigmoid cross-entropy, focal factor in log space",
               label_format="0/1 or soft labels, broadcastable to logits",
               notes=("optax defaults to alpha=None (no balancing) and takes logits only.",)),
    ),
)
def binary_focal(y_true, y_pred, *, alpha=0.25, gamma=2.0, from_logits=False, epsilon=None, xp):
    """Binary focal loss (Lin et al. 2017): α_t·(1 − p_t)^γ·BCE, p_t = p for y = 1, 1 − p for y = 0.

    α_t = α·y + (1 − α)(1 − y); ``alpha=None`` turns balancing off, and then γ = 0 is BCE
    exactly. 1 − p_t = y(1 − p) + (1 − y)p is formed directly (from sigmoid(∓x) for logits),
    never as 1 − p_t, so it keeps its precision when p_t → 1. ``epsilon`` clips p to
    [ε, 1 − ε] inside the cross-entropy's logs only, not in the focal factor (Keras).
    """
    log_p, log_q = _binary_logs(xp, y_pred, from_logits)
    p, q = (xp.exp(log_p), xp.exp(log_q)) if from_logits else (y_pred, 1.0 - y_pred)
    if epsilon is not None:  # the logs only
        log_p, log_q = _clip_binary_logs(xp, log_p, log_q, epsilon)
    out = _bce(xp, y_true, log_p, log_q, None)
    weight = _modulating(xp, y_true * q + (1.0 - y_true) * p, gamma, _tiny(xp, y_pred))
    if weight is not None:
        out = weight * out
    if alpha is not None:
        out = (alpha * y_true + (1.0 - alpha) * (1.0 - y_true)) * out
    return out


# --- categorical ----------------------------------------------------------------------------
def _check_categorical(xp, y_true, y_pred, *, from_logits, epsilon, **_):
    _check_safeguards(xp, epsilon)
    v.check_bound(xp, y_true, "y_true", "≥ 0 (class probabilities)", lower=0.0)
    _check_probabilities(xp, y_pred, from_logits)


_TORCH_CE = ("torch.nn.functional.cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, "
             "reduce=None, reduction='mean', label_smoothing=0.0)")
_CCE_KERAS = {
    "order": ("y_true", "y_pred"), "construct": True,
    "kwargs": {"from_logits": "from_logits", "label_smoothing": "label_smoothing", "axis": "axis",
               "reduction": Fixed(None), "dtype": DTYPE},
    "signature": "keras.losses.CategoricalCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1, "
                 "reduction='sum_over_batch_size', name='categorical_crossentropy', dtype=None)",
    "reduction": _PER_SAMPLE, "label_format": _ONE_HOT,
}
_KERAS_RENORMALIZES = "Keras renormalizes probabilities to sum to 1 and then clips them; we do neither."


@loss(
    family="classification",
    domain=domains.categorical(),
    conditions=_SMOOTHING,
    checks=_check_categorical,
    variants=({"from_logits": True}, {"from_logits": True, "label_smoothing": 0.1}),
    natives=(
        Native("torch", "torch.nn.functional.cross_entropy",
               kwargs={"reduction": Fixed("none"), "label_smoothing": "label_smoothing"},
               when={"from_logits": True, "axis": -1}, convention={}, signature=_TORCH_CE,
               reduction="'mean' over samples; with weight= and probability targets still Σ/N",
               safeguards="none needed: log-softmax",
               label_format="class probabilities, same shape as input (class axis dim 1)",
               notes=("PyTorch's cross_entropy always takes logits, with the class axis at dim 1.",)),
        Native("keras", "keras.losses.CategoricalCrossentropy", when={"from_logits": False},
               convention={"epsilon": _KERAS_EPSILON, "normalize": True},
               safeguards="renormalizes p to sum to 1, then clips it to [1e-7, 1 − 1e-7]",
               notes=(_KERAS_RENORMALIZES, _KERAS_CLIP), **_CCE_KERAS),
        Native("keras", "keras.losses.CategoricalCrossentropy", when={"from_logits": True}, convention={},
               safeguards="none from logits (log-softmax form)", notes=(_KERAS_LOGITS,), **_CCE_KERAS),
        Native("optax", "optax.losses.softmax_cross_entropy", order=("y_pred", "y_true"),
               when={"from_logits": True, "label_smoothing": 0.0, "axis": -1}, convention={},
               signature="optax.losses.softmax_cross_entropy(logits, labels, axis=-1, where=None)",
               safeguards="none (safe_softmax_cross_entropy handles −inf logits)",
               label_format="class probabilities over the last axis, broadcastable to logits",
               notes=(("A −inf logit with label 0 gives NaN in optax's plain version; 0 here, "
                       "also under convention='optax'."),)),
    ),
)
def categorical_cross_entropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, epsilon=None,
                              normalize=False, axis=-1, xp):
    """Categorical cross-entropy: −Σ_c y_c·log p_c over the class ``axis``, per sample.

    ``y_true`` is one-hot or soft; ``label_smoothing`` maps y to y(1 − ls) + ls/C (Keras,
    PyTorch, optax). From logits, log p = log_softmax(x); a class with y = 0 contributes 0
    even for a −inf logit. Keras's safeguards: ``normalize`` divides probabilities by their sum
    over ``axis`` (a softmax already sums to 1), and ``epsilon`` then clips p to [ε, 1 − ε]
    (Keras: 1e-7), in log space so that the logs stay exact inside the bounds.
    """
    n = y_pred.shape[axis]
    y = y_true if label_smoothing == 0 else y_true * (1.0 - label_smoothing) + label_smoothing / n
    return -xp.sum(y * _log_probs(xp, y_pred, from_logits, axis, epsilon, normalize), axis=axis)


def _sparse_shapes(xp, arrays, params):
    labels, y_pred, axis = arrays["y_true"], arrays["y_pred"], params["axis"]
    expected = list(v.shape_of(y_pred))
    del expected[axis]
    if not v._same(v.shape_of(labels), tuple(expected)):
        raise ValueError(
            f"`y_true` (integer labels) must have `y_pred`'s shape without the class axis {axis}: "
            f"expected {tuple(expected)}, got {v.shape_of(labels)} for y_pred {v.shape_of(y_pred)} ({xp.backend})."
        )
    weight = params["class_weight"]
    if weight is not None and hasattr(weight, "shape") and v.shape_of(weight) != (y_pred.shape[axis],):
        raise ValueError(f"`class_weight` must have shape ({y_pred.shape[axis]},); got {v.shape_of(weight)} ({xp.backend}).")


def _check_sparse(xp, y_true, y_pred, *, from_logits, ignore_index, epsilon, axis, **_):
    _check_safeguards(xp, epsilon)
    n = y_pred.shape[axis]
    labels = y_true if ignore_index is None else xp.where(y_true == ignore_index, 0, y_true)
    ignored = "" if ignore_index is None else f" or equal to ignore_index={ignore_index}"
    v.check_bound(xp, labels, "y_true", f"class labels in [0, {n}){ignored}", lower=0, upper=n - 1)
    _check_probabilities(xp, y_pred, from_logits)


_SPARSE_KERAS = {
    "order": ("y_true", "y_pred"), "construct": True,
    "kwargs": {"from_logits": "from_logits", "ignore_class": "ignore_index", "axis": "axis",
               "reduction": Fixed(None), "dtype": DTYPE},
    "signature": "keras.losses.SparseCategoricalCrossentropy(from_logits=False, ignore_class=None, "
                 "reduction='sum_over_batch_size', axis=-1, name='sparse_categorical_crossentropy', dtype=None)",
    "reduction": "one value per sample; sum_over_batch_size over the items not ignored (ignore_class)",
    "label_format": "integer class indices, y_pred's shape without the last axis (or with it as 1)",
}
_KERAS_SPARSE_NOTES = (
    ("Keras's SparseCategoricalCrossentropy has no label smoothing; its JAX backend silently gives 0 for "
     "out-of-range labels."),
    ("With ignore_class and a sample_weight Keras divides Σwℓ by the number of items kept; convention='keras' "
     "divides by Σw over them (equal without weights)."),
)


@loss(
    family="classification",
    domain=domains.sparse(),
    labels=(),
    indices=("y_true",),
    shapes=_sparse_shapes,
    conditions=_SMOOTHING,
    checks=_check_sparse,
    variants=(
        {"from_logits": True},
        {"from_logits": True, "ignore_index": 2, "label_smoothing": 0.1},
        {"from_logits": True, "class_weight": (0.5, 1.0, 2.0, 0.0, 1.5, 1.0, 3.0, 0.25), "ignore_index": 2},
    ),
    natives=(
        Native("torch", "torch.nn.functional.cross_entropy",
               kwargs={"reduction": Fixed("none"), "label_smoothing": "label_smoothing",
                       "weight": AsArray("class_weight"),
                       "ignore_index": lambda p, dtype: -100 if p["ignore_index"] is None else p["ignore_index"]},
               when={"from_logits": True, "axis": -1}, convention={"ignore_index": -100}, signature=_TORCH_CE,
               reduction="'mean' = Σ w_y·ℓ / Σ w_y over the items not ignored (w: weight=, else 1)",
               safeguards="none needed: log-softmax; out-of-range labels raise",
               label_format="integer class indices (N, d…), class axis dim 1 of input; -100 ignored",
               notes=(("PyTorch's 'mean' with weight or ignore_index divides by Σ w_{y_i} over kept items, as ours; "
                       "all labels ignored gives NaN there, 0 here, also under convention='torch'."),
                      "PyTorch's default ignore_index is −100; ours is None (no label ignored).")),
        Native("keras", "keras.losses.SparseCategoricalCrossentropy",
               when={"label_smoothing": 0.0, "class_weight": None, "from_logits": False},
               convention={"epsilon": _KERAS_EPSILON, "normalize": True},
               safeguards="clips p to [1e-7, 1 − 1e-7], then log-softmax of the logs (renormalizes after clipping)",
               notes=(*_KERAS_SPARSE_NOTES, _KERAS_CLIP,
                      ("Keras's sparse path takes log_softmax of the clipped log-probabilities, which renormalizes "
                       "them after clipping (its categorical path renormalizes before).")), **_SPARSE_KERAS),
        Native("keras", "keras.losses.SparseCategoricalCrossentropy",
               when={"label_smoothing": 0.0, "class_weight": None, "from_logits": True}, convention={},
               safeguards="none from logits (sparse_softmax_cross_entropy_with_logits)",
               notes=(*_KERAS_SPARSE_NOTES, _KERAS_LOGITS), **_SPARSE_KERAS),
        Native("optax", "optax.losses.softmax_cross_entropy_with_integer_labels", order=("y_pred", "y_true"),
               when={"from_logits": True, "label_smoothing": 0.0, "class_weight": None, "ignore_index": None,
                     "axis": -1}, convention={},
               signature="optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels, axis=-1, where=None)",
               safeguards="none: logsumexp − the label's logit; labels are not checked",
               label_format="integer class indices, logits' shape without the class axis",
               notes=("optax gives NaN for a label ≥ C and wraps −1 to the last class, silently.",)),
    ),
)
def sparse_categorical_cross_entropy(
    y_true, y_pred, *, from_logits=False, label_smoothing=0.0, class_weight=None, ignore_index=None, epsilon=None,
    normalize=False, axis=-1, xp
):
    """Cross-entropy with integer labels: −log p_y, gathering the label's column (no one-hot).

    ``y_true`` has ``y_pred``'s shape without the class ``axis``. With ``label_smoothing``:
    (1 − ls)(−log p_y) + (ls/C)Σ_c(−log p_c). PyTorch's rules for ``class_weight`` (w, one per
    class) and ``ignore_index``: item i's loss is (1 − ls)·w_y·(−log p_y) + (ls/C)Σ_c w_c(−log p_c),
    0 if ignored, and ``"mean"`` divides by Σ_i w_{y_i} over the kept items; a batch whose
    labels are all ignored gives 0. Keras's safeguards: ``epsilon`` clips p (from logits, the
    softmax) to [ε, 1 − ε], and ``normalize`` then renormalizes it over ``axis`` (Keras's sparse
    path takes log_softmax of the clipped logs). Labels outside [0, C) raise ``ValueError`` in
    eager mode; under jit they cannot be checked and give NaN (never a clamped, wrapped or zero
    column, which is what JAX, NumPy-style −1 indexing and TensorFlow on GPU would read).
    """
    n = y_pred.shape[axis]
    keep = None if ignore_index is None else y_true != ignore_index
    in_range = (y_true >= 0) & (y_true < n)
    # Gather a valid column for every item; out-of-range labels (seen only under jit, where they
    # cannot raise) get NaN below rather than a clamped, wrapped or zero column.
    labels = xp.where(in_range if keep is None else in_range & keep, y_true, 0)
    index = xp.expand_dims(labels, axis=axis)
    # One fused N×C pass (log_softmax: torch's is 1.4× faster than its logsumexp), then a gather.
    if from_logits and epsilon is None:
        log_p = xp.log_softmax(y_pred, axis=axis)
    else:
        log_p = _log_probs(xp, y_pred, from_logits, axis, epsilon)
    if normalize:
        log_p = xp.log_softmax(log_p, axis=axis)
    nll = -xp.squeeze(xp.take_along_axis(log_p, index, axis=axis), axis=axis)
    neg_log_p = None if label_smoothing == 0 else -log_p
    weight = None
    if class_weight is not None:
        weight = xp.reshape(xp.take(class_weight, xp.reshape(labels, (-1,))), tuple(labels.shape))
        nll = weight * nll
        if neg_log_p is not None:
            shape = [1] * y_pred.ndim
            shape[axis] = -1
            neg_log_p = xp.reshape(class_weight, tuple(shape)) * neg_log_p
    out = nll
    if neg_log_p is not None:
        out = (1.0 - label_smoothing) * nll + (label_smoothing / n) * xp.sum(neg_log_p, axis=axis)
    if keep is not None:
        kept = xp.astype(keep, out.dtype)
        out = out * kept
        weight = kept if weight is None else weight * kept
    out = xp.where(in_range if keep is None else in_range | ~keep, out, math.nan)
    return out if weight is None else (out, weight)


_CFOCAL_KERAS = {
    "order": ("y_true", "y_pred"), "construct": True,
    "kwargs": {"alpha": lambda p, dtype: 1.0 if p["alpha"] is None else p["alpha"], "gamma": "gamma",
               "from_logits": "from_logits", "axis": "axis", "reduction": Fixed(None), "dtype": DTYPE},
    "convention": {"alpha": 0.25, "epsilon": _KERAS_EPSILON, "normalize": True},
    "signature": "keras.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=False, "
                 "label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', "
                 "name='categorical_focal_crossentropy', dtype=None)",
    "reduction": _PER_SAMPLE, "label_format": _ONE_HOT,
    "safeguards": "renormalizes p (from logits, the softmax) to sum to 1, then clips it to [1e-7, 1 − 1e-7]",
}
_CFOCAL_ALPHA = ("Keras's default alpha=0.25 scales every class, so its γ=0 is 0.25 × CCE; ours defaults to "
                 "no α.")


@loss(
    family="classification",
    domain=domains.categorical(),
    conditions={"gamma": ">= 0"},
    checks=_check_categorical,
    variants=({"from_logits": True}, {"from_logits": True, "gamma": 0.0}, {"alpha": 0.25}),
    natives=(
        Native("keras", "keras.losses.CategoricalFocalCrossentropy", when={"from_logits": False},
               notes=(_CFOCAL_ALPHA, _KERAS_RENORMALIZES, _KERAS_CLIP), **_CFOCAL_KERAS),
        Native("keras", "keras.losses.CategoricalFocalCrossentropy", when={"from_logits": True}, exact=False,
               notes=(_CFOCAL_ALPHA,
                      ("From logits Keras takes the softmax and then clips, so a very wrong logit (e.g. −1e4) costs "
                       "at most −log(1e-7) = 16.1 there; ours stays exact, convention='keras' clips.")),
               **_CFOCAL_KERAS),
    ),
)
def categorical_focal(y_true, y_pred, *, alpha=None, gamma=2.0, from_logits=False, epsilon=None, normalize=False,
                      axis=-1, xp):
    """Categorical focal loss: −Σ_c α_c (1 − p_c)^γ y_c log p_c over the class ``axis``.

    ``alpha`` is None (off), a number applied to every class (Keras), or one weight per class.
    γ = 0 with ``alpha=None`` is categorical cross-entropy. ``normalize`` and ``epsilon`` act
    as in :func:`categorical_cross_entropy`, on p in both the log and the factor (Keras).
    """
    log_p = _log_probs(xp, y_pred, from_logits, axis, epsilon, normalize)
    terms = y_true * log_p
    weight = _modulating(xp, 1.0 - xp.exp(log_p), gamma, _tiny(xp, y_pred))
    if weight is not None:
        terms = weight * terms
    if alpha is not None:
        if hasattr(alpha, "shape"):
            shape = [1] * y_pred.ndim
            shape[axis] = -1
            alpha = xp.reshape(alpha, tuple(shape))
        terms = alpha * terms
    return -xp.sum(terms, axis=axis)


# --- margins --------------------------------------------------------------------------------
_LABELS = ("zero_negative", "binary_batch", "signs")


def _signs(xp, y_true, labels):
    """The ±1 labels that ``labels`` reads ``y_true`` as (see :func:`hinge`)."""
    if labels == "signs":
        return y_true
    if labels == "binary_batch":  # one decision for the whole batch, as a select: compiles
        binary = xp.all((y_true == 0) | (y_true == 1))
        return xp.where(binary, 2.0 * y_true - 1.0, y_true)
    return xp.where(y_true == 0, -1.0, y_true)


def _check_signs(xp, y_true, y_pred, *, labels, **_):
    if labels not in _LABELS:
        raise ValueError(f"`labels` must be one of {list(_LABELS)}; got {labels!r} ({xp.backend}).")
    ok = (y_true == -1) | (y_true == 0) | (y_true == 1)
    v.check_all(xp, ok, "y_true", "a label in {-1, 1} (or 0, read as `labels` says)")


_HINGE_LABELS = ("Keras converts {0, 1} labels to ±1 only when the whole batch is in {0, 1} "
                 "(labels='binary_batch'); we always read 0 as −1.")
_HINGE_FORMAT = "±1; {0, 1} converted to ±1 only when every label in the batch is 0 or 1"


@loss(
    family="margin",
    domain=domains.signs(),
    checks=_check_signs,
    natives=(
        Native("keras", "keras.losses.Hinge", order=("y_true", "y_pred"), per="last_axis", construct=True,
               kwargs={"reduction": Fixed(None), "dtype": DTYPE}, convention={"labels": "binary_batch"},
               signature="keras.losses.Hinge(reduction='sum_over_batch_size', name='hinge', dtype=None)",
               label_format=_HINGE_FORMAT, notes=(_HINGE_LABELS,)),
        Native("optax", "optax.losses.hinge_loss", order=("y_pred", "y_true"), convention={"labels": "signs"},
               signature="optax.losses.hinge_loss(predictor_outputs, targets)",
               label_format="±1, used as given (a 0 label gives loss 1)",
               notes=("optax takes ±1 labels with no conversion (labels='signs').",)),
    ),
)
def hinge(y_true, y_pred, *, labels="zero_negative", xp):
    """Hinge loss: max(0, 1 − y·ŷ) with y ∈ {−1, 1}.

    ``labels`` says how a 0 label is read: "zero_negative" (default) as −1; "binary_batch"
    maps every label y to 2y − 1 when all labels in the batch are 0 or 1, else uses them as
    given (Keras); "signs" uses them as given, so a 0 costs 1 (optax).
    """
    return xp.maximum(1.0 - _signs(xp, y_true, labels) * y_pred, 0.0)


@loss(
    family="margin",
    domain=domains.signs(),
    checks=_check_signs,
    natives=(
        Native("keras", "keras.losses.SquaredHinge", order=("y_true", "y_pred"), per="last_axis", construct=True,
               kwargs={"reduction": Fixed(None), "dtype": DTYPE}, convention={"labels": "binary_batch"},
               signature="keras.losses.SquaredHinge(reduction='sum_over_batch_size', name='squared_hinge', "
                         "dtype=None)",
               label_format=_HINGE_FORMAT, notes=(_HINGE_LABELS,)),
    ),
)
def squared_hinge(y_true, y_pred, *, labels="zero_negative", xp):
    """Squared hinge loss: max(0, 1 − y·ŷ)² with y ∈ {−1, 1}; ``labels`` as in :func:`hinge`."""
    h = xp.maximum(1.0 - _signs(xp, y_true, labels) * y_pred, 0.0)
    return h * h


def _optax_integer_labels(xp, arrays):
    return [arrays["y_pred"], xp.argmax(arrays["y_true"], axis=-1)]


@loss(
    family="margin",
    domain=domains.categorical(scores=True),
    checks=lambda xp, y_true, y_pred, **_: v.check_bound(xp, y_true, "y_true", "≥ 0 (one-hot)", lower=0.0),
    natives=(
        Native("keras", "keras.losses.CategoricalHinge", order=("y_true", "y_pred"), construct=True, exact=False,
               kwargs={"reduction": Fixed(None), "dtype": DTYPE}, convention={"zero_true_class": True},
               signature="keras.losses.CategoricalHinge(reduction='sum_over_batch_size', name='categorical_hinge', "
                         "dtype=None)",
               label_format="one-hot over the last axis (±1 also accepted)",
               notes=(("Keras takes max((1 − y)·ŷ), letting the zeroed true-class score into the max: when every "
                       "wrong-class score is negative its loss is larger (keras#8083); zero_true_class=True "
                       "does the same."),)),
        Native("optax", "optax.losses.multiclass_hinge_loss", args=_optax_integer_labels, exact=False,
               signature="optax.losses.multiclass_hinge_loss(scores, labels)",
               label_format="integer class indices, scores' shape without the last axis",
               notes=("optax takes integer labels, so no soft rows; on one-hot rows it is ours.",)),
    ),
)
def categorical_hinge(y_true, y_pred, *, zero_true_class=False, xp):
    """Multi-class hinge (Crammer & Singer 2001): max(0, 1 + max_{c wrong} ŷ_c − ŷ_true).

    ``y_true`` is one-hot over the last axis; the max runs over the wrong classes only (y = 0),
    as optax and scikit-learn do. ``zero_true_class`` takes Keras's max_c (1 − y_c)·ŷ_c over
    every class instead, in which the true class takes part with score 0.
    """
    positive = xp.sum(y_true * y_pred, axis=-1)
    if zero_true_class:
        wrong = xp.max((1.0 - y_true) * y_pred, axis=-1)
    else:
        wrong = xp.max(xp.where(y_true > 0, xp.finfo(y_pred.dtype).min, y_pred), axis=-1)
    return xp.maximum(1.0 + wrong - positive, 0.0)


# --- divergence -----------------------------------------------------------------------------
def _check_kl(xp, y_true, y_pred, *, from_logits, log_input, epsilon, **_):
    if from_logits and log_input:
        raise ValueError(f"`from_logits` and `log_input` cannot both be True: y_pred is logits or log q "
                         f"({xp.backend}).")
    _check_safeguards(xp, epsilon)
    v.check_bound(xp, y_true, "y_true", "≥ 0 (class probabilities)", lower=0.0)
    _check_probabilities(xp, y_pred, from_logits or log_input)


_KL_TORCH_FORMAT = "input: log-probabilities; target: probabilities (log-probabilities with log_target=True)"


@loss(
    family="classification",
    domain=domains.distributions(),
    checks=_check_kl,
    variants=({"from_logits": True},),
    natives=(
        Native("keras", "keras.losses.KLDivergence", order=("y_true", "y_pred"), construct=True, exact=False,
               kwargs={"reduction": Fixed(None), "dtype": DTYPE},
               when={"from_logits": False, "log_input": False, "class_mean": False},
               convention={"epsilon": _KERAS_EPSILON},
               signature="keras.losses.KLDivergence(reduction='sum_over_batch_size', name='kl_divergence', dtype=None)",
               reduction=_PER_SAMPLE, safeguards="clips y_true and y_pred to [1e-7, 1]",
               label_format="probabilities, same shape as y_pred",
               notes=("Keras clips both distributions to [1e-7, 1], so y_true = 0 entries add 1e-7·log(1e-7/q).",)),
        Native("torch", "torch.nn.functional.kl_div", per="mean",
               when={"from_logits": False, "log_input": True, "class_mean": True},
               convention={"log_input": True, "class_mean": True},
               signature="torch.nn.functional.kl_div(input, target, size_average=None, reduce=None, "
                         "reduction='mean', log_target=False)",
               reduction="'mean' averages all N·C elements (and warns); 'batchmean' (Σ/N) is the KL, our 'mean'",
               safeguards="none: xlogy(t, t) − t·input", label_format=_KL_TORCH_FORMAT,
               notes=(("PyTorch's kl_div takes log q (log_input=True), and its default 'mean' divides by every "
                       "element, N·C (class_mean=True); its 'batchmean' is our 'mean'."),
                      "A −inf log q where the target is 0 gives NaN there (0·−inf), 0 here.")),
        Native("optax", "optax.losses.kl_divergence", order=("y_pred", "y_true"),
               when={"from_logits": False, "log_input": True, "class_mean": False}, convention={"log_input": True},
               signature="optax.losses.kl_divergence(log_predictions, targets, axis=-1, where=None)",
               safeguards="none: 0 where targets = 0",
               label_format="targets: probabilities; log_predictions: log-probabilities",
               notes=("optax takes log q as given (log_input=True).",
                      "A −inf log q where the target is 0 gives NaN there (0·−inf), 0 here.")),
    ),
)
def kl_divergence(y_true, y_pred, *, from_logits=False, log_input=False, epsilon=None, class_mean=False, axis=-1,
                  xp):
    """Kullback–Leibler divergence KL(y_true ‖ y_pred) = Σ_c y log(y / q) over ``axis``, per sample.

    ``y_pred`` is a distribution q, logits with ``from_logits`` (log_softmax leaves normalized
    log-probabilities unchanged), or log q itself with ``log_input``, used as given (PyTorch's
    ``kl_div`` input, optax's log_predictions). 0·log 0 = 0. ``epsilon`` clips y_true and q to
    [ε, 1] first (Keras). ``"mean"`` averages the per-sample KL: PyTorch's ``"batchmean"``,
    not its element-wise ``"mean"``, which ``class_mean`` (divide by the number of classes) gives.
    """
    log_q = xp.maximum(y_pred, xp.finfo(y_pred.dtype).min) if log_input else _log_probs(xp, y_pred, from_logits, axis)
    y = y_true
    if epsilon is not None:  # q in log space: log(clip(q, ε, 1)) = clip(log q, log ε, 0)
        y, log_q = xp.clip(y_true, epsilon, 1.0), xp.clip(log_q, math.log(_rounded(xp, y_pred, epsilon)[0]), 0.0)
    out = xp.sum(xp.xlogy(y, y) - y * log_q, axis=axis)
    return out / y_pred.shape[axis] if class_mean else out
