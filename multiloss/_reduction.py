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

Nothing here needs a static size: inside ``tf.function`` a dimension may be unknown (None)
until run time, and an empty batch may still come then.
"""

from __future__ import annotations


def expand_weight(xp, w, ndim: int):
    """Append trailing axes so a per-sample weight lines up with per-element losses."""
    k = ndim - w.ndim
    return w[(...,) + (None,) * k] if k > 0 else w  # (indexing needs none of w's sizes, unlike a reshape)


def reduce(xp, loss, reduction: str, sample_weight=None, item_weight=None):
    """Reduce the per-item ``loss`` (already validated arguments).

    ``item_weight`` holds weights the loss has already applied to its items (class weights,
    0 for ignored labels): they stay out of the numerator but count in the divisor of
    ``"mean"``, which is then Σ wℓ / Σ w, PyTorch's rule for weighted and ignored targets.
    """
    if sample_weight is None and item_weight is None:
        if reduction == "none":
            return loss
        shape = tuple(loss.shape)
        if reduction == "sum" or 0 in shape:  # an empty mean is 0, as Σw = 0 below
            return xp.sum(loss)
        if None in shape:  # a size known only at run time, which may be 0
            total = xp.sum(loss)
            return total / xp.maximum(xp.sum(xp.ones_like(loss)), 1.0)
        return xp.mean(loss)  # "mean" and "sum_over_batch_size" agree without weights
    sw = None if sample_weight is None else expand_weight(xp, sample_weight, loss.ndim)
    weighted = loss if sw is None else loss * sw
    if reduction == "none":
        return weighted
    if reduction == "sum" or (reduction == "sum_over_batch_size" and 0 in tuple(loss.shape)):  # empty: 0
        return xp.sum(weighted)
    if reduction == "sum_over_batch_size":
        if None in tuple(loss.shape):  # a size known only at run time, which may be 0
            return xp.sum(weighted) / xp.maximum(xp.sum(xp.ones_like(weighted)), 1.0)
        return xp.mean(weighted)
    w = sw if item_weight is None else item_weight if sw is None else item_weight * sw
    shape = tuple(loss.shape)
    if None in shape:  # sizes known only at run time: broadcast by arithmetic
        w = w + xp.zeros_like(loss)
    elif tuple(w.shape) != shape:
        w = xp.broadcast_to(w, shape)
    denominator = xp.sum(w)
    # Σw = 0 means Σwℓ = 0 too; dividing by 1 there gives 0 with finite gradients.
    return xp.sum(weighted) / xp.where(denominator == 0, 1.0, denominator)
