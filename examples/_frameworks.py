"""The same NumPy data on each installed framework: the one helper the examples share.

``frameworks()`` lists ``(name, to_array)`` for NumPy, PyTorch, TensorFlow and JAX, in that
order, where ``to_array`` turns a NumPy array into that framework's float32 array. A framework
that is not installed is skipped with a printed line saying so. ``table`` prints one row per
framework; ``agree`` checks that the rows match to float32 rounding and exits non-zero if not;
``two_panels`` and ``save`` make and write the examples' figures (matplotlib optional).
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter

NAMES = ("numpy", "torch", "tensorflow", "jax")  # torch before TensorFlow, as Keras advises
RTOL = 1e-5  # float32 (eps 1.2e-7) plus each framework's own summation order


def _converter(name):
    if name == "numpy":
        return lambda a: np.asarray(a, np.float32)
    if name == "torch":
        import torch

        return lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)
    if name == "tensorflow":
        import tensorflow as tf

        return lambda a: tf.constant(np.asarray(a), dtype=tf.float32)
    import jax.numpy as jnp

    return lambda a: jnp.asarray(np.asarray(a), dtype=jnp.float32)


@functools.cache
def frameworks(names=NAMES):
    """``[(name, to_array), ...]`` for the installed frameworks among ``names`` (reported once)."""
    found = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            print(f"{name}: not installed, skipped ({exc})")
            continue
        found.append((name, _converter(name)))
    return found


def table(header, rows):
    """Print ``rows`` of ``(label, value, ...)`` under ``header``; floats with 7 significant digits."""
    rows = [[f"{v + 0.0:.7g}" if isinstance(v, (float, np.floating)) else str(v) for v in row] for row in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join([f"{row[0]:<{widths[0]}}"] + [f"{cell:>{max(w, 12)}}" for cell, w in zip(row[1:], widths[1:])]))


def agree(results, rtol=RTOL, atol=0.0):
    """Check that every framework's numbers match the first's; print the largest difference."""
    (first, want), *others = results.items()
    worst = 0.0
    for name, got in others:
        got, ref = np.asarray(got, np.float64), np.asarray(want, np.float64)
        if not np.allclose(got, ref, rtol=rtol, atol=atol):
            sys.exit(f"{name} disagrees with {first}: {got.tolist()} vs {ref.tolist()}")
        worst = max(worst, float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-30))))
    print(f"{len(results)} frameworks agree (largest relative difference {worst:.1e}, allowed {rtol:g}).")


def two_panels():
    """A figure with two side-by-side axes, or None (saying so) when matplotlib is missing.
    A ``Figure``, not pyplot: no GUI backend, no global state."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("matplotlib is not installed (pip install matplotlib): no figure saved")
        return None
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    return fig, fig.subplots(1, 2)


def save(fig, out, name):
    """Grid and legend on each axis; write ``out/name`` (creating ``out``) and print its path."""
    for ax in fig.axes:
        ax.grid(True)
        ax.legend(fontsize="small")
    path = Path(out) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    print(f"saved {path}")
