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

import multiloss as ml  # a module global: reached through a local name, dynamic=True traces its ints as SymInts
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


def test_tensorflow_namespace_takes_a_size_known_only_at_run_time():
    """eye, arange, reshape and slicing take ``xp.dim``'s tensor, as the kernels use them."""
    backend = load_backend("tensorflow")
    import tensorflow as tf

    xp = backend.xp

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
    def build(x):
        n = xp.dim(x, 0)
        return (xp.eye(n), xp.eye(2 * n, dtype=xp.bool), xp.concat([xp.arange(n, 2 * n), xp.arange(0, n)]),
                xp.reshape(x, (n, -1)), x[:n - 1])

    x = np.arange(12.0).reshape(3, 4)
    got = [t.numpy() for t in build(tf.constant(x, tf.float32))]
    want = [np.eye(3), np.eye(6, dtype=bool), np.r_[3:6, 0:3], x, x[:2]]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert got[0].dtype == np.float32 and got[2].dtype == np.int64


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


REDUCTIONS = ["mean", "sum", "sum_over_batch_size", "none"]


def reduction_inputs():
    """Per-element and per-row losses' inputs, batch 6, and a one-channel mask with its logits."""
    rng = np.random.default_rng(0)
    floats = {"y": rng.normal(size=(6, 8)), "p": rng.normal(size=(6, 8)), "w": rng.uniform(size=6),
              "logits": rng.normal(size=(6, 8)), "q": rng.dirichlet(np.ones(8), 6),
              "mask": rng.integers(0, 2, (6, 1)).astype(float), "one": rng.normal(size=(6, 1))}
    return floats, rng.integers(0, 8, 6)


def reduced_losses(reduction):
    """A per-sample weight (expanded to the per-element loss), class weights (item weights in
    the mean's divisor), label smoothing and KL's class mean (a mean over the class axis), and
    Dice from one channel's logits (a sigmoid, decided by that size)."""
    class_weight = (0.5, 1.0, 2.0, 0.25, 1.5, 1.0, 3.0, 0.75)

    def losses(y, p, w, logits, q, mask, one, labels):
        return [ml.huber(y, p, reduction=reduction, sample_weight=w),
                ml.huber(y, p, reduction=reduction),
                ml.sparse_categorical_cross_entropy(labels, logits, from_logits=True, class_weight=class_weight,
                                                    label_smoothing=0.1, reduction=reduction, sample_weight=w),
                ml.categorical_cross_entropy(q, logits, from_logits=True, label_smoothing=0.1, reduction=reduction),
                ml.kl_divergence(q, logits, from_logits=True, class_mean=True, reduction=reduction),
                ml.dice(mask, one, from_logits=True, reduction=reduction)]

    return losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reductions_and_weights_with_unknown_dimensions(reduction):
    """... in tf.function, and an empty batch, whose mean and sum are 0."""
    load_backend("tensorflow")
    import tensorflow as tf

    floats, labels = reduction_inputs()
    arrays = [tf.constant(a, tf.float32) for a in floats.values()] + [tf.constant(labels, tf.int32)]
    losses = reduced_losses(reduction)
    traced = tf.function(losses, input_signature=[tf.TensorSpec([None] * a.ndim, a.dtype) for a in arrays])
    for n in (6, 3, 0):
        part = [a[:n] for a in arrays]
        for got, want in zip(traced(*part), losses(*part)):
            got, want = got.numpy(), want.numpy()
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-30, err_msg=f"{reduction}, batch {n}")
            if n == 0 and reduction in ("mean", "sum"):
                assert got == 0.0
    assert traced.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reductions_and_weights_with_dynamic_shapes_in_torch(reduction):
    """... under torch.compile(dynamic=True): one graph for batches 6 and 3 (torch fixes sizes 0
    and 1 while tracing, as its own rule)."""
    backend = load_backend("torch")
    import torch
    from torch._dynamo.testing import CompileCounterWithBackend

    floats, labels = reduction_inputs()
    arrays = [backend.from_numpy(a, "float32") for a in floats.values()] + [backend.from_numpy(labels)]
    losses = reduced_losses(reduction)
    batches = {6: arrays, 3: rows(arrays, 3)}  # (views first would add a guard on their base's size)
    eager = {n: losses(*part) for n, part in batches.items()}  # (also loads the adapter before tracing)
    counter = CompileCounterWithBackend("aot_eager")
    torch._dynamo.reset()
    with constant_floats(torch):
        compiled = torch.compile(losses, fullgraph=True, dynamic=True, backend=counter)
        compiled_values = {n: compiled(*part) for n, part in batches.items()}
    for n in batches:
        for got, want in zip(compiled_values[n], eager[n]):
            got, want = backend.to_numpy(got), backend.to_numpy(want)
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-30, err_msg=f"{reduction}, batch {n}")
    assert counter.frame_count == 1


# --- PyTorch: torch.compile(dynamic=True) -----------------------------------------------------
def constant_floats(torch):
    """Python floats stay constants while torch.compile traces. Hyperparameters are constants to
    multiloss (static under jax.jit and TensorFlow's fuse too), but dynamic=True (torch 2.13,
    specialize_float=False) also traces the floats of a dict or closure (the cases' parameters,
    class weights) as SymFloats: a matter of parameters, not of the shapes tested here."""
    return torch._dynamo.config.patch(specialize_float=True)


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
    with constant_floats(torch):
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
    if name in ("binary_cross_entropy", "binary_focal", "dice", "tversky", "binary_dice", "generalized_dice"):
        return ops.sigmoid  # probabilities
    if name in ("categorical_cross_entropy", "sparse_categorical_cross_entropy", "categorical_focal",
                "kl_divergence"):
        return lambda t: ops.softmax(t, axis=-1)
    if name in ("poly_cross_entropy", "generalized_cross_entropy"):  # class probabilities
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
