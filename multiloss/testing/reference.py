"""Independent references: each loss's formula in plain Python.

Written from the definitions, not from the specs: no xp, no stability tricks, one branch per
case of the definition. ``REFERENCES`` take one element's scalars, ``ROW_REFERENCES`` one
row's lists (classes or features last), ``BATCH_REFERENCES`` the whole batch (in-batch losses)
and return a list of items; each also takes ``m``, a math module: ``mpmath`` (the tests,
at 60 digits, so the formulas need no care) or ``math`` (the ``multiloss`` command when
mpmath is absent, in float64). A loss whose terms can cancel returns the tuple of its terms:
its value is their sum, and a float computation of it is accurate relative to the sum of
their magnitudes, not to the (possibly tiny) result, so tolerances scale with that.
"""

from __future__ import annotations

__all__ = ["BATCH_REFERENCES", "REFERENCES", "ROW_REFERENCES", "Weighted", "derivatives"]


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


def _mp(x, m):
    """A float parameter as a number of ``m`` (so that arithmetic with it does not round)."""
    return m.mpf(x) if hasattr(m, "mpf") else x


def mean_squared_log_error(y_true, y_pred, *, epsilon, m):
    if epsilon is not None:
        y_true, y_pred = max(y_true, _mp(epsilon, m)), max(y_pred, _mp(epsilon, m))
    return (m.log(1 + y_pred) - m.log(1 + y_true)) ** 2


def poisson(y_true, y_pred, *, log_input, epsilon, m):
    rate = m.exp(y_pred) if log_input else y_pred
    return rate, -(0 if y_true == 0 else y_true * m.log(rate if log_input else rate + epsilon))


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


def _binary_logs(y_pred, from_logits, m, epsilon=None, log_floor=None):
    """(log p, log(1 − p)); ``epsilon`` clips p (sigmoid(x) for logits) to [ε, 1 − ε] first,
    ``log_floor`` is the least value of each log (log 0 = −inf)."""
    if epsilon is not None:
        p = 1 / (1 + m.exp(-y_pred)) if from_logits else y_pred
        y_pred, from_logits = min(max(p, epsilon), 1 - epsilon), False
    if from_logits:
        logs = _log_sigmoid(y_pred, m), _log_sigmoid(-y_pred, m)
    else:
        logs = tuple(m.log(x) if x > 0 else -m.inf for x in (y_pred, 1 - y_pred))
    return logs if log_floor is None else tuple(max(x, log_floor) for x in logs)


def binary_cross_entropy(y_true, y_pred, *, from_logits, label_smoothing, pos_weight, epsilon, log_floor, m):
    y = y_true * (1 - label_smoothing) + label_smoothing / 2
    log_p, log_q = _binary_logs(y_pred, from_logits, m, epsilon, log_floor)
    return -(1 if pos_weight is None else pos_weight) * y * log_p, -(1 - y) * log_q


def binary_focal(y_true, y_pred, *, alpha, gamma, from_logits, epsilon, m):
    log_p, log_q = _binary_logs(y_pred, from_logits, m)
    one_minus_pt = y_true * m.exp(log_q) + (1 - y_true) * m.exp(log_p)  # not 1 − p_t: no cancellation
    log_p, log_q = _binary_logs(y_pred, from_logits, m, epsilon)  # the clip reaches the logs only
    a = 1 if alpha is None else alpha * y_true + (1 - alpha) * (1 - y_true)
    w = a * one_minus_pt**gamma
    return -w * y_true * log_p, -w * (1 - y_true) * log_q


def hinge(y_true, y_pred, *, labels, m):
    if labels == "binary_batch":
        raise ValueError("labels='binary_batch' reads the whole batch: there is no per-element reference")
    y = -1 if y_true == 0 and labels == "zero_negative" else y_true
    return max(0, 1 - y * y_pred)


def squared_hinge(y_true, y_pred, *, labels, m):
    return hinge(y_true, y_pred, labels=labels, m=m) ** 2


REFERENCES.update(
    {f.__name__: f for f in (binary_cross_entropy, binary_focal, hinge, squared_hinge)}
)


# --- classification (per row: y_true and y_pred are lists over the classes) -----------------
class Weighted:
    """A per-item loss that weights itself: its (already weighted) terms and its weight in the
    divisor of the mean (class weights; 0 for an ignored label)."""

    def __init__(self, terms, weight):
        self.terms, self.weight = terms, weight


def _neg_log_probs(row, from_logits, m, epsilon=None, normalize=False):
    """For each class, the terms of −log p_c: (lse, −x_c) from logits, (−log p_c,) from
    probabilities, and with ``normalize`` (p / Σp; a softmax sums to 1) + log Σp. Kept apart so
    that a scale sees their cancellation. ``epsilon`` clips p to [ε, 1 − ε]: a clipped class's
    terms become the one term −log of the bound."""
    if from_logits:
        top = max(row)
        lse = top + m.log(m.fsum(m.exp(x - top) for x in row))
        nlp = [(lse, -x) for x in row]
    else:
        total = (m.log(m.fsum(row)),) if normalize else ()
        nlp = [(-m.log(p), *total) for p in row]
    if epsilon is None:
        return nlp
    low, high = -m.log(1 - epsilon), -m.log(epsilon)
    return [terms if low <= sum(terms) <= high else (min(max(sum(terms), low), high),) for terms in nlp]


def categorical_cross_entropy(y_true, y_pred, *, from_logits, label_smoothing, epsilon, normalize, axis, m):
    c = len(y_pred)
    y = [t * (1 - label_smoothing) + label_smoothing / c for t in y_true]
    nlp = _neg_log_probs(y_pred, from_logits, m, epsilon, normalize)
    return tuple(t * term for t, terms in zip(y, nlp) for term in terms)


def sparse_categorical_cross_entropy(y_true, y_pred, *, from_logits, label_smoothing, class_weight, ignore_index,
                                     epsilon, normalize, axis, m):
    if y_true == ignore_index:
        return Weighted((0,), 0)
    c = len(y_pred)
    w = [1] * c if class_weight is None else list(class_weight)
    nlp = _neg_log_probs(y_pred, from_logits, m, epsilon)
    if normalize:  # after the clip: −log(p_c / Σp) = −log p_c + log Σp
        log_total = m.log(m.fsum(m.exp(-sum(terms)) for terms in nlp))
        nlp = [(*terms, log_total) for terms in nlp]
    terms = [(1 - label_smoothing) * w[y_true] * term for term in nlp[y_true]]
    if label_smoothing:
        terms += [label_smoothing / c * w[k] * term for k in range(c) for term in nlp[k]]
    return Weighted(tuple(terms), w[y_true])


def categorical_focal(y_true, y_pred, *, alpha, gamma, from_logits, epsilon, normalize, axis, m):
    nlp = _neg_log_probs(y_pred, from_logits, m, epsilon, normalize)
    a = 1 if alpha is None else alpha
    return tuple(a * (1 - m.exp(-sum(terms))) ** gamma * t * term for t, terms in zip(y_true, nlp) for term in terms)


def categorical_hinge(y_true, y_pred, *, zero_true_class, m):
    positive = sum(t * s for t, s in zip(y_true, y_pred))
    if zero_true_class:  # Keras: max over every class of (1 − y)·ŷ
        wrong = max((1 - t) * s for t, s in zip(y_true, y_pred))
    else:
        wrong = max((s for t, s in zip(y_true, y_pred) if t == 0), default=-m.inf)  # none: a soft row
    return max(0, 1 + wrong - positive)


def kl_divergence(y_true, y_pred, *, from_logits, log_input, epsilon, class_mean, axis, m):
    nlp = [(-x,) for x in y_pred] if log_input else _neg_log_probs(y_pred, from_logits, m)
    if epsilon is not None:  # both distributions clipped to [ε, 1]
        y_true = [min(max(t, epsilon), 1) for t in y_true]
        high = -m.log(epsilon)
        nlp = [terms if 0 <= sum(terms) <= high else (min(max(sum(terms), 0), high),) for terms in nlp]
    k = len(y_pred) if class_mean else 1
    return tuple(x / k for t, terms in zip(y_true, nlp) for x in (t * m.log(t) if t else 0, *(t * term for term in terms)))


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


# --- embedding, ranking, probabilistic, segmentation ----------------------------------------
def _hinge(terms):
    """The terms of max(Σ terms, 0), plus one that is 0 where the sum is positive and cancels it
    elsewhere: the value is exact, the scale stays that of the terms (a float evaluation at the
    kink may round to a tiny positive value), and a central difference across the kink takes
    half of the slope."""
    total = sum(terms)
    return (*terms, 0 * total if total > 0 else -total)


def _inverse(p, m):
    return 1 / _mp(p, m)


def _pairwise(a, b, p, eps, eps_at, m):
    """PyTorch's pairwise distance ‖a − b + eps‖_p, or (Σ|a − b|^p + eps)^(1/p) (optax's)."""
    if eps_at == "sum":
        return (m.fsum(abs(x - y) ** p for x, y in zip(a, b)) + eps) ** _inverse(p, m)
    d = [x - y + eps for x, y in zip(a, b)]
    if p == 2:
        return m.sqrt(m.fsum(t * t for t in d))
    return m.fsum(abs(t) ** p for t in d) ** _inverse(p, m)


def _cosine_terms(a, b, m, floor=0, shift=0):
    """The terms a_i·b_i / (‖a‖‖b‖) of cos(a, b), each norm at least ``floor``, each squared norm
    plus ``shift``; none (cos = 0) for a zero vector."""
    norms = [max(m.sqrt(m.fsum(x * x for x in v) + shift), _mp(floor, m)) for v in (a, b)]
    den = norms[0] * norms[1]
    return tuple(x * y / den for x, y in zip(a, b)) if den else (0 * den,)


def _distance_terms(a, b, distance, p, eps, eps_at, m):
    if distance == "cosine":
        return (1, *(-t for t in _cosine_terms(a, b, m)))
    return (_pairwise(a, b, p, eps, eps_at, m),)


def contrastive(y_true, x1, x2, *, margin, distance, m):
    if distance == "euclidean":
        d2 = m.fsum((a - b) ** 2 for a, b in zip(x1, x2))
        gap = max(margin - m.sqrt(d2), 0)
        return y_true * d2 / 2, (1 - y_true) * gap * gap / 2
    # 1 − cos is as accurate as cos: absolutely. The squares are expanded into cos's terms so
    # that their scale says so: ½y(1 − c)² and ½(1 − y)(margin − 1 + c)² with c = Σ t.
    t = _cosine_terms(x1, x2, m)
    c = sum(t)
    similar = (y_true / 2, *(-y_true * x for x in t), y_true * c * c / 2)
    k = margin - 1
    apart = ((1 - y_true) * k * k / 2, *((1 - y_true) * k * x for x in t), (1 - y_true) * c * c / 2)
    return similar + (apart if k + c > 0 else tuple(0 * x for x in apart))


def triplet_margin(anchor, positive, negative, *, margin, p, eps, swap, distance, eps_at, m):
    ap = _distance_terms(anchor, positive, distance, p, eps, eps_at, m)
    an = _distance_terms(anchor, negative, distance, p, eps, eps_at, m)
    if swap:
        pn = _distance_terms(positive, negative, distance, p, eps, eps_at, m)
        an = pn if sum(pn) < sum(an) else an
    return _hinge((*ap, *(-t for t in an), margin))


def cosine_similarity(y_true, y_pred, *, axis, epsilon, m):
    return tuple(-t for t in _cosine_terms(y_true, y_pred, m, floor=epsilon))


def cosine_embedding(y_true, x1, x2, *, margin, eps, m):
    t = _cosine_terms(x1, x2, m, shift=eps)
    if y_true == 1:
        return (1, *(-x for x in t))
    return _hinge((*t, -margin))


def _probabilities(row, from_logits, m):
    """A row of probabilities, or from logits its softmax (a sigmoid for a single channel)."""
    if not from_logits:
        return row
    if len(row) == 1:
        return [1 / (1 + m.exp(-row[0]))]
    total = m.fsum(m.exp(x) for x in row)
    return [m.exp(x) / total for x in row]


def dice(y_true, y_pred, *, smooth, axis, epsilon, from_logits, m):
    """1 − (2Σyŷ + s)/(Σy + Σŷ + s + ε), as its non-negative terms:
    (Σ[y(1 − ŷ) + (1 − y)ŷ] + ε)/(Σy + Σŷ + s + ε), the same number (2Σyŷ + s cancels against
    Σy + Σŷ + s), whose magnitudes are the scale."""
    y_pred = _probabilities(y_pred, from_logits, m)
    den = m.fsum(y_true) + m.fsum(y_pred) + smooth + epsilon
    if den == 0:  # an empty mask predicted empty, without smoothing: a perfect match
        den = 1
    return (*((y * (1 - p) + (1 - y) * p) / den for y, p in zip(y_true, y_pred)), epsilon / den)


def tversky(y_true, y_pred, *, alpha, beta, smooth, axis, epsilon, from_logits, m):
    """1 − (TP + s)/(TP + α·FP + β·FN + s + ε), as its terms
    (α·FP + β·FN + ε)/(TP + α·FP + β·FN + s + ε)."""
    y_pred = _probabilities(y_pred, from_logits, m)
    tp = m.fsum(y * p for y, p in zip(y_true, y_pred))
    penalties = [alpha * (1 - y) * p + beta * y * (1 - p) for y, p in zip(y_true, y_pred)] + [epsilon]
    den = tp + m.fsum(penalties) + smooth
    return tuple(x / (den if den else 1) for x in penalties)


ROW_REFERENCES.update(
    {f.__name__: f for f in (contrastive, triplet_margin, cosine_similarity, cosine_embedding, dice, tversky)}
)


def margin_ranking(y_true, x1, x2, *, margin, m):
    return _hinge((-y_true * x1, y_true * x2, margin))


def gaussian_nll(y_true, mean, var, *, eps, full, m):
    v = max(var, eps)
    terms = (m.log(v) / 2, (mean - y_true) ** 2 / (2 * v))
    return terms + (m.log(2 * m.pi) / 2,) if full else terms


REFERENCES.update({f.__name__: f for f in (margin_ranking, gaussian_nll)})


# --- in-batch losses: each item depends on the whole batch ----------------------------------
def batch_hard_triplet(labels, embeddings, *, margin, squared, m):
    """Per anchor: the hardest positive (other rows of its label) and negative by distance."""

    def distance(a, b):
        d2 = m.fsum((x - y) ** 2 for x, y in zip(a, b))
        return d2 if squared else m.sqrt(d2)

    out = []
    for i, (label, anchor) in enumerate(zip(labels, embeddings)):
        pos = [distance(anchor, e) for j, (k, e) in enumerate(zip(labels, embeddings)) if k == label and j != i]
        neg = [distance(anchor, e) for k, e in zip(labels, embeddings) if k != label]
        if not pos or not neg:
            out.append(Weighted((0,), 0))
        else:
            out.append(Weighted(_hinge((max(pos), -min(neg), margin)), 1))
    return out


def nt_xent(z1, z2, *, temperature, m):
    """SimCLR: view k of the 2N has its other view as positive and every other view j ≠ k in the
    denominator; each pair's value is the mean of its two views' losses."""
    views, n = list(z1) + list(z2), len(z1)
    norms = [m.sqrt(m.fsum(x * x for x in v)) for v in views]

    def cosine_terms(k, j):
        return tuple(x * y / (norms[k] * norms[j]) for x, y in zip(views[k], views[j]))

    out = []
    for i in range(n):
        terms = []
        for k in (i, i + n):
            sims = [m.fsum(cosine_terms(k, j)) / temperature for j in range(2 * n) if j != k]
            # log Σ_j e^{s_j} = Σ_j p_j·(s_j − log p_j), p = softmax(s): as terms, so that the
            # scale holds what each similarity contributes rather than the (cancelling) total.
            top = max(sims)
            lse = top + m.log(m.fsum(m.exp(s - top) for s in sims))
            for s in sims:
                p = m.exp(s - lse)
                terms += [p * s / 2, -p * (s - lse) / 2]
            terms += [-t / (2 * temperature) for t in cosine_terms(k, (k + n) % (2 * n))]
        out.append(tuple(terms))
    return out


BATCH_REFERENCES = {f.__name__: f for f in (batch_hard_triplet, nt_xent)}
