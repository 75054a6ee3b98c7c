"""Training a line with MSE and with MAE
=====================================

Fit a line with MSE and with MAE to data with outliers, in each framework's own training loop.

The data (seeded): 40 points on y = 2x + 1 plus a little noise, the four rightmost dropped by 8
(a sensor glitch). Each framework trains (slope, intercept) from (0, 0) with 300 steps of plain
gradient descent, learning rate 0.1, full batch, float32, its loss from multiloss:

- PyTorch: autograd and ``torch.optim.SGD``;
- TensorFlow: ``tf.GradientTape`` inside a ``tf.function``;
- JAX: ``jax.grad`` inside ``jax.jit``;
- NumPy has no autodiff: its gradient is written by hand (MSE: 2·mean(e·[x, 1]); MAE:
  mean(sign(e)·[x, 1])), which also checks the other three.

MSE tilts its line to reach the outliers; MAE, which costs an error only linearly, stays close
to the line the other 36 points follow.

Run: python examples/06_training_outliers.py [--out DIR]
(saves DIR/training_outliers.png if matplotlib is installed; default DIR: the current folder)
"""

import argparse

import numpy as np
from _frameworks import agree, frameworks, save, table, two_panels

import multiloss as ml

STEPS, LR = 300, 0.1
LOSSES = {"MSE": ml.mse, "MAE": ml.mae}


def data(n=40, seed=0):
    """(x, y) as float32 NumPy arrays, x sorted, the last four points outliers."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1.0, 1.0, n))
    y = 2.0 * x + 1.0 + 0.1 * rng.normal(size=n)
    y[-4:] -= 8.0
    return x.astype(np.float32), y.astype(np.float32)


def train_numpy(loss, x, y):
    w = b = np.float32(0.0)
    history = []
    for _ in range(STEPS):
        e = w * x + b - y
        history.append(float(loss(y, w * x + b)))
        g = 2.0 * e if loss is ml.mse else np.sign(e)  # d loss / d prediction, times n
        w, b = w - np.float32(LR) * np.mean(g * x), b - np.float32(LR) * np.mean(g)
    return float(w), float(b), history


def train_torch(loss, x, y):
    import torch

    x, y = torch.from_numpy(x), torch.from_numpy(y)
    w, b = torch.zeros((), requires_grad=True), torch.zeros((), requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=LR)
    history = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        value = loss(y, w * x + b)
        value.backward()
        optimizer.step()
        history.append(float(value.detach()))
    return float(w.detach()), float(b.detach()), history


def train_tensorflow(loss, x, y):
    import tensorflow as tf

    x, y = tf.constant(x), tf.constant(y)
    w, b = tf.Variable(0.0), tf.Variable(0.0)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = loss(y, w * x + b)
        dw, db = tape.gradient(value, [w, b])
        w.assign_sub(LR * dw)
        b.assign_sub(LR * db)
        return value

    history = [float(step()) for _ in range(STEPS)]
    return float(w.numpy()), float(b.numpy()), history


def train_jax(loss, x, y):
    import jax
    import jax.numpy as jnp

    x, y = jnp.asarray(x), jnp.asarray(y)

    @jax.jit
    def step(params):
        value, (dw, db) = jax.value_and_grad(lambda p: loss(y, p[0] * x + p[1]))(params)
        return (params[0] - LR * dw, params[1] - LR * db), value

    params, history = (jnp.float32(0.0), jnp.float32(0.0)), []
    for _ in range(STEPS):
        params, value = step(params)
        history.append(float(value))
    return float(params[0]), float(params[1]), history


TRAIN = {"numpy": train_numpy, "torch": train_torch, "tensorflow": train_tensorflow, "jax": train_jax}


def plot(x, y, runs, out):
    """Save the data with each loss's fitted line, and the loss curves, to ``out``."""
    panels = two_panels()
    if panels is None:
        return
    fig, (fits, curves) = panels
    fits.scatter(x, y, s=12, color="gray", label="data (4 outliers)")
    for (loss_name, framework), (w, b, history) in runs.items():
        style = "-" if framework == next(iter(TRAIN)) else ":"
        curves.plot(history, style, label=f"{loss_name}, {framework}")
        if style == "-":
            fits.plot(x, w * x + b, label=f"{loss_name}: y = {w:.2f}x + {b:.2f}")
    fits.set(title="fitted lines", xlabel="x", ylabel="y")
    curves.set(title="training loss (the frameworks overlap)", xlabel="step", ylabel="loss")
    print()
    save(fig, out, "training_outliers.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--out", default=".", help="folder for training_outliers.png (default: current folder)")
    args = parser.parse_args(argv)

    x, y = data()
    print(f"{x.size} points on y = 2x + 1 (+ noise), the last 4 lowered by 8; {STEPS} steps of SGD, lr {LR}")
    runs = {}
    installed = [name for name, _ in frameworks()]
    for loss_name, loss in LOSSES.items():
        results = {}
        for name in installed:
            runs[loss_name, name] = TRAIN[name](loss, x, y)
            w, b, history = runs[loss_name, name]
            results[name] = [w, b, history[0], history[-1]]
        print(f"\n{loss_name}")
        table(["framework", "slope", "intercept", "first loss", "last loss"],
              [(name, *values) for name, values in results.items()])
        agree(results)
    (w_mse, b_mse, _), (w_mae, b_mae, _) = (runs[loss, installed[0]] for loss in LOSSES)
    print(f"\nThe outliers pull MSE's line to y = {w_mse:.2f}x + {b_mse:.2f}; "
          f"MAE's stays near the true y = 2x + 1: y = {w_mae:.2f}x + {b_mae:.2f}.")
    plot(x, y, runs, args.out)


if __name__ == "__main__":
    main()
