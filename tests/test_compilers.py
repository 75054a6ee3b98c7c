"""Every registered loss under each framework's compiler gives its eager value: no Python
control flow on data, no host round-trips, no graph breaks (torch.compile fullgraph=True)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import compiler, load_backend
from multiloss.testing.matrix import cases
from multiloss.testing.numerics import EPS, PEER_ULPS

CASES = cases()  # the class_weight variant has 8 classes: the matrix shape (6, 8)


def compiled_and_eager(backend, compile_fn):
    inputs = [tuple(case.to_backend(backend, "float32")[0]) for case in CASES]

    def all_losses(inputs):
        return [case.call(*args) for case, args in zip(CASES, inputs)]

    eager = [float(backend.to_numpy(x)) for x in all_losses(inputs)]
    compiled = [float(backend.to_numpy(x)) for x in compile_fn(all_losses)(inputs)]
    return np.array(compiled), np.array(eager)


@pytest.mark.parametrize("name", ["jax", "tensorflow", "torch"])
def test_every_loss_compiles_to_its_eager_value(name):
    backend, compile_fn = load_backend(name), compiler(name)
    compiled, eager = compiled_and_eager(backend, compile_fn)
    # Compilers may fuse and reorder, and XLA's transcendental functions differ from the eager
    # kernels by a few ulps: 16 float32 ulps of each value's magnitude.
    np.testing.assert_allclose(compiled, eager, rtol=PEER_ULPS * EPS["float32"], atol=1e-30,
                               err_msg=str([c.id for c in CASES]))


def _tf_warnings(tf):
    """A handler collecting TensorFlow's logged warnings (its logger set to WARNING meanwhile)."""
    import logging

    class Collect(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    return tf.get_logger(), Collect()


def test_tensorflow_eager_calls_do_not_retrace_as_the_batch_size_varies():
    """Eager calls run each loss setting's kernel traced once with the batch size unknown (XLA
    compiles each new shape): no retracing warning, the values of NumPy's at every batch size."""
    backend, numpy = load_backend("tensorflow"), load_backend("numpy")
    import tensorflow as tf

    import multiloss as ml

    rng = np.random.default_rng(0)

    def losses(y, p, yb, q, logits, labels, w):
        return [ml.huber(y, p), ml.binary_cross_entropy(yb, p, from_logits=True),
                ml.categorical_cross_entropy(q, logits, from_logits=True),
                ml.sparse_categorical_cross_entropy(labels, logits, from_logits=True, class_weight=w),
                ml.sparse_categorical_cross_entropy(labels, logits, from_logits=True, label_smoothing=0.1)]

    logger, handler = _tf_warnings(tf)
    level = logger.level
    logger.setLevel("WARNING")
    logger.addHandler(handler)
    try:
        for n in (7, 3, 5, 1, 8, 2, 6, 4):
            arrays = [rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), rng.integers(0, 2, (n, 3)).astype(float),
                      rng.dirichlet(np.ones(4), n), rng.normal(size=(n, 4)), rng.integers(0, 4, n),
                      np.array([0.5, 1.0, 2.0, 1.5])]
            got = losses(*(backend.from_numpy(a, "float32" if a.dtype == float else None) for a in arrays))
            want = losses(*(a.astype(np.float32) if a.dtype == float else a for a in arrays))
            for g, w in zip(got, want):
                np.testing.assert_allclose(backend.to_numpy(g), numpy.to_numpy(w), rtol=1e-5, err_msg=f"batch {n}")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    retraced = [m for m in handler.messages if "retracing" in m]
    assert not retraced, retraced


def test_a_tensorflow_fused_kernel_traces_once_for_eager_calls_of_any_shape():
    """... and records on a GradientTape; a kernel of one op runs that op eagerly."""
    backend = load_backend("tensorflow")
    import tensorflow as tf

    traces = []

    def kernel(x, y, *, scale):
        traces.append(tuple(x.shape))
        return scale * tf.square(x - y)

    fused = backend.xp.fuse(kernel)
    for n in (5, 2, 9, 3):
        x, y = tf.range(n, dtype=tf.float32), tf.ones(n)
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = fused(x, y, scale=0.5)
        np.testing.assert_allclose(out.numpy(), 0.5 * (np.arange(n) - 1.0) ** 2, rtol=1e-6)
        np.testing.assert_allclose(tape.gradient(out, x).numpy(), np.arange(n) - 1.0, rtol=1e-6)
    assert traces == [(None,)]  # traced once, with the batch size unknown
    for n in (2, 4):
        fused(tf.ones((n, 3)), tf.ones((n, 3)), scale=0.5)  # other sizes on other axes: another trace
    fused(tf.ones((0, 3)), tf.ones((0, 3)), scale=0.5)  # an empty batch: a trace that knows it
    fused(tf.ones(4), tf.ones(4), scale=2.0)  # another setting: another trace
    assert traces == [(None,), (None, 3), (0, 3), (None,)]
    tf.config.run_functions_eagerly(True)  # for debugging: the kernel's Python runs at each call
    try:
        fused(tf.ones(2), tf.ones(2), scale=2.0)
    finally:
        tf.config.run_functions_eagerly(False)
    assert traces[-1] == (2,)


def test_autograph_calls_a_loss_as_it_is_inside_a_users_tf_function(tmp_path):
    """A user's ``@tf.function`` (AutoGraph on, TensorFlow's logger at its default level) calls a
    loss unconverted: no "AutoGraph could not transform" warning, and the step's value is the
    eager one (examples/06_training_outliers.py's training step)."""
    import os
    import subprocess
    import sys

    load_backend("tensorflow")
    script = (
        "import tensorflow as tf, multiloss as ml\n"
        "x, y, w = tf.constant([1.0, 2.0, 3.0]), tf.constant([2.0, 4.0, 7.0]), tf.Variable(1.0)\n"
        "@tf.function\n"
        "def step():\n"
        "    with tf.GradientTape() as tape:\n"
        "        value = ml.huber(y, w * x)\n"
        "    return value, tape.gradient(value, w)\n"
        "print(*(float(t) for t in step()), float(ml.huber(y, w * x)))\n"
    )
    (tmp_path / "train.py").write_text(script)  # (AutoGraph converts only functions whose source it can read)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run([sys.executable, str(tmp_path / "train.py")], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "AutoGraph" not in out.stderr, out.stderr
    value, grad, eager = map(float, out.stdout.split())
    assert value == eager == float(np.float32((0.5 + 1.5 + 3.5) / 3))  # errors 1, 2, 4: ½, δ(2 − ½), δ(4 − ½)
    assert grad == -(1 * 1 + 1 * 2 + 1 * 3) / 3  # ∂/∂w: sign(e)·min(|e|, 1)·x, e = w·x − y < 0


def test_a_first_call_inside_torch_compile_after_load_imports_nothing(tmp_path):
    """``load("torch")`` (the plugin's and the tools' loader) leaves the adapter ready for
    dispatch: a process's first loss call, inside ``torch.compile(fullgraph=True)``, has no
    import to trace (Dynamo cannot trace ``__import__``)."""
    import subprocess
    import sys

    load_backend("torch")
    script = ("import multiloss as ml\n"
              "from multiloss.backends import load\n"
              "load('torch')\n"
              "import torch\n"
              "f = torch.compile(lambda a, b: ml.mse(a, b), fullgraph=True, backend='aot_eager')\n"
              "print(float(f(torch.zeros(3), torch.ones(3))))\n")
    (tmp_path / "first.py").write_text(script)
    out = subprocess.run([sys.executable, str(tmp_path / "first.py")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.split() == ["1.0"], out.stderr[-2000:]
