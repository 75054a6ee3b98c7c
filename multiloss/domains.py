"""Input domains: generators of valid inputs for each loss, with its edge cases.

A domain is ``domain(rng, shape, params) -> {input name: NumPy array}`` (float64, or int64
for class labels), each input of the shape the loss expects for items of ``shape``. The test matrix,
the ``multiloss`` command and the benchmarks draw their inputs from the registered domain,
never from hand-typed arrays. Edge cases come first: kinks hit exactly, errors past where a
naive formula overflows, zeros. Values are multiples of 1/8 where a kink must be hit exactly,
so that the kink survives rounding to float16 and bfloat16.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["counts_and_rates", "nonnegative_pairs", "real_pairs"]


def real_pairs(*kink_params: str, big: float = 100.0):
    """y_true and y_pred on the real line; the error hits 0, ±(each kink parameter) and ±big."""

    def domain(rng, shape, params):
        n = math.prod(shape)
        kinks = [0.0] + [s * params[k] for k in kink_params for s in (1.0, -1.0)] + [big, -big]
        y_true = np.round(rng.normal(0.0, 2.0, n) * 8) / 8
        error = rng.normal(0.0, 1.5, n)
        error[: len(kinks)] = kinks[:n]
        return {"y_true": y_true.reshape(shape), "y_pred": (y_true + error).reshape(shape)}

    return domain


def nonnegative_pairs():
    """y_true, y_pred ≥ 0 (log-scale targets), with exact zeros on either side."""

    def domain(rng, shape, params):
        n = math.prod(shape)
        y_true, y_pred = rng.exponential(2.0, n), rng.exponential(2.0, n)
        y_true[:2], y_pred[1:3] = 0.0, 0.0
        return {"y_true": y_true.reshape(shape), "y_pred": y_pred.reshape(shape)}

    return domain


def counts_and_rates():
    """Poisson counts y_true ≥ 0 and a rate (or log-rate when ``log_input``) prediction.

    Includes y = 0 with rate 0, where y·log(rate) is 0 (not NaN)."""

    def domain(rng, shape, params):
        n = math.prod(shape)
        rate = rng.exponential(3.0, n)
        y_true = rng.poisson(rate).astype(np.float64)
        y_pred = rng.exponential(3.0, n)
        y_true[:1], y_pred[:1] = 0.0, 0.0
        if params["log_input"]:
            y_pred[1:] = np.log(y_pred[1:])
            y_pred[:1] = -20.0
        return {"y_true": y_true.reshape(shape), "y_pred": y_pred.reshape(shape)}

    return domain
