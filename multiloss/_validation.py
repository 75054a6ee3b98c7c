"""Input checks with clear messages, in one place.

Messages name the argument, what was expected, what was received and the backend, e.g.
"`y_pred` must have a floating dtype; got int32 (torch)." Checks of *values* (ranges) run only
when the backend holds concrete values (eager mode); under jit / tf.function / torch.compile
they are skipped, since reading a traced value would break the compiler.
"""

from __future__ import annotations

import math

REDUCTIONS = ("mean", "sum", "none", "sum_over_batch_size")


def shape_of(x) -> tuple:
    return tuple(x.shape)


def _dtype_name(dtype) -> str:
    return getattr(dtype, "name", None) or str(dtype).removeprefix("torch.")


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
        raise ValueError(f"`reduction` must be one of {REDUCTIONS}; got {reduction!r}.")


def check_param(name: str, value, condition: str) -> None:
    """Check a hyperparameter against a condition written as text: '> 0', '>= 0', '>= 1', '[0, 1]'."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = {
            "> 0": lambda v: v > 0,
            ">= 0": lambda v: v >= 0,
            ">= 1": lambda v: v >= 1,
            "[0, 1]": lambda v: 0 <= v <= 1,
        }[condition](value)
    if not ok:
        raise ValueError(f"`{name}` must be a finite number {condition}; got {value!r}.")


def check_bound(xp, x, name: str, condition: str, *, lower=None, upper=None, strict: bool = False) -> None:
    """In eager mode, raise unless every value of ``x`` is ≥ ``lower`` (> with ``strict``)
    and ≤ ``upper``, either bound optional.

    One reduction per bound and one host sync each on the happy path; NaN fails, as it should.
    """
    if not xp.is_concrete(x) or 0 in shape_of(x):
        return
    ok = True
    if lower is not None:
        low = xp.min(x)
        ok = bool(low > lower) if strict else bool(low >= lower)
    if ok and upper is not None:
        ok = bool(xp.max(x) <= upper)
    if ok:
        return
    good = (x > lower if strict else x >= lower) if lower is not None else x == x
    if upper is not None:
        good = good & (x <= upper)
    bad = int(xp.sum(xp.astype(xp.logical_not(good), xp.int64)))
    raise ValueError(f"`{name}` must be {condition}; {bad} value(s) are not ({xp.backend}).")


def check_all(xp, ok, name: str, condition: str) -> None:
    """In eager mode, raise unless the boolean array ``ok`` is true everywhere."""
    if xp.is_concrete(ok) and not bool(xp.all(ok)):
        bad = int(xp.sum(xp.astype(xp.logical_not(ok), xp.int64)))
        raise ValueError(f"`{name}` must be {condition}; {bad} value(s) are not ({xp.backend}).")
