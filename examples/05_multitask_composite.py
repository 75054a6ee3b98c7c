"""A multi-task loss with composite
================================

The article's multi-task loss, written once with ``multiloss.composite``, on every framework.

A diagnosis model outputs a logit (is the case positive?) and a severity (regression). The loss
is 1.0 × BCE, with positives weighted 2 so that a missed positive costs twice a false alarm,
plus 0.5 × MSE of the severity over the positive cases only. Two choices differ from the
article's hand-written module, both so that the same code runs under every autodiff and compiler:

- ``pos_weight=2`` doubles every positive's term (PyTorch's ``BCEWithLogitsLoss(pos_weight=)``)
  rather than only positives scored below 0.5, whose loss would jump as a score crosses 0.5;
- "positives only" is a ``sample_weight`` mask, not ``if mask.any()`` and boolean indexing:
  a batch without positives gets a regression term of exactly 0, with zero gradients.

Run: python examples/05_multitask_composite.py
"""

import numpy as np
from _frameworks import agree, frameworks, table

import multiloss as ml

loss = ml.composite(
    classification=(lambda b: ml.binary_cross_entropy(b["label"], b["logit"], from_logits=True, pos_weight=2.0), 1.0),
    regression=(lambda b: ml.mse(b["severity"], b["severity_pred"], sample_weight=b["label"]), 0.5),
)


def batch(n=32, seed=0, positives=True):
    """A seeded NumPy batch: labels, logits, true and predicted severities."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n).astype(float) if positives else np.zeros(n)
    return {"label": label, "logit": rng.normal(0, 2, n), "severity": rng.normal(0, 1, n),
            "severity_pred": rng.normal(0, 1, n)}


def main():
    for title, data in (("32 cases, some positive", batch()), ("32 cases, none positive", batch(positives=False))):
        print(f"\n{title} ({int(data['label'].sum())} positives)")
        results = {}
        for name, to_array in frameworks():
            total, parts = loss({key: to_array(value) for key, value in data.items()})
            results[name] = [float(total), float(parts["classification"]), float(parts["regression"])]
        table(["framework", "total", "classification", "regression"],
              [(name, *values) for name, values in results.items()])
        agree(results)


if __name__ == "__main__":
    main()
