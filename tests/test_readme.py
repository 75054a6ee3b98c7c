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
