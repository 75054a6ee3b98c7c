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

__all__ = [
    "binary",
    "categorical",
    "counts_and_rates",
    "distributions",
    "nonnegative_pairs",
    "real_pairs",
    "signs",
    "sparse",
]

#: Logits at the edges the losses must survive: float16's largest value, ±1e4, 0.
EXTREME_LOGITS = (65504.0, -65504.0, 1e4, -1e4, 0.0)


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


def binary():
    """Binary labels (mostly 0/1, some soft) and a probability or, with ``from_logits``, a
    logit; logits include EXTREME_LOGITS for both labels. Probabilities stay inside
    (0.005, 0.995): exact 0 and 1 are tested against their documented values separately."""

    def domain(rng, shape, params):
        n = math.prod(shape)
        y_true = rng.integers(0, 2, n).astype(np.float64)
        y_true[n // 2 :: 7] = 0.3
        if params["from_logits"]:
            y_pred = rng.normal(0.0, 3.0, n)
            k = min(n, 2 * len(EXTREME_LOGITS))
            y_pred[:k] = (EXTREME_LOGITS * 2)[:k]
            y_true[:k] = ([1.0] * len(EXTREME_LOGITS) + [0.0] * len(EXTREME_LOGITS))[:k]
        else:
            y_pred = rng.uniform(0.005, 0.995, n)
        return {"y_true": y_true.reshape(shape), "y_pred": y_pred.reshape(shape)}

    return domain


def _rows(rng, shape, params, scores=False):
    """Class scores of ``shape`` (classes last): logits with one extreme row, or softmax
    probabilities (strictly positive)."""
    logits = rng.normal(0.0, 2.0, shape)
    if scores or params.get("from_logits"):
        if len(shape) > 1 and shape[0] > 1 and shape[-1] > 1:
            logits[(0,) * (len(shape) - 1)][:2] = (1e4, -1e4)
        return logits
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def categorical(scores=False):
    """One-hot targets (one soft row) over the last axis, and logits or probabilities."""

    def domain(rng, shape, params):
        labels = rng.integers(0, shape[-1], shape[:-1]) if shape else np.zeros(())
        y_true = (np.arange(shape[-1]) == labels[..., None]).astype(np.float64) if shape else np.ones(())
        if len(shape) > 1 and shape[0] > 1:
            y_true[(1,) * (len(shape) - 1)] = 1.0 / shape[-1]  # a soft row
        return {"y_true": y_true, "y_pred": _rows(rng, shape, params, scores)}

    return domain


def sparse():
    """Integer labels (``y_pred``'s shape without its last axis) and logits or probabilities;
    with ``ignore_index`` some labels equal it."""

    def domain(rng, shape, params):
        labels = rng.integers(0, shape[-1], shape[:-1])
        return {"y_true": labels.astype(np.int64), "y_pred": _rows(rng, shape, params)}

    return domain


def signs():
    """Labels ±1 and scores, with margins y·ŷ = 1 hit exactly (the hinge's kink)."""

    def domain(rng, shape, params):
        n = math.prod(shape)
        y_true = rng.choice([-1.0, 1.0], n)
        y_pred = rng.normal(0.0, 1.5, n)
        y_pred[:4] = y_true[:4]
        return {"y_true": y_true.reshape(shape), "y_pred": y_pred.reshape(shape)}

    return domain


def distributions():
    """Target distributions over the last axis, with exact zeros, and a predicted
    distribution (strictly positive) or logits."""

    def domain(rng, shape, params):
        y_true = rng.dirichlet(np.ones(shape[-1]), shape[:-1]) if shape[-1] else np.zeros(shape)
        y_true[..., 0] = 0.0
        y_true /= np.maximum(y_true.sum(axis=-1, keepdims=True), 1e-300)
        return {"y_true": y_true, "y_pred": _rows(rng, shape, params)}

    return domain
