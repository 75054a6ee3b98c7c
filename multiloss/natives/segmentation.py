"""The frameworks' Dice and Tversky losses (:mod:`multiloss.losses.segmentation`)."""

from __future__ import annotations

from multiloss.losses import segmentation as losses
from multiloss.natives import AsArray, Native, keras_class, register

_KERAS_EPSILON = ("Keras has no smoothing: it adds ε = 1e-7 to the denominator only, and its default axis=None "
                  "reduces the whole batch to one value (keras#19637): our smooth=0, epsilon=1e-7, axis='all'.")
_OPTAX_LAYOUT = ("optax.losses.dice_loss applies softmax (sigmoid for one channel) unless apply_softmax=False "
                 "(our from_logits), which demands probabilities summing to 1 over the last (class) axis; it sums "
                 "axes 1 … n−2 (our axis='spatial') per sample and class, then averages the classes.")
_NONE = "PyTorch and scikit-learn have no Dice or Tversky loss (MONAI's are channels-first)."
_KERAS = {
    "exact": False, "reduction": "axis=None sums every axis, the batch's too: one value per batch",
    "safeguards": "ε = 1e-7 added to the denominator only",
    "label_format": "y_pred's shape; probabilities (no activation)",
}
_OPTAX = {
    "exact": False,
    "signature": "optax.losses.dice_loss(predictions, targets, *, class_weights=None, smooth=1.0, alpha=0.5, "
                 "beta=0.5, apply_softmax=True, reduction='mean', ignore_background=False, axis=None)",
    "reduction": "per sample and class over axes 1 … n−2, then the mean over classes",
    "safeguards": "smooth = 1 in numerator and denominator",
    "label_format": "one-hot or binary masks, class axis last (predictions: logits by default)",
}


def _keras_axis(params, dtype):
    """Keras's ``axis`` for ours: its None is our "all" (ours None and "spatial" depend on the rank)."""
    return None if params["axis"] == "all" else params["axis"]


def _optax_axis(params, dtype):
    """optax's ``axis`` for ours: its None is our "spatial"."""
    return None if params["axis"] == "spatial" else params["axis"]


def _keras_tversky(keras_name: str):
    """Our parameter for Keras's ``alpha`` / ``beta``: Keras ≤ 3.15.1 weights false negatives by
    alpha and false positives by beta (keras#23333 fixed it after 3.15.1)."""

    def value(params, dtype):
        import keras

        version = tuple(int(x) for x in keras.__version__.split(".")[:3] if x.isdigit())
        swapped = version <= (3, 15, 1)
        return params[{"alpha": "beta", "beta": "alpha"}[keras_name] if swapped else keras_name]

    return value


register(
    losses.dice,
    keras_class("keras.losses.Dice", {"axis": _keras_axis},
                signature="keras.losses.Dice(reduction='sum_over_batch_size', name='dice', axis=None, dtype=None)",
                notes=(_KERAS_EPSILON, _NONE), **_KERAS),
    Native("optax.losses.dice_loss",
           {"smooth": lambda p, dtype: p["smooth"] / 2, "apply_softmax": "from_logits", "axis": _optax_axis,
            "class_weights": AsArray("class_weights"), "ignore_background": "ignore_background"},
           notes=(("optax's dice_loss is Tversky's form, (I + s)/(I + ½(Σŷ − I) + ½(Σy − I) + s) = "
                   "(2I + 2s)/(Σy + Σŷ + 2s): its smooth s is our 2s. optax defaults to s = 1."), _OPTAX_LAYOUT,
                  ("Its class_weights multiply each class's loss before the mean over classes, which divides by "
                   "their number, not by Σw; ignore_background drops class 0 after the softmax (not with one "
                   "channel): ours alike.")),
           **_OPTAX),
    absent=dict.fromkeys(("torch", "sklearn"), _NONE),
)

_NO_BINARY = ("PyTorch, Keras and scikit-learn have no Dice loss of elementwise sigmoids (Keras's Dice takes "
              "probabilities).")
register(
    losses.binary_dice,
    Native("optax.losses.binary_dice_loss",
           {"smooth": lambda p, dtype: p["smooth"] / 2, "apply_sigmoid": "from_logits"},
           signature="optax.losses.binary_dice_loss(predictions, targets, *, smooth=1.0, apply_sigmoid=True)",
           reduction="one value per sample: sums over every axis but the first",
           safeguards="smooth = 1 in numerator and denominator (our 2)",
           label_format="binary masks of the predictions' shape (logits by default)",
           notes=("optax's smooth s is our 2s, as for dice_loss; it defaults to s = 1.",
                  ("With apply_sigmoid=False optax's dice_loss demands predictions summing to 1 over their (one) "
                   "channel, so it accepts only all-ones predictions: the mapping holds for logits only."),
                  "A 1-D input is one channel per sample there (each element its own mask); ours needs a batch "
                  "axis and one more.")),
    absent=dict.fromkeys(("torch", "keras", "sklearn"), _NO_BINARY),
)


def _optax_generalized(xp, arrays):
    return [arrays["y_pred"], arrays["y_true"]]


_NO_GENERALIZED = "PyTorch, Keras and scikit-learn have no generalized Dice loss (MONAI's is channels-first)."
register(
    losses.generalized_dice,
    Native("optax.losses.multiclass_generalized_dice_loss",
           {"smooth": lambda p, dtype: p["smooth"] / 2, "apply_softmax": "from_logits",
            "ignore_background": "ignore_background"}, args=_optax_generalized, per="mean",
           signature="optax.losses.multiclass_generalized_dice_loss(predictions, targets, *, smooth=1.0, "
                     "apply_softmax=True, ignore_background=False)",
           reduction="the mean over samples and classes (one value)",
           safeguards="ε = 1e-7 added to each (Σy)² in the class weights; smooth = 1 (our 2)",
           label_format="one-hot targets of the predictions' shape, class axis last (predictions: logits)",
           notes=(("optax weighs each class's Dice loss by 1/((Σy)² + 1e-7) over the whole batch, scaled to sum "
                   "to the number of classes, and averages: a weighted mean of per-class losses, not Sudre et "
                   "al.'s single ratio 1 − 2Σ w·I / Σ w·(T + P)."),
                  ("With apply_softmax=False it demands probabilities summing to 1 over the class axis: the "
                   "mapping is checked on logits."),
                  "optax's smooth s is our 2s, as for dice_loss.")),
    absent=dict.fromkeys(("torch", "keras", "sklearn"), _NO_GENERALIZED),
)

register(
    losses.tversky,
    keras_class("keras.losses.Tversky",
                {"alpha": _keras_tversky("alpha"), "beta": _keras_tversky("beta"), "axis": _keras_axis},
                signature="keras.losses.Tversky(alpha=0.5, beta=0.5, reduction='sum_over_batch_size', name='tversky', "
                          "axis=None, dtype=None)",
                notes=(("Keras 3.15.1 weights false negatives by alpha and false positives by beta, the reverse "
                        "of its docstring and the paper (fixed after 3.15.1 by keras#23333)."), _KERAS_EPSILON, _NONE),
                **_KERAS),
    Native("optax.losses.dice_loss",
           {"alpha": "alpha", "beta": "beta", "smooth": "smooth", "apply_softmax": "from_logits", "axis": _optax_axis},
           notes=(("optax's dice_loss with alpha (false positives) and beta (false negatives) is this Tversky "
                   "loss."), _OPTAX_LAYOUT), **_OPTAX),
    absent=dict.fromkeys(("torch", "sklearn"), _NONE),
)
