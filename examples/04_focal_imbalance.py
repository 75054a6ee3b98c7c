"""Focal loss against BCE on an imbalanced batch
=============================================

Focal loss against BCE on a batch with 5% positives, on every installed framework.

The batch (seeded) is what a half-trained detector sees: 950 negatives, most of them already
easy (logits around −3), and 50 positives it still mostly misses (logits around −1). Under BCE
the easy negatives, by their sheer number, carry a good part of the loss; focal loss (α = 0.25,
γ = 2) multiplies each sample's BCE by α_t·(1 − p_t)^γ, which is below 0.0075 once p_t > 0.9,
so they all but vanish and the hard samples carry the loss.

Run: python examples/04_focal_imbalance.py
"""

import numpy as np
from _frameworks import agree, frameworks, table

import multiloss as ml

ALPHA, GAMMA = 0.25, 2.0


def batch(n_pos=50, n_neg=950, seed=42):
    """(labels, logits): positives first, float64 NumPy."""
    rng = np.random.default_rng(seed)
    logits = np.concatenate([rng.normal(-1.0, 1.5, n_pos), rng.normal(-3.0, 1.5, n_neg)])
    return np.concatenate([np.ones(n_pos), np.zeros(n_neg)]), logits


def groups(labels, logits):
    """Named boolean masks over the batch, by label and by how sure the model is of negatives."""
    p = 1.0 / (1.0 + np.exp(-logits))
    neg = labels == 0
    return {"positives": labels == 1, "hard negatives (p ≥ 0.5)": neg & (p >= 0.5),
            "medium negatives": neg & (p >= 0.1) & (p < 0.5), "easy negatives (p < 0.1)": neg & (p < 0.1)}


def main():
    labels, logits = batch()
    print(f"{labels.size} samples, {labels.mean():.0%} positive; focal α = {ALPHA}, γ = {GAMMA}\n")
    per_sample = {}
    for name, to_array in frameworks():
        y, x = to_array(labels), to_array(logits)
        bce = ml.binary_cross_entropy(y, x, from_logits=True, reduction="none")
        focal = ml.binary_focal(y, x, alpha=ALPHA, gamma=GAMMA, from_logits=True, reduction="none")
        per_sample[name] = np.stack([np.asarray(bce), np.asarray(focal)])

    pos = labels == 1
    table(["framework", "BCE", "focal", "pos. share (BCE)", "pos. share (focal)"],
          [(name, float(b.mean()), float(f.mean()), f"{b[pos].sum() / b.sum():.1%}", f"{f[pos].sum() / f.sum():.1%}")
           for name, (b, f) in per_sample.items()])
    agree({name: v.ravel() for name, v in per_sample.items()}, atol=1e-8)

    b, f = next(iter(per_sample.values()))
    print("\nShare of the batch's loss by group, and how much focal shrinks each group's loss:")
    table(["group", "count", "BCE", "focal", "BCE / focal"],
          [(group, int(m.sum()), f"{b[m].sum() / b.sum():.1%}", f"{f[m].sum() / f.sum():.1%}",
            f"{b[m].sum() / f[m].sum():.0f}×")
           for group, m in groups(labels, logits).items()])


if __name__ == "__main__":
    main()
