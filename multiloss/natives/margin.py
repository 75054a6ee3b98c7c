"""The frameworks' own margin losses (:mod:`multiloss.losses.margin`)."""

from __future__ import annotations

from multiloss.losses import margin as losses
from multiloss.natives import AsArray, Fixed, Native, keras_class, register, unreduced

_TORCH_MEAN = "'mean' over all elements"
_TORCH_ROWS = "one value per sample (the sum over classes / C); 'mean' over samples"
_TORCH_ANY_SIGN = ("PyTorch does not check the labels: it computes its formula with any value "
                   "(ours takes −1 and 1 only, and raises for others in eager mode).")
_TORCH_2D = "PyTorch takes input of shape (C,) or (N, C) only; ours any (..., C)."
_NO_KERAS = "Keras has no {what}."
_NO_OPTAX = "optax has no {what}."
_NO_TORCH = "PyTorch has no {what}."


def _sweep_bits(params, x_range):
    """The binary sparsemax over the score, for labels 1 and 0 (plot's margin sweep takes ±1)."""
    from multiloss.plot import Sweep, _labels, grid

    marks = (-1.0, 0.0, 1.0)
    return Sweep("score y_pred", "score", grid(*(x_range or (-3.0, 3.0)), marks), _labels(1.0, 0.0), marks=marks)


def _sweep_label_lists(params, x_range):
    """Two classes [x, 0], the target list [0] or [1] (ended by −1)."""
    from multiloss.plot import Sweep, grid

    def case(k):
        def build(xp, x):
            z = xp.zeros_like(x)
            y = xp.astype(xp.stack([z + k, z - 1.0], axis=-1), xp.int64)
            return {"y_true": y, "y_pred": xp.stack([x, z], axis=-1)}

        return build

    marks = (-1.0, 0.0, 1.0)
    return Sweep("score y_pred[..., 0] (y_pred = [x, 0])", "score", grid(*(x_range or (-3.0, 3.0)), marks),
                 {"y_true = [0, -1]": case(0), "y_true = [1, -1]": case(1)}, marks=marks)


register(
    losses.soft_margin,
    unreduced("torch.nn.functional.soft_margin_loss",
              signature="torch.nn.functional.soft_margin_loss(input, target, size_average=None, reduce=None, "
                        "reduction='mean')",
              reduction=_TORCH_MEAN,
              safeguards="none: log1p(exp(−y·x)), inf for y·x < −88.7 in float32",
              label_format="±1, same shape as input (not checked)",
              notes=(("PyTorch computes log1p(exp(−y·x)), which overflows to inf for y·x below −88.7 in float32 "
                      "(−709.8 in float64); ours is softplus(−y·x), finite."), _TORCH_ANY_SIGN)),
    absent={"keras": _NO_KERAS.format(what="soft-margin loss (BinaryCrossentropy(from_logits=True) with labels "
                                           "(y + 1)/2 is the same)"),
            "optax": _NO_OPTAX.format(what="soft-margin loss (sigmoid_binary_cross_entropy with labels (y + 1)/2 is "
                                           "the same)")},
)

register(
    losses.hinge_embedding,
    unreduced("torch.nn.functional.hinge_embedding_loss", {"margin": "margin"},
              signature="torch.nn.functional.hinge_embedding_loss(input, target, margin=1.0, size_average=None, "
                        "reduce=None, reduction='mean')",
              reduction=_TORCH_MEAN, safeguards="none",
              label_format="±1, same shape as input (not checked)",
              notes=(("PyTorch adds x where the label is not −1 and max(0, margin − x) where it is not 1, so a 0 "
                      "label gets both; ours takes −1 and 1 only."),)),
    absent={"keras": _NO_KERAS.format(what="hinge embedding loss"),
            "optax": _NO_OPTAX.format(what="hinge embedding loss")},
)

register(
    losses.perceptron,
    Native("optax.losses.perceptron_loss",
           signature="optax.losses.perceptron_loss(predictor_outputs, targets)",
           safeguards="none", label_format="±1, same shape as predictor_outputs (not checked)",
           notes=("optax uses the labels as given: a 0 label gives loss 0, any score.",)),
    absent={"torch": _NO_TORCH.format(what="perceptron loss (relu(−y·x) is it)"),
            "keras": _NO_KERAS.format(what="perceptron loss")},
)

register(
    losses.sparsemax,
    Native("optax.losses.sparsemax_loss",
           signature="optax.losses.sparsemax_loss(logits, labels)",
           safeguards="none needed: a piecewise polynomial (jax.nn.sparse_plus)",
           label_format="0/1 (any nonzero label is read as 1)",
           notes=("optax reads any nonzero label as 1 (jnp.where(labels, ...)); ours takes 0 and 1 only.",)),
    absent={"torch": _NO_TORCH.format(what="sparsemax loss"),
            "keras": _NO_KERAS.format(what="sparsemax loss (keras.activations.sparsemax is the projection only)")},
    sweep=_sweep_bits,
)

register(
    losses.multiclass_sparsemax,
    Native("optax.losses.multiclass_sparsemax_loss",
           signature="optax.losses.multiclass_sparsemax_loss(scores, labels)",
           safeguards="none: the projection of the unshifted scores (sort, cumsum)",
           label_format="integer class indices, scores' shape without the last axis",
           notes=(("optax projects the scores as given; ours shifts them by their maximum first, which keeps "
                   "the threshold's digits for large scores (the loss is the same)."),
                  ("optax does not check labels: a label ≥ C reads the last class (jax clamps the index) and −1 "
                   "wraps to it; ours raises in eager mode, NaN under jit."))),
    absent={"torch": _NO_TORCH.format(what="sparsemax loss"),
            "keras": _NO_KERAS.format(what="sparsemax loss (keras.activations.sparsemax is the projection only)")},
)

register(
    losses.multiclass_perceptron,
    Native("optax.losses.multiclass_perceptron_loss",
           signature="optax.losses.multiclass_perceptron_loss(scores, labels)",
           safeguards="none",
           label_format="integer class indices, scores' shape without the last axis",
           notes=("optax one-hot encodes the labels: one outside [0, C) silently gives max(scores), as if its "
                  "score were 0; ours raises in eager mode, NaN under jit.",)),
    absent={"torch": _NO_TORCH.format(what="multi-class perceptron loss"),
            "keras": _NO_KERAS.format(what="multi-class perceptron loss")},
)

register(
    losses.multi_margin,
    unreduced("torch.nn.functional.multi_margin_loss",
              {"p": "p", "margin": "margin", "weight": AsArray("class_weight")},
              signature="torch.nn.functional.multi_margin_loss(input, target, p=1, margin=1.0, weight=None, "
                        "size_average=None, reduce=None, reduction='mean')",
              reduction=_TORCH_ROWS + "; with weight= still Σ/N, not Σw",
              safeguards="none; raises for labels outside [0, C)",
              label_format="integer class indices (N,), input (N, C)",
              notes=(("PyTorch's docs put w[y] inside the power, max(0, w[y](margin − x[y] + x[i]))^p; its kernels "
                      "multiply outside it, w[y]·max(0, margin − x[y] + x[i])^p, as ours."),
                     ("With weight= PyTorch's 'mean' divides by the number of samples, not by Σw[y] (unlike "
                      "cross_entropy); ours too."), _TORCH_2D)),
    absent={"keras": _NO_KERAS.format(what="multi-class margin loss (CategoricalHinge is the max over wrong "
                                           "classes, not their sum)"),
            "optax": _NO_OPTAX.format(what="multi-class margin loss (multiclass_hinge_loss is the max over wrong "
                                           "classes, not their mean)")},
)

register(
    losses.multilabel_soft_margin,
    unreduced("torch.nn.functional.multilabel_soft_margin_loss", {"weight": AsArray("class_weight")},
              signature="torch.nn.functional.multilabel_soft_margin_loss(input, target, weight=None, "
                        "size_average=None, reduce=None, reduction='mean')",
              reduction=_TORCH_ROWS + "; weight= scales each class's term and still divides by C",
              safeguards="none needed: log-sigmoid form",
              label_format="0/1 (or soft) labels, same shape as input (N, C)",
              notes=("PyTorch's per-class weight= multiplies each class's term and still divides by C, as ours.",)),
    keras_class("keras.losses.BinaryCrossentropy", {"from_logits": Fixed(True)},
                signature="keras.losses.BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1, "
                          "reduction='sum_over_batch_size', name='binary_crossentropy', dtype=None)",
                reduction="the mean over the last axis per sample, then sum_over_batch_size",
                safeguards="none from logits (log-sigmoid form)",
                label_format="0/1 or soft labels, same shape as y_pred",
                notes=("Keras's BinaryCrossentropy(from_logits=True) averages the last axis per sample: it is this "
                       "loss without class weights.",)),
    absent={"optax": _NO_OPTAX.format(what="multi-label soft margin loss (the mean over the last axis of "
                                           "sigmoid_binary_cross_entropy is it)")},
)

register(
    losses.multilabel_margin,
    unreduced("torch.nn.functional.multilabel_margin_loss",
              signature="torch.nn.functional.multilabel_margin_loss(input, target, size_average=None, reduce=None, "
                        "reduction='mean')",
              reduction=_TORCH_ROWS,
              safeguards="none; raises for a target outside [−1, C)",
              label_format="integer class indices padded with −1, same shape as input (N, C)",
              notes=(("PyTorch's target lists class indices; the first −1 ends the list and the rest is ignored "
                      "(but must still lie in [−1, C)); a class listed twice counts twice."), _TORCH_2D)),
    absent={"keras": _NO_KERAS.format(what="multi-label margin loss"),
            "optax": _NO_OPTAX.format(what="multi-label margin loss")},
    sweep=_sweep_label_lists,
)
