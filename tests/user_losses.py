"""Losses written by hand the way the article writes them, for ``multiloss compare --against``.

``focal_loss`` is the article's α-balanced focal loss on logits, stable (BCE-with-logits and
sigmoid); ``article_focal_loss`` is it verbatim (float32 inside, whatever the inputs);
``naive_focal_loss`` takes the log of the sigmoid itself (inf and NaN at extreme logits);
``swapped_alpha_focal_loss`` and ``wrong_axis_focal_loss`` have planted bugs (α on the wrong
class, the mean over the wrong axis). ``MultiTaskLoss`` is the article's multi-task loss with
its false-negative penalty as ``pos_weight`` (BCE over every sample plus MSE over the
positives only), checked against ``multitask`` (:func:`register_multitask`). ``huber_loss``
is the article's NumPy Huber loss.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import multiloss as ml
from multiloss import domains


def article_focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    """The article's focal loss, verbatim: its ``targets.type(torch.float32)`` computes float64
    inputs in float32."""
    bce_loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    probs = torch.sigmoid(logits)
    targets = targets.type(torch.float32)
    p_t = probs * targets + (1 - probs) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    focal_weight = alpha_t * (1 - p_t) ** gamma
    return (focal_weight * bce_loss).mean()


def _focal_terms(logits, targets, alpha, gamma):
    bce_loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    probs = torch.sigmoid(logits)
    targets = targets.to(logits.dtype)
    p_t = probs * targets + (1 - probs) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return alpha_t * (1 - p_t) ** gamma * bce_loss


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    """The article's focal loss, with the targets in the logits' dtype."""
    return _focal_terms(logits, targets, alpha, gamma).mean()


def wrong_axis_focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    """focal_loss with a planted bug: the mean over the first axis only."""
    return _focal_terms(logits, targets, alpha, gamma).mean(dim=0)


def naive_focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    """The same, with BCE as −[y·log σ(x) + (1 − y)·log(1 − σ(x))]: log(0) once σ saturates."""
    probs = torch.sigmoid(logits)
    bce_loss = -(targets * torch.log(probs) + (1 - targets) * torch.log(1 - probs))
    p_t = probs * targets + (1 - probs) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * (1 - p_t) ** gamma * bce_loss).mean()


def swapped_alpha_focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    """The article's focal loss with a planted bug: α applied to the negative class."""
    bce_loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    probs = torch.sigmoid(logits)
    p_t = probs * targets + (1 - probs) * (1 - targets)
    alpha_t = alpha * (1 - targets) + (1 - alpha) * targets
    return (alpha_t * (1 - p_t) ** gamma * bce_loss).mean()


def huber_loss(y_true, y_pred, delta=1.0):
    """The article's NumPy Huber loss, verbatim."""
    error = y_true - y_pred
    is_small_error = np.abs(error) <= delta
    squared_loss = 0.5 * error**2
    linear_loss = delta * (np.abs(error) - 0.5 * delta)
    return np.mean(np.where(is_small_error, squared_loss, linear_loss))


class MultiTaskLoss(nn.Module):
    """The article's CustomWeightedLoss with the false-negative penalty as BCE's pos_weight:
    BCE over every sample plus ``reg_weight`` × the MSE of the positive samples only."""

    def __init__(self, cls_weight=1.0, reg_weight=0.5, false_negative_penalty=2.0):
        super().__init__()
        self.cls_weight = cls_weight
        self.reg_weight = reg_weight
        self.fn_penalty = false_negative_penalty

    def forward(self, cls_logits, reg_pred, cls_targets, reg_targets):
        cls_loss = F.binary_cross_entropy_with_logits(
            cls_logits, cls_targets, pos_weight=cls_logits.new_tensor(self.fn_penalty))
        positive_mask = cls_targets == 1
        if positive_mask.any():
            reg_loss = F.mse_loss(reg_pred[positive_mask], reg_targets[positive_mask])
        else:
            reg_loss = torch.tensor(0.0, device=cls_logits.device)
        total_loss = self.cls_weight * cls_loss + self.reg_weight * reg_loss
        return total_loss, cls_loss, reg_loss


def _multitask_domain(rng, shape, params):
    """A batch of shape[0] samples: 0/1 labels, logits (extreme ones first), regression targets
    and predictions."""
    n = shape[0]
    batch = domains.binary()(rng, (n,), {"from_logits": True})
    label = np.round(batch["y_true"])  # hard labels: the article masks with label == 1
    return {"label": label, "logit": batch["y_pred"], "target": rng.normal(0.0, 1.0, n),
            "value": rng.normal(0.0, 1.5, n)}


def _multitask_reference(label, logit, target, value, *, pos_weight, reg_weight, m):
    """Per sample: w·y·softplus(−x) + (1 − y)·softplus(x), plus the sample's share of
    reg_weight × the positives' MSE (n / number of positives × y·(value − target)²)."""
    n, positives = len(label), sum(label)
    return [
        (pos_weight * y * m.log(1 + m.exp(-x)), (1 - y) * m.log(1 + m.exp(x)),
         reg_weight * y * (v - t) ** 2 * n / positives if positives else 0)
        for y, x, t, v in zip(label, logit, target, value)
    ]



def register_multitask():
    """Register ``multitask``, our equivalent of MultiTaskLoss: its mean is the article's total
    (one value per sample, each depending on the batch's number of positives)."""

    @ml.loss(labels=("label",), domain=_multitask_domain, reference=_multitask_reference, kind="batch")
    def multitask(label, logit, target, value, *, pos_weight=2.0, reg_weight=0.5, xp):
        """BCE with pos_weight plus reg_weight × the MSE of the positives, per sample."""
        bce = pos_weight * label * xp.softplus(-logit) + (1.0 - label) * xp.softplus(logit)
        share = math.prod(label.shape) / xp.maximum(xp.sum(label), 1.0)
        return bce + reg_weight * label * (value - target) ** 2 * share

    return multitask
