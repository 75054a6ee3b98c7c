"""Independent references: each loss's per-element formula in plain Python.

Written from the definitions, not from the specs: no xp, no stability tricks, one branch per
case of the definition. Each takes scalars and ``m``, a math module: ``mpmath`` (the tests,
at 50 digits, so the formulas need no care) or ``math`` (the ``multiloss`` command when
mpmath is absent, in float64). A loss whose terms can cancel returns the tuple of its terms:
its value is their sum, and a float computation of it is accurate relative to the sum of
their magnitudes, not to the (possibly tiny) result, so tolerances scale with that.
"""

from __future__ import annotations

__all__ = ["REFERENCES", "ROW_REFERENCES", "derivative"]


def mean_squared_error(y_true, y_pred, *, m):
    return (y_pred - y_true) ** 2


def mean_absolute_error(y_true, y_pred, *, m):
    return abs(y_pred - y_true)


def huber(y_true, y_pred, *, delta, m):
    a = abs(y_pred - y_true)
    return a * a / 2 if a <= delta else delta * (a - delta / 2)


def smooth_l1(y_true, y_pred, *, beta, m):
    a = abs(y_pred - y_true)
    if beta == 0:
        return a
    return a * a / (2 * beta) if a < beta else a - beta / 2


def log_cosh(y_true, y_pred, *, m):
    return m.log(m.cosh(y_pred - y_true))


def quantile(y_true, y_pred, *, q, m):
    d = y_true - y_pred
    return q * d if d >= 0 else (q - 1) * d


def mean_squared_log_error(y_true, y_pred, *, m):
    return (m.log(1 + y_pred) - m.log(1 + y_true)) ** 2


def poisson(y_true, y_pred, *, log_input, m):
    rate = m.exp(y_pred) if log_input else y_pred
    return rate, -(0 if y_true == 0 else y_true * m.log(rate))


REFERENCES = {
    f.__name__: f
    for f in (
        mean_squared_error,
        mean_absolute_error,
        huber,
        smooth_l1,
        log_cosh,
        quantile,
        mean_squared_log_error,
        poisson,
    )
}


ROW_REFERENCES: dict = {}  # per-row losses (classes on the last axis), filled by later families


def derivative(f, x, m):
    """df/dx by mpmath's central difference at the working precision: at a kink, the
    midpoint of the one-sided slopes."""
    return m.diff(f, x)
