"""compare a loss across backends and the frameworks' own versions, or check a loss of your own

``multiloss compare LOSS`` runs the loss on every installed backend, and each framework's
native counterpart (PyTorch, Keras, optax, scikit-learn) at its own defaults and under the
registry's mapping of our parameters, and, where the loss has a ``convention=`` for that
framework, ours under it against the native. Inputs come from the loss's domain plus edge
cases (exact and saturated probabilities), or from ``--inputs file.npz``. One table: mean
value, max |diff| and ulps against the reference (mpmath at 60 digits; the float64 NumPy
result without mpmath) and agreement; below it, why each documented difference differs. Exit
status 1 when one of our backends (or conventions) disagrees, or a native differs for a reason
the registry does not document; 2 for a usage error.

``multiloss compare LOSS --against module:function`` checks your own implementation of LOSS
(a NumPy, PyTorch, JAX or TensorFlow function; the framework is detected by calling it) at
float64, float32 and float16 against the reference: worst error in ulps, non-finite values
where the reference is finite (with the inputs), and autodiff gradients against the
reference's. It may return one value per item, or one for the batch: that is compared with
the reference's mean, and, unless each item depends on the whole batch, per item by calling
it on each item alone; of a tuple, the first element counts. Exit status 1 when it
disagrees beyond tolerance.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import os
import sys
import time
import warnings
from types import ModuleType

import numpy as np

from multiloss import _validation as v
from multiloss.backends import BACKENDS, adapter, backend_name
from multiloss.registry import DTYPE, Fixed, LossSpec, Native
from multiloss.testing.matrix import (
    EPS,
    GRAD_ULPS,
    TINY,
    ULPS,
    Case,
    compute_dtype,
    math_module,
)
from multiloss.testing.reference import BATCH_REFERENCES, REFERENCES, ROW_REFERENCES

__all__ = ["EDGE_PROBABILITIES", "add_arguments", "run"]

#: (label, probability) pairs put at the end of a probability ``y_pred``: exact 0 and 1, where a
#: naive log is −inf (0·log 0 = 0 in the reference), 2⁻²⁴ (below Keras's 1e-7 clip) and
#: 1 − 2⁻¹¹; each exact in float16.
EDGE_PROBABILITIES = ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.0, 0.0), (1.0, 2.0**-24), (0.0, 1.0 - 2.0**-11))
#: Natives may round and cancel differently from us: they agree within NATIVE_ULPS of the term
#: scale + max(1, |inputs|) (tests/test_natives.py's bound).
NATIVE_ULPS = 2 * ULPS
CONVENTION_ULPS = 16  # tests/test_conventions.py's bound, of max(1, |inputs|, |value|)
AGAINST_DTYPES = ("float64", "float32", "float16")
FINITE_MAX = {"float64": 1.8e308, "float32": 3.4e38, "float16": 65504.0 * (1 + 2.0**-11), "bfloat16": 3.39e38}


class UsageError(Exception):
    """A bad argument: reported on stderr with exit status 2."""


def add_arguments(parser):
    parser.description = __doc__.split("\n", 1)[1].strip()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("loss", help="a registered loss name or alias, e.g. huber, binary_cross_entropy")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter of the loss (repeatable), e.g. --param delta=0.5 --param from_logits=True")
    parser.add_argument("--dtype", choices=["float64", "float32", "float16", "bfloat16"],
                        help="default float32; with --against, each of float64, float32 and float16")
    parser.add_argument("--inputs", metavar="FILE.npz", help="inputs keyed by the loss's input names, "
                        "instead of the domain's")
    parser.add_argument("--shape", default=(6, 8), type=_shape, help="the shape drawn from the domain (default 6,8)")
    parser.add_argument("--backends", default=",".join(n for n, _, _ in BACKENDS),
                        type=lambda s: [x for x in s.split(",") if x],
                        help="comma-separated subset; natives run where their backend does (Keras: tensorflow, "
                             "optax: jax, scikit-learn: numpy); --against uses its function's framework")
    parser.add_argument("--against", metavar="MODULE:FUNCTION",
                        help="check your own implementation (a function, or a class instantiated with its defaults)")
    parser.add_argument("--order", type=lambda s: tuple(x.strip() for x in s.split(",")),
                        help="with --against: our input names in the order of its arguments, e.g. y_pred,y_true")
    parser.add_argument("--framework", choices=[n for n, _, _ in BACKENDS],
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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from multiloss.cli import _load_backends
    from multiloss.teaching import find

    def log(msg):
        if not args.quiet:
            print(msg, end="", file=sys.stderr, flush=True)

    def load(names):
        return _load_backends(names, log)

    try:
        try:
            spec = find(args.loss)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        params = _parse_params(spec, args.param)
        for option, value in (("--order", args.order), ("--framework", args.framework)):
            if value and not args.against:
                raise UsageError(f"{option} applies to --against only")
        unknown = set(args.backends) - {n for n, _, _ in BACKENDS}
        if unknown:
            raise UsageError(f"--backends names unknown backends {sorted(unknown)}; "
                             f"expected some of {[n for n, _, _ in BACKENDS]}")
        if args.against:
            return _against(spec, params, args, load)
        return _compare(spec, params, args, load, log)
    except UsageError as exc:
        print(f"multiloss compare: error: {exc}", file=sys.stderr)
        return 2


# --- arguments, inputs and the reference ----------------------------------------------------
def _parse_params(spec: LossSpec, items: list[str]) -> dict:
    """``--param NAME=VALUE`` pairs: Python literals (numbers, None, True, tuples), else strings."""
    params = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in spec.params:
            known = ", ".join(spec.params) or "none"
            raise UsageError(f"--param {item!r}: {spec.name} has no parameter {name!r} (NAME=VALUE; its parameters: "
                             f"{known})")
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()
        if name in spec.conditions:
            try:
                v.check_param(name, value, spec.conditions[name])
            except (ValueError, TypeError) as exc:
                raise UsageError(f"--param {item!r}: {exc}") from None
        params[name] = value
    return params


class _Given(Case):
    """A case on the user's own inputs (``--inputs``) rather than on the domain's."""

    def __init__(self, spec: LossSpec, params: dict, inputs: dict, out_shape: tuple):
        self.spec, self.params, self.inputs = spec, {**spec.params, **params}, inputs
        self.shape, self._out_shape, self.id = out_shape, out_shape, spec.name

    @property
    def out_shape(self) -> tuple:
        return self._out_shape


def _case(spec: LossSpec, params: dict, args) -> tuple[Case, str]:
    """The inputs, as a Case, and a phrase saying where they come from."""
    if args.inputs:
        inputs = _load_npz(spec, args.inputs)
        try:
            out = spec.function(*inputs.values(), reduction="none", **params)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--inputs {args.inputs}: {exc}") from None
        case = _Given(spec, params, inputs, np.shape(out))
        return case, f"{np.size(out)} items from {args.inputs}"
    if spec.domain is None:
        raise UsageError(f"{spec.name} has no domain to draw inputs from; pass --inputs FILE.npz")
    case = Case(spec, params, args.shape)
    case.inputs, edges = _with_edges(case)
    shape = "×".join(map(str, case.inputs[spec.inputs[0]].shape))
    return case, f"{int(np.prod(case.out_shape))} items from {spec.name}'s domain ({shape}){edges}"


def _load_npz(spec: LossSpec, path: str) -> dict:
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--inputs {path}: not a readable .npz file ({exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise UsageError(f"--inputs {path}: a single array; expected an .npz with arrays {', '.join(spec.inputs)}")
    missing = [n for n in spec.inputs if n not in data.files]
    extra = sorted(set(data.files) - set(spec.inputs))
    if missing or extra:
        raise UsageError(
            f"--inputs {path}: {spec.name} takes arrays {', '.join(spec.inputs)}"
            + (f"; missing {', '.join(missing)}" if missing else "") + (f"; unexpected {', '.join(extra)}" if extra else ""))
    try:
        return {n: np.asarray(data[n], np.int64 if n in spec.indices else np.float64) for n in spec.inputs}
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--inputs {path}: {exc}") from None


def _with_edges(case: Case) -> tuple[dict, str]:
    """The domain's inputs with EDGE_PROBABILITIES as the last items where ``y_pred`` is a
    probability (a loss with ``from_logits=False``), and a phrase saying so."""
    inputs = dict(case.inputs)
    if case.params.get("from_logits", True) or "y_pred" not in inputs:
        return inputs, ""
    k = min(len(EDGE_PROBABILITIES), inputs["y_pred"].size)
    p = inputs["y_pred"].copy()
    p.reshape(-1)[-k:] = [q for _, q in EDGE_PROBABILITIES[:k]]
    inputs["y_pred"] = p
    y = inputs.get("y_true")
    if case.kind == "element" and y is not None and y.shape == p.shape and "y_true" in case.spec.labels:
        y = y.copy()
        y.reshape(-1)[-k:] = [t for t, _ in EDGE_PROBABILITIES[:k]]
        inputs["y_true"] = y
    return inputs, "; last, y_pred = 0, 1, 2⁻²⁴ and 1 − 2⁻¹¹ (exact in float16)"


class _ZeroLog:
    """mpmath with ∞ = 10¹⁰⁰⁰ and log 0 = −∞: still inf as floats, yet 0·log 0 = 0, its limit (as
    xlogy has it), so that the reference is defined at exact 0 and 1 probabilities."""

    def __init__(self, m):
        self._m = m
        self.inf = m.mpf(10) ** 1000

    def __getattr__(self, name):
        return getattr(self._m, name)

    def log(self, x):
        return self._m.log(x) if x != 0 else -self.inf


@dataclasses.dataclass
class _Reference:
    values: np.ndarray  # per item
    scales: np.ndarray  # the sum of the magnitudes of each item's terms
    magnitude: np.ndarray  # per item: max(1, |inputs|)
    item_weights: np.ndarray
    grads: dict  # input name -> d(Σ items)/d(input); empty without gradients
    gscales: dict

    @property
    def mean(self) -> float:
        return float(np.sum(self.values) / (np.sum(self.item_weights) or 1.0))


def _has_reference(spec: LossSpec) -> bool:
    return spec.reference is not None or spec.name in REFERENCES.keys() | ROW_REFERENCES.keys() | BATCH_REFERENCES.keys()


def _reference(case: Case, held: dict, m, gradients: bool) -> _Reference:
    """The reference at ``held`` (the inputs as the dtype holds them): mpmath's (``m``), or
    without it the float64 NumPy result of ours, whose scale is then |value|."""
    shape = case.out_shape
    magnitude = np.max([np.abs(held[n]).reshape(shape + (-1,)).max(axis=-1, initial=1.0) for n in case.spec.inputs],
                       axis=0)
    if m is None:
        ours = np.asarray(case.call(*held.values(), reduction="none"), np.float64)
        return _Reference(ours, np.abs(ours), magnitude, np.ones(shape), {}, {})
    values, scales, grads, gscales, item_weights = case.reference(held, m, gradients=gradients)
    return _Reference(values, scales, magnitude, item_weights, grads, gscales)


def _reference_module():
    """(math module for the reference or None, a phrase naming the reference)."""
    m = math_module()
    if m.__name__ != "mpmath":
        return None, "the float64 NumPy result (install mpmath for an independent reference)"
    return _ZeroLog(m), "mpmath at 60 digits (0·log 0 = 0)"


# --- comparing ------------------------------------------------------------------------------
def _overflowed(ref: np.ndarray, dtype: str) -> np.ndarray:
    """The reference as the dtype can hold it: ±inf where it exceeds the dtype's range."""
    return np.where(np.abs(ref) > FINITE_MAX[dtype], np.copysign(np.inf, ref), ref)


def _errors(got, ref) -> np.ndarray:
    got = np.asarray(got, np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(got == ref, 0.0, np.abs(got - ref))


def _ulps(err, scale, dtype):
    """Errors in ulps of the dtype, relative to ``scale``; below the dtype's subnormal floor, 0."""
    err = np.where(err <= TINY[dtype], 0.0, err)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(err == 0, 0.0, err / (EPS[dtype] * np.asarray(scale)))


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


def _measure(label, got, ref: _Reference, compared, dtype, tol) -> _Row:
    """A row for per-item values ``got`` against the reference at the ``compared`` items."""
    if np.size(got) != ref.values.size:
        return _Row(label, verdict=f"error: shape {np.shape(got)}, expected {ref.values.shape}", fails=True)
    got = np.asarray(got, np.float64).reshape(ref.values.shape)
    err = _errors(got, _overflowed(ref.values, dtype))[compared]
    ok = bool(np.all(err <= np.broadcast_to(tol, ref.values.shape)[compared]))  # NaN is not ≤
    ulps = _ulps(err, ref.scales[compared], dtype)
    return _Row(label, float(np.mean(got[compared])), float(np.max(err, initial=0.0)),
                float(np.max(ulps, initial=0.0)), "✓" if ok else "✗", not ok)


def _our_tolerance(ref: _Reference, dtype: str):
    """The library's contract (tests/test_matrix.py): ULPS of the compute dtype's eps times the
    term scale, plus the result's rounding to its dtype."""
    return EPS[dtype] * np.abs(ref.values) + ULPS * EPS[compute_dtype(dtype)] * ref.scales + TINY[dtype]


def _native_tolerance(ref: _Reference, dtype: str, items: int = 0):
    """tests/test_natives.py's bound: a native may cancel intermediates as large as its inputs."""
    return (2 * (ULPS + items) * EPS[dtype] * (ref.scales + ref.magnitude)
            + 2 * EPS[dtype] * np.abs(np.where(np.isfinite(ref.values), ref.values, 0.0)))


def _arrange(native: Native, inputs: dict, xp) -> dict:
    """Our inputs as the native takes them (see Native.per)."""
    if native.args is not None:  # it arranges them itself
        return inputs
    if native.per == "last_axis":  # one element per row: Keras averages it
        return {n: xp.reshape(a, tuple(a.shape) + (1,)) for n, a in inputs.items()}
    if native.per == "mean":
        return {n: xp.reshape(a, (-1,)) for n, a in inputs.items()}
    return inputs


def _convention_params(native: Native, spec: LossSpec) -> dict | None:
    """Our parameters equal to the native at its defaults, by its convention (None: it has none)."""
    if native.convention is None:
        return None
    params = {**spec.params, **native.when, **native.convention}
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
            return (f"At its defaults it is ours with {_kv(diff)} (compared here: "
                    f"{_kv({k: params.get(k) for k in diff})}).")
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
    return f"At its defaults it has {_kv(diff)} (compared here: {_kv(ours)})."


def _kv(d: dict) -> str:
    return ", ".join(f"{k}={x!r}" for k, x in d.items())


def _call_native(native: Native, arrays: dict, params: dict, dtype: str, backend):
    """The native's values as float64 NumPy, divided by its scale, or the exception it raised."""
    try:
        with warnings.catch_warnings():  # deprecations and advice from the framework: not ours to show
            warnings.simplefilter("ignore")
            out = native(arrays, params, dtype)
        return np.asarray(backend.to_numpy(out), np.float64) / native.scale
    except Exception as exc:  # noqa: BLE001 - a native failing is reported in its row
        return exc


def _error_text(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return text if len(text) <= 90 else text[:87] + "..."


def _compare(spec: LossSpec, params: dict, args, load, log) -> int:
    dtype = args.dtype or "float32"
    backends, missing = load(args.backends)
    loaded = {b.xp.backend: b for b in backends}
    natives, absent = [], []
    for fw in dict.fromkeys(n.framework for n in spec.natives):
        if not any(n.backend in loaded for n in spec.natives if n.framework == fw):
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
        natives += [n for n in spec.natives if n.framework == fw and n.backend in loaded]
    holder = next((b for b in backends if dtype in b.DTYPES), None)
    if holder is None:
        raise UsageError(f"--dtype {dtype}: none of the loaded backends ({', '.join(loaded) or 'none'}) has it")

    case, source = _case(spec, params, args)
    m, ref_name = _reference_module() if _has_reference(spec) else (None, "the float64 NumPy result (no reference registered)")
    _, held = case.to_backend(holder, dtype)
    ref = _reference(case, held, m, gradients=False)
    compared = np.isfinite(ref.values)
    n_items = ref.values.size

    print(f"multiloss compare {spec.name}({_kv(case.params)}), {dtype}")
    print(f"inputs: {source}")
    print(f"reference: {ref_name}")
    print(f"ulps: |diff| / (eps × the item's term scale). Agree: ours within {ULPS} ulps of the compute dtype "
          f"(+ the result's rounding);\n  natives within {NATIVE_ULPS} ulps of (term scale + max(1, |inputs|)); "
          f"ours under a convention within {CONVENTION_ULPS} ulps of max(1, |inputs|) + |value| of the native\n")

    rows = [_Row(f"reference ({'mpmath' if m else 'NumPy float64'})", float(np.mean(ref.values[compared])), 0.0, 0.0, "")]
    for b in backends:
        name = b.xp.backend
        if dtype not in b.DTYPES:
            rows.append(_Row(f"ours · {name}", verdict=f"error: {name} has no {dtype}"))
            continue
        arrays, _ = case.to_backend(b, dtype)
        try:
            got = b.to_numpy(case.call(*arrays, reduction="none"))
        except Exception as exc:  # noqa: BLE001 - a crash is a disagreement, in its row
            rows.append(_Row(f"ours · {name}", verdict=f"error: {_error_text(exc)}", fails=True))
            continue
        rows.append(_measure(f"ours · {name}", got, ref, compared, dtype, _our_tolerance(ref, dtype)))

    notes: dict[str, list[str]] = {}
    skipped = []
    for native in natives:
        if not native.applies(case.params):
            if not any(n.api == native.api and n.applies(case.params) for n in natives) and not any(
                    s.startswith(f"{native.api}:") for s in skipped):  # one line per function not compared
                need = {k: x for k, x in native.when.items() if case.params.get(k) != x}
                skipped.append(f"{native.api}: it is {spec.name} with {_kv(need)} only")
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
        print(f"Undocumented: {r.label} differs from the reference and its registry entry gives no reason (a gap "
              "in the registry or a change in the framework): this fails the comparison.")
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
    arranged = _arrange(native, dict(zip(spec.inputs, arrays)), nb.xp)
    mapped = _call_native(native, arranged, case.params, dtype, nb)
    plain, plain_params = _at_defaults(native, spec)
    defaults = _call_native(plain, arranged, plain_params, dtype, nb)
    same = (not isinstance(mapped, Exception) and not isinstance(defaults, Exception)
            and np.array_equal(mapped, defaults, equal_nan=True))
    settings = [("defaults = mapped", mapped)] if same else [("defaults", defaults), ("mapped", mapped)]
    rows = []
    for setting, got in settings:
        label = f"{native.api} · {setting}"
        if isinstance(got, Exception):
            rows.append(_Row(label, verdict=f"error: {_error_text(got)}"))
            continue
        if native.per == "mean":
            mean_ref = _Reference(np.array(ref.mean), np.array(np.mean(ref.scales)), np.array(np.mean(ref.magnitude)),
                                  np.ones(()), {}, {})
            if not np.isfinite(mean_ref.values):
                rows.append(_Row(label, verdict="error: not compared (the reference's mean is infinite)"))
                continue
            row = _measure(label, got, mean_ref, np.array(True), dtype, _native_tolerance(mean_ref, dtype, ref.values.size))
        else:
            row = _measure(label, got, ref, compared, dtype, _native_tolerance(ref, dtype))
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
    for fw in spec.conventions:
        if fw not in frameworks:  # not installed, or its backend not loaded
            continue
        try:
            native, merged = spec.convention(fw, params)
        except ValueError as exc:
            skipped.append(str(exc))
            continue
        b = loaded[native.backend]
        label = f"ours convention={fw!r} ↔ {native.api}"
        arrays, held = case.to_backend(b, dtype)
        inputs = dict(zip(spec.inputs, arrays))
        if native.per == "mean" and native.args is None:
            inputs = {n: b.xp.reshape(a, (-1,)) for n, a in inputs.items()}
        theirs = _call_native(native, inputs, {**spec.params, **merged}, dtype, b)
        if isinstance(theirs, Exception):
            rows.append(_Row(label, verdict=f"error: {_error_text(theirs)}"))
            continue
        try:
            out = case.spec.function(*arrays, reduction="mean" if native.per == "mean" else "none", convention=fw,
                                     **params)
            ours = np.asarray(b.to_numpy(out), np.float64)
        except Exception as exc:  # noqa: BLE001 - ours failing under a convention is a disagreement
            rows.append(_Row(label, verdict=f"error: {_error_text(exc)}", fails=True))
            continue
        if ours.shape != theirs.shape:
            rows.append(_Row(label, verdict=f"error: ours has shape {ours.shape}, the native {theirs.shape}", fails=True))
            continue
        rows_shape = ours.shape if ours.ndim else (1,)
        magnitude = np.max([np.abs(held[n]).reshape(rows_shape + (-1,)).max(axis=-1, initial=1.0)
                            for n in spec.inputs], axis=0).reshape(ours.shape)
        scale = magnitude + np.abs(np.where(np.isfinite(theirs), theirs, 0.0))
        err = _errors(ours, theirs)
        err = np.where(np.isnan(ours) & np.isnan(theirs), 0.0, err)
        ok = bool(np.all(err <= CONVENTION_ULPS * EPS[dtype] * scale))
        rows.append(_Row(label, float(np.mean(ours)), float(np.max(err, initial=0.0)),
                         float(np.max(_ulps(err, scale, dtype), initial=0.0)), "✓" if ok else "✗", not ok))
    return rows


# --- --against ------------------------------------------------------------------------------
def _import_target(text: str):
    """``module:attr`` -> (the callable, its module, a phrase); a class is instantiated with its defaults."""
    module_name, sep, attr = text.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"--against {text!r}: expected MODULE:FUNCTION, e.g. mypackage.losses:focal_loss")
    sys.path.insert(0, os.getcwd())  # as `python -m` would: the current directory's packages
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - the user's module failing to import is a usage error
        raise UsageError(f"--against {text!r}: cannot import {module_name} ({_error_text(exc)})") from None
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
    raise UsageError(f"{label}'s arguments ({theirs}) are not named as {spec.name}'s inputs ({', '.join(spec.inputs)}); "
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
    return [n for n, _, _ in BACKENDS if n in roots and n != "numpy"] + ["numpy"]


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
            tried.append(f"{name} arrays: {_error_text(exc)}")
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


def _against(spec: LossSpec, params: dict, args, load) -> int:
    if not _has_reference(spec):
        raise UsageError(f"{spec.name} has no reference to check against; register it with reference=")
    fn, module, label = _import_target(args.against)
    names = _positional(fn)
    order = _order(spec, args.order, names, label)
    case, source = _case(spec, params, args)
    b, out = _detect(fn, order, case, args, module, label, load)
    m, ref_name = _reference_module()
    shown = {n: names[i] if i < len(names) else n for i, n in enumerate(order)}
    print(f"multiloss compare {spec.name}({_kv(case.params)}) --against {label}")
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
    for dtype in [args.dtype] if args.dtype else AGAINST_DTYPES:
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
        c.error, c.unsupported = _error_text(exc), dtype == "float16"
        return c
    ref = _reference(case, c.held, m, gradients=with_grads)
    divisor = 1.0 if per_item else float(np.sum(ref.item_weights) or 1.0)
    c.ref_mean, c.mean = ref.mean, float(np.mean(batch))
    if values is not None:
        _check_values(c, values.reshape(ref.values.shape), ref, dtype)
    if not per_item:
        tol = _native_tolerance(_Reference(np.array(ref.mean), np.array(np.mean(ref.scales)),
                                           np.array(np.mean(ref.magnitude)), np.ones(()), {}, {}),
                                dtype, ref.values.size)
        if np.isfinite(ref.mean) and not _errors(c.mean, _overflowed(np.array(ref.mean), dtype)) <= tol:
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


def _check_values(c: _Check, got, ref: _Reference, dtype):
    expected = _overflowed(ref.values, dtype)
    finite_ref = np.isfinite(ref.values)
    with np.errstate(invalid="ignore"):
        bad = finite_ref & ~np.isfinite(got) & ~(got == expected)
    c.nonfinite = [(idx, float(got[idx]), float(ref.values[idx])) for idx in zip(*np.nonzero(bad))]
    compared = finite_ref & ~bad
    err = np.where(compared, _errors(got, expected), 0.0)
    ulps = _ulps(err, ref.scales, dtype)
    c.ulps = float(np.max(ulps, initial=0.0))
    beyond = compared & ~(err <= _native_tolerance(ref, dtype))
    if beyond.any():
        idx = np.unravel_index(np.argmax(np.where(beyond, ulps, -1.0)), got.shape)
        c.worst = (idx, float(got[idx]), float(ref.values[idx]), float(ulps[idx]))


def _check_gradient(c: _Check, name, got, expected, gscale, dtype):
    defined = np.isfinite(expected)
    bad = defined & ~np.isfinite(got)
    c.grad_nonfinite += [(name, idx, float(got[idx]), float(expected[idx])) for idx in zip(*np.nonzero(bad))]
    compared = defined & ~bad
    scale = gscale + np.max(np.where(compared, gscale, 0.0), initial=0.0)
    err = np.where(compared, _errors(got, expected), 0.0)
    ulps = _ulps(err, scale, dtype)
    worst = float(np.max(ulps, initial=0.0))
    c.grad_ulps = max(c.grad_ulps, worst)
    if worst > 2 * GRAD_ULPS and (c.worst_grad is None or worst > c.worst_grad[-1]):
        idx = np.unravel_index(np.argmax(ulps), got.shape)
        c.worst_grad = (name, idx, float(got[idx]), float(expected[idx]), worst)
