"""Coverage as a test: every loss the installed frameworks ship has a multiloss counterpart.

:mod:`multiloss.coverage` enumerates each installed framework's losses by a rule (Keras's
``keras.losses.Loss`` classes, optax.losses's public functions, torch.nn.functional's ``*_loss``
functions and those torch.nn's loss classes call, torchvision.ops's four as a fixed list) and
finds each name among the registered natives. A name with neither a native nor an entry in the
short list of exclusions fails here, by name; so does an exclusion that no longer applies.
``multiloss conventions --coverage`` prints the table, and the docs site renders it.
"""

from __future__ import annotations

import dataclasses
import importlib.util

import pytest

from multiloss import cli, coverage, natives
from multiloss.natives import Native
from multiloss.registry import REGISTRY

INSTALLED = [s for s, src in coverage.SOURCES.items() if src.module is None or importlib.util.find_spec(src.module)]


@pytest.fixture(scope="module")
def cov():
    return coverage.coverage()


def _by_framework(names: list[str]) -> str:
    lines = []
    for src in coverage.SOURCES.values():
        found = [n.removeprefix(src.prefix) for n in names if n.startswith(src.prefix)]
        if found:
            lines.append(f"  {src.name} ({src.prefix}*): " + ", ".join(found))
    return "\n".join(lines)


def test_every_framework_loss_has_a_counterpart_or_a_stated_reason(cov):
    assert not cov.missing, (
        f"{len(cov.missing)} losses of the installed frameworks have no registered native (multiloss/natives/*.py) "
        f"and no entry in multiloss.coverage.EXCLUDED:\n{_by_framework(cov.missing)}")


def test_every_exclusion_still_applies(cov):
    """An excluded name that a native now covers, or that its framework no longer has, is stale."""
    assert not coverage.stale(cov), "\n".join(coverage.stale(cov))


def test_the_exclusions_are_a_handful_each_with_its_reason():
    assert len(coverage.EXCLUDED) <= 5
    for name, reason in [*coverage.EXCLUDED.items(), *((n, why) for n, (_, why) in coverage.SAME.items())]:
        assert any(name.startswith(src.prefix) for src in coverage.SOURCES.values()), name
        assert len(reason.split()) >= 5, f"{name}: say why"
    assert all(target.startswith("optax.losses.") for target, _ in coverage.SAME.values())


# --- the enumeration -------------------------------------------------------------------------
@pytest.mark.skipif("torch" not in INSTALLED, reason="torch is not installed")
def test_torch_counts_its_loss_classes_functionals_not_only_the_star_loss_names():
    import torch.nn.functional as F

    found = coverage.names("torch")
    assert {f"torch.nn.functional.{n}" for n in dir(F) if n.endswith("_loss")} <= set(found)
    for name in ("cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"):
        assert f"torch.nn.functional.{name}" in found  # CrossEntropyLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss
    assert "torch.nn.functional.cosine_similarity" not in found  # a function, not a loss class's
    assert found == sorted(found)


@pytest.mark.skipif("keras" not in INSTALLED, reason="keras is not installed")
def test_keras_counts_its_loss_classes():
    found = coverage.names("keras")
    assert {"keras.losses.Loss", "keras.losses.Huber", "keras.losses.CTC"} <= set(found)
    assert "keras.losses.huber" not in found and "keras.losses.Reduction" not in found  # functions, helpers


@pytest.mark.skipif("optax" not in INSTALLED, reason="optax is not installed")
def test_optax_counts_its_public_functions():
    import optax.losses

    found = coverage.names("optax")
    assert found == sorted(f"optax.losses.{n}" for n in dir(optax.losses) if not n.startswith("_"))


def test_torchvision_is_a_fixed_list_never_imported():
    assert coverage.names("torchvision") == list(coverage.TORCHVISION) and len(coverage.TORCHVISION) == 4
    assert coverage.SOURCES["torchvision"].module is None


def test_a_framework_not_installed_is_said_and_skipped(monkeypatch):
    gone = dataclasses.replace(coverage.SOURCES["optax"], module="no_such_framework_here",
                               enumerate=lambda: pytest.fail("enumerated a framework that is not installed"))
    monkeypatch.setitem(coverage.SOURCES, "optax", gone)
    cov = coverage.coverage(["optax", "torchvision"])
    assert cov.versions == {"optax": None, "torchvision": ""}
    assert all(r.source == "torchvision" for r in cov.rows)
    assert "optax: not installed" in coverage.text(cov)
    assert not any(s.startswith("optax.") for s in coverage.stale(cov))  # nothing to say of its exclusions


# --- a name and its counterpart --------------------------------------------------------------
MADE_UP = ("made_up.losses.box_loss", "made_up.losses.other_loss", "made_up.losses.seq_loss",
           "made_up.losses.seq_loss_with_more", "made_up.losses.not_a_loss")


@pytest.fixture
def made_up(monkeypatch):
    """A framework of made-up names (a fixed list, like torchvision's), none of them covered."""
    monkeypatch.setitem(coverage.SOURCES, "made_up", coverage.Source(
        "Made-up", "made-up", None, "made_up.losses.", "five made-up names", lambda: list(MADE_UP)))
    return lambda: coverage.coverage(["made_up"])


def _add(monkeypatch, loss: str, *added: Native) -> None:
    """``added`` natives for the registered ``loss``, as if its natives module had them."""
    entry = natives.of(loss)
    monkeypatch.setitem(natives.NATIVES, loss, dataclasses.replace(entry, natives=entry.natives + added))


def test_a_registered_native_covers_its_name(monkeypatch, made_up):
    """A native registered for a name makes its row name the loss and say how it matches; the
    name is no longer missing."""
    assert made_up().missing == list(MADE_UP)
    name = "made_up.losses.box_loss"
    _add(monkeypatch, "huber", Native(name, unchecked="made_up cannot be imported here"),
         Native("made_up.losses.other_loss", exact=False, when={"delta": 1.0}, notes=("A made-up difference.",)))
    cov = made_up()
    rows = {r.name: r for r in cov.rows}
    assert rows[name] == coverage.Row(name, "made_up", "exact", "huber", (
        "exact; recorded, not called here: made_up cannot be imported here",))
    other = rows["made_up.losses.other_loss"]
    assert (other.status, other.loss, other.how, other.notes) == (
        "differs", "huber", ("differs even when `delta=1.0`",), ("A made-up difference.",))
    assert cov.missing == list(MADE_UP[2:])
    assert cov.counts() == {"exact": 1, "differs": 1, "excluded": 0, "missing": 3}
    text = coverage.text(cov)
    assert f"{name} → huber\n    exact; recorded, not called here" in text
    assert "made_up.losses.other_loss → huber\n    differs even when delta=1.0\n    • A made-up difference.\n" in text
    assert text.endswith("Missing (no registered native and no exclusion): made_up.losses.seq_loss,\n"
                         "made_up.losses.seq_loss_with_more, made_up.losses.not_a_loss\n")
    assert "| `made_up.losses.box_loss` | `huber` | exact; recorded" in coverage.markdown(cov)
    assert "| `made_up.losses.seq_loss` | **missing** | no registered native" in coverage.markdown(cov)


def test_an_exclusion_is_said_with_its_reason(monkeypatch, made_up):
    monkeypatch.setitem(coverage.EXCLUDED, "made_up.losses.not_a_loss", "transforms labels, not a loss")
    cov = made_up()
    row = next(r for r in cov.rows if r.name == "made_up.losses.not_a_loss")
    assert (row.status, row.loss, row.how) == ("excluded", "", ("transforms labels, not a loss",))
    assert "made_up.losses.not_a_loss" not in cov.missing and cov.counts()["excluded"] == 1
    assert "made_up.losses.not_a_loss → excluded\n    transforms labels, not a loss\n" in coverage.text(cov)


def test_same_loss_with_more_outputs_follows_that_names_natives(monkeypatch, made_up):
    monkeypatch.setitem(coverage.SAME, "made_up.losses.seq_loss_with_more",
                        ("made_up.losses.seq_loss", "also returns the alignment"))
    before = {r.name: r for r in made_up().rows}
    assert before["made_up.losses.seq_loss_with_more"].how == (
        "no registered native, nor `made_up.losses.seq_loss`, whose loss it is",)
    assert {"made_up.losses.seq_loss", "made_up.losses.seq_loss_with_more"} <= set(made_up().missing)
    _add(monkeypatch, "huber", Native("made_up.losses.seq_loss", exact=False, notes=("Made up.",)))
    rows = {r.name: r for r in made_up().rows}
    assert rows["made_up.losses.seq_loss_with_more"] == dataclasses.replace(
        rows["made_up.losses.seq_loss"], name="made_up.losses.seq_loss_with_more",
        how=("as `made_up.losses.seq_loss`, which is its loss (it also returns the alignment): differs",))
    _add(monkeypatch, "mean_squared_error", Native("made_up.losses.seq_loss_with_more"))  # its own native wins
    assert {r.name: r for r in made_up().rows}["made_up.losses.seq_loss_with_more"].loss == "mean_squared_error"


def test_an_exclusion_that_is_covered_or_gone_is_stale(monkeypatch, made_up):
    monkeypatch.setitem(coverage.EXCLUDED, "made_up.losses.box_loss", "a reason of five words")
    monkeypatch.setitem(coverage.EXCLUDED, "made_up.losses.no_such_loss", "a reason of five words")
    monkeypatch.setitem(coverage.SAME, "made_up.losses.gone_with_more", ("made_up.losses.box_loss", "more"))
    monkeypatch.setitem(coverage.SAME, "made_up.losses.seq_loss_with_more", ("made_up.losses.gone", "more"))
    monkeypatch.setitem(coverage.EXCLUDED, "sklearn.metrics.log_loss", "a framework we do not enumerate")
    _add(monkeypatch, "huber", Native("made_up.losses.box_loss"))
    found = [s for s in coverage.stale(made_up()) if s.startswith(("made_up", "sklearn"))]
    assert found == ["made_up.losses.box_loss: excluded, but huber registers it",
                     "made_up.losses.no_such_loss: Made-up has no such loss",
                     "sklearn.metrics.log_loss: no framework of SOURCES has it",
                     "made_up.losses.gone_with_more: Made-up has no such loss",
                     "made_up.losses.seq_loss_with_more: Made-up has no made_up.losses.gone, whose loss it is"]


def test_a_name_covered_by_two_losses_gets_a_row_each_and_its_conventions(cov):
    rows = [r for r in cov.rows if r.name == "torch.nn.functional.cross_entropy"]
    if not rows:
        pytest.skip("torch is not installed")
    assert [r.loss for r in rows] == ["categorical_cross_entropy", "sparse_categorical_cross_entropy"]
    assert rows[1].how == ("exact when `from_logits=True, axis=1`; at its defaults `convention='torch'` ≡ "
                           "`ignore_index=-100, axis=1`",)


def test_scale_and_fixed_keywords_are_said(cov):
    rows = {r.name: r for r in cov.rows}
    if "optax.losses.l2_loss" not in rows:
        pytest.skip("optax is not installed")
    assert rows["optax.losses.l2_loss"].how == ("exact; returns 0.5 × ours",)
    assert rows["optax.losses.make_fenchel_young_loss"].status == "excluded"


def test_only_built_in_losses_count():
    assert all(spec.builtin for spec, _ in (pair for pairs in coverage._by_api().values() for pair in pairs))
    assert {spec.name for pairs in coverage._by_api().values() for spec, _ in pairs} <= set(REGISTRY)


# --- the table ---------------------------------------------------------------------------------
def test_the_cli_prints_the_table(cov, capsys):
    assert cli.main(["conventions", "--coverage"]) == 0
    out = capsys.readouterr().out
    assert out == coverage.text(cov)
    assert max(len(line) for line in out.splitlines()) <= 100
    assert all(f"{r.name} → " in out for r in cov.rows)
    for source in cov.versions:
        assert coverage.SOURCES[source].rule in out.replace("\n", " ")
    if "keras" in cov.versions and cov.versions["keras"]:
        assert "keras.losses.Huber → huber\n    exact; at its defaults convention='keras' ≡ our defaults\n" in out
        assert "keras.losses.Loss → excluded\n    the base class of Keras's losses" in out


def test_the_cli_prints_markdown_and_one_loss(cov, capsys):
    assert cli.main(["conventions", "--coverage", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out == coverage.markdown(cov)
    assert out.startswith("# Coverage: every loss the frameworks ship\n")
    for source in cov.versions:
        assert f"\n## {coverage._heading(cov, source)}\n" in out
    if cov.versions.get("torch"):
        assert "| `torch.nn.functional.mse_loss` | `mean_squared_error` | exact; at its defaults " in out
    assert cli.main(["conventions", "huber", "--coverage"]) == 0
    out = capsys.readouterr().out
    assert all(line.split(" → ")[1] == "huber" for line in out.splitlines() if " → " in line)
    assert cli.main(["conventions", "hubr", "--coverage"]) == 2
    assert "did you mean huber" in capsys.readouterr().err


def test_the_command_owns_its_output():
    """As a command: the table on stdout, nothing on stderr, no TensorFlow start-up logs although
    Keras is imported directly (not through a backend's adapter)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, "-m", "multiloss", "conventions", "--coverage"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert out.stdout.startswith("Every loss the installed frameworks ship, and its multiloss counterpart\n")
    for marker in ("oneDNN", "absl::InitializeLog", "cpu_feature_guard", "I0000", "W0000"):
        assert marker not in out.stdout
