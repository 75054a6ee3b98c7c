"""Reduction and sample weights, in one place.

``reduction``:
- ``"none"``: the per-item losses (times ``sample_weight`` when given);
- ``"sum"``: Σ w·ℓ;
- ``"mean"``: the mean, and with ``sample_weight`` the weighted mean Σ w·ℓ / Σ w (scikit-learn,
  PyTorch's class weights, Keras's ``"mean_with_sample_weight"``). A weight that sums to 0, or
  an empty batch, gives exactly 0 with zero gradients, never 0/0 (PyTorch gives NaN);
- ``"sum_over_batch_size"``: Σ w·ℓ / (number of elements), Keras's default, which counts items
  whose weight is 0.

A ``sample_weight`` with only the loss's leading axes (one weight per sample) applies to every
element of that sample, so ``"mean"`` equals Keras's per-sample mean then weighted mean.
"""

from __future__ import annotations


def expand_weight(xp, w, ndim: int):
    """Append trailing axes so a per-sample weight lines up with per-element losses."""
    return xp.reshape(w, tuple(w.shape) + (1,) * (ndim - w.ndim)) if w.ndim < ndim else w


def reduce(xp, loss, reduction: str, sample_weight=None, item_weight=None):
    """Reduce the per-item ``loss`` (already validated arguments).

    ``item_weight`` holds weights the loss has already applied to its items (class weights,
    0 for ignored labels): they stay out of the numerator but count in the divisor of
    ``"mean"``, which is then Σ wℓ / Σ w, PyTorch's rule for weighted and ignored targets.
    """
    if sample_weight is None and item_weight is None:
        if reduction == "none":
            return loss
        if reduction == "sum" or 0 in tuple(loss.shape):  # an empty mean is 0, as Σw = 0 below
            return xp.sum(loss)
        return xp.mean(loss)  # "mean" and "sum_over_batch_size" agree without weights
    sw = None if sample_weight is None else expand_weight(xp, sample_weight, loss.ndim)
    weighted = loss if sw is None else loss * sw
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return xp.sum(weighted)
    if reduction == "sum_over_batch_size":
        return xp.mean(weighted)
    w = sw if item_weight is None else item_weight if sw is None else item_weight * sw
    shape = tuple(loss.shape)
    denominator = xp.sum(w if tuple(w.shape) == shape else xp.broadcast_to(w, shape))
    # Σw = 0 means Σwℓ = 0 too; dividing by 1 there gives 0 with finite gradients.
    return xp.sum(weighted) / xp.where(denominator == 0, 1.0, denominator)
