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
"""

from __future__ import annotations

import math

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


def _tiny(xp, x):
    return xp.finfo(x.dtype).smallest_normal


def _binary_logs(xp, y_pred, from_logits):
    """(log p, log(1 − p)) of binary predictions, each finite."""
    if from_logits:
        return -xp.softplus(-y_pred), -xp.softplus(y_pred)
    tiny = _tiny(xp, y_pred)
    # log(1 − p): log1p(−p) below ½ (accurate for small p), log(1 − p) above (1 − p is exact
    # there), each fed only its own inputs so that p = 1 puts no inf into the other's gradient.
    small = y_pred < 0.5
    log_q = xp.where(small, xp.log1p(-xp.where(small, y_pred, 0.0)), xp.log(xp.maximum(1.0 - y_pred, tiny)))
    return xp.log(xp.maximum(y_pred, tiny)), log_q


def _log_probs(xp, y_pred, from_logits, axis):
    """Log-probabilities over the class ``axis``, always finite: a −inf logit's log-probability
    is read as the dtype's lowest value, so a class with y = 0 contributes 0, not 0·(−inf)."""
    if from_logits:
        return xp.maximum(xp.log_softmax(y_pred, axis=axis), xp.finfo(y_pred.dtype).min)
    return xp.log(xp.maximum(y_pred, _tiny(xp, y_pred)))


def _modulating(xp, one_minus_pt, gamma, tiny):
    """(1 − p_t)^γ, or None for γ = 0 (no factor: focal is then exactly cross-entropy); below
    γ = 1 through exp(γ·log(max(·, tiny))) so the gradient stays finite where 1 − p_t = 0."""
    if gamma == 0:
        return None
    if gamma >= 1:
        return one_minus_pt**gamma
    return xp.exp(gamma * xp.log(xp.maximum(one_minus_pt, tiny)))


def _check_probabilities(xp, y_pred, from_logits):
    if not from_logits:
        condition = "a probability in [0, 1] (pass from_logits=True for logits)"
        v.check_bound(xp, y_pred, "y_pred", condition, lower=0.0, upper=1.0)


def _check_binary(xp, y_true, y_pred, *, from_logits, **_):
    v.check_bound(xp, y_true, "y_true", "in [0, 1]", lower=0.0, upper=1.0)
    _check_probabilities(xp, y_pred, from_logits)


_SMOOTHING = {"label_smoothing": "[0, 1]"}
_KERAS_CLIP = "Keras clips probabilities to [1e-7, 1 − 1e-7] (y=1, p=0 gives 16.12); we clamp at the dtype's tiny."


# --- binary ---------------------------------------------------------------------------------
def _bce(xp, y, log_p, log_q, pos_weight):
    positive = y * log_p if pos_weight is None else pos_weight * y * log_p
    return -(positive + (1.0 - y) * log_q)


@loss(
    family="classification",
    domain=domains.binary(),
    conditions=_SMOOTHING,
    checks=_check_binary,
    variants=({"from_logits": True}, {"from_logits": True, "pos_weight": 3.0}, {"label_smoothing": 0.2}),
    natives=(
        Native("torch", "torch.nn.functional.binary_cross_entropy", kwargs={"reduction": Fixed("none")},
               when={"from_logits": False, "label_smoothing": 0.0, "pos_weight": None},
               notes=("PyTorch clamps each log at −100 (y=1, p=0 gives 100), has no label smoothing, "
                      "and raises for probabilities outside [0, 1].",)),
        Native("torch", "torch.nn.functional.binary_cross_entropy_with_logits",
               kwargs={"reduction": Fixed("none"), "pos_weight": AsArray("pos_weight")},
               when={"from_logits": True, "label_smoothing": 0.0},
               notes=("PyTorch's pos_weight multiplies the positive term: (1−y)x + (1 + (pw−1)y)·softplus(−x).",)),
        Native("keras", "keras.losses.BinaryCrossentropy", order=("y_true", "y_pred"), per="last_axis", construct=True,
               kwargs={"from_logits": "from_logits", "label_smoothing": "label_smoothing",
                       "reduction": Fixed(None), "dtype": DTYPE},
               when={"pos_weight": None},
               notes=(_KERAS_CLIP, "Keras smooths binary labels toward ½: y(1 − ls) + ls/2, as we do.",
                      "On its TensorFlow backend Keras silently switches to the logit path when y_pred "
                      "comes from a sigmoid layer.")),
        Native("optax", "optax.losses.sigmoid_binary_cross_entropy", order=("y_pred", "y_true"),
               when={"from_logits": True, "label_smoothing": 0.0, "pos_weight": None},
               notes=("optax takes logits only.",)),
    ),
)
def binary_cross_entropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, pos_weight=None, xp):
    """Binary cross-entropy: −[w·y·log p + (1 − y)·log(1 − p)], w = ``pos_weight`` (default 1).

    ``y_pred`` is a probability, or a logit with ``from_logits`` (then log p = −softplus(−x),
    exact for any x). Labels may be soft; ``label_smoothing`` maps y to y(1 − ls) + ls/2
    (Keras). ``pos_weight`` (a number or an array over the last axes) weights positives as
    PyTorch's BCEWithLogitsLoss does. The seed example y=[1,0,1,1], p=[.9,.1,.8,.4] gives 0.33754.
    """
    y = y_true if label_smoothing == 0 else y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    log_p, log_q = _binary_logs(xp, y_pred, from_logits)
    return _bce(xp, y, log_p, log_q, pos_weight)


@loss(
    family="classification",
    domain=domains.binary(),
    conditions={"gamma": ">= 0"},
    checks=_check_binary,
    variants=({"from_logits": True}, {"alpha": None, "gamma": 0.0}, {"from_logits": True, "gamma": 0.5}),
    natives=(
        Native("keras", "keras.losses.BinaryFocalCrossentropy", order=("y_true", "y_pred"), per="last_axis",
               construct=True,
               kwargs={"apply_class_balancing": lambda p, dtype: p["alpha"] is not None,
                       "alpha": lambda p, dtype: 0.25 if p["alpha"] is None else p["alpha"], "gamma": "gamma",
                       "from_logits": "from_logits", "reduction": Fixed(None), "dtype": DTYPE},
               notes=("Keras applies α only with apply_class_balancing=True (default off); we apply α=0.25 "
                      "by default, as the paper and torchvision do.", _KERAS_CLIP)),
        Native("optax", "optax.losses.sigmoid_focal_loss", order=("y_pred", "y_true"),
               kwargs={"alpha": "alpha", "gamma": "gamma"}, when={"from_logits": True},
               notes=("optax defaults to alpha=None (no balancing) and takes logits only.",)),
    ),
)
def binary_focal(y_true, y_pred, *, alpha=0.25, gamma=2.0, from_logits=False, xp):
    """Binary focal loss (Lin et al. 2017): α_t·(1 − p_t)^γ·BCE, p_t = p for y = 1, 1 − p for y = 0.

    α_t = α·y + (1 − α)(1 − y); ``alpha=None`` turns balancing off, and then γ = 0 is BCE
    exactly. 1 − p_t = y(1 − p) + (1 − y)p is formed directly (from sigmoid(∓x) for logits),
    never as 1 − p_t, so it keeps its precision when p_t → 1.
    """
    log_p, log_q = _binary_logs(xp, y_pred, from_logits)
    out = _bce(xp, y_true, log_p, log_q, None)
    p, q = (xp.exp(log_p), xp.exp(log_q)) if from_logits else (y_pred, 1.0 - y_pred)
    weight = _modulating(xp, y_true * q + (1.0 - y_true) * p, gamma, _tiny(xp, y_pred))
    if weight is not None:
        out = weight * out
    if alpha is not None:
        out = (alpha * y_true + (1.0 - alpha) * (1.0 - y_true)) * out
    return out


# --- categorical ----------------------------------------------------------------------------
def _check_categorical(xp, y_true, y_pred, *, from_logits, **_):
    v.check_bound(xp, y_true, "y_true", "≥ 0 (class probabilities)", lower=0.0)
    _check_probabilities(xp, y_pred, from_logits)


@loss(
    family="classification",
    domain=domains.categorical(),
    conditions=_SMOOTHING,
    checks=_check_categorical,
    variants=({"from_logits": True}, {"from_logits": True, "label_smoothing": 0.1}),
    natives=(
        Native("torch", "torch.nn.functional.cross_entropy",
               kwargs={"reduction": Fixed("none"), "label_smoothing": "label_smoothing"},
               when={"from_logits": True, "axis": -1},
               notes=("PyTorch's cross_entropy always takes logits, with the class axis at dim 1.",)),
        Native("keras", "keras.losses.CategoricalCrossentropy", order=("y_true", "y_pred"), construct=True,
               kwargs={"from_logits": "from_logits", "label_smoothing": "label_smoothing", "axis": "axis",
                       "reduction": Fixed(None), "dtype": DTYPE},
               notes=("Keras renormalizes probabilities to sum to 1 before clipping; we do not.", _KERAS_CLIP)),
        Native("optax", "optax.losses.softmax_cross_entropy", order=("y_pred", "y_true"),
               when={"from_logits": True, "label_smoothing": 0.0, "axis": -1},
               notes=("A −inf logit with label 0 gives NaN in optax's plain version; 0 here.",)),
    ),
)
def categorical_cross_entropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, axis=-1, xp):
    """Categorical cross-entropy: −Σ_c y_c·log p_c over the class ``axis``, per sample.

    ``y_true`` is one-hot or soft; ``label_smoothing`` maps y to y(1 − ls) + ls/C (Keras,
    PyTorch, optax). From logits, log p = log_softmax(x); a class with y = 0 contributes 0
    even for a −inf logit.
    """
    n = y_pred.shape[axis]
    y = y_true if label_smoothing == 0 else y_true * (1.0 - label_smoothing) + label_smoothing / n
    return -xp.sum(y * _log_probs(xp, y_pred, from_logits, axis), axis=axis)


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


def _check_sparse(xp, y_true, y_pred, *, from_logits, ignore_index, axis, **_):
    n = y_pred.shape[axis]
    labels = y_true if ignore_index is None else xp.where(y_true == ignore_index, 0, y_true)
    ignored = "" if ignore_index is None else f" or equal to ignore_index={ignore_index}"
    v.check_bound(xp, labels, "y_true", f"class labels in [0, {n}){ignored}", lower=0, upper=n - 1)
    _check_probabilities(xp, y_pred, from_logits)


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
               when={"from_logits": True, "axis": -1},
               notes=("PyTorch's 'mean' with weight or ignore_index divides by Σ w_{y_i} over kept items, as ours; "
                      "all labels ignored gives NaN there, 0 here.",
                      "PyTorch's default ignore_index is −100; ours is None (no label ignored).")),
        Native("keras", "keras.losses.SparseCategoricalCrossentropy", order=("y_true", "y_pred"), construct=True,
               kwargs={"from_logits": "from_logits", "ignore_class": "ignore_index", "axis": "axis",
                       "reduction": Fixed(None), "dtype": DTYPE},
               when={"label_smoothing": 0.0, "class_weight": None},
               notes=("Keras's SparseCategoricalCrossentropy has no label smoothing; its JAX backend silently "
                      "gives 0 for out-of-range labels.", _KERAS_CLIP)),
        Native("optax", "optax.losses.softmax_cross_entropy_with_integer_labels", order=("y_pred", "y_true"),
               when={"from_logits": True, "label_smoothing": 0.0, "class_weight": None, "ignore_index": None,
                     "axis": -1},
               notes=("optax gives NaN for a label ≥ C and wraps −1 to the last class, silently.",)),
    ),
)
def sparse_categorical_cross_entropy(
    y_true, y_pred, *, from_logits=False, label_smoothing=0.0, class_weight=None, ignore_index=None, axis=-1, xp
):
    """Cross-entropy with integer labels: −log p_y, gathering the label's column (no one-hot).

    ``y_true`` has ``y_pred``'s shape without the class ``axis``. With ``label_smoothing``:
    (1 − ls)(−log p_y) + (ls/C)Σ_c(−log p_c). PyTorch's rules for ``class_weight`` (w, one per
    class) and ``ignore_index``: item i's loss is (1 − ls)·w_y·(−log p_y) + (ls/C)Σ_c w_c(−log p_c),
    0 if ignored, and ``"mean"`` divides by Σ_i w_{y_i} over the kept items; a batch whose
    labels are all ignored gives 0. Labels outside [0, C) raise ``ValueError`` in eager mode;
    under jit they cannot be checked and give NaN (never a clamped, wrapped or zero column,
    which is what JAX, NumPy-style −1 indexing and TensorFlow on GPU would read).
    """
    n = y_pred.shape[axis]
    keep = None if ignore_index is None else y_true != ignore_index
    in_range = (y_true >= 0) & (y_true < n)
    # Gather a valid column for every item; out-of-range labels (seen only under jit, where they
    # cannot raise) get NaN below rather than a clamped, wrapped or zero column.
    labels = xp.where(in_range if keep is None else in_range & keep, y_true, 0)
    index = xp.expand_dims(labels, axis=axis)
    # One fused N×C pass (log_softmax: torch's is 1.4× faster than its logsumexp), then a gather.
    log_p = xp.log_softmax(y_pred, axis=axis) if from_logits else _log_probs(xp, y_pred, False, axis)
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


@loss(
    family="classification",
    domain=domains.categorical(),
    conditions={"gamma": ">= 0"},
    checks=_check_categorical,
    variants=({"from_logits": True}, {"from_logits": True, "gamma": 0.0}, {"alpha": 0.25}),
    natives=(
        Native("keras", "keras.losses.CategoricalFocalCrossentropy", order=("y_true", "y_pred"), construct=True,
               kwargs={"alpha": lambda p, dtype: 1.0 if p["alpha"] is None else p["alpha"], "gamma": "gamma",
                       "from_logits": "from_logits", "axis": "axis", "reduction": Fixed(None), "dtype": DTYPE},
               when={"from_logits": False},
               notes=("Keras's default alpha=0.25 scales every class, so its γ=0 is 0.25 × CCE; ours defaults to "
                      "no α.", "Keras renormalizes probabilities; we do not.", _KERAS_CLIP,
                      "From logits Keras takes the softmax and then clips, so a very wrong logit (e.g. −1e4) costs "
                      "at most −log(1e-7) = 16.1 there; ours stays exact.")),
    ),
)
def categorical_focal(y_true, y_pred, *, alpha=None, gamma=2.0, from_logits=False, axis=-1, xp):
    """Categorical focal loss: −Σ_c α_c (1 − p_c)^γ y_c log p_c over the class ``axis``.

    ``alpha`` is None (off), a number applied to every class (Keras), or one weight per class.
    γ = 0 with ``alpha=None`` is categorical cross-entropy.
    """
    log_p = _log_probs(xp, y_pred, from_logits, axis)
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
def _check_signs(xp, y_true, y_pred, **_):
    ok = (y_true == -1) | (y_true == 0) | (y_true == 1)
    v.check_all(xp, ok, "y_true", "a label in {-1, 1} (0 means -1)")


_HINGE_LABELS = ("Keras converts {0, 1} labels to ±1 only when the whole batch is in {0, 1}; "
                 "we always read 0 as −1.")


@loss(
    family="margin",
    domain=domains.signs(),
    checks=_check_signs,
    natives=(
        Native("keras", "keras.losses.hinge", order=("y_true", "y_pred"), per="last_axis", notes=(_HINGE_LABELS,)),
        Native("optax", "optax.losses.hinge_loss", order=("y_pred", "y_true"),
               notes=("optax takes ±1 labels with no conversion.",)),
    ),
)
def hinge(y_true, y_pred, *, xp):
    """Hinge loss: max(0, 1 − y·ŷ) with y ∈ {−1, 1}; a label 0 is the negative class."""
    y = xp.where(y_true == 0, -1.0, y_true)
    return xp.maximum(1.0 - y * y_pred, 0.0)


@loss(
    family="margin",
    domain=domains.signs(),
    checks=_check_signs,
    natives=(
        Native("keras", "keras.losses.squared_hinge", order=("y_true", "y_pred"), per="last_axis",
               notes=(_HINGE_LABELS,)),
    ),
)
def squared_hinge(y_true, y_pred, *, xp):
    """Squared hinge loss: max(0, 1 − y·ŷ)² with y ∈ {−1, 1}; a label 0 is the negative class."""
    y = xp.where(y_true == 0, -1.0, y_true)
    h = xp.maximum(1.0 - y * y_pred, 0.0)
    return h * h


@loss(
    family="margin",
    domain=domains.categorical(scores=True),
    checks=lambda xp, y_true, y_pred: v.check_bound(xp, y_true, "y_true", "≥ 0 (one-hot)", lower=0.0),
    natives=(
        Native("keras", "keras.losses.CategoricalHinge", order=("y_true", "y_pred"), construct=True, exact=False,
               kwargs={"reduction": Fixed(None), "dtype": DTYPE},
               notes=("Keras takes max((1 − y)·ŷ), letting the zeroed true-class score into the max: when every "
                      "wrong-class score is negative its loss is larger (keras#8083).",)),
    ),
)
def categorical_hinge(y_true, y_pred, *, xp):
    """Multi-class hinge (Crammer & Singer 2001): max(0, 1 + max_{c wrong} ŷ_c − ŷ_true).

    ``y_true`` is one-hot over the last axis; the max runs over the wrong classes only (y = 0),
    as optax and scikit-learn do.
    """
    positive = xp.sum(y_true * y_pred, axis=-1)
    wrong = xp.max(xp.where(y_true > 0, xp.finfo(y_pred.dtype).min, y_pred), axis=-1)
    return xp.maximum(1.0 + wrong - positive, 0.0)


# --- divergence -----------------------------------------------------------------------------
@loss(
    family="classification",
    domain=domains.distributions(),
    checks=_check_categorical,
    variants=({"from_logits": True},),
    natives=(
        Native("keras", "keras.losses.KLDivergence", order=("y_true", "y_pred"), construct=True, exact=False,
               kwargs={"reduction": Fixed(None), "dtype": DTYPE},
               notes=("Keras clips both distributions to [1e-7, 1], so y_true = 0 entries add 1e-7·log(1e-7/q).",)),
    ),
)
def kl_divergence(y_true, y_pred, *, from_logits=False, axis=-1, xp):
    """Kullback–Leibler divergence KL(y_true ‖ y_pred) = Σ_c y log(y / q) over ``axis``, per sample.

    ``y_pred`` is a distribution q, or logits with ``from_logits``; PyTorch's ``kl_div`` input,
    log-probabilities, is accepted as logits (log_softmax leaves normalized log-probabilities
    unchanged). 0·log 0 = 0. ``"mean"`` averages the per-sample KL: PyTorch's ``"batchmean"``,
    not its element-wise ``"mean"``.
    """
    log_q = _log_probs(xp, y_pred, from_logits, axis)
    return xp.sum(xp.xlogy(y_true, y_true) - y_true * log_q, axis=axis)
