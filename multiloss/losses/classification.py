"""Classification and margin losses: binary / categorical / sparse CE, NLL, focal, poly, generalized CE, hinge, KL.

Numerics, on every backend:
- From logits, log-probabilities are log-sigmoid / log-softmax (softplus and log-sum-exp
  forms): finite values and gradients for logits of ±1e4 and float16's ±65504.
- From probabilities, each log is taken at max(p, tiny), tiny = the smallest normal number of
  the compute dtype (1.2e-38 in float32, 2.2e-308 in float64): p = 0 with y = 1 gives
  −log(tiny) = 87.34 (float32), finite, and a zero gradient there (the clamp is flat), as in
  Keras. Keras instead clips p to [1e-7, 1 − 1e-7] (16.12); PyTorch clamps the log at −100
  (100.0). For saturated probabilities use ``from_logits=True``.
- Per-sample losses (categorical, sparse, NLL, KL) reduce the class ``axis`` first (default the
  last; ``convention="torch"`` sets PyTorch's axis 1, (N, C, d1, …, dK)); ``"mean"`` then
  averages over samples (for KL, PyTorch's ``"batchmean"``, the true KL per sample).
- A NaN input gives NaN for its item (a class row's NaN: for that row); ±inf gives the loss's
  limit or NaN, never raises, the same on every backend (where ``y_pred`` must be a
  probability, eager mode checks reject both).

The frameworks' safeguards and label rules are ordinary parameters, off by default: ``epsilon``
(Keras's clipping), ``log_floor`` (PyTorch's −100), ``normalize`` (Keras renormalizes class
probabilities), the hinge's ``labels``, ``zero_true_class`` (Keras's categorical hinge) and KL's
``log_input`` / ``class_mean`` (PyTorch's ``kl_div``). ``convention="keras" | "torch" |
"optax"`` sets them as each loss's conventions say, so that ours gives that framework's numbers.
Each kernel's reference, written from the definition, stands above it.
"""

from __future__ import annotations

import math
import struct

from multiloss import _validation as v
from multiloss import domains
from multiloss.reference import Weighted
from multiloss.registry import Convention, loss

__all__ = [
    "binary_cross_entropy",
    "binary_focal",
    "categorical_cross_entropy",
    "categorical_focal",
    "categorical_hinge",
    "generalized_cross_entropy",
    "hinge",
    "kl_divergence",
    "negative_log_likelihood",
    "nll",
    "poly_cross_entropy",
    "sparse_categorical_cross_entropy",
    "squared_hinge",
]

_KERAS_EPSILON = 1e-7  # keras.config.epsilon()'s default
_TORCH_LOG_FLOOR = -100.0  # PyTorch's binary_cross_entropy clamps each log here
#: convention="torch" for the losses with a class axis: PyTorch's layout, classes at axis 1.
_TORCH_AXIS = {"axis": "PyTorch's class axis is always 1, input (N, C) or (N, C, d1, ..., dK) (add a batch axis "
                       "to an unbatched (C,) input)"}


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


def _probabilities(y_pred, from_logits):
    """The rule on predictions read as probabilities; none for logits."""
    if from_logits:
        return ()
    return (v.Rule("y_pred", y_pred, "a probability in [0, 1] (pass from_logits=True for logits)", lower=0.0,
                   upper=1.0),)


def _check_binary(xp, y_true, y_pred, *, from_logits, **_):
    return (v.Rule("y_true", y_true, "in [0, 1]", lower=0.0, upper=1.0), *_probabilities(y_pred, from_logits))


#: The conditions of the parameters the cross-entropies share: Keras's ``epsilon`` clip,
#: PyTorch's ``log_floor``, ``label_smoothing``, and the class ``axis``.
_SAFEGUARDS = {"epsilon": "(0, 0.5) or None", "log_floor": "<= 0 or None"}
_SMOOTHING = {"label_smoothing": "[0, 1]", "epsilon": _SAFEGUARDS["epsilon"]}
_CLASSES = {**_SMOOTHING, "axis": "int"}
_CLASS_WEIGHTS = (0.5, 1.0, 2.0, 0.0, 1.5, 1.0, 3.0, 0.25)  # a variant's: one per class of the matrix's 8


# --- binary ---------------------------------------------------------------------------------
def _bce(xp, y, log_p, log_q, pos_weight):
    positive = y * log_p if pos_weight is None else pos_weight * y * log_p
    return -(positive + (1.0 - y) * log_q)


def _exact_log_sigmoid(x, m):
    return -m.log1p(m.exp(-x))


def _exact_binary_logs(y_pred, from_logits, m, epsilon=None, log_floor=None):
    """(log p, log(1 − p)) by the definition; ``epsilon`` clips p (sigmoid(x) for logits) to
    [ε, 1 − ε] first, ``log_floor`` is the least value of each log (log 0 = −inf)."""
    if epsilon is not None:
        p = 1 / (1 + m.exp(-y_pred)) if from_logits else y_pred
        y_pred, from_logits = min(max(p, epsilon), 1 - epsilon), False
    if from_logits:
        logs = _exact_log_sigmoid(y_pred, m), _exact_log_sigmoid(-y_pred, m)
    else:
        logs = tuple(m.log(x) if x > 0 else -m.inf for x in (y_pred, 1 - y_pred))
    return logs if log_floor is None else tuple(max(x, log_floor) for x in logs)


def _binary_cross_entropy_reference(y_true, y_pred, *, from_logits, label_smoothing, pos_weight, epsilon, log_floor, m):
    y = y_true * (1 - label_smoothing) + label_smoothing / 2
    log_p, log_q = _exact_binary_logs(y_pred, from_logits, m, epsilon, log_floor)
    return -(1 if pos_weight is None else pos_weight) * y * log_p, -(1 - y) * log_q


def _binary_shapes(xp, arrays, params):
    y_pred = arrays["y_pred"]
    v.check_same_shape(xp, arrays["y_true"], y_pred, "y_true", "y_pred")
    weight = params["pos_weight"]
    if hasattr(weight, "shape"):
        shape, given = v.shape_of(y_pred), v.shape_of(weight)
        if len(given) > len(shape) or not all(g in (1, s) or None in (g, s) for g, s in zip(given[::-1], shape[::-1])):
            raise ValueError(f"`pos_weight` must broadcast against `y_pred` {shape} over its last axes (e.g. one "
                             f"weight per class, {shape[-1:]}); got {given} ({xp.backend}).")


@loss(
    family="classification",
    domain=domains.binary(),
    reference=_binary_cross_entropy_reference,
    shapes=_binary_shapes,
    conditions={**_SMOOTHING, **_SAFEGUARDS, "pos_weight": ">= 0 or array or None"},
    checks=_check_binary,
    variants=({"from_logits": True}, {"from_logits": True, "pos_weight": 3.0}, {"label_smoothing": 0.2}),
    conventions=(
        Convention("torch.nn.functional.binary_cross_entropy", {"log_floor": _TORCH_LOG_FLOOR},
                   when={"from_logits": False, "label_smoothing": 0.0, "pos_weight": None}, divisor="count"),
        Convention("torch.nn.functional.binary_cross_entropy_with_logits",
                   when={"from_logits": True, "label_smoothing": 0.0}, divisor="count"),
        Convention("keras.losses.BinaryCrossentropy", {"epsilon": _KERAS_EPSILON},
                   when={"pos_weight": None, "from_logits": False}, per_sample=True),
        Convention("keras.losses.BinaryCrossentropy", when={"pos_weight": None, "from_logits": True}, per_sample=True),
        Convention("optax.losses.sigmoid_binary_cross_entropy",
                   when={"from_logits": True, "label_smoothing": 0.0, "pos_weight": None}),
    ),
)
def binary_cross_entropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, pos_weight=None, epsilon=None,
                         log_floor=None, reduction="none", xp):
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
    if from_logits and epsilon is None and log_floor is None:  # one op (PyTorch: saves x and y only)
        return xp.sigmoid_cross_entropy(y_pred, y, pos_weight=pos_weight, reduction=reduction)
    log_p, log_q = _binary_logs(xp, y_pred, from_logits, epsilon, log_floor)
    return _bce(xp, y, log_p, log_q, pos_weight)


def _binary_focal_reference(y_true, y_pred, *, alpha, gamma, from_logits, label_smoothing, epsilon, m):
    y_true = y_true + label_smoothing * (0.5 - y_true)  # in m's precision: 1 − 0.1 would round in float
    log_p, log_q = _exact_binary_logs(y_pred, from_logits, m)
    one_minus_pt = y_true * m.exp(log_q) + (1 - y_true) * m.exp(log_p)  # not 1 − p_t: no cancellation
    log_p, log_q = _exact_binary_logs(y_pred, from_logits, m, epsilon)  # the clip reaches the logs only
    a = 1 if alpha is None else alpha * y_true + (1 - alpha) * (1 - y_true)
    w = a * one_minus_pt**gamma
    return -w * y_true * log_p, -w * (1 - y_true) * log_q


@loss(
    family="classification",
    domain=domains.binary(),
    reference=_binary_focal_reference,
    conditions={"gamma": ">= 0", "alpha": "[0, 1] or None", **_SMOOTHING},
    checks=_check_binary,
    variants=({"from_logits": True}, {"alpha": None, "gamma": 0.0}, {"from_logits": True, "gamma": 0.5},
              {"label_smoothing": 0.2, "alpha": 0.6}, {"from_logits": True, "label_smoothing": 0.1, "alpha": None}),
    conventions=(
        Convention("keras.losses.BinaryFocalCrossentropy", {"alpha": None, "epsilon": _KERAS_EPSILON},
                   when={"from_logits": False}, per_sample=True),
        Convention("keras.losses.BinaryFocalCrossentropy", {"alpha": None}, when={"from_logits": True},
                   per_sample=True),
        Convention("optax.losses.sigmoid_focal_loss", {"alpha": None},
                   when={"from_logits": True, "label_smoothing": 0.0}),
        Convention("torchvision.ops.sigmoid_focal_loss", when={"from_logits": True, "label_smoothing": 0.0}),
    ),
)
def binary_focal(y_true, y_pred, *, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, epsilon=None,
                 xp):
    """Binary focal loss (Lin et al. 2017): α_t·(1 − p_t)^γ·BCE, p_t = p for y = 1, 1 − p for y = 0.

    α_t = α·y + (1 − α)(1 − y); ``alpha=None`` turns balancing off (Keras's default
    ``apply_class_balancing=False``; ours is on, α = 0.25, as the paper and torchvision), and
    then γ = 0 is BCE exactly. 1 − p_t = y(1 − p) + (1 − y)p is formed directly (from
    sigmoid(∓x) for logits), never as 1 − p_t, so it keeps its precision when p_t → 1.
    ``label_smoothing`` maps y to y(1 − ls) + ls/2 first, in every term (Keras). ``epsilon``
    clips p to [ε, 1 − ε] inside the cross-entropy's logs only, not in the focal factor (Keras).
    """
    if gamma == 0 and alpha is None and from_logits and epsilon is None and not label_smoothing:
        return xp.sigmoid_cross_entropy(y_pred, y_true)  # BCE's own op: the same bits
    y, smoothed = y_true, None
    if label_smoothing:  # each side smoothed on its own: 1 − 0.95 would keep one digit less per 20×
        y = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
        smoothed = (1.0 - y_true) * (1.0 - label_smoothing) + 0.5 * label_smoothing

    def negative():  # 1 − y
        return 1.0 - y if smoothed is None else smoothed

    log_p, log_q = _binary_logs(xp, y_pred, from_logits)
    p, q = (xp.exp(log_p), xp.exp(log_q)) if from_logits else (y_pred, 1.0 - y_pred)
    if epsilon is not None:  # the logs only
        log_p, log_q = _clip_binary_logs(xp, log_p, log_q, epsilon)
    out = -(y * log_p + negative() * log_q)
    weight = _modulating(xp, y * q + negative() * p, gamma, _tiny(xp, y_pred))
    if weight is not None:
        out = weight * out
    if alpha is not None:
        out = (alpha * y + (1.0 - alpha) * negative()) * out
    return out


# --- categorical ----------------------------------------------------------------------------
def _check_categorical(xp, y_true, y_pred, *, from_logits, **_):
    return (v.Rule("y_true", y_true, "≥ 0 (class probabilities)", lower=0.0), *_probabilities(y_pred, from_logits))


def _class_axis(xp, x, axis, name="y_pred"):
    """``axis`` as an index of ``x``'s axes, which must exist and hold at least one class."""
    if not -x.ndim <= axis < max(x.ndim, 1):
        raise ValueError(f"`axis` {axis} is out of range for `{name}` of shape {v.shape_of(x)}: it needs a class "
                         f"axis ({xp.backend}).")
    if x.shape[axis] == 0:
        raise ValueError(f"`{name}` has no classes: axis {axis} of its shape {v.shape_of(x)} is empty ({xp.backend}).")
    return axis % x.ndim


def _class_shapes(xp, arrays, params):
    """One shape for ``y_true`` and ``y_pred``, with a class ``axis`` of at least one class."""
    v.check_same_shape(xp, arrays["y_true"], arrays["y_pred"], "y_true", "y_pred")
    _class_axis(xp, arrays["y_pred"], params.get("axis", -1))


def _exact_neg_log_probs(row, from_logits, m, epsilon=None, normalize=False):
    """For each class, the terms of −log p_c: (lse, −x_c) from logits, (−log p_c,) from
    probabilities, and with ``normalize`` (p / Σp; a softmax sums to 1) + log Σp. Kept apart so
    that a scale sees their cancellation. ``epsilon`` clips p to [ε, 1 − ε]: a clipped class's
    terms become the one term −log of the bound."""
    if from_logits:
        top = max(row)
        lse = top + m.log(m.fsum(m.exp(x - top) for x in row))
        nlp = [(lse, -x) for x in row]
    else:
        total = (m.log(m.fsum(row)),) if normalize else ()
        nlp = [(-m.log(p), *total) for p in row]
    if epsilon is None:
        return nlp
    low, high = -m.log(1 - epsilon), -m.log(epsilon)
    return [terms if low <= sum(terms) <= high else (min(max(sum(terms), low), high),) for terms in nlp]


def _categorical_cross_entropy_reference(y_true, y_pred, *, from_logits, label_smoothing, epsilon, normalize, axis, m):
    c = len(y_pred)
    y = [t * (1 - label_smoothing) + label_smoothing / c for t in y_true]
    nlp = _exact_neg_log_probs(y_pred, from_logits, m, epsilon, normalize)
    return tuple(t * term for t, terms in zip(y, nlp) for term in terms)


@loss(
    family="classification",
    domain=domains.categorical(),
    reference=_categorical_cross_entropy_reference,
    kind="row",
    shapes=_class_shapes,
    conditions=_CLASSES,
    checks=_check_categorical,
    variants=({"from_logits": True}, {"from_logits": True, "label_smoothing": 0.1},
              {"from_logits": True, "label_smoothing": 0.1, "axis": 1}),
    conventions=(
        Convention("torch.nn.functional.cross_entropy", {"axis": 1}, when={"from_logits": True, "axis": 1},
                   why=_TORCH_AXIS),
        Convention("keras.losses.CategoricalCrossentropy", {"epsilon": _KERAS_EPSILON, "normalize": True},
                   when={"from_logits": False}),
        Convention("keras.losses.CategoricalCrossentropy", when={"from_logits": True}),
        Convention("optax.losses.softmax_cross_entropy",
                   when={"from_logits": True, "label_smoothing": 0.0, "axis": -1}),
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
    ``convention="torch"`` is PyTorch's ``cross_entropy`` with class probabilities: its layout,
    the class axis at 1 of (N, C) or (N, C, d1, …, dK) (another ``axis`` is an error there).
    """
    log_p = _log_probs(xp, y_pred, from_logits, axis, epsilon, normalize)
    out = -xp.sum(y_true * log_p, axis=axis)
    if label_smoothing == 0:
        return out
    # Σ_c (y_c(1 − ls) + ls/C)(−log p_c) as (1 − ls)·CE + ls·mean_c(−log p_c): no class count C,
    # which tf.function may know only at run time.
    return (1.0 - label_smoothing) * out - label_smoothing * xp.mean(log_p, axis=axis)


def _poly_cross_entropy_reference(y_true, y_pred, *, epsilon, from_logits, axis, m):
    nlp = _exact_neg_log_probs(y_pred, from_logits, m)
    ce = [t * term for t, terms in zip(y_true, nlp) for term in terms]
    return (*ce, *(epsilon * t * (1 - m.exp(-sum(terms))) for t, terms in zip(y_true, nlp)))


@loss(
    family="classification",
    domain=domains.categorical(),
    reference=_poly_cross_entropy_reference,
    kind="row",
    shapes=_class_shapes,
    conditions={"axis": "int"},
    checks=_check_categorical,
    variants=({"from_logits": True}, {"from_logits": True, "epsilon": -1.0}),
    conventions=(Convention("optax.losses.poly_loss_cross_entropy", when={"from_logits": True, "axis": -1}),),
)
def poly_cross_entropy(y_true, y_pred, *, epsilon=2.0, from_logits=False, axis=-1, xp):
    """Poly-1 cross-entropy (Leng et al. 2022, PolyLoss): CE + ε·Σ_c y_c(1 − p_c) over the class ``axis``.

    With one-hot labels Σ_c y_c(1 − p_c) = 1 − p_t: the first term of cross-entropy's
    expansion −log p_t = Σ_j (1 − p_t)^j / j gets the coefficient 1 + ε (the paper: ε = 2 for
    ImageNet, −1 for detection; ε ≥ −1 keeps the loss ≥ 0). Soft labels as optax's
    ``poly_loss_cross_entropy``: Σ_c y_c(1 − p_c). ``y_pred`` is probabilities, or logits with
    ``from_logits`` (optax takes logits). 1 − p_c is −expm1(log p_c), exact as p_c → 1.
    """
    log_p = _log_probs(xp, y_pred, from_logits, axis)
    return -xp.sum(y_true * log_p, axis=axis) - epsilon * xp.sum(y_true * xp.expm1(log_p), axis=axis)


def _sparse_shapes(xp, arrays, params):
    labels, y_pred = arrays["y_true"], arrays["y_pred"]
    axis = _class_axis(xp, y_pred, params["axis"])
    expected = list(v.shape_of(y_pred))
    del expected[axis]
    if not v._same(v.shape_of(labels), tuple(expected)):
        raise ValueError(
            f"`y_true` (integer labels) must have `y_pred`'s shape without the class axis {axis}: "
            f"expected {tuple(expected)}, got {v.shape_of(labels)} for y_pred {v.shape_of(y_pred)} ({xp.backend})."
        )
    weight = params.get("class_weight")
    if weight is not None and hasattr(weight, "shape") and not v._same(v.shape_of(weight), (y_pred.shape[axis],)):
        raise ValueError(f"`class_weight` must have shape ({y_pred.shape[axis]},); got {v.shape_of(weight)} "
                         f"({xp.backend}).")


def _fused(from_logits, label_smoothing, class_weight, ignore_index, epsilon, normalize, **_) -> bool:
    """Whether sparse CE is plain −log softmax(x)_y, one fused op (``xp.softmax_nll``)."""
    return from_logits and not label_smoothing and class_weight is None and ignore_index is None and \
        epsilon is None and not normalize


def _check_sparse(xp, y_true, y_pred, *, from_logits, ignore_index, axis, **params):
    if not v.readable(xp, y_true):  # integer labels: the kernel makes out-of-range items NaN itself
        return _probabilities(y_pred, from_logits)
    if v.check_mode() == "auto" and xp.checks_labels(y_pred) and _fused(from_logits, ignore_index=ignore_index,
                                                                        **params):
        return ()  # the framework's kernel raises for an out-of-range label (made our ValueError by the call)
    return (_label_rule(xp, y_true, y_pred, ignore_index, axis), *_probabilities(y_pred, from_logits))


def _label_rule(xp, y_true, y_pred, ignore_index, axis):
    """The rule on integer class labels: each in [0, C) or equal to ``ignore_index``."""
    n = y_pred.shape[axis]
    labels = y_true if ignore_index is None else xp.where(y_true == ignore_index, 0, y_true)
    ignored = "" if ignore_index is None else f" or equal to ignore_index={ignore_index}"
    return v.Rule("y_true", labels, f"class labels in [0, {n}){ignored}", lower=0, upper=n - 1)


def _labelled(xp, y_true, y_pred, ignore_index, axis):
    """(labels safe to gather, the items whose label is in [0, C), the items kept or None): an
    out-of-range label (seen only under jit, where it cannot raise) or an ignored one gathers
    column 0, and :func:`_per_label` makes the first NaN and the second 0, never a clamped,
    wrapped or zero column's value."""
    n = xp.dim(y_pred, axis)  # an int64 array where tf.function knows it only at run time
    keep = None if ignore_index is None else y_true != ignore_index
    in_range = (y_true >= 0) & ((y_true if isinstance(n, int) else xp.astype(y_true, n.dtype)) < n)
    return xp.where(in_range if keep is None else in_range & keep, y_true, 0), in_range, keep


def _column(xp, x, labels, axis):
    """x's value at each item's label along the class ``axis`` (a gather, no one-hot)."""
    return xp.squeeze(xp.take_along_axis(x, xp.expand_dims(labels, axis=axis), axis=axis), axis=axis)


def _per_label(xp, out, weight, in_range, keep):
    """The per-item loss of integer labels (:func:`_labelled`): 0 with weight 0 where ignored,
    NaN where out of range; ``(out, weight)`` where items carry weights (class weights, ignored
    items), which ``"mean"`` divides by (PyTorch's Σ w_y over the kept items)."""
    if keep is not None:
        kept = xp.astype(keep, out.dtype)
        out = out * kept
        weight = kept if weight is None else weight * kept
    out = xp.where(in_range if keep is None else in_range | ~keep, out, math.nan)
    return out if weight is None else (out, weight)


def _take(xp, values, labels):
    """values[labels], for labels of any shape (the standard's ``take`` takes 1-D indices)."""
    if labels.ndim == 1:
        return xp.take(values, labels)
    shape = tuple(xp.dim(labels, i) for i in range(labels.ndim))  # tf.function may know them only at run time
    return xp.reshape(xp.take(values, xp.reshape(labels, (-1,))), shape)


def _sparse_categorical_cross_entropy_reference(y_true, y_pred, *, from_logits, label_smoothing, class_weight,
                                                ignore_index, epsilon, normalize, axis, m):
    if y_true == ignore_index:
        return Weighted((0,), 0)
    c = len(y_pred)
    w = [1] * c if class_weight is None else list(class_weight)
    nlp = _exact_neg_log_probs(y_pred, from_logits, m, epsilon)
    if normalize:  # after the clip: −log(p_c / Σp) = −log p_c + log Σp
        log_total = m.log(m.fsum(m.exp(-sum(terms)) for terms in nlp))
        nlp = [(*terms, log_total) for terms in nlp]
    terms = [(1 - label_smoothing) * w[y_true] * term for term in nlp[y_true]]
    if label_smoothing:
        terms += [label_smoothing / c * w[k] * term for k in range(c) for term in nlp[k]]
    return Weighted(tuple(terms), w[y_true])


@loss(
    family="classification",
    domain=domains.sparse(),
    reference=_sparse_categorical_cross_entropy_reference,
    kind="row",
    labels=(),
    indices=("y_true",),
    shapes=_sparse_shapes,
    conditions={**_CLASSES, "class_weight": "array or None", "ignore_index": "int or None"},
    checks=_check_sparse,
    variants=(
        {"from_logits": True},
        {"from_logits": True, "ignore_index": 2, "label_smoothing": 0.1},
        {"from_logits": True, "class_weight": (0.5, 1.0, 2.0, 0.0, 1.5, 1.0, 3.0, 0.25), "ignore_index": 2},
        {"from_logits": True, "class_weight": _CLASS_WEIGHTS, "ignore_index": 2, "label_smoothing": 0.1, "axis": 1},
    ),
    conventions=(
        Convention("torch.nn.functional.cross_entropy", {"ignore_index": -100, "axis": 1},
                   when={"from_logits": True, "axis": 1}, why=_TORCH_AXIS),
        Convention("keras.losses.SparseCategoricalCrossentropy", {"epsilon": _KERAS_EPSILON, "normalize": True},
                   when={"label_smoothing": 0.0, "class_weight": None, "from_logits": False}),
        Convention("keras.losses.SparseCategoricalCrossentropy",
                   when={"label_smoothing": 0.0, "class_weight": None, "from_logits": True}),
        Convention("optax.losses.softmax_cross_entropy_with_integer_labels",
                   when={"from_logits": True, "label_smoothing": 0.0, "class_weight": None, "ignore_index": None,
                         "axis": -1}),
    ),
)
def sparse_categorical_cross_entropy(
    y_true, y_pred, *, from_logits=False, label_smoothing=0.0, class_weight=None, ignore_index=None, epsilon=None,
    normalize=False, axis=-1, reduction="none", xp
):
    """Cross-entropy with integer labels: −log p_y, gathering the label's column (no one-hot).

    ``y_true`` has ``y_pred``'s shape without the class ``axis``. With ``label_smoothing``:
    (1 − ls)(−log p_y) + (ls/C)Σ_c(−log p_c). PyTorch's rules for ``class_weight`` (w, one per
    class) and ``ignore_index``: item i's loss is (1 − ls)·w_y·(−log p_y) + (ls/C)Σ_c w_c(−log p_c),
    0 if ignored, and ``"mean"`` divides by Σ_i w_{y_i} over the kept items; a batch whose
    labels are all ignored gives 0. Keras's safeguards: ``epsilon`` clips p (from logits, the
    softmax) to [ε, 1 − ε], and ``normalize`` then renormalizes it over ``axis`` (Keras's sparse
    path takes log_softmax of the clipped logs). Labels outside [0, C) raise ``ValueError`` where
    the check policy reads them (``multiloss.checks``: eager arrays on the host by default); where
    it does not (jit, a GPU) they give NaN (never a clamped, wrapped or zero column, which is
    what JAX, NumPy-style −1 indexing and TensorFlow on GPU would read).
    ``convention="torch"`` is PyTorch's ``cross_entropy``: class axis 1 of (N, C) or
    (N, C, d1, …, dK) with labels (N, d1, …, dK), label −100 ignored.
    """
    if v.readable(xp, y_true) and _fused(from_logits, label_smoothing, class_weight, ignore_index, epsilon, normalize):
        # labels checked: by the eager check, or by the framework's kernel itself (xp.checks_labels)
        return xp.softmax_nll(y_pred, y_true, axis=axis, reduction=reduction)
    labels, in_range, keep = _labelled(xp, y_true, y_pred, ignore_index, axis)
    log_p = None
    if from_logits and epsilon is None and not normalize and not label_smoothing:
        nll = xp.softmax_nll(y_pred, labels, axis=axis)
    elif not (from_logits or epsilon is not None or normalize or label_smoothing):
        # probabilities: the gather first, so that only the labels' column is logged and kept
        nll = -xp.log(xp.maximum(_column(xp, y_pred, labels, axis), _tiny(xp, y_pred)))
    else:
        if from_logits and epsilon is None:  # one fused N×C pass, then a gather
            log_p = xp.log_softmax(y_pred, axis=axis)
        else:
            log_p = _log_probs(xp, y_pred, from_logits, axis, epsilon)
        if normalize:
            log_p = xp.log_softmax(log_p, axis=axis)
        nll = -_column(xp, log_p, labels, axis)
    if not (from_logits or normalize or label_smoothing):
        # −log p_y reads one column only; a NaN elsewhere in the row still gives NaN, as it does
        # through the softmax of logits.
        nll = xp.where(xp.any(xp.isnan(y_pred), axis=axis), math.nan, nll)
    neg_log_p = None if label_smoothing == 0 else -log_p
    weight = None
    if class_weight is not None:
        weight = _take(xp, class_weight, labels)
        nll = weight * nll
        if neg_log_p is not None:
            shape = [1] * y_pred.ndim
            shape[axis] = -1
            neg_log_p = xp.reshape(class_weight, tuple(shape)) * neg_log_p
    out = nll
    if neg_log_p is not None:
        out = (1.0 - label_smoothing) * nll + label_smoothing * xp.mean(neg_log_p, axis=axis)
    return _per_label(xp, out, weight, in_range, keep)


def _negative_log_likelihood_reference(y_true, y_pred, *, class_weight, ignore_index, axis, m):
    if y_true == ignore_index:
        return Weighted((0,), 0)
    w = 1 if class_weight is None else class_weight[y_true]
    return Weighted((-w * y_pred[y_true],), w)


def _check_nll(xp, y_true, y_pred, *, ignore_index, axis, **_):
    if not v.readable(xp, y_true):  # integer labels: the kernel makes out-of-range items NaN itself
        return ()
    return (_label_rule(xp, y_true, y_pred, ignore_index, axis),)


@loss(
    family="classification",
    domain=domains.sparse(log_probabilities=True),
    reference=_negative_log_likelihood_reference,
    kind="row",
    labels=(),
    indices=("y_true",),
    shapes=_sparse_shapes,
    conditions={"class_weight": "array or None", "ignore_index": "int or None", "axis": "int"},
    checks=_check_nll,
    variants=({"class_weight": _CLASS_WEIGHTS, "ignore_index": 2},
              {"class_weight": _CLASS_WEIGHTS, "ignore_index": 5, "axis": 1}),
    conventions=(Convention("torch.nn.functional.nll_loss", {"ignore_index": -100, "axis": 1}, when={"axis": 1},
                            why=_TORCH_AXIS),),
    aliases=("nll",),
)
def negative_log_likelihood(y_true, y_pred, *, class_weight=None, ignore_index=None, axis=-1, xp):
    """Negative log-likelihood of integer labels: −w_y·ŷ_y, ``y_pred`` holding log-probabilities.

    PyTorch's ``nll_loss``: ``y_pred`` is log p (a log_softmax's output), used as given;
    ``y_true`` has its shape without the class ``axis`` ((N, d1, …, dK) for (N, C, d1, …, dK)
    with ``axis=1``). ``class_weight`` (w, one per class) and ``ignore_index`` follow PyTorch,
    as in :func:`sparse_categorical_cross_entropy`: an ignored item gives 0 and ``"mean"``
    divides by Σ w_y over the kept items (0 when all are ignored). On log_softmax(x) it is
    sparse cross-entropy from logits x. ``convention="torch"`` puts the class axis at 1 and
    ignores label −100, as PyTorch does. A NaN anywhere in an item's row gives NaN (PyTorch
    reads only the label's column); labels outside [0, C) raise ``ValueError`` where the check
    policy reads them, and give NaN where it does not.
    """
    labels, in_range, keep = _labelled(xp, y_true, y_pred, ignore_index, axis)
    nll = xp.where(xp.any(xp.isnan(y_pred), axis=axis), math.nan, -_column(xp, y_pred, labels, axis))
    weight = None
    if class_weight is not None:
        weight = _take(xp, class_weight, labels)
        nll = weight * nll
    return _per_label(xp, nll, weight, in_range, keep)


nll = negative_log_likelihood


def _generalized_cross_entropy_reference(y_true, y_pred, *, q, from_logits, axis, m):
    if from_logits:
        top = max(y_pred)
        p = m.exp(y_pred[y_true] - top) / m.fsum(m.exp(x - top) for x in y_pred)
    else:
        p = y_pred[y_true]
    return 1 / q, -(p**q) / q


def _check_generalized(xp, y_true, y_pred, *, from_logits, axis, **_):
    labels = (_label_rule(xp, y_true, y_pred, None, axis),) if v.readable(xp, y_true) else ()
    return (*labels, *_probabilities(y_pred, from_logits))


@loss(
    family="classification",
    domain=domains.sparse(),
    reference=_generalized_cross_entropy_reference,
    kind="row",
    labels=(),
    indices=("y_true",),
    shapes=_sparse_shapes,
    conditions={"q": "(0, 1]", "axis": "int"},
    checks=_check_generalized,
    variants=({"from_logits": True}, {"q": 0.1}, {"from_logits": True, "q": 1.0}),
    conventions=(Convention("keras.losses.CategoricalGeneralizedCrossEntropy", when={"from_logits": False,
                                                                                     "axis": -1}),),
)
def generalized_cross_entropy(y_true, y_pred, *, q=0.5, from_logits=False, axis=-1, xp):
    """Generalized cross-entropy (Zhang & Sabuncu 2018): (1 − p_y^q) / q, integer labels y.

    A loss robust to noisy labels between cross-entropy (its limit as q → 0) and the mean
    absolute error of the one-hot target (q = 1: 1 − p_y). ``y_pred`` holds probabilities over
    the class ``axis``, or logits with ``from_logits``; ``y_true`` has its shape without that
    axis (Keras's ``CategoricalGeneralizedCrossEntropy`` takes such integer labels, despite its
    name). From logits p_y is the softmax's, exp(x_y − m) / Σ exp(x − m) (not exp of a
    log-softmax, whose rounding exp would magnify for a small p_y); p_y^q is exp(q·log p_y), the
    log taken at max(p_y, the dtype's smallest normal number), so that p_y = 0 gives 1/q with a
    finite gradient. Labels outside [0, C) raise ``ValueError`` where the check policy reads
    them, and give NaN where they are not read.
    """
    labels, in_range, _ = _labelled(xp, y_true, y_pred, None, axis)
    if from_logits:
        top = xp.max(y_pred, axis=axis, keepdims=True)
        e = xp.exp(y_pred - xp.stop_gradient(xp.where(top == -math.inf, 0.0, top)))
        p = _column(xp, e, labels, axis) / xp.sum(e, axis=axis)
    else:  # the label's column only; a NaN elsewhere in the row still gives NaN
        p = xp.where(xp.any(xp.isnan(y_pred), axis=axis), math.nan, _column(xp, y_pred, labels, axis))
    p_q = p if q == 1 else xp.exp(q * xp.log(xp.maximum(p, _tiny(xp, y_pred))))
    return _per_label(xp, (1.0 - p_q) / q, None, in_range, None)


def _categorical_focal_reference(y_true, y_pred, *, alpha, gamma, from_logits, label_smoothing, epsilon, normalize,
                                 axis, m):
    c = len(y_pred)
    y = [t + label_smoothing * (1 / c - t) for t in y_true]
    nlp = _exact_neg_log_probs(y_pred, from_logits, m, epsilon, normalize)
    a = [1] * c if alpha is None else list(alpha) if isinstance(alpha, (list, tuple)) else [alpha] * c
    return tuple(w * (1 - m.exp(-sum(terms))) ** gamma * t * term
                 for w, t, terms in zip(a, y, nlp) for term in terms)


@loss(
    family="classification",
    domain=domains.categorical(),
    reference=_categorical_focal_reference,
    kind="row",
    shapes=_class_shapes,
    conditions={"gamma": ">= 0", "alpha": ">= 0 or array or None", **_CLASSES},
    checks=_check_categorical,
    variants=({"from_logits": True}, {"from_logits": True, "gamma": 0.0}, {"alpha": 0.25},
              {"label_smoothing": 0.2, "alpha": 0.5}, {"from_logits": True, "label_smoothing": 0.1}),
    conventions=tuple(
        Convention("keras.losses.CategoricalFocalCrossentropy",
                   {"alpha": 0.25, "epsilon": _KERAS_EPSILON, "normalize": True}, when={"from_logits": logits})
        for logits in (False, True)
    ),
)
def categorical_focal(y_true, y_pred, *, alpha=None, gamma=2.0, from_logits=False, label_smoothing=0.0,
                      epsilon=None, normalize=False, axis=-1, xp):
    """Categorical focal loss: −Σ_c α_c (1 − p_c)^γ y_c log p_c over the class ``axis``.

    ``alpha`` is None (off), a number applied to every class (Keras), or one weight per class.
    γ = 0 with ``alpha=None`` is categorical cross-entropy. ``label_smoothing`` maps y to
    y(1 − ls) + ls/C (Keras). ``normalize`` and ``epsilon`` act as in
    :func:`categorical_cross_entropy`, on p in both the log and the factor (Keras).
    """
    log_p = _log_probs(xp, y_pred, from_logits, axis, epsilon, normalize)
    weight = _modulating(xp, 1.0 - xp.exp(log_p), gamma, _tiny(xp, y_pred))
    if alpha is not None:
        if hasattr(alpha, "shape"):
            shape = [1] * y_pred.ndim
            shape[axis] = -1
            alpha = xp.reshape(alpha, tuple(shape))
        weight = alpha if weight is None else alpha * weight
    weighted = log_p if weight is None else weight * log_p
    out = -xp.sum(y_true * weighted, axis=axis)
    if label_smoothing == 0:
        return out
    # Σ_c (y_c(1 − ls) + ls/C)·w_c(−log p_c) with no class count C (tf.function may know it only at run time)
    return (1.0 - label_smoothing) * out - label_smoothing * xp.mean(weighted, axis=axis)


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


def _check_signs(xp, y_true, y_pred, **_):
    ok = (y_true == -1) | (y_true == 0) | (y_true == 1)
    return (v.Rule("y_true", y_true, "a label in {-1, 1} (or 0, read as `labels` says)", ok=ok),)


def _hinge_reference(y_true, y_pred, *, labels, m):
    if labels == "binary_batch":
        raise ValueError("labels='binary_batch' reads the whole batch: there is no per-element reference")
    y = -1 if y_true == 0 and labels == "zero_negative" else y_true
    return max(0, 1 - y * y_pred)


@loss(
    family="margin",
    domain=domains.signs(),
    reference=_hinge_reference,
    conditions={"labels": f"in {_LABELS}"},
    checks=_check_signs,
    conventions=(
        Convention("keras.losses.Hinge", {"labels": "binary_batch"}, per_sample=True),
        Convention("optax.losses.hinge_loss", {"labels": "signs"}),
    ),
)
def hinge(y_true, y_pred, *, labels="zero_negative", xp):
    """Hinge loss: max(0, 1 − y·ŷ) with y ∈ {−1, 1}.

    ``labels`` says how a 0 label is read: "zero_negative" (default) as −1; "binary_batch"
    maps every label y to 2y − 1 when all labels in the batch are 0 or 1, else uses them as
    given (Keras); "signs" uses them as given, so a 0 costs 1 (optax).
    """
    return xp.maximum(1.0 - _signs(xp, y_true, labels) * y_pred, 0.0)


def _squared_hinge_reference(y_true, y_pred, *, labels, m):
    return _hinge_reference(y_true, y_pred, labels=labels, m=m) ** 2


@loss(
    family="margin",
    domain=domains.signs(),
    reference=_squared_hinge_reference,
    conditions={"labels": f"in {_LABELS}"},
    checks=_check_signs,
    conventions=(Convention("keras.losses.SquaredHinge", {"labels": "binary_batch"}, per_sample=True),),
)
def squared_hinge(y_true, y_pred, *, labels="zero_negative", xp):
    """Squared hinge loss: max(0, 1 − y·ŷ)² with y ∈ {−1, 1}; ``labels`` as in :func:`hinge`."""
    h = xp.maximum(1.0 - _signs(xp, y_true, labels) * y_pred, 0.0)
    return h * h


def _categorical_hinge_reference(y_true, y_pred, *, zero_true_class, m):
    positive = sum(t * s for t, s in zip(y_true, y_pred))
    if zero_true_class:  # Keras: max over every class of (1 − y)·ŷ
        wrong = max((1 - t) * s for t, s in zip(y_true, y_pred))
    else:
        wrong = max((s for t, s in zip(y_true, y_pred) if t == 0), default=-m.inf)  # none: a soft row
    return max(0, 1 + wrong - positive)


@loss(
    family="margin",
    domain=domains.categorical(scores=True),
    reference=_categorical_hinge_reference,
    kind="row",
    shapes=_class_shapes,
    checks=lambda xp, y_true, y_pred, **_: (v.Rule("y_true", y_true, "≥ 0 (one-hot)", lower=0.0),),
    conventions=(Convention("keras.losses.CategoricalHinge", {"zero_true_class": True}),),
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
def _check_kl(xp, y_true, y_pred, *, from_logits, log_input, log_target, **_):
    if from_logits and log_input:
        raise ValueError(f"`from_logits` and `log_input` cannot both be True: y_pred is logits or log q "
                         f"({xp.backend}).")
    targets = () if log_target else (v.Rule("y_true", y_true, "≥ 0 (class probabilities; pass log_target=True "
                                                              "for log-probabilities)", lower=0.0),)
    return (*targets, *_probabilities(y_pred, from_logits or log_input))


def _kl_divergence_reference(y_true, y_pred, *, from_logits, log_input, log_target, epsilon, class_mean, axis, m):
    nlp = [(-x,) for x in y_pred] if log_input else _exact_neg_log_probs(y_pred, from_logits, m)
    if log_target:  # y_true holds log p
        y_true = [m.exp(t) for t in y_true]
    if epsilon is not None:  # both distributions clipped to [ε, 1]
        y_true = [min(max(t, epsilon), 1) for t in y_true]
        high = -m.log(epsilon)
        nlp = [terms if 0 <= sum(terms) <= high else (min(max(sum(terms), 0), high),) for terms in nlp]
    k = len(y_pred) if class_mean else 1
    return tuple(x / k for t, terms in zip(y_true, nlp)
                 for x in (t * m.log(t) if t else 0, *(t * term for term in terms)))


@loss(
    family="classification",
    domain=domains.distributions(),
    reference=_kl_divergence_reference,
    kind="row",
    shapes=_class_shapes,
    conditions={"epsilon": _SAFEGUARDS["epsilon"], "axis": "int"},
    checks=_check_kl,
    variants=({"from_logits": True}, {"log_input": True}, {"log_input": True, "log_target": True},
              {"log_input": True, "class_mean": True, "log_target": True}, {"log_target": True, "epsilon": 1e-3}),
    conventions=(
        Convention("keras.losses.KLDivergence", {"epsilon": _KERAS_EPSILON},
                   when={"from_logits": False, "log_input": False, "class_mean": False, "log_target": False}),
        Convention("torch.nn.functional.kl_div", {"log_input": True, "class_mean": True},
                   when={"from_logits": False, "log_input": True, "class_mean": True, "epsilon": None}),
        Convention("optax.losses.kl_divergence", {"log_input": True},
                   when={"from_logits": False, "log_input": True, "class_mean": False, "log_target": False,
                         "epsilon": None}),
        Convention("optax.losses.kl_divergence_with_log_targets", {"log_input": True},
                   when={"from_logits": False, "log_input": True, "class_mean": False, "log_target": True,
                         "epsilon": None}),
    ),
)
def kl_divergence(y_true, y_pred, *, from_logits=False, log_input=False, log_target=False, epsilon=None,
                  class_mean=False, axis=-1, xp):
    """Kullback–Leibler divergence KL(y_true ‖ y_pred) = Σ_c y log(y / q) over ``axis``, per sample.

    ``y_pred`` is a distribution q, logits with ``from_logits`` (log_softmax leaves normalized
    log-probabilities unchanged), or log q itself with ``log_input``, used as given (PyTorch's
    ``kl_div`` input, optax's log_predictions). 0·log 0 = 0. ``log_target``: y_true is log p
    (PyTorch's ``kl_div(log_target=True)``, optax's ``kl_divergence_with_log_targets``), each
    term p·(log p − log q) with p = exp(log p), and 0 for log p = −inf (both frameworks give
    NaN there). ``epsilon`` clips y_true and q to [ε, 1] first (Keras). ``"mean"`` averages the
    per-sample KL: PyTorch's ``"batchmean"``, not its element-wise ``"mean"``, which
    ``class_mean`` (divide by the number of classes) gives.
    """
    log_q = xp.maximum(y_pred, xp.finfo(y_pred.dtype).min) if log_input else _log_probs(xp, y_pred, from_logits, axis)
    y = y_true
    log_eps = None if epsilon is None else math.log(_rounded(xp, y_pred, epsilon)[0])
    if epsilon is not None:  # q in log space: log(clip(q, ε, 1)) = clip(log q, log ε, 0)
        log_q = xp.clip(log_q, log_eps, 0.0)
        if not log_target:
            y = xp.clip(y_true, epsilon, 1.0)
    if log_target:
        log_p = y_true if epsilon is None else xp.clip(y_true, log_eps, 0.0)
        zero = log_p == -math.inf  # p = 0: the term is 0; the guarded log p keeps its gradient finite
        log_p = xp.where(zero, 0.0, log_p)
        terms = xp.where(zero, 0.0, xp.exp(log_p) * (log_p - log_q))
    else:
        terms = xp.xlogy(y, y) - y * log_q
    return xp.mean(terms, axis=axis) if class_mean else xp.sum(terms, axis=axis)
