"""show how PyTorch, Keras, optax and scikit-learn define each loss (the teaching table)

``multiloss conventions [LOSS]`` prints, per loss and framework (multiloss, PyTorch, Keras,
optax, scikit-learn), the function, its argument order, default reduction and axes, default
hyperparameters, numerical safeguards, label format, every known difference, and the
``convention=`` that reproduces the native; ``--markdown`` prints it as Markdown. The
documentation site renders the same tables (:func:`rules`, :func:`table`) on its loss pages.

Every per-loss fact comes from the registry (its parameters and conventions) and from
:mod:`multiloss.natives` (the natives, and why a framework has none); only the framework-wide
rules in :data:`FRAMEWORKS` live here, and fill in what a native leaves empty. Pure Python: no
framework is imported.
"""

from __future__ import annotations

import ast
import re
import sys
import textwrap
from dataclasses import dataclass

from multiloss import natives
from multiloss._validation import describe
from multiloss.natives import DTYPE, AsArray, Fixed, LossNatives, Native
from multiloss.registry import REGISTRY, LossSpec, lookup

__all__ = ["FRAMEWORKS", "LEGEND", "entries", "markdown", "parse_signature", "rules", "table", "text"]


@dataclass(frozen=True)
class Framework:
    """A framework's rules for all its losses; a native's own fields override them."""

    name: str  # as prose writes it
    order: str  # the usual argument order
    reduction: str  # the default reduction of its loss functions
    class_reduction: str = ""  # of its loss classes, where it differs
    call: tuple[str, ...] = ()  # the names of a two-array loss's arguments, prediction or target first
    axis: str = ""  # the class axis
    safeguards: str = ""


FRAMEWORKS = {
    "multiloss": Framework(
        "multiloss", "(y_true, y_pred, …) then keyword parameters",
        "'mean' over all items; with sample_weight Σwℓ/Σw ('sum_over_batch_size': Keras's Σwℓ / number of items)",
        axis="axis=-1 (last), where a loss has one", safeguards="per loss (see each loss's docstring)"),
    "torch": Framework(
        "PyTorch", "(input, target): the prediction first", "'mean' over all elements",
        call=("input", "target"), axis="dim 1: input (N, C, …), target (N, …)", safeguards="per loss"),
    "keras": Framework(
        "Keras", "(y_true, y_pred)", "one value per sample, no batch reduction (a function)",
        class_reduction="sum_over_batch_size = Σwℓ / number of items, sample weights or not",
        call=("y_true", "y_pred"), axis="last (axis=-1)",
        safeguards="ε = 1e-7, one global setting (keras.config.epsilon())"),
    "optax": Framework(
        "optax", "(predictions, targets) or (logits, labels): the prediction first",
        "none (per element): the caller reduces", axis="last (axis=-1)",
        safeguards="mostly none: log-space formulas"),
    "sklearn": Framework(
        "scikit-learn", "(y_true, y_pred)", "weighted mean Σwℓ/Σw over samples (returns a float)",
        axis="columns of (n_samples, n_classes)", safeguards="log_loss clips to the dtype's eps"),
}
PER = {  # what one value of a native covers, as a reduction phrase
    "last_axis": "mean over the last axis per sample",
    "mean": "the mean over the batch (one value)",
}
FIELDS = ("function", "vs ours", "arguments", "reduction", "defaults", "safeguards", "labels", "notes",
          "convention")


# --- signatures -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "positional", "keyword" (keyword-only), "*args" or "**kwargs"
    default: str | None = None  # its source text ('mean', 1e-07, None); None: no default


def parse_signature(text: str) -> tuple[str, tuple[Param, ...]]:
    """The dotted name and parameters of a call as docs show it, e.g.
    ``"torch.nn.functional.mse_loss(input, target, *, reduction='mean') -> Tensor"``: keyword-only
    ``*``, ``/``, annotations and a trailing return type are understood; ``...`` (parameters
    left out) is skipped. Raises ``ValueError`` for text that is not a call signature."""
    head, paren, rest = text.replace("−", "-").partition("(")
    rest = re.sub(r",\s*(?:\.\.\.|…)(?=\s*[,)])", "", rest)
    for end in (i for i, c in enumerate(rest) if c == ")"):
        try:
            args = ast.parse(f"def f({rest[:end]}): pass").body[0].args
        except SyntaxError:
            continue
        params = [Param(a.arg, "positional") for a in args.posonlyargs + args.args]
        for i, d in enumerate(args.defaults, len(params) - len(args.defaults)):
            params[i] = Param(params[i].name, "positional", ast.unparse(d))
        if args.vararg:
            params.append(Param(args.vararg.arg, "*args"))
        params += [Param(a.arg, "keyword", None if d is None else ast.unparse(d))
                   for a, d in zip(args.kwonlyargs, args.kw_defaults)]
        if args.kwarg:
            params.append(Param(args.kwarg.arg, "**kwargs"))
        name = head.split()[-1] if head.split() else ""
        if paren and re.fullmatch(r"[A-Za-z_][\w.]*", name):
            return name, tuple(params)
    raise ValueError(f"not a call signature: {text!r}")


# --- one loss, as entries (one per framework column) ----------------------------------------
@dataclass(frozen=True)
class Entry:
    framework: str  # a key of FRAMEWORKS
    rows: dict  # field -> text (Markdown inline code in backticks) or, for "notes", a tuple of texts


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _value(v) -> str:
    """One of ``Native.kwargs``'s values, as the call it stands for."""
    if isinstance(v, Fixed):
        return repr(v.value)
    if v is DTYPE:
        return "<the inputs' dtype>"
    return v if isinstance(v, str) else "<from our parameters>"


def _signature(native: Native) -> tuple[Param, ...] | None:
    if not native.signature:
        return None
    try:
        return parse_signature(native.signature)[1]
    except ValueError:
        return None


def _arguments(spec: LossSpec, native: Native, params: tuple[Param, ...] | None) -> str:
    """The native's arrays by its own names (its signature's, else its framework's usual two)
    mapped to ours, then its keywords that take one of our parameters under another name."""
    named = [p.name for p in params or () if p.kind == "positional"]
    if native.args is not None:  # its natives entry builds the native's arrays from ours
        arrays = (_code(", ".join(named)) + " ← " if named else "") + "built from " + _code(", ".join(spec.inputs))
    else:
        call = FRAMEWORKS[native.framework].call
        if native.construct or not named:  # a class's signature is its constructor's; its call takes the arrays
            named = list(call) if len(call) == len(native.order) else []
        arrays = _code(", ".join([n if n == ours else f"{n}={ours}" for n, ours in zip(named, native.order)]
                                 + list(native.order[len(named):])))
    renamed = [(k, v if isinstance(v, str) else v.name) for k, v in native.kwargs.items()
               if isinstance(v, (str, AsArray))]
    renamed = [(k, v) for k, v in renamed if k != v]
    return arrays + ("; keywords " + _assignments(renamed) if renamed else "")


def _reduction(native: Native) -> str:
    if native.reduction:
        return native.reduction
    fw = FRAMEWORKS[native.framework]
    rule = fw.class_reduction if native.construct and fw.class_reduction else fw.reduction
    if native.per == "mean":
        return rule if native.framework == "sklearn" else PER["mean"]
    if native.per == "last_axis":
        return f"{PER['last_axis']}, then {rule}" if native.construct else PER["last_axis"] + "; no batch reduction"
    return rule


def _matches(native: Native) -> str:
    parts = ["equal" if native.exact else "differs (see the notes)"]
    if native.when:
        parts[0] += (" when " if native.exact else " even when ") + _code(
            ", ".join(f"{k}={v!r}" for k, v in native.when.items()))
    called = [(k, _value(v)) for k, v in native.kwargs.items() if not isinstance(v, (str, AsArray))]
    if called:
        parts.append("called with " + _assignments(called))
    if native.scale != 1:
        parts.append(f"returning {native.scale:g} × ours")
    return "; ".join(parts)


def _assignments(pairs) -> str:
    return ", ".join(_code(f"{k}={v}") for k, v in pairs)


def _convention(native: Native) -> str:
    if native.convention is None:
        return ""
    params = ", ".join(f"{k}={v!r}" for k, v in native.convention.values.items())
    extra = []
    if native.convention.per_sample:
        extra.append("the per-sample mean over the last axis first")
    if native.convention.divisor == "count":
        extra.append("a weighted 'mean' divides Σwℓ by the number of items")
    return (f"multiloss: {_code(f'convention={native.framework!r}')} ≡ "
            + (_code(params) if params else "our defaults") + (f" ({'; '.join(extra)})" if extra else ""))


def _native(spec: LossSpec, native: Native) -> Entry:
    params = _signature(native)
    arrays = [] if native.construct else [p.name for p in params or () if p.kind == "positional"][:len(native.order)]
    defaults = [(p.name, p.default) for p in params or () if p.default is not None and p.name not in arrays]
    return Entry(native.framework, {
        "function": _code(native.api) + (" (a class)" if native.construct else ""),
        "vs ours": _matches(native),
        "arguments": _arguments(spec, native, params),
        "reduction": _reduction(native),
        "defaults": _assignments(defaults) if params is not None else "",
        "safeguards": native.safeguards,
        "labels": native.label_format,
        "notes": tuple(native.notes),
        "convention": _convention(native),
    })


def _ours(spec: LossSpec) -> Entry:
    def param(name, value):
        c = spec.conditions.get(name, "")
        shown = c not in ("", "bool", "finite")  # not what the default's type already says
        return _code(f"{name}={value!r}") + (f" ({describe(c)})" if shown else "")

    defaults = ", ".join(param(k, v) for k, v in spec.params.items())
    options = _assignments([("reduction", "'mean'"), ("sample_weight", None)] + [("convention", None)] * bool(
        spec.frameworks))
    labels = (f"{', '.join(spec.indices)}: integer class indices" if spec.indices else
              f"{', '.join(spec.labels)}: any dtype (floating, integer or boolean)" if spec.labels else "")
    aliases = f" (also {', '.join(_code(a) for a in spec.aliases)})" if spec.aliases else ""
    names = [repr(c) for c in spec.frameworks]
    conventions = ", ".join(names[:-1]) + " or " * (len(names) > 1) + "".join(names[-1:])
    return Entry("multiloss", {
        "function": _code(f"multiloss.{spec.name}") + aliases,
        "arguments": _code(", ".join(spec.inputs)),
        "reduction": FRAMEWORKS["multiloss"].reduction,
        "defaults": "; ".join(x for x in (defaults, options) if x),
        "safeguards": "",
        "labels": labels,
        "convention": _code(f"convention={conventions}") + " gives that framework's numbers" if names else "",
    })


def entries(spec: LossSpec, known: LossNatives | None = None) -> list[Entry]:
    """multiloss's entry, then each framework's natives in :data:`FRAMEWORKS`'s order, or one
    entry saying why there is none. ``known``: the natives to show (default: the registered)."""
    known = known or natives.of(spec)
    out = [_ours(spec)]
    for framework in list(FRAMEWORKS)[1:]:
        found = [n for n in known.natives if n.framework == framework]
        absent = known.absent.get(framework)
        none = f"none: {absent}" if absent else "no counterpart registered"
        out += [_native(spec, n) for n in found] or [Entry(framework, {"function": none})]
    return out


def _builtins() -> list[LossSpec]:
    return [s for s in REGISTRY.values() if s.builtin]


def _summary(spec: LossSpec) -> str:
    """The first paragraph of the loss's docstring."""
    return " ".join((spec.kernel.__doc__ or "").strip().split("\n\n")[0].split()).replace("``", "`")


# --- text -----------------------------------------------------------------------------------
def _plain(text: str) -> str:
    return text.replace("`", "")


def _row(head: str, label: str | None, value: str, width: int, bullet: str = "") -> list[str]:
    """``value`` wrapped to ``width`` after a 13-column ``head`` and a 13-column ``label``
    (no label: the value starts in the label's column)."""
    first = f"{head:<13}" + ("" if label is None else f"{label:<13}") + bullet
    rest = " " * (len(first) if label is not None else 15)
    return textwrap.wrap(_plain(value) or "—", width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False)


def text(specs: list[LossSpec] | None = None, width: int = 100) -> str:
    """The teaching table as text, one block per loss (every built-in loss, after the
    framework-wide rules, when ``specs`` is None)."""
    lines = []
    if specs is None:
        specs = _builtins()
        lines += ["Framework-wide rules (each loss below says where it differs)", "═" * width]
        for fw in FRAMEWORKS.values():
            head = fw.name
            for label, value in (("arguments", fw.order), ("reduction", fw.reduction),
                                 ("classes", fw.class_reduction), ("class axis", fw.axis),
                                 ("safeguards", fw.safeguards)):
                if value:
                    lines += _row(head, label, value, width)
                    head = ""
        lines.append("")
    for spec in specs:
        lines += ["", spec.name, "═" * width, *textwrap.wrap(_plain(_summary(spec)), width)]
        for entry in entries(spec):
            lines += ["", *_row(FRAMEWORKS[entry.framework].name, None, entry.rows["function"], width)]
            for field in FIELDS[1:]:
                if field not in entry.rows:
                    continue
                value = entry.rows[field]
                if field == "notes":
                    for i, note in enumerate(value):
                        lines += _row("", "notes" if i == 0 else "", note, width, bullet="• ")
                elif field == "convention":
                    lines += _row("", None, value, width) if value else []
                else:
                    lines += _row("", field, value, width)
    return "\n".join(lines).lstrip("\n") + "\n"


# --- Markdown -------------------------------------------------------------------------------
def _escape(text: str) -> str:
    """``text`` for a Markdown table cell: code spans kept, ``|`` escaped everywhere."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace("*", "\\*")
    return "`".join(parts).replace("|", "\\|")


def _cell(value) -> str:
    """A row value as a table cell: absent is blank, empty is "—", notes are bullets."""
    if isinstance(value, tuple):
        return "<br>".join("• " + _escape(note) for note in value) or "—"
    return "" if value is None else _escape(value) or "—"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def table(spec: LossSpec) -> str:
    """``spec``'s teaching table as Markdown: a row per field, a column per implementation."""
    columns = entries(spec)
    rows = []
    for field in FIELDS:
        cells = [e.rows.get(field) for e in columns]
        if any(c for c in cells) or field in FIELDS[:-2] and any(c is not None for c in cells):  # notes: if any
            rows.append([field] + [_cell(c) for c in cells])
    return "\n".join(_table([""] + [FRAMEWORKS[e.framework].name for e in columns], rows))


def rules() -> str:
    """The framework-wide rules (:data:`FRAMEWORKS`) as a Markdown table, a row per framework."""
    rows = [[_escape(x) for x in (fw.name, fw.order, fw.reduction, fw.class_reduction or "as its functions", fw.axis,
                                  fw.safeguards)]
            for fw in FRAMEWORKS.values()]
    return "\n".join(_table(["", "argument order", "default reduction", "loss classes", "class axis", "safeguards"],
                             rows))


#: How to read a loss's teaching table.
LEGEND = ("One column per implementation: multiloss, then each framework's counterparts. *vs ours* says under "
          "which of our parameters the native equals ours and how it is called to match; *convention* gives "
          "the `convention=` under which multiloss reproduces the native at its own defaults.")


def _section(spec: LossSpec) -> list[str]:
    return [f"## {spec.name}", "", _summary(spec), "", table(spec), ""]


def markdown(specs: list[LossSpec] | None = None) -> str:
    """The teaching table as Markdown: every built-in loss after a header and the framework-wide
    rules when ``specs`` is None, else those losses' sections."""
    if specs is not None:
        return "\n".join(line for spec in specs for line in _section(spec))
    specs = _builtins()
    lines = [
        "# How the frameworks define each loss",
        "",
        ("Generated from the registry and the natives entries (`multiloss/natives/*.py`) by "
         "`multiloss conventions --markdown`."),
        "",
        LEGEND,
        "",
        "## Framework-wide rules",
        "",
        "Each loss's table says where it differs.",
        "",
        rules(),
        "",
        "## Losses",
        "",
        " · ".join(f"[{spec.name}](#{spec.name})" for spec in specs),
        "",
    ]
    return "\n".join(lines + [line for spec in specs for line in _section(spec)])


# --- the command ----------------------------------------------------------------------------
def add_arguments(parser) -> None:
    parser.description = __doc__.split("\n\n")[1].replace("``", "")
    parser.add_argument("loss", nargs="?", help="a loss name or alias (default: every loss)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown rather than text")
    parser.add_argument("--width", type=int, default=100, help="text width in columns (default 100)")


def run(args) -> int:
    try:
        specs = None if args.loss is None else [lookup(args.loss)]
    except ValueError as exc:
        print(f"multiloss conventions: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(markdown(specs) if args.markdown else text(specs, args.width))
    return 0
