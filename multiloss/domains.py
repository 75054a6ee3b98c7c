"""Input domains: valid inputs for each loss, with its edge cases, sampled with NumPy or drawn
with hypothesis.

Each factory below (``real_pairs("delta")``, ``binary()``, ...) returns one :class:`Domain`.
``domain(rng, shape, params) -> {input name: NumPy array}`` (float64, or int64 for class labels)
samples inputs of the shape the loss expects for items of ``shape``: the test matrix, the
``multiloss`` command and the benchmarks draw their inputs from the registered domain, never
from hand-typed arrays. Edge cases come first: kinks hit exactly, errors past where a naive
formula overflows, zeros. Values are multiples of 1/8 where a kink must be hit exactly, so that
the kink survives rounding to float16 and bfloat16. ``domain.strategy(shape, params)`` draws
inputs of the same names, shapes and kind with hypothesis, for
:mod:`multiloss.testing.strategies`.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

__all__ = [
    "Domain",
    "binary",
    "bits",
    "boxes",
    "categorical",
    "counts_and_rates",
    "ctc",
    "distributions",
    "gaussian",
    "label_lists",
    "labelled_embeddings",
    "masks",
    "mined_embeddings",
    "measures",
    "nonnegative_pairs",
    "paired_embeddings",
    "pairs",
    "ranked_pairs",
    "real_pairs",
    "relative_pairs",
    "relevance",
    "signs",
    "sparse",
    "triplets",
    "views",
]


class Domain:
    """One input domain: a NumPy sampler and a hypothesis strategy of the same inputs.

    ``domain(rng, shape, params)`` calls ``sample(rng, shape, params)``: ``{input name: NumPy
    array}``, deterministic edge cases first. ``domain.strategy(shape, params)`` returns
    ``strategy(shape, params)``: a hypothesis strategy of such dicts, built element by element so
    that a failing example shrinks; ``params`` needs only the scalar parameters the inputs depend
    on (``from_logits``, ``log_input``, ``ignore_index``, kink parameters). Shapes drawn for it
    have ``min_dims`` to ``max_dims`` axes. ``scalable`` names the inputs that stay valid at any
    magnitude (predictions, embeddings, logits; not probabilities or labels), or is a function
    of ``params`` returning them; :func:`multiloss.testing.strategies.inputs` scales them
    together to a drawn magnitude. Only ``strategy`` imports hypothesis (a test dependency). A
    domain of your own may be a ``Domain`` or just a sampling function.
    """

    __slots__ = ("name", "sample", "_strategy", "min_dims", "max_dims", "_scalable")

    def __init__(self, name: str, sample, strategy, min_dims: int = 1, max_dims: int = 3, scalable=()):
        self.name, self.sample, self._strategy = name, sample, strategy
        self.min_dims, self.max_dims, self._scalable = min_dims, max_dims, scalable

    def __call__(self, rng, shape, params) -> dict:
        return self.sample(rng, shape, params)

    def strategy(self, shape, params):
        return self._strategy(tuple(shape), params)

    def scalable(self, params) -> tuple[str, ...]:
        """The inputs that may take any magnitude under ``params``."""
        return tuple(self._scalable(params) if callable(self._scalable) else self._scalable)

    def __repr__(self):
        return f"Domain({self.name})"


#: Logits at the edges the losses must survive: float16's largest value, ±1e4, 0.
EXTREME_LOGITS = (65504.0, -65504.0, 1e4, -1e4, 0.0)


# --- NumPy helpers -------------------------------------------------------------------------
def _rows(rng, shape, params, scores=False):
    """Class scores of ``shape`` (classes last): logits with one extreme row, or softmax
    probabilities (strictly positive)."""
    logits = rng.normal(0.0, 2.0, shape)
    if scores or params.get("from_logits"):
        if len(shape) > 1 and shape[0] > 1 and shape[-1] > 1:
            logits[(0,) * (len(shape) - 1)][:2] = (1e4, -1e4)
        return logits
    return _softmax(logits)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _eighths(rng, shape, scale=1.0):
    """Normal values rounded to multiples of 1/8: exact in every float dtype for |x| < 32."""
    return np.round(rng.normal(0.0, scale, shape) * 8) / 8


def _axis(k, n):
    u = np.zeros(n)
    u[k % n] = 1.0
    return u


# --- hypothesis helpers ----------------------------------------------------------------------
class _Lazy:
    """A module imported on first attribute access: ``import multiloss`` must not import
    hypothesis, which only ``Domain.strategy`` needs."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)


st, hnp = _Lazy("hypothesis.strategies"), _Lazy("hypothesis.extra.numpy")

REAL = 100.0  # the largest |x| of a drawn real input
LOG_RATE = 20.0  # the largest drawn |log-rate| (exp(20) ≈ 5e8)


def _floats(low, high):
    # No subnormals: XLA (JAX, TensorFlow) flushes them to zero, so backends rightly differ there.
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _array(shape, elements, dtype=np.float64):
    return hnp.arrays(dtype, shape, elements=elements)


def _reals(shape):
    return _array(shape, _floats(-REAL, REAL))


def _unit(shape):
    """Values in [0, 1], the ends often: binary labels, masks."""
    return _array(shape, st.one_of(st.sampled_from([0.0, 1.0]), _floats(0.0, 1.0)))


def _signs(shape, zero=False):
    return _array(shape, st.sampled_from([-1.0, 0.0, 1.0] if zero else [-1.0, 1.0]))


def _normalized(x):
    """Rows (last axis) scaled to sum to 1; an all-zero row becomes uniform."""
    total = x.sum(axis=-1, keepdims=True)
    return np.where(total > 0, x / np.where(total > 0, total, 1.0), 1.0 / x.shape[-1])


def _one_hot(shape):
    return _array(shape[:-1], st.integers(0, shape[-1] - 1), np.int64).map(
        lambda k: (np.arange(shape[-1]) == k[..., None]).astype(np.float64))


def _scores(shape, logits):
    """Logits, or probability rows (a softmax of logits within ±20)."""
    return _reals(shape) if logits else _array(shape, _floats(-20.0, 20.0)).map(_softmax)


def _dict(**strategies):
    return st.fixed_dictionaries(strategies)


def _logits(params):
    """``y_pred`` when it holds logits (``from_logits``), not probabilities."""
    return ("y_pred",) if params.get("from_logits") else ()


# --- the domains: each a NumPy sampler and a hypothesis strategy -----------------------------
def real_pairs(*kink_params: str, big: float = 100.0) -> Domain:
    """y_true and y_pred on the real line; the error hits 0, ±(each kink parameter) and ±big."""

    def sample(rng, shape, params):
        n = math.prod(shape)
        kinks = [0.0] + [s * params[k] for k in kink_params for s in (1.0, -1.0)] + [big, -big]
        y_true = np.round(rng.normal(0.0, 2.0, n) * 8) / 8
        error = rng.normal(0.0, 1.5, n)
        error[: len(kinks)] = kinks[:n]
        return {"y_true": y_true.reshape(shape), "y_pred": (y_true + error).reshape(shape)}

    def strategy(shape, params):
        """y_pred = y_true + an error within ±big, often 0 or ± a kink parameter (Huber's delta)."""
        kinks = [0.0] + [s * params[k] for k in kink_params for s in (1.0, -1.0)]
        error = _array(shape, st.one_of(st.sampled_from(kinks), _floats(-big, big)))
        return st.tuples(_reals(shape), error).map(lambda t: {"y_true": t[0], "y_pred": t[0] + t[1]})

    name = "real_pairs(" + ", ".join([*map(repr, kink_params), f"big={big!r}"]) + ")"
    return Domain(name, sample, strategy, scalable=("y_true", "y_pred"))


def relative_pairs() -> Domain:
    """Targets for a relative error: y_true on the real line and often within ``epsilon`` of 0
    (0, ±ε/2, ±3ε, where the floor max(|y|, ε) decides), y_pred = y_true + an error, sometimes 0."""

    def special(params):
        eps = params.get("epsilon", 1e-7)
        return [0.0, eps / 2, -eps / 2, 3 * eps, -3 * eps]

    def sample(rng, shape, params):
        n = math.prod(shape)
        y_true = np.round(rng.normal(0.0, 2.0, n) * 8) / 8
        first = special(params) + [0.25, -0.25]
        y_true[: len(first)] = first[:n]
        error = rng.normal(0.0, 1.5, n)
        error[len(first): len(first) + 2] = 0.0
        return {"y_true": y_true.reshape(shape), "y_pred": (y_true + error).reshape(shape)}

    def strategy(shape, params):
        targets = _array(shape, st.one_of(st.sampled_from(special(params)), _floats(-REAL, REAL)))
        error = _array(shape, st.one_of(st.just(0.0), _floats(-REAL, REAL)))
        return st.tuples(targets, error).map(lambda t: {"y_true": t[0], "y_pred": t[0] + t[1]})

    return Domain("relative_pairs()", sample, strategy)


def nonnegative_pairs() -> Domain:
    """y_true, y_pred ≥ 0 (log-scale targets), with exact zeros on either side."""

    def sample(rng, shape, params):
        n = math.prod(shape)
        y_true, y_pred = rng.exponential(2.0, n), rng.exponential(2.0, n)
        y_true[:2], y_pred[1:3] = 0.0, 0.0
        return {"y_true": y_true.reshape(shape), "y_pred": y_pred.reshape(shape)}

    def strategy(shape, params):
        return _dict(y_true=_array(shape, _floats(0.0, REAL)), y_pred=_array(shape, _floats(0.0, REAL)))

    return Domain("nonnegative_pairs()", sample, strategy, scalable=("y_true", "y_pred"))


def counts_and_rates() -> Domain:
    """Poisson counts y_true ≥ 0 and a rate (or log-rate when ``log_input``) prediction.

    Includes y = 0 with rate 0, where y·log(rate) is 0 (not NaN). With ``full`` no count is 1:
    Stirling's term (PyTorch's, for y > 1 only) jumps there, so the loss has no derivative in
    y_true at 1; counts of 1 become 2."""

    def counted(y, params):
        return np.where(y == 1.0, 2.0, y) if params.get("full") else y

    def sample(rng, shape, params):
        n = math.prod(shape)
        rate = rng.exponential(3.0, n)
        y_true = counted(rng.poisson(rate).astype(np.float64), params)
        y_pred = rng.exponential(3.0, n)
        y_true[:1], y_pred[:1] = 0.0, 0.0
        if params["log_input"]:
            y_pred[1:] = np.log(y_pred[1:])
            y_pred[:1] = -20.0
        return {"y_true": y_true.reshape(shape), "y_pred": y_pred.reshape(shape)}

    def strategy(shape, params):
        """Counts and log-rates, or rates: normal in every dtype (≥ 2⁻¹⁴), or 0 where the count is 0
        (λ − y·log λ is rightly infinite for λ = 0 < y)."""
        counts = _array(shape, st.integers(0, int(REAL))).map(lambda y: counted(y, params))
        if params["log_input"]:
            return _dict(y_true=counts, y_pred=_array(shape, _floats(-LOG_RATE, LOG_RATE)))
        rates = _array(shape, st.one_of(st.just(0.0), _floats(2.0**-14, REAL)))
        return st.tuples(counts, rates).map(
            lambda t: {"y_true": t[0], "y_pred": np.where(t[0] > 0, np.maximum(t[1], 2.0**-14), t[1])})

    return Domain("counts_and_rates()", sample, strategy, scalable=("y_pred",))


def binary(logits: bool = False) -> Domain:
    """Binary labels (mostly 0/1, some soft) and a probability or, with ``from_logits`` (or
    ``logits``: a loss of logits only), a logit; logits include EXTREME_LOGITS for both labels.
    Probabilities stay inside (0.005, 0.995): exact 0 and 1 are tested against their documented
    values separately."""

    def from_logits(params):
        return logits or params["from_logits"]

    def sample(rng, shape, params):
        n = math.prod(shape)
        y_true = rng.integers(0, 2, n).astype(np.float64)
        y_true[n // 2 :: 7] = 0.3
        if from_logits(params):
            y_pred = rng.normal(0.0, 3.0, n)
            k = min(n, 2 * len(EXTREME_LOGITS))
            y_pred[:k] = (EXTREME_LOGITS * 2)[:k]
            y_true[:k] = ([1.0] * len(EXTREME_LOGITS) + [0.0] * len(EXTREME_LOGITS))[:k]
        else:
            y_pred = rng.uniform(0.005, 0.995, n)
        return {"y_true": y_true.reshape(shape), "y_pred": y_pred.reshape(shape)}

    def strategy(shape, params):
        return _dict(y_true=_unit(shape),
                     y_pred=_reals(shape) if from_logits(params) else _array(shape, _floats(0.0, 1.0)))

    if logits:
        return Domain("binary(logits=True)", sample, strategy, scalable=("y_pred",))
    return Domain("binary()", sample, strategy, scalable=_logits)


def bits() -> Domain:
    """Labels 0/1 and real scores, hitting 0 and ±1 exactly (the binary sparsemax's knots)."""

    def sample(rng, shape, params):
        n = math.prod(shape)
        y_true = rng.integers(0, 2, n).astype(np.float64)
        y_pred = rng.normal(0.0, 1.5, n)
        knots = (1.0, -1.0, 0.0, 1.0, -1.0)
        y_pred[: len(knots)] = knots[:n]
        return {"y_true": y_true.reshape(shape), "y_pred": y_pred.reshape(shape)}

    def strategy(shape, params):
        return _dict(y_true=_array(shape, st.sampled_from([0.0, 1.0])), y_pred=_reals(shape))

    return Domain("bits()", sample, strategy, scalable=("y_pred",))


def categorical(scores=False) -> Domain:
    """One-hot targets (one soft row) over the last axis, and logits or probabilities."""

    def sample(rng, shape, params):
        labels = rng.integers(0, shape[-1], shape[:-1]) if shape else np.zeros(())
        y_true = (np.arange(shape[-1]) == labels[..., None]).astype(np.float64) if shape else np.ones(())
        if len(shape) > 1 and shape[0] > 1:
            y_true[(1,) * (len(shape) - 1)] = 1.0 / shape[-1]  # a soft row
        return {"y_true": y_true, "y_pred": _rows(rng, shape, params, scores)}

    def strategy(shape, params):
        targets = st.one_of(_one_hot(shape), _array(shape, _floats(0.0, 1.0)).map(_normalized))
        return _dict(y_true=targets, y_pred=_scores(shape, scores or params.get("from_logits")))

    return Domain(f"categorical(scores={scores!r})", sample, strategy,
                  scalable=("y_pred",) if scores else _logits)


def sparse(scores: bool = False, log_probabilities: bool = False) -> Domain:
    """Integer labels (``y_pred``'s shape without its last axis) and logits or probabilities;
    with ``ignore_index`` some labels equal it. ``scores``: always real scores (margin losses);
    ``log_probabilities``: log-softmax rows (one with the extreme logits ±1e4)."""

    def sample(rng, shape, params):
        labels = rng.integers(0, shape[-1], shape[:-1])
        if log_probabilities:
            logits = _rows(rng, shape, {"from_logits": True})
            top = logits.max(axis=-1, keepdims=True)
            y_pred = logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
        else:
            y_pred = _rows(rng, shape, params, scores)
        return {"y_true": labels.astype(np.int64), "y_pred": y_pred}

    def strategy(shape, params):
        labels = st.integers(0, shape[-1] - 1)
        if params.get("ignore_index") is not None:
            labels = st.one_of(labels, st.just(params["ignore_index"]))
        y_pred = (_reals(shape).map(lambda x: np.log(_softmax(x))) if log_probabilities
                  else _scores(shape, scores or params["from_logits"]))
        return _dict(y_true=_array(shape[:-1], labels, np.int64), y_pred=y_pred)

    if scores:
        return Domain("sparse(scores=True)", sample, strategy, scalable=("y_pred",))
    if log_probabilities:
        return Domain("sparse(log_probabilities=True)", sample, strategy, scalable=("y_pred",))
    return Domain("sparse()", sample, strategy, scalable=_logits)


def label_lists() -> Domain:
    """Scores and, of the same shape, PyTorch's multi-label targets: each row lists class
    indices, the first −1 ends the list, and what follows it is ignored (any value in
    [−1, C)). Rows list no class, every class, a class twice, and some classes."""

    def sample(rng, shape, params):
        c = shape[-1]
        y_pred = rng.normal(0.0, 2.0, shape).reshape(-1, c)
        y_true = rng.integers(-1, c, y_pred.shape)
        for i, row in enumerate(y_true):
            k = (0, c, 2)[i] if i < 3 else rng.integers(1, c)
            row[:k] = rng.permutation(c)[:k]
            if i == 2 and c > 2:
                row[1] = row[0]  # listed twice: counted twice
            if k < c:
                row[k] = -1
        return {"y_true": y_true.reshape(shape).astype(np.int64), "y_pred": y_pred.reshape(shape)}

    def strategy(shape, params):
        return _dict(y_true=_array(shape, st.integers(-1, shape[-1] - 1), np.int64), y_pred=_reals(shape))

    return Domain("label_lists()", sample, strategy, scalable=("y_pred",))


def signs(zero: bool = True) -> Domain:
    """Labels ±1 and scores, with margins y·ŷ = 1 hit exactly (the hinge's kink); the strategy
    draws 0 labels too (the hinge's negative class) unless ``zero=False``."""

    def sample(rng, shape, params):
        n = math.prod(shape)
        y_true = rng.choice([-1.0, 1.0], n)
        y_pred = rng.normal(0.0, 1.5, n)
        y_pred[:4] = y_true[:4]
        return {"y_true": y_true.reshape(shape), "y_pred": y_pred.reshape(shape)}

    def strategy(shape, params):
        return _dict(y_true=_signs(shape, zero=zero), y_pred=_reals(shape))  # 0 is the hinge's negative class

    return Domain("signs()" if zero else "signs(zero=False)", sample, strategy, scalable=("y_pred",))


def distributions() -> Domain:
    """Target distributions over the last axis, with exact zeros, and a predicted
    distribution (strictly positive) or logits. With ``log_input`` the prediction is log q; with
    ``log_target`` the target is log p, a zero probability's log being −1e4 (exp rounds it to
    0 in every dtype; −inf has no finite difference)."""

    def logs(y_true, y_pred, params):
        if params.get("log_target"):
            y_true = np.log(np.where(y_true > 0, y_true, 1.0)) + np.where(y_true > 0, 0.0, -1e4)
        return {"y_true": y_true, "y_pred": np.log(y_pred) if params.get("log_input") else y_pred}

    def sample(rng, shape, params):
        y_true = rng.dirichlet(np.ones(shape[-1]), shape[:-1]) if shape[-1] else np.zeros(shape)
        y_true[..., 0] = 0.0
        y_true /= np.maximum(y_true.sum(axis=-1, keepdims=True), 1e-300)
        return logs(y_true, _rows(rng, shape, params), params)

    def strategy(shape, params):
        targets = _array(shape, st.one_of(st.just(0.0), _floats(0.0, 1.0))).map(_normalized)
        return st.tuples(targets, _scores(shape, params["from_logits"])).map(lambda t: logs(*t, params))

    return Domain("distributions()", sample, strategy, scalable=_logits)


def measures() -> Domain:
    """Nonnegative, unnormalized measures over the last axis: a target p with exact zeros and
    values up to ~10, and a prediction log q (``log_input``, the default where it is a
    parameter) or q > 0."""

    def sample(rng, shape, params):
        y_true = rng.exponential(2.0, shape)
        y_true[..., 0] = 0.0
        y_pred = rng.exponential(2.0, shape) + 2.0**-10
        return {"y_true": y_true, "y_pred": np.log(y_pred) if params.get("log_input", True) else y_pred}

    def strategy(shape, params):
        targets = _array(shape, st.one_of(st.just(0.0), _floats(0.0, 10.0)))
        if params.get("log_input", True):
            return _dict(y_true=targets, y_pred=_array(shape, _floats(-20.0, 5.0)))
        return _dict(y_true=targets, y_pred=_array(shape, _floats(2.0**-10, 10.0)))

    return Domain("measures()", sample, strategy)


def pairs(labels: str) -> Domain:
    """Embedding pairs (x1, x2) over the last axis and one label per row: "binary" (1 = similar)
    or "signs" (±1). Rows include identical pairs (zero distance) for both labels, a pair at
    distance exactly ``margin`` (Euclidean), and orthogonal vectors (cosine 0)."""

    def sample(rng, shape, params):
        rows, d = shape[:-1], shape[-1]
        x1 = _eighths(rng, shape)
        x2 = x1 + _eighths(rng, shape, 0.5)
        flat1, flat2 = x1.reshape(-1, d), x2.reshape(-1, d)
        y = rng.integers(0, 2, flat1.shape[0]).astype(np.float64)
        special = [
            (1.0, flat1[0]),  # identical, similar
            (0.0, flat1[1]),  # identical, dissimilar
            (0.0, flat1[2] + params.get("margin", 1.0) * _axis(0, d)),  # at distance margin
        ]
        for i, (label, row) in enumerate(special[: len(flat1)]):
            y[i], flat2[i] = label, row
        if len(flat1) > 3 and d > 1:  # orthogonal, dissimilar
            y[3], flat1[3], flat2[3] = 0.0, 1.5 * _axis(0, d), -2.0 * _axis(1, d)
        if labels == "signs":
            y = 2.0 * y - 1.0
        return {"y_true": y.reshape(rows), "x1": x1, "x2": x2}

    def strategy(shape, params):
        y = _unit(shape[:-1]) if labels == "binary" else _signs(shape[:-1])
        return _dict(y_true=y, x1=_reals(shape), x2=_reals(shape))

    return Domain(f"pairs(labels={labels!r})", sample, strategy, min_dims=2, scalable=("x1", "x2"))


def triplets() -> Domain:
    """(anchor, positive, negative) rows: a positive equal to its anchor (zero distance), a
    negative equal to its anchor, and a triplet with d(a, p) − d(a, n) + margin = 0 exactly in
    any p-norm when eps = 0 (p − a and n − a differ in one component only) (with eps > 0 it is
    moved 0.5 off the kink, which eps's rounding would leave to chance)."""

    def sample(rng, shape, params):
        d = shape[-1]
        anchor = _eighths(rng, shape)
        positive = anchor + _eighths(rng, shape, 0.5)
        negative = _eighths(rng, shape)
        a, p, n = (x.reshape(-1, d) for x in (anchor, positive, negative))
        if len(a) >= 3 and d > 1:
            p[0] = a[0]
            n[1] = a[1]
            off = 0.0 if params["eps"] == 0 or params["distance"] != "euclidean" else 0.5
            p[2], n[2] = a[2] + _axis(0, d), a[2] + (1.0 + params["margin"] + off) * _axis(0, d)
            if params["p"] == 1:  # shared non-zero components keep the 1-norm's kinks off the hinge's
                shared = (1.0 + np.abs(_eighths(rng, d))) * (1.0 - _axis(0, d))
                p[2] += shared
                n[2] += shared
        return {"anchor": anchor, "positive": positive, "negative": negative}

    def strategy(shape, params):
        return _dict(anchor=_reals(shape), positive=_reals(shape), negative=_reals(shape))

    return Domain("triplets()", sample, strategy, min_dims=2, scalable=("anchor", "positive", "negative"))


def labelled_embeddings() -> Domain:
    """Class labels and embeddings (batch, features) for in-batch mining. The first six rows
    (classes 0, 0, 0, 1, 1, 2) are built on integer offsets from a random point so that anchor
    0's loss is exactly 0 at the hinge (hardest positive at distance 3, negative at 4; the squared
    variant's margin 7 hits it too), anchors 3 and 4 coincide (a zero hardest-positive
    distance with an active loss), anchor 5 has no positive (weight 0), and no hardest pair
    is tied."""

    def sample(rng, shape, params):
        n, d = shape
        labels = rng.integers(3, 3 + max(n // 2, 1), n)
        e = _eighths(rng, shape, 2.0) + 10.0 * _axis(d - 1, d)
        if n >= 6 and d >= 4:
            base = e[0]
            e[1], e[2] = base + 3.0 * _axis(0, d), base + 2.0 * _axis(1, d)
            e[5] = base + 4.0 * _axis(2, d)
            e[3] = e[4] = e[5] + 0.5 * _axis(3, d)
            labels[:6] = (0, 0, 0, 1, 1, 2)
        return {"labels": labels.astype(np.int64), "embeddings": e}

    def strategy(shape, params):
        return _dict(labels=_array(shape[:1], st.integers(0, 2), np.int64), embeddings=_reals(shape))

    return Domain("labelled_embeddings()", sample, strategy, min_dims=2, max_dims=2, scalable=("embeddings",))


def mined_embeddings(norm: float | None = None) -> Domain:
    """Class labels and embeddings (batch, features) at random, so that no two distances tie
    (mining picks one pair of each, and semi-hard mining jumps where a negative and a positive
    distance cross). The first six rows have classes 0, 0, 0, 1, 1, 2: class 2 has no positive,
    and row 2 lies far from row 0 (a positive beyond every negative: no semi-hard negative). With
    ``norm``, each row is scaled to a length in [norm/2, norm] (losses on cosine similarities of
    near-unit vectors; below 1, no similarity reaches a clip at 1)."""

    def sample(rng, shape, params):
        n, d = shape
        labels = rng.integers(0, max(n // 2, 1), n)
        e = rng.normal(0.0, 0.5, shape)
        if n >= 6:
            labels[:6] = (0, 0, 0, 1, 1, 2)
            e[2] = e[0] + 3.0 * _axis(0, d)
        if norm is not None:
            e *= rng.uniform(norm / 2, norm, (n, 1)) / np.linalg.norm(e, axis=1, keepdims=True)
        return {"labels": labels.astype(np.int64), "embeddings": e}

    def strategy(shape, params):
        elements = _floats(-norm / math.sqrt(shape[-1]), norm / math.sqrt(shape[-1])) if norm else _floats(-REAL, REAL)
        return _dict(labels=_array(shape[:1], st.integers(0, 2), np.int64), embeddings=_array(shape, elements))

    return Domain(f"mined_embeddings(norm={norm!r})", sample, strategy, min_dims=2, max_dims=2,
                  scalable=() if norm else ("embeddings",))


def paired_embeddings() -> Domain:
    """Class labels, anchors and positives (batch, features) for N-pair losses: labels mostly
    distinct (one class twice: a row with two targets), embeddings at random."""

    def sample(rng, shape, params):
        n = shape[0]
        labels = rng.permutation(n)
        if n >= 2:
            labels[1] = labels[0]
        return {"labels": labels.astype(np.int64), "anchors": rng.normal(0.0, 0.5, shape),
                "positives": rng.normal(0.0, 0.5, shape)}

    def strategy(shape, params):
        return _dict(labels=_array(shape[:1], st.integers(0, 2), np.int64), anchors=_reals(shape),
                     positives=_reals(shape))

    return Domain("paired_embeddings()", sample, strategy, min_dims=2, max_dims=2)


def views() -> Domain:
    """Two views (batch, features) of each item: noisy copies, one pair identical and one
    opposite (cosine ±1)."""

    def sample(rng, shape, params):
        z1 = _eighths(rng, shape)
        z2 = z1 + _eighths(rng, shape, 0.75)
        if shape[0] >= 2:
            z2[0], z2[1] = z1[0], -z1[1]
        return {"z1": z1, "z2": z2}

    def strategy(shape, params):
        return _dict(z1=_reals(shape), z2=_reals(shape))

    return Domain("views()", sample, strategy, min_dims=2, max_dims=2, scalable=("z1", "z2"))


def ctc() -> Domain:
    """CTC inputs for items of shape (N, T): labels (N, 3) of 5 classes, logits (N, T, 5),
    label and logit lengths (N,). Rows 0–3 (for T ≥ 4): a repeated label (a blank must come
    between), an empty label, and two that fit their frames exactly, one with a repeat; the
    others random, each with room for its labels. Padding is the blank. With ``zero_infinity``,
    row 1 has one frame too few for its labels (no alignment: loss 0), as has row 5 (no frames)."""
    classes, width = 5, 3

    def need(seq):
        return len(seq) + sum(a == b for a, b in zip(seq, seq[1:]))

    def sample(rng, shape, params):
        n, t = shape[0], shape[-1]
        blank = params["blank"]
        others = [k for k in range(classes) if k != blank]
        a, b, c = others[:3]
        special = [([a, a, b], t), ([], t // 2), ([a, b, c], 3), ([c, c], 3)] if t >= 4 else []
        labels = np.full((n, width), blank, np.int64)
        label_lengths, logit_lengths = np.zeros(n), np.zeros(n)
        for i in range(n):
            if i < len(special):
                seq, frames = special[i]
            else:
                frames = int(rng.integers(0, t + 1))
                seq = [int(k) for k in rng.choice(others, int(rng.integers(0, width + 1)))]
                while need(seq) > frames:
                    seq = seq[:-1]
            if params["zero_infinity"] and (i == 1 or i == 5):
                seq = [a, b] if t >= 2 else [a]
                frames = need(seq) - 1 if i == 1 else 0
            labels[i, :len(seq)] = seq
            label_lengths[i], logit_lengths[i] = len(seq), frames
        logits = rng.normal(0.0, 2.0, (n, t, classes))
        return {"labels": labels, "logits": logits, "label_lengths": label_lengths, "logit_lengths": logit_lengths}

    def strategy(shape, params):
        """The sampler's inputs from a drawn seed (their structure is what matters), the logits drawn."""
        return st.tuples(st.integers(0, 2**32 - 1), _reals((shape[0], shape[-1], classes))).map(
            lambda s: {**sample(np.random.default_rng(s[0]), shape, params), "logits": s[1]})

    return Domain("ctc()", sample, strategy, min_dims=2, max_dims=2, scalable=("logits",))


def ranked_pairs() -> Domain:
    """Labels ±1 and two scores, with the margin hit exactly: −y(x1 − x2) + margin = 0."""

    def sample(rng, shape, params):
        n = math.prod(shape)
        y = rng.choice([-1.0, 1.0], n)
        x1, x2 = _eighths(rng, n), _eighths(rng, n)
        x2[:3] = x1[:3] - y[:3] * params["margin"]
        return {"y_true": y.reshape(shape), "x1": x1.reshape(shape), "x2": x2.reshape(shape)}

    def strategy(shape, params):
        return _dict(y_true=_signs(shape), x1=_reals(shape), x2=_reals(shape))

    return Domain("ranked_pairs()", sample, strategy, scalable=("x1", "x2"))


def relevance() -> Domain:
    """Lists on the last axis: graded relevance labels (0 to 3, one soft 0.5, one list with no
    relevant item) and real scores (one list with ±1e4)."""

    def sample(rng, shape, params):
        y = rng.integers(0, 4, shape).astype(np.float64) * (rng.uniform(size=shape) < 0.5)
        y.reshape(-1)[3] = 0.5
        if len(shape) > 1 and shape[0] > 1:
            y[-1] = 0.0
        return {"y_true": y, "y_pred": _rows(rng, shape, params, scores=True)}

    def strategy(shape, params):
        return _dict(y_true=_array(shape, st.one_of(st.sampled_from([0.0, 1.0, 2.0]), _floats(0.0, 4.0))),
                     y_pred=_reals(shape))

    return Domain("relevance()", sample, strategy, scalable=("y_pred",))


def gaussian() -> Domain:
    """Targets, predicted means (one equal to its target) and variances above ``eps``; variances
    below eps (clamped) are tested against their documented behaviour separately."""

    def sample(rng, shape, params):
        n = math.prod(shape)
        y = rng.normal(0.0, 2.0, n)
        mean = y + rng.normal(0.0, 1.0, n)
        mean[0] = y[0]
        var = rng.uniform(0.05, 4.0, n)
        var[1:3] = (1e-3, 1e2)
        return {"y_true": y.reshape(shape), "mean": mean.reshape(shape), "var": var.reshape(shape)}

    def strategy(shape, params):
        return _dict(y_true=_reals(shape), mean=_reals(shape), var=_array(shape, _floats(0.0, REAL)))

    return Domain("gaussian()", sample, strategy, scalable=("y_true", "mean", "var"))


def boxes() -> Domain:
    """Box pairs (x1, y1, x2, y2) on a last axis of size 4 (the items' shape's last axis is
    replaced by 4), coordinates in multiples of 1/8: identical boxes (the first pair, with x2 < 0.5:
    a value 0.5 put in its x1 inverts it), disjoint ones, one inside the other, boxes touching
    along an edge (zero overlap, exactly), and a predicted box of zero height, then random
    overlapping pairs."""

    def sample(rng, shape, params):
        n = math.prod(shape[:-1])
        x1, y1 = _eighths(rng, n, 2.0), _eighths(rng, n, 2.0)
        w, h = 0.25 + np.abs(_eighths(rng, n, 1.5)), 0.25 + np.abs(_eighths(rng, n, 1.5))
        true = np.stack([x1, y1, x1 + w, y1 + h], axis=-1)
        corner = true[:, :2] + _eighths(rng, (n, 2), 0.5)
        size = np.maximum(np.stack([w, h], axis=-1) + _eighths(rng, (n, 2), 0.5), 0.125)
        pred = np.concatenate([corner, corner + size], axis=-1)
        special = [
            (-2.0, -1.0, 0.25, 1.0),  # identical (x1 = 0.5 would invert it: the generic bad-input tests)
            (6.0, 0.5, 7.0, 2.5),  # disjoint, 1 to the right of [1, 5] × [0, 3]
            (2.0, 1.0, 3.0, 2.0),  # inside [1, 5] × [0, 3]
            (5.0, -1.0, 6.5, 1.0),  # touching [1, 5] × [0, 3] at x = 5
            (0.5, 1.5, 4.0, 1.5),  # zero height, across [1, 5] × [0, 3]
        ]
        targets = [special[0]] + [(1.0, 0.0, 5.0, 3.0)] * 4
        for i, (t, q) in enumerate(zip(targets, special)):
            if i < n:
                true[i], pred[i] = t, q
        out = shape[:-1] + (4,)
        return {"y_true": true.reshape(out), "y_pred": pred.reshape(out)}

    def strategy(shape, params):
        """Corners (x1, y1) within ±REAL and widths and heights in [0, REAL], each box's."""
        out = shape[:-1] + (4,)

        def box(corner_size):
            corner, size = corner_size
            return np.concatenate([corner, corner + size], axis=-1)

        one = st.tuples(_array(shape[:-1] + (2,), _floats(-REAL, REAL)),
                        _array(shape[:-1] + (2,), st.one_of(st.just(0.0), _floats(0.0, REAL)))).map(box)
        return _dict(y_true=one, y_pred=one).map(lambda d: {k: a.reshape(out) for k, a in d.items()})

    return Domain("boxes()", sample, strategy, scalable=("y_true", "y_pred"))


def masks() -> Domain:
    """Segmentation masks (mostly 0/1, some soft) and predicted probabilities, including exact 0
    and 1, and an empty mask predicted empty (the 0/0 case without smoothing); with
    ``from_logits``, logits (one row with ±20) instead of the probabilities."""

    def sample(rng, shape, params):
        y = (rng.uniform(size=shape) < 0.4).astype(np.float64)
        y.reshape(-1)[5::9] = 0.25
        p = rng.uniform(0.0, 1.0, shape)
        p.reshape(-1)[1:3] = (0.0, 1.0)
        if len(shape) > 1 and shape[0] > 1:
            y[-1], p[-1] = 0.0, 0.0
        if params.get("from_logits"):
            p = rng.normal(0.0, 3.0, shape)
            p.reshape(-1)[:2] = (20.0, -20.0)
        return {"y_true": y, "y_pred": p}

    def strategy(shape, params):
        return _dict(y_true=_unit(shape), y_pred=_reals(shape) if params.get("from_logits") else _unit(shape))

    return Domain("masks()", sample, strategy, min_dims=2, scalable=_logits)
