"""What every ``multiloss`` command shares: the loss lookup, ``--param`` and the module layout."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

from multiloss import _options
from multiloss.registry import REGISTRY, lookup

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "multiloss"


@pytest.mark.parametrize("name, found", [
    ("huber", "huber"), ("Huber", "huber"), ("  HUBER ", "huber"), ("mse", "mean_squared_error"),
    ("BinaryCrossEntropy", "binary_cross_entropy"), ("binary-cross-entropy", "binary_cross_entropy"),
    ("KlDivergence", "kl_divergence"), ("NtXent", "nt_xent"), ("GaussianNll", "gaussian_nll"),
])
def test_lookup_takes_names_aliases_and_the_wrappers_class_names(name, found):
    assert lookup(name) is REGISTRY[found]


def test_every_wrapper_class_name_looks_up_its_loss():
    for spec in REGISTRY.values():
        assert lookup(spec.class_name) is spec


@pytest.mark.parametrize("name, hint", [
    ("hubr", "did you mean huber"), ("binary_crossentropy", "did you mean binary_cross_entropy"),
    ("bce", "binary_cross_entropy"), ("zzz", "the losses are binary_cross_entropy"),
])
def test_an_unknown_loss_names_the_closest(name, hint):
    with pytest.raises(ValueError, match=f"unknown loss '{name}'; .*{hint}"):
        lookup(name)


def test_param_values_are_typed():
    bce = REGISTRY["binary_cross_entropy"]
    assert _options.parse_params(bce, ["from_logits=false"]) == {"from_logits": False}  # never the string 'false'
    assert _options.parse_params(bce, ["from_logits=True", "pos_weight=None"]) == {"from_logits": True,
                                                                                  "pos_weight": None}
    assert _options.parse_params(REGISTRY["huber"], ["delta=2"]) == {"delta": 2}
    assert _options.parse_params(REGISTRY["contrastive"], ["distance=cosine"]) == {"distance": "cosine"}
    sparse = REGISTRY["sparse_categorical_cross_entropy"]
    assert _options.parse_params(sparse, ["class_weight=(0.5, 2.0)"]) == {"class_weight": (0.5, 2.0)}


@pytest.mark.parametrize("item, message", [
    ("delta", "--param 'delta': expected NAME=VALUE; huber's parameters: delta"),
    ("delt=2", "--param 'delt=2': huber has no parameter 'delt' (NAME=VALUE; its parameters: delta)"),
    ("delta=-1", "--param 'delta=-1': `delta` must be a finite number > 0; got -1"),
])
def test_a_bad_param_names_the_item(item, message):
    with pytest.raises(_options.UsageError) as raised:
        _options.parse_params(REGISTRY["huber"], [item])
    assert str(raised.value).startswith(message)


def _imports(path: pathlib.Path) -> set[str]:
    """The multiloss modules ``path`` imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("multiloss"):
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("multiloss")}
    return names


def test_only_the_entry_points_import_the_cli():
    """The command imports its tools; no tool imports the command back (no import loop)."""
    importers = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                 if "multiloss.cli" in _imports(p)}
    assert importers == {"__main__.py"}


def test_the_check_table_wraps_long_names_explains_the_dash_and_ends_with_a_summary():
    """`multiloss check`'s table (multiloss.testing.report): a case id longer than the loss column
    wraps at its parameters, each case is named once, "—" is in the legend, and one last line
    counts what was checked and names the worst errors."""
    from conftest import load_backend
    from multiloss.testing import report
    from multiloss.testing.matrix import cases, math_module

    long = [c for c in cases() if len(c.id) > report.WIDTH][:1]
    assert long, "no case id is longer than the column"
    chosen = [next(c for c in cases() if c.id == "huber"), *long]
    backends = [load_backend("numpy")]
    lines = []
    result = report.run(chosen, backends, "float32", math_module(), out=lines.append)
    table = lines[lines.index(next(x for x in lines if x.startswith("loss "))) + 2:-2]
    assert all(len(x[: report.WIDTH + 1].rstrip()) <= report.WIDTH for x in table)
    assert [x.split()[0] for x in table if x.endswith(("✓", "✗"))][0] == "huber"
    assert "".join(x[: report.WIDTH].strip() for x in table[1:]) == long[0].id  # wrapped, nothing lost
    assert any("—" in x and "not checked" in x and "autodiff" in x for x in lines[:3])
    assert "—" in table[0]  # NumPy has no autodiff
    assert result.ok and len(result.rows) == 2 and result.losses == 2
    assert re.fullmatch(rf"all agree: 2 losses \(2 settings\) × 1 backends: 2 checks, worst \d+\.\d\d ulps "
                        rf"\((huber|{re.escape(long[0].id)}), numpy\), \d+ s", lines[-1]), lines[-1]
    assert lines[-2] == ""


def test_wrap_breaks_before_parameters_only():
    from multiloss.testing.report import wrap

    assert wrap("tversky-alpha=0.2-beta=0.8-smooth=0.0-epsilon=1e-07", 40) == [
        "tversky-alpha=0.2-beta=0.8-smooth=0.0", "  -epsilon=1e-07"]
    assert wrap("huber-delta=-1e-05", 10) == ["huber", "  -delta=-1e-05"]


def test_help_is_plain_text_and_every_option_has_help(capsys):
    """Docstrings shown as help lose their reST markup (``code``, :mod:`x`); every option says
    what it is, --dtype included."""
    from multiloss import cli

    for argv in ([], ["check"], ["compare"], ["conventions"], ["plot"]):
        with pytest.raises(SystemExit):
            cli.main([*argv, "--help"])
        text = capsys.readouterr().out
        assert "`" not in text and ":mod:" not in text, text
        if "--dtype" in text:
            assert re.search(r"^  --dtype \{[^}]*\}( {2,}\S|\n {10,}\S)", text, flags=re.M), text
    assert cli.plain("The ``multiloss`` command (:mod:`multiloss.cli`)") == "The multiloss command (multiloss.cli)"


def test_batchmean_says_mean_already_is_it():
    import numpy as np

    import multiloss as ml

    with pytest.raises(ValueError, match=r"got 'batchmean' \('mean' already is PyTorch's 'batchmean' for "
                                         r"kl_divergence"):
        ml.kl_divergence(np.full((2, 3), 1 / 3), np.full((2, 3), 1 / 3), reduction="batchmean")


@pytest.mark.skipif(__import__("importlib").util.find_spec("tensorflow") is None, reason="tensorflow is not installed")
def test_tensorflow_start_up_logs_stay_out_of_the_command_output():
    """The command owns its process: TensorFlow's C++ INFO/WARNING lines (oneDNN, CPU features,
    absl's "All log messages before absl::InitializeLog()", XLA's "Compiled cluster using XLA!")
    stay out of its output, where TF_CPP_MIN_LOG_LEVEL is unset; errors would still show."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, "-m", "multiloss", "compare", "huber", "--backends", "tensorflow"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert all(line.startswith("importing ") for line in out.stderr.splitlines()), out.stderr
    for marker in ("oneDNN", "absl::InitializeLog", "XLA", "cpu_feature_guard", "I0000", "W0000"):
        assert marker not in out.stdout + out.stderr



def test_conventions_coverage_prints_the_coverage_table(monkeypatch, capsys):
    """`multiloss conventions --coverage` prints multiloss.coverage's table (its own tests check
    the table: tests/test_coverage.py); without --coverage, the teaching table."""
    from multiloss import cli, coverage

    cov = coverage.Coverage([coverage.Row("made_up.losses.huber_loss", "made_up", "exact", "huber", ("exact",))],
                            {"made_up": "1.0"})
    monkeypatch.setitem(coverage.SOURCES, "made_up", coverage.Source(
        "Made-up", "made-up", "made_up", "made_up.losses.", "one made-up name", lambda: []))
    monkeypatch.setattr(coverage, "coverage", lambda: cov)
    assert cli.main(["conventions", "--coverage"]) == 0
    assert capsys.readouterr().out == coverage.text(cov) == (
        "Every loss the installed frameworks ship, and its multiloss counterpart\n"
        "1 name: 1 with an exact counterpart, 0 with one that differs, 0 excluded, 0 missing\n\n"
        "Made-up 1.0: one made-up name\n" + "═" * 100 + "\nmade_up.losses.huber_loss → huber\n    exact\n")
    assert cli.main(["conventions", "--coverage", "--markdown", "mse"]) == 0
    assert capsys.readouterr().out == coverage.markdown(coverage.Coverage([], cov.versions))
    assert cli.main(["conventions", "huber"]) == 0
    assert capsys.readouterr().out.startswith("huber\n")
    with pytest.raises(SystemExit):
        cli.main(["conventions", "--help"])
    assert "--coverage" in capsys.readouterr().out
