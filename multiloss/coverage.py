"""Coverage: every loss the installed frameworks ship, and the multiloss loss that is its counterpart.

:func:`names` enumerates each framework's losses by a rule, not by a list kept by hand (see
:data:`SOURCES`): every class of ``keras.losses`` that subclasses ``keras.losses.Loss``,
every public function of ``optax.losses``, every ``torch.nn.functional`` function named
``*_loss`` and every one that a ``torch.nn`` loss class calls (``cross_entropy``, ``kl_div``, …),
and torchvision.ops's four losses as a fixed list (torchvision is never imported: it cannot be
installed beside the CPU torch wheel). :func:`coverage` finds, for each name, the registered
losses whose natives (:mod:`multiloss.natives`) call it, and whether each is exact (equal up to
rounding under the mapping) or how it differs; the few names that are not losses, or not ours
to have, are in :data:`EXCLUDED` with the reason. ``multiloss conventions --coverage`` prints the
table (``--markdown`` as Markdown), the documentation site renders it, and
``tests/test_coverage.py`` fails for any name with neither a native nor an exclusion.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from multiloss import natives
from multiloss.natives import Native
from multiloss.registry import REGISTRY, LossSpec, lookup
from multiloss.teaching import _assignments, _code, _escape, _plain, _table

__all__ = ["EXCLUDED", "SAME", "SOURCES", "TORCHVISION", "Coverage", "Row", "Source", "coverage", "markdown", "names",
           "stale", "text"]


# --- the frameworks' loss names -------------------------------------------------------------
def _keras() -> list[str]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keras's TensorFlow: no C++ start-up logs
    import keras

    return [f"keras.losses.{n}" for n, obj in sorted(vars(keras.losses).items())
            if not n.startswith("_") and inspect.isclass(obj) and issubclass(obj, keras.losses.Loss)]


def _optax() -> list[str]:
    import optax.losses

    return [f"optax.losses.{n}" for n, obj in sorted(vars(optax.losses).items())
            if not n.startswith("_") and callable(obj) and not inspect.isclass(obj)]


def _torch() -> list[str]:
    import torch.nn.functional as F
    import torch.nn.modules.loss as L

    found = {n for n, obj in vars(F).items() if n.endswith("_loss") and not n.startswith("_") and callable(obj)}
    for obj in vars(L).values():  # the loss classes: the functional each forward() calls
        if inspect.isclass(obj) and issubclass(obj, L._Loss) and obj.__module__ == L.__name__:
            try:
                source = inspect.getsource(obj.forward)
            except (OSError, TypeError):  # no source (a base class's forward, a stripped install)
                continue
            found |= {n for n in re.findall(r"\bF\.(\w+)\(", source) if callable(getattr(F, n, None))}
    return [f"torch.nn.functional.{n}" for n in sorted(found)]


#: torchvision.ops's losses (every ``*_loss`` of its ``__all__``): a fixed list, as torchvision is never
#: imported here.
TORCHVISION = ("torchvision.ops.complete_box_iou_loss", "torchvision.ops.distance_box_iou_loss",
               "torchvision.ops.generalized_box_iou_loss", "torchvision.ops.sigmoid_focal_loss")


@dataclass(frozen=True)
class Source:
    """A framework's losses: ``rule`` says which names count, ``enumerate`` lists them (dotted,
    importing the framework); ``module`` is what must be installed (None: a fixed list)."""

    name: str  # as prose writes it
    distribution: str  # the package whose version is shown
    module: str | None
    prefix: str  # of its dotted names
    rule: str
    enumerate: Callable[[], list[str]]


#: The frameworks whose losses are enumerated, by the first part of their dotted names.
SOURCES = {
    "keras": Source("Keras", "keras", "keras", "keras.losses.",
                    "every class of keras.losses that subclasses keras.losses.Loss", _keras),
    "optax": Source("optax", "optax", "optax", "optax.losses.", "every public function of optax.losses", _optax),
    "torch": Source("PyTorch", "torch", "torch", "torch.nn.functional.",
                    "every torch.nn.functional function named *_loss, and those torch.nn's loss classes call",
                    _torch),
    "torchvision": Source("torchvision", "torchvision", None, "torchvision.ops.",
                          "torchvision.ops's four losses, a fixed list (torchvision is not imported)",
                          lambda: list(TORCHVISION)),
}

#: Names that are not losses, or not ours to have: name -> why (at most a handful; a test checks
#: that each still exists and is still not covered).
EXCLUDED = {
    "keras.losses.Loss": "the base class of Keras's losses, not a loss (multiloss.keras's classes subclass it)",
    "optax.losses.make_fenchel_young_loss": (
        "builds a Fenchel-Young loss from a user's max function (Blondel et al. 2020), not a loss itself; "
        "with logsumexp it is categorical_cross_entropy from logits (targets summing to 1)"),
    "optax.losses.smooth_labels": ("transforms one-hot labels (label smoothing), not a loss; the losses' "
                                   "label_smoothing= parameter does it"),
    "torch.nn.functional.linear_cross_entropy": (
        "fuses a linear layer into cross_entropy to save memory: on the logits input @ linear_weight.T + "
        "linear_bias it is cross_entropy, whose counterparts are categorical_cross_entropy and "
        "sparse_categorical_cross_entropy"),
}

#: Names whose loss is another name's, returned with more: name -> (that name, what it adds).
#: Covered by that name's natives unless registered itself.
SAME = {
    "optax.losses.ctc_loss_with_forward_probs": (
        "optax.losses.ctc_loss", "also returns the forward and backward log-probabilities"),
}


def names(source: str) -> list[str] | None:
    """The dotted loss names of ``source`` (a key of :data:`SOURCES`); None: not installed."""
    src = SOURCES[source]
    if src.module is not None and importlib.util.find_spec(src.module) is None:
        return None
    return src.enumerate()


def _version(source: str) -> str:
    try:
        return importlib.metadata.version(SOURCES[source].distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


# --- each name's counterpart ----------------------------------------------------------------
STATUSES = ("exact", "differs", "excluded", "missing")


@dataclass(frozen=True)
class Row:
    """One framework name and one multiloss loss (or none): ``status`` is "exact", "differs",
    "excluded" or "missing"; ``how``, a line per native: under which of our parameters it is
    exact, or that it differs, and the ``convention=`` that gives its numbers at its defaults
    (excluded: why); ``notes``, the inexact natives' notes: how they differ."""

    name: str
    source: str  # a key of SOURCES
    status: str
    loss: str = ""
    how: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Coverage:
    rows: list[Row]
    versions: dict = field(default_factory=dict)  # source -> its version ("" for a fixed list), None: not installed

    @property
    def missing(self) -> list[str]:
        """The names with neither a registered native nor an exclusion."""
        return [r.name for r in self.rows if r.status == "missing"]

    def counts(self) -> dict:
        """How many names have each status; a name with an exact counterpart counts as exact."""
        best: dict[str, str] = {}
        for r in self.rows:
            if r.name not in best or STATUSES.index(r.status) < STATUSES.index(best[r.name]):
                best[r.name] = r.status
        return {status: sum(s == status for s in best.values()) for status in STATUSES}


def _how(native: Native) -> str:
    """One native against ours: exact or not (under ``when``), its scale and fixed keywords, the
    ``convention=`` that gives its numbers at its defaults, and why it is never called."""
    when = _code(", ".join(f"{k}={v!r}" for k, v in native.when.items())) if native.when else ""
    parts = [("exact" + f" when {when}" * bool(when)) if native.exact else
             ("differs" + f" even when {when}" * bool(when))]
    if native.scale != 1:
        parts.append(f"returns {native.scale:g} × ours")
    fixed = [(k, repr(v.value)) for k, v in native.kwargs.items()
             if isinstance(v, natives.Fixed) and k not in ("reduction", "dtype")]
    if fixed:
        parts.append("called with " + _assignments(fixed))
    rule = native.convention
    if rule is not None:
        values = ", ".join(f"{k}={v!r}" for k, v in rule.values.items())
        parts.append(f"at its defaults {_code(f'convention={rule.framework!r}')} ≡ "
                     + (_code(values) if values else "our defaults"))
    if native.unchecked:
        parts.append("recorded, not called here: " + native.unchecked)
    return "; ".join(parts)


def _by_api() -> dict[str, list[tuple[LossSpec, Native]]]:
    found: dict[str, list[tuple[LossSpec, Native]]] = {}
    for spec in REGISTRY.values():
        if spec.builtin:
            for native in natives.of(spec).natives:
                found.setdefault(native.api, []).append((spec, native))
    return found


def _rows(name: str, source: str, by_api: dict) -> list[Row]:
    target, prefix = name, ""
    if name not in by_api and name in SAME and SAME[name][0] in by_api:
        target, adds = SAME[name]
        prefix = f"as {_code(target)}, which is its loss (it {adds}): "
    if target not in by_api:
        if name in EXCLUDED:
            return [Row(name, source, "excluded", how=(EXCLUDED[name],))]
        why = f", nor {_code(SAME[name][0])}, whose loss it is" if name in SAME else " and no exclusion"
        return [Row(name, source, "missing", how=(f"no registered native{why}",))]
    rows = []
    for loss in dict.fromkeys(spec.name for spec, _ in by_api[target]):
        found = [n for s, n in by_api[target] if s.name == loss]
        notes = tuple(dict.fromkeys(note for n in found if not n.exact for note in n.notes))
        rows.append(Row(name, source, "exact" if any(n.exact for n in found) else "differs", loss,
                        tuple(prefix + _how(n) for n in found), notes))
    return rows


def coverage(sources=None) -> Coverage:
    """Every name of ``sources`` (keys of :data:`SOURCES`; default: all) with its counterparts
    among the built-in losses' natives."""
    by_api = _by_api()
    rows, versions = [], {}
    for source in sources or SOURCES:
        found = names(source)
        versions[source] = None if found is None else _version(source) if SOURCES[source].module else ""
        for name in found or ():
            rows += _rows(name, source, by_api)
    return Coverage(rows, versions)


def stale(cov: Coverage) -> list[str]:
    """:data:`EXCLUDED` and :data:`SAME` entries that no longer apply: the name is gone from an
    installed framework, or an excluded name has a registered native, each with why."""
    listed = {r.name: r for r in cov.rows}
    out = []
    for name in [*EXCLUDED, *SAME]:
        source = next((s for s, src in SOURCES.items() if name.startswith(src.prefix)), None)
        if source is None or cov.versions.get(source, None) is None:
            if source is None:
                out.append(f"{name}: no framework of SOURCES has it")
            continue
        if name not in listed:
            out.append(f"{name}: {_label(cov, source)} has no such loss")
        elif name in EXCLUDED and listed[name].status != "excluded":
            out.append(f"{name}: excluded, but {listed[name].loss} registers it")
        elif name in SAME and SAME[name][0] not in listed:
            out.append(f"{name}: {_label(cov, source)} has no {SAME[name][0]}, whose loss it is")
    return out


# --- the table ------------------------------------------------------------------------------
def _label(cov: Coverage, source: str) -> str:
    """The framework and its version ("" for a fixed list), or that it is not installed."""
    src, version = SOURCES[source], cov.versions[source]
    return f"{src.name} {version}".strip() if version is not None else f"{src.name}: not installed"


def _heading(cov: Coverage, source: str) -> str:
    return f"{_label(cov, source)}: {SOURCES[source].rule}"


def _summary(cov: Coverage) -> str:
    c = cov.counts()
    n = sum(c.values())
    return (f"{n} name{'s' * (n != 1)}: {c['exact']} with an exact counterpart, {c['differs']} with one that "
            f"differs, {c['excluded']} excluded, {c['missing']} missing")


def text(cov: Coverage, width: int = 100) -> str:
    """The coverage table as text: per framework, each name → its multiloss loss, then how it
    matches (wrapped, indented) and the natives' differences as bullets."""
    lines = ["Every loss the installed frameworks ship, and its multiloss counterpart", _summary(cov)]
    for source in cov.versions:
        lines += ["", *_wrap(_heading(cov, source), width), "═" * width]
        for row in (r for r in cov.rows if r.source == source):
            lines.append(f"{row.name} → {row.loss or ('MISSING' if row.status == 'missing' else row.status)}")
            for how in row.how:
                lines += _wrap(how, width, "    ", "    ")
            for note in row.notes:
                lines += _wrap(note, width, "    • ", "      ")
    if cov.missing:
        lines += ["", *_wrap("Missing (no registered native and no exclusion): " + ", ".join(cov.missing), width)]
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(_plain(text), width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False)


def markdown(cov: Coverage, link: Callable[[str], str] | None = None, heading: str = "#") -> str:
    """The coverage table as Markdown, a table per framework; ``link(loss)`` gives the address of
    a loss's page (None: no links)."""
    def loss(row: Row) -> str:
        if not row.loss:
            return f"**{row.status}**" if row.status == "missing" else row.status
        return f"[{row.loss}]({link(row.loss)})" if link else _code(row.loss)

    def how(row: Row) -> str:
        return "<br>".join([*map(_escape, row.how), *("• " + _escape(note) for note in row.notes)])

    lines = [f"{heading} Coverage: every loss the frameworks ship", "",
             ("Generated by `multiloss conventions --coverage --markdown` (`multiloss/coverage.py`) from the installed "
              "frameworks and the natives entries (`multiloss/natives/*.py`): each framework's losses, enumerated by "
              "the rule its section names, with the multiloss loss whose native calls it, and whether that native is "
              "exact (equal up to rounding under the mapping) or how it differs. *exact when* names the parameters "
              "under which it is; *at its defaults* the `convention=` that gives the framework's numbers."),
             "", _summary(cov) + ".", ""]
    for source in cov.versions:
        lines += [f"{heading}# {_heading(cov, source)}", ""]
        rows = [r for r in cov.rows if r.source == source]
        if rows:
            lines += _table(["name", "multiloss", "vs ours"],
                            [[_code(r.name), loss(r), how(r)] for r in rows]) + [""]
    return "\n".join(lines)


# --- the command (`multiloss conventions --coverage`) ---------------------------------------
def add_arguments(parser) -> None:
    parser.add_argument("--coverage", action="store_true",
                        help="print every loss the installed frameworks ship and its multiloss counterpart "
                             "(with LOSS: the names it covers)")


def run(args) -> int:
    """Print the coverage table (``args.markdown``, ``args.width``; ``args.loss``: that loss's rows)."""
    cov = coverage()
    if args.loss is not None:
        try:
            spec = lookup(args.loss)
        except ValueError as exc:
            print(f"multiloss conventions: {exc}", file=sys.stderr)
            return 2
        cov = Coverage([r for r in cov.rows if r.loss == spec.name], cov.versions)
    sys.stdout.write(markdown(cov) if args.markdown else text(cov, args.width))
    return 0
