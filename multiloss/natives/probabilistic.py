"""The frameworks' Gaussian NLL (:mod:`multiloss.losses.probabilistic`), and its slice for
``multiloss plot``: the variance, on a log axis."""

from __future__ import annotations

import numpy as np

from multiloss.losses import probabilistic as losses
from multiloss.natives import register, unreduced
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
