"""`multiloss conventions`: the teaching table (text and Markdown), and the natives' signatures.

Every ``Native.signature`` that is filled in is checked against the installed framework
(parameter names, kinds, order and defaults, via ``inspect.signature``); the checker is itself
tested on signatures that are deliberately wrong.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pathlib
import subprocess
import sys

import pytest

from multiloss import cli, natives, teaching
from multiloss.registry import REGISTRY, Convention, lookup

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODULES = {"torch": "torch", "keras": "keras", "optax": "optax", "sklearn": "sklearn"}
EMPTY = inspect.Parameter.empty
KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword",
    inspect.Parameter.VAR_POSITIONAL: "*args",
    inspect.Parameter.VAR_KEYWORD: "**kwargs",
}


def _rows(entry) -> str:
    return " ".join(" ".join(v) if isinstance(v, tuple) else v for v in entry.rows.values()).replace("`", "")


def _entry(spec, api):
    return next(e for e in teaching.entries(spec) if e.rows["function"].startswith(f"`{api}`"))


# --- the table ------------------------------------------------------------------------------
def test_binary_cross_entropy_table_names_functions_orders_and_safeguards():
    spec = REGISTRY["binary_cross_entropy"]
    out = teaching.text([spec])
    flat = " ".join(out.split())
    for native in natives.of(spec).natives:
        assert native.api in flat
    assert next(e.framework for e in teaching.entries(spec)) == "multiloss"
    assert {e.framework for e in teaching.entries(spec)} == set(teaching.FRAMEWORKS)
    for name in ("multiloss", "PyTorch", "Keras", "optax", "scikit-learn"):
        assert f"\n{name} " in "\n" + out

    torch_bce = _entry(spec, "torch.nn.functional.binary_cross_entropy")
    assert "input=y_pred, target=y_true" in torch_bce.rows["arguments"]
    assert "−100" in _rows(torch_bce) or "-100" in _rows(torch_bce)
    keras_bce = _entry(spec, "keras.losses.BinaryCrossentropy")
    assert keras_bce.rows["arguments"].index("y_true") < keras_bce.rows["arguments"].index("y_pred")
    assert "1e-7" in _rows(keras_bce) or "1e-07" in _rows(keras_bce)
    assert "sum_over_batch_size" in keras_bce.rows["reduction"]
    optax_bce = _entry(spec, "optax.losses.sigmoid_binary_cross_entropy")
    assert optax_bce.rows["arguments"].index("y_pred") < optax_bce.rows["arguments"].index("y_true")
    assert "from_logits=True" in optax_bce.rows["vs ours"]
    assert "label_smoothing=0.0" in teaching.entries(spec)[0].rows["defaults"]


def test_filled_fields_are_shown(monkeypatch):
    """signature, reduction, safeguards, label_format and convention, once a native has them."""
    spec = REGISTRY["binary_cross_entropy"]
    torch_bce, keras_bce = (next(n for n in natives.of(spec).natives if n.api == api) for api in
                            ("torch.nn.functional.binary_cross_entropy", "keras.losses.BinaryCrossentropy"))
    spec = dataclasses.replace(spec, conventions=(
        Convention(torch_bce.api, {"safeguard": "torch"}, when=torch_bce.when, divisor="count"),
        Convention(keras_bce.api, {"label_smoothing": 0.0}, when=keras_bce.when, per_sample=True)))
    torch_bce = dataclasses.replace(
        torch_bce, signature="torch.nn.functional.binary_cross_entropy(input, target, weight=None, "
                             "reduction='mean') -> Tensor",
        safeguards="each log clamped at ≥ −100", label_format="floats in [0, 1], input's shape")
    keras_bce = dataclasses.replace(
        keras_bce, signature='keras.losses.BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1, '
                             'reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None)',
        reduction="custom reduction phrase")
    monkeypatch.setitem(natives.NATIVES, spec.name, natives.NATIVES[spec.name])  # restored afterwards
    natives.register(spec, torch_bce, keras_bce)
    t, k = (_entry(spec, n.api).rows for n in (torch_bce, keras_bce))
    assert t["arguments"] == "`input=y_pred, target=y_true`"
    assert t["defaults"] == "`weight=None`, `reduction='mean'`"
    assert (t["safeguards"], t["labels"]) == (torch_bce.safeguards, torch_bce.label_format)
    assert t["convention"] == ("multiloss: `convention='torch'` ≡ `safeguard='torch'` "
                               "(a weighted 'mean' divides Σwℓ by the number of items)")
    assert k["arguments"] == "`y_true, y_pred`"  # a class's signature is its constructor's
    assert "`from_logits=False`" in k["defaults"] and "`reduction='sum_over_batch_size'`" in k["defaults"]
    assert k["reduction"] == "custom reduction phrase"
    assert k["convention"].startswith("multiloss: `convention='keras'` ≡ `label_smoothing=0.0` (the per-sample mean")
    out = teaching.text([spec])
    assert "multiloss: convention='keras' ≡ label_smoothing=0.0" in out
    assert "convention='torch' or 'keras' gives that framework's numbers" in " ".join(out.split())


def test_absent_frameworks_say_so():
    rows = {e.framework: e.rows for e in teaching.entries(REGISTRY["gaussian_nll"])}
    assert rows["keras"]["function"].startswith("none: Keras, optax and scikit-learn have no Gaussian NLL")
    assert rows["sklearn"]["function"].startswith("none:")
    assert {e.framework: e.rows for e in teaching.entries(REGISTRY["nt_xent"])}["torch"] == {
        "function": "no counterpart registered"}


def test_text_fits_100_columns():
    out = teaching.text()
    assert max(len(line) for line in out.splitlines()) <= 100
    assert all(spec.name in out for spec in REGISTRY.values() if spec.kernel.__module__.startswith("multiloss.losses"))


def test_cli_one_loss_by_alias(capsys):
    assert cli.main(["conventions", "mse"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("mean_squared_error\n") and "sklearn.metrics.mean_squared_error" in out


@pytest.mark.parametrize("name, hint", [("binary_cross_entrop", "binary_cross_entropy"),
                                        ("bce", "binary_cross_entropy"),
                                        ("zzz", "the losses are binary_cross_entropy")])
def test_unknown_loss_is_a_clear_error(capsys, name, hint):
    with pytest.raises(ValueError, match=f"unknown loss '{name}'"):
        lookup(name)
    assert cli.main(["conventions", name]) == 2
    err = capsys.readouterr().err
    assert f"unknown loss '{name}'" in err and hint in err


def test_imports_no_framework():
    code = ("import argparse, sys\nfrom multiloss import teaching\np = argparse.ArgumentParser()\n"
            "teaching.add_arguments(p)\nteaching.run(p.parse_args([]))\n"
            "print(sorted({'torch', 'tensorflow', 'jax', 'keras', 'optax', 'sklearn'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.splitlines()[-1] == "[]"


def test_markdown_is_the_rules_then_each_loss_table(capsys):
    """`multiloss conventions --markdown` prints what the site's pages render (docs/_ext/lossdocs.py):
    the framework-wide rules, then per loss its summary and table, a column per implementation."""
    assert cli.main(["conventions", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out == teaching.markdown()
    assert teaching.rules() in out and teaching.rules().count("\n") == 1 + len(teaching.FRAMEWORKS)
    spec = REGISTRY["binary_cross_entropy"]
    table = teaching.table(spec)
    assert "## binary_cross_entropy\n\nBinary cross-entropy: " in out and f"\n\n{table}\n" in out
    header = table.splitlines()[0]
    assert header.split(" | ")[1:4] == ["multiloss", "PyTorch", "PyTorch"]  # BCE has two PyTorch natives
    assert "`keras.losses.BinaryCrossentropy` (a class)" in table
    assert all(f"\n## {s.name}\n" in out for s in REGISTRY.values() if s.builtin)


# --- signatures against the installed frameworks --------------------------------------------
@dataclasses.dataclass(frozen=True)
class Source:
    """A documented default that is not a Python literal (e.g. ``jnp.float32``)."""

    text: str


def _documented(default: str | None):
    if default is None:
        return EMPTY
    try:
        return ast.literal_eval(default)
    except (ValueError, SyntaxError):
        return Source(default)


def installed(obj) -> dict:
    """name -> (kind, default) of ``obj`` (a class: its constructor); a builtin with no
    introspectable signature is read from its docstring's first line."""
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        first = next(line for line in (obj.__doc__ or "").splitlines() if line.strip())
        return {p.name: (p.kind, _documented(p.default)) for p in teaching.parse_signature(first)[1]}
    return {p.name: (KINDS[p.kind], p.default) for p in params}


def _same(doc, actual) -> bool:
    if doc is EMPTY or actual is EMPTY:
        return doc is actual
    if isinstance(doc, Source):
        return doc.text.rsplit(".", 1)[-1] in (getattr(actual, "__name__", None), repr(actual))
    if type(doc) in (int, float) and type(actual) in (int, float):  # 1 == 1.0, but True is not 1
        return doc == actual
    try:
        return type(doc) is type(actual) and bool(doc == actual)
    except (TypeError, ValueError, RuntimeError):  # an array-valued comparison
        return False


def signature_mismatches(label: str, text: str, obj) -> list[str]:
    """How the documented signature ``text`` differs from ``obj``'s, one line each naming
    ``label`` and the parameter: names, kinds (positional or keyword-only), the order of the
    positional ones and defaults; parameters with defaults may be left out, required ones not."""
    try:
        name, params = teaching.parse_signature(text)
    except ValueError as exc:
        return [f"{label}: {exc}"]
    actual = installed(obj)
    problems = []
    if name.rsplit(".", 1)[-1] != getattr(obj, "__name__", None):
        problems.append(f"{label}: the signature calls {name!r}, the api is {getattr(obj, '__name__', obj)!r}")
    for p in params:
        if p.kind in ("*args", "**kwargs"):
            if p.kind not in (kind for kind, _ in actual.values()):
                problems.append(f"{label}: {p.kind} parameter {p.name!r} is not accepted by the installed api")
            continue
        if p.name not in actual:
            problems.append(f"{label}: parameter {p.name!r} is not in the installed signature "
                            f"({', '.join(actual)})")
            continue
        kind, default = actual[p.name]
        if kind != p.kind:
            problems.append(f"{label}: parameter {p.name!r} is {p.kind} in the signature, {kind} when installed")
        if not _same(_documented(p.default), default):
            shown = "no default" if default is EMPTY else f"default {default!r}"
            problems.append(f"{label}: parameter {p.name!r} has default {p.default} in the signature, "
                            f"{shown} when installed" if p.default is not None else
                            f"{label}: parameter {p.name!r} has no default in the signature, {shown} when installed")
    documented = {p.name for p in params}
    problems += [f"{label}: required parameter {n!r} is missing from the signature"
                 for n, (kind, default) in actual.items()
                 if default is EMPTY and kind in ("positional", "keyword") and n not in documented]
    order = [p.name for p in params if p.kind == "positional" and actual.get(p.name, ("",))[0] == "positional"]
    real = [n for n, (kind, _) in actual.items() if n in order]
    if order != real:
        first = next(a for a, b in zip(order, real) if a != b)
        problems.append(f"{label}: parameter {first!r} is out of order: {', '.join(order)} in the signature, "
                        f"{', '.join(real)} when installed")
    return problems


def check_native(loss: str, native) -> None:
    """Fail, naming the native and each parameter, if ``native.signature`` is not the
    installed api's; skip if its framework is not installed or the native is never called."""
    if native.unchecked:
        pytest.skip(native.unchecked)
    pytest.importorskip(MODULES[native.framework], reason=f"{native.framework} is not installed")
    module, _, attr = native.api.rpartition(".")
    obj = getattr(importlib.import_module(module), attr)
    problems = signature_mismatches(f"{loss}: {native.api}", native.signature, obj)
    assert not problems, "\n".join(problems)


SIGNED = [pytest.param(spec.name, n, id=f"{spec.name}-{n.api}")
          for spec in REGISTRY.values() for n in natives.of(spec).natives if n.signature]


@pytest.mark.parametrize("loss, native", SIGNED or [pytest.param(None, None, marks=pytest.mark.skip(
    reason="no Native.signature is filled in yet"))])
def test_registry_signatures_match_the_installed_frameworks(loss, native):
    check_native(loss, native)


def _api(input, target, weight=None, *, eps=1e-7, reduction="mean", axis=-1, **kwargs):
    """A stand-in for a framework's loss."""


def test_checker_accepts_the_formats_docs_use():
    for text in [
        "pkg.nn._api(input, target, weight=None, *, eps=1e-07, reduction=\"mean\", axis=-1, **kwargs) → Tensor",
        ("pkg._api(input: Tensor, target: Tensor, weight: Tensor | None = None, *, eps: float = 1e-7, "
         "reduction: str = 'mean', axis=−1, **kwargs) -> Tensor"),
        "pkg._api(input, target, ..., *, reduction='mean')",  # defaulted parameters may be left out
        "class pkg._api(input, target, *, axis=-1)",
    ]:
        assert signature_mismatches("_api", text, _api) == [], text


@pytest.mark.parametrize("text, parameter", [
    ("pkg._api(input, target, weight=None, *, eps=1e-6, reduction='mean')", "'eps'"),
    ("pkg._api(input, target, *, reduction='sum')", "'reduction'"),
    ("pkg._api(input, target, weight='None')", "'weight'"),
    ("pkg._api(input, target, eps=1e-7)", "'eps'"),  # keyword-only documented as positional
    ("pkg._api(target, input)", "'target'"),  # order
    ("pkg._api(input, target=None)", "'target'"),  # a default it does not have
    ("pkg._api(input)", "'target'"),  # a required parameter left out
    ("pkg._api(input, target, size=3)", "'size'"),
    ("pkg._api(input, target, *, axis=True)", "'axis'"),  # True == 1 but is not -1 nor an int
    ("pkg.other(input, target)", "'pkg.other'"),
    ("pkg._api(input, target", "not a call signature"),
])
def test_checker_rejects_wrong_signatures(text, parameter):
    problems = signature_mismatches("some_loss: pkg._api", text, _api)
    assert problems and all(p.startswith("some_loss: pkg._api: ") for p in problems)
    assert any(parameter in p for p in problems), problems


def test_checker_fails_a_wrong_registry_signature_against_torch():
    """The registry test's own path, on a real framework: right passes, wrong fails by name."""
    native = next(n for n in natives.of("binary_cross_entropy").natives
                  if n.api == "torch.nn.functional.binary_cross_entropy")
    right = "torch.nn.functional.binary_cross_entropy(input, target, weight=None, reduction='mean')"
    check_native("binary_cross_entropy", dataclasses.replace(native, signature=right))
    wrong = dataclasses.replace(native, signature=right.replace("'mean'", "'sum'"))
    with pytest.raises(AssertionError, match=r"binary_cross_entropy: torch\.nn\.functional\.binary_cross_entropy: "
                                             r"parameter 'reduction' has default 'sum'"):
        check_native("binary_cross_entropy", wrong)
