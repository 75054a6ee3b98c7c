"""What the README promises is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands():
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command():
    test_command = next(c for c in readme_commands() if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_readme_quickstart_numbers_are_the_library_s():
    import numpy as np

    import multiloss as ml

    y_true, y_pred = np.array([1.0, 2.0, 3.0, 4.0, 100.0]), np.array([1.1, 2.1, 2.9, 4.2, 5.0])
    text = (ROOT / "README.md").read_text()
    for fn in (ml.mse, ml.mae, ml.huber):
        assert f"{float(fn(y_true, y_pred)):.7g}" in text


def test_readme_check_loss_snippet_prints_its_table(capsys):
    """The "Your own loss" snippet runs as written and prints the rows the README shows (those
    of the installed backends), the naive form failing with the ulps it states."""
    import numpy as np

    import multiloss as ml
    from multiloss.registry import REGISTRY

    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)
    code = next(b for lang, b in blocks if lang == "python" and "check_loss(" in b)
    shown = next(b for lang, b in blocks if not lang and "pseudo_huber " in b)
    namespace = {"ml": ml, "y_true": np.zeros(3), "y_pred": np.ones(3), "w": np.ones(3)}
    try:
        exec(code, namespace)
    finally:
        REGISTRY.pop("pseudo_huber", None)
    printed = capsys.readouterr().out.splitlines()
    assert namespace["report"].ok is False and len(namespace["report"].failures) == len(namespace["report"].rows)
    rows = [line for line in printed if line.endswith(("✓", "✗"))]
    assert rows and all(row.lstrip() in {r.lstrip() for r in shown.splitlines()} for row in rows[1:]), printed
    assert rows[0].split()[1:] in [r.split()[1:] for r in shown.splitlines() if r.startswith("pseudo_huber")]
    assert re.search(r"5463\.63 ulps", text) and "5463.63" in rows[0]


def test_the_commands_after_set_up_run_in_the_activated_environment():
    """Set-up creates .venv; every later command (`multiloss`, `python examples/...`) needs it
    active, and the README says so right after the set-up commands, before any of them."""
    commands = readme_commands()
    setup = [i for i, c in enumerate(commands) if c.startswith("python3 -m venv .venv")]
    activate = commands.index("source .venv/bin/activate")
    assert setup and activate == setup[-1] + 1
    later = commands[activate + 1:]
    assert any(c.startswith("multiloss") for c in later) and any(c.startswith("python examples/") for c in later)
