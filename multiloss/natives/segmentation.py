"""The frameworks' Dice and Tversky losses (:mod:`multiloss.losses.segmentation`)."""

from __future__ import annotations

from multiloss.losses import segmentation as losses
from multiloss.natives import Native, keras_class, register

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
           {"smooth": lambda p, dtype: p["smooth"] / 2, "apply_softmax": "from_logits", "axis": _optax_axis},
           notes=(("optax's dice_loss is Tversky's form, (I + s)/(I + ½(Σŷ − I) + ½(Σy − I) + s) = "
                   "(2I + 2s)/(Σy + Σŷ + 2s): its smooth s is our 2s. optax defaults to s = 1."), _OPTAX_LAYOUT),
           **_OPTAX),
    absent=dict.fromkeys(("torch", "sklearn"), _NONE),
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
