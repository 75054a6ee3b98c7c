"""Regression losses: MSE, MAE, MAPE, Huber, smooth L1, log-cosh, quantile, MSLE, Poisson.

Each kernel returns the per-element loss of ``e = y_pred - y_true``; reduction, sample weights,
validation and the dtype policy come from :func:`multiloss.registry.loss`. Kinks have a
defined gradient, the same on every backend: the midpoint of the one-sided derivatives
(0 for |e| at 0, as torch and TensorFlow give; the JAX adapter's ``abs`` agrees). Each
kernel's reference, written from the definition over scalars, stands above it.
"""

from __future__ import annotations

import math

from multiloss import _validation as v
from multiloss import domains
from multiloss.reference import number
from multiloss.registry import Convention, loss

__all__ = [
    "huber",
    "log_cosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_log_error",
    "mse",
    "msle",
    "poisson",
    "quantile",
    "smooth_l1",
]


def _mean_squared_error_reference(y_true, y_pred, *, m):
    return (y_pred - y_true) ** 2


@loss(
    family="regression",
    domain=domains.real_pairs(),
    reference=_mean_squared_error_reference,
    aliases=("mse",),
    conventions=(
        Convention("torch.nn.functional.mse_loss"),
        Convention("keras.losses.MeanSquaredError", per_sample=True),
        Convention("optax.losses.squared_error"),
        Convention("sklearn.metrics.mean_squared_error"),
    ),
)
def mean_squared_error(y_true, y_pred, *, reduction="none", xp):
    """Mean squared error: (y_pred - y_true)²."""
    return xp.squared_difference(y_pred, y_true, reduction=reduction)


def _mean_absolute_error_reference(y_true, y_pred, *, m):
    return abs(y_pred - y_true)


@loss(
    family="regression",
    domain=domains.real_pairs(),
    reference=_mean_absolute_error_reference,
    aliases=("mae",),
    conventions=(
        Convention("torch.nn.functional.l1_loss"),
        Convention("sklearn.metrics.mean_absolute_error"),
        Convention("keras.losses.MeanAbsoluteError", per_sample=True),
    ),
)
def mean_absolute_error(y_true, y_pred, *, xp):
    """Mean absolute error: ``|y_pred - y_true|``; gradient 0 at a zero error. optax has no MAE."""
    return xp.abs(y_pred - y_true)


def _mean_absolute_percentage_error_reference(y_true, y_pred, *, epsilon, percent, m):
    # |e| as max(e, 0) + max(−e, 0): at e = 0 each term's central difference is half a slope, of
    # the scale the tolerance then follows (|e|/|y| alone has a curvature-sized O(h) residue there).
    e, floor = y_pred - y_true, max(abs(y_true), number(epsilon, m))
    scale = 100 if percent else 1
    return scale * max(e, 0) / floor, scale * max(-e, 0) / floor


_SKLEARN_EPSILON = 2.0**-52  # numpy.finfo(numpy.float64).eps: scikit-learn's floor under |y|


@loss(
    family="regression",
    domain=domains.relative_pairs(),
    reference=_mean_absolute_percentage_error_reference,
    conditions={"epsilon": "> 0"},
    aliases=("mape",),
    variants=({"percent": False, "epsilon": _SKLEARN_EPSILON}, {"epsilon": 1e-3}),
    conventions=(
        Convention("keras.losses.MeanAbsolutePercentageError", when={"percent": True, "epsilon": 1e-7},
                   per_sample=True),
        Convention("sklearn.metrics.mean_absolute_percentage_error", {"percent": False, "epsilon": _SKLEARN_EPSILON},
                   when={"percent": False, "epsilon": _SKLEARN_EPSILON}),
    ),
)
def mean_absolute_percentage_error(y_true, y_pred, *, epsilon=1e-7, percent=True, xp):
    """Mean absolute percentage error: ``100·|ŷ − y| / max(|y|, ε)``, ε = ``epsilon``; without ``percent`` a fraction.

    The error relative to the target, in percent as Keras's ``MeanAbsolutePercentageError`` and the
    name say (``percent=False`` gives scikit-learn's fraction, which floors ``|y|`` at float64's
    eps, 2.2e-16, rather than Keras's 1e-7). The floor keeps y = 0 finite but huge: a target
    within ε of 0 turns an absolute error e into 100·e/ε (1e9·e). The gradient in y_pred is
    ``±100/max(|y|, ε)`` (0 at ŷ = y); in y_true below ε only the numerator's.

    The value is ``|e|/c``, ``c = max(|y|, ε)``, once rounded. Its gradient in y_true beyond ε is
    −sign(e)·ŷ·sign(y)/y², which autodiff of ``|e|/c`` forms as ``−sign(e)/c − |e|·sign(y)/c²``: two
    terms that cancel where ŷ ≪ y (all relative accuracy lost as ŷ → 0). The gradient
    therefore comes from sign(e)·(ŷ/c − u), u = y/c = sign(y) beyond ε (a constant there) and
    y/ε below: the same derivative as a product, without the cancellation. (Where ŷ/ε overflows
    the dtype, the value is NaN rather than inf.)
    """
    e, c = y_pred - y_true, xp.maximum(xp.abs(y_true), epsilon)
    u = xp.where(xp.abs(y_true) >= epsilon, xp.sign(y_true), y_true / epsilon)
    slope = xp.sign(e) * (y_pred / c - u)  # value ≈ |e|/c, unused; gradient that of |e|/c
    relative = xp.stop_gradient(xp.abs(e) / c) + (slope - xp.stop_gradient(slope))
    return 100.0 * relative if percent else relative


def _huber_reference(y_true, y_pred, *, delta, m):
    a = abs(y_pred - y_true)
    return a * a / 2 if a <= delta else delta * (a - delta / 2)


@loss(
    family="regression",
    domain=domains.real_pairs("delta"),
    reference=_huber_reference,
    conditions={"delta": "> 0"},
    variants=({"delta": 0.5}, {"delta": 2.0}),
    conventions=(
        Convention("torch.nn.functional.huber_loss", divisor="count"),
        Convention("keras.losses.Huber", per_sample=True),
        Convention("optax.losses.huber_loss"),
    ),
)
def huber(y_true, y_pred, *, delta=1.0, reduction="none", xp):
    """Huber loss (Huber 1964): ``½e²`` for ``|e| ≤ δ``, ``δ(|e| − ½δ)`` beyond.

    Quadratic near 0, linear in the tails, so an outlier's gradient is capped at δ. Equal to
    δ·smooth_l1(β=δ); PyTorch's smooth L1 and Huber agree only at δ = β = 1.
    """
    return xp.huber_difference(y_pred, y_true, delta, reduction=reduction)


def _smooth_l1_reference(y_true, y_pred, *, beta, m):
    a = abs(y_pred - y_true)
    if beta == 0:
        return a
    return a * a / (2 * beta) if a < beta else a - beta / 2


@loss(
    family="regression",
    domain=domains.real_pairs("beta"),
    reference=_smooth_l1_reference,
    conditions={"beta": ">= 0"},
    variants=({"beta": 0.5}, {"beta": 0.0}),
    conventions=(Convention("torch.nn.functional.smooth_l1_loss"),),
)
def smooth_l1(y_true, y_pred, *, beta=1.0, reduction="none", xp):
    """Smooth L1 (PyTorch's definition, Girshick 2015): ``½e²/β`` for ``|e| < β``, ``|e| − ½β`` beyond; β = 0 is L1."""
    if beta == 0:
        return xp.abs(y_pred - y_true)
    return xp.smooth_l1_difference(y_pred, y_true, beta, reduction=reduction)


def _log_cosh_reference(y_true, y_pred, *, m):
    return m.log(m.cosh(y_pred - y_true))


@loss(
    family="regression",
    domain=domains.real_pairs(),
    reference=_log_cosh_reference,
    conventions=(Convention("optax.losses.log_cosh"),),
)
def log_cosh(y_true, y_pred, *, xp):
    """Log-cosh loss: log(cosh(e)), ≈ ½e² near 0 and ``|e| − log 2`` in the tails. PyTorch has no log-cosh loss.

    As ``log1p(u²/(2 + 2u)) + max(|e| − 20, 0)`` with ``u = expm1(min(|e|, 20))``, since
    cosh(m) − 1 = u²/(2(1 + u)) and log cosh is linear (slope 1 to within e⁻⁴⁰) past 20.
    No overflow (cosh overflows float32 past 89), no cancellation near 0 (the tail formula
    ``|e| + softplus(−2|e|) − log 2`` of Keras and optax has relative error ~ eps/e² there), no
    branches. Gradient: tanh(e); the tail is max(·, 0) rather than ``|e| − m`` so that below 20
    no +1 − 1 reaches the gradient. (expm1 rather than sinh: several times faster in
    TensorFlow and NumPy.)
    """
    a = xp.abs(y_pred - y_true)
    u = xp.expm1(xp.minimum(a, 20.0))
    return xp.log1p(u * u / (2.0 + 2.0 * u)) + xp.maximum(a - 20.0, 0.0)


def _quantile_reference(y_true, y_pred, *, q, m):
    d = y_true - y_pred
    return q * d if d >= 0 else (q - 1) * d


@loss(
    family="regression",
    domain=domains.real_pairs(),
    reference=_quantile_reference,
    conditions={"q": "[0, 1]"},
    variants=({"q": 0.1}, {"q": 0.9}),
    conventions=(Convention("sklearn.metrics.mean_pinball_loss"),),
)
def quantile(y_true, y_pred, *, q=0.5, xp):
    """Quantile (pinball) loss (Koenker & Bassett 1978): q·(y − ŷ) if y ≥ ŷ, else (1 − q)·(ŷ − y).

    Minimised by the q-th quantile; q weights under-prediction. Computed as
    max(q·d, (q − 1)·d) with d = y − ŷ: one rounding per product, no branch; at d = 0 the
    tie splits the gradient, giving the midpoint ½ − q (0 for q = ½, as for ``|e|``).
    """
    d = y_true - y_pred
    return xp.maximum(q * d, (q - 1.0) * d)


def _check_msle(xp, y_true, y_pred, *, epsilon):
    if epsilon is not None:  # both are clamped to ≥ epsilon: any value is valid
        return ()
    return tuple(v.Rule(name, x, "> -1 for a logarithmic error", lower=-1.0, strict=True)
                 for name, x in (("y_true", y_true), ("y_pred", y_pred)))


def _mean_squared_log_error_reference(y_true, y_pred, *, epsilon, m):
    if epsilon is not None:
        y_true, y_pred = max(y_true, number(epsilon, m)), max(y_pred, number(epsilon, m))
    return (m.log(1 + y_pred) - m.log(1 + y_true)) ** 2


@loss(
    family="regression",
    domain=domains.nonnegative_pairs(),
    reference=_mean_squared_log_error_reference,
    conditions={"epsilon": ">= 0 or None"},
    checks=_check_msle,
    aliases=("msle",),
    variants=({"epsilon": 1e-7},),
    conventions=(
        Convention("keras.losses.MeanSquaredLogarithmicError", {"epsilon": 1e-7}, per_sample=True),
        Convention("sklearn.metrics.mean_squared_log_error", when={"epsilon": None}),
    ),
)
def mean_squared_log_error(y_true, y_pred, *, epsilon=None, xp):
    """Mean squared logarithmic error: (log1p(ŷ) − log1p(y))²; both must be > −1 (ValueError).

    With ``epsilon`` (Keras: 1e-7) both are first clamped to ≥ epsilon, any value allowed.
    As ``d = log1p(|ŷ − y|/(1 + m))``, m = min(ŷ, y): ``|log((1 + ŷ)/(1 + y))| = log((1 + M)/(1 + m))``
    with M the larger one. The argument is ≥ 0, where log1p's condition number is ≤ 1, and
    carries three roundings (the difference, 1 + m, the quotient), so d's relative error is a
    few ulps for every pair, with one transcendental; subtracting two rounded logs would
    cancel when ŷ ≈ y. No guard is needed: log1p's argument is never near −1 (as (ŷ − y)/(1 + y)
    is, rounding to −1 for ŷ = 0, y ≥ 2²⁴ in float32), and at ŷ = y, where ``|·|`` and min have a
    kink, d = 0 multiplies the gradient.
    """
    if epsilon is not None:
        y_true, y_pred = xp.maximum(y_true, epsilon), xp.maximum(y_pred, epsilon)
    d = xp.log1p(xp.abs(y_pred - y_true) / (1.0 + xp.minimum(y_true, y_pred)))
    return d * d


def _check_poisson(xp, y_true, y_pred, *, log_input, **_):
    counts = v.Rule("y_true", y_true, "≥ 0 (counts)", lower=0.0)
    if log_input:
        return (counts,)
    return counts, v.Rule("y_pred", y_pred, "a rate ≥ 0 (pass log_input=True for log-rates)", lower=0.0)


def _poisson_reference(y_true, y_pred, *, log_input, epsilon, full, m):
    rate = m.exp(y_pred) if log_input else y_pred
    terms = (rate, -(0 if y_true == 0 else y_true * m.log(rate if log_input else rate + epsilon)))
    if full and y_true > 1:  # Stirling's log y! ≈ y log y − y + ½ log(2πy), for counts above 1 only
        terms += (y_true * m.log(y_true), -y_true, m.log(2 * m.pi * y_true) / 2)
    return terms


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@loss(
    family="regression",
    domain=domains.counts_and_rates(),
    reference=_poisson_reference,
    checks=_check_poisson,
    conditions={"epsilon": ">= 0"},
    variants=({"log_input": True}, {"epsilon": 1e-7}, {"full": True}, {"log_input": True, "full": True},
              {"epsilon": 1e-8, "full": True}),
    conventions=(
        Convention("torch.nn.functional.poisson_nll_loss", {"log_input": True, "epsilon": 1e-8}),
        Convention("keras.losses.Poisson", {"epsilon": 1e-7}, when={"log_input": False, "full": False},
                   per_sample=True),
    ),
)
def poisson(y_true, y_pred, *, log_input=False, epsilon=0.0, full=False, xp):
    """Poisson negative log-likelihood without the log(y!) term: λ − y·log(λ + ε), ε = ``epsilon``.

    ``y_pred`` is the rate λ ≥ 0 (Keras's convention) or, with ``log_input=True``, the
    log-rate x (PyTorch's default): exp(x) − y·x, stable for any x (``epsilon`` unused, as in
    PyTorch). 0·log 0 is 0. Keras adds ε = 1e-7, PyTorch (rates) 1e-8. ``full`` adds
    PyTorch's ``full=True`` term, Stirling's approximation of log(y!): y·log y − y + ½·log(2πy)
    for y > 1, 0 for y ≤ 1 (where log 1! = log 0! = 0; the term jumps by −0.081 at y = 1). It
    does not depend on the prediction: it changes the loss's value, not its gradient in y_pred.
    """
    out = _poisson_rate_terms(y_true, y_pred, log_input, epsilon, xp)
    if full:
        big = y_true > 1.0
        y = xp.where(big, y_true, 2.0)  # log's argument > 1 in both branches: no NaN gradient
        out = out + xp.where(big, y * xp.log(y) - y + (0.5 * xp.log(y) + _HALF_LOG_2PI), 0.0)
    return out


def _poisson_rate_terms(y_true, y_pred, log_input, epsilon, xp):
    """λ − y·log(λ + ε), or exp(x) − y·x from the log-rate x."""
    if log_input:
        return xp.exp(y_pred) - y_true * y_pred
    if epsilon == 0:
        # y·log λ with 0·log 0 = 0, no NaN in the value or gradient: log's argument is
        # max(λ, tiny − y), tiny the smallest normal number. For y, λ ≥ 0 (checked) it is λ
        # except where both are 0 (or subnormal): tiny, so d/dy = −log(tiny) there, finite; λ = 0
        # < y still gives +inf. Arithmetic rather than xlogy's mask and where: eager torch's
        # comparisons and where cost ~4 additions each.
        tiny = xp.finfo(y_pred.dtype).smallest_normal
        return y_pred - y_true * xp.log(xp.maximum(y_pred, tiny - y_true))
    # log(λ + ε) as log(s) + e/s, s = fl(λ + ε), e = λ + ε − s exactly (Fast2Sum: the larger
    # addend first), so that the rounding of s does not cost all relative accuracy of a log
    # near 0 (λ ≈ 1 − ε). For ε ≤ 2⁻¹⁰, λ is the larger wherever s > ½; below, |log s| > log 2
    # and the ~ulp correction is harmless. e carries no gradient (max and min split ties
    # differently between frameworks); its own is 0, its size ≤ ulp(s)/2.
    s = y_pred + epsilon
    if epsilon <= 2.0**-10:
        e = (y_pred - s) + epsilon
    else:
        e = (xp.maximum(y_pred, epsilon) - s) + xp.minimum(y_pred, epsilon)
    return y_pred - y_true * (xp.log(s) + xp.stop_gradient(e) / s)


mse = mean_squared_error
mae = mean_absolute_error
msle = mean_squared_log_error
mape = mean_absolute_percentage_error
