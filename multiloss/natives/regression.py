"""The frameworks' regression losses (:mod:`multiloss.losses.regression`)."""

from __future__ import annotations

from multiloss.losses import regression as losses
from multiloss.natives import Native, keras_class, register, unreduced

_KERAS_FN_NOTE = "Keras averages over the last axis per sample, then over the batch (same mean when unweighted)."
_KERAS_WEIGHTS_NOTE = ("Keras's default reduction divides Σwℓ by the number of values even with sample weights: our "
                       "reduction='sum_over_batch_size'; its 'mean_with_sample_weight' is our 'mean'.")
_KERAS_DTYPE_NOTE = "Keras's loss classes compute in floatx (float32) unless given dtype=; ours keep y_pred's dtype."
_KERAS_LABELS = "y_pred's shape; a rank differing by one is squeezed or expanded to match"
_TORCH_LABELS = "input's shape; other shapes broadcast, with only a warning"
_OPTAX_LABELS = "predictions' shape (None: zeros)"
_SKLEARN_LABELS = "(n_samples,) or (n_samples, n_outputs)"
_TORCH_MEAN = "'mean' over all elements; with weight= (input's shape), Σwℓ/Σw"
_NO_SMOOTH_L1 = "Keras and optax have no smooth L1; their Huber with delta = β, divided by β, is it."
_NO_QUANTILE = ("PyTorch, Keras and optax have no quantile loss (TF-Addons' archived pinball_loss agrees "
                "with this one).")
_NO_POISSON = ("optax has no Poisson loss; scikit-learn's mean_poisson_deviance is "
               "2·(y·log(y/λ) − y + λ), 0 at a perfect fit.")


def _sklearn(api: str, kwargs: dict | None = None, keywords: str = "", safeguards: str = "none", **fields) -> Native:
    """A scikit-learn metric: the batch's mean, ``keywords`` (as its signature shows them) between
    sample_weight and multioutput."""
    signature = f"{api}(y_true, y_pred, *, sample_weight=None, {keywords}multioutput='uniform_average')"
    return Native(api, kwargs or {}, per="mean", signature=signature, safeguards=safeguards,
                  label_format=_SKLEARN_LABELS, **fields)


register(
    losses.mean_squared_error,
    unreduced("torch.nn.functional.mse_loss",
              signature="torch.nn.functional.mse_loss(input, target, size_average=None, reduce=None, "
                        "reduction='mean', weight=None)",
              reduction=_TORCH_MEAN, safeguards="none", label_format=_TORCH_LABELS,
              notes=("PyTorch broadcasts (N,) against (N, 1) to (N, N) with only a warning.",)),
    keras_class("keras.losses.MeanSquaredError",
                signature="keras.losses.MeanSquaredError(reduction='sum_over_batch_size', "
                          "name='mean_squared_error', dtype=None)",
                safeguards="none", label_format=_KERAS_LABELS,
                notes=(_KERAS_FN_NOTE, _KERAS_WEIGHTS_NOTE, _KERAS_DTYPE_NOTE)),
    Native("optax.losses.squared_error", signature="optax.losses.squared_error(predictions, targets=None)",
           safeguards="none", label_format=_OPTAX_LABELS, notes=("optax returns unreduced values.",)),
    Native("optax.losses.l2_loss", scale=0.5, signature="optax.losses.l2_loss(predictions, targets=None)",
           safeguards="none", label_format=_OPTAX_LABELS,
           notes=("optax's l2_loss is half the squared error; convention='optax' follows squared_error.",)),
    _sklearn("sklearn.metrics.mean_squared_error",
             notes=("scikit-learn weights by Σw like our 'mean'; multioutput averages per output first.",)),
)

register(
    losses.mean_absolute_error,
    unreduced("torch.nn.functional.l1_loss",
              signature="torch.nn.functional.l1_loss(input, target, size_average=None, reduce=None, "
                        "reduction='mean', weight=None)",
              reduction=_TORCH_MEAN, safeguards="none", label_format=_TORCH_LABELS),
    _sklearn("sklearn.metrics.mean_absolute_error"),
    keras_class("keras.losses.MeanAbsoluteError",
                signature="keras.losses.MeanAbsoluteError(reduction='sum_over_batch_size', "
                          "name='mean_absolute_error', dtype=None)",
                safeguards="none", label_format=_KERAS_LABELS, notes=(_KERAS_FN_NOTE,)),
    absent={"optax": "optax has no MAE."},
)

_NO_MAPE = "PyTorch and optax have no percentage error loss."

register(
    losses.mean_absolute_percentage_error,
    keras_class("keras.losses.MeanAbsolutePercentageError",
                signature="keras.losses.MeanAbsolutePercentageError(reduction='sum_over_batch_size', "
                          "name='mean_absolute_percentage_error', dtype=None)",
                safeguards="|y_true| floored at ε = 1e-7 (keras.config.epsilon())", label_format=_KERAS_LABELS,
                notes=(_KERAS_FN_NOTE, "Keras reports percent: 100·|y − ŷ|/max(|y|, 1e-7), our default.")),
    _sklearn("sklearn.metrics.mean_absolute_percentage_error",
             safeguards="|y_true| floored at float64's eps, 2.2e-16",
             notes=(("scikit-learn returns a fraction, not percent, and floors |y| at 2.2e-16 rather than 1e-7: "
                     "our percent=False, epsilon=2**-52."),)),
    absent=dict.fromkeys(("torch", "optax"), _NO_MAPE),
)

register(
    losses.huber,
    unreduced("torch.nn.functional.huber_loss", {"delta": "delta"},
              signature="torch.nn.functional.huber_loss(input, target, reduction='mean', delta=1.0, weight=None)",
              reduction="'mean' over all elements; with weight= (input's shape), Σwℓ / number of elements",
              safeguards="none (delta ≤ 0 raises)", label_format=_TORCH_LABELS,
              notes=(("PyTorch 2.13's huber_loss(weight=w) divides Σwℓ by the number of elements, where "
                      "mse_loss and l1_loss divide by Σw."),)),
    keras_class("keras.losses.Huber", {"delta": "delta"},
                signature="keras.losses.Huber(delta=1.0, reduction='sum_over_batch_size', name='huber_loss', "
                          "dtype=None)",
                safeguards="none", label_format=_KERAS_LABELS, notes=(_KERAS_FN_NOTE,)),
    Native("optax.losses.huber_loss", {"delta": "delta"},
           signature="optax.losses.huber_loss(predictions, targets=None, *, delta=1.0)", safeguards="none",
           label_format=_OPTAX_LABELS),
)

register(
    losses.smooth_l1,
    unreduced("torch.nn.functional.smooth_l1_loss", {"beta": "beta"},
              signature="torch.nn.functional.smooth_l1_loss(input, target, size_average=None, reduce=None, "
                        "reduction='mean', beta=1.0)",
              safeguards="none (beta = 0 is l1_loss; beta < 0 raises)", label_format=_TORCH_LABELS,
              notes=("PyTorch's smooth L1 divides Huber by β: huber(δ) = δ·smooth_l1(β=δ).", _NO_SMOOTH_L1)),
    absent=dict.fromkeys(("keras", "optax"), _NO_SMOOTH_L1),
)

register(
    losses.log_cosh,
    keras_class("keras.losses.LogCosh", per="last_axis", exact=False,
                signature="keras.losses.LogCosh(reduction='sum_over_batch_size', name='log_cosh', dtype=None)",
                safeguards="none (a stable softplus form)", label_format=_KERAS_LABELS,
                notes=(_KERAS_FN_NOTE,
                       "Keras computes e + softplus(-2e) - log 2, which loses precision for small |e|.",
                       ("In float64 Keras subtracts float32's log 2, so every value is 1.9e-9 low; no "
                        "convention='keras' reproduces that (in float32 ours agree to rounding)."))),
    Native("optax.losses.log_cosh", exact=False, signature="optax.losses.log_cosh(predictions, targets=None)",
           safeguards="none (logaddexp form)", label_format=_OPTAX_LABELS,
           notes=("optax computes logaddexp(e, -e) - log 2, which loses precision for small |e|.",)),
    absent={"torch": "PyTorch has no log-cosh loss."},
)

register(
    losses.quantile,
    _sklearn("sklearn.metrics.mean_pinball_loss", {"alpha": "q"}, keywords="alpha=0.5, ",
             notes=("scikit-learn calls the quantile `alpha`.", _NO_QUANTILE)),
    absent=dict.fromkeys(("torch", "keras", "optax"), _NO_QUANTILE),
)

register(
    losses.mean_squared_log_error,
    keras_class("keras.losses.MeanSquaredLogarithmicError", exact=False,
                signature="keras.losses.MeanSquaredLogarithmicError(reduction='sum_over_batch_size', "
                          "name='mean_squared_logarithmic_error', dtype=None)",
                safeguards="both inputs clamped to ≥ ε = 1e-7 first", label_format=_KERAS_LABELS,
                notes=(("Keras clamps both inputs to ≥ 1e-7 first, silently changing values below it (and any "
                        "negative value): our epsilon=1e-7."),)),
    _sklearn("sklearn.metrics.mean_squared_log_error", safeguards="raises ValueError for values ≤ -1, as ours does"),
)

register(
    losses.poisson,
    unreduced("torch.nn.functional.poisson_nll_loss", {"log_input": "log_input", "full": "full", "eps": "epsilon"},
              signature="torch.nn.functional.poisson_nll_loss(input, target, log_input=True, full=False, "
                        "size_average=None, eps=1e-08, reduce=None, reduction='mean')",
              safeguards="with log_input=False, eps = 1e-8 added inside the log",
              label_format="counts, input's shape",
              notes=("PyTorch's default is log_input=True, a log-rate (ours: a rate, as Keras).",
                     ("With log_input=False PyTorch adds eps = 1e-8 inside the log (our epsilon); with eps = 0, "
                      "y = 0 with rate 0 gives NaN there, 0 here."),
                     ("PyTorch's full=True adds Stirling's approximation of log(y!) for y > 1 (our full=True): a "
                      "constant in the prediction, so only the value changes, with a jump of −0.081 at y = 1."))),
    keras_class("keras.losses.Poisson", exact=False,
                signature="keras.losses.Poisson(reduction='sum_over_batch_size', name='poisson', dtype=None)",
                safeguards="ε = 1e-7 added inside the log", label_format=_KERAS_LABELS,
                notes=("Keras takes a rate and computes rate − y·log(rate + 1e-7): our epsilon=1e-7.", _NO_POISSON)),
    absent={"optax": _NO_POISSON},
)
