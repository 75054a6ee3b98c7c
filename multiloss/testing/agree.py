"""``assert_backends_agree``: run one function on every installed framework and compare.

The baseline of each comparison is the elementwise median of the backends' own float64
results on the inputs as rounded to the dtype under test, rounded in turn to that dtype.
Why a median rather than NumPy or the first backend: it needs no one backend to be right.
With three or more backends the odd one out is the one flagged, whichever it is (NumPy too:
the values' median runs over every backend); a first-backend baseline would blame every other
backend for its own bug, and NumPy cannot be the gradients' baseline at all (no autodiff). Why
float64: a float32 or float16 run is then measured against its correctly rounded answer, so
the error shown is its own, not two runs' errors mixed, and an overflow to inf in the dtype
is expected of every backend alike. With only two backends the median is their mean: both
are flagged, each at half the gap, since nothing says which of the two is right.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections import Counter

import numpy as np

from multiloss._validation import _dtype_name
from multiloss.backends import MODULES, NAMES, adapter, backend_name, installed, load
from multiloss.testing.numerics import EPS, NORMAL, PEER_ULPS

__all__ = ["ENV", "assert_backends_agree", "selected"]

#: The environment variable that restricts the backends tests run on, e.g. "numpy,jax".
ENV = "MULTILOSS_TEST_BACKENDS"

_NUMPY_TYPES = {"float64": np.float64, "float16": np.float16}  # how to print a dtype's numbers (else float32)


def selected() -> tuple[str, ...]:
    """The backends named in MULTILOSS_TEST_BACKENDS (comma-separated), or all of them."""
    value = os.environ.get(ENV)
    return NAMES if value is None else tuple(b.strip() for b in value.split(",") if b.strip())


class _Run:
    """One backend's call in one dtype: the result as float64 NumPy (or the error), what it
    was (library, shape, dtype name) and the gradients of its sum by input name."""

    def __init__(self):
        self.value = self.error = self.grad_error = None
        self.library = self.shape = self.dtype = None
        self.grads = {}


def _call(b, fn, inputs, kwargs, floating, names, dtype, grad) -> _Run:
    run = _Run()
    arrays = [b.from_numpy(a, dtype if f else None) for a, f in zip(inputs, floating)]
    kw = {k: b.from_numpy(v, dtype if v.dtype.kind == "f" else None) if isinstance(v, np.ndarray) else v
          for k, v in kwargs.items()}
    try:
        out = fn(*arrays, **kw)
        run.library = backend_name(out)
        run.value = np.asarray(adapter(run.library).to_numpy(out), np.float64)
        run.shape, run.dtype = tuple(out.shape), _dtype_name(out.dtype)
    except Exception as exc:  # noqa: BLE001 - a backend that raises is a row of the table, not swallowed
        run.error = _raised(exc)
        return run
    differentiated = [i for i, f in enumerate(floating) if f]
    if not grad or b.value_and_grad is None or not differentiated:
        return run

    def total(*xs):
        args = list(arrays)
        for i, x in zip(differentiated, xs):
            args[i] = x
        return b.xp.sum(fn(*args, **kw))

    try:
        _, grads = b.value_and_grad(total, *(arrays[i] for i in differentiated))
        run.grads = {names[i]: np.asarray(b.to_numpy(g), np.float64) for i, g in zip(differentiated, grads)}
    except Exception as exc:  # noqa: BLE001
        run.grad_error = _raised(exc)
    return run


def _raised(exc) -> str:
    message = " ".join(str(exc).split())  # TensorFlow's run over many lines
    return f"raised {type(exc).__name__}: {message[:300]}"


def _median(arrays):
    """The elementwise median, NaN only where every array is NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN elements
        return np.nanmedian(np.stack(arrays), axis=0)


def _scale(*arrays, tiny):
    """The largest finite magnitude in ``arrays``, at least ``tiny``."""
    return max([tiny] + [float(np.max(np.abs(a), initial=0.0, where=np.isfinite(a))) for a in arrays])


def _compare(got, base, rtol, atol, eps, scale, tiny):
    """(ok, |Δ|, |Δ|/|base|, ulps, index, got, base) at the element worst against the tolerance
    |got − base| ≤ atol + rtol·|base|; None for atol: rtol × ``scale``. Equal infinities, NaN
    against NaN, and differences below ``tiny`` (the dtype's smallest normal) agree; NaN against
    a number never does."""
    atol = rtol * scale if atol is None else atol
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(got - base)
        diff = np.where((got == base) | (np.isnan(got) & np.isnan(base)) | (diff <= tiny), 0.0, diff)
        bound = atol + rtol * np.abs(base)
        ratio = np.where(diff == 0, 0.0, np.where(np.isnan(diff) | (bound == 0), np.inf, diff / bound))
        worst = np.unravel_index(int(np.argmax(ratio)), np.shape(ratio)) if np.size(ratio) else ()
        d, b = float(diff[worst]) if np.size(diff) else 0.0, float(base[worst]) if np.size(base) else 0.0
        rel = 0.0 if d == 0 else d / abs(b) if b else np.inf
    ok = bool(np.all(ratio <= 1.0))
    return ok, d, rel, d / eps / scale, worst, float(got[worst]) if np.size(got) else 0.0, b


def assert_backends_agree(fn, *inputs, grad=True, rtol=None, atol=None, backends=None, dtypes=("float64",),
                          **kwargs):
    """Assert that ``fn(*inputs, **kwargs)`` gives the same result, and gradients, on every backend.

    Per dtype and backend, the result must belong to that backend, have the shape and dtype
    that most backends give and values within tolerance of the baseline; with ``grad``, on
    the backends with autodiff, so must the gradient of its sum with respect to each floating
    input. Baseline: the elementwise median of the backends' float64 results (gradients: the
    autodiff backends') on the inputs as rounded to the dtype, rounded to the dtype; see the
    module's docstring for why.

    Parameters
    ----------
    fn : callable
        Any function of arrays written against ``multiloss.array_namespace`` (a built-in such
        as ``multiloss.huber``, or your own ``@multiloss.loss``), returning one array.
    *inputs : array_like
        NumPy arrays (or array-likes); floating ones become each dtype of ``dtypes``, integer and
        boolean ones (class labels) keep theirs.
    grad : bool
        Compare the gradients of the result's sum too.
    rtol, atol : float, optional
        An element passes when ``abs(got - baseline) <= atol + rtol * abs(baseline)``. Defaults:
        ``rtol`` = PEER_ULPS·eps(dtype) (16, :mod:`multiloss.testing.numerics`) and ``atol`` =
        rtol × the quantity's scale, so that elements which cancel to about 0 are judged on the
        scale of the rest: for the result its largest finite ``abs(baseline)``; for gradients
        the largest of all the inputs' together, and at least Σ abs(result) / Σ abs(floating
        inputs). Differences below the dtype's smallest normal number agree (XLA flushes
        subnormals to 0). A loss whose scalar result cancels (its terms much larger than it)
        needs ``atol``.
    backends : sequence of str, optional
        Backend names; by default every installed framework that MULTILOSS_TEST_BACKENDS (if
        set) names. A backend without a dtype (NumPy's bfloat16) skips it. Loading JAX
        enables ``jax_enable_x64`` for the process (the baseline is float64).
    dtypes : sequence of str
        The floating dtypes to run in.
    **kwargs
        Passed to ``fn``; NumPy arrays among them (``sample_weight``) are converted as the
        inputs are, without gradients.

    Raises
    ------
    AssertionError
        With a table of the worst element per backend and quantity (the difference, relative
        to the baseline, in ulps of eps(dtype) × scale, its index, and both numbers); a backend
        that raises, or a mismatched library, shape or dtype, is a row of the table too.
    ImportError
        For a backend named in ``backends`` that is not installed.

    Examples
    --------
    >>> import numpy as np, multiloss
    >>> from multiloss.testing import assert_backends_agree
    >>> assert_backends_agree(multiloss.huber, np.zeros(3), np.array([0.5, -2.0, 3.0]), delta=1.0)
    """
    inputs = [np.asarray(a) for a in inputs]
    unknown = [d for d in dtypes if d not in EPS]
    if unknown or isinstance(dtypes, str):
        raise ValueError(f"`dtypes` must be a sequence of {list(EPS)}; got {dtypes!r}")
    if backends is None:
        backends = [n for n in selected() if n not in MODULES or installed(n)]
    loaded = [load(name) for name in backends]
    missing = [d for d in dtypes if not any(d in b.DTYPES for b in loaded)]
    if missing:
        raise ValueError(f"`dtypes` {missing}: none of {[b.xp.backend for b in loaded]} has it")
    rows = _rows(fn, inputs, kwargs, loaded, dtypes, grad, rtol, atol)
    if not all(row[-1] for row in rows):
        raise AssertionError(_table(fn, inputs, loaded, rows, rtol, atol))


def _rows(fn, inputs, kwargs, loaded, dtypes, grad, rtol, atol) -> list[tuple]:
    """The table's rows: (dtype, backend, quantity, |Δ|, |Δ|/|base|, ulps, where, got, base, note, ok),
    or (dtype, backend, quantity, note, False) where there is nothing to compare."""
    floating = [a.dtype.kind == "f" for a in inputs]
    names = _input_names(fn, len(inputs))
    rows = []
    for dtype in dtypes:
        eps, tiny = EPS[dtype], NORMAL[dtype]
        rounded = [_round(a, dtype, loaded) if f else a for a, f in zip(inputs, floating)]
        tested = [b for b in loaded if dtype in b.DTYPES]
        runs = {b.xp.backend: _call(b, fn, rounded, kwargs, floating, names, dtype, grad) for b in tested}
        if dtype == "float64":
            baseline = runs
        else:
            baseline = {b.xp.backend: _call(b, fn, rounded, kwargs, floating, names, "float64", grad) for b in loaded}
            for name, run in baseline.items():
                if run.error or run.grad_error:
                    rows.append(("float64", name, f"baseline for {dtype}", run.error or run.grad_error, False))
        good = [r for r in runs.values() if r.error is None]
        shape = Counter(r.shape for r in good).most_common(1)[0][0] if good else None
        dtype_name = Counter(r.dtype for r in good).most_common(1)[0][0] if good else None
        values = [r.value for r in baseline.values() if r.error is None and r.shape == shape]
        base_value = _round(_median(values), dtype, loaded) if values else None
        base_grads = {}
        for n, f in zip(names, floating):
            gs = [r.grads[n] for r in baseline.values() if n in r.grads]
            if f and gs:
                base_grads[n] = _round(_median(gs), dtype, loaded)
        tol = rtol if rtol is not None else PEER_ULPS * eps
        # An input's gradient may cancel to 0 where the others' do not (a triplet's anchor when
        # positive = negative), or all may (symmetric inputs): the scale is that of all the
        # gradients, and at least Σ|result| / Σ|inputs|, the gradient such a result has.
        x_total = sum(float(np.sum(np.abs(a))) for a, f in zip(rounded, floating) if f)
        v_total = 0.0 if base_value is None else float(np.sum(np.abs(base_value), where=np.isfinite(base_value)))
        grad_scale = _scale(*base_grads.values(), tiny=max(tiny, v_total / x_total if x_total else 0.0))
        for name, run in runs.items():
            if run.error:
                rows.append((dtype, name, "value", run.error, False))
                continue
            problems = []
            if run.library != name:
                problems.append(f"returned a {run.library} array")
            if run.shape != shape:
                problems.append(f"shape {run.shape}, the others' {shape}")
            if run.dtype != dtype_name:
                problems.append(f"dtype {run.dtype}, the others' {dtype_name}")
            if run.shape != shape or base_value is None:
                rows.append((dtype, name, "value", "; ".join(problems), False))
                continue
            ok, *numbers = _compare(run.value, base_value, tol, atol, eps, _scale(base_value, tiny=tiny), tiny)
            rows.append((dtype, name, "value", *numbers, "; ".join(problems), ok and not problems))
            if run.grad_error:
                rows.append((dtype, name, "grad", run.grad_error, False))
            for n, g in run.grads.items():
                if n in base_grads:  # else every baseline run failed: reported above
                    ok, *numbers = _compare(g, base_grads[n], tol, atol, eps, grad_scale, tiny)
                    rows.append((dtype, name, f"grad {n}", *numbers, "", ok))
    return rows


def _input_names(fn, n):
    """The names of ``fn``'s positional array arguments: the registry's for a loss, else its signature's."""
    spec = getattr(fn, "spec", None)
    if spec is not None:
        return list(spec.inputs[:n])
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return (params + [f"input {i}" for i in range(len(params), n)])[:n]


def _round(x, dtype, loaded):
    """``x`` rounded to ``dtype`` (through a backend that has it), as float64."""
    b = next(b for b in loaded if dtype in b.DTYPES)
    return np.asarray(b.to_numpy(b.from_numpy(x, dtype)), np.float64)


def _number(x, dtype):
    return "nan" if np.isnan(x) else str(_NUMPY_TYPES.get(dtype, np.float32)(x))


def _table(fn, inputs, loaded, rows, rtol, atol) -> str:
    names = _input_names(fn, len(inputs))
    described = ", ".join(f"{n} {a.shape} {a.dtype}" for n, a in zip(names, inputs))
    tolerance = (f"rtol = {'PEER_ULPS·eps(dtype)' if rtol is None else rtol}, "
                 f"atol = {'rtol × scale (max|baseline|)' if atol is None else atol}")
    lines = [
        (f"backends disagree on {getattr(fn, '__name__', repr(fn))}({described}) "
         f"on {', '.join(b.xp.backend for b in loaded)}"),
        ("baseline: the elementwise median of the backends' float64 results, rounded to the dtype; "
         f"pass: |Δ| ≤ atol + rtol·|baseline|, {tolerance} (PEER_ULPS = {PEER_ULPS}); "
         "ulps: |Δ| / (eps(dtype) × scale)"),
    ]
    cells = [("dtype", "backend", "quantity", "|Δ|", "|Δ|/|base|", "ulps", "where", "got", "baseline", "")]
    for dtype, backend, quantity, *rest in rows:
        if len(rest) == 2:  # an error, or a mismatch that leaves nothing to compare
            cells.append((dtype, backend, quantity, f"✗ {rest[0]}"))
            continue
        d, rel, ulps, where, got, base, note, ok = rest
        cells.append((dtype, backend, quantity, f"{d:.3g}", f"{rel:.3g}", f"{ulps:.3g}", str(tuple(map(int, where))),
                      _number(got, dtype), _number(base, dtype), ("✓" if ok else "✗") + (f" {note}" if note else "")))
    widths = [max(len(c[i]) for c in cells if i < len(c) - 1) for i in range(len(cells[0]) - 1)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1] for row in cells]
    return "\n".join(line.rstrip() for line in lines)
