"""Writing a loss's independent reference: its definition in plain Python over scalars.

A reference (``@multiloss.loss(reference=...)``) is written from the loss's definition, not
from its kernel: no ``xp``, no stability tricks, one branch per case of the definition. It
takes one item's inputs (scalars for ``kind="element"``, lists for ``"row"``, the whole batch
for ``"batch"``), the loss's parameters and ``m``, a math module: ``mpmath`` (the tests, at 60
digits, so that the formula needs no care) or ``math`` (the ``multiloss`` command without
mpmath, in float64).

A loss whose terms can cancel returns the tuple of its terms: its value is their sum, and a
floating-point evaluation of it is accurate relative to the sum of their magnitudes, not to
the (possibly tiny) result, so the matrix's tolerances scale with that. An item that weights
itself (class weights, an ignored label) returns :class:`Weighted`.
"""

from __future__ import annotations

__all__ = ["Weighted", "hinge", "number"]


class Weighted:
    """An item's (already weighted) ``terms`` and its ``weight`` in the divisor of the mean
    (its class weight; 0 for an ignored label)."""

    def __init__(self, terms, weight):
        self.terms, self.weight = terms, weight


def number(x, m):
    """A float parameter as a number of ``m``, so that arithmetic with it does not round."""
    return m.mpf(x) if hasattr(m, "mpf") else x


def hinge(terms) -> tuple:
    """The terms of max(Σ terms, 0), plus one that is 0 where the sum is positive and cancels it
    elsewhere: the value is exact, the scale stays that of the terms (a float evaluation at the
    kink may round to a tiny positive value), and a central difference across the kink takes
    half of the slope."""
    total = sum(terms)
    return (*terms, 0 * total if total > 0 else -total)
