"""Composite losses: the article's multi-task loss (BCE with a false-negative penalty plus MSE on
the positive samples only, weighted 1.0 / 0.5), written once, on every backend and compiler,
with a batch without positives handled by a mask rather than an ``if``."""

from __future__ import annotations

import numpy as np
import pytest

import multiloss as ml
from conftest import compiler, load_backend

FN_PENALTY = 2.0
LOSS = ml.composite(
    classification=(lambda b: ml.binary_cross_entropy(b["label"], b["logit"], from_logits=True,
                                                      pos_weight=FN_PENALTY), 1.0),
    regression=(lambda b: ml.mse(b["target"], b["value"], sample_weight=b["label"]), 0.5),
)


def batch(backend, labels, dtype="float64"):
    rng = np.random.default_rng(0)
    n = len(labels)
    data = {"label": np.asarray(labels, float), "logit": rng.normal(0, 2, n), "target": rng.normal(0, 1, n),
            "value": rng.normal(0, 1, n)}
    return data, {k: backend.from_numpy(v, dtype) for k, v in data.items()}


def expected(d):
    y, x = d["label"], d["logit"]
    log_p, log_q = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    bce = np.mean(-(FN_PENALTY * y * log_p + (1 - y) * log_q))
    mse = np.sum(y * (d["target"] - d["value"]) ** 2) / y.sum() if y.sum() else 0.0
    return bce + 0.5 * mse, bce, mse


@pytest.mark.parametrize("labels", [[1, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0]], ids=["mixed", "no-positives"])
def test_value_and_parts(backend, labels):
    data, b = batch(backend, labels)
    total, parts = LOSS(b)
    want_total, want_bce, want_mse = expected(data)
    np.testing.assert_allclose(backend.to_numpy(total), want_total, rtol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(parts["classification"]), want_bce, rtol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(parts["regression"]), want_mse, rtol=1e-14)


def test_no_positives_gives_zero_regression_gradients(backend):
    if backend.value_and_grad is None:
        pytest.skip("numpy has no autodiff")
    _, b = batch(backend, [0, 0, 0, 0])

    def total(value):
        return LOSS({**b, "value": value})[0]

    _, (g,) = backend.value_and_grad(total, b["value"])
    np.testing.assert_array_equal(backend.to_numpy(g), 0.0)  # exactly 0, never 0/0


@pytest.mark.parametrize("name", ["jax", "tensorflow", "torch"])
def test_under_each_compiler(name):
    backend, compile_fn = load_backend(name), compiler(name)
    compiled = compile_fn(LOSS)
    for labels in ([1, 0, 1, 1, 0, 0], [0] * 6):
        data, b = batch(backend, labels, "float32")
        total, parts = compiled(b)
        np.testing.assert_allclose(backend.to_numpy(total), expected(data)[0], rtol=1e-5)
        regression = 0.0 if not any(labels) else pytest.approx(expected(data)[2], rel=1e-5)
        assert backend.to_numpy(parts["regression"]) == regression


def test_bad_terms():
    with pytest.raises(ValueError, match="at least one"):
        ml.composite()
    with pytest.raises(TypeError, match=r"term `a` must be a function or \(function, weight\)"):
        ml.composite(a=(ml.mse, "1"))
