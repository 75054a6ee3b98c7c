"""compare a loss across backends and the frameworks' own versions, or check a loss of your own

``multiloss compare LOSS`` runs the loss on every installed backend, and each framework's
native counterpart (PyTorch, Keras, optax, scikit-learn) at its own defaults and under the
mapping of our parameters (:mod:`multiloss.natives`), and, where the loss has a
``convention=`` for that framework, ours under it against the native. Inputs come from the
loss's domain plus edge cases (exact and saturated probabilities), or from
``--inputs file.npz``. One table: mean value, max |diff| and ulps against the reference
(mpmath at 60 digits; the float64 NumPy result without mpmath) and agreement; below it, why
each documented difference differs. Exit status 1 when one of our backends (or conventions)
disagrees, or a native differs for a reason the natives do not document; 2 for a usage error.

``multiloss compare LOSS --against module:function`` checks your own implementation of LOSS
instead (:mod:`multiloss.against`).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import sys
import time
import warnings

import numpy as np

from multiloss import _options, against
from multiloss._case import Reference, case_from, error_text, kv, reference, reference_module
from multiloss._options import UsageError
from multiloss.backends import NAMES, adapter, load_all
from multiloss.natives import DTYPE, Fixed, Native
from multiloss.natives import of as natives_of
from multiloss.registry import LossSpec, lookup
from multiloss.testing.numerics import (
    DTYPES,
    EPS,
    NATIVE_ULPS,
    PEER_ULPS,
    ULPS,
    errors,
    native_tolerance,
    overflowed,
    reference_tolerance,
    ulps,
)

__all__ = ["add_arguments", "run"]


def add_arguments(parser):
    ours, theirs = __doc__.split("\n", 1)[1].strip().rsplit("\n\n", 1)[0], against.__doc__.strip().split("\n", 2)
    parser.description = f"{ours}\n\n{theirs[0]}\n{theirs[2]}"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("loss", help="a registered loss name or alias, e.g. huber, binary_cross_entropy")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter of the loss (repeatable), e.g. --param delta=0.5 --param from_logits=True")
    parser.add_argument("--dtype", choices=DTYPES,
                        help="default float32; with --against, each of float64, float32 and float16")
    parser.add_argument("--inputs", metavar="FILE.npz", help="inputs keyed by the loss's input names, "
                        "instead of the domain's")
    parser.add_argument("--shape", default=(6, 8), type=_shape, help="the shape drawn from the domain (default 6,8)")
    _options.add_backends(parser)
    parser.add_argument("--against", metavar="MODULE:FUNCTION",
                        help="check your own implementation (a function, or a class instantiated with its defaults)")
    parser.add_argument("--order", type=lambda s: tuple(x.strip() for x in s.split(",")),
                        help="with --against: our input names in the order of its arguments, e.g. y_pred,y_true")
    parser.add_argument("--framework", choices=NAMES,
                        help="with --against: its framework (default: detected by calling it)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no import progress")


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(x) for x in text.split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, e.g. 6,8; got {text!r}")
    return shape


def run(args) -> int:

    def log(msg):
        if not args.quiet:
            print(msg, end="", file=sys.stderr, flush=True)

    def load(names):
        return load_all(names, log)

    try:
        try:
            spec = lookup(args.loss)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        params = _options.parse_params(spec, args.param)
        for option, value in (("--order", args.order), ("--framework", args.framework)):
            if value and not args.against:
                raise UsageError(f"{option} applies to --against only")
        _options.check_backends(args.backends)
        if args.against:
            return against.check(spec, params, args, load)
        return _compare(spec, params, args, load, log)
    except UsageError as exc:
        print(f"multiloss compare: error: {exc}", file=sys.stderr)
        return 2


@dataclasses.dataclass
class _Row:
    label: str
    mean: float = float("nan")
    diff: float = float("nan")
    ulps: float = float("nan")
    verdict: str = "✓"
    fails: bool = False

    def line(self, width: int) -> str:
        if self.verdict.startswith("error"):
            return f"{self.label:<{width}}  {self.verdict}"
        numbers = f"{self.mean:>14.7g} {self.diff:>11.3g} {self.ulps:>9.3g}"
        return f"{self.label:<{width}}  {numbers}  {self.verdict}"


def _measure(label, got, ref: Reference, compared, dtype, tol) -> _Row:
    """A row for per-item values ``got`` against the reference at the ``compared`` items."""
    if np.size(got) != ref.values.size:
        return _Row(label, verdict=f"error: shape {np.shape(got)}, expected {ref.values.shape}", fails=True)
    got = np.asarray(got, np.float64).reshape(ref.values.shape)
    err = errors(got, overflowed(ref.values, dtype))[compared]
    ok = bool(np.all(err <= np.broadcast_to(tol, ref.values.shape)[compared]))  # NaN is not ≤
    in_ulps = ulps(err, ref.scales[compared], dtype)
    return _Row(label, float(np.mean(got[compared])), float(np.max(err, initial=0.0)),
                float(np.max(in_ulps, initial=0.0)), "✓" if ok else "✗", not ok)


def _convention_params(native: Native, spec: LossSpec) -> dict | None:
    """Our parameters equal to the native at its defaults, by its convention (None: it has none)."""
    if native.convention is None:
        return None
    params = {**spec.params, **native.when, **native.convention.values}
    return params if native.applies(params) else None


def _at_defaults(native: Native, spec: LossSpec) -> tuple[Native, dict]:
    """The native called at its own defaults, and our parameters to map: its convention's where
    it has one, else only the kwargs that are not our parameters (reduction, dtype)."""
    params = _convention_params(native, spec)
    if params is not None:
        return native, params
    kept = {k: x for k, x in native.kwargs.items() if isinstance(x, Fixed) or x is DTYPE}
    return dataclasses.replace(native, kwargs=kept), dict(spec.params)


def _defaults_sentence(native: Native, spec: LossSpec, params: dict) -> str:
    """Why the native at its defaults computes another loss than ours at ``params``, if we can tell."""
    defaults = _convention_params(native, spec)
    if defaults is not None:
        diff = {k: x for k, x in defaults.items() if params.get(k) != x}
        if diff:
            return (f"At its defaults it is ours with {kv(diff)} (compared here: "
                    f"{kv({k: params.get(k) for k in diff})}).")
        return ""
    module, _, attr = native.api.rpartition(".")
    try:
        fn = getattr(importlib.import_module(module), attr)
        signature = inspect.signature(fn.__init__ if native.construct else fn).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return ""
    diff = {k: signature[k].default for k, ours in native.kwargs.items()
            if isinstance(ours, str) and k in signature and signature[k].default is not inspect.Parameter.empty
            and signature[k].default != params.get(ours)}
    if not diff:
        return ""
    ours = {native.kwargs[k]: params.get(native.kwargs[k]) for k in diff}
    return f"At its defaults it has {kv(diff)} (compared here: {kv(ours)})."


def _call_native(native: Native, arrays: dict, params: dict, dtype: str, per_item: bool = True):
    """:meth:`Native.values`, or the exception it raised."""
    try:
        with warnings.catch_warnings():  # deprecations and advice from the framework: not ours to show
            warnings.simplefilter("ignore")
            return native.values(arrays, params, dtype, per_item)
    except Exception as exc:  # noqa: BLE001 - a native failing is reported in its row
        return exc


def _compare(spec: LossSpec, params: dict, args, load, log) -> int:
    dtype = args.dtype or "float32"
    backends, missing = load(args.backends)
    loaded = {b.xp.backend: b for b in backends}
    natives, absent = [], []
    registered = natives_of(spec).natives
    for fw in dict.fromkeys(n.framework for n in registered):
        if not any(n.backend in loaded for n in registered if n.framework == fw):
            continue
        if fw not in sys.modules:  # the natives' frameworks are their modules' names
            start = time.perf_counter()
            log(f"importing {fw} ...")
            try:
                importlib.import_module(fw)
            except ImportError:
                log(" not installed\n")
                absent.append(fw)
                continue
            log(f" {time.perf_counter() - start:.1f} s\n")
        natives += [n for n in registered if n.framework == fw and n.backend in loaded]
    holder = next((b for b in backends if dtype in b.DTYPES), None)
    if holder is None:
        raise UsageError(f"--dtype {dtype}: none of the loaded backends ({', '.join(loaded) or 'none'}) has it")

    case, source = case_from(spec, params, args)
    m, ref_name = (reference_module() if spec.reference is not None
                   else (None, "the float64 NumPy result (no reference registered)"))
    _, held = case.to_backend(holder, dtype)
    ref = reference(case, held, m, gradients=False)
    compared = np.isfinite(ref.values)
    n_items = ref.values.size

    print(f"multiloss compare {spec.name}({kv(case.params)}), {dtype}")
    print(f"inputs: {source}")
    print(f"reference: {ref_name}")
    print(f"ulps: |diff| / (eps × the item's term scale). Agree: ours within {ULPS} ulps of the compute dtype "
          f"(+ the result's rounding);\n  natives within {NATIVE_ULPS} ulps of (term scale + max(1, |inputs|)); "
          f"ours under a convention within {PEER_ULPS} ulps of max(1, |inputs|) + |value| of the native\n")

    rows = [_Row(f"reference ({'mpmath' if m else 'NumPy float64'})", float(np.mean(ref.values[compared])), 0.0, 0.0,
                 "")]
    for b in backends:
        name = b.xp.backend
        if dtype not in b.DTYPES:
            rows.append(_Row(f"ours · {name}", verdict=f"error: {name} has no {dtype}"))
            continue
        arrays, _ = case.to_backend(b, dtype)
        try:
            got = b.to_numpy(case.call(*arrays, reduction="none"))
        except Exception as exc:  # noqa: BLE001 - a crash is a disagreement, in its row
            rows.append(_Row(f"ours · {name}", verdict=f"error: {error_text(exc)}", fails=True))
            continue
        rows.append(_measure(f"ours · {name}", got, ref, compared, dtype,
                             reference_tolerance(ref.values, ref.scales, dtype)))

    notes: dict[str, list[str]] = {}
    skipped = []
    for native in natives:
        if native.unchecked:
            skipped.append(f"{native.api}: {native.unchecked}")
            continue
        if not native.applies(case.params):
            if not any(n.api == native.api and n.applies(case.params) for n in natives) and not any(
                    s.startswith(f"{native.api}:") for s in skipped):  # one line per function not compared
                need = {k: x for k, x in native.when.items() if case.params.get(k) != x}
                skipped.append(f"{native.api}: it is {spec.name} with {kv(need)} only")
            continue
        rows += _native_rows(native, spec, case, ref, compared, dtype, notes)
    rows += _convention_rows(spec, case, params, dtype, loaded, {n.framework for n in natives}, skipped)

    width = max(len(r.label) for r in rows)
    header = f"{'':<{width}}  {'mean value':>14} {'max |diff|':>11} {'ulps':>9}  agree"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(r.line(width))
    if not compared.all() or notes or skipped or missing or absent:
        print()
    if not compared.all():
        print(f"{n_items - int(compared.sum())} of {n_items} items have no finite reference (e.g. y_pred = 0 or 1 "
              "against the other label) and are left out of the columns.")
    if notes:
        print("Known differences:")
        for api, sentences in notes.items():
            for sentence in sentences:
                print(f"  {api}: {sentence}")
    undocumented = [r for r in rows if r.verdict == "✗ undocumented"]
    for r in undocumented:
        print(f"Undocumented: {r.label} differs from the reference and its natives entry gives no reason (a gap "
              "in multiloss.natives or a change in the framework): this fails the comparison.")
    if skipped:
        print("Not compared at these parameters:")
        for line in skipped:
            print(f"  {line}")
    if missing or absent:
        print("Not installed: " + ", ".join(missing + absent) + ".")
    failures = sum(r.fails for r in rows)
    print(f"\n{'all agree' if not failures else f'{failures} disagreement(s)'}")
    return 1 if failures else 0


def _native_rows(native, spec, case, ref, compared, dtype, notes) -> list[_Row]:
    """The native at its own defaults and under our mapped parameters: one row when equal."""
    nb = adapter(native.backend)
    arrays, _ = case.to_backend(nb, dtype)
    inputs = dict(zip(spec.inputs, arrays))
    mapped = _call_native(native, inputs, case.params, dtype)
    plain, plain_params = _at_defaults(native, spec)
    defaults = _call_native(plain, inputs, plain_params, dtype)
    same = (not isinstance(mapped, Exception) and not isinstance(defaults, Exception)
            and np.array_equal(mapped, defaults, equal_nan=True))
    settings = [("defaults = mapped", mapped)] if same else [("defaults", defaults), ("mapped", mapped)]
    rows = []
    for setting, got in settings:
        label = f"{native.api} · {setting}"
        if isinstance(got, Exception):
            rows.append(_Row(label, verdict=f"error: {error_text(got)}"))
            continue
        if native.per == "mean":
            mean_ref = Reference(np.array(ref.mean), np.array(np.mean(ref.scales)), np.array(np.mean(ref.magnitude)),
                                  np.ones(()), {}, {})
            if not np.isfinite(mean_ref.values):
                rows.append(_Row(label, verdict="error: not compared (the reference's mean is infinite)"))
                continue
            tol = native_tolerance(mean_ref.scales, mean_ref.magnitude, mean_ref.values, dtype, ref.values.size)
            row = _measure(label, got, mean_ref, np.array(True), dtype, tol)
        else:
            row = _measure(label, got, ref, compared, dtype,
                           native_tolerance(ref.scales, ref.magnitude, ref.values, dtype))
        if row.fails:
            why = list(native.notes)
            if setting == "defaults":
                why = [s for s in [_defaults_sentence(native, spec, case.params)] if s] + why
            if why:
                row.verdict, row.fails = "✗ known difference", False
                notes.setdefault(native.api, [])
                notes[native.api] += [s for s in why if s not in notes[native.api]]
            else:
                row.verdict = "✗ undocumented"
        rows.append(row)
    return rows


def _convention_rows(spec, case, params, dtype, loaded, frameworks, skipped) -> list[_Row]:
    """Ours with ``convention=framework`` against the native it follows, on the native's backend,
    on the inputs as they are (a Keras native averages the last axis, and so does ours under it).
    A convention that does not apply at ``params`` goes to ``skipped``."""
    rows = []
    for fw in spec.frameworks:
        if fw not in frameworks:  # not installed, or its backend not loaded
            continue
        try:
            rule, merged = spec.convention(fw, params)
        except ValueError as exc:
            skipped.append(str(exc))
            continue
        native = natives_of(spec).following(rule)
        if native.unchecked:  # listed with the natives not compared
            continue
        b = loaded[native.backend]
        label = f"ours convention={fw!r} ↔ {native.api}"
        arrays, held = case.to_backend(b, dtype)
        theirs = _call_native(native, dict(zip(spec.inputs, arrays)), {**spec.params, **merged}, dtype, per_item=False)
        if isinstance(theirs, Exception):
            rows.append(_Row(label, verdict=f"error: {error_text(theirs)}"))
            continue
        try:
            out = case.spec.function(*arrays, reduction="mean" if native.per == "mean" else "none", convention=fw,
                                     **params)
            ours = np.asarray(b.to_numpy(out), np.float64)
        except Exception as exc:  # noqa: BLE001 - ours failing under a convention is a disagreement
            rows.append(_Row(label, verdict=f"error: {error_text(exc)}", fails=True))
            continue
        if ours.shape != theirs.shape:
            rows.append(_Row(label, verdict=f"error: ours has shape {ours.shape}, the native {theirs.shape}",
                             fails=True))
            continue
        rows_shape = ours.shape if ours.ndim else (1,)
        magnitude = np.max([np.abs(held[n]).reshape(rows_shape + (-1,)).max(axis=-1, initial=1.0)
                            for n in spec.inputs], axis=0).reshape(ours.shape)
        scale = magnitude + np.abs(np.where(np.isfinite(theirs), theirs, 0.0))
        err = errors(ours, theirs)
        err = np.where(np.isnan(ours) & np.isnan(theirs), 0.0, err)
        ok = bool(np.all(err <= PEER_ULPS * EPS[dtype] * scale))
        rows.append(_Row(label, float(np.mean(ours)), float(np.max(err, initial=0.0)),
                         float(np.max(ulps(err, scale, dtype), initial=0.0)), "✓" if ok else "✗", not ok))
    return rows
