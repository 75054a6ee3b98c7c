"""Hypothesis strategies: valid inputs and parameters for every registered loss.

``inputs(loss)`` draws ``{input name: NumPy array}`` that the loss's checks accept, of the kind
its registered domain (:mod:`multiloss.domains`) generates: labels in [0, 1] for binary losses,
one-hot or soft rows for categorical ones, class labels in [0, C) for sparse ones, signs for
hinges, distributions for KL, variances ≥ 0 for the Gaussian NLL, masks in [0, 1], embeddings
of at least two dimensions with one label per row. Arrays come from ``hypothesis.extra.numpy``,
element by element, so a failing example shrinks. Values are moderate (|x| ≤ 100, log-rates
within ±20) and never subnormal (XLA flushes those to 0): every loss is finite on them in
float32 and float64; a 16-bit result may overflow where the loss's value exceeds the dtype's
range. A loss of your own whose domain is not one of multiloss's gets that domain's values
from a drawn seed (shrinking then only shrinks the seed). ``params(loss)`` draws keyword
parameters, ``arguments(loss)`` both together.

>>> from hypothesis import given, settings
>>> import multiloss
>>> from multiloss.testing import strategies
>>> @settings(deadline=None)  # a framework's first call may compile
... @given(strategies.arguments(multiloss.huber))
... def test_huber_is_nonnegative(arguments):
...     arrays, params = arguments
...     assert multiloss.huber(*arrays.values(), **params) >= 0
>>> test_huber_is_nonnegative()
"""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from multiloss.registry import REGISTRY, LossSpec
from multiloss.testing.numerics import DTYPES

__all__ = ["arguments", "inputs", "params"]

REAL = 100.0  # the largest |x| of a real input
LOG_RATE = 20.0  # the largest |log-rate| (exp(20) ≈ 5e8)
#: The range a parameter is drawn from, by its registered condition.
CONDITIONS = {"> 0": (0.01, 10.0), ">= 0": (0.0, 10.0), ">= 1": (1.0, 10.0), "[0, 1]": (0.0, 1.0)}


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


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _one_hot(shape):
    return _array(shape[:-1], st.integers(0, shape[-1] - 1), np.int64).map(
        lambda k: (np.arange(shape[-1]) == k[..., None]).astype(np.float64))


def _scores(shape, logits):
    """Logits, or probability rows (a softmax of logits within ±20)."""
    return _reals(shape) if logits else _array(shape, _floats(-20.0, 20.0)).map(_softmax)


def _dict(**strategies):
    return st.fixed_dictionaries(strategies)


# --- one builder per factory of multiloss.domains: (shape, params, **options) -> strategy ----
def _real_pairs(shape, params, kink_params, big):
    """y_pred = y_true + an error within ±big, often 0 or ± a kink parameter (Huber's delta)."""
    kinks = [0.0] + [s * params[k] for k in kink_params for s in (1.0, -1.0)]
    error = _array(shape, st.one_of(st.sampled_from(kinks), _floats(-big, big)))
    return st.tuples(_reals(shape), error).map(lambda t: {"y_true": t[0], "y_pred": t[0] + t[1]})


def _nonnegative_pairs(shape, params):
    return _dict(y_true=_array(shape, _floats(0.0, REAL)), y_pred=_array(shape, _floats(0.0, REAL)))


def _counts_and_rates(shape, params):
    """Counts and log-rates, or rates: normal in every dtype (≥ 2⁻¹⁴), or 0 where the count is 0
    (λ − y·log λ is rightly infinite for λ = 0 < y)."""
    counts = _array(shape, st.integers(0, int(REAL)))
    if params["log_input"]:
        return _dict(y_true=counts, y_pred=_array(shape, _floats(-LOG_RATE, LOG_RATE)))
    rates = _array(shape, st.one_of(st.just(0.0), _floats(2.0**-14, REAL)))
    return st.tuples(counts, rates).map(
        lambda t: {"y_true": t[0], "y_pred": np.where(t[0] > 0, np.maximum(t[1], 2.0**-14), t[1])})


def _binary(shape, params):
    return _dict(y_true=_unit(shape), y_pred=_reals(shape) if params["from_logits"] else _array(shape, _floats(0.0, 1.0)))


def _categorical(shape, params, scores):
    targets = st.one_of(_one_hot(shape), _array(shape, _floats(0.0, 1.0)).map(_normalized))
    return _dict(y_true=targets, y_pred=_scores(shape, scores or params.get("from_logits")))


def _sparse(shape, params):
    labels = st.integers(0, shape[-1] - 1)
    if params.get("ignore_index") is not None:
        labels = st.one_of(labels, st.just(params["ignore_index"]))
    return _dict(y_true=_array(shape[:-1], labels, np.int64), y_pred=_scores(shape, params["from_logits"]))


def _signs_domain(shape, params):
    return _dict(y_true=_signs(shape, zero=True), y_pred=_reals(shape))  # 0 is the negative class


def _distributions(shape, params):
    targets = _array(shape, st.one_of(st.just(0.0), _floats(0.0, 1.0))).map(_normalized)
    return _dict(y_true=targets, y_pred=_scores(shape, params["from_logits"]))


def _pairs(shape, params, labels):
    y = _unit(shape[:-1]) if labels == "binary" else _signs(shape[:-1])
    return _dict(y_true=y, x1=_reals(shape), x2=_reals(shape))


def _triplets(shape, params):
    return _dict(anchor=_reals(shape), positive=_reals(shape), negative=_reals(shape))


def _labelled_embeddings(shape, params):
    return _dict(labels=_array(shape[:1], st.integers(0, 2), np.int64), embeddings=_reals(shape))


def _views(shape, params):
    return _dict(z1=_reals(shape), z2=_reals(shape))


def _ranked_pairs(shape, params):
    return _dict(y_true=_signs(shape), x1=_reals(shape), x2=_reals(shape))


def _gaussian(shape, params):
    return _dict(y_true=_reals(shape), mean=_reals(shape), var=_array(shape, _floats(0.0, REAL)))


def _masks(shape, params):
    return _dict(y_true=_unit(shape), y_pred=_reals(shape) if params.get("from_logits") else _unit(shape))


#: factory name -> (builder, fewest dimensions, most dimensions) of the drawn shapes.
BUILDERS = {
    "real_pairs": (_real_pairs, 1, 3),
    "nonnegative_pairs": (_nonnegative_pairs, 1, 3),
    "counts_and_rates": (_counts_and_rates, 1, 3),
    "binary": (_binary, 1, 3),
    "categorical": (_categorical, 1, 3),
    "sparse": (_sparse, 1, 3),
    "signs": (_signs_domain, 1, 3),
    "distributions": (_distributions, 1, 3),
    "pairs": (_pairs, 2, 3),
    "triplets": (_triplets, 2, 3),
    "labelled_embeddings": (_labelled_embeddings, 2, 2),
    "views": (_views, 2, 2),
    "ranked_pairs": (_ranked_pairs, 1, 3),
    "gaussian": (_gaussian, 1, 3),
    "masks": (_masks, 2, 3),
}


def _spec(loss) -> LossSpec:
    if isinstance(loss, LossSpec):
        return loss
    if isinstance(loss, str):
        if loss not in REGISTRY:
            raise ValueError(f"`loss` must be a registered loss; got {loss!r}, expected one of {sorted(REGISTRY)}")
        return REGISTRY[loss]
    spec = getattr(loss, "spec", None)
    if not isinstance(spec, LossSpec):
        raise TypeError(f"`loss` must be a multiloss loss, its LossSpec or its registered name; got {loss!r}")
    return spec


def _cast(x, dtype):
    """A float64 array rounded to ``dtype``, values that become subnormal there flushed to 0;
    bfloat16 (not a NumPy dtype) as float32 holding bfloat16 values (round to nearest even on
    the top 16 bits)."""
    if dtype == "bfloat16":
        bits = x.astype(np.float32).view(np.uint32)
        y = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    else:
        y = x.astype(dtype)
    return np.where(np.abs(y) < np.finfo(y.dtype).tiny, y.dtype.type(0), y)


def inputs(loss, dtype: str = "float64", shape=None, params: dict | None = None):
    """A strategy of ``{input name: NumPy array}`` valid for ``loss`` called with ``params``.

    ``loss``: a multiloss loss (``multiloss.huber`` or your own ``@multiloss.loss`` with a
    ``domain``), its ``LossSpec`` or its registered name. Floating inputs have ``dtype``
    (bfloat16: float32 arrays holding bfloat16 values); class labels are int64. ``shape``: the
    items' shape (classes or features last, as the domain takes it), a strategy of shapes, or
    None to draw one with up to 3 axes of up to 4 (at least what the loss needs). ``params``:
    the keyword parameters the inputs must suit (``from_logits``, ``log_input``,
    ``ignore_index``, kink parameters); the defaults where missing.
    """
    spec = _spec(loss)
    if dtype not in DTYPES:
        raise ValueError(f"`dtype` must be one of {DTYPES}; got {dtype!r}")
    domain = spec.domain
    if domain is None:
        raise ValueError(f"{spec.name} has no domain to draw inputs from; register it with @multiloss.loss(domain=...)")
    p = {**spec.params, **(params or {})}
    factory = getattr(domain, "factory", None)
    low, high = BUILDERS[factory][1:] if factory in BUILDERS else (1, 3)
    if shape is None:
        shapes = _shapes(low, high)
    elif isinstance(shape, st.SearchStrategy):
        shapes = shape
    else:
        shapes = st.just(tuple(shape))
    if factory not in BUILDERS:  # a domain of the user's own: its values, from a drawn seed
        return shapes.flatmap(lambda s: st.integers(0, 2**32 - 1).map(
            lambda seed: _finish(domain(np.random.default_rng(seed), s, p), spec.inputs, spec.indices, dtype)))
    # Strategies are cached: hypothesis validates each new strategy object on its first draw.
    scalars = tuple((k, v) for k, v in p.items() if isinstance(v, (bool, int, float, str, type(None))))
    options = tuple(domain.options.items())
    return shapes.flatmap(lambda s: _built(factory, tuple(s), scalars, options, spec.inputs, spec.indices, dtype))


@functools.cache
def _shapes(low, high):
    return hnp.array_shapes(min_dims=low, max_dims=high, min_side=1, max_side=4)


@functools.lru_cache(maxsize=4096)
def _built(factory, shape, scalars, options, names, indices, dtype):
    """The builder's strategy for one shape and setting (builders read scalar parameters only)."""
    return BUILDERS[factory][0](shape, dict(scalars), **dict(options)).map(
        lambda a: _finish(a, names, indices, dtype))


def _finish(arrays, names, indices, dtype):
    """The inputs in order: class labels int64, the rest rounded to ``dtype``."""
    return {n: np.asarray(arrays[n], np.int64) if n in indices else _cast(np.asarray(arrays[n], np.float64), dtype)
            for n in names}


def params(loss):
    """A strategy of keyword parameters for ``loss``: each its default, a value from one of its
    registered variants, or, for a parameter with a condition, a float within it (drawn from
    CONDITIONS' ranges: "> 0" is [0.01, 10], "[0, 1]" is [0, 1], ...). ``axis`` and values
    whose length follows the inputs' (``class_weight``) stay at their defaults."""
    spec = _spec(loss)
    drawn = {}
    for name, default in spec.params.items():
        values = [default]
        for variant in spec.variants:
            value = variant.get(name, default)
            if name != "axis" and not isinstance(value, (tuple, list, np.ndarray)) and value not in values:
                values.append(value)
        strategy = st.sampled_from(values)
        if name in spec.conditions:
            strategy = st.one_of(strategy, _floats(*CONDITIONS[spec.conditions[name]]))
        drawn[name] = strategy
    return st.fixed_dictionaries(drawn)


def arguments(loss, dtype: str = "float64", shape=None):
    """A strategy of ``(inputs, params)``: parameters from :func:`params`, and inputs valid
    under them from :func:`inputs`; call ``loss(*inputs.values(), **params)``."""
    return params(loss).flatmap(lambda p: inputs(loss, dtype, shape, p).map(lambda x: (x, p)))
