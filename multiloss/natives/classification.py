"""The frameworks' classification and margin losses (:mod:`multiloss.losses.classification`)."""

from __future__ import annotations

from multiloss.losses import classification as losses
from multiloss.natives import AsArray, Native, keras_class, register, unreduced

_KERAS_CLIP = ("Keras clips probabilities to [1e-7, 1 − 1e-7] (y=1, p=0 gives 16.12; 1 − 1e-7 rounds to "
               "1 − 1.19e-7 in float32); ours clamp p at the dtype's tiny (87.34 in float32).")
_KERAS_LOGITS = ("On its TensorFlow backend Keras silently takes the logit path when y_pred carries a "
                 "sigmoid's or softmax's _keras_logits (a Dense layer's activation); convention='keras' "
                 "cannot see that and follows from_logits.")
_KERAS_BINARY = "0/1 or soft labels, same shape as y_pred"
_ONE_HOT = "one-hot or soft labels over the last axis, same shape as y_pred"
_PER_SAMPLE = "sum over the class axis per sample, then sum_over_batch_size"
_TORCH_BINARY = "0/1 or soft labels in [0, 1], same shape as input"
_TORCH_BINARY_MEAN = "'mean' over all elements; weight= rescales each element and still divides by their number"

# --- binary ---------------------------------------------------------------------------------
_BCE_KERAS = {
    "kwargs": {"from_logits": "from_logits", "label_smoothing": "label_smoothing"},
    "signature": "keras.losses.BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1, "
                 "reduction='sum_over_batch_size', name='binary_crossentropy', dtype=None)",
    "label_format": _KERAS_BINARY,
}

register(
    losses.binary_cross_entropy,
    unreduced("torch.nn.functional.binary_cross_entropy",
              signature="torch.nn.functional.binary_cross_entropy(input, target, weight=None, size_average=None, "
                        "reduce=None, reduction='mean')",
              reduction=_TORCH_BINARY_MEAN,
              safeguards="clamps each log at −100 (y=1, p=0 gives 100); raises for p outside [0, 1]",
              label_format=_TORCH_BINARY,
              notes=(("PyTorch clamps each log at −100 (y=1, p=0 gives 100), has no label smoothing, "
                      "and raises for probabilities outside [0, 1]."),
                     ("PyTorch's gradient at a clamped log is ∓1/max(p(1 − p), 1e-12) (−1e12 at p=0); "
                      "convention='torch' gives that clamp's own gradient, 0."),
                     ("In float32 PyTorch takes the log of a subnormal p (1e-40 gives 92.1); "
                      "convention='torch' counts p below 1.2e-38 as 0 (100)."))),
    unreduced("torch.nn.functional.binary_cross_entropy_with_logits", {"pos_weight": AsArray("pos_weight")},
              signature="torch.nn.functional.binary_cross_entropy_with_logits(input, target, weight=None, "
                        "size_average=None, reduce=None, reduction='mean', pos_weight=None)",
              reduction=_TORCH_BINARY_MEAN, safeguards="none needed: (1 − y)x + softplus(−x)",
              label_format=_TORCH_BINARY,
              notes=("PyTorch's pos_weight multiplies the positive term: (1−y)x + (1 + (pw−1)y)·softplus(−x).",)),
    keras_class("keras.losses.BinaryCrossentropy", when={"pos_weight": None, "from_logits": False},
                safeguards="clips p to [1e-7, 1 − 1e-7] (y=1, p=0 gives 16.12)",
                notes=(_KERAS_CLIP,), **{**_BCE_KERAS, "label_format": _KERAS_BINARY + (
                    "; label_smoothing=ls smooths them toward ½, y(1 − ls) + ls/2, as ours does")}),
    keras_class("keras.losses.BinaryCrossentropy", when={"pos_weight": None, "from_logits": True},
                safeguards="none from logits (log-sigmoid form), except on its NumPy backend",
                notes=(_KERAS_LOGITS,
                       ("From logits Keras's NumPy backend takes the sigmoid and clips it (y=1, x=−1e4 gives 16.12): "
                        "epsilon=1e-7 gives that clip.")), **_BCE_KERAS),
    Native("optax.losses.sigmoid_binary_cross_entropy",
           signature="optax.losses.sigmoid_binary_cross_entropy(logits, labels)",
           safeguards="none needed: log-sigmoid form", label_format="0/1 or soft labels, broadcastable to logits",
           notes=("optax takes logits only.",)),
)

_FOCAL_KERAS = {
    "kwargs": {"apply_class_balancing": lambda p, dtype: p["alpha"] is not None,
               "alpha": lambda p, dtype: 0.25 if p["alpha"] is None else p["alpha"], "gamma": "gamma",
               "from_logits": "from_logits", "label_smoothing": "label_smoothing"},
    "signature": "keras.losses.BinaryFocalCrossentropy(apply_class_balancing=False, alpha=0.25, gamma=2.0, "
                 "from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', "
                 "name='binary_focal_crossentropy', dtype=None)",
    "label_format": _KERAS_BINARY,
}
_FOCAL_ALPHA = ("Keras applies α only with apply_class_balancing=True (default off): its apply_class_balancing=False "
                "is our alpha=None, and its True with alpha=a our alpha=a; we apply α=0.25 by default, as the paper "
                "and torchvision do.")
_FOCAL_SMOOTHING = ("Keras's label_smoothing smooths y toward ½ before everything, the focal factor and α_t "
                    "included, as ours does.")

register(
    losses.binary_focal,
    keras_class("keras.losses.BinaryFocalCrossentropy", when={"from_logits": False},
                safeguards="clips p to [1e-7, 1 − 1e-7] inside the logs; the focal factor uses p unclipped",
                notes=(_FOCAL_ALPHA, _FOCAL_SMOOTHING, _KERAS_CLIP), **_FOCAL_KERAS),
    keras_class("keras.losses.BinaryFocalCrossentropy", when={"from_logits": True},
                safeguards="from logits: the sigmoid, whose logits its TensorFlow backend recovers for the logs",
                notes=(_FOCAL_ALPHA,
                       ("From logits Keras takes the sigmoid; its TensorFlow backend recovers the logits for the "
                        "cross-entropy (exact, as convention='keras'), its JAX, torch and NumPy backends clip the "
                        "sigmoid (y=1, x=−1e4 gives 16.12: epsilon=1e-7 gives that clip).")), **_FOCAL_KERAS),
    Native("optax.losses.sigmoid_focal_loss", {"alpha": "alpha", "gamma": "gamma"},
           signature="optax.losses.sigmoid_focal_loss(logits, labels, *, alpha=None, gamma=2.0)",
           safeguards="none needed: log-sigmoid cross-entropy, focal factor in log space",
           label_format="0/1 or soft labels, broadcastable to logits",
           notes=("optax defaults to alpha=None (no balancing), takes logits only and has no label smoothing.",)),
    unreduced("torchvision.ops.sigmoid_focal_loss",
              {"alpha": lambda p, dtype: -1 if p["alpha"] is None else p["alpha"], "gamma": "gamma"},
              signature="torchvision.ops.sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction='none')",
              reduction="'none' by default (one value per element); 'mean' over all elements, or 'sum'",
              safeguards="none needed: binary_cross_entropy_with_logits; the focal factor from sigmoid(x)",
              label_format="0/1 or soft labels, same shape as inputs",
              notes=("torchvision takes logits only, applies α=0.25 by default as ours (alpha=-1, not None, "
                     "turns it off) and has no label smoothing; its focal factor 1 − p_t is formed as "
                     "1 − (p·y + (1 − p)(1 − y)), which rounds to 0 as p_t → 1 where ours keeps its digits.",),
              unchecked=("torchvision cannot be imported beside the CPU torch wheel (its only working build is a "
                         "5.5 GB CUDA one): recorded, not called")),
)

# --- categorical ----------------------------------------------------------------------------
_TORCH_CE = ("torch.nn.functional.cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, "
             "reduce=None, reduction='mean', label_smoothing=0.0)")
_CCE_KERAS = {
    "kwargs": {"from_logits": "from_logits", "label_smoothing": "label_smoothing", "axis": "axis"},
    "signature": "keras.losses.CategoricalCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1, "
                 "reduction='sum_over_batch_size', name='categorical_crossentropy', dtype=None)",
    "reduction": _PER_SAMPLE, "label_format": _ONE_HOT,
}
_TORCH_AXIS_NOTE = ("PyTorch's cross_entropy always takes logits, with the class axis at dim 1 of (N, C) or "
                    "(N, C, d1, …, dK) (dim 0 of an unbatched (C,)); convention='torch' sets axis=1.")
_KERAS_RENORMALIZES = "Keras renormalizes probabilities to sum to 1 and then clips them; we do neither."

register(
    losses.categorical_cross_entropy,
    unreduced("torch.nn.functional.cross_entropy", {"label_smoothing": "label_smoothing"}, signature=_TORCH_CE,
              reduction="'mean' over samples; with weight= and probability targets still Σ/N",
              safeguards="none needed: log-softmax",
              label_format="class probabilities, same shape as input (class axis dim 1)",
              notes=(_TORCH_AXIS_NOTE,)),
    keras_class("keras.losses.CategoricalCrossentropy", when={"from_logits": False},
                safeguards="renormalizes p to sum to 1, then clips it to [1e-7, 1 − 1e-7]",
                notes=(_KERAS_RENORMALIZES, _KERAS_CLIP), **_CCE_KERAS),
    keras_class("keras.losses.CategoricalCrossentropy", when={"from_logits": True},
                safeguards="none from logits (log-softmax form)", notes=(_KERAS_LOGITS,), **_CCE_KERAS),
    Native("optax.losses.softmax_cross_entropy",
           signature="optax.losses.softmax_cross_entropy(logits, labels, axis=-1, where=None)",
           safeguards="none (safe_softmax_cross_entropy handles −inf logits)",
           label_format="class probabilities over the last axis, broadcastable to logits",
           notes=(("A −inf logit with label 0 gives NaN in optax's plain version; 0 here, "
                   "also under convention='optax'."),)),
    Native("optax.losses.safe_softmax_cross_entropy", when={"from_logits": True, "label_smoothing": 0.0, "axis": -1},
           signature="optax.losses.safe_softmax_cross_entropy(logits, labels)",
           safeguards="'safe': a −inf logit with label 0 contributes 0 (0·log 0 = 0), not NaN",
           label_format="class probabilities over the last axis, broadcastable to logits",
           notes=(("optax's safe version reads 0·(−inf) as 0 where a logit is −inf and its label 0, as ours "
                   "always does; it has no axis (the last) and no where."),)),
)

register(
    losses.poly_cross_entropy,
    Native("optax.losses.poly_loss_cross_entropy", {"epsilon": "epsilon"},
           signature="optax.losses.poly_loss_cross_entropy(logits, labels, *, epsilon=2.0, axis=-1, where=None)",
           safeguards="none: softmax cross-entropy + ε·Σ y(1 − softmax)",
           label_format="class probabilities over the last axis, broadcastable to logits",
           notes=("optax takes logits only; its 1 − p_t is Σ_c y_c(1 − p_c), as ours, also for soft labels.",
                  "A −inf logit with label 0 gives NaN in optax (its plain softmax_cross_entropy); 0 here.")),
    absent={"torch": "PyTorch has no PolyLoss.", "keras": "Keras has no PolyLoss."},
)

_TORCH_WEIGHTED_MEAN = ("PyTorch's 'mean' with weight or ignore_index divides by Σ w_{y_i} over kept items, as ours; "
                        "all labels ignored gives NaN there, 0 here, also under convention='torch'.")
_TORCH_IGNORED = "PyTorch's default ignore_index is −100; ours is None (no label ignored)."
_TORCH_LABELS = {"weight": AsArray("class_weight"),
                 "ignore_index": lambda p, dtype: -100 if p["ignore_index"] is None else p["ignore_index"]}
_SPARSE_KERAS = {
    "kwargs": {"from_logits": "from_logits", "ignore_class": "ignore_index", "axis": "axis"},
    "signature": "keras.losses.SparseCategoricalCrossentropy(from_logits=False, ignore_class=None, "
                 "reduction='sum_over_batch_size', axis=-1, name='sparse_categorical_crossentropy', dtype=None)",
    "reduction": "one value per sample; sum_over_batch_size over the items not ignored (ignore_class)",
    "label_format": "integer class indices, y_pred's shape without the last axis (or with it as 1)",
}
_KERAS_SPARSE_NOTES = (
    ("Keras's SparseCategoricalCrossentropy has no label smoothing; its JAX backend silently gives 0 for "
     "out-of-range labels."),
    ("With ignore_class and a sample_weight Keras divides Σwℓ by the number of items kept, as convention='keras' "
     "does; our default divides by Σw over them (equal without weights)."),
)

register(
    losses.sparse_categorical_cross_entropy,
    unreduced("torch.nn.functional.cross_entropy", {"label_smoothing": "label_smoothing", **_TORCH_LABELS},
              signature=_TORCH_CE,
              reduction="'mean' = Σ w_y·ℓ / Σ w_y over the items not ignored (w: weight=, else 1)",
              safeguards="none needed: log-softmax; out-of-range labels raise",
              label_format="integer class indices (N, d…), class axis dim 1 of input; -100 ignored",
              notes=(_TORCH_WEIGHTED_MEAN, _TORCH_IGNORED, _TORCH_AXIS_NOTE)),
    keras_class("keras.losses.SparseCategoricalCrossentropy",
                when={"label_smoothing": 0.0, "class_weight": None, "from_logits": False},
                safeguards="clips p to [1e-7, 1 − 1e-7], then log-softmax of the logs (renormalizes after clipping)",
                notes=(*_KERAS_SPARSE_NOTES, _KERAS_CLIP,
                       ("Keras's sparse path takes log_softmax of the clipped log-probabilities, which renormalizes "
                        "them after clipping (its categorical path renormalizes before).")), **_SPARSE_KERAS),
    keras_class("keras.losses.SparseCategoricalCrossentropy",
                when={"label_smoothing": 0.0, "class_weight": None, "from_logits": True},
                safeguards="none from logits (sparse_softmax_cross_entropy_with_logits)",
                notes=(*_KERAS_SPARSE_NOTES, _KERAS_LOGITS), **_SPARSE_KERAS),
    Native("optax.losses.softmax_cross_entropy_with_integer_labels",
           signature="optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels, axis=-1, where=None)",
           safeguards="none: logsumexp − the label's logit; labels are not checked",
           label_format="integer class indices, logits' shape without the class axis",
           notes=("optax gives NaN for a label ≥ C and wraps −1 to the last class, silently.",)),
)

register(
    losses.negative_log_likelihood,
    unreduced("torch.nn.functional.nll_loss", _TORCH_LABELS,
              signature="torch.nn.functional.nll_loss(input, target, weight=None, size_average=None, "
                        "ignore_index=-100, reduce=None, reduction='mean')",
              reduction="'mean' = Σ w_y·ℓ / Σ w_y over the items not ignored (w: weight=, else 1)",
              safeguards="none: −input[target], used as given; out-of-range labels raise",
              label_format="integer class indices (N, d1, …, dK), class axis dim 1 of input; -100 ignored",
              notes=(_TORCH_WEIGHTED_MEAN, _TORCH_IGNORED,
                     ("PyTorch's class axis is dim 1 of (N, C, d1, …, dK) (dim 0 of an unbatched (C,)); ours "
                      "defaults to the last, and convention='torch' sets axis=1."),
                     ("PyTorch reads only the label's column, so a NaN elsewhere in the row gives a number there, "
                      "NaN here."))),
    absent={"keras": ("Keras has no NLL of log-probabilities: SparseCategoricalCrossentropy(from_logits=True) on "
                      "them is the same number (a log_softmax leaves log-probabilities unchanged)."),
            "optax": ("optax has no NLL of log-probabilities: softmax_cross_entropy_with_integer_labels on them is "
                      "the same number (a log_softmax leaves log-probabilities unchanged).")},
)

register(
    losses.generalized_cross_entropy,
    keras_class("keras.losses.CategoricalGeneralizedCrossEntropy", {"q": "q"},
                signature="keras.losses.CategoricalGeneralizedCrossEntropy(q=0.5, reduction='sum_over_batch_size', "
                          "name='categorical_generalized_cross_entropy', dtype=None)",
                reduction="one value per sample; sum_over_batch_size",
                safeguards="none: p_y^q with p_y read from a one-hot product (p_y = 0 gives 1/q)",
                label_format="integer class indices (batch,) despite the name (a one-hot of them is taken)",
                notes=("Keras takes probabilities only, and q in (0, 1) open; ours also takes logits and q = 1 "
                       "(1 − p_y, the one-hot target's MAE).",
                       ("Keras one-hot-encodes the labels, so a label outside [0, C) gives p_y = 0 and the loss "
                        "1/q silently; ours raises (eager) or gives NaN (compiled)."))),
    absent={"torch": "PyTorch has no generalized cross-entropy.",
            "optax": "optax has no generalized cross-entropy."},
)

_CFOCAL_KERAS = {
    "kwargs": {"alpha": lambda p, dtype: 1.0 if p["alpha"] is None else p["alpha"], "gamma": "gamma",
               "from_logits": "from_logits", "label_smoothing": "label_smoothing", "axis": "axis"},
    "signature": "keras.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=False, "
                 "label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', "
                 "name='categorical_focal_crossentropy', dtype=None)",
    "reduction": _PER_SAMPLE, "label_format": _ONE_HOT,
    "safeguards": "renormalizes p (from logits, the softmax) to sum to 1, then clips it to [1e-7, 1 − 1e-7]",
}
_CFOCAL_ALPHA = ("Keras's default alpha=0.25 scales every class, so its γ=0 is 0.25 × CCE; ours defaults to "
                 "no α.")

register(
    losses.categorical_focal,
    keras_class("keras.losses.CategoricalFocalCrossentropy", when={"from_logits": False},
                notes=(_CFOCAL_ALPHA, _KERAS_RENORMALIZES, _KERAS_CLIP), **_CFOCAL_KERAS),
    keras_class("keras.losses.CategoricalFocalCrossentropy", when={"from_logits": True}, exact=False,
                notes=(_CFOCAL_ALPHA,
                       ("From logits Keras takes the softmax and then clips, so a very wrong logit (e.g. −1e4) costs "
                        "at most −log(1e-7) = 16.1 there; ours stays exact, convention='keras' clips.")),
                **_CFOCAL_KERAS),
)

# --- margins --------------------------------------------------------------------------------
_HINGE_LABELS = ("Keras converts {0, 1} labels to ±1 only when the whole batch is in {0, 1} "
                 "(labels='binary_batch'); we always read 0 as −1.")
_HINGE_FORMAT = "±1; {0, 1} converted to ±1 only when every label in the batch is 0 or 1"

register(
    losses.hinge,
    keras_class("keras.losses.Hinge",
                signature="keras.losses.Hinge(reduction='sum_over_batch_size', name='hinge', dtype=None)",
                label_format=_HINGE_FORMAT, notes=(_HINGE_LABELS,)),
    Native("optax.losses.hinge_loss", signature="optax.losses.hinge_loss(predictor_outputs, targets)",
           label_format="±1, used as given (a 0 label gives loss 1)",
           notes=("optax takes ±1 labels with no conversion (labels='signs').",)),
)

register(
    losses.squared_hinge,
    keras_class("keras.losses.SquaredHinge",
                signature="keras.losses.SquaredHinge(reduction='sum_over_batch_size', name='squared_hinge', "
                          "dtype=None)",
                label_format=_HINGE_FORMAT, notes=(_HINGE_LABELS,)),
)


def _optax_integer_labels(xp, arrays):
    return [arrays["y_pred"], xp.argmax(arrays["y_true"], axis=-1)]


register(
    losses.categorical_hinge,
    keras_class("keras.losses.CategoricalHinge", exact=False,
                signature="keras.losses.CategoricalHinge(reduction='sum_over_batch_size', name='categorical_hinge', "
                          "dtype=None)",
                label_format="one-hot over the last axis (±1 also accepted)",
                notes=(("Keras takes max((1 − y)·ŷ), letting the zeroed true-class score into the max: when every "
                        "wrong-class score is negative its loss is larger (keras#8083); zero_true_class=True "
                        "does the same."),)),
    Native("optax.losses.multiclass_hinge_loss", args=_optax_integer_labels, exact=False,
           signature="optax.losses.multiclass_hinge_loss(scores, labels)",
           label_format="integer class indices, scores' shape without the last axis",
           notes=("optax takes integer labels, so no soft rows; on one-hot rows it is ours.",)),
)

# --- divergence -----------------------------------------------------------------------------
_KL_NEG_INF = "A −inf log q where the target is 0 gives NaN there (0·−inf), 0 here."

register(
    losses.kl_divergence,
    keras_class("keras.losses.KLDivergence", exact=False,
                signature="keras.losses.KLDivergence(reduction='sum_over_batch_size', name='kl_divergence', "
                          "dtype=None)",
                reduction=_PER_SAMPLE, safeguards="clips y_true and y_pred to [1e-7, 1]",
                label_format="probabilities, same shape as y_pred",
                notes=("Keras clips both distributions to [1e-7, 1], so y_true = 0 entries add 1e-7·log(1e-7/q).",)),
    Native("torch.nn.functional.kl_div", {"log_target": "log_target"}, per="mean",
           signature="torch.nn.functional.kl_div(input, target, size_average=None, reduce=None, "
                     "reduction='mean', log_target=False)",
           reduction="'mean' averages all N·C elements (and warns); 'batchmean' (Σ/N) is the KL, our 'mean'",
           safeguards="none: xlogy(t, t) − t·input",
           label_format="input: log-probabilities; target: probabilities (log-probabilities with log_target=True)",
           notes=(("PyTorch's kl_div takes log q (log_input=True), and its default 'mean' divides by every "
                   "element, N·C (class_mean=True); its 'batchmean' is our 'mean'."), _KL_NEG_INF,
                  ("log_target=True takes the target as log p (our log_target=True): exp(t)·(t − input), NaN for "
                   "t = −inf (p = 0) where ours is 0."))),
    Native("optax.losses.kl_divergence",
           signature="optax.losses.kl_divergence(log_predictions, targets, axis=-1, where=None)",
           safeguards="none: 0 where targets = 0",
           label_format="targets: probabilities; log_predictions: log-probabilities",
           notes=("optax takes log q as given (log_input=True).", _KL_NEG_INF)),
    Native("optax.losses.kl_divergence_with_log_targets",
           signature="optax.losses.kl_divergence_with_log_targets(log_predictions, log_targets, axis=-1, where=None)",
           safeguards="none: exp(log_targets)·(log_targets − log_predictions)",
           label_format="log_targets and log_predictions: log-probabilities",
           notes=(("optax takes both distributions in log space (our log_input=True, log_target=True); a −inf "
                   "log target (p = 0) gives NaN there, 0 here."),)),
)
