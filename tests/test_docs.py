"""The documentation site: a page per registered loss, and every figure a page shows exists.

The pages come from ``docs/_ext/lossdocs.py`` (the Sphinx extension that writes them at build
time), called here without Sphinx and without drawing: each figure is checked against
:func:`multiloss.plot.sweep_for`, the slice ``multiloss plot`` draws.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

from multiloss import plot
from multiloss.registry import REGISTRY

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))
lossdocs = importlib.import_module("lossdocs")  # Sphinx is imported only by its setup()


def _figure_or_reason(spec, folder: Path):
    """What ``lossdocs.figure`` hands ``page``, with the drawing replaced by an empty file."""
    try:
        plot.sweep_for(spec, spec.params)
    except ValueError as exc:
        return str(exc)
    (folder / f"{spec.name}.png").write_bytes(b"")
    return f"figures/{spec.name}.png", ["  numpy  reference"]


def test_every_registered_loss_has_a_page_and_its_figures_exist(tmp_path):
    (tmp_path / "figures").mkdir()
    builtins = [spec for spec in REGISTRY.values() if spec.builtin]
    assert [s.name for s in lossdocs.builtins()] == [s.name for s in builtins] and len(builtins) >= 27
    index = lossdocs.index(builtins)
    without = []
    for spec in builtins:
        text = lossdocs.page(spec, _figure_or_reason(spec, tmp_path / "figures"))
        assert f"({spec.name}.md)" in index and f"\n{spec.name}\n" in index  # linked and in the toctree
        assert text.startswith(f"(loss-{spec.name})=\n# {spec.name}\n")
        assert f".. autofunction:: multiloss.{spec.name}" in text
        assert all(f"`{name}`" in text for name in (*spec.inputs, *spec.params))
        assert lossdocs.teaching.table(spec) in text
        figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
        for figure in figures:
            assert (tmp_path / figure).is_file(), f"{spec.name}'s page shows {figure}, which does not exist"
        if not figures:
            without.append(spec.name)
            assert "No figure: " in text
    assert without and all(REGISTRY[name].kind == "batch" for name in without)  # batch-level: no 1-D slice to plot


def test_domain_comes_from_the_checks():
    found = lossdocs.domain(REGISTRY["binary_cross_entropy"])
    assert found[0] == ({}, [("y_true", "in [0, 1]"),
                             ("y_pred", "a probability in [0, 1] (pass from_logits=True for logits)")])
    assert found[1] == ({"from_logits": True}, [("y_true", "in [0, 1]")])
    sparse = lossdocs.domain(REGISTRY["sparse_categorical_cross_entropy"])
    assert sparse[0][1][0] == ("y_true", "class labels in [0, C)")
    assert lossdocs.domain(REGISTRY["huber"]) == [({}, [])]


def test_write_updates_only_what_changed(tmp_path):
    path = tmp_path / "page.md"
    lossdocs._update(path, "one")
    stamp = path.stat().st_mtime_ns
    lossdocs._update(path, "one")
    assert path.stat().st_mtime_ns == stamp and path.read_text() == "one"
    lossdocs._update(path, "two")
    assert path.read_text() == "two"


def test_the_coverage_page_is_the_commands_table_with_each_loss_linked(monkeypatch):
    """docs/losses/coverage.md: what `multiloss conventions --coverage --markdown` prints, each
    loss linked to its page, in the losses' index and toctree."""
    from multiloss import coverage

    cov = coverage.Coverage([coverage.Row("made_up.losses.huber_loss", "made_up", "exact", "huber", ("exact",)),
                             coverage.Row("made_up.losses.nothing", "made_up", "missing", how=("none",))],
                            {"made_up": ""})
    monkeypatch.setitem(coverage.SOURCES, "made_up", coverage.Source(
        "Made-up", "made-up", None, "made_up.losses.", "two made-up names", lambda: []))
    page = lossdocs.coverage_page(cov)
    assert page == coverage.markdown(cov, link=lambda name: f"{name}.md")
    assert "| `made_up.losses.huber_loss` | [huber](huber.md) | exact |" in page
    assert "| `made_up.losses.nothing` | **missing** | none |" in page
    index = lossdocs.index([REGISTRY["huber"]])
    assert "[Coverage](coverage.md)" in index and "\n:hidden:\n\ncoverage\nhuber\n```" in index
