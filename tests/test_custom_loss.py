"""A user's own loss through @multiloss.loss: the built-ins' reduction, sample weights, checks
and dtype policy on every backend, and generated torch / Keras wrappers."""

from __future__ import annotations

import numpy as np
import pytest

import multiloss as ml
from multiloss._validation import _dtype_name
from multiloss.registry import REGISTRY
from multiloss.testing.matrix import cases
from tests.test_classification import arrays, value


@pytest.fixture
def pseudo_huber():
    @ml.loss(conditions={"delta": "> 0"})
    def pseudo_huber(y_true, y_pred, *, delta=1.0, xp):
        """Pseudo-Huber loss: δ²(sqrt(1 + (e/δ)²) − 1)."""
        e = (y_pred - y_true) / delta
        return delta**2 * (xp.sqrt(1 + e * e) - 1)

    yield pseudo_huber
    del REGISTRY["pseudo_huber"]  # leave the registry as the other tests see it


def reference(t, p, delta, w=None):
    e = (np.asarray(p) - np.asarray(t)) / delta
    per = delta**2 * (np.sqrt(1 + e * e) - 1)
    return per.mean() if w is None else (per * w).sum() / w.sum()


def test_runs_like_a_built_in(pseudo_huber, backend):
    t, p, w = [[0.0, 1.0, 2.0]], [[0.5, -1.0, 4.0]], np.array([[1.0, 0.0, 3.0]])
    a, b = arrays(backend, t, p)
    np.testing.assert_allclose(value(backend, pseudo_huber(a, b, delta=2.0)), reference(t, p, 2.0), rtol=1e-14)
    sw = arrays(backend, w)[0]
    np.testing.assert_allclose(value(backend, pseudo_huber(a, b, delta=2.0, sample_weight=sw)),
                               reference(t, p, 2.0, w), rtol=1e-14)
    assert value(backend, pseudo_huber(a, b, sample_weight=sw * 0)) == 0.0
    with pytest.raises(ValueError, match=r"`delta` must be a finite number > 0"):
        pseudo_huber(a, b, delta=0.0)
    with pytest.raises(ValueError, match=r"\(1, 3\) and \(3,\)"):
        pseudo_huber(a, arrays(backend, [0.5, -1.0, 4.0])[0])
    if "float16" in backend.DTYPES:
        h = arrays(backend, t, p, dtype="float16")
        out = pseudo_huber(*h)
        assert _dtype_name(out.dtype) == "float16"  # computed in float32, returned in the input's dtype
    assert pseudo_huber.spec.family == "custom"
    assert "pseudo_huber" not in {c.spec.name for c in cases()}  # no reference: not in the matrix


def test_gets_torch_and_keras_wrappers(pseudo_huber):
    torch = pytest.importorskip("torch")
    import multiloss.torch as mt

    module = mt.module(pseudo_huber.spec)(delta=2.0)
    x, y = torch.tensor([[0.5, -1.0, 4.0]], dtype=torch.float64), torch.tensor([[0.0, 1.0, 2.0]], dtype=torch.float64)
    assert float(module(x, y)) == pytest.approx(reference(y, x, 2.0), rel=1e-14)
    pytest.importorskip("keras")
    import multiloss.keras as mk

    keras_loss = mk.loss_class(pseudo_huber.spec)(delta=2.0, dtype="float64")
    assert float(keras_loss(y.numpy(), x.numpy())) == pytest.approx(reference(y, x, 2.0), rel=1e-14)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_checked_against_its_reference_like_a_built_in(backend, dtype):
    """With a domain and a per-element reference, a user's loss gets the `multiloss` command's
    check; it passes the accurate formula and catches the naive one's cancellation."""
    from multiloss import domains
    from multiloss.testing.matrix import Case, check, math_module

    def reference(y_true, y_pred, *, delta, m):
        return delta**2 * (m.sqrt(1 + ((y_pred - y_true) / delta) ** 2) - 1)

    @ml.loss(domain=domains.real_pairs(), reference=reference)
    def accurate(y_true, y_pred, *, delta=1.0, xp):
        u = (y_pred - y_true) / delta
        u2 = u * u
        return delta**2 * u2 / (xp.sqrt(1 + u2) + 1)  # = δ²(sqrt(1 + u²) − 1), no cancellation

    @ml.loss(domain=domains.real_pairs(), reference=reference)
    def naive(y_true, y_pred, *, delta=1.0, xp):
        e = (y_pred - y_true) / delta
        return delta**2 * (xp.sqrt(1 + e * e) - 1)

    try:
        assert {"accurate", "naive"} <= {c.spec.name for c in cases()}
        for params in ({}, {"delta": 0.5}):
            result = check(Case(accurate.spec, params), backend, dtype, math_module())
            assert result["ok"], result
        assert not check(Case(naive.spec, {}), backend, dtype, math_module())["ok"]  # sqrt(1 + e²) − 1 cancels
    finally:
        del REGISTRY["accurate"], REGISTRY["naive"]


def test_every_built_in_is_in_the_matrix():
    assert {c.spec.name for c in cases()} == {n for n, s in REGISTRY.items() if s.family != "custom"}
