"""Probabilistic losses: the Gaussian negative log-likelihood."""

from __future__ import annotations

import math

from multiloss import _validation as v
from multiloss import domains
from multiloss.losses._scaling import power_of_two
from multiloss.registry import Convention, loss

__all__ = ["gaussian_nll"]

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
