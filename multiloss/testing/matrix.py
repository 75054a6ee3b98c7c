"""The check matrix: cases from the registry, their inputs, and reference values/gradients.

Shared by the test suite and the ``multiloss`` command so both check the same thing: every
registered loss, at its default parameters and each registered variant, on inputs drawn from
its domain, against its independent reference (``@loss(reference=...)``), within the tolerance
model of :mod:`multiloss.testing.numerics`.
"""

from __future__ import annotations

import zlib

import numpy as np

from multiloss.reference import Weighted
from multiloss.registry import REGISTRY, LossSpec
from multiloss.testing.numerics import GRAD_ULPS, REF_NOISE, TINY, ULPS, compute_dtype, ulps

__all__ = ["Case", "cases", "check", "derivatives", "math_module"]


def math_module():
    """mpmath at 60 digits when installed, else math (float64)."""
    try:
        import mpmath
    except ImportError:
        import math

        return math
    mpmath.mp.dps = 60
    return mpmath


def derivatives(f, x, m):
    """The derivative at x of each term of the tuple-valued f, by one central difference at
    mpmath's working precision (step 1e-25·max(1, |x|) at 60 digits: truncation ~1e-50,
    rounding ~1e-35). At a kink this is the midpoint of the one-sided slopes. A term that is
    real on one side only (a label at the edge of [0, 1] under a fractional power) has no
    derivative there: NaN."""
    h = m.mpf("1e-25") * max(1, abs(x))
    slopes = []
    for a, b in zip(f(x + h), f(x - h)):
        d = (a - b) / (2 * h)
        if isinstance(d, m.mpc):
            d = d.real if d.imag == 0 else m.nan
        slopes.append(d)
    return slopes


class Case:
    """One loss at one parameter setting, with inputs of a fixed shape from its domain."""

    def __init__(self, spec: LossSpec, params: dict, shape=(6, 8)):
        self.spec, self.params, self.shape = spec, {**spec.params, **params}, shape
        rng = np.random.default_rng(zlib.crc32(repr((spec.name, sorted(params.items()))).encode()))
        self.inputs = {k: np.asarray(v) for k, v in spec.domain(rng, shape, self.params).items()}
        self.id = spec.name + "".join(f"-{k}={v}" for k, v in params.items())

    def call(self, *arrays, **kwargs):
        return self.spec.function(*arrays, **self.params, **kwargs)

    def to_backend(self, backend, dtype: str):
        """The inputs as ``backend`` arrays in ``dtype`` (class labels stay integer), and the
        values those arrays hold, in float64 (int64 for labels), for the reference."""
        arrays, held = [], {}
        for n in self.spec.inputs:
            x = backend.from_numpy(self.inputs[n], None if n in self.spec.indices else dtype)
            arrays.append(x)
            held[n] = self.inputs[n] if n in self.spec.indices else backend.to_numpy(x).astype(np.float64)
        return arrays, held

    def grad_of_sum(self, backend, arrays, **kwargs):
        """Gradients of ``call(..., **kwargs)`` with respect to each floating input, by name."""
        names = [n for n in self.spec.inputs if n not in self.spec.indices]
        fixed = dict(zip(self.spec.inputs, arrays))

        def f(*floats):
            return self.call(*({**fixed, **dict(zip(names, floats))}[n] for n in self.spec.inputs), **kwargs)

        _, grads = backend.value_and_grad(f, *(fixed[n] for n in names))
        return dict(zip(names, grads))

    @property
    def kind(self) -> str:
        """The loss's ``kind``: "element", "row" or "batch" (see multiloss.registry.KINDS)."""
        return self.spec.kind

    @property
    def out_shape(self) -> tuple:
        return self.shape if self.kind == "element" else self.shape[:-1]

    def reference(self, inputs: dict, m, gradients: bool = True, weights=None):
        """Per-item reference values, and gradients of the weighted sum, each with its scale.

        Returns (values, scales, grads, grad_scales, item_weights): values and scales have the
        loss's per-item shape, and so do the weights a self-weighting loss counts in the mean's
        divisor (ones otherwise); grads map each floating input to d(Σ_i w_i·loss_i)/d(input),
        ``weights`` w of the per-item shape (default ones), with the input's shape (empty
        without ``gradients``). A scale is the sum of the magnitudes of the loss's terms (or of
        their derivatives): what a floating-point evaluation's error is proportional to.
        Per-row losses get rows (lists) of their full-rank inputs; in-batch losses the whole batch.
        """
        names = self.spec.inputs
        floats = [n for n in names if n not in self.spec.indices] if gradients else []
        mp = hasattr(m, "mpf")
        w = np.ones(self.out_shape) if weights is None else np.asarray(weights, np.float64)

        def convert(x, n):
            if n in self.spec.indices:
                return int(x)
            return m.mpf(float(x)) if mp else float(x)

        def nested(a, n):
            return [nested(x, n) for x in a] if np.ndim(a) else convert(a, n)

        def split(result):
            """(terms, weight) of one item's reference result."""
            if isinstance(result, Weighted):
                return (result.terms if isinstance(result.terms, tuple) else (result.terms,)), result.weight
            return (result if isinstance(result, tuple) else (result,)), 1

        if self.kind == "batch":
            ref = self.spec.reference
            args = {n: nested(inputs[n], n) for n in names}

            def items(**change):
                return [split(r) for r in ref(**{**args, **change}, **self.params, m=m)]

            def weighted_terms(**change):
                return tuple(wi * t for wi, (terms, _) in zip(w.ravel(), items(**change)) for t in terms)

            items_at = items()
            values = np.array([float(sum(t)) for t, _ in items_at]).reshape(self.out_shape)
            scales = np.array([float(sum(abs(x) for x in t)) for t, _ in items_at]).reshape(self.out_shape)
            item_weights = np.array([float(k) for _, k in items_at]).reshape(self.out_shape)
            grads, gscales = {}, {}
            for n in floats:
                grads[n], gscales[n] = np.zeros(inputs[n].shape), np.zeros(inputs[n].shape)
                for where in np.ndindex(*inputs[n].shape):
                    def along(x, n=n, where=where):
                        changed = nested(inputs[n], n)
                        row = changed
                        for i in where[:-1]:
                            row = row[i]
                        row[where[-1]] = x
                        return weighted_terms(**{n: changed})

                    slopes = derivatives(along, convert(inputs[n][where], n), m)
                    grads[n][where] = float(sum(slopes))
                    gscales[n][where] = float(sum(abs(s) for s in slopes))
            return values, scales, grads, gscales, item_weights

        ref = self.spec.reference
        values, scales, item_weights = np.zeros(self.out_shape), np.zeros(self.out_shape), np.ones(self.out_shape)
        grads = {n: np.zeros(inputs[n].shape) for n in floats}
        gscales = {n: np.zeros(inputs[n].shape) for n in floats}
        for idx in np.ndindex(*self.out_shape):
            args = {n: nested(inputs[n][idx], n) for n in names}

            def terms(change, args=args):
                return split(ref(**{**args, **change}, **self.params, m=m))[0]

            value, item_weights[idx] = split(ref(**args, **self.params, m=m))
            values[idx] = float(sum(value))
            scales[idx] = float(sum(abs(t) for t in value))
            for n in floats:  # each element of the item's part of the input (a row may be a matrix)
                coords = list(np.ndindex(*np.shape(inputs[n][idx]))) if isinstance(args[n], list) else [None]
                for j in coords:
                    def along(x, n=n, j=j, terms=terms, args=args, idx=idx):
                        if j is None:
                            return terms({n: x})
                        row = nested(inputs[n][idx], n)
                        inner = row
                        for k in j[:-1]:
                            inner = inner[k]
                        inner[j[-1]] = x
                        return terms({n: row})

                    at = args[n]
                    for k in j or ():
                        at = at[k]
                    slopes = derivatives(along, at, m)
                    where = idx if j is None else idx + j
                    grads[n][where] = w[idx] * float(sum(slopes))
                    gscales[n][where] = abs(w[idx]) * float(sum(abs(s) for s in slopes))
        return values, scales, grads, gscales, item_weights


def cases(shape=(6, 8)) -> list[Case]:
    """Every registered loss that has a reference and a domain, at its defaults and each variant.

    Every built-in has both (a built-in without is an error here, never a silent skip); a loss
    of the user's own is checked when registered with ``domain`` and ``reference``."""
    missing = [s.name for s in REGISTRY.values() if s.builtin and (s.reference is None or s.domain is None)]
    if missing:
        raise ValueError(f"built-in losses without a reference or a domain: {missing}")
    return [
        Case(spec, p, shape)
        for spec in REGISTRY.values()
        if spec.reference is not None and spec.domain is not None
        for p in ({}, *spec.variants)
    ]


def _ulps(got, expected, scale, dtype, noise=0.0):
    """|got − expected| in ulps of the compute dtype × ``scale``; errors below ``dtype``'s
    subnormal floor or ``noise`` (the reference's own error) count as 0."""
    err = np.abs(np.asarray(got, np.float64) - expected)
    return ulps(err, scale, compute_dtype(dtype), floor=max(TINY[dtype], noise))


def check(case: Case, backend, dtype: str, m) -> dict:
    """Run ``case`` on ``backend`` in ``dtype``; compare per-element values and gradients of the
    sum with the reference. Returns the mean loss, the worst errors in ulps and ``ok``.

    Gradients are checked only against mpmath's derivatives: a float64 finite difference
    cannot resolve kinks and domain edges closer than its step."""
    arrays, held = case.to_backend(backend, dtype)
    with_grads = backend.value_and_grad is not None and hasattr(m, "mpf")
    values, scales, grads, gscales, _ = case.reference(held, m, gradients=with_grads)
    got = backend.to_numpy(case.call(*arrays, reduction="none"))
    result = {
        "value": float(np.mean(got, dtype=np.float64)),
        "ulps": float(np.max(_ulps(got, values, scales, dtype), initial=0.0)),
        "grad_ulps": None,
    }
    ok = result["ulps"] <= ULPS + 1  # + the result's own rounding to its dtype, as in the tests
    if with_grads:
        worst = 0.0
        for name, gi in case.grad_of_sum(backend, arrays, reduction="sum").items():
            defined = ~np.isnan(grads[name])
            gi = backend.to_numpy(gi)
            ok &= bool(np.all(np.isfinite(gi)))
            errors = _ulps(gi[defined], grads[name][defined], gscales[name][defined], dtype, REF_NOISE)
            worst = max(worst, float(np.max(errors, initial=0.0)))
        result["grad_ulps"] = worst
        ok &= worst <= GRAD_ULPS
    result["ok"] = bool(ok)
    return result
