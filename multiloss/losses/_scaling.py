"""Exact rescaling: a power of two near a magnitude, for formulas whose squares or products
would overflow or underflow (or become subnormal, which XLA flushes to 0 and NumPy and PyTorch
keep) long before their result does."""

from __future__ import annotations

import math


def power_of_two(xp, m):
    """(K, 1/K), elementwise: K a power of two within a factor 2 of m > 0 (as a constant: no
    gradient flows through it), clamped so that K and 1/K are both normal numbers; 1 where m is
    0, ±inf or NaN.

    Multiplying by K or 1/K is exact (no rounding; nothing becomes subnormal), so a formula
    evaluated on x/K and scaled back by K gives the unscaled result bit for bit wherever that
    does not overflow or underflow, and the right one where it does. Always multiply by 1/K,
    never divide by K: XLA rewrites x / 2^e as x·2^−e itself, which it flushes to 0 where 2^−e
    is subnormal.
    """
    finfo = xp.finfo(m.dtype)
    low = math.frexp(float(finfo.smallest_normal))[1] - 1  # −126 in float32: 2^±126 are normal
    m = xp.stop_gradient(m)
    ok = (m > 0) & (m < math.inf)  # NaN is neither
    e = xp.clip(xp.floor(xp.log(xp.where(ok, m, 1.0)) * (1.0 / math.log(2.0))), float(low), float(-low))
    return xp.where(ok, 2.0**e, 1.0), xp.where(ok, 2.0 ** (-e), 1.0)
