"""plot a loss and its gradient on every installed backend, with the frameworks' own versions

``multiloss plot LOSS [--param NAME=VALUE ...] [--out FILE.png]`` draws two panels over a 1-D
sweep: the loss, and its derivative with respect to the swept variable (each backend's autodiff;
NumPy has none). The sweep follows the loss's inputs:

- regression (and custom losses of ``y_true, y_pred``): the error e = y_pred − y_true at
  y_true = 1, over [−R, R] with R = max(3, 2 × the largest numeric parameter), kept to the
  points the loss's checks accept (MSLE, Poisson); kinks (0, ± each parameter) are marked;
- classification: the probability p of the first class on a logit axis, from 1e-48 to the
  largest value below 1 (where the clips of Keras, 1e-7, and PyTorch, log ≥ −100, show), or
  the logit with ``from_logits=True``; for y_true = 1 and 0 (per-row losses: two classes,
  y_pred = [p, 1 − p] or logits [x, 0]);
- margin: the score, for y_true = 1 and −1; segmentation: one pixel's probability (logit);
- the slice a loss's natives entry registers (``LossNatives.sweep``), before all the above:
  contrastive, triplet_margin: a Euclidean distance; margin_ranking: x1 − x2; gaussian_nll:
  the variance (log axis); cosine_similarity, cosine_distance, cosine_embedding: the cosine.
  Other losses of other inputs, batch-level ones among them (``kind="batch"``:
  batch_hard_triplet, nt_xent), have no 1-D slice: ``ValueError``.

Every backend is drawn (a distinct line style and marker each) and compared: the command exits
1 if two backends differ by more than ``PEER_ULPS`` eps of the dtype, relative to
max(|a|, |b|, 1) (for gradients also to |loss| / |x|, see :func:`_gaps`). Each
applicable native (``multiloss.natives.of(loss)``, called with the mapped parameters) is drawn in
full, dashed, with a legend saying whether it coincides with ours or where it differs: a curve
cut to where it differs would hide what the native does elsewhere and shrink a one-point
difference (a gradient at a kink) to an invisible dot. Natives' gradients come from their
framework's autodiff. ``--dtype`` defaults to float64 (the curves, not the dtype's rounding);
``--range LO HI`` sets the swept variable's range. Exit status: 0 when the backends agree, 1 when
they do not, 2 for a usage error (unknown loss, parameter or backend, unsupported loss,
matplotlib missing, unwritable ``--out``), before any framework is imported where it can be.
"""

from __future__ import annotations

import importlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from multiloss import _options
from multiloss._case import kv
from multiloss.backends import adapter, load_all, version
from multiloss.natives import NATIVES, Native
from multiloss.natives import of as natives_of
from multiloss.registry import LossSpec, lookup
from multiloss.testing.numerics import DTYPES, EPS, PEER_ULPS, relative_gap

__all__ = ["POINTS", "Curve", "Curves", "Report", "Sweep", "compare", "curves", "draw", "grid", "sweep_for",
           "unit_at"]

POINTS = 601

Build = Callable  # build(xp, x) -> {input name: array}, x the swept values


@dataclass(frozen=True)
class Sweep:
    """A 1-D slice through a loss: the swept values ``x`` (float64) and, per curve, how to build
    the loss's inputs from them in any backend's namespace."""

    label: str  # the x axis, e.g. "error e = y_pred − y_true (y_true = 1)"
    symbol: str  # the swept variable in summaries, e.g. "e"
    x: np.ndarray
    cases: dict[str, Build]  # curve label -> build
    scale: str = "linear"  # the x axis's matplotlib scale: "linear", "logit" or "log"
    marks: tuple[float, ...] = ()  # kinks and other points of note, drawn as vertical lines


@dataclass
class Curve:
    """One source's values (and gradients, None without autodiff) of one case, in float64."""

    source: str  # a backend name, or a native's api
    case: str
    value: np.ndarray
    grad: np.ndarray | None


@dataclass
class Curves:
    """A loss on a sweep: our curves per backend, each applicable native's, and the natives
    left out with the reason."""

    spec: LossSpec
    params: dict
    dtype: str
    sweep: Sweep
    x: np.ndarray  # the swept values as the dtype holds them
    ours: list[Curve]
    natives: list[tuple[Native, list[Curve]]] = field(default_factory=list)
    skipped: list[tuple[Native, str]] = field(default_factory=list)


def _numbers(params: dict) -> list[float]:
    return [abs(float(v)) for v in params.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]


def grid(lo: float, hi: float, marks=()) -> np.ndarray:
    """POINTS evenly spaced from ``lo`` to ``hi``, and the ``marks`` between them."""
    return np.union1d(np.linspace(lo, hi, POINTS), [m for m in marks if lo <= m <= hi])


def _probabilities(lo: float, hi: float) -> np.ndarray:
    """Probabilities evenly spaced in logit from ``lo`` to ``hi``, and ½."""
    t = np.linspace(math.log(lo / (1 - lo)), math.log(hi / (1 - hi)), POINTS)
    with np.errstate(over="ignore"):
        p = np.where(t < 0, np.exp(t) / (1 + np.exp(t)), 1 / (1 + np.exp(-t)))
    return np.union1d(p, [0.5])


def _labels(true, other):
    """Cases for labels ``true`` and ``other`` of an elementwise loss: y_pred is x."""
    return {f"y_true = {y:g}": (lambda xp, x, y=y: {"y_true": xp.full_like(x, y), "y_pred": x}) for y in (true, other)}


def _two_classes(stack_pred, sparse: bool):
    """Cases for a per-row loss on two classes (the swept one first): one-hot or integer labels."""

    def case(k):
        def build(xp, x):
            z = xp.zeros_like(x)
            if sparse:
                y = xp.astype(z + k, xp.int64)
            else:
                one = xp.ones_like(x)
                y = xp.stack([one, z] if k == 0 else [z, one], axis=-1)
            return {"y_true": y, "y_pred": stack_pred(xp, x)}

        return build

    return {("y_true = 0" if sparse else "y_true = [1, 0]"): case(0),
            ("y_true = 1" if sparse else "y_true = [0, 1]"): case(1)}


def unit_at(xp, c):
    """[c, √(1 − c²)]: a unit vector at cosine c to [1, 0]."""
    return xp.stack([c, xp.sqrt(1.0 - c * c)], axis=-1)


def sweep_for(spec: LossSpec, params: dict, dtype: str = "float64", x_range=None) -> Sweep:
    """The 1-D sweep plotted for ``spec`` at ``params`` (see the module docstring);
    ``x_range`` = (lo, hi) in the swept variable's units overrides the default range."""
    if "axis" in spec.params and params["axis"] != spec.params["axis"]:
        raise ValueError(f"--param axis={params['axis']!r}: plot builds its own inputs (classes or vectors on "
                         f"the last axis); leave axis at its default, {spec.params['axis']!r}")
    registered = natives_of(spec).sweep
    if registered is not None:
        return registered(params, x_range)
    if spec.inputs != ("y_true", "y_pred"):
        why = ("a batch-level loss (each item's loss depends on the whole batch)" if spec.kind == "batch" else
               f"a {spec.family} loss of {', '.join(spec.inputs)}")
        drawable = [name for name, entry in NATIVES.items() if entry.sweep is not None]
        raise ValueError(f"cannot plot {spec.name}: {why} has no 1-D slice; plot supports regression, "
                         f"classification, margin and segmentation losses of (y_true, y_pred), and "
                         f"{', '.join(drawable)}")
    logits = bool(params.get("from_logits"))
    if spec.family == "segmentation":  # one pixel per sample: y_pred of shape (N, 1)
        x = grid(*(x_range or ((-10.0, 10.0) if logits else (0.0, 1.0))), [0.0])
        cases = {f"y_true = {y:g}": (lambda xp, x, y=y: {"y_true": xp.full_like(xp.reshape(x, (-1, 1)), y),
                                                         "y_pred": xp.reshape(x, (-1, 1))}) for y in (1.0, 0.0)}
        word = "logit" if logits else "p"
        return Sweep(f"{word} (one pixel's y_pred)", word, x, cases, marks=(0.0,) if logits else ())
    if spec.family in ("classification", "margin"):
        per_row = spec.kind == "row"
        if spec.family == "classification" and not logits:
            lo, hi = x_range or (1e-48, 1.0 - EPS[dtype] / 2)
            if not 0 < lo < hi < 1:
                raise ValueError(f"--range {lo:g} {hi:g}: a probability range must lie inside (0, 1)")
            x = _probabilities(lo, hi)
            if per_row:
                cases = _two_classes(lambda xp, x: xp.stack([x, 1.0 - x], axis=-1), bool(spec.indices))
                return Sweep("p = y_pred[..., 0] (y_pred = [p, 1 − p])", "p", x, cases, scale="logit", marks=(0.5,))
            return Sweep("p = y_pred", "p", x, _labels(1.0, 0.0), scale="logit", marks=(0.5,))
        word, marks = ("logit", (0.0,)) if logits else ("score", (-1.0, 0.0, 1.0))
        x = grid(*(x_range or ((-10.0, 10.0) if logits else (-3.0, 3.0))), marks)
        if per_row:
            cases = _two_classes(lambda xp, x: xp.stack([x, xp.zeros_like(x)], axis=-1), bool(spec.indices))
            return Sweep(f"{word} y_pred[..., 0] (y_pred = [x, 0])", word, x, cases, marks=marks)
        return Sweep(f"{word} y_pred", word, x, _labels(1.0, 0.0 if logits else -1.0), marks=marks)
    r = max([3.0] + [2 * v for v in _numbers(params)])
    marks = sorted({0.0, *_numbers(params), *(-v for v in _numbers(params))})
    x = grid(*(x_range or (-r, r)), marks)
    case = {"y_true = 1": lambda xp, x: {"y_true": xp.ones_like(x), "y_pred": 1.0 + x}}
    x = x[_accepted(spec, params, x, case["y_true = 1"])]
    return Sweep("error e = y_pred − y_true (y_true = 1)", "e", x, case,
                 marks=tuple(m for m in marks if x[0] <= m <= x[-1]))


def _accepted(spec, params, x, build) -> np.ndarray:
    """Which points the loss's eager checks accept (e.g. MSLE needs y_pred > −1), asked of NumPy."""
    xp = adapter("numpy").xp

    def accepts(points):
        try:
            with np.errstate(all="ignore"):
                spec.function(**build(xp, points), **params, reduction="none")
            return True
        except ValueError:
            return False

    ok = np.ones(x.shape, bool) if accepts(x) else np.array([accepts(x[i:i + 1]) for i in range(x.size)])
    if not ok.any():
        raise ValueError(f"{spec.name} rejects every point of the sweep {x[0]:g} … {x[-1]:g}")
    return ok


def _evaluate(backend, fn: Callable, build: Build, x: np.ndarray, dtype: str, scale: float = 1.0):
    """Values and gradients (None without autodiff) of ``fn(**inputs)`` per point, in float64."""
    xp = backend.xp
    xb = backend.from_numpy(x, dtype)

    def values(x):
        return fn(**build(xp, x))

    with np.errstate(all="ignore"):  # NumPy: log 0 = −inf is a value of the curve (Poisson at rate 0)
        value = np.asarray(backend.to_numpy(values(xb)), np.float64)
        if value.size != x.size:
            raise ValueError(f"returns {value.size} values for {x.size} points (it reduces the batch)")
        grad = None
        if backend.value_and_grad is not None:
            _, (g,) = backend.value_and_grad(lambda x: xp.sum(values(x)), xb)
            grad = np.asarray(backend.to_numpy(g), np.float64) / scale
    return value.reshape(x.shape) / scale, grad


def _call_native(native: Native, params: dict, dtype: str):
    def fn(**arrays):
        return native(native.arrange(arrays), params, dtype)

    return fn


def _skip_reason(native: Native, params: dict, loaded: set) -> str | None:
    if not native.applies(params):
        unmet = {k: v for k, v in native.when.items() if params.get(k) != v}
        return "applies only with " + ", ".join(f"{k}={v!r}" for k, v in unmet.items())
    if native.unchecked:
        return native.unchecked
    if native.per == "mean":
        return "returns a mean only, no per-point curve"
    if native.backend not in loaded:
        return f"needs the {native.backend} backend"
    return None


def curves(name: str, params: dict | None = None, backends=None, dtype: str = "float64", x_range=None,
           natives: bool = True, log=lambda msg: None) -> Curves:
    """Evaluate loss ``name`` at ``params`` on its sweep on each of ``backends`` (adapter modules,
    default NumPy only) and, with ``natives``, each applicable native whose framework's backend is
    among them. ``log`` receives import progress. ``ValueError`` for an unknown loss or
    parameter and for a loss without a 1-D slice."""
    spec = lookup(name)
    params = _options.check_params(spec, params or {})
    backends = [b for b in (backends or [adapter("numpy")]) if dtype in b.DTYPES]
    if not backends:
        raise ValueError(f"--dtype {dtype}: none of the loaded backends has it")
    sweep = sweep_for(spec, params, dtype, x_range)
    x = np.unique(np.asarray(backends[0].to_numpy(backends[0].from_numpy(sweep.x, dtype)), np.float64))
    if sweep.scale != "linear":  # rounding to the dtype may reach 0 (1e-48 in float32) or 1
        x = x[(x > 0) & (x < 1 if sweep.scale == "logit" else np.isfinite(x))]
    result = Curves(spec, params, dtype, sweep, x, [])

    def ours(**arrays):
        return spec.function(**arrays, **params, reduction="none")

    for b in backends:
        for case, build in sweep.cases.items():
            result.ours.append(Curve(b.xp.backend, case, *_evaluate(b, ours, build, x, dtype)))
    if not natives:
        return result
    loaded = {b.xp.backend: b for b in backends}
    for native in natives_of(spec).natives:
        reason = _skip_reason(native, params, set(loaded))
        if reason is None:
            module = native.api.rpartition(".")[0]
            try:
                if module not in sys.modules:
                    start = time.perf_counter()
                    log(f"importing {module} ...")
                    importlib.import_module(module)
                    log(f" {time.perf_counter() - start:.1f} s\n")
                fn = _call_native(native, params, dtype)
                drawn = [Curve(native.api, case, *_evaluate(loaded[native.backend], fn, build, x, dtype, native.scale))
                         for case, build in sweep.cases.items()]
            except ImportError:
                log(" not installed\n")
                reason = f"{native.framework} is not installed"
            except Exception as exc:  # noqa: BLE001 (a native that cannot take these inputs is reported)
                reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
        if reason is None:
            result.natives.append((native, drawn))
        else:
            result.skipped.append((native, reason))
    return result


def _gaps(c: Curves, pairs, what: str) -> tuple[float, str]:
    """The largest difference in eps over ``pairs`` of (ours, theirs) curves, and the values there.

    A derivative's rounding error scales with the terms it is made of, not with its result
    (a constant loss p/p has the gradient 1/p − p/p² = 0 ± eps/p), so gradients are compared
    relative to |loss| / |x| as well."""
    worst, where = 0.0, ""
    for mine, theirs in pairs:
        a, b = getattr(mine, what), getattr(theirs, what)
        if a is None or b is None:
            continue
        scale = 0.0
        if what == "grad":
            with np.errstate(all="ignore"):
                scale = np.abs(mine.value) / np.abs(c.x)
            scale = np.where(np.isfinite(scale), scale, 0.0)
        d = relative_gap(a, b, c.dtype, scale)
        i = int(np.argmax(d))
        if d[i] > worst:
            x = f"1 − {1 - c.x[i]:.2g}" if c.sweep.scale == "logit" and c.x[i] > 0.999 else f"{c.x[i]:.3g}"
            worst, where = d[i], f"{a[i]:.4g} vs {b[i]:.4g} at {c.sweep.symbol} = {x}, {mine.case}"
    return worst, where


@dataclass
class Report:
    """The comparison of a :class:`Curves`: do the backends agree, which natives differ, and one
    summary line per backend and native."""

    agree: bool
    differs: list[bool]  # per native of Curves.natives: does it differ from ours?
    lines: list[str]


def compare(c: Curves) -> Report:
    """Compare each backend with the first (values) and the first with autodiff (gradients), and
    each native with ours, within ``PEER_ULPS`` eps."""
    sources = list(dict.fromkeys(cv.source for cv in c.ours))
    mine = {s: {cv.case: cv for cv in c.ours if cv.source == s} for s in sources}
    ref = sources[0]
    grad_ref = next((s for s in sources if next(iter(mine[s].values())).grad is not None), None)
    agree, lines = True, []
    for s in sources:
        v, _ = _gaps(c, [(mine[ref][k], mine[s][k]) for k in mine[s]], "value")
        parts = ["reference" if s == ref else f"values within {v:.2g} eps of {ref}"]
        if grad_ref is None or next(iter(mine[s].values())).grad is None:
            parts.append("no autodiff: no gradient")
        else:
            g, _ = _gaps(c, [(mine[grad_ref][k], mine[s][k]) for k in mine[s]], "grad")
            parts.append("gradient reference" if s == grad_ref else f"gradients within {g:.2g} eps of {grad_ref}")
            v = max(v, g)
        agree &= v <= PEER_ULPS
        lines.append(f"  {s:<11} {version(s):<11} {'; '.join(parts)}  {'✓' if v <= PEER_ULPS else '✗ DISAGREES'}")
    ours = mine[grad_ref or ref]
    differs = []
    for native, drawn in c.natives:
        pairs = [(ours[cv.case], cv) for cv in drawn]
        (v, v_at), (g, g_at) = _gaps(c, pairs, "value"), _gaps(c, pairs, "grad")
        differs.append(v > PEER_ULPS or g > PEER_ULPS)
        if not differs[-1]:
            text = f"coincides (values within {v:.2g} eps, gradients within {g:.2g} eps)"
        else:
            gaps = [f"{what} {at}" for what, d, at in (("loss", v, v_at), ("gradient", g, g_at)) if d > PEER_ULPS]
            text = "differs; largest gaps (ours vs theirs): " + "; ".join(gaps)
            text += "".join(f"\n{'':<15}· {note}" for note in native.notes)
        lines.append(f"  native {native.framework:<6} {native.api}: {text}")
    for native, reason in c.skipped:
        lines.append(f"  native {native.framework:<6} {native.api}: not drawn, {reason}")
    return Report(agree, differs, lines)


STYLES = {  # per backend: line style and marker
    "numpy": {"linestyle": "-", "linewidth": 3.0, "alpha": 0.35},
    "torch": {"linestyle": "--", "marker": "o"},
    "jax": {"linestyle": ":", "marker": "s"},
    "tensorflow": {"linestyle": "-.", "marker": "^"},
    "array_api_strict": {"linestyle": (0, (1, 3)), "marker": "x"},
}


def _logit_ticks(lo: float, hi: float) -> list[float]:
    """10^-k, ½ and 1 − 10^-k with k a multiple of one power-of-two step: about ten ticks."""
    low, high = math.floor(-math.log10(lo)), math.floor(-math.log10(1 - hi))
    step = 2 ** max(math.ceil(math.log2(max(low + high, 1) / 10)), 0)
    ticks = ([10.0**-k for k in range(low - low % step, 0, -step)] + [0.5]
             + [1 - 10.0**-k for k in range(step, high + 1, step)])
    # set_xticks would widen the axis to reach the others (the ends are rounded: 1e-48 is 1.0000…1e-48)
    return [t for t in ticks if lo / 1.01 <= t and 1 - t >= (1 - hi) / 1.01]


def draw(c: Curves, report: Report, out: str, dpi: int = 80) -> None:
    """Draw ``c`` (loss above, gradient below) into the image file ``out`` with Agg."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator

    fig = Figure(figsize=(8.5, 8), layout="constrained")
    FigureCanvasAgg(fig)
    ax_v, ax_g = fig.subplots(2, 1, sharex=True)
    colors = dict(zip(c.sweep.cases, ("C0", "C1")))
    sources = list(dict.fromkeys(cv.source for cv in c.ours))
    every = max(len(c.x) // 10, 1)
    for cv in c.ours:
        style = {"markersize": 5, "markerfacecolor": "none", "linewidth": 1.2, **STYLES[cv.source],
                 "markevery": (sources.index(cv.source) * every // len(sources), every)}
        for ax, y in ((ax_v, cv.value), (ax_g, cv.grad)):
            if y is not None:
                ax.plot(c.x, np.where(np.isfinite(y), y, np.nan), color=colors[cv.case], **style)
    handles = [Line2D([], [], color=col, linewidth=2, label=case) for case, col in colors.items()]
    handles += [Line2D([], [], color="k", **{"markerfacecolor": "none", "linewidth": 1.2, **STYLES[s]},
                       label=f"multiloss on {s}") for s in sources]
    for k, ((native, drawn), differs) in enumerate(zip(c.natives, report.differs)):
        color = f"C{k + 2}"
        for cv in drawn:
            for ax, y in ((ax_v, cv.value), (ax_g, cv.grad)):
                if y is not None:
                    ax.plot(c.x, np.where(np.isfinite(y), y, np.nan), color=color, linestyle=(0, (4, 2)),
                            linewidth=1.6, zorder=1.5)  # under ours: it shows where it departs
        state = "differs" if differs else "coincides"
        handles.append(Line2D([], [], color=color, linestyle=(0, (4, 2)), label=f"{native.api} ({state})"))
    for ax in (ax_v, ax_g):
        for m in c.sweep.marks:
            ax.axvline(m, color="0.8", linewidth=0.8, zorder=0)
        ax.grid(True, alpha=0.3)
        finite = np.concatenate([np.abs(line.get_ydata())[np.isfinite(line.get_ydata())] for line in ax.lines]
                                + [np.zeros(1)])
        if finite.max() > 1e3:  # e.g. −1/p down to p = 1e-48: a log axis each side of ±1
            ax.set_yscale("symlog", linthresh=1.0)
            step = max(round(math.log10(finite.max()) / 4), 1)  # decades per tick: about 4 each side
            top = math.ceil(math.log10(finite.max()) / step)
            ax.yaxis.set_major_locator(FixedLocator([0.0] + [s * 10.0 ** (step * k) for k in range(1, top + 1)
                                                             for s in (1, -1)]))
    ax_g.set_xscale(c.sweep.scale)
    ax_g.set_xlim(c.x[0], c.x[-1])
    if c.sweep.scale == "logit":
        ax_g.set_xticks(_logit_ticks(c.x[0], c.x[-1]))
    ax_v.set_ylabel("loss")
    ax_g.set_ylabel(f"d loss / d {c.sweep.symbol}")
    ax_g.set_xlabel(c.sweep.label)
    verdict = "backends coincide" if report.agree else "BACKENDS DISAGREE"
    ax_v.set_title(f"{c.spec.name}({kv(c.params)})  ·  {c.dtype}  ·  {', '.join(sources)}: {verdict}", fontsize=10)
    ax_v.legend(handles=handles, fontsize=8, loc="best")
    fig.savefig(out, dpi=dpi)


def add_arguments(parser) -> None:
    parser.add_argument("loss", help="a registered loss name or alias, e.g. huber, binary_cross_entropy")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a loss parameter (repeatable): numbers, true/false, none, tuples or strings")
    parser.add_argument("--out", help="the image file to write (default LOSS.png)")
    parser.add_argument("--dtype", default="float64", choices=DTYPES,
                        help="the dtype the curves are computed in (default float64)")
    _options.add_backends(parser)
    parser.add_argument("--range", nargs=2, type=float, metavar=("LO", "HI"), dest="x_range",
                        help="the swept variable's range (a probability range for probabilities)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no import progress")


def run(args) -> int:
    def log(msg):
        if not args.quiet:
            print(msg, end="", file=sys.stderr, flush=True)

    def fail(msg):
        print(f"multiloss plot: error: {msg}", file=sys.stderr)
        return 2

    try:
        import matplotlib  # noqa: F401 (only whether it is installed)
    except ImportError:
        return fail("matplotlib is not installed; install it with `pip install 'multiloss[plot]'` "
                    "(or `pip install matplotlib`)")
    try:  # usage errors first, before the frameworks' slow imports
        spec = lookup(args.loss)
        params = _options.parse_params(spec, args.param)
        sweep_for(spec, {**spec.params, **params}, args.dtype, args.x_range)
        _options.check_backends(args.backends)
    except (ValueError, TypeError, _options.UsageError) as exc:
        return fail(str(exc))
    try:
        backends, missing = load_all(args.backends, log)
        c = curves(spec.name, params, backends, args.dtype, args.x_range, log=log)
    except (ValueError, TypeError) as exc:
        return fail(str(exc))
    lacking = [b.xp.backend for b in backends if args.dtype not in b.DTYPES]
    report = compare(c)
    out = args.out or f"{spec.name}.png"
    try:
        draw(c, report, out)
    except OSError as exc:
        return fail(f"cannot write --out {out}: {exc}")
    print(f"multiloss plot {spec.name}: {len(c.x)} points of {c.sweep.label}, {c.dtype}; "
          f"curves: {', '.join(c.sweep.cases)}" + (f"; not installed: {', '.join(missing)}" if missing else "")
          + (f"; no {c.dtype} in {', '.join(lacking)}" if lacking else ""))
    print("\n".join(report.lines))
    print(f"backends {'agree' if report.agree else 'DISAGREE'} (tolerance {PEER_ULPS} eps, relative to "
          "max(|value|, 1), for gradients also |loss| / |x|)")
    print(f"wrote {out}")
    return 0 if report.agree else 1
