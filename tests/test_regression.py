"""Regression family: worked examples, hand-computed values, bad input, numerics, compilers,
and the documented differences from the frameworks' own losses."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from multiloss.registry import REGISTRY as ALL
from tests.test_embedding import grads
from tests.test_matrix import K

REGISTRY = {name: spec for name, spec in ALL.items() if spec.family == "regression"}

SEED_TRUE = [1.0, 2.0, 3.0, 4.0, 100.0]
SEED_PRED = [1.1, 2.1, 2.9, 4.2, 5.0]


def arrays(backend, *values, dtype="float64"):
    return [backend.from_numpy(np.asarray(v, np.float64), dtype) for v in values]


def value(backend, x):
    return backend.to_numpy(x).astype(np.float64)


# --- the seed article's example, and values computed by hand --------------------------------
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-14), ("float32", 1e-6)])
@pytest.mark.parametrize(
    "fn, expected",
    # MSE: (0.01 + 0.01 + 0.01 + 0.04 + 9025) / 5; MAE: (0.1 + 0.1 + 0.1 + 0.2 + 95) / 5;
    # Huber(1): (0.005 · 3 + 0.02 + (95 - 0.5)) / 5. The article prints 19.06 and 47.01.
    [(ml.mse, 1805.014), (ml.mae, 19.1), (ml.huber, 18.907)],
    ids=["mse", "mae", "huber"],
)
def test_seed_article_example(backend, fn, expected, dtype, rtol):
    y_true, y_pred = arrays(backend, SEED_TRUE, SEED_PRED, dtype=dtype)
    np.testing.assert_allclose(value(backend, fn(y_true, y_pred)), expected, rtol=rtol)


HAND = [  # (loss, params, y_true, y_pred, per-element values worked out by hand)
    ("huber", {"delta": 1.0}, [0.0, 0.0, 0.0], [0.5, -2.0, 1.0], [0.125, 1.5, 0.5]),
    ("smooth_l1", {"beta": 0.5}, [0.0, 0.0], [0.25, -2.0], [0.0625, 1.75]),
    ("smooth_l1", {"beta": 0.0}, [0.0, 1.0], [-3.0, 1.5], [3.0, 0.5]),
    ("log_cosh", {}, [0.0, 0.0], [100.0, -1000.0], [100.0 - math.log(2.0), 1000.0 - math.log(2.0)]),
    # The TF-Addons pinball example: mean 0.475, as scikit-learn's mean_pinball_loss.
    ("quantile", {"q": 0.1}, [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0], [0.9, 0.9, 0.0, 0.1]),
    ("mean_squared_log_error", {}, [0.0, math.e - 1.0], [math.e - 1.0, math.e - 1.0], [1.0, 0.0]),
    ("poisson", {}, [2.0, 0.0, 1.0], [1.0, 0.0, math.e], [1.0, 0.0, math.e - 1.0]),
    ("poisson", {"log_input": True}, [2.0, 0.0], [0.0, 1.0], [1.0, math.e]),
    # PyTorch's full=True: + y·log y − y + ½·log(2πy) for y > 1 only; y = 3, λ = 1: 1 + 3·log 3 − 3 + ½·log 6π
    ("poisson", {"full": True}, [3.0, 1.0, 0.0], [1.0, 1.0, 2.0],
     [1.0 + 3.0 * math.log(3.0) - 3.0 + 0.5 * math.log(6.0 * math.pi), 1.0, 2.0]),
    ("poisson", {"log_input": True, "full": True}, [2.0], [0.0],
     [1.0 + 2.0 * math.log(2.0) - 2.0 + 0.5 * math.log(4.0 * math.pi)]),
    # MAPE: |2 − 1|/2 = 50 %, |−4 − (−3)|/4 = 25 %, y = 0: 0.5/1e-7 = 5e6 (5e8 %), |y| = 1e-8 < ε: 1e-8/1e-7 = 10 %
    ("mean_absolute_percentage_error", {}, [2.0, -4.0, 0.0, 1e-8], [1.0, -3.0, 0.5, 0.0], [50.0, 25.0, 5e8, 10.0]),
    ("mean_absolute_percentage_error", {"percent": False, "epsilon": 0.5}, [2.0, 0.25, 0.0], [3.0, 0.0, -1.0],
     [0.5, 0.5, 2.0]),
]


@pytest.mark.parametrize("name, params, y_true, y_pred, expected", HAND, ids=[f"{h[0]}{h[1]}" for h in HAND])
def test_hand_computed_values(backend, name, params, y_true, y_pred, expected):
    t, p = arrays(backend, y_true, y_pred)
    out = REGISTRY[name].function(t, p, reduction="none", **params)
    np.testing.assert_allclose(value(backend, out), expected, rtol=1e-15, atol=1e-15)


def test_aliases_are_the_same_functions():
    assert ml.mse is ml.mean_squared_error and ml.mae is ml.mean_absolute_error and ml.msle is ml.mean_squared_log_error
    assert ml.mape is ml.mean_absolute_percentage_error


# --- reduction and sample weights -----------------------------------------------------------
def test_reductions_and_weights(backend):
    t, p, w = arrays(backend, [[0.0, 0.0], [0.0, 0.0]], [[1.0, 2.0], [3.0, 4.0]], [1.0, 3.0])
    loss = ml.mae
    assert value(backend, loss(t, p, reduction="sum")) == 10.0
    assert value(backend, loss(t, p)) == 2.5
    np.testing.assert_array_equal(value(backend, loss(t, p, reduction="none")), [[1, 2], [3, 4]])
    # per-sample weights (1, 3) apply to every element of their row
    np.testing.assert_array_equal(value(backend, loss(t, p, reduction="none", sample_weight=w)), [[1, 2], [9, 12]])
    assert value(backend, loss(t, p, sample_weight=w)) == 24.0 / 8.0  # Σwℓ / Σw over elements
    assert value(backend, loss(t, p, sample_weight=w, reduction="sum_over_batch_size")) == 24.0 / 4.0  # Keras


def test_all_zero_weights_give_zero_loss_and_zero_gradients(backend):
    t, p, w = arrays(backend, [1.0, 2.0, 3.0], [3.0, 0.0, 1.0], [0.0, 0.0, 0.0])
    for name, spec in REGISTRY.items():
        tt, pp = (t, p) if name not in ("mean_squared_log_error", "poisson") else (t, t)
        out = spec.function(tt, pp, sample_weight=w)
        assert value(backend, out) == 0.0, name
        if backend.value_and_grad is not None:
            _, grads = backend.value_and_grad(lambda a, b, f=spec.function: f(a, b, sample_weight=w), tt, pp)
            for g in grads:
                np.testing.assert_array_equal(value(backend, g), 0.0, err_msg=name)


def test_an_empty_batch_has_mean_zero(backend):
    t, p = arrays(backend, np.zeros((0, 3)), np.zeros((0, 3)))
    for spec in REGISTRY.values():
        assert value(backend, spec.function(t, p)) == 0.0, spec.name
        assert value(backend, spec.function(t, p, reduction="sum")) == 0.0, spec.name
        assert backend.to_numpy(spec.function(t, p, reduction="none")).shape == (0, 3)


# --- dtypes ---------------------------------------------------------------------------------
def test_half_precision_accumulates_in_float32(backend):
    # 4096 squared errors of 64 sum to 262144, past float16's largest value (65504).
    dtype = "float16"
    if dtype not in backend.DTYPES:
        pytest.skip(f"{backend.xp.backend} has no {dtype}")
    t, p = arrays(backend, np.zeros(4096), np.full(4096, 8.0), dtype=dtype)
    out = ml.mse(t, p)
    assert value(backend, out) == 64.0
    with np.errstate(over="ignore"):  # NumPy warns when the float32 sum is rounded to float16
        total = ml.mse(t, p, reduction="sum")
    assert value(backend, total) == np.inf  # the *result* does not fit float16


def test_integer_targets_are_cast_to_the_prediction_dtype(backend):
    t = backend.from_numpy(np.array([1, 2, 3], np.int32))
    (p,) = arrays(backend, [1.5, 2.0, 2.0], dtype="float32")
    out = ml.mse(t, p)
    assert "float32" in str(out.dtype)
    np.testing.assert_allclose(value(backend, out), (0.25 + 1.0) / 3, rtol=1e-7)


def test_log_cosh_does_not_overflow_float32(backend):
    t, p = arrays(backend, [0.0, 0.0], [89.5, -500.0], dtype="float32")
    np.testing.assert_allclose(value(backend, ml.log_cosh(t, p, reduction="none")),
                               [89.5 - math.log(2), 500 - math.log(2)], rtol=1e-7)
    if backend.value_and_grad is not None:
        _, (_, g) = backend.value_and_grad(lambda a, b: ml.log_cosh(a, b, reduction="sum"), t, p)
        np.testing.assert_array_equal(value(backend, g), [1.0, -1.0])


@pytest.mark.parametrize("dtype, big", [("float32", 2.0**24), ("float64", 2.0**53)])
def test_msle_gradient_is_finite_where_log1p_would_see_minus_one(backend, dtype, big):
    """ŷ = 0 with y ≥ 2²⁴ (float32): z = (ŷ − y)/(1 + y) rounds to −1. The value takes the log
    branch; the log1p branch not taken must not see z = −1, whose 0·inf made the gradient NaN."""
    t, p = arrays(backend, [big, 3.0], [0.0, 0.0], dtype=dtype)
    d = -math.log1p(big)
    np.testing.assert_allclose(value(backend, ml.msle(t, p, reduction="none")), [d * d, math.log(4.0) ** 2],
                               rtol=4 * 2.0**-23 if dtype == "float32" else 1e-15)
    if backend.value_and_grad is not None:
        _, (gt, gp) = backend.value_and_grad(lambda a, b: ml.msle(a, b, reduction="sum"), t, p)
        # d/dŷ = 2d/(1 + ŷ), d/dy = −2d/(1 + y), d = log1p(ŷ) − log1p(y)
        np.testing.assert_allclose(value(backend, gp), [2 * d, -2 * math.log(4.0)], rtol=1e-6 if dtype == "float32"
                                   else 1e-15)
        np.testing.assert_allclose(value(backend, gt), [-2 * d / (1 + big), 2 * math.log(4.0) / 4],
                                   rtol=1e-6 if dtype == "float32" else 1e-15)


def test_poisson_epsilon_at_a_rate_of_one_keeps_its_accuracy_under_xla(backend):
    """log(1 + ε) at λ = 1: as log1p((λ − 1) + ε) XLA folds the constants into log1p(λ − 0.9999999),
    rounding 1 − ε: 5e-10 relative error in the log (found by the magnitude property)."""
    t, p = arrays(backend, [70.0, 3.0], [1.0, 1.0])
    want = [1.0 - 70.0 * math.log1p(1e-7), 1.0 - 3.0 * math.log1p(1e-7)]
    np.testing.assert_allclose(value(backend, ml.poisson(t, p, epsilon=1e-7, reduction="none")), want, rtol=1e-15)


# --- bad input ------------------------------------------------------------------------------
def test_shape_mismatch_names_both_shapes_and_the_backend(backend):
    t, p = arrays(backend, np.zeros((4, 1)), np.zeros(4))
    for spec in REGISTRY.values():
        with pytest.raises(ValueError, match=rf"\(4, 1\) and \(4,\) \({backend.xp.backend}\)"):
            spec.function(t, p)


def test_non_floating_predictions_are_a_type_error(backend):
    t = backend.from_numpy(np.zeros(3))
    p = backend.from_numpy(np.zeros(3, np.int32))
    with pytest.raises(TypeError, match=rf"`y_pred` must have a floating dtype; got int32 \({backend.xp.backend}\)"):
        ml.huber(t, p)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t, p: ml.huber(t, p, delta=0.0), r"`delta` must be a finite number > 0; got 0.0"),
        (lambda t, p: ml.huber(t, p, delta=float("nan")), r"`delta` must be a finite number > 0"),
        (lambda t, p: ml.smooth_l1(t, p, beta=-1.0), r"`beta` must be a finite number >= 0"),
        (lambda t, p: ml.quantile(t, p, q=1.5), r"`q` must be a finite number in \[0, 1\]; got 1\.5 \(float\)"),
        (lambda t, p: ml.mse(t, p, reduction="avg"), r"`reduction` must be one of"),
        (lambda t, p: ml.mape(t, p, epsilon=0.0), r"`epsilon` must be a finite number > 0; got 0.0"),
        (lambda t, p: ml.mape(t, p, percent="no"), r"`percent` must be True or False"),
        (lambda t, p: ml.poisson(t, p, full=1), r"`full` must be True or False"),
        (lambda t, p: ml.mse(t, p, sample_weight=[1.0, 2.0]), r"`sample_weight` must have the loss's shape \(3,\)"),
    ],
)
def test_bad_options_are_value_errors(backend, call, message):
    t, p = arrays(backend, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=message):
        call(t, p)


def test_arrays_by_keyword():
    assert ml.mse(y_true=[0.0, 0.0], y_pred=[1.0, 3.0]) == ml.mse([0.0, 0.0], y_pred=[1.0, 3.0]) == 5.0
    with pytest.raises(TypeError, match=r"takes 2 arrays \('y_true', 'y_pred'\); got 1"):
        ml.mse([0.0, 0.0])


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['delta'\]"):
        ml.mse([1.0], [1.0], delta=1.0)


@pytest.mark.parametrize(
    "fn, y_true, y_pred, message",
    [
        (ml.msle, [0.0, -1.0], [1.0, 1.0], r"`y_true` must be > -1 .*1 value\(s\)"),
        (ml.msle, [0.0, 1.0], [-2.0, 1.0], r"`y_pred` must be > -1"),
        (ml.poisson, [-1.0, 1.0], [1.0, 1.0], r"`y_true` must be ≥ 0"),
        (ml.poisson, [1.0, 1.0], [-0.5, 1.0], r"`y_pred` must be a rate ≥ 0"),
        (lambda t, p: ml.poisson(t, p, full=True), [-1.0, 3.0], [1.0, 1.0], r"`y_true` must be ≥ 0"),
    ],
)
def test_out_of_domain_values_are_value_errors_in_eager_mode(backend, fn, y_true, y_pred, message):
    t, p = arrays(backend, y_true, y_pred)
    with pytest.raises(ValueError, match=message + rf".*\({backend.xp.backend}\)"):
        fn(t, p)


# --- compilers ------------------------------------------------------------------------------
def all_losses(t, p):
    """Every registered loss at every checked parameter setting, as one vector."""
    out = []
    for spec in REGISTRY.values():
        for params in ({}, *spec.variants):
            out.append(spec.function(t, p, **params))
    return out


def compile_inputs():
    rng = np.random.default_rng(0)
    return rng.exponential(2.0, 64), rng.exponential(2.0, 64)  # valid for every regression loss


def test_jax_jit_grad_vmap():
    jb = load_backend("jax")
    import jax

    t, p = arrays(jb, *compile_inputs(), dtype="float32")
    eager = [float(x) for x in all_losses(t, p)]
    jitted = [float(x) for x in jax.jit(all_losses)(t, p)]
    np.testing.assert_allclose(jitted, eager, rtol=2e-6)
    g_eager = jax.grad(lambda a, b: sum(all_losses(a, b)), argnums=1)(t, p)
    g_jit = jax.jit(jax.grad(lambda a, b: sum(all_losses(a, b)), argnums=1))(t, p)
    np.testing.assert_allclose(g_jit, g_eager, rtol=1e-5, atol=1e-7)
    per_row = jax.vmap(lambda a, b: ml.huber(a, b))(t.reshape(8, 8), p.reshape(8, 8))
    np.testing.assert_allclose(per_row, [float(ml.huber(a, b)) for a, b in zip(t.reshape(8, 8), p.reshape(8, 8))],
                               rtol=1e-6)


def test_tf_function_jit_compile_and_gradient_tape():
    tb = load_backend("tensorflow")
    import tensorflow as tf

    t, p = arrays(tb, *compile_inputs(), dtype="float32")
    eager = [float(x) for x in all_losses(t, p)]
    compiled = tf.function(all_losses, jit_compile=True)
    np.testing.assert_allclose([float(x) for x in compiled(t, p)], eager, rtol=2e-6)

    @tf.function(jit_compile=True)
    def grad(a, b):
        with tf.GradientTape() as tape:
            tape.watch(b)
            total = tf.add_n(all_losses(a, b))
        return tape.gradient(total, b)

    _, (_, g_eager) = tb.value_and_grad(lambda a, b: tf.add_n(all_losses(a, b)), t, p)
    np.testing.assert_allclose(grad(t, p).numpy(), g_eager.numpy(), rtol=1e-5, atol=1e-7)


def test_torch_compile_fullgraph_has_no_graph_breaks():
    tb = load_backend("torch")
    import torch

    t, p = arrays(tb, *compile_inputs(), dtype="float32")
    eager = torch.stack(all_losses(t, p))
    compiled = torch.compile(lambda a, b: torch.stack(all_losses(a, b)), fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(t, p), eager, rtol=2e-6, atol=0)


def test_checks_are_skipped_under_jit_and_nothing_raises():
    """Value checks need concrete values; under jit an out-of-domain rate gives NaN, documented."""
    jb = load_backend("jax")
    import jax

    t, p = arrays(jb, [1.0], [-1.0])
    assert np.isnan(float(jax.jit(ml.poisson)(t, p)))


# --- convention= ----------------------------------------------------------------------------
def test_poisson_conventions_by_hand(backend):
    t, p = arrays(backend, [3.0, 0.0, 2.0], [0.0, 0.0, 0.5])
    # Keras: rate − y·log(rate + 1e-7), finite at rate 0; one value per row of (N, 1)
    keras = value(backend, ml.poisson(*(backend.xp.reshape(x, (3, 1)) for x in (t, p)), convention="keras",
                                      reduction="none"))
    np.testing.assert_allclose(keras, [-3 * math.log(1e-7), 0.0, 0.5 - 2 * math.log(0.5 + 1e-7)], rtol=1e-15)
    # and on (N,) one value for the whole vector, as Keras's last-axis mean gives
    np.testing.assert_allclose(value(backend, ml.poisson(t, p, convention="keras", reduction="none")),
                               np.mean(keras), rtol=1e-15)
    # PyTorch's default reads y_pred as a log-rate: exp(x) − y·x
    torch = value(backend, ml.poisson(t, p, convention="torch", reduction="none"))
    np.testing.assert_allclose(torch, [1.0, 1.0, math.exp(0.5) - 1.0], rtol=1e-15)
    # with PyTorch's log_input=False, its eps = 1e-8 is added inside the log
    rates = value(backend, ml.poisson(t, p, log_input=False, convention="torch", reduction="none"))
    np.testing.assert_allclose(rates, [-3 * math.log(1e-8), 0.0, 0.5 - 2 * math.log(0.5 + 1e-8)], rtol=1e-15)
    # Keras averages the last axis per sample: one value per row
    t2, p2 = arrays(backend, [[3.0, 0.0], [2.0, 1.0]], [[0.0, 1.0], [0.5, 1.0]])
    rows = value(backend, ml.poisson(t2, p2, convention="keras", reduction="none"))
    np.testing.assert_allclose(rows, [(-3 * math.log(1e-7) + 1.0) / 2,
                                      (0.5 - 2 * math.log(0.5 + 1e-7) + 1.0 - math.log(1.0 + 1e-7)) / 2], rtol=1e-15)


def test_msle_keras_convention_clamps_at_1e_7_instead_of_raising(backend):
    t, p = arrays(backend, [[-2.0, 1e-9, 1.0]], [[0.0, 0.5, -0.5]])
    with pytest.raises(ValueError, match="> -1"):
        ml.msle(t, p)
    lo = math.log1p(1e-7)
    expected = ((lo - lo) ** 2 + (math.log1p(0.5) - lo) ** 2 + (lo - math.log(2.0)) ** 2) / 3
    np.testing.assert_allclose(value(backend, ml.msle(t, p, convention="keras", reduction="none")), [expected],
                               rtol=1e-14)


def test_torch_weight_divisors_differ_between_mse_and_huber(backend):
    """PyTorch 2.13: mse_loss(weight=w) gives Σwℓ/Σw, huber_loss(weight=w) Σwℓ / number of elements."""
    t, p, w = arrays(backend, [[0.0, 0.0], [0.0, 0.0]], [[1.0, 3.0], [0.5, -2.0]], [[1.0, 0.0], [2.0, 3.0]])
    assert value(backend, ml.mse(t, p, sample_weight=w, convention="torch")) == (1.0 + 0.5 + 12.0) / 6.0
    huber = (0.5 + 2.0 * 0.125 + 3.0 * 1.5) / 4.0
    np.testing.assert_allclose(value(backend, ml.huber(t, p, sample_weight=w, convention="torch")), huber, rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.huber(t, p, sample_weight=w)), huber * 4.0 / 6.0, rtol=1e-15)


def test_torch_weighted_conventions_match_torch():
    tb = load_backend("torch")
    import torch.nn.functional as F

    rng = np.random.default_rng(4)
    t, p, w = arrays(tb, rng.normal(size=(5, 3)), rng.normal(size=(5, 3)) * 2, rng.uniform(0, 2, (5, 3)))
    for ours, theirs in ((ml.mse, F.mse_loss), (ml.mae, F.l1_loss), (ml.huber, F.huber_loss)):
        np.testing.assert_allclose(value(tb, ours(t, p, sample_weight=w, convention="torch")),
                                   value(tb, theirs(p, t, weight=w)), rtol=1e-14)


def test_keras_convention_is_per_sample_then_sum_over_batch_size(backend):
    t, p, w = arrays(backend, [[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]], [[1.0, 3.0], [0.0, 0.5], [1.0, 4.0]],
                     [0.5, 0.0, 2.0])
    rows = [2.5, 2.125, 4.5]
    np.testing.assert_array_equal(value(backend, ml.mse(t, p, convention="keras", reduction="none")), rows)
    np.testing.assert_allclose(value(backend, ml.mse(t, p, convention="keras", sample_weight=w)),
                               (0.5 * 2.5 + 2.0 * 4.5) / 3, rtol=1e-15)
    np.testing.assert_allclose(value(backend, ml.mse(t, p, sample_weight=w)), (0.5 * 2.5 + 2.0 * 4.5) / 2.5,
                               rtol=1e-15)


def test_conventions_that_cannot_apply_say_why():
    with pytest.raises(ValueError, match=r"keras\.losses\.Poisson is poisson with log_input=False only; got "
                                         r"log_input=True"):
        ml.poisson([1.0], [0.5], log_input=True, convention="keras")
    with pytest.raises(ValueError, match=r"`convention` must be one of \['optax'\] for log_cosh; got 'keras'"):
        ml.log_cosh([1.0], [0.5], convention="keras")  # Keras's float64 log 2 is float32's
    with pytest.raises(ValueError, match=r"`convention` must be one of \['sklearn'\] for quantile; got 'torch'"):
        ml.quantile([1.0], [0.5], convention="torch")
    with pytest.raises(ValueError, match=r"sklearn\.metrics\.mean_squared_log_error is mean_squared_log_error with "
                                         r"epsilon=None only; got epsilon=1e-07"):
        ml.msle([1.0], [0.5], epsilon=1e-7, convention="sklearn")
    with pytest.raises(ValueError, match=r"`epsilon` must be None or a finite number >= 0; got -1\.0 \(float\)"):
        ml.msle([1.0], [0.5], epsilon=-1.0)


def test_a_convention_under_jax_jit():
    jb = load_backend("jax")
    import jax

    t, p, w = arrays(jb, [[3.0, 0.0], [2.0, 1.0]], [[0.0, 1.0], [0.5, 1.0]], [1.0, 0.5])

    def f(a, b, c):
        return ml.poisson(a, b, sample_weight=c, convention="keras"), ml.poisson(a, b, convention="torch")

    for got, expected in zip(jax.jit(f)(t, p, w), f(t, p, w)):
        np.testing.assert_allclose(float(got), float(expected), rtol=1e-15)


# --- documented differences from the natives ------------------------------------------------
def test_keras_msle_clamps_negative_values_where_we_raise():
    tb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    t, p = arrays(tb, [[-0.5]], [[0.0]])
    assert float(keras.losses.mean_squared_logarithmic_error(t, p)[0]) < 1e-12  # both read as 1e-7
    np.testing.assert_allclose(value(tb, ml.msle(t, p)), math.log(2.0) ** 2, rtol=1e-15)
    t, p = arrays(tb, [[-2.0]], [[0.0]])
    assert float(keras.losses.mean_squared_logarithmic_error(t, p)[0]) < 1e-12
    with pytest.raises(ValueError, match="> -1"):
        ml.msle(t, p)
    t, p = arrays(tb, [[1e-9]], [[0.5]])  # below Keras's clamp: it reads 1e-7
    keras_value = float(keras.losses.mean_squared_logarithmic_error(t, p)[0])
    np.testing.assert_allclose(keras_value, (math.log1p(0.5) - math.log1p(1e-7)) ** 2, rtol=1e-12)
    np.testing.assert_allclose(value(tb, ml.msle(t, p)), (math.log1p(0.5) - math.log1p(1e-9)) ** 2, rtol=1e-14)


def test_keras_poisson_adds_epsilon_inside_the_log():
    tb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    t, p = arrays(tb, [[3.0]], [[0.01]])
    np.testing.assert_allclose(float(keras.losses.poisson(t, p)[0]), 0.01 - 3 * math.log(0.01 + 1e-7), rtol=1e-12)
    np.testing.assert_allclose(value(tb, ml.poisson(t, p)), 0.01 - 3 * math.log(0.01), rtol=1e-14)
    np.testing.assert_allclose(value(tb, ml.poisson(t, p, convention="keras")), float(keras.losses.poisson(t, p)[0]),
                               rtol=1e-14)


@pytest.mark.parametrize("framework", ["keras", "optax"])
def test_log_cosh_natives_lose_precision_near_zero(framework):
    """At e = 1e-3 the tail formula the natives use cancels; ours keeps full precision."""
    mpmath = pytest.importorskip("mpmath")
    e = float(np.float32(1e-3))  # the input as float32 holds it
    exact = float(mpmath.log(mpmath.cosh(mpmath.mpf(e))))  # ≈ 5e-7
    if framework == "keras":
        b = load_backend("tensorflow")
        keras = pytest.importorskip("keras")
    else:
        b = load_backend("jax")
        optax = pytest.importorskip("optax")
    t, p = arrays(b, [[0.0]], [[1e-3]], dtype="float32")
    ours = float(value(b, ml.log_cosh(t, p)))
    native = keras.losses.log_cosh(t, p)[0] if framework == "keras" else optax.losses.log_cosh(p, t)[0, 0]
    theirs = float(value(b, native))
    ulp = np.spacing(np.float32(exact))
    assert abs(ours - exact) <= K * ulp
    assert abs(theirs - exact) > 100 * ulp


def test_keras_reductions_map_to_ours():
    tb = load_backend("tensorflow")
    keras = pytest.importorskip("keras")
    t, p, w = arrays(tb, [[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]], [[1.0, 3.0], [0.0, 0.5], [1.0, 4.0]], [0.5, 0.0, 2.0])
    # Keras's loss classes compute in floatx (float32) unless given a dtype.
    default = keras.losses.MeanSquaredError(dtype="float64")(t, p, sample_weight=w)
    weighted = keras.losses.MeanSquaredError(reduction="mean_with_sample_weight", dtype="float64")(
        t, p, sample_weight=w)
    ours = ml.mse(t, p, sample_weight=w, reduction="sum_over_batch_size")
    np.testing.assert_allclose(float(default), value(tb, ours), rtol=1e-15)
    np.testing.assert_allclose(float(weighted), value(tb, ml.mse(t, p, sample_weight=w)), rtol=1e-15)
    assert float(default) != float(weighted)


def test_huber_is_delta_times_smooth_l1():
    t, p = np.array([0.0, 0.0, 0.0]), np.array([0.3, 1.5, -4.0])
    np.testing.assert_allclose(ml.huber(t, p, delta=2.0, reduction="none"),
                               2.0 * ml.smooth_l1(t, p, beta=2.0, reduction="none"), rtol=1e-15)


def test_tf_function_autograph_converts_a_loss_passed_as_a_default_argument():
    tb = load_backend("tensorflow")
    import tensorflow as tf

    @tf.function
    def f(t, p, fn=ml.mean_squared_error):
        return fn(t, p)

    t, p = arrays(tb, [0.0, 1.0], [1.0, 3.0], dtype="float32")
    assert float(f(t, p)) == 2.5


# --- MAPE and Poisson's full term (issue 15) ---------------------------------------------------
def test_mape_near_zero_targets_divide_by_epsilon_and_the_gradient_follows(backend):
    """Below ε the floor decides: |e|/ε, gradient ±100/ε in y_pred and ∓100/ε in y_true (the floor is
    flat there); beyond it d/dy = −sign(e)·ŷ·sign(y)/y², accurate even where ŷ ≪ y."""
    t, p = arrays(backend, [0.0, -5e-8, 100.0, -2.0], [1.0, 0.0, 1e-3, -3.0])
    np.testing.assert_allclose(value(backend, ml.mape(t, p, reduction="none")),
                               [1e9, 50.0, 100.0 * (100.0 - 1e-3) / 100.0, 50.0], rtol=1e-15)
    g_true, g_pred = grads(backend, lambda a, b: ml.mape(a, b, reduction="sum"), t, p)
    np.testing.assert_allclose(g_pred, [1e9, 1e9, -1.0, -50.0], rtol=1e-15)
    # y = 100, ŷ = 1e-3: 1 − ŷ/y, slope ŷ/y² (× 100), where the autodiff terms ∓1/y ± |e|/y² cancel;
    # y = −2, ŷ = −3: (3 + y)/(−y) = −3/y − 1, slope 3/y²
    np.testing.assert_allclose(g_true, [-1e9, -1e9, 1e-3 / 1e4 * 100.0, 100.0 * 3.0 / 4.0], rtol=1e-13)


def test_mape_percent_false_is_the_fraction():
    t, p = [4.0, -1.0, 0.0], [3.0, 1.0, 1e-9]
    np.testing.assert_allclose(np.asarray(ml.mape(t, p, reduction="none")),
                               100.0 * np.asarray(ml.mape(t, p, percent=False, reduction="none")), rtol=1e-15)


def test_mape_sklearn_is_a_fraction_with_a_float64_eps_floor():
    """scikit-learn's documented differences: no ×100, and |y| floored at 2.2e-16, not 1e-7: a zero target
    makes its value 1e7 times Keras's/100 (our percent=False, epsilon=2**-52 gives it)."""
    sklearn = pytest.importorskip("sklearn.metrics")
    t, p = np.array([2.0, 0.0, -1.0]), np.array([1.0, 1e-3, -1.5])
    theirs = sklearn.mean_absolute_percentage_error(t, p)
    np.testing.assert_allclose(float(ml.mape(t, p, percent=False, epsilon=2.0**-52)), theirs, rtol=1e-15)
    np.testing.assert_allclose(float(ml.mape(t, p, convention="sklearn")), theirs, rtol=1e-15)
    np.testing.assert_allclose(theirs, (0.5 + 1e-3 / 2.0**-52 + 0.5) / 3, rtol=1e-15)
    assert float(ml.mape(t, p)) / 100 < theirs / 1e8  # Keras's floor (ours) is 1e-7


def test_mape_keras_convention_is_keras_and_needs_its_epsilon():
    tb = load_backend("tensorflow")
    import keras

    t, p = arrays(tb, [[2.0, 0.0, 1e-9], [1.0, -4.0, 3.0]], [[1.0, 0.5, 0.0], [1.0, -3.0, 3.5]])
    theirs = value(tb, keras.losses.MeanAbsolutePercentageError(dtype="float64")(t, p))
    np.testing.assert_allclose(value(tb, ml.mape(t, p, convention="keras")), theirs, rtol=1e-15)
    with pytest.raises(ValueError, match=r"MeanAbsolutePercentageError is mean_absolute_percentage_error with "
                                         r"epsilon=1e-07 only; got epsilon=0.001"):
        ml.mape(t, p, epsilon=1e-3, convention="keras")


def test_poisson_full_changes_the_value_not_the_gradient_in_y_pred(backend):
    t, p = arrays(backend, [0.0, 1.0, 2.0, 7.0], [0.5, 1.0, 3.0, 6.5])
    plain = value(backend, ml.poisson(t, p, reduction="none"))
    full = value(backend, ml.poisson(t, p, full=True, reduction="none"))
    stirling = [0.0, 0.0] + [y * math.log(y) - y + 0.5 * math.log(2 * math.pi * y) for y in (2.0, 7.0)]
    np.testing.assert_allclose(full - plain, stirling, rtol=1e-14, atol=1e-15)
    (g_plain,) = grads(backend, lambda b: ml.poisson(t, b, reduction="sum"), p)
    (g_full,) = grads(backend, lambda b: ml.poisson(t, b, full=True, reduction="sum"), p)
    np.testing.assert_array_equal(g_full, g_plain)
    # in y_true (y > 1): −log λ + log y + 1/(2y)
    (g_true,) = grads(backend, lambda a: ml.poisson(a, p, full=True, reduction="sum"), t)
    np.testing.assert_allclose(g_true[2:], [-math.log(3.0) + math.log(2.0) + 0.25,
                                            -math.log(6.5) + math.log(7.0) + 1 / 14], rtol=1e-14)


def test_poisson_full_is_pytorchs_full():
    tb = load_backend("torch")
    import torch.nn.functional as F

    t, p = arrays(tb, [0.0, 1.0, 1.5, 4.0, 30.0], [-1.0, 0.0, 0.5, 2.0, 3.0])
    for log_input in (True, False):
        rates = p if log_input else p.exp()
        theirs = value(tb, F.poisson_nll_loss(rates, t, log_input=log_input, full=True))
        ours = value(tb, ml.poisson(t, rates, log_input=log_input, full=True, convention="torch"))
        np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    with pytest.raises(ValueError, match=r"keras\.losses\.Poisson is poisson with full=False only; got full=True"):
        ml.poisson([1.0], [0.5], full=True, convention="keras")
