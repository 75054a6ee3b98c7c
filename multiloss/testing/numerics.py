"""Floating-point numerics for every check: dtype limits, errors in ulps, the tolerance model.

One copy, used by the test matrix and ``multiloss check``, ``assert_backends_agree``,
``multiloss compare`` and ``multiloss plot``. Every comparison measures an error in **ulps**:
|got − expected| in units of eps(dtype) × a *scale*, the size of the quantities the result
was computed from, since a floating-point evaluation's error is proportional to those, not
to a result that may cancel to about 0. What differs between the tools is only what is
compared with what, and so which scale and how many ulps:

- against the independent reference (the matrix, ``check``, ``compare``): ``ULPS`` rounding
  errors of the compute dtype per element relative to the sum of the magnitudes of the loss's
  terms, plus the result's own rounding to its dtype (:func:`reference_tolerance`);
  gradients ``GRAD_ULPS``, which adds the reduction's backward (1/Σw, ×w) to the chain;
- against another backend, whose own error is within that contract too (``assert_backends_agree``,
  ``plot``, ``convention=`` against its native): ``PEER_ULPS`` = 16, relative to the largest
  magnitude in play;
- against a framework's own loss (``compare``, the natives' tests): ``NATIVE_ULPS`` of the term
  scale plus max(1, |inputs|), since a native may cancel intermediates as large as its inputs
  (:func:`native_tolerance`).

Errors below a dtype's subnormal floor count as 0 (XLA flushes subnormal results to 0 where
NumPy and PyTorch keep them).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DTYPES", "EPS", "FINITE_MAX", "GRAD_ULPS", "NATIVE_ULPS", "NORMAL", "PEER_ULPS", "REF_NOISE", "TINY", "ULPS",
    "compute_dtype", "errors", "native_tolerance", "overflowed", "reference_tolerance", "relative_gap", "ulps",
]  # fmt: skip

DTYPES = ("float64", "float32", "float16", "bfloat16")
#: Machine epsilon, smallest subnormal, smallest normal and the largest value that rounds to a
#: finite number (the overflow threshold), per floating dtype.
EPS = {"float64": 2.0**-52, "float32": 2.0**-23, "float16": 2.0**-10, "bfloat16": 2.0**-7}
TINY = {"float64": 2.0**-1074, "float32": 2.0**-149, "float16": 2.0**-24, "bfloat16": 2.0**-133}
NORMAL = {"float64": 2.0**-1022, "float32": 2.0**-126, "float16": 2.0**-14, "bfloat16": 2.0**-126}
FINITE_MAX = {"float64": 1.8e308, "float32": 3.4e38, "float16": 65504.0 * (1 + 2.0**-11), "bfloat16": 3.39e38}

#: The accuracy every built-in loss reaches against the reference: per-element values within
#: ULPS × eps of the compute dtype, relative to the scale of the loss's terms; gradients
#: within GRAD_ULPS.
ULPS = 4
GRAD_ULPS = 8
#: Two results that each keep that contract, compared with each other: twice the built-ins'
#: need (their values and gradients agree within 4, float32, and 8, float64, ulps of each other).
PEER_ULPS = 16
#: A framework's own loss against the reference.
NATIVE_ULPS = 2 * ULPS
#: The reference derivative's own error: its central-difference step (1e-25) times the second
#: derivative, which matters only where the true derivative is 0 at a kink of f'' (a hinge²).
REF_NOISE = 1e-24


def compute_dtype(dtype: str) -> str:
    """The dtype the library computes in for a ``dtype`` input (16-bit floats use float32)."""
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def errors(got, expected) -> np.ndarray:
    """|got − expected| in float64; 0 where they are equal, equal infinities included."""
    got = np.asarray(got, np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(got == expected, 0.0, np.abs(got - expected))


def ulps(err, scale, dtype: str, floor: float | None = None) -> np.ndarray:
    """Errors ``err`` in units of eps(``dtype``) × ``scale``; errors at or below ``floor``
    (default: ``dtype``'s smallest subnormal) count as 0."""
    err = np.where(err <= (TINY[dtype] if floor is None else floor), 0.0, err)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(err == 0, 0.0, err / (EPS[dtype] * np.asarray(scale)))


def overflowed(values, dtype: str) -> np.ndarray:
    """``values`` as ``dtype`` can hold them: ±inf beyond its range."""
    return np.where(np.abs(values) > FINITE_MAX[dtype], np.copysign(np.inf, values), values)


def reference_tolerance(values, scales, dtype: str, ulps: float = ULPS):
    """How far a result in ``dtype`` may be from the reference ``values`` whose terms have the
    magnitudes ``scales``: ``ulps`` roundings of the compute dtype per unit of scale, plus the
    result's rounding to ``dtype`` and its subnormal floor."""
    return EPS[dtype] * np.abs(values) + ulps * EPS[compute_dtype(dtype)] * scales + TINY[dtype]


def native_tolerance(scales, magnitude, values, dtype: str, items: int = 0):
    """How far a framework's own loss may be from the reference: NATIVE_ULPS (plus ``items``
    when it returns a mean over that many) of the term scale plus ``magnitude``, max(1, |inputs|)
    per item, and both sides' rounding of the result."""
    values = np.where(np.isfinite(values), values, 0.0)
    return 2 * (ULPS + items) * EPS[dtype] * (scales + magnitude) + 2 * EPS[dtype] * np.abs(values)


def relative_gap(a, b, dtype: str, scale=0.0) -> np.ndarray:
    """|a − b| / max(|a|, |b|, 1, scale) in eps of ``dtype``, per element; equal infinities and
    NaNs are 0 apart, a NaN or infinity against anything else is inf."""
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), np.maximum(scale, 1.0)) / EPS[dtype]
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return np.where(same, 0.0, np.where(np.isnan(d), np.inf, d))
