"""Dynamic shapes: every loss traced with sizes known only at run time gives its eager values,
and runs on another batch size without being traced again.

- TensorFlow: ``tf.function`` with an ``input_signature`` whose every dimension is None (Keras
  traces its losses so, with the batch size unknown): ``xp.dim`` gives a size as a tensor there;
- PyTorch: ``torch.compile(dynamic=True, fullgraph=True)``: sizes are SymInts, one graph serves
  both batch sizes (a size fixed while tracing would show as a recompilation);
- Keras (on TensorFlow): each ``multiloss.keras`` class trains an epoch of ``model.fit`` whose
  last batch is smaller.

JAX needs nothing here: under ``jax.jit`` every shape is static (a new shape is a new trace),
so its kernels always see Python ints.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_backend
from multiloss.registry import REGISTRY
from multiloss.testing.matrix import Case, cases
from multiloss.testing.numerics import EPS, PEER_ULPS

CASES = cases()  # the matrix's inputs: batch 6 (the class_weight variant has 8 classes)
SMALLER = 4  # the second batch: the first 4 rows of each input
RTOL = PEER_ULPS * EPS["float32"]


def rows(arrays, n=SMALLER):
    return tuple(a[:n] for a in arrays)


def expected_on_fewer_rows(case, eager_full, eager_fewer):
    """A per-element or per-row loss of the first rows is the first rows of the full batch's;
    an in-batch loss (batch-hard triplet, NT-Xent) needs the eager value of the fewer rows."""
    return eager_fewer() if case.kind == "batch" else eager_full[:SMALLER]


def assert_same(got, want, case, what):
    assert tuple(got.shape) == tuple(want.shape), f"{case.id} ({what}): shape {tuple(got.shape)} vs {want.shape}"
    # the same XLA / ATen kernels on both sides, so PEER_ULPS covers any reordering
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-30, err_msg=f"{case.id} ({what})")


# --- TensorFlow: tf.function with every dimension None ------------------------------------------
def test_dim_is_a_tensor_where_tf_function_knows_the_size_only_at_run_time():
    backend = load_backend("tensorflow")
    import tensorflow as tf

    xp, seen = backend.xp, []

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def sizes(x):
        seen.append((xp.dim(x, 0), xp.dim(x, 1)))
        return xp.dim(x, 0)

    assert int(sizes(tf.zeros((5, 3)))) == 5 and int(sizes(tf.zeros((2, 3)))) == 2
    (n, k), = seen  # traced once
    assert k == 3 and isinstance(k, int)  # a size known while tracing stays a Python int
    assert isinstance(n, tf.Tensor) and n.dtype == tf.int64
    assert xp.dim(tf.zeros((5, 3)), 0) == 5 and isinstance(xp.dim(tf.zeros((5, 3)), 0), int)


def test_every_loss_traces_in_tf_function_with_unknown_dimensions():
    backend = load_backend("tensorflow")
    import tensorflow as tf

    inputs = [tuple(case.to_backend(backend, "float32")[0]) for case in CASES]
    signature = [tuple(tf.TensorSpec([None] * a.ndim, a.dtype) for a in args) for args in inputs]

    def all_losses(inputs):
        return [case.call(*args, reduction="none") for case, args in zip(CASES, inputs)]

    traced = tf.function(all_losses, input_signature=[signature])
    eager = [backend.to_numpy(x) for x in all_losses(inputs)]
    for case, got, want in zip(CASES, traced(inputs), eager):
        assert_same(backend.to_numpy(got), want, case, "batch 6")
    fewer = [rows(args) for args in inputs]
    for case, args, got, want in zip(CASES, fewer, traced(fewer), eager):
        want = expected_on_fewer_rows(case, want, lambda case=case, args=args: backend.to_numpy(
            case.call(*args, reduction="none")))
        assert_same(backend.to_numpy(got), want, case, f"batch {SMALLER}")
    assert traced.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("reduction", ["mean", "sum", "sum_over_batch_size", "none"])
def test_reductions_and_sample_weight_with_unknown_dimensions(reduction):
    """A per-sample weight (expanded to the per-element loss), class weights (item weights that
    count in the mean's divisor) and an empty batch, whose mean is 0, with sizes unknown."""
    load_backend("tensorflow")
    import tensorflow as tf

    import multiloss as ml

    rng = np.random.default_rng(0)
    y, p, w = rng.normal(size=(6, 8)), rng.normal(size=(6, 8)), rng.uniform(size=6)
    labels, logits = rng.integers(0, 8, 6), rng.normal(size=(6, 8))
    class_weight = tuple(rng.uniform(0.5, 2.0, 8))
    f32 = [tf.constant(a, tf.float32) for a in (y, p, w, logits)]
    arrays = [*f32[:3], tf.constant(labels), f32[3]]
    specs = [tf.TensorSpec([None] * a.ndim, a.dtype) for a in arrays]

    def losses(y, p, w, labels, logits):
        return [ml.huber(y, p, reduction=reduction, sample_weight=w),
                ml.huber(y, p, reduction=reduction),
                ml.sparse_categorical_cross_entropy(labels, logits, from_logits=True, class_weight=class_weight,
                                                    reduction=reduction, sample_weight=w)]

    traced = tf.function(losses, input_signature=specs)
    for n in (6, 3, 0):
        part = [a[:n] for a in arrays]
        for got, want in zip(traced(*part), losses(*part)):
            got, want = got.numpy(), want.numpy()
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-30, err_msg=f"{reduction}, batch {n}")
            if n == 0 and reduction in ("mean", "sum"):
                assert got == 0.0
    assert traced.experimental_get_tracing_count() == 1


# --- PyTorch: torch.compile(dynamic=True) -----------------------------------------------------
def test_every_loss_compiles_with_dynamic_shapes_in_torch():
    backend = load_backend("torch")
    import torch
    from torch._dynamo.testing import CompileCounterWithBackend

    inputs = [tuple(case.to_backend(backend, "float32")[0]) for case in CASES]

    def all_losses(inputs):
        return [case.call(*args, reduction="none") for case, args in zip(CASES, inputs)]

    eager = [backend.to_numpy(x) for x in all_losses(inputs)]  # (also resolves the namespace before tracing)
    counter = CompileCounterWithBackend("aot_eager")
    torch._dynamo.reset()
    # specialize_float: hyperparameters are Python constants to multiloss (static under jax.jit and
    # in TensorFlow's fuse too); torch 2.13's dynamic=True would otherwise trace the floats of
    # CASES' parameter dicts as symbolic SymFloats as well, which is not what this test is about.
    with torch._dynamo.config.patch(specialize_float=True):
        compiled = torch.compile(all_losses, fullgraph=True, dynamic=True, backend=counter)
        got = compiled(inputs)
        fewer = [rows(args) for args in inputs]
        got_fewer = compiled(fewer)
    for case, g, want in zip(CASES, got, eager):
        assert_same(backend.to_numpy(g), want, case, "batch 6")
    for case, args, g, want in zip(CASES, fewer, got_fewer, eager):
        want = expected_on_fewer_rows(case, want, lambda case=case, args=args: backend.to_numpy(
            case.call(*args, reduction="none")))
        assert_same(backend.to_numpy(g), want, case, f"batch {SMALLER}")
    assert counter.frame_count == 1, "a size was fixed while tracing: the second batch size recompiled"


# --- Keras: model.fit with a smaller last batch -------------------------------------------------
FEATURES, SAMPLES, BATCH = 5, 10, 4  # batches of 4, 4 and 2


def output_layer(keras, name):
    """What maps the model's raw outputs into the loss's domain (at its default parameters)."""
    ops = keras.ops
    if name in ("binary_cross_entropy", "binary_focal", "dice", "tversky"):
        return ops.sigmoid  # probabilities
    if name in ("categorical_cross_entropy", "sparse_categorical_cross_entropy", "categorical_focal",
                "kl_divergence"):
        return lambda t: ops.softmax(t, axis=-1)
    if name in ("poisson", "mean_squared_log_error"):
        return lambda t: ops.softplus(t) + 0.1  # rates > 0
    if name == "gaussian_nll":
        return lambda t: ops.stack([t[:, 0], ops.softplus(t[:, 1]) + 1e-3], axis=1)  # [mean, var > 0]
    return lambda t: t


def keras_data(spec):
    """(y_true, the shape of one sample's y_pred), from the loss's domain."""
    inputs = Case(spec, {}, (SAMPLES, 8)).inputs
    import multiloss.keras as mk

    parts = mk.stacked(spec)
    if not parts:
        return inputs[spec.inputs[0]], inputs[spec.inputs[1]].shape[1:]
    labels = [n for n in spec.inputs if n not in parts]
    y_pred_shape = (len(parts), *inputs[parts[0]].shape[1:])
    return (inputs[labels[0]] if labels else np.zeros(SAMPLES, np.float32)), y_pred_shape


@pytest.fixture(scope="module")
def keras_on_tensorflow():
    load_backend("tensorflow")
    keras = pytest.importorskip("keras", reason="keras is not installed")
    if keras.backend.backend() != "tensorflow":
        pytest.skip(f"Keras runs on {keras.backend.backend()} in this process (KERAS_BACKEND); these tests need "
                    f"its TensorFlow backend")
    return keras


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_keras_loss_trains_with_a_smaller_last_batch(name, keras_on_tensorflow):
    keras = keras_on_tensorflow
    import multiloss.keras as mk

    spec = REGISTRY[name]
    y, shape = keras_data(spec)
    x = np.random.default_rng(0).normal(size=(SAMPLES, FEATURES)).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(int(np.prod(shape))),
                              keras.layers.Reshape(shape), keras.layers.Lambda(output_layer(keras, name))])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=getattr(mk, spec.class_name)())
    history = model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0).history["loss"]
    assert np.all(np.isfinite(history)), f"{name}: {history}"
