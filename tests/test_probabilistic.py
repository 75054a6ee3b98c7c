"""Gaussian NLL: worked values, PyTorch's clamp of small variances (value eps, gradient passed
through), the variance's shapes, bad input, and PyTorch's own function. KL divergence with log
targets and the generalized KL divergence: worked values, the frameworks' documented differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from multiloss.registry import lookup
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


# --- KL divergence with log targets, generalized KL (issue 15) -----------------------------------
def test_kl_divergence_log_target_hand_computed(backend):
    """p = [½, ½], q = [¼, ¾]: ½·log 2 + ½·log(2/3); a zero p (log p = −inf) contributes 0."""
    lp, lq = arrays(backend, [[math.log(0.5), math.log(0.5)], [-math.inf, 0.0]],
                    [[math.log(0.25), math.log(0.75)], [math.log(0.5), math.log(0.5)]])
    out = value(backend, ml.kl_divergence(lp, lq, log_input=True, log_target=True, reduction="none"))
    np.testing.assert_allclose(out, [0.5 * math.log(2.0) + 0.5 * math.log(2.0 / 3.0), math.log(2.0)], rtol=1e-15)
    # the same as from the probabilities themselves
    p, q = arrays(backend, [[0.5, 0.5], [0.0, 1.0]], [[0.25, 0.75], [0.5, 0.5]])
    np.testing.assert_allclose(value(backend, ml.kl_divergence(lp, q, log_target=True, reduction="none")),
                               value(backend, ml.kl_divergence(p, q, reduction="none")), rtol=1e-15)
    # the gradient at log p = −inf is 0, not NaN; in log p elsewhere p·(log p − log q + 1)
    g_p, g_q = grads(backend, lambda a, b: ml.kl_divergence(a, b, log_input=True, log_target=True, reduction="sum"),
                     lp, lq)
    want = [[0.5 * (math.log(2.0) + 1), 0.5 * (math.log(2.0 / 3.0) + 1)], [0.0, 1.0 + math.log(2.0)]]
    np.testing.assert_allclose(g_p, want, rtol=1e-15)
    np.testing.assert_allclose(g_q, [[-0.5, -0.5], [0.0, -1.0]], rtol=1e-15)


def test_kl_divergence_log_target_with_epsilon_clips_p_in_log_space(backend):
    lp, q = arrays(backend, [[-math.inf, 0.0]], [[0.5, 0.5]])
    out = value(backend, ml.kl_divergence(lp, q, log_target=True, epsilon=1e-3, reduction="none"))
    np.testing.assert_allclose(out, [1e-3 * math.log(1e-3 / 0.5) + math.log(2.0)], rtol=1e-14)


def test_kl_divergence_log_targets_may_be_negative_but_targets_may_not(backend):
    lp, q = arrays(backend, [[-1.0, -2.0]], [[0.5, 0.5]])
    assert np.isfinite(value(backend, ml.kl_divergence(lp, q, log_target=True)))
    with pytest.raises(ValueError, match=rf"`y_true` must be ≥ 0 \(class probabilities; pass log_target=True .*"
                                         rf"\({backend.xp.backend}\)"):
        ml.kl_divergence(lp, q)


def test_pytorch_and_optax_log_targets_give_nan_for_a_zero_probability():
    """Documented: torch kl_div(log_target=True) and optax kl_divergence_with_log_targets compute
    exp(t)·(t − log q), NaN at t = −inf; ours is 0 there, and equal to theirs elsewhere."""
    tb, jb = load_backend("torch"), load_backend("jax")
    import optax
    import torch.nn.functional as F

    lp = [[-math.inf, 0.0], [math.log(0.3), math.log(0.7)]]
    lq = [[math.log(0.5), math.log(0.5)], [math.log(0.6), math.log(0.4)]]
    torch_lp, torch_lq = arrays(tb, lp, lq)
    theirs = value(tb, F.kl_div(torch_lq, torch_lp, log_target=True, reduction="none").sum(-1))
    ours = value(tb, ml.kl_divergence(torch_lp, torch_lq, log_input=True, log_target=True, reduction="none"))
    assert np.isnan(theirs[0]) and np.isfinite(ours[0])
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-15)
    jax_lp, jax_lq = arrays(jb, lp, lq)
    theirs = value(jb, optax.losses.kl_divergence_with_log_targets(jax_lq, jax_lp))
    ours = value(jb, ml.kl_divergence(jax_lp, jax_lq, log_target=True, convention="optax", reduction="none"))
    assert np.isnan(theirs[0]) and ours[0] == math.log(2.0)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-15)


def test_kl_divergence_conventions_with_log_targets():
    tb = load_backend("torch")
    import torch.nn.functional as F

    lp, lq = arrays(tb, [[math.log(0.2), math.log(0.8)], [math.log(0.5), math.log(0.5)]],
                    [[math.log(0.6), math.log(0.4)], [math.log(0.1), math.log(0.9)]])
    np.testing.assert_allclose(value(tb, ml.kl_divergence(lp, lq, log_target=True, convention="torch")),
                               value(tb, F.kl_div(lq, lp, log_target=True)), rtol=1e-15)
    with pytest.raises(ValueError, match=r"kl_div is kl_divergence with epsilon=None only; got epsilon=0.001"):
        ml.kl_divergence(lp, lq, log_target=True, epsilon=1e-3, convention="torch")
    with pytest.raises(ValueError, match=r"KLDivergence is kl_divergence with log_target=False only"):
        ml.kl_divergence(lp, lq, log_target=True, convention="keras")


def test_generalized_kl_divergence_hand_computed(backend):
    """p = [1, 0, 2], q = [1, 3, 1]: (0 − 1 + 1) + (0 − 0 + 3) + (2·log 2 − 2 + 1) = 2 + 2·log 2."""
    p, q = arrays(backend, [[1.0, 0.0, 2.0], [0.5, 0.5, 0.0]], [[1.0, 3.0, 1.0], [0.5, 0.5, 0.0]])
    want = [2.0 + 2.0 * math.log(2.0), 0.0]
    np.testing.assert_allclose(value(backend, ml.generalized_kl_divergence(p, q, log_input=False, reduction="none")),
                               want, rtol=1e-15)
    log_q = arrays(backend, [[0.0, math.log(3.0), 0.0], [math.log(0.5), math.log(0.5), -math.inf]])[0]
    np.testing.assert_allclose(value(backend, ml.generalized_kl_divergence(p, log_q, reduction="none")), want,
                               rtol=1e-15, atol=1e-16)
    # gradient in log q: q − p; in q: 1 − p/q
    (g,) = grads(backend, lambda b: ml.generalized_kl_divergence(p, b, reduction="sum"), log_q)
    np.testing.assert_allclose(g, [[0.0, 3.0, -1.0], [0.0, 0.0, 0.0]], atol=1e-15)
    (g,) = grads(backend, lambda b: ml.generalized_kl_divergence(p, b, log_input=False, reduction="sum"),
                 arrays(backend, [[1.0, 3.0, 1.0], [1.0, 0.25, 2.0]])[0])
    np.testing.assert_allclose(g, [[0.0, 1.0, -1.0], [0.5, -1.0, 1.0]], rtol=1e-15)


def test_generalized_kl_divergence_of_distributions_is_the_kl_divergence(backend):
    rng = np.random.default_rng(1)
    p, q = rng.dirichlet(np.ones(5), 4), rng.dirichlet(np.ones(5), 4)
    gen = ml.generalized_kl_divergence(*arrays(backend, p, np.log(q)), reduction="none")
    kl = ml.kl_divergence(*arrays(backend, p, q), reduction="none")
    np.testing.assert_allclose(value(backend, gen), value(backend, kl), rtol=1e-13)


def test_convex_kl_divergence_is_an_alias():
    assert ml.convex_kl_divergence is ml.generalized_kl_divergence
    assert lookup("convex_kl_divergence") is ml.generalized_kl_divergence.spec
    assert lookup("ConvexKlDivergence") is ml.generalized_kl_divergence.spec


def test_optax_generalized_kl_divergence_is_ours_but_nan_at_a_minus_inf_log_prediction():
    jb = load_backend("jax")
    import optax

    p, log_q = arrays(jb, [[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]], [[0.3, -2.0, 1.0], [-math.inf, 0.0, 0.0]])
    theirs = value(jb, optax.losses.generalized_kl_divergence(log_q, p))
    ours = value(jb, ml.generalized_kl_divergence(p, log_q, convention="optax", reduction="none"))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-15)
    assert np.isnan(theirs[1]) and ours[1] == 0.0
    with pytest.warns(DeprecationWarning, match="generalized_kl_divergence"):
        convex = value(jb, optax.losses.convex_kl_divergence(log_q, p))
    np.testing.assert_array_equal(convex[:1], theirs[:1])


def test_generalized_kl_divergence_bad_input(backend):
    p, q = arrays(backend, [[1.0, -1.0]], [[0.5, 0.5]])
    with pytest.raises(ValueError, match=rf"`y_true` must be ≥ 0 \(a nonnegative measure\).*\({backend.xp.backend}\)"):
        ml.generalized_kl_divergence(p, q)
    p, q = arrays(backend, [[1.0, 1.0]], [[0.5, -0.5]])
    assert np.isfinite(value(backend, ml.generalized_kl_divergence(p, q)))  # log q may be negative
    with pytest.raises(ValueError, match=rf"`y_pred` must be ≥ 0 \(a nonnegative measure q; log_input=True.*"
                                         rf"\({backend.xp.backend}\)"):
        ml.generalized_kl_divergence(p, q, log_input=False)
    with pytest.raises(ValueError, match=rf"\(1, 2\) and \(2,\) \({backend.xp.backend}\)"):
        ml.generalized_kl_divergence(p, arrays(backend, [0.5, 0.5])[0])
    with pytest.raises(ValueError, match=rf"`axis` 2 is out of range for `y_pred` of shape \(1, 2\).*"
                                         rf"\({backend.xp.backend}\)"):
        ml.generalized_kl_divergence(p, q, axis=2)
