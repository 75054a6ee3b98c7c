"""Ranking losses: listwise softmax cross-entropy over relevance labels, one value per list.

A list is the last axis: ``y_true`` holds each item's relevance label (graded, ≥ 0) and
``y_pred`` its score; the leading axes are lists (queries). ``where`` marks the items that
belong to their list (padding outside it), ``weights`` weighs each item's label.
"""

from __future__ import annotations

import math

from multiloss import _validation as v
from multiloss import domains
from multiloss.registry import Convention, loss

__all__ = ["listwise_softmax"]


def _list_shapes(xp, arrays, params):
    y_true, y_pred = arrays["y_true"], arrays["y_pred"]
    v.check_same_shape(xp, y_true, y_pred, "y_true", "y_pred")
    if y_pred.ndim == 0:
        raise ValueError(f"`y_pred` needs a list axis (the last); got a 0-D array ({xp.backend}).")
    for name in ("where", "weights"):
        if params[name] is not None:
            v.check_same_shape(xp, y_pred, params[name], "y_pred", name)


def _check_relevance(xp, y_true, y_pred, **_):
    return (v.Rule("y_true", y_true, "a relevance label ≥ 0", lower=0.0),)


def _listwise_softmax_reference(y_true, y_pred, *, where, weights, m):
    """−Σ_i y_i·log(e^{s_i}/Σ_j e^{s_j}) over one list, each term y_i·log Σ_j e^{s_j − s_i} (≥ 0)."""
    del where, weights  # (the matrix checks the defaults; masks and weights have their own tests)
    top = max(y_pred)
    return tuple(y * (m.log(m.fsum(m.exp(t - top) for t in y_pred)) + top - s) for y, s in zip(y_true, y_pred))


def _neg_log_softmax(xp, x):
    """−log softmax(x) over the last axis, accurate where it is near 0: log1p(r) + (m − x),
    m the (gradient-stopped) maximum and r = Σ e^{x − m} − 1 summed without the 1 (each other
    maximum's 1 counted exactly, the first's e^{x − m} − 1 as expm1, 0 with derivative 1), where
    log Σ e^{x − m} would round 1 + r first (a list whose top item has p = 0.99: 50 ulps)."""
    m = xp.max(x, axis=-1, keepdims=True)
    shifted = x - xp.stop_gradient(m)
    top = shifted == 0.0
    ties = xp.sum(xp.astype(top, x.dtype), axis=-1, keepdims=True) - 1.0
    rest = xp.sum(xp.where(top, xp.expm1(xp.where(top, shifted, 0.0)), xp.exp(shifted)), axis=-1, keepdims=True)
    return xp.log1p(rest + ties) - shifted


@loss(
    family="ranking",
    domain=domains.relevance(),
    reference=_listwise_softmax_reference,
    kind="row",
    shapes=_list_shapes,
    conditions={"where": "array or None", "weights": "array or None"},
    checks=_check_relevance,
    conventions=(Convention("optax.losses.ranking_softmax_loss"),),
)
def listwise_softmax(y_true, y_pred, *, where=None, weights=None, xp):
    """Listwise softmax cross-entropy over relevance labels: −Σ_i y_i·log softmax(s)_i per list.

    Cao et al. 2007 (ListNet, top-one probabilities) and Bruch et al. 2019; optax's
    ``ranking_softmax_loss``. The list is the last axis: ``y_true`` relevance labels (≥ 0,
    checked in eager mode; graded labels count as many times), ``y_pred`` scores. Labels are
    not normalized to sum to 1 per list (optax's and the formula's convention; TF-Ranking's
    SoftmaxLoss divides by Σy): a list without a relevant item gives 0.

    ``where`` (an array of ``y_pred``'s shape, nonzero or True for the items in the list) drops
    the other items from the softmax and the sum, their values unread (NaN or not); a list with
    no item in it gives 0 and counts for nothing in the ``"mean"`` (optax's rule). ``weights``
    (``y_pred``'s shape, ≥ 0) multiply each item's label.
    """
    labels = y_true if weights is None else y_true * weights
    if where is None:
        return xp.sum(labels * _neg_log_softmax(xp, y_pred), axis=-1)
    valid = where != 0
    listed = xp.any(valid, axis=-1)
    # masked items leave the softmax (−inf); a list with none keeps finite scores (0), whose
    # log-softmax, unused, has no NaN to send back through the gradient
    scores = xp.where(valid, y_pred, xp.where(listed[..., None], -math.inf, xp.zeros_like(y_pred)))
    nll = xp.where(valid, _neg_log_softmax(xp, scores), 0.0)  # no 0·inf in the value or gradient
    per_list = xp.sum(xp.where(valid, labels, 0.0) * nll, axis=-1)
    count = xp.astype(listed, per_list.dtype)
    return per_list * count, count
