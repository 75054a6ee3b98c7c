"""Probabilistic losses: the Gaussian negative log-likelihood, the generalized KL divergence."""

from __future__ import annotations

import math

from multiloss import _validation as v
from multiloss import domains
from multiloss.losses._scaling import power_of_two
from multiloss.registry import Convention, loss

__all__ = ["convex_kl_divergence", "gaussian_nll", "generalized_kl_divergence"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _gaussian_shapes(xp, arrays, params):
    y_true, mean, var = arrays["y_true"], arrays["mean"], arrays["var"]
    v.check_same_shape(xp, y_true, mean, "y_true", "mean")
    shape, given = v.shape_of(mean), v.shape_of(var)
    allowed = [shape] + ([shape[:-1] + (1,), shape[:-1]] if shape else [])
    if not any(v._same(given, s) for s in allowed):
        raise ValueError(
            f"`var` must have `mean`'s shape {shape}, or that shape with the last axis of size 1 or "
            f"without it (one variance per sample); got {given} ({xp.backend})."
        )


def _gaussian_nll_reference(y_true, mean, var, *, eps, full, m):
    v = max(var, eps)
    terms = (m.log(v) / 2, (mean - y_true) ** 2 / (2 * v))
    return terms + (m.log(2 * m.pi) / 2,) if full else terms


@loss(
    family="probabilistic",
    domain=domains.gaussian(),
    reference=_gaussian_nll_reference,
    shapes=_gaussian_shapes,
    conditions={"eps": "> 0"},
    checks=lambda xp, y_true, mean, var, **_: (v.Rule("var", var, "≥ 0 (a variance)", lower=0.0),),
    variants=({"full": True},),
    conventions=(Convention("torch.nn.functional.gaussian_nll_loss"),),
    torch_order=("mean", "y_true", "var"),
)
def gaussian_nll(y_true, mean, var, *, eps=1e-6, full=False, xp):
    """Gaussian negative log-likelihood, PyTorch's semantics: ½·(log v + (mean − y)²/v), plus
    ½·log 2π with ``full``, where v = max(var, eps).

    As in PyTorch the clamp does not stop the gradient: below ``eps`` the gradient reaches
    ``var`` unchanged, evaluated at v = eps, so a variance driven under eps can still grow back.
    ``var`` has ``mean``'s shape, or one variance per sample (the last axis of size 1 or
    absent). Negative variances raise ``ValueError`` in eager mode and give NaN under a compiler.
    """
    if var.ndim < mean.ndim:
        var = xp.expand_dims(var, axis=-1)
    var = xp.where(var < eps, (var - xp.stop_gradient(var)) + eps, var)  # value eps, gradient 1
    e = mean - y_true
    # e²/var as e·(ê/v̂), ê = e/k and v̂ = var/k exact (k a power of two near var): e/var once
    # rounded, as e·(e/var). Neither the value nor any framework's derivative then forms e² or
    # var², which overflow (float32: at |e| ≈ 2e19) long before e²/var does; JAX differentiates
    # n/d as g·n·d⁻², here of size e²/var.
    _, inverse = power_of_two(xp, var)
    out = 0.5 * (xp.log(var) + e * ((e * inverse) / (var * inverse)))
    return out + _HALF_LOG_2PI if full else out


def _measure_shapes(xp, arrays, params):
    """One shape for ``y_true`` and ``y_pred``, with an ``axis`` to sum over."""
    y_true, y_pred, axis = arrays["y_true"], arrays["y_pred"], params["axis"]
    v.check_same_shape(xp, y_true, y_pred, "y_true", "y_pred")
    if not -y_pred.ndim <= axis < max(y_pred.ndim, 1):
        raise ValueError(f"`axis` {axis} is out of range for `y_pred` of shape {v.shape_of(y_pred)}: the "
                         f"divergence sums over an axis ({xp.backend}).")


def _check_measures(xp, y_true, y_pred, *, log_input, **_):
    target = v.Rule("y_true", y_true, "≥ 0 (a nonnegative measure)", lower=0.0)
    if log_input:
        return (target,)
    return target, v.Rule("y_pred", y_pred, "≥ 0 (a nonnegative measure q; log_input=True takes log q)", lower=0.0)


def _generalized_kl_divergence_reference(y_true, y_pred, *, log_input, axis, m):
    terms = []
    for p, x in zip(y_true, y_pred):
        q = m.exp(x) if log_input else x
        if p:  # p·log(p/q), 0·log 0 = 0
            terms += [p * m.log(p), -p * (x if log_input else m.log(q))]
        terms += [-p, q]
    return tuple(terms)


@loss(
    family="probabilistic",
    domain=domains.measures(),
    reference=_generalized_kl_divergence_reference,
    kind="row",
    shapes=_measure_shapes,
    conditions={"axis": "int"},
    checks=_check_measures,
    aliases=("convex_kl_divergence",),
    variants=({"log_input": False},),
    conventions=(Convention("optax.losses.generalized_kl_divergence", when={"log_input": True}),),
)
def generalized_kl_divergence(y_true, y_pred, *, log_input=True, axis=-1, xp):
    """Generalized KL divergence of nonnegative measures: Σ_c p log(p / q) − p + q over ``axis``, per sample.

    The Bregman divergence of f(x) = x log x − x (Bregman 1967; Boyd & Vandenberghe,
    *Convex Optimization*, p. 90): the KL divergence for p and q that need not sum to 1, ≥ 0,
    0 only at q = p; for normalized p and q it is :func:`kl_divergence`. ``y_true`` is p ≥ 0;
    ``y_pred`` is log q, as optax's log_predictions (any real: a model's raw output), or q ≥ 0
    itself with ``log_input=False``. 0·log 0 = 0; q = 0 with p > 0 reads log q as that of the
    smallest normal number, finite, as the cross-entropies do. optax's ``convex_kl_divergence``
    is the same function (deprecated since optax 0.2.4): here an alias.
    """
    if log_input:
        log_q = xp.maximum(y_pred, xp.finfo(y_pred.dtype).min)
        q = xp.exp(y_pred)
    else:
        log_q, q = xp.log(xp.maximum(y_pred, xp.finfo(y_pred.dtype).smallest_normal)), y_pred
    return xp.sum(xp.xlogy(y_true, y_true) - y_true * log_q + (q - y_true), axis=axis)


convex_kl_divergence = generalized_kl_divergence
