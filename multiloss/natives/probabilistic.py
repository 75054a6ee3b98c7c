"""The frameworks' Gaussian NLL and generalized KL divergence (:mod:`multiloss.losses.probabilistic`),
and their slices for ``multiloss plot``: the variance, on a log axis; the prediction q of one
class (its log q by default; q itself, on a log axis, with ``log_input=False``)."""

from __future__ import annotations

import numpy as np

from multiloss.losses import probabilistic as losses
from multiloss.natives import Native, register, unreduced
from multiloss.plot import POINTS, Sweep

_NONE = "Keras, optax and scikit-learn have no Gaussian NLL loss (use a distribution's log_prob)."


def _variance_sweep(params, x_range):
    lo, hi = x_range or (1e-8, 1e2)
    if lo <= 0:
        raise ValueError(f"--range {lo:g} {hi:g}: the variance axis is logarithmic; give a range above 0")
    x = np.union1d(np.geomspace(lo, hi, POINTS), [v for v in (params["eps"], 1.0) if lo <= v <= hi])
    cases = {f"mean − y_true = {e:g}": (lambda xp, x, e=e: {"y_true": xp.zeros_like(x), "mean": xp.full_like(x, e),
                                                            "var": x}) for e in (0.0, 1.0)}
    return Sweep("variance var", "var", x, cases, scale="log", marks=(params["eps"], 1.0))


register(
    losses.gaussian_nll,
    unreduced("torch.nn.functional.gaussian_nll_loss", {"full": "full", "eps": "eps"},
              signature="torch.nn.functional.gaussian_nll_loss(input, target, var, full=False, eps=1e-06, "
                        "reduction='mean')",
              safeguards="var clamped to ≥ eps = 1e-6 (the gradient passes through); negative var raises",
              label_format="target: input's shape; var: input's shape, or one per sample",
              notes=(("PyTorch's docstring says eps is added to var; the code clamps it, as we do "
                      "(pytorch#190058)."), _NONE)),
    absent=dict.fromkeys(("keras", "optax", "sklearn"), _NONE),
    sweep=_variance_sweep,
)


_NO_GENERALIZED_KL = ("PyTorch, Keras and scikit-learn have no KL divergence of unnormalized measures "
                      "(PyTorch's kl_div is Σ p log(p/q) without the −p + q terms).")
_OPTAX_MEASURES = "targets: p ≥ 0, log_predictions: log q; neither need sum to 1"


def _measure_sweep(params, x_range):
    """One class (rows of length 1): the prediction log q, or q on a log axis without
    ``log_input``, for the targets p = 1 and p = 0."""
    log_input = params["log_input"]
    lo, hi = x_range or ((-6.0, 4.0) if log_input else (1e-3, 1e2))
    if not log_input and lo <= 0:
        raise ValueError(f"--range {lo:g} {hi:g}: the prediction axis is logarithmic; give a range above 0")
    x = np.union1d(np.linspace(lo, hi, POINTS) if log_input else np.geomspace(lo, hi, POINTS),
                   [v for v in ((0.0,) if log_input else (1.0,)) if lo <= v <= hi])
    cases = {f"y_true = {p:g}": (lambda xp, x, p=p: {"y_true": xp.full_like(xp.reshape(x, (-1, 1)), p),
                                                     "y_pred": xp.reshape(x, (-1, 1))}) for p in (1.0, 0.0)}
    word = "log q" if log_input else "q"
    return Sweep(f"{word} (one class's y_pred)", word, x, cases, scale="linear" if log_input else "log",
                 marks=(0.0,) if log_input else (1.0,))


register(
    losses.generalized_kl_divergence,
    Native("optax.losses.generalized_kl_divergence",
           signature="optax.losses.generalized_kl_divergence(log_predictions, targets, axis=-1, where=None)",
           safeguards="none: a target of 0 contributes q only", label_format=_OPTAX_MEASURES,
           notes=("optax's argument order is (log_predictions, targets): log q first.",
                  "A −inf log q where p = 0 gives NaN in optax (0·−inf), 0 here.")),
    Native("optax.losses.convex_kl_divergence", when={"log_input": True},
           signature="optax.losses.convex_kl_divergence(log_predictions, targets, axis=-1, where=None)",
           safeguards="none", label_format=_OPTAX_MEASURES,
           notes=("Deprecated since optax 0.2.4: it calls generalized_kl_divergence (our alias "
                  "convex_kl_divergence).",)),
    absent=dict.fromkeys(("torch", "keras", "sklearn"), _NO_GENERALIZED_KL),
    sweep=_measure_sweep,
)
