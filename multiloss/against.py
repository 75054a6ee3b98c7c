"""``multiloss compare LOSS --against module:function``: check a loss of your own.

Your implementation of LOSS (a NumPy, PyTorch, JAX or TensorFlow function; the framework is
detected by calling it) is run at float64, float32 and float16 on the loss's inputs and
checked against the reference: worst error in ulps, non-finite values where the reference is
finite (with the inputs), and autodiff gradients against the reference's. It may return one
value per item, or one for the batch: that is compared with the reference's mean, and, unless
each item depends on the whole batch, per item by calling it on each item alone; of a tuple,
the first element counts. Exit status 1 when it disagrees beyond tolerance.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import sys
import warnings
from types import ModuleType

import numpy as np

from multiloss._case import Reference, case_from, error_text, kv, reference, reference_module
from multiloss._options import UsageError
from multiloss.backends import NAMES, backend_name
from multiloss.registry import LossSpec
from multiloss.testing.numerics import GRAD_ULPS, NATIVE_ULPS, errors, native_tolerance, overflowed, ulps

__all__ = ["DTYPES", "check"]

DTYPES = ("float64", "float32", "float16")


def _import_target(text: str):
    """``module:attr`` -> (the callable, its module, a phrase); a class is instantiated with its defaults."""
    module_name, sep, attr = text.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"--against {text!r}: expected MODULE:FUNCTION, e.g. mypackage.losses:focal_loss")
    sys.path.insert(0, os.getcwd())  # as `python -m` would: the current directory's packages
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - the user's module failing to import is a usage error
        raise UsageError(f"--against {text!r}: cannot import {module_name} ({error_text(exc)})") from None
    finally:
        sys.path.remove(os.getcwd())
    target = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise UsageError(f"--against {text!r}: {module_name} has no attribute {attr!r}")
        target = getattr(target, part)
    if inspect.isclass(target):
        try:
            return target(), module, f"{text}() (instantiated with its defaults)"
        except TypeError as exc:
            raise UsageError(f"--against {text!r}: a class that cannot be made without arguments ({exc}); "
                             "point at an instance instead") from None
    if not callable(target):
        raise UsageError(f"--against {text!r}: {type(target).__name__} is not callable")
    return target, module, text


def _positional(fn) -> list[str]:
    """The names of fn's positional parameters (an nn.Module's ``forward``'s)."""
    target = fn.forward if hasattr(fn, "forward") else fn
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _order(spec: LossSpec, given, names: list[str], label: str) -> tuple[str, ...]:
    """Our input names in the order of the function's positional arguments."""
    k = len(spec.inputs)
    if given:
        if sorted(given) != sorted(spec.inputs):
            raise UsageError(f"--order {','.join(given)}: expected each of {spec.name}'s inputs "
                             f"{', '.join(spec.inputs)} once")
        return tuple(given)
    if sorted(names[:k]) == sorted(spec.inputs):
        return tuple(names[:k])
    theirs = ", ".join(names) if names else "unknown"
    raise UsageError(f"{label}'s arguments ({theirs}) are not named as {spec.name}'s inputs "
                     f"({', '.join(spec.inputs)}); "
                     f"pass --order with our names in the order of its arguments, e.g. --order "
                     f"{','.join(reversed(spec.inputs))}")


def _first(out):
    """A tuple's first element (the article's (total, part, ...) returns)."""
    return out[0] if isinstance(out, (tuple, list)) else out


def _owner(x) -> str | None:
    try:
        return backend_name(x)
    except TypeError:
        return None


def _candidates(module: ModuleType) -> list[str]:
    """Frameworks the user's module refers to (by its imported modules and names), numpy last."""
    roots = set()
    for value in vars(module).values():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        if isinstance(name, str):
            roots.add(name.split(".")[0])
    if "keras" in roots:
        roots.add("tensorflow")
    return [n for n in NAMES if n in roots and n != "numpy"] + ["numpy"]


def _detect(fn, order, case, args, module, label, load):
    """(adapter, first float64 output) of the framework whose arrays fn takes and returns."""
    tried = []
    for name in [args.framework] if args.framework else _candidates(module):
        loaded, _ = load([name])
        if not loaded:
            tried.append(f"{name}: not installed")
            continue
        b = loaded[0]
        arrays, _ = case.to_backend(b, "float64")
        by_name = dict(zip(case.spec.inputs, arrays))
        try:
            with warnings.catch_warnings():  # e.g. NumPy converting another framework's arrays
                warnings.simplefilter("ignore")
                out = _first(fn(*(by_name[n] for n in order)))
        except Exception as exc:  # noqa: BLE001 - the wrong framework: try the next
            tried.append(f"{name} arrays: {error_text(exc)}")
            continue
        if _owner(out) == name:
            return b, out
        tried.append(f"{name} arrays: it returned {type(out).__module__}.{type(out).__name__}")
    raise UsageError(f"cannot run {label} on float64 inputs: " + "; ".join(tried)
                     + ("" if args.framework else "; pass --framework"))


@dataclasses.dataclass
class _Check:
    """One dtype's findings for the user's function."""

    dtype: str
    mean: float = float("nan")
    ref_mean: float = float("nan")
    ulps: float = 0.0
    grad_ulps: float | None = None
    nonfinite: list = dataclasses.field(default_factory=list)  # (item index, value, reference)
    grad_nonfinite: list = dataclasses.field(default_factory=list)  # (input, index, value, reference)
    worst: tuple | None = None  # (item index, value, reference, ulps), when beyond tolerance
    worst_grad: tuple | None = None  # (input, index, value, reference, ulps), when beyond tolerance
    mean_error: str = ""
    error: str = ""
    unsupported: bool = False
    held: dict = dataclasses.field(default_factory=dict)  # the inputs as the dtype holds them

    @property
    def ok(self) -> bool:
        return (not self.error and not self.nonfinite and not self.grad_nonfinite and self.worst is None
                and self.worst_grad is None and not self.mean_error)


def check(spec: LossSpec, params: dict, args, load) -> int:
    """Run ``args.against`` (see the module docstring); the exit status."""
    if spec.reference is None:
        raise UsageError(f"{spec.name} has no reference to check against; register it with reference=")
    fn, module, label = _import_target(args.against)
    names = _positional(fn)
    order = _order(spec, args.order, names, label)
    case, source = case_from(spec, params, args)
    b, out = _detect(fn, order, case, args, module, label, load)
    m, ref_name = reference_module()
    shown = {n: names[i] if i < len(names) else n for i, n in enumerate(order)}
    print(f"multiloss compare {spec.name}({kv(case.params)}) --against {label}")
    print(f"its arguments: {', '.join(f'{shown[n]} ← {n}' for n in order)}; framework: {b.xp.backend}"
          f"{'' if args.framework else ' (detected: its arrays in, its array out)'}")
    out_shape = tuple(np.shape(b.to_numpy(out)))
    if out_shape not in (case.out_shape, ()):
        print(f"✗ it returns shape {out_shape}: expected one value per item {case.out_shape} or one for the "
              "batch (); does it reduce over the wrong axis?")
        return 1
    per_item_calls = not out_shape and case.kind != "batch"
    if out_shape:
        print(f"reduction: it returns one value per item {out_shape}: compared item by item")
    elif per_item_calls:
        print("reduction: it returns one value for the batch: compared with the reference's mean, and per item "
              "by calling it on each item alone")
    else:
        print("reduction: it returns one value for the batch: compared with the reference's mean (each item "
              "depends on the whole batch: no per-item values)")
    print(f"inputs: {source}")
    print(f"reference: {ref_name}; values agree within {NATIVE_ULPS} ulps of (term scale + max(1, |inputs|)), "
          f"gradients within {2 * GRAD_ULPS} ulps of (term scale + the input's largest)"
          f"{'' if m else '; no gradients'}\n")

    checks = []
    for dtype in [args.dtype] if args.dtype else DTYPES:
        if dtype not in b.DTYPES:
            checks.append(_Check(dtype, error=f"{b.xp.backend} has no {dtype}", unsupported=True))
            continue
        checks.append(_check_dtype(fn, order, case, b, dtype, m, bool(out_shape), per_item_calls))

    header = f"{'dtype':<9} {'mean':>13} {'reference':>13} {'worst ulps':>11} {'grad ulps':>10} {'inf/NaN':>8}  agree"
    print(header)
    print("-" * len(header))
    for c in checks:
        if c.error:
            print(f"{c.dtype:<9} {'not supported' if c.unsupported else 'error'}: {c.error}")
            continue
        grad = "—" if c.grad_ulps is None else f"{c.grad_ulps:.3g}"
        bad = f"{len(c.nonfinite)}/{len(c.grad_nonfinite)}"
        print(f"{c.dtype:<9} {c.mean:>13.7g} {c.ref_mean:>13.7g} {c.ulps:>11.3g} {grad:>10} {bad:>8}  "
              f"{'✓' if c.ok else '✗'}")
    print("(inf/NaN: values / gradient entries that are inf or NaN where the reference's are finite)")
    _details(checks, shown, order, len(case.out_shape))
    failed = [c.dtype for c in checks if not c.ok and not c.unsupported]
    print(f"\n{'agrees with the reference' if not failed else 'disagrees at ' + ', '.join(failed)}")
    return 1 if failed else 0


def _details(checks, shown, order, rank):
    """Below the table: where each dtype's values and gradients go wrong, with the inputs; a list
    of the same items as the dtype before is not repeated."""
    before = {}
    for c in checks:
        if c.error:
            continue

        def where(idx, held=c.held):
            return ", ".join(f"{shown[n]}={_show(held[n][idx[:rank]])}" for n in order if np.ndim(held[n]) >= rank)

        for kind, found, what in (("values", c.nonfinite, "item(s) with inf or NaN"),
                                  ("gradients", c.grad_nonfinite, "gradient entries with inf or NaN")):
            places = [x[:-2] for x in found]
            if not found:
                continue
            if places == before.get(kind):
                print(f"{c.dtype}: the same {len(found)} {what}")
                continue
            before[kind] = places
            print(f"{c.dtype}: {len(found)} {what} where the reference is finite:")
            for *place, value, expected in found[:4]:
                name = f"d/d{shown[place[0]]} " if kind == "gradients" else ""
                print(f"  {name}at {where(place[-1])} → {value:g} (reference {expected + 0.0:.7g})")
        if c.worst:
            idx, value, expected, ulps = c.worst
            print(f"{c.dtype}: worst value at {where(idx)}: {value:.7g}, reference {expected:.7g} ({ulps:.3g} ulps)")
        if c.mean_error:
            print(f"{c.dtype}: {c.mean_error}")
        if c.worst_grad:
            n, idx, value, expected, ulps = c.worst_grad
            print(f"{c.dtype}: worst gradient d/d{shown[n]} at {where(idx)}: {value:.7g}, reference {expected:.7g} "
                  f"({ulps:.3g} ulps)")


def _show(x) -> str:
    return f"{float(x):.6g}" if np.ndim(x) == 0 else np.array2string(np.asarray(x), precision=4, threshold=6)


def _check_dtype(fn, order, case, b, dtype, m, per_item, per_item_calls) -> _Check:
    """Run fn on the inputs in ``dtype`` (per item too, when it reduces and can), with autodiff
    gradients, and compare with the reference."""
    spec, c = case.spec, _Check(dtype)
    arrays, c.held = case.to_backend(b, dtype)
    by_name = dict(zip(spec.inputs, arrays))
    floats = [n for n in spec.inputs if n not in spec.labels and n not in spec.indices]
    with_grads = b.value_and_grad is not None and m is not None and bool(floats)
    try:
        out = _first(fn(*(by_name[n] for n in order)))
        batch = np.asarray(b.to_numpy(out), np.float64)
        values = batch if per_item else None
        if per_item_calls:
            values = _per_item_values(fn, order, by_name, case.out_shape, b)
        if with_grads:
            def total(*xs):
                given = {**by_name, **dict(zip(floats, xs))}
                y = _first(fn(*(given[n] for n in order)))
                return b.xp.sum(y) if per_item else y

            _, grads = b.value_and_grad(total, *(by_name[n] for n in floats))
    except Exception as exc:  # noqa: BLE001 - reported in the dtype's row
        c.error, c.unsupported = error_text(exc), dtype == "float16"
        return c
    ref = reference(case, c.held, m, gradients=with_grads)
    divisor = 1.0 if per_item else float(np.sum(ref.item_weights) or 1.0)
    c.ref_mean, c.mean = ref.mean, float(np.mean(batch))
    if values is not None:
        _check_values(c, values.reshape(ref.values.shape), ref, dtype)
    if not per_item:
        tol = native_tolerance(np.mean(ref.scales), np.mean(ref.magnitude), ref.mean, dtype, ref.values.size)
        if np.isfinite(ref.mean) and not errors(c.mean, overflowed(np.array(ref.mean), dtype)) <= tol:
            ref_sum = float(np.sum(ref.values))
            hint = (" (it matches the sum: does it sum rather than average?)"
                    if abs(c.mean - ref_sum) <= tol * ref.values.size else "")
            c.mean_error = f"its batch value {c.mean:.7g} differs from the reference's mean {ref.mean:.7g}{hint}"
    if with_grads:
        c.grad_ulps = 0.0
        for n, g in zip(floats, grads):
            _check_gradient(c, n, np.asarray(b.to_numpy(g), np.float64), ref.grads[n] / divisor,
                            ref.gscales[n] / divisor, dtype)
    return c


def _per_item_values(fn, order, by_name, out_shape, b) -> np.ndarray:
    """fn on each item alone (a mean of one item is that item's loss)."""
    values = np.empty(out_shape)
    for idx in np.ndindex(*out_shape):
        window = tuple(slice(i, i + 1) for i in idx)
        out = _first(fn(*(by_name[n][window] for n in order)))
        values[idx] = np.asarray(b.to_numpy(out), np.float64).reshape(-1)[0]
    return values


def _check_values(c: _Check, got, ref: Reference, dtype):
    expected = overflowed(ref.values, dtype)
    finite_ref = np.isfinite(ref.values)
    with np.errstate(invalid="ignore"):
        bad = finite_ref & ~np.isfinite(got) & ~(got == expected)
    c.nonfinite = [(idx, float(got[idx]), float(ref.values[idx])) for idx in zip(*np.nonzero(bad))]
    compared = finite_ref & ~bad
    err = np.where(compared, errors(got, expected), 0.0)
    in_ulps = ulps(err, ref.scales, dtype)
    c.ulps = float(np.max(in_ulps, initial=0.0))
    beyond = compared & ~(err <= native_tolerance(ref.scales, ref.magnitude, ref.values, dtype))
    if beyond.any():
        idx = np.unravel_index(np.argmax(np.where(beyond, in_ulps, -1.0)), got.shape)
        c.worst = (idx, float(got[idx]), float(ref.values[idx]), float(in_ulps[idx]))


def _check_gradient(c: _Check, name, got, expected, gscale, dtype):
    defined = np.isfinite(expected)
    bad = defined & ~np.isfinite(got)
    c.grad_nonfinite += [(name, idx, float(got[idx]), float(expected[idx])) for idx in zip(*np.nonzero(bad))]
    compared = defined & ~bad
    scale = gscale + np.max(np.where(compared, gscale, 0.0), initial=0.0)
    err = np.where(compared, errors(got, expected), 0.0)
    in_ulps = ulps(err, scale, dtype)
    worst = float(np.max(in_ulps, initial=0.0))
    c.grad_ulps = max(c.grad_ulps, worst)
    if worst > 2 * GRAD_ULPS and (c.worst_grad is None or worst > c.worst_grad[-1]):
        idx = np.unravel_index(np.argmax(in_ulps), got.shape)
        c.worst_grad = (name, idx, float(got[idx]), float(expected[idx]), worst)
