"""The article's train_with_loss, once per framework: a linear model on 100×5 data with 5
outliers, MSE and MAE from multiloss, 100 steps of plain SGD from the same weights on the same
data. torch (torch.optim.SGD), TensorFlow (GradientTape + keras.optimizers.SGD) and JAX
(jax.grad + optax.sgd) follow the same trajectory.

Tolerance: each framework sums the 100 per-sample terms in its own order, so float32 results
differ by a few ulps per step, and a contracting SGD map does not grow them. Stated: losses within
16 float32 ulps (2e-6 relative; measured ≤ 3.5e-7), weights within 1e-6 (measured 1.2e-7). (Adam would not agree this
well across frameworks: its default epsilon is 1e-8 in torch and optax but 1e-7 in Keras.)
"""

from __future__ import annotations

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from multiloss.testing.numerics import EPS, PEER_ULPS

STEPS, LR = 100, 0.1


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 5)).astype(np.float32)
    y = (x @ np.array([1.5, -2.0, 0.5, 3.0, -1.0]) + 0.1 * rng.normal(size=100)).astype(np.float32)
    y[:5] += 40.0  # the outliers
    w0 = (0.1 * rng.normal(size=5)).astype(np.float32)
    return x, y, w0


def train_torch(loss):
    torch = load_backend("torch") and __import__("torch")
    x, y, w0 = (torch.from_numpy(a) for a in data())
    w, b = torch.nn.Parameter(w0.clone()), torch.nn.Parameter(torch.zeros(()))
    opt = torch.optim.SGD([w, b], lr=LR)
    history = []
    for _ in range(STEPS):
        opt.zero_grad()
        value = loss(y, x @ w + b)
        value.backward()
        opt.step()
        history.append(float(value.detach()))
    return np.array(history), np.append(w.detach().numpy(), float(b.detach()))


def train_tensorflow(loss):
    load_backend("tensorflow")
    import keras
    import tensorflow as tf

    x, y, w0 = (tf.constant(a) for a in data())
    w, b = tf.Variable(w0), tf.Variable(0.0)
    opt = keras.optimizers.SGD(learning_rate=LR)
    history = []
    for _ in range(STEPS):
        with tf.GradientTape() as tape:
            value = loss(y, tf.linalg.matvec(x, w) + b)
        opt.apply_gradients(zip(tape.gradient(value, [w, b]), [w, b]))
        history.append(float(value))
    return np.array(history), np.append(w.numpy(), float(b.numpy()))


def train_jax(loss):
    load_backend("jax")
    import jax
    import jax.numpy as jnp
    optax = pytest.importorskip("optax")

    x, y, w0 = (jnp.asarray(a) for a in data())
    params = (w0, jnp.zeros((), jnp.float32))
    opt = optax.sgd(LR)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(lambda p: loss(y, x @ p[0] + p[1]))(params)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, value

    history = []
    for _ in range(STEPS):
        params, state, value = step(params, state)
        history.append(float(value))
    return np.array(history), np.append(np.asarray(params[0]), float(params[1]))


@pytest.mark.parametrize("loss", [ml.mse, ml.mae], ids=["mse", "mae"])
def test_three_frameworks_follow_one_trajectory(loss):
    runs = {name: train(loss) for name, train in
            (("torch", train_torch), ("tensorflow", train_tensorflow), ("jax", train_jax))}
    history, weights = runs["torch"]
    assert history[-1] < 0.9 * history[0]  # it trains (the outliers keep MSE high)
    for name in ("tensorflow", "jax"):
        np.testing.assert_allclose(runs[name][0], history, rtol=PEER_ULPS * EPS["float32"],
                                   err_msg=f"{name} loss trajectory")
        np.testing.assert_allclose(runs[name][1], weights, rtol=0, atol=1e-6, err_msg=f"{name} weights")


def test_mae_is_less_pulled_by_the_outliers():
    """The article's point: the five +40 outliers drag MSE's fit, chiefly its intercept (towards
    5·40/100 = 2), and barely move MAE's."""
    (_, w_mse), (_, w_mae) = train_torch(ml.mse), train_torch(ml.mae)
    true_w = np.array([1.5, -2.0, 0.5, 3.0, -1.0, 0.0])
    assert abs(w_mse[-1]) > 1.5 and abs(w_mae[-1]) < 0.5
    assert np.linalg.norm(w_mae - true_w) < np.linalg.norm(w_mse - true_w)
