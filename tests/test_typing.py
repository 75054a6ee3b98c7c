"""The types a user's editor and type checker see: the stubs of the losses are current and true
to the runtime signatures, and tests/typecheck type-checks under mypy --strict (pyright too where
installed), its right calls running and its wrong calls refused at run time as well."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import multiloss
from multiloss import _stubs

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(multiloss.__file__).parent  # the repository's, or an installed copy (tox)
STUBS = _stubs.stubs()
needs_mypy = pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                                reason="mypy is not installed (pip install -e '.[typing]')")


def _run(*command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_stubs_are_current():
    assert set(PACKAGE.rglob("*.pyi")) == {PACKAGE / "_typing.pyi", *STUBS}
    stale = [str(p.relative_to(PACKAGE)) for p, text in STUBS.items() if p.read_text(encoding="utf-8") != text]
    assert not stale, f"stale stubs {stale}; regenerate them from the repository root: {_stubs.REGENERATE}"


def test_stub_types_follow_the_conditions():
    text = STUBS[PACKAGE / "losses" / "embedding.pyi"]
    assert ('    distance: Literal["euclidean", "cosine"] | Callable[[Array, Array], Array] = "euclidean",\n'
            '    eps_at: Literal["difference", "sum"] = "difference",\n') in text
    assert "from collections.abc import Callable\nfrom typing import Final, Literal\n" in text
    text = STUBS[PACKAGE / "losses" / "classification.pyi"]
    assert "    pos_weight: float | ArrayLike | None = None,\n" in text
    assert "    ignore_index: int | None = None,\n" in text
    assert "    from_logits: bool = False,\n" in text


@needs_mypy
def test_stubs_match_the_runtime_signatures():
    """mypy's stubtest: every stub's names, parameters, kinds and defaults against the imported
    modules (independently of the generator)."""
    modules = [".".join(("multiloss", *p.relative_to(PACKAGE).with_suffix("").parts)) for p in STUBS
               if p.stem != "__init__"]
    result = _run(sys.executable, "-m", "mypy.stubtest", *modules)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_mypy
def test_usage_type_checks_under_mypy():
    """With the config in pyproject.toml: --strict (so an ignore that is not needed, a mistake
    not reported, is an error) on tests/typecheck."""
    result = _run(sys.executable, "-m", "mypy")
    assert result.stdout.strip() == "Success: no issues found in 3 source files", result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("pyright") is None, reason="pyright is not on PATH (npm install pyright)")
def test_usage_type_checks_under_pyright():
    result = _run("pyright")
    assert result.returncode == 0 and "0 errors" in result.stdout, result.stdout + result.stderr


def test_usage_runs_and_its_misuses_are_refused():
    from tests.typecheck import usage

    assert len(usage.values) == 14 and usage.name == "numpy"
    for misuse in usage.MISUSES:
        with pytest.raises((TypeError, ValueError)):
            misuse()
