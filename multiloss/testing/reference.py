"""Independent references: each loss's per-element formula in plain Python.

Written from the definitions, not from the specs: no xp, no stability tricks, one branch per
case of the definition. Each takes scalars and ``m``, a math module: ``mpmath`` (the tests,
at 60 digits, so the formulas need no care) or ``math`` (the ``multiloss`` command when
mpmath is absent, in float64). A loss whose terms can cancel returns the tuple of its terms:
its value is their sum, and a float computation of it is accurate relative to the sum of
their magnitudes, not to the (possibly tiny) result, so tolerances scale with that.
"""

from __future__ import annotations

__all__ = ["REFERENCES", "ROW_REFERENCES", "Weighted", "derivatives"]


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



# --- classification (elementwise) -----------------------------------------------------------
def _log_sigmoid(x, m):
    return -m.log1p(m.exp(-x))


def _binary_logs(y_pred, from_logits, m):
    if from_logits:
        return _log_sigmoid(y_pred, m), _log_sigmoid(-y_pred, m)
    return m.log(y_pred), m.log(1 - y_pred)


def binary_cross_entropy(y_true, y_pred, *, from_logits, label_smoothing, pos_weight, m):
    y = y_true * (1 - label_smoothing) + label_smoothing / 2
    log_p, log_q = _binary_logs(y_pred, from_logits, m)
    return -(1 if pos_weight is None else pos_weight) * y * log_p, -(1 - y) * log_q


def binary_focal(y_true, y_pred, *, alpha, gamma, from_logits, m):
    log_p, log_q = _binary_logs(y_pred, from_logits, m)
    p_t = y_true * m.exp(log_p) + (1 - y_true) * m.exp(log_q)
    one_minus_pt = y_true * m.exp(log_q) + (1 - y_true) * m.exp(log_p)  # not 1 − p_t: no cancellation
    del p_t
    a = 1 if alpha is None else alpha * y_true + (1 - alpha) * (1 - y_true)
    w = a * one_minus_pt**gamma
    return -w * y_true * log_p, -w * (1 - y_true) * log_q


def hinge(y_true, y_pred, *, m):
    y = -1 if y_true == 0 else y_true
    return max(0, 1 - y * y_pred)


def squared_hinge(y_true, y_pred, *, m):
    return hinge(y_true, y_pred, m=m) ** 2


REFERENCES.update(
    {f.__name__: f for f in (binary_cross_entropy, binary_focal, hinge, squared_hinge)}
)


# --- classification (per row: y_true and y_pred are lists over the classes) -----------------
class Weighted:
    """A per-item loss that weights itself: its (already weighted) terms and its weight in the
    divisor of the mean (class weights; 0 for an ignored label)."""

    def __init__(self, terms, weight):
        self.terms, self.weight = terms, weight


def _neg_log_probs(row, from_logits, m):
    """For each class, the terms of −log p_c: (lse, −x_c) from logits, (−log p_c,) from
    probabilities. Kept apart so that a scale sees the cancellation of lse − x_c."""
    if not from_logits:
        return [(-m.log(p),) for p in row]
    top = max(row)
    lse = top + m.log(m.fsum(m.exp(x - top) for x in row))
    return [(lse, -x) for x in row]


def categorical_cross_entropy(y_true, y_pred, *, from_logits, label_smoothing, axis, m):
    c = len(y_pred)
    y = [t * (1 - label_smoothing) + label_smoothing / c for t in y_true]
    nlp = _neg_log_probs(y_pred, from_logits, m)
    return tuple(t * term for t, terms in zip(y, nlp) for term in terms)


def sparse_categorical_cross_entropy(y_true, y_pred, *, from_logits, label_smoothing, class_weight, ignore_index,
                                     axis, m):
    if y_true == ignore_index:
        return Weighted((0,), 0)
    c = len(y_pred)
    w = [1] * c if class_weight is None else list(class_weight)
    nlp = _neg_log_probs(y_pred, from_logits, m)
    terms = [(1 - label_smoothing) * w[y_true] * term for term in nlp[y_true]]
    if label_smoothing:
        terms += [label_smoothing / c * w[k] * term for k in range(c) for term in nlp[k]]
    return Weighted(tuple(terms), w[y_true])


def categorical_focal(y_true, y_pred, *, alpha, gamma, from_logits, axis, m):
    nlp = _neg_log_probs(y_pred, from_logits, m)
    a = 1 if alpha is None else alpha
    return tuple(a * (1 - m.exp(-sum(terms))) ** gamma * t * term for t, terms in zip(y_true, nlp) for term in terms)


def categorical_hinge(y_true, y_pred, *, m):
    positive = sum(t * s for t, s in zip(y_true, y_pred))
    wrong = max((s for t, s in zip(y_true, y_pred) if t == 0), default=-m.inf)  # none: a soft row
    return max(0, 1 + wrong - positive)


def kl_divergence(y_true, y_pred, *, from_logits, axis, m):
    nlp = _neg_log_probs(y_pred, from_logits, m)
    return tuple(x for t, terms in zip(y_true, nlp) for x in (t * m.log(t) if t else 0, *(t * term for term in terms)))


ROW_REFERENCES = {
    f.__name__: f
    for f in (
        categorical_cross_entropy,
        sparse_categorical_cross_entropy,
        categorical_focal,
        categorical_hinge,
        kl_divergence,
    )
}


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
