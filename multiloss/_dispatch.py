"""The call path of every loss, as named steps: bind → prepare → run → finish.

A :class:`Plan` holds what one loss's calls share, fixed when it is registered: its inputs,
parameters, checks and kernel. :func:`function` makes the loss's public function, whose body is
the whole path of one call:

- :func:`bind`: the caller's arrays and keyword parameters, ``convention=`` applied (the
  convention's values under the caller's own), parameters checked against their conditions;
- :func:`prepare`: the framework chosen from the arrays, the inputs made its arrays (variables
  read, Python and NumPy scalars in the arrays' dtype: :func:`_as_arrays`), dtypes and shapes
  checked, labels and array parameters cast to the compute dtype (float32 for 16-bit inputs),
  class labels to the framework's index dtype where its gathers need it, values checked by the
  loss's rules (:func:`multiloss._validation.enforce`: a ``ValueError`` in eager mode, NaN for
  the offending items under a compiler);
- :func:`run`: the kernel, compiled by the backend's ``fuse`` (JAX, TensorFlow) on first use;
  for ``"mean"`` and ``"sum"`` without weights, a kernel that takes ``reduction`` reduces
  itself (a framework's fused loss: ``F.mse_loss``, ``F.cross_entropy``, … keep no per-item
  array for the backward pass);
- :func:`finish`: the convention's per-sample mean, ``sample_weight``, the reduction, and the
  result rounded once to the predictions' dtype.

A call costs microseconds, which matter at the batch sizes of a training loop: what depends
only on the keyword parameters (bound, checked) is remembered per setting of Python scalars,
and what depends only on the arrays' types, dtypes and shapes (the framework, the dtype and
shape checks) per input signature, so a training step's call goes from the arrays' types to
the value rules and the kernel.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from multiloss import _validation as v
from multiloss._reduction import expand_weight, reduce
from multiloss.backends import _NEUTRAL, TABLE, _cache, array_namespace

__all__ = ["Plan", "bind", "finish", "function", "prepare", "run"]


@dataclass(eq=False, slots=True)
class Plan:
    """What every call of one loss shares (see :func:`multiloss.registry.loss`)."""

    name: str
    kernel: Callable  # kernel(*arrays, **params, xp=xp)
    inputs: tuple[str, ...]
    params: dict  # name -> default
    conditions: dict  # name -> condition text
    dtype_checks: tuple  # per input: _validation.check_floating / check_numeric / check_integer
    casts: tuple[bool, ...]  # per input: cast to the compute dtype (class labels stay integer)
    result: int  # the input whose dtype the result takes
    shapes: Callable | None  # shapes(xp, arrays by name, params); None: one shape for all
    checks: Callable | None  # checks(xp, *arrays, **params) -> the value rules (_validation.Rule)
    conventions: Callable  # conventions(framework, kwargs) -> (Convention, merged kwargs)
    kind: str = "element"  # registry.KINDS: what one item of the result covers
    reduces: bool = False  # the kernel takes ``reduction`` (and may return the reduced loss)
    fused: dict = field(default_factory=dict)  # backend name -> the kernel as its fuse compiles it
    bound: dict = field(default_factory=dict)  # (convention, keyword parameters and their types) -> bind's result
    default: tuple = field(init=False)  # bind's result for a call at the defaults

    def __post_init__(self):
        self.default = (self.params, None, _array_params(self.params)[0], _Seen())


class _Seen:
    """The input signatures one parameter setting has been called with (see :func:`prepare`).
    An object rather than a dict: torch.compile's tracer would hash every key of a dict it meets
    (NumPy's dtypes cannot be), although a traced call never reads it."""

    __slots__ = ("signatures",)

    def __init__(self):
        self.signatures = {}


_BOUND_SIZE = 256  # settings remembered per loss (a sweep over a parameter's values starts over)
_SEEN_SIZE = 64  # input signatures remembered per setting (as many batch sizes)
_signature = operator.attrgetter("__class__", "dtype", "shape")
_SCALARS = (bool, int, float, str, type(None))


def function(plan: Plan) -> Callable:
    """The loss's public function: ``loss(*arrays, reduction=, sample_weight=, convention=,
    **params)``, one call being the four steps."""
    n = len(plan.inputs)

    def loss(*arrays, reduction="mean", sample_weight=None, convention=None, **kwargs):
        if kwargs or convention is not None or len(arrays) != n:
            arrays, (params, rule, array_params, seen) = bind(plan, arrays, kwargs, convention)
        else:  # the common call, positional arrays at the defaults: nothing to bind
            params, rule, array_params, seen = plan.default
        if reduction not in v.REDUCTIONS:
            v.check_reduction(reduction)
        xp, args, params, bad, dtype, compute, empty = prepare(plan, arrays, params, array_params, sample_weight,
                                                               seen)
        # "mean" and "sum" without weights, of a non-empty batch: the kernel may reduce (a fused op)
        fused = (plan.reduces and sample_weight is None and bad is None and reduction != "none" and not empty
                 and (rule is None or not rule.per_sample))
        out, item_weight = run(plan, xp, args, params, ("sum" if reduction == "sum" else "mean") if fused else None)
        if bad is not None:  # traced: the items out of the loss's domain
            out = xp.where(expand_weight(xp, bad, out.ndim), math.nan, out)
        if fused and out.ndim == 0:  # reduced by the kernel
            return out if compute == dtype else xp.astype(out, dtype)
        return finish(xp, out, item_weight, reduction, sample_weight, rule, dtype, compute)

    # TensorFlow's AutoGraph calls its marked "artifacts" as they are, inside a user's
    # tf.function: a loss has no Python control flow on values to convert, and converting the
    # call path (which it cannot: for/else) would only warn and cost tracing time.
    loss.autograph_info__ = frozenset()
    return loss


def bind(plan: Plan, arrays: tuple, kwargs: dict, convention):
    """(arrays in the kernel's order, (every parameter's value, the Convention or None, the
    parameters given as arrays)), remembered per setting of scalar parameters.

    Arrays may come by name (``y_true=..., y_pred=...``); unknown keywords are a ``TypeError``
    and parameters that break their condition a ``ValueError``."""
    key = None
    if len(arrays) == len(plan.inputs):
        try:  # by value and type: True and 1 are equal keys, but only one is a bool
            key = (convention, *kwargs.items(), *map(type, kwargs.values()))
            return arrays, plan.bound[key]
        except KeyError:  # not seen yet
            pass
        except TypeError:  # an unhashable value (a list, an array)
            key = None
    rule = None
    if convention is not None:
        rule, kwargs = plan.conventions(convention, kwargs)
    if len(arrays) < len(plan.inputs):
        arrays += tuple(kwargs.pop(n) for n in plan.inputs[len(arrays):] if n in kwargs)
    if len(arrays) != len(plan.inputs):
        raise TypeError(f"{plan.name}() takes {len(plan.inputs)} arrays {plan.inputs}; got {len(arrays)}")
    params, conditions = plan.params, plan.conditions
    for name, value in kwargs.items():
        if name not in params:
            unknown = sorted(kwargs.keys() - params.keys())
            raise TypeError(f"{plan.name}() got unexpected keyword argument(s) {unknown}")
        if name in conditions:
            v.check_param(name, value, conditions[name])
    params = {**params, **kwargs}
    array_params, scalars = _array_params(params)
    if scalars:  # np.float64(0.5) is a Python float, but would make NumPy compute in float64
        params.update({k: params[k].item() for k in scalars})
    bound = params, rule, array_params, _Seen()
    if key is not None and not array_params and all(type(x) in _SCALARS for x in kwargs.values()):
        # (only Python scalars: an array is hashable by identity in torch, and torch.compile's
        # tracer, meeting this dict, would hash every key, which NumPy's scalars' types forbid)
        if len(plan.bound) >= _BOUND_SIZE:
            plan.bound.clear()
        plan.bound[key] = bound
    return arrays, bound


def _as_array(xp, x, dtype=None, device=None):
    """``x`` as an array of namespace ``xp`` (whose ``array_namespace`` call has seen ``x``).

    The framework's arrays pass through, except TensorFlow's variables, which are read as
    tensors (the read is on the tape: gradients reach the variable). Python scalars and
    sequences become arrays of ``dtype`` (None: the framework's default for their kind) on
    ``device`` (that of the arrays they meet: a GPU, meta; None: the default); so do NumPy
    scalars, as the Python scalars they hold, except in a NumPy call, where they are NumPy's
    own 0-d arrays and keep their dtype.
    """
    kind = _cache.get(type(x))
    if kind is TABLE:  # a pandas or polars Series or DataFrame: its values (NaN for a missing one)
        return np.asarray(x)
    if kind is not _NEUTRAL:
        return x if hasattr(x, "ndim") else xp.asarray(x)  # a variable has no ndim
    if isinstance(x, np.generic):
        if xp.backend == "numpy":
            return x
        x = x.item()
    return xp.asarray(x, dtype=dtype, device=device)


def _as_arrays(plan: Plan, xp, arrays):
    """The loss's inputs as arrays of ``xp``: ``arrays`` itself when they all are already.

    The dtype rule for a Python scalar or sequence, or a NumPy scalar outside a NumPy call,
    among framework arrays: as predictions (the input whose dtype the result takes), the
    floating dtype of the other inputs (the first one's that is a floating array); as any other
    floating input or as labels, the compute dtype that follows from it; as class labels, the
    default integer. Where no input is a floating array, the framework's default floating dtype
    (Python integers are numbers here, as in scikit-learn's metrics: ``mse(1, 3)`` is 4.0).
    """
    for a in arrays:
        if not hasattr(a, "ndim") or _cache.get(type(a)) is not xp:
            break
    else:  # all the framework's own arrays: the common call
        return arrays
    loose = [_cache.get(type(a)) is _NEUTRAL and not (xp.backend == "numpy" and isinstance(a, np.generic))
             for a in arrays]
    arrays = [a if free else _as_array(xp, a) for a, free in zip(arrays, loose)]
    device = next((xp.device_of(a) for a, free in zip(arrays, loose) if not free), None)
    floating = [a.dtype for a, free in zip(arrays, loose) if not free and a.dtype in xp.real_floating]
    dtype = (arrays[plan.result].dtype if not loose[plan.result] else floating[0] if floating else
             xp.asarray(0.0).dtype)  # (the framework's default floating dtype: mse([1, 2], [1, 3]) is 0.5)
    compute = xp.float32 if dtype in xp.low_precision else dtype
    return [_as_array(xp, a, dtype if i == plan.result else compute if cast else None, device) if free else a
            for i, (a, free, cast) in enumerate(zip(arrays, loose, plan.casts))]


def _array_params(params: dict) -> tuple[list[str], list[str]]:
    """(the parameters given as arrays or sequences (class weights), ``axis`` and functions excepted; those
    given as NumPy scalars, which are the Python scalars they hold)."""
    arrays, scalars = [], []
    for k, x in params.items():
        if isinstance(x, np.generic):
            scalars.append(k)
        elif x is not None and k != "axis" and not isinstance(x, (bool, int, float, str)) and not callable(x):
            arrays.append(k)
    return arrays, scalars


def prepare(plan: Plan, arrays, params: dict, array_params, sample_weight=None, seen=None):
    """(xp, the kernel's arrays, params, the items out of the domain where values are not read
    or None (see :func:`_validation.enforce`), the result's dtype, the compute dtype, whether
    the batch may be empty): the framework from the arrays (``sample_weight`` and the ``array_params``
    too), dtypes and shapes checked, casts done, value rules enforced.

    What depends only on the arrays' types, dtypes and shapes is remembered in ``seen`` (one
    dict per parameter setting, see :func:`bind`): a call like one before skips to the value
    rules."""
    key = None
    if seen is not None and sample_weight is None and not array_params:
        xp = _cache.get(type(arrays[0]))
        # (a namespace, not a marker; symbolic shapes: no key)
        if xp is not None and xp is not _NEUTRAL and xp is not TABLE and xp.is_concrete(arrays[0]):
            try:
                key = tuple(map(_signature, arrays))
            except AttributeError:  # a Python number or sequence among them
                key = known = None
            else:
                known = seen.signatures.get(key)
            if known is not None:
                xp, dtype, compute, empty = known
                return xp, *_checked(plan, xp, list(arrays), params), dtype, compute, empty
    try:
        xp = array_namespace(*arrays, sample_weight, *(params[k] for k in array_params))
    except TypeError as exc:
        raise _named(exc, plan, arrays, sample_weight, params, array_params) from None
    arrays = _as_arrays(plan, xp, arrays)
    for check, name, a in zip(plan.dtype_checks, plan.inputs, arrays):
        check(xp, a, name)
    dtype = arrays[plan.result].dtype
    compute = xp.float32 if dtype in xp.low_precision else dtype
    if array_params:
        params, device = dict(params), xp.device_of(arrays[plan.result])
        for k in array_params:
            a = _as_array(xp, params[k], compute, device)
            v.check_numeric(xp, a, k)
            params[k] = _weights(xp, a if a.dtype == compute else xp.astype(a, compute), k)
    if plan.shapes is None:
        for name, a in zip(plan.inputs[1:], arrays[1:]):
            v.check_same_shape(xp, arrays[0], a, plan.inputs[0], name)
    else:
        plan.shapes(xp, dict(zip(plan.inputs, arrays)), params)
    index = xp.index_dtypes  # class labels: cast only where the framework's gathers need it
    args = [(a if a.dtype == compute else xp.astype(a, compute)) if cast else
            a if not index or a.dtype in index else xp.astype(a, index[0]) for cast, a in zip(plan.casts, arrays)]
    shape = tuple(arrays[plan.result].shape)
    empty = 0 in shape or None in shape  # (a size tf.function knows only at run time may be 0)
    if key is not None and all(a is b for a, b in zip(args, arrays)):  # nothing converted: the next such call
        if len(seen.signatures) >= _SEEN_SIZE:
            seen.signatures.clear()
        seen.signatures[key] = xp, dtype, compute, empty
    return xp, *_checked(plan, xp, args, params), dtype, compute, empty


def _checked(plan: Plan, xp, args: list, params: dict) -> tuple:
    """(args, params, bad): the loss's value rules enforced on its arrays."""
    if plan.checks is None or v.check_mode() == "off":
        return args, params, None
    rules = plan.checks(xp, *args, **params)
    if not rules:
        return args, params, None
    args, bad = v.enforce(xp, rules, plan.inputs, args, per_item=plan.kind == "element")
    return args, params, bad


def _weights(xp, w, name: str):
    """Weights (``sample_weight``, class weights) checked finite and ≥ 0: a ``ValueError`` where
    values are read, NaN where they are not (so is the weighted loss)."""
    if v.check_mode() == "off":
        return w
    rule = v.Rule(name, w, "finite and ≥ 0 (a weight)", lower=0.0, upper=xp.finfo(w.dtype).max, nan=False)
    return v.enforce(xp, (rule,), (name,), [w])[0][0]


def _named(exc: TypeError, plan: Plan, arrays, sample_weight, params: dict, array_params) -> TypeError:
    """``exc`` (from ``array_namespace``) naming the argument of a type multiloss refuses."""
    named = [*zip(plan.inputs, arrays), ("sample_weight", sample_weight), *((k, params[k]) for k in array_params)]
    for name, x in named:
        try:
            array_namespace(x)
        except TypeError:
            return TypeError(f"`{name}`: {exc}")
    return exc


def run(plan: Plan, xp, args, params: dict, reduction=None):
    """(the loss per item, or reduced by ``reduction`` where the kernel can; the item weights
    the loss applied itself or None). A framework's own ``IndexError`` for a class label out of
    range (``xp.checks_labels``) becomes the loss's ``ValueError``."""
    kernel = plan.fused.get(xp.backend)
    if kernel is None:
        kernel = plan.fused[xp.backend] = xp.fuse(functools.partial(plan.kernel, xp=xp))
    try:
        out = kernel(*args, **params) if reduction is None else kernel(*args, **params, reduction=reduction)
    except IndexError:
        if plan.checks is not None:
            with v.checks("strict"):
                v.enforce(xp, plan.checks(xp, *args, **params), plan.inputs, list(args))
        raise
    return out if isinstance(out, tuple) else (out, None)


def finish(xp, out, item_weight, reduction: str, sample_weight, rule, dtype, compute):
    """The reduced loss in the predictions' dtype. Under a convention, a per-sample native's
    mean over the last axis comes first, and its weighted ``"mean"`` may divide by the count."""
    if rule is not None:
        if rule.per_sample:  # Keras: the per-sample mean over the last axis
            out = xp.mean(out, axis=-1)
        if rule.divisor == "count" and item_weight is None and reduction == "mean":
            reduction = "sum_over_batch_size"
    if sample_weight is not None:
        sample_weight = _as_array(xp, sample_weight, compute, xp.device_of(out))
        v.check_numeric(xp, sample_weight, "sample_weight")
        v.check_weight_shape(xp, sample_weight, v.shape_of(out))
        if sample_weight.dtype != compute:
            sample_weight = xp.astype(sample_weight, compute)
        sample_weight = _weights(xp, sample_weight, "sample_weight")
        if rule is not None and rule.divisor == "count" and item_weight is not None and reduction == "mean":
            # Keras's mean of a masked loss (circle's): Σwℓ over the count of unmasked items, Σ item_weight
            out, sample_weight = out * expand_weight(xp, sample_weight, out.ndim), None
    out = reduce(xp, out, reduction, sample_weight, item_weight)
    return out if compute == dtype else xp.astype(out, dtype)
