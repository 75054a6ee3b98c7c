"""The loss pages, generated from the registry at build time: a Sphinx extension.

:func:`write` makes ``docs/losses/``: ``index.md`` (every loss, and the frameworks' rules from
:mod:`multiloss.teaching`) and one page per built-in loss: its docstring (autodoc), inputs and
parameters with their defaults and conditions, the input domain, what bad input gets, each
framework's counterpart (:func:`multiloss.teaching.table`) and ``multiloss plot``'s figure of
value and gradient with the natives' curves; and ``coverage.md``, every loss the installed
frameworks ship and its counterpart (:mod:`multiloss.coverage`, as ``multiloss conventions
--coverage --markdown`` prints it). Figures are drawn by :mod:`multiloss.plot` and
kept while the ``multiloss`` sources and the frameworks' versions are unchanged
(``figures/NAME.key``). Without Sphinx, :func:`page` and :func:`write` serve the tests.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

import multiloss
from multiloss import coverage, plot, teaching
from multiloss._validation import REDUCTIONS, describe
from multiloss.backends import NAMES, adapter, installed, load_all, version
from multiloss.registry import REGISTRY, LossSpec
from multiloss.testing.matrix import Case

OUT = Path(__file__).resolve().parents[1] / "losses"
KINDS = {
    "element": "one loss per element of the inputs",
    "row": "one loss per row (the last axis: classes, features or pixels)",
    "batch": "one loss per row, which depends on the whole batch (in-batch mining)",
}
CLASSES = 8  # the class axis of the domain's samples (Case's shape), written C in the conditions


def builtins() -> list[LossSpec]:
    return [spec for spec in REGISTRY.values() if spec.builtin]


# --- the facts, from the registry -----------------------------------------------------------
def _accepts(spec: LossSpec, name: str) -> str:
    if name in spec.indices:
        return "integer class labels (a floating array is a `TypeError`)"
    if name in spec.labels:
        return "an array of any real dtype: floating, integer or boolean"
    return "a floating array (an integer one is a `TypeError`); the result has its dtype"


def parameters(spec: LossSpec) -> list[tuple[str, str, str]]:
    """(name, default, what it accepts) for the inputs, the parameters and the call options."""
    rows = [(f"`{name}`", "(required)", _accepts(spec, name)) for name in spec.inputs]
    rows += [(f"`{name}`", f"`{value!r}`", describe(spec.conditions[name]) if name in spec.conditions else "any")
             for name, value in spec.params.items()]
    rows += [("`reduction`", "`'mean'`", "one of " + ", ".join(f"`{r!r}`" for r in REDUCTIONS)),
             ("`sample_weight`", "`None`", "None, or weights ≥ 0 of the loss's shape or its leading axes")]
    if spec.frameworks:
        rows.append(("`convention`", "`None`", "None or one of " + ", ".join(f"`{f!r}`" for f in spec.frameworks)
                     + ": that framework's numbers"))
    return rows


def domain(spec: LossSpec) -> list[tuple[dict, list[tuple[str, str]]]]:
    """The value rules (input, condition) of ``spec``'s checks at its defaults, then at each of
    its variants whose rules differ: [(parameters changed, rules)]."""
    if spec.checks is None:
        return [({}, [])]
    xp = adapter("numpy").xp
    found = []
    for params in ({}, *spec.variants):
        case = Case(spec, params)
        rules = spec.checks(xp, *(xp.asarray(case.inputs[n]) for n in spec.inputs), **case.params)
        rules = [(r.name, r.condition.replace(f", {CLASSES})", ", C)")) for r in rules]
        if not found or rules != found[0][1] and all(rules != r for _, r in found):
            found.append((params, rules))
    return found


# --- the page -------------------------------------------------------------------------------
def _table(header: list[str], rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows), ""]


def _settings(params: dict) -> str:
    return ", ".join(f"`{k}={v!r}`" for k, v in params.items())


def _bad_input(spec: LossSpec) -> list[str]:
    lines = ["## Domain and bad input", ""]
    for params, rules in domain(spec):
        head = "With the defaults" if not params else f"With {_settings(params)}"
        if not rules:
            lines.append(f"- {head}: no input's values are checked; every finite value is in the domain.")
        else:
            lines.append(f"- {head}: " + "; ".join(f"`{name}` must be {condition}" for name, condition in rules) + ".")
    lines += [
        "",
        "A value outside the domain is a `ValueError` naming the input, the condition and how many values "
        "break it, where values are read for free (eager arrays in host memory, the default policy); under "
        "`jax.jit`, `tf.function` and `torch.compile`, and on a GPU by default, the items it touches get a "
        "NaN loss, never a finite number. `multiloss.checks(mode)` chooses "
        "([the check policy](../guides/bad_input.md#the-check-policy)).",
        "",
    ]
    conditioned = [f"`{name}` ({describe(c)})" for name, c in spec.conditions.items()]
    if conditioned:
        lines += ["A parameter outside its condition is a `ValueError` before any array is read, in every mode: "
                  + ", ".join(conditioned) + ".", ""]
    lines += ["NaN in any input gives NaN for the items it touches; shapes that do not match exactly are a "
              "`ValueError` (nothing is broadcast); see [what bad input gets](../guides/bad_input.md).", ""]
    return lines


def _frameworks(spec: LossSpec) -> list[str]:
    order = spec.argument_order("torch")
    return ["## In each framework", "",
            f"PyTorch: `multiloss.torch.{spec.class_name}(...)`, an `nn.Module` whose `forward` takes "
            f"`{', '.join(order)}`. Keras 3: `multiloss.keras.{spec.class_name}(...)`, a `keras.losses.Loss` "
            "([porting a model](../guides/porting.md)).", "",
            teaching.LEGEND, "", teaching.table(spec), ""]


def page(spec: LossSpec, figure: tuple[str, list[str]] | str) -> str:
    """The Markdown page of ``spec``; ``figure`` is (its path relative to the page, the plot's
    report lines), or the reason there is none."""
    aliases = f" (also `multiloss.{'`, `multiloss.'.join(spec.aliases)}`)" if spec.aliases else ""
    lines = [f"(loss-{spec.name})=", f"# {spec.name}", "", "```{eval-rst}", f".. autofunction:: multiloss.{spec.name}",
             "```", "", f"Family: {spec.family}{aliases}; {KINDS[spec.kind]}.", "",
             "## Inputs and parameters", "", *_table(["", "default", "accepts"], parameters(spec)),
             *_bad_input(spec), *_frameworks(spec), "## Value and gradient", ""]
    if isinstance(figure, str):
        lines += [f"No figure: {figure}.", ""]
    else:
        path, report = figure
        lines += [f"![{spec.name} and its gradient on every installed backend, with the frameworks' own "
                  f"versions dashed]({path})", "",
                  f"Drawn at build time by `multiloss plot {spec.name}`, which reports:", "", "```text",
                  *report, "```", ""]
    return "\n".join(lines)


def index(specs: list[LossSpec]) -> str:
    rows = [(f"[{s.name}]({s.name}.md)", s.family, s.summary) for s in specs]
    return "\n".join([
        "# Losses and how each framework defines them", "",
        "A page per registered loss, generated from the registry and the natives entries: its parameters and "
        "domain, what bad input gets, each framework's counterpart and how it differs, and the loss and its "
        "gradient drawn on every backend with the frameworks' own versions. `multiloss conventions [LOSS]` "
        "prints the same tables in a terminal.", "",
        "[Coverage](coverage.md): every loss Keras, optax, PyTorch and torchvision ship, and its multiloss "
        "counterpart, exact or how it differs (`multiloss conventions --coverage`).", "",
        "```{toctree}", ":hidden:", "", "coverage", *(s.name for s in specs), "```", "",
        *_table(["loss", "family", "definition"], rows),
        "## Framework-wide rules", "", "Each loss's page says where it differs.", "", teaching.rules(), ""])


# --- the figures ----------------------------------------------------------------------------
def _key(backends) -> str:
    """What a figure depends on: the multiloss sources and the loaded frameworks' versions."""
    h = hashlib.sha256()
    for path in sorted(Path(multiloss.__file__).parent.rglob("*.py")):
        h.update(path.read_bytes())
    h.update(repr([(b.xp.backend, version(b.xp.backend)) for b in backends]).encode())
    return h.hexdigest()


def figure(spec: LossSpec, backends, key: str, folder: Path) -> tuple[str, list[str]] | str:
    """``spec``'s plot in ``folder`` (drawn unless its key file says it is current)."""
    png, stamp = folder / f"{spec.name}.png", folder / f"{spec.name}.key"
    try:
        plot.sweep_for(spec, spec.params)
    except ValueError as exc:
        return str(exc).split(": ", 1)[1].split(";")[0]
    if not (png.exists() and stamp.exists() and stamp.read_text(encoding="utf-8").startswith(key + "\n")):
        c = plot.curves(spec.name, {}, backends)
        report = plot.compare(c)
        if not report.agree:
            raise RuntimeError(f"{spec.name}: the backends disagree\n" + "\n".join(report.lines))
        plot.draw(c, report, str(png))
        stamp.write_text("\n".join([key, *report.lines]) + "\n", encoding="utf-8")
    return f"figures/{png.name}", stamp.read_text(encoding="utf-8").splitlines()[1:]


def coverage_page(cov: coverage.Coverage | None = None) -> str:
    """The coverage page: :func:`multiloss.coverage.markdown`, each loss linked to its page."""
    return coverage.markdown(cov or coverage.coverage(), link=lambda name: f"{name}.md")


def _update(path: Path, text: str) -> None:
    """Write ``text`` unless the file holds it already (Sphinx rereads what changed)."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write(out: Path = OUT, log=print) -> list[Path]:
    """Write the loss pages and figures into ``out``; returns the pages."""
    (out / "figures").mkdir(parents=True, exist_ok=True)
    backends, _ = load_all([n for n in NAMES if installed(n)])
    key = _key(backends)
    specs = builtins()
    pages = [out / "index.md", out / "coverage.md"]
    _update(pages[0], index(specs))
    _update(pages[1], coverage_page())
    with np.errstate(all="ignore"):
        for spec in specs:
            log(f"lossdocs: {spec.name}")
            pages.append(out / f"{spec.name}.md")
            _update(pages[-1], page(spec, figure(spec, backends, key, out / "figures")))
    return pages


def setup(app):
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    app.connect("builder-inited", lambda app: write(log=logger.info))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
