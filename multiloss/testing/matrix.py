"""The check matrix: cases from the registry, their inputs, and reference values/gradients.

Shared by the test suite and the ``multiloss`` command so both check the same thing: every
registered loss, at its default parameters and each registered variant, on inputs drawn from
its domain, against the independent per-element reference of :mod:`multiloss.testing.reference`.
"""

from __future__ import annotations

import zlib

import numpy as np

from multiloss.registry import REGISTRY, LossSpec
from multiloss.testing.reference import REFERENCES, derivative

__all__ = ["Case", "EPS", "GRAD_ULPS", "TINY", "ULPS", "cases", "check", "math_module"]

#: Machine epsilon and smallest subnormal of each floating dtype.
EPS = {"float64": 2.0**-52, "float32": 2.0**-23, "float16": 2.0**-10, "bfloat16": 2.0**-7}
TINY = {"float64": 2.0**-1074, "float32": 2.0**-149, "float16": 2.0**-24, "bfloat16": 2.0**-133}
#: The accuracy every loss must reach: per-element values within ULPS × eps of the reference,
#: relative to the scale of the loss's terms (see Case.reference); gradients within GRAD_ULPS,
#: which adds the reduction's backward (1/Σw, ×w) to the kernel's derivative chain.
ULPS = 4
GRAD_ULPS = 8


def compute_dtype(dtype: str) -> str:
    """The dtype the library computes in for a ``dtype`` input (16-bit floats use float32)."""
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def math_module():
    """mpmath at 50 digits when installed, else math (float64)."""
    try:
        import mpmath
    except ImportError:
        import math

        return math
    mpmath.mp.dps = 50
    return mpmath


class Case:
    """One loss at one parameter setting, with inputs of a fixed shape from its domain."""

    def __init__(self, spec: LossSpec, params: dict, shape=(6, 8)):
        self.spec, self.params, self.shape = spec, {**spec.params, **params}, shape
        rng = np.random.default_rng(zlib.crc32(repr((spec.name, sorted(params.items()))).encode()))
        raw = spec.domain(rng, int(np.prod(shape)), self.params)
        self.inputs = {k: np.asarray(v, np.float64).reshape(shape) for k, v in raw.items()}
        self.id = spec.name + "".join(f"-{k}={v}" for k, v in params.items())

    def call(self, *arrays, **kwargs):
        return self.spec.function(*arrays, **self.params, **kwargs)

    def reference(self, inputs: dict, m, gradients: bool = True):
        """Per-element reference values and gradients, each with its scale.

        Returns (values, scales, grads, grad_scales); grads map each input name to
        d(loss_i)/d(input_i) (empty without ``gradients``). A scale is the sum of the
        magnitudes of the loss's terms (or of their derivatives): what a floating-point
        evaluation's error is proportional to.
        """
        ref = REFERENCES[self.spec.name]
        names = self.spec.inputs
        out = {k: [] for k in ("value", "scale", *(f"g_{n}" for n in names), *(f"s_{n}" for n in names))}
        for point in zip(*(inputs[n].ravel() for n in names)):
            args = dict(zip(names, (m.mpf(float(x)) if hasattr(m, "mpf") else float(x) for x in point)))

            def terms(**change):
                t = ref(**{**args, **change}, **self.params, m=m)
                return t if isinstance(t, tuple) else (t,)

            values = terms()
            out["value"].append(float(sum(values)))
            out["scale"].append(float(sum(abs(t) for t in values)))
            for n in names if gradients else ():
                slopes = [derivative(lambda x, n=n, k=k: terms(**{n: x})[k], args[n], m) for k in range(len(values))]
                out[f"g_{n}"].append(float(sum(slopes)))
                out[f"s_{n}"].append(float(sum(abs(s) for s in slopes)))
        arr = {k: np.reshape(np.array(v, np.float64), self.shape) for k, v in out.items() if v}
        return (
            arr["value"],
            arr["scale"],
            {n: arr[f"g_{n}"] for n in names if gradients},
            {n: arr[f"s_{n}"] for n in names if gradients},
        )


def cases(shape=(6, 8)) -> list[Case]:
    """Every registered loss at its defaults and at each registered variant."""
    return [Case(spec, p, shape) for spec in REGISTRY.values() for p in ({}, *spec.variants)]


def _ulps(got, expected, scale, dtype):
    """|got − expected| in units of eps(dtype) × scale (subnormal noise ignored)."""
    err = np.abs(np.asarray(got, np.float64) - expected)
    err = np.where(err <= TINY[dtype], 0.0, err)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(err == 0, 0.0, err / (EPS[compute_dtype(dtype)] * scale))


def check(case: Case, backend, dtype: str, m) -> dict:
    """Run ``case`` on ``backend`` in ``dtype``; compare per-element values and gradients of the
    sum with the reference. Returns the mean loss, the worst errors in ulps and ``ok``.

    Gradients are checked only against mpmath's derivatives: a float64 finite difference
    cannot resolve kinks and domain edges closer than its step."""
    arrays = [backend.from_numpy(case.inputs[n], dtype) for n in case.spec.inputs]
    rounded = {n: backend.to_numpy(a).astype(np.float64) for n, a in zip(case.spec.inputs, arrays)}
    with_grads = backend.value_and_grad is not None and hasattr(m, "diff")
    values, scales, grads, gscales = case.reference(rounded, m, gradients=with_grads)
    got = backend.to_numpy(case.call(*arrays, reduction="none"))
    result = {
        "value": float(np.mean(got, dtype=np.float64)),
        "ulps": float(np.max(_ulps(got, values, scales, dtype))),
        "grad_ulps": None,
    }
    ok = result["ulps"] <= ULPS
    if with_grads:
        _, g = backend.value_and_grad(lambda *a: case.call(*a, reduction="sum"), *arrays)
        worst = 0.0
        for name, gi in zip(case.spec.inputs, g):
            defined = ~np.isnan(grads[name])
            gi = backend.to_numpy(gi)
            ok &= bool(np.all(np.isfinite(gi)))
            worst = max(worst, float(np.max(_ulps(gi[defined], grads[name][defined], gscales[name][defined], dtype))))
        result["grad_ulps"] = worst
        ok &= worst <= GRAD_ULPS
    result["ok"] = bool(ok)
    return result
