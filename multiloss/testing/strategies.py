"""Hypothesis strategies: valid inputs and parameters for every registered loss.

``inputs(loss)`` draws ``{input name: NumPy array}`` that the loss's checks accept, of the kind
its registered domain (:mod:`multiloss.domains`) generates: labels in [0, 1] for binary losses,
one-hot or soft rows for categorical ones, class labels in [0, C) for sparse ones, signs for
hinges, distributions for KL, variances ≥ 0 for the Gaussian NLL, masks in [0, 1], embeddings
of at least two dimensions with one label per row. Arrays come from ``hypothesis.extra.numpy``,
element by element, so a failing example shrinks. Values are moderate (abs(x) ≤ 100, log-rates
within ±20) and never subnormal (XLA flushes those to 0): every loss is finite on them in
float32 and float64; a 16-bit result may overflow where the loss's value exceeds the dtype's
range. A loss of your own whose domain is a plain sampling function, not a
:class:`multiloss.domains.Domain`, gets that function's values from a drawn seed (shrinking then
only shrinks the seed). ``inputs(..., magnitude=magnitudes(dtype))`` scales the inputs that
stay valid at any magnitude (logits, embeddings, predictions of a regression; the domain's
``scalable`` inputs) to magnitudes from the dtype's smallest normal number up to its largest
finite / 1e3. ``params(loss)`` draws keyword parameters, ``arguments(loss)`` both together.

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
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from multiloss.domains import Domain, _floats
from multiloss.registry import REGISTRY, LossSpec
from multiloss.testing.numerics import DTYPES, FINITE_MAX, NORMAL

__all__ = ["arguments", "inputs", "magnitudes", "params"]

#: The range a parameter is drawn from, by its registered condition.
CONDITIONS = {"> 0": (0.01, 10.0), ">= 0": (0.0, 10.0), ">= 1": (1.0, 10.0), "[0, 1]": (0.0, 1.0)}


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


def magnitudes(dtype: str = "float64"):
    """A strategy of magnitudes, log-uniform from ``dtype``'s smallest normal number to its
    largest finite / 1e3 (room for the few additions and products a loss makes of its inputs),
    and 1."""
    low, high = math.log2(NORMAL[dtype]), math.log2(min(FINITE_MAX[dtype], np.finfo(np.float64).max) / 1e3)
    return st.one_of(st.just(1.0), st.floats(low, high).map(lambda e: 2.0**e))


def inputs(loss, dtype: str = "float64", shape=None, params: dict | None = None, magnitude=None):
    """A strategy of ``{input name: NumPy array}`` valid for ``loss`` called with ``params``.

    Parameters
    ----------
    loss : callable, LossSpec or str
        A multiloss loss (``multiloss.huber`` or your own ``@multiloss.loss`` with a
        ``domain``), its ``LossSpec`` or its registered name.
    dtype : str
        The floating inputs' dtype (bfloat16: float32 arrays holding bfloat16 values); class
        labels are int64.
    shape : tuple, hypothesis strategy or None
        The items' shape (classes or features last, as the domain takes it), a strategy of
        shapes, or None to draw one with up to 3 axes of up to 4 (at least what the loss needs).
    params : dict, optional
        The keyword parameters the inputs must suit (``from_logits``, ``log_input``,
        ``ignore_index``, kink parameters); the defaults where missing.
    magnitude : float, hypothesis strategy or None
        None for the domain's own values (``abs(x) <= 100``), or a number or a strategy of
        numbers (see :func:`magnitudes`): the inputs the domain marks scalable
        (``Domain.scalable``) are then multiplied by one factor, which makes the largest of
        them that magnitude, before they are rounded to ``dtype`` (values that become
        subnormal flushed to 0); a plain sampling function of your own has no scalable inputs.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Of dicts mapping each input's name to a NumPy array.

    Raises
    ------
    ValueError
        For an unknown ``dtype``, or a loss registered without a ``domain``.
    """
    spec = _spec(loss)
    if dtype not in DTYPES:
        raise ValueError(f"`dtype` must be one of {DTYPES}; got {dtype!r}")
    domain = spec.domain
    if domain is None:
        raise ValueError(f"{spec.name} has no domain to draw inputs from; register it with @multiloss.loss(domain=...)")
    p = {**spec.params, **(params or {})}
    low, high = (domain.min_dims, domain.max_dims) if isinstance(domain, Domain) else (1, 3)
    if shape is None:
        shapes = _shapes(low, high)
    elif isinstance(shape, st.SearchStrategy):
        shapes = shape
    else:
        shapes = st.just(tuple(shape))
    if not isinstance(domain, Domain):  # a plain sampling function of the user's own: its values, from a drawn seed
        return shapes.flatmap(lambda s: st.integers(0, 2**32 - 1).map(
            lambda seed: _finish(domain(np.random.default_rng(seed), s, p), spec.inputs, spec.indices, dtype)))
    # Strategies are cached: hypothesis validates each new strategy object on its first draw.
    scalars = tuple((k, v) for k, v in p.items() if isinstance(v, (bool, int, float, str, type(None))))
    if magnitude is None:
        return shapes.flatmap(lambda s: _built(domain, tuple(s), scalars, spec.inputs, spec.indices, dtype))
    sizes = magnitude if isinstance(magnitude, st.SearchStrategy) else st.just(float(magnitude))
    scalable = domain.scalable(p)
    return shapes.flatmap(lambda s: st.tuples(domain.strategy(tuple(s), dict(scalars)), sizes).map(
        lambda t: _finish(_scaled(t[0], scalable, t[1]), spec.inputs, spec.indices, dtype)))


@functools.cache
def _shapes(low, high):
    return hnp.array_shapes(min_dims=low, max_dims=high, min_side=1, max_side=4)


@functools.lru_cache(maxsize=4096)
def _built(domain, shape, scalars, names, indices, dtype):
    """The domain's strategy for one shape and setting (domains read scalar parameters only)."""
    return domain.strategy(shape, dict(scalars)).map(lambda a: _finish(a, names, indices, dtype))


def _scaled(arrays, names, magnitude):
    """``arrays`` with those in ``names`` multiplied by one factor that makes their largest
    magnitude ``magnitude`` (unchanged if they are all 0)."""
    top = max((float(np.max(np.abs(arrays[n]), initial=0.0)) for n in names), default=0.0)
    if top == 0:
        return arrays
    return {n: np.asarray(a, np.float64) / top * magnitude if n in names else a for n, a in arrays.items()}


def _finish(arrays, names, indices, dtype):
    """The inputs in order: class labels int64, the rest rounded to ``dtype``."""
    return {n: np.asarray(arrays[n], np.int64) if n in indices else _cast(np.asarray(arrays[n], np.float64), dtype)
            for n in names}


def params(loss):
    """A strategy of keyword parameters for ``loss``: its defaults or one of its registered
    variants (settings are drawn whole: a variant's parameters may only hold together), each
    parameter with a condition then possibly a float within it (drawn from CONDITIONS' ranges:
    "> 0" is [0.01, 10], "[0, 1]" is [0, 1], ...). ``axis`` and values whose length follows the
    inputs' (``class_weight``) stay at their defaults."""
    spec = _spec(loss)

    def kept(name, value):
        default = spec.params[name]
        return default if name == "axis" or isinstance(value, (tuple, list, np.ndarray)) else value

    settings = [{n: kept(n, v) for n, v in {**spec.params, **variant}.items()} for variant in ({}, *spec.variants)]

    def around(setting):
        drawn = {}
        for name, value in setting.items():
            drawn[name] = st.just(value)
            if spec.conditions.get(name) in CONDITIONS:
                drawn[name] = st.one_of(drawn[name], _floats(*CONDITIONS[spec.conditions[name]]))
        return st.fixed_dictionaries(drawn)

    return st.sampled_from(settings).flatmap(around)


def arguments(loss, dtype: str = "float64", shape=None):
    """A strategy of ``(inputs, params)``: parameters from :func:`params`, and inputs valid
    under them from :func:`inputs`; call ``loss(*inputs.values(), **params)``."""
    return params(loss).flatmap(lambda p: inputs(loss, dtype, shape, p).map(lambda x: (x, p)))
