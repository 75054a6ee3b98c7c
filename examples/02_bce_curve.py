"""Binary cross-entropy near p = 0: multiloss, PyTorch and Keras
=============================================================

The binary cross-entropy of a positive label as the predicted probability p goes from 0 to 1.

The loss is −log p: near 0 for a confident right answer, without bound for a confident wrong
one, until the implementation steps in at p ≈ 0. multiloss takes the log at max(p, tiny), tiny
being the dtype's smallest normal number (float32: 1.2e-38, so p = 0 costs 87.34; float64:
708.40). Keras clips p to [1e-7, 1 − 1e-7] (16.12 from p = 1e-7 down); PyTorch clamps the log
at −100 (100 at p = 0). The native columns appear when Keras / PyTorch are installed.

Run: python examples/02_bce_curve.py [--out DIR]   (saves DIR/bce_curve.png, default DIR: .)
"""

import argparse

import numpy as np
from _frameworks import agree, frameworks, save, table, two_panels

import multiloss as ml

P = np.array([0.0, 1e-40, 1e-30, 1e-7, 1e-3, 0.1, 0.5, 0.9, 0.999, 1.0], np.float32)  # 1e-40: subnormal


def bce(to_array, p):
    """multiloss's per-sample BCE of label 1 at each probability in ``p``."""
    return np.asarray(ml.binary_cross_entropy(to_array(np.ones_like(p)), to_array(p), reduction="none"))


def natives():
    """{name: fn(p) -> per-sample BCE of label 1} for the frameworks' own losses that are installed."""
    found = {}
    try:
        import torch
        import torch.nn.functional as F

        found["torch F.bce"] = lambda p: F.binary_cross_entropy(
            torch.tensor(p), torch.ones(p.shape), reduction="none").numpy()
    except ImportError as exc:
        print(f"torch unavailable ({exc}): no native PyTorch column")
    try:
        import keras

        found["keras bce"] = lambda p: np.asarray(keras.losses.binary_crossentropy(
            np.ones((p.size, 1), np.float32), p[:, None]))
    except ImportError as exc:
        print(f"keras unavailable ({exc}): no native Keras column")
    return found


def plot(curves, out):
    """Save the curve (linear p, as usual) and its tail (log p) to ``out/bce_curve.png``."""
    panels = two_panels()
    if panels is None:
        return
    fig, (left, right) = panels
    p = np.linspace(0.001, 0.999, 500, dtype=np.float32)
    left.plot(p, bce(np.asarray, p), label="−log p")
    left.set(title="BCE for y = 1", xlabel="predicted probability p", ylabel="loss")
    p = np.logspace(-45, 0, 500).astype(np.float32)
    for label, fn in curves.items():
        right.plot(p, fn(p), label=label, linestyle="--" if label == "multiloss" else "-")
    right.set(title="near p = 0: where each implementation stops", xlabel="p (log scale)", xscale="log")
    save(fig, out, "bce_curve.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--out", default=".", help="folder for bce_curve.png (default: current folder)")
    args = parser.parse_args(argv)

    results = {name: bce(to_array, P) for name, to_array in frameworks()}
    native_fns = natives()
    columns = {**{f"ml {name}": values for name, values in results.items()},
               **{name: fn(P) for name, fn in native_fns.items()}}
    print("\nBCE of label 1 at probability p, float32 ('ml <framework>': multiloss on that framework)")
    table(["p", *columns], [(f"{p:.0e}" if 0 < p < 1e-2 else f"{p:g}", *(float(c[i]) for c in columns.values()))
                            for i, p in enumerate(P)])
    agree(results)
    at_zero64 = float(ml.binary_cross_entropy(np.ones(1), np.zeros(1)))  # NumPy float64
    print(f"At p = 0 multiloss gives −log(tiny): {float(results['numpy'][0]):.2f} in float32, "
          f"{at_zero64:.2f} in float64; finite, with a zero gradient.\n")
    plot({**native_fns, "multiloss": lambda p: bce(np.asarray, p)}, args.out)

if __name__ == "__main__":
    main()
