"""Regression losses: MSE, MAE, Huber, smooth L1, log-cosh, quantile, MSLE, Poisson.

Each spec returns the per-element loss of ``e = y_pred - y_true``; reduction, sample weights,
validation and the dtype policy come from :func:`multiloss.registry.loss`. Kinks have a
defined gradient, the same on every backend: the midpoint of the one-sided derivatives
(0 for |e| at 0, as torch and TensorFlow give; the JAX adapter's ``abs`` agrees).
"""

from __future__ import annotations

from multiloss import _validation as v
from multiloss import domains
from multiloss.registry import DTYPE, Fixed, Native, loss

__all__ = [
    "huber",
    "log_cosh",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mean_squared_log_error",
    "mse",
    "msle",
    "poisson",
    "quantile",
    "smooth_l1",
]

_KERAS_FN_NOTE = "Keras averages over the last axis per sample, then over the batch (same mean when unweighted)."
_KERAS_WEIGHTS_NOTE = ("Keras's default reduction divides Σwℓ by the number of values even with sample weights: our "
                       "reduction='sum_over_batch_size'; its 'mean_with_sample_weight' is our 'mean'.")
_KERAS_DTYPE_NOTE = "Keras's loss classes compute in floatx (float32) unless given dtype=; ours keep y_pred's dtype."
_KERAS_CLASS = {"reduction": Fixed(None), "dtype": DTYPE}
_KERAS_LABELS = "y_pred's shape; a rank differing by one is squeezed or expanded to match"
_TORCH_LABELS = "input's shape; other shapes broadcast, with only a warning"
_SKLEARN_LABELS = "(n_samples,) or (n_samples, n_outputs)"


@loss(
    family="regression",
    domain=domains.real_pairs(),
    aliases=("mse",),
    natives=(
        Native("torch", "torch.nn.functional.mse_loss", kwargs={"reduction": Fixed("none")}, convention={},
               signature="torch.nn.functional.mse_loss(input, target, size_average=None, reduce=None, "
                         "reduction='mean', weight=None)",
               reduction="'mean' over all elements; with weight= (input's shape), Σwℓ/Σw",
               safeguards="none", label_format=_TORCH_LABELS,
               notes=("PyTorch broadcasts (N,) against (N, 1) to (N, N) with only a warning.",)),
        Native("keras", "keras.losses.MeanSquaredError", order=("y_true", "y_pred"), per="last_axis", construct=True,
               kwargs=_KERAS_CLASS, convention={},
               signature="keras.losses.MeanSquaredError(reduction='sum_over_batch_size', "
                         "name='mean_squared_error', dtype=None)",
               safeguards="none", label_format=_KERAS_LABELS,
               notes=(_KERAS_FN_NOTE, _KERAS_WEIGHTS_NOTE, _KERAS_DTYPE_NOTE)),
        Native("optax", "optax.losses.squared_error", convention={},
               signature="optax.losses.squared_error(predictions, targets=None)", safeguards="none",
               label_format="predictions' shape (None: zeros)", notes=("optax returns unreduced values.",)),
        Native("optax", "optax.losses.l2_loss", scale=0.5, signature="optax.losses.l2_loss(predictions, targets=None)",
               safeguards="none", label_format="predictions' shape (None: zeros)",
               notes=("optax's l2_loss is half the squared error; convention='optax' follows squared_error.",)),
        Native("sklearn", "sklearn.metrics.mean_squared_error", order=("y_true", "y_pred"), per="mean", convention={},
               signature="sklearn.metrics.mean_squared_error(y_true, y_pred, *, sample_weight=None, "
                         "multioutput='uniform_average')",
               safeguards="none", label_format=_SKLEARN_LABELS,
               notes=("scikit-learn weights by Σw like our 'mean'; multioutput averages per output first.",)),
    ),
)
def mean_squared_error(y_true, y_pred, *, xp):
    """Mean squared error: (y_pred - y_true)²."""
    return xp.squared_difference(y_pred, y_true)


@loss(
    family="regression",
    domain=domains.real_pairs(),
    aliases=("mae",),
    natives=(
        Native("torch", "torch.nn.functional.l1_loss", kwargs={"reduction": Fixed("none")}, convention={},
               signature="torch.nn.functional.l1_loss(input, target, size_average=None, reduce=None, "
                         "reduction='mean', weight=None)",
               reduction="'mean' over all elements; with weight= (input's shape), Σwℓ/Σw",
               safeguards="none", label_format=_TORCH_LABELS),
        Native("sklearn", "sklearn.metrics.mean_absolute_error", order=("y_true", "y_pred"), per="mean",
               convention={},
               signature="sklearn.metrics.mean_absolute_error(y_true, y_pred, *, sample_weight=None, "
                         "multioutput='uniform_average')",
               safeguards="none", label_format=_SKLEARN_LABELS),
        Native("keras", "keras.losses.MeanAbsoluteError", order=("y_true", "y_pred"), per="last_axis",
               construct=True, kwargs=_KERAS_CLASS, convention={},
               signature="keras.losses.MeanAbsoluteError(reduction='sum_over_batch_size', "
                         "name='mean_absolute_error', dtype=None)",
               safeguards="none", label_format=_KERAS_LABELS, notes=(_KERAS_FN_NOTE,)),
    ),
)
def mean_absolute_error(y_true, y_pred, *, xp):
    """Mean absolute error: |y_pred - y_true|; gradient 0 at a zero error. optax has no MAE."""
    return xp.abs(y_pred - y_true)


@loss(
    family="regression",
    domain=domains.real_pairs("delta"),
    conditions={"delta": "> 0"},
    variants=({"delta": 0.5}, {"delta": 2.0}),
    natives=(
        Native("torch", "torch.nn.functional.huber_loss", kwargs={"reduction": Fixed("none"), "delta": "delta"},
               convention={}, weight_divisor="count",
               signature="torch.nn.functional.huber_loss(input, target, reduction='mean', delta=1.0, weight=None)",
               reduction="'mean' over all elements; with weight= (input's shape), Σwℓ / number of elements",
               safeguards="none (delta ≤ 0 raises)", label_format=_TORCH_LABELS,
               notes=(("PyTorch 2.13's huber_loss(weight=w) divides Σwℓ by the number of elements, where "
                       "mse_loss and l1_loss divide by Σw."),)),
        Native("keras", "keras.losses.Huber", order=("y_true", "y_pred"), per="last_axis", construct=True,
               kwargs={"delta": "delta", **_KERAS_CLASS}, convention={},
               signature="keras.losses.Huber(delta=1.0, reduction='sum_over_batch_size', name='huber_loss', "
                         "dtype=None)",
               safeguards="none", label_format=_KERAS_LABELS, notes=(_KERAS_FN_NOTE,)),
        Native("optax", "optax.losses.huber_loss", kwargs={"delta": "delta"}, convention={},
               signature="optax.losses.huber_loss(predictions, targets=None, *, delta=1.0)", safeguards="none",
               label_format="predictions' shape (None: zeros)"),
    ),
)
def huber(y_true, y_pred, *, delta=1.0, xp):
    """Huber loss (Huber 1964): ½e² for |e| ≤ δ, δ(|e| − ½δ) beyond.

    Quadratic near 0, linear in the tails, so an outlier's gradient is capped at δ. Equal to
    δ·smooth_l1(β=δ); PyTorch's smooth L1 and Huber agree only at δ = β = 1.
    """
    return xp.huber_difference(y_pred, y_true, delta)


@loss(
    family="regression",
    domain=domains.real_pairs("beta"),
    conditions={"beta": ">= 0"},
    variants=({"beta": 0.5}, {"beta": 0.0}),
    natives=(
        Native("torch", "torch.nn.functional.smooth_l1_loss", kwargs={"reduction": Fixed("none"), "beta": "beta"},
               convention={},
               signature="torch.nn.functional.smooth_l1_loss(input, target, size_average=None, reduce=None, "
                         "reduction='mean', beta=1.0)",
               safeguards="none (beta = 0 is l1_loss; beta < 0 raises)", label_format=_TORCH_LABELS,
               notes=("PyTorch's smooth L1 divides Huber by β: huber(δ) = δ·smooth_l1(β=δ).",
                      "Keras and optax have no smooth L1; their Huber with delta = β, divided by β, is it.")),
    ),
)
def smooth_l1(y_true, y_pred, *, beta=1.0, xp):
    """Smooth L1 (PyTorch's definition, Girshick 2015): ½e²/β for |e| < β, |e| − ½β beyond; β = 0 is L1."""
    if beta == 0:
        return xp.abs(y_pred - y_true)
    return xp.smooth_l1_difference(y_pred, y_true, beta)


@loss(
    family="regression",
    domain=domains.real_pairs(),
    natives=(
        Native("keras", "keras.losses.LogCosh", order=("y_true", "y_pred"), per="last_axis", construct=True,
               kwargs=_KERAS_CLASS, exact=False,
               signature="keras.losses.LogCosh(reduction='sum_over_batch_size', name='log_cosh', dtype=None)",
               safeguards="none (a stable softplus form)", label_format=_KERAS_LABELS,
               notes=(_KERAS_FN_NOTE,
                      "Keras computes e + softplus(-2e) - log 2, which loses precision for small |e|.",
                      ("In float64 Keras subtracts float32's log 2, so every value is 1.9e-9 low; no "
                       "convention='keras' reproduces that (in float32 ours agree to rounding)."))),
        Native("optax", "optax.losses.log_cosh", exact=False, convention={},
               signature="optax.losses.log_cosh(predictions, targets=None)", safeguards="none (logaddexp form)",
               label_format="predictions' shape (None: zeros)",
               notes=("optax computes logaddexp(e, -e) - log 2, which loses precision for small |e|.",)),
    ),
)
def log_cosh(y_true, y_pred, *, xp):
    """Log-cosh loss: log(cosh(e)), ≈ ½e² near 0 and |e| − log 2 in the tails. PyTorch has no log-cosh loss.

    As log1p(u²/(2 + 2u)) + max(|e| − 20, 0) with u = expm1(min(|e|, 20)), since
    cosh(m) − 1 = u²/(2(1 + u)) and log cosh is linear (slope 1 to within e⁻⁴⁰) past 20.
    No overflow (cosh overflows float32 past 89), no cancellation near 0 (the tail formula
    |e| + softplus(−2|e|) − log 2 of Keras and optax has relative error ~ eps/e² there), no
    branches. Gradient: tanh(e); the tail is max(·, 0) rather than |e| − m so that below 20
    no +1 − 1 reaches the gradient. (expm1 rather than sinh: several times faster in
    TensorFlow and NumPy.)
    """
    a = xp.abs(y_pred - y_true)
    u = xp.expm1(xp.minimum(a, 20.0))
    return xp.log1p(u * u / (2.0 + 2.0 * u)) + xp.maximum(a - 20.0, 0.0)


@loss(
    family="regression",
    domain=domains.real_pairs(),
    conditions={"q": "[0, 1]"},
    variants=({"q": 0.1}, {"q": 0.9}),
    natives=(
        Native("sklearn", "sklearn.metrics.mean_pinball_loss", order=("y_true", "y_pred"), kwargs={"alpha": "q"},
               per="mean", convention={},
               signature="sklearn.metrics.mean_pinball_loss(y_true, y_pred, *, sample_weight=None, alpha=0.5, "
                         "multioutput='uniform_average')",
               safeguards="none", label_format=_SKLEARN_LABELS,
               notes=("scikit-learn calls the quantile `alpha`.",
                      ("PyTorch, Keras and optax have no quantile loss (TF-Addons' archived pinball_loss agrees "
                       "with this one)."))),
    ),
)
def quantile(y_true, y_pred, *, q=0.5, xp):
    """Quantile (pinball) loss (Koenker & Bassett 1978): q·(y − ŷ) if y ≥ ŷ, else (1 − q)·(ŷ − y).

    Minimised by the q-th quantile; q weights under-prediction. Computed as
    max(q·d, (q − 1)·d) with d = y − ŷ: one rounding per product, no branch; at d = 0 the
    tie splits the gradient, giving the midpoint ½ − q (0 for q = ½, as for |e|).
    """
    d = y_true - y_pred
    return xp.maximum(q * d, (q - 1.0) * d)


def _check_msle(xp, y_true, y_pred, *, epsilon):
    if epsilon is not None:  # both are clamped to ≥ epsilon: any value is valid
        v.check_param("epsilon", epsilon, ">= 0")
        return
    for name, x in (("y_true", y_true), ("y_pred", y_pred)):
        v.check_bound(xp, x, name, "> -1 for a logarithmic error", lower=-1.0, strict=True)


@loss(
    family="regression",
    domain=domains.nonnegative_pairs(),
    checks=_check_msle,
    aliases=("msle",),
    variants=({"epsilon": 1e-7},),
    natives=(
        Native("keras", "keras.losses.MeanSquaredLogarithmicError", order=("y_true", "y_pred"), per="last_axis",
               construct=True, kwargs=_KERAS_CLASS, exact=False, convention={"epsilon": 1e-7},
               signature="keras.losses.MeanSquaredLogarithmicError(reduction='sum_over_batch_size', "
                         "name='mean_squared_logarithmic_error', dtype=None)",
               safeguards="both inputs clamped to ≥ ε = 1e-7 first", label_format=_KERAS_LABELS,
               notes=(("Keras clamps both inputs to ≥ 1e-7 first, silently changing values below it (and any "
                       "negative value): our epsilon=1e-7."),)),
        Native("sklearn", "sklearn.metrics.mean_squared_log_error", order=("y_true", "y_pred"), per="mean",
               when={"epsilon": None}, convention={},
               signature="sklearn.metrics.mean_squared_log_error(y_true, y_pred, *, sample_weight=None, "
                         "multioutput='uniform_average')",
               safeguards="raises ValueError for values ≤ -1", label_format=_SKLEARN_LABELS,
               notes=("scikit-learn raises for values ≤ -1, as we do.",)),
    ),
)
def mean_squared_log_error(y_true, y_pred, *, epsilon=None, xp):
    """Mean squared logarithmic error: (log1p(ŷ) − log1p(y))²; both must be > −1 (ValueError).

    With ``epsilon`` (Keras: 1e-7) both are first clamped to ≥ epsilon, any value allowed.
    The difference of logs is log1p(z) with z = (ŷ − y)/(1 + y), and log((1 + ŷ)/(1 + y))
    where z < −½ (log1p's argument near −1 loses digits); subtracting two rounded logs would
    cancel when ŷ ≈ y.
    """
    if epsilon is not None:
        y_true, y_pred = xp.maximum(y_true, epsilon), xp.maximum(y_pred, epsilon)
    q = 1.0 + y_true
    z = (y_pred - y_true) / q
    d = xp.where(z < -0.5, xp.log((1.0 + y_pred) / q), xp.log1p(z))
    return d * d


def _check_poisson(xp, y_true, y_pred, *, log_input, **_):
    v.check_bound(xp, y_true, "y_true", "≥ 0 (counts)", lower=0.0)
    if not log_input:
        v.check_bound(xp, y_pred, "y_pred", "a rate ≥ 0 (pass log_input=True for log-rates)", lower=0.0)


@loss(
    family="regression",
    domain=domains.counts_and_rates(),
    checks=_check_poisson,
    conditions={"epsilon": ">= 0"},
    variants=({"log_input": True}, {"epsilon": 1e-7}),
    natives=(
        Native("torch", "torch.nn.functional.poisson_nll_loss",
               kwargs={"reduction": Fixed("none"), "log_input": "log_input", "eps": "epsilon"},
               convention={"log_input": True, "epsilon": 1e-8},
               signature="torch.nn.functional.poisson_nll_loss(input, target, log_input=True, full=False, "
                         "size_average=None, eps=1e-08, reduce=None, reduction='mean')",
               safeguards="with log_input=False, eps = 1e-8 added inside the log",
               label_format="counts, input's shape",
               notes=("PyTorch's default is log_input=True, a log-rate (ours: a rate, as Keras).",
                      ("With log_input=False PyTorch adds eps = 1e-8 inside the log (our epsilon); with eps = 0, "
                       "y = 0 with rate 0 gives NaN there, 0 here."),
                      "PyTorch's full=True adds Stirling's approximation of log(y!), which we do not.")),
        Native("keras", "keras.losses.Poisson", order=("y_true", "y_pred"), per="last_axis", construct=True,
               kwargs=_KERAS_CLASS, exact=False, when={"log_input": False}, convention={"epsilon": 1e-7},
               signature="keras.losses.Poisson(reduction='sum_over_batch_size', name='poisson', dtype=None)",
               safeguards="ε = 1e-7 added inside the log", label_format=_KERAS_LABELS,
               notes=("Keras takes a rate and computes rate − y·log(rate + 1e-7): our epsilon=1e-7.",
                      ("optax has no Poisson loss; scikit-learn's mean_poisson_deviance is "
                       "2·(y·log(y/λ) − y + λ), 0 at a perfect fit."))),
    ),
)
def poisson(y_true, y_pred, *, log_input=False, epsilon=0.0, xp):
    """Poisson negative log-likelihood without the log(y!) term: λ − y·log(λ + ε), ε = ``epsilon``.

    ``y_pred`` is the rate λ ≥ 0 (Keras's convention) or, with ``log_input=True``, the
    log-rate x (PyTorch's default): exp(x) − y·x, stable for any x (``epsilon`` unused, as in
    PyTorch). 0·log 0 is 0. Keras adds ε = 1e-7, PyTorch (rates) 1e-8.
    """
    if log_input:
        return xp.exp(y_pred) - y_true * y_pred
    if epsilon == 0:
        return y_pred - xp.xlogy(y_true, y_pred)
    # log(λ + ε) > log ε: near λ = 1 as log1p((λ − 1) + ε), λ − 1 exact there, so that the
    # rounding of λ + ε does not cost all relative accuracy of a log near 0.
    near = (y_pred > 0.5) & (y_pred < 2.0)
    shifted = xp.where(near, y_pred, 1.0) - 1.0
    return y_pred - y_true * xp.where(near, xp.log1p(shifted + epsilon), xp.log(y_pred + epsilon))


mse = mean_squared_error
mae = mean_absolute_error
msle = mean_squared_log_error
