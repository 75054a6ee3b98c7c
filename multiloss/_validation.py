"""Input checks with clear messages, in one place.

Messages name the argument, what was expected, what was received and the backend, e.g.
"`y_pred` must have a floating dtype; got int32 (torch)." Parameters are checked against their
conditions when a call binds them. The *values* of arrays are checked by :func:`enforce`, as
the check policy (:class:`checks`) says: where they are read, an out-of-domain value is a
``ValueError``; where they are not (under jit / tf.function / torch.compile, on an accelerator
by default), it makes that item's loss NaN. Every read of an array's values goes through the
adapters' ``to_host``.
"""

from __future__ import annotations

import ast
import math
import numbers
from collections.abc import Callable
from typing import Literal, get_args

REDUCTIONS = ("mean", "sum", "none", "sum_over_batch_size")
Mode = Literal["auto", "strict", "nan", "off"]  # the check policies (see :class:`checks`)
MODES: tuple[Mode, ...] = get_args(Mode)
_mode: Mode = "auto"  # a plain global, which compilers read as a constant (a ContextVar breaks torch.compile's graph)


class checks:
    """The check policy for array values (labels in range, probabilities in [0, 1], weights
    ≥ 0): ``multiloss.checks("nan")`` sets it for the process, ``with multiloss.checks("strict"):``
    for a block (restored on exit, as ``torch.set_grad_enabled``).

    - ``"auto"`` (default): values are read where that is free, arrays in host memory (NumPy,
      CPU tensors, eager), and an out-of-domain value is a ``ValueError``; on an accelerator
      they are not read (a read would wait for the device every step), and an out-of-domain
      item's loss is NaN. On CPU, PyTorch's cross-entropy checks its class labels itself: the
      ``ValueError`` comes from its ``IndexError``, at no cost (its ``ignore_index`` is then
      int64's least value, −2⁶³: the one label that would be skipped rather than refused).
    - ``"strict"``: values are read everywhere outside a compiler, GPUs included (each call then
      waits for the device): for debugging.
    - ``"nan"``: values are never read; out-of-domain items give NaN, as under a compiler.
    - ``"off"``: no value checks; out-of-domain inputs give whatever the formula gives (class
      labels out of range still give NaN: a gather never reads outside its array).

    Under jit, ``tf.function`` and ``torch.compile`` values cannot be read: ``"auto"`` and
    ``"strict"`` act as ``"nan"`` there. Types, shapes and parameters are always checked (that
    reads no array). ``multiloss.check_mode()`` returns the policy in force. The setting is
    the process's, not a thread's (compilers read it as a constant, and a compiled function
    is traced again when it changes).

    Parameters
    ----------
    mode : {"auto", "strict", "nan", "off"}
        The policy.

    Raises
    ------
    ValueError
        For another mode.
    """

    def __init__(self, mode: Mode):
        global _mode
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}; got {mode!r}.")
        self.previous, _mode = _mode, mode

    def __enter__(self) -> checks:
        return self

    def __exit__(self, *exc: object) -> None:
        global _mode
        _mode = self.previous


def check_mode() -> Mode:
    """The check policy in force (see :class:`checks`)."""
    return _mode


def readable(xp, x) -> bool:
    """Whether the policy reads ``x``'s values: eager, and on the host or ``"strict"``."""
    mode = _mode
    if mode == "nan" or mode == "off" or not xp.is_concrete(x):
        return False
    return mode == "strict" or xp.on_host(x)


def shape_of(x) -> tuple:
    return tuple(x.shape)


def _dtype_name(dtype) -> str:
    return getattr(dtype, "name", None) or str(dtype).rsplit(".", 1)[-1]  # torch.float32, array_api_strict.float64


def check_floating(xp, x, name: str) -> None:
    # A tuple scan with ==, not xp.isdtype (microseconds) or a dict keyed by dtype (torch.compile
    # cannot hash dtypes).
    if x.dtype not in xp.real_floating:
        raise TypeError(f"`{name}` must have a floating dtype; got {_dtype_name(x.dtype)} ({xp.backend}).")


def check_numeric(xp, x, name: str) -> None:
    if x.dtype not in xp.real_floating and not xp.isdtype(x.dtype, ("integral", "bool")):
        raise TypeError(f"`{name}` must be real numbers; got {_dtype_name(x.dtype)} ({xp.backend}).")


def check_integer(xp, x, name: str) -> None:
    if not xp.isdtype(x.dtype, "integral"):
        raise TypeError(f"`{name}` must hold integer class labels; got {_dtype_name(x.dtype)} ({xp.backend}).")


def _same(a: tuple, b: tuple) -> bool:
    """Equal shapes; a dimension unknown while tracing (None) matches anything."""
    return len(a) == len(b) and all(i == j or i is None or j is None for i, j in zip(a, b))


def check_same_shape(xp, a, b, name_a: str, name_b: str) -> None:
    if a.shape == b.shape:
        return
    sa, sb = shape_of(a), shape_of(b)
    if not _same(sa, sb):
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same shape; got {sa} and {sb} ({xp.backend}). "
            f"multiloss never broadcasts them: reshape one explicitly."
        )


def check_weight_shape(xp, w, loss_shape: tuple, name: str = "sample_weight") -> None:
    """A weight has the per-element loss's shape, or its leading axes (one weight per sample)."""
    sw = shape_of(w)
    if not _same(sw, loss_shape[: len(sw)]):
        raise ValueError(
            f"`{name}` must have the loss's shape {loss_shape} or its leading axes "
            f"(e.g. {loss_shape[:1]}); got {sw} ({xp.backend})."
        )


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        hint = (" ('mean' already is PyTorch's 'batchmean' for kl_divergence, whose items are samples; for a "
                "per-element loss, use 'sum' and divide by the batch size)" if reduction == "batchmean" else "")
        raise ValueError(f"`reduction` must be one of {REDUCTIONS}; got {reduction!r}{hint}.")


_NUMBERS = {
    "finite": lambda v: True,
    "> 0": lambda v: v > 0,
    ">= 0": lambda v: v >= 0,
    ">= 1": lambda v: v >= 1,
    "<= 0": lambda v: v <= 0,
    "[0, 1]": lambda v: 0 <= v <= 1,
    "(0, 1]": lambda v: 0 < v <= 1,
    "(0, 0.5)": lambda v: 0 < v < 0.5,
}


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


_PREDICATES: dict[str, Callable[[object], bool]] = {}  # condition -> its test, made once (plain dict: torch.compile
# traces through functools.cache wrappers, into ast.literal_eval)


def _predicate(condition: str) -> Callable[[object], bool]:
    """The test of a parameter condition (see :func:`check_param`)."""
    for suffix, accepted in ((" or None", lambda v: v is None), (" or array", _is_array_like),
                             (" or callable", callable)):
        if condition.endswith(suffix):
            inner = _predicate(condition.removesuffix(suffix))
            return lambda v: accepted(v) or inner(v)
    if condition == "bool":
        return lambda v: isinstance(v, bool)
    if condition == "int":
        return lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool)
    if condition == "array":
        return _is_array_like
    if condition.startswith("in "):
        choices = ast.literal_eval(condition[3:])
        return lambda v: any(type(v) is type(c) and v == c for c in choices)
    test = _NUMBERS[condition]
    return lambda v: _is_number(v) and test(v)


def _is_array_like(v) -> bool:
    """An array or a sequence of numbers (its values are checked once it is an array)."""
    return hasattr(v, "shape") or isinstance(v, (list, tuple))


def describe(condition: str) -> str:
    """A condition in words: "None or a finite number in [0, 1]"."""
    for suffix, words in ((" or None", "None or "), (" or array", "an array of weights or "),
                          (" or callable", "a function or ")):
        if condition.endswith(suffix):
            return words + describe(condition.removesuffix(suffix))
    if condition == "bool":
        return "True or False"
    if condition == "int":
        return "an integer"
    if condition == "array":
        return "an array (one weight per class)"
    if condition.startswith("in "):
        return "one of " + ", ".join(map(repr, ast.literal_eval(condition[3:])))
    if condition == "finite":
        return "a finite number"
    return f"a finite number {'in ' if condition[:1] in '[(' else ''}{condition}"


def check_param(name: str, value, condition: str) -> None:
    """Check a hyperparameter against its condition, written as text.

    Numbers (finite reals, never bools): "finite", "> 0", ">= 0", ">= 1", "<= 0", "[0, 1]",
    "(0, 0.5)"; "bool" (exactly True or False: "False", a str, is not); "int"; "in (...)"
    (one of the literal choices); "array" (a weight per class, checked as an array later);
    each optionally followed by " or array" (a number, or such an array), " or callable" (a
    function: a distance) and " or None" (the option turned off).
    """
    test = _PREDICATES.get(condition)
    if test is None:
        test = _PREDICATES[condition] = _predicate(condition)
    if not test(value):
        off = f" (use {name}=None to turn it off)" if condition.endswith(" or None") and value is not None else ""
        raise ValueError(f"`{name}` must be {describe(condition)}; got {value!r} ({type(value).__name__}){off}.")


class Rule:
    """A condition on the values of the input ``name``, checked in one place
    (:func:`enforce`): ``values`` (the input, or an array derived from it, of its shape) must lie
    within ``lower`` (exclusive with ``strict``) and ``upper``, or the boolean array ``ok`` must
    hold. A NaN value breaks no rule (it goes through, and comes out as a NaN loss), unless
    ``nan=False`` (weights)."""

    __slots__ = ("condition", "lower", "name", "nan", "ok", "strict", "upper", "values")

    def __init__(self, name: str, values, condition: str, *, lower=None, upper=None, strict=False, ok=None,
                 nan=True):
        self.name, self.values, self.condition = name, values, condition
        self.lower, self.upper, self.strict, self.ok, self.nan = lower, upper, strict, ok, nan

    def broken(self, xp, x=None, ok=None):
        """True where a value breaks the rule: of ``values`` (and ``ok``), or of ``x`` (and
        ``ok``), their copies on the host, with ``xp`` NumPy."""
        if x is None:
            x, ok = self.values, self.ok
        if ok is not None:
            bad = xp.logical_not(ok)
            return bad & (x == x) if self.nan else bad
        bad = None if self.nan else x != x
        if self.lower is not None:
            low = x <= self.lower if self.strict else x < self.lower
            bad = low if bad is None else bad | low
        if self.upper is not None:
            bad = x > self.upper if bad is None else bad | (x > self.upper)
        return bad

    def holds(self, xp) -> bool:
        """Whether every value keeps the rule, read on the host (``xp.to_host``): one min or
        max per bound on the happy path (a NaN min, which hides the values beside it, falls back
        to counting)."""
        import numpy as np  # (here: importing multiloss imports no framework)

        x = xp.to_host(self.values)
        if self.ok is not None:
            ok = xp.to_host(self.ok)
            return bool(ok.all()) or not self.broken(np, x, ok).any()
        if self.lower is not None:
            m = x.min()
            if m != m:  # NaN: count the values that break the rule instead
                return not self.broken(np, x).any()
            if m < self.lower or self.strict and m == self.lower:
                return False
        if self.upper is not None:
            m = x.max()
            if m != m:
                return not self.broken(np, x).any()
            if m > self.upper:
                return False
        return True

    def count(self, xp) -> int:
        """How many values break the rule (read on the host)."""
        import numpy as np

        ok = None if self.ok is None else xp.to_host(self.ok)
        return int(np.count_nonzero(self.broken(np, xp.to_host(self.values), ok)))


def enforce(xp, rules, names: tuple, args: list, *, per_item: bool = False) -> tuple:
    """Apply a loss's value rules to its arrays ``args`` (named ``names``): (args, bad).

    Where the policy reads values (:func:`readable`): a ``ValueError`` naming the argument, the
    condition, how many values break it and the backend. Where it does not (jit, tf.function,
    torch.compile, meta tensors; accelerators under ``"auto"``; ``"nan"``), the items that break
    a rule get a NaN loss, never a finite number from outside the loss's domain: with
    ``per_item`` (a loss of one item per element) ``bad`` marks them, for the caller to set the
    per-item loss to NaN there (one select on the result, which XLA fuses at no cost, where
    selects on the inputs cost it ~60% on CPU); otherwise each breaking element of a floating
    input becomes NaN, and so does its row's loss. Integer inputs (class labels) cannot hold
    NaN: their loss marks such items itself. ``"off"``: nothing is checked."""
    bad = None
    if _mode == "off":
        return args, bad
    for rule in rules:
        if 0 in shape_of(rule.values):
            continue
        if readable(xp, rule.values):
            if not rule.holds(xp):
                raise ValueError(f"`{rule.name}` must be {rule.condition}; {rule.count(xp)} value(s) are not "
                                 f"({xp.backend}).")
            continue
        broken = rule.broken(xp)
        if per_item:  # one shape, or a per-sample input's leading axes (a variance per sample)
            if bad is not None and bad.ndim != broken.ndim:
                bad, broken = sorted((bad, broken), key=lambda m: m.ndim)
                bad = bad[(..., *(None,) * (broken.ndim - bad.ndim))]
            bad = broken if bad is None else bad | broken
            continue
        i = names.index(rule.name)
        if args[i].dtype in xp.real_floating:
            args[i] = xp.where(broken, math.nan, args[i])
    return args, bad
