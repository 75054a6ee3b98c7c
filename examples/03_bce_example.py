"""Binary cross-entropy of four predictions
========================================

Binary cross-entropy of four predictions, per sample and averaged, on every installed framework.

The mean of −log p_t (p_t = p for label 1, 1 − p for label 0) over y = [1, 0, 1, 1],
p = [0.9, 0.1, 0.8, 0.4] is 0.33754; the one unsure positive (p = 0.4) carries most of it. The
frameworks' own BCEs (PyTorch, Keras) give the same number when installed.

Run: python examples/03_bce_example.py
"""

import numpy as np
from _frameworks import agree, frameworks, table

import multiloss as ml

y_true = np.array([1.0, 0.0, 1.0, 1.0])
y_pred = np.array([0.9, 0.1, 0.8, 0.4])


def natives():
    """The frameworks' own mean BCE on the same data, where installed."""
    found = {}
    try:
        import torch
        import torch.nn.functional as F

        found["torch F.binary_cross_entropy"] = float(F.binary_cross_entropy(
            torch.tensor(y_pred, dtype=torch.float32), torch.tensor(y_true, dtype=torch.float32)))
    except ImportError:
        pass
    try:
        import keras

        found["keras.losses.binary_crossentropy"] = float(keras.losses.binary_crossentropy(
            y_true.astype(np.float32), y_pred.astype(np.float32)))
    except ImportError:
        pass
    return found


def main():
    print(f"y_true = {y_true.tolist()}\ny_pred = {y_pred.tolist()}\n")
    results = {}
    for name, to_array in frameworks():
        t, p = to_array(y_true), to_array(y_pred)
        per_sample = np.asarray(ml.binary_cross_entropy(t, p, reduction="none"))
        results[name] = [float(ml.binary_cross_entropy(t, p)), *per_sample.tolist()]
    table(["framework", "BCE (mean)", *(f"sample {i}" for i in range(len(y_true)))],
          [(name, *values) for name, values in results.items()])
    agree(results)
    native = natives()
    if native:
        print("\nThe frameworks' own BCE, float32:")
    for name, value in native.items():
        print(f"{name:<34} {value:.7g}")
    _, *per_sample = next(iter(results.values()))
    print(f"\nThe positive predicted at 0.4 costs −log 0.4 = {per_sample[-1]:.4f}, "
          f"{per_sample[-1] / sum(per_sample):.0%} of the total.")


if __name__ == "__main__":
    main()
