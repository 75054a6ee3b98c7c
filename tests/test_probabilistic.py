"""Gaussian NLL: worked values, PyTorch's clamp of small variances (value eps, gradient passed
through), the variance's shapes, bad input, and PyTorch's own function."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from tests.test_classification import arrays, value
from tests.test_embedding import grads


def test_hand_computed_values(backend):
    y, mu, var = arrays(backend, [0.0, 1.0], [1.0, 1.0], [2.0, 0.5])
    expected = np.array([0.5 * (math.log(2.0) + 0.5), 0.5 * math.log(0.5)])
    np.testing.assert_allclose(value(backend, ml.gaussian_nll(y, mu, var, reduction="none")), expected, rtol=1e-15)
    full = value(backend, ml.gaussian_nll(y, mu, var, full=True, reduction="none"))
    np.testing.assert_allclose(full, expected + 0.5 * math.log(2 * math.pi), rtol=1e-15)


def test_large_targets_with_large_variances_are_finite(backend):
    """e²/var with e ≈ var ≈ 1e20 (float32) or 1e300 (float64): e² overflows, the loss does not, nor
    its gradient, which JAX forms as g·e·var⁻² (found by the magnitude property)."""
    for dtype, big in (("float32", 1e20), ("float64", 1e300)):
        y, mu, var = arrays(backend, [0.0, big], [big, 0.5 * big], [big, 2.0 * big], dtype=dtype)
        out = value(backend, ml.gaussian_nll(y, mu, var, reduction="none"))
        want = [0.5 * (math.log(big) + big), 0.5 * (math.log(2.0 * big) + big / 8.0)]
        np.testing.assert_allclose(out, want, rtol=4 * 2.0**-23)
        for g in grads(backend, lambda a, b, c: ml.gaussian_nll(a, b, c), y, mu, var):
            assert np.all(np.isfinite(g)), (dtype, g)


def test_small_variances_are_clamped_but_keep_their_gradient(backend):
    """PyTorch's semantics: v = max(var, eps) in value; the gradient reaches var as if v = var."""
    eps, e = 1e-3, 0.5
    y, mu, var = arrays(backend, [0.0, 0.0, 0.0], [e, e, e], [0.0, 1e-5, 2e-3])
    out = value(backend, ml.gaussian_nll(y, mu, var, eps=eps, reduction="none"))
    at = np.array([eps, eps, 2e-3])
    np.testing.assert_allclose(out, 0.5 * (np.log(at) + e * e / at), rtol=1e-14)
    (g,) = grads(backend, lambda v: ml.gaussian_nll(y, mu, v, eps=eps, reduction="sum"), var)
    np.testing.assert_allclose(g, 0.5 * (1 / at - e * e / at**2), rtol=1e-13)  # nonzero below eps


def test_the_variance_may_be_one_per_sample(backend):
    rng = np.random.default_rng(0)
    y, mu, v = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, 4)
    full = value(backend, ml.gaussian_nll(*arrays(backend, y, mu, np.repeat(v[:, None], 3, 1)), reduction="none"))
    for shape in ((4, 1), (4,)):
        out = ml.gaussian_nll(*arrays(backend, y, mu, v.reshape(shape)), reduction="none")
        np.testing.assert_allclose(value(backend, out), full, rtol=1e-15)


def test_bad_input(backend):
    y, mu = arrays(backend, np.zeros((4, 3)), np.zeros((4, 3)))
    message = rf"`var` must have `mean`'s shape \(4, 3\).*got \(3,\) \({backend.xp.backend}\)"
    with pytest.raises(ValueError, match=message):
        ml.gaussian_nll(y, mu, arrays(backend, np.ones(3))[0])
    with pytest.raises(ValueError, match=r"`var` must be ≥ 0 \(a variance\); 1 value\(s\) are not"):
        ml.gaussian_nll(y, mu, arrays(backend, [1.0, -1.0, 1.0, 1.0])[0])
    with pytest.raises(ValueError, match=r"`eps` must be a finite number > 0; got 0"):
        ml.gaussian_nll(y, mu, arrays(backend, np.ones(4))[0], eps=0)


def test_pytorch_gradient_below_eps_is_ours():
    tb = load_backend("torch")
    import torch
    import torch.nn.functional as F

    y, mu, var = arrays(tb, [0.0, 1.0, 0.0], [0.5, 1.0, -2.0], [1e-8, 1e-7, 3.0])
    theirs = grads(tb, lambda m, v: F.gaussian_nll_loss(m, y, v, reduction="sum"), mu, var)
    ours = grads(tb, lambda m, v: ml.gaussian_nll(y, m, v, reduction="sum"), mu, var)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert torch.is_tensor(ml.gaussian_nll(y, mu, var))


def test_torch_convention_is_pytorchs_defaults():
    tb = load_backend("torch")
    import torch.nn.functional as F

    y, mu, var = arrays(tb, [[0.0, 1.0], [0.0, 2.0]], [[0.5, 1.0], [-2.0, 0.0]], [[1e-8], [3.0]])
    np.testing.assert_allclose(value(tb, ml.gaussian_nll(y, mu, var, convention="torch")),
                               value(tb, F.gaussian_nll_loss(mu, y, var)), rtol=1e-15)
    with pytest.raises(ValueError, match=r"`convention` must be one of \['torch'\] for gaussian_nll; got 'keras'"):
        ml.gaussian_nll(y, mu, var, convention="keras")
