"""The examples run, and the numbers they print are right.

Each example runs in this process (``runpy``, as ``__main__``), so the frameworks are imported
once for all of them; one more runs as a real script in a subprocess with TensorFlow and
matplotlib hidden, to check that a missing framework is skipped with a message. Expected values
are computed here, in float64 NumPy from the examples' (float32) inputs, never read from their
output; a printed float32 result (7 significant digits) must match to RTOL.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
INSTALLED = [n for n in ("numpy", "torch", "tensorflow", "jax") if importlib.util.find_spec(n) is not None]
RTOL = 1e-5  # float32 arithmetic, printed to 7 significant digits
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def run(monkeypatch, capsys):
    """``run(name, *args)``: the example's stdout, run as ``__main__`` in this process."""
    monkeypatch.syspath_prepend(str(EXAMPLES))

    def run(name, *args):
        monkeypatch.setattr(sys, "argv", [name, *args])
        runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")
        return capsys.readouterr().out

    return run


def module(name):
    """The example's functions and constants, without running it."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return runpy.run_path(str(EXAMPLES / f"{name}.py"))
    finally:
        sys.path.remove(str(EXAMPLES))


def tables(out):
    """Each blank-line-separated block's table rows, {first cell: [other cells]}: cells are
    separated by two or more spaces."""
    return [{cells[0]: cells[1:] for line in block.splitlines() if len(cells := re.split(r"\s{2,}", line.strip())) > 1}
            for block in out.split("\n\n")]


def framework_rows(table):
    assert list(table) == ["framework", *INSTALLED]
    return {name: [float(c) for c in table[name]] for name in INSTALLED}


def f32(a):
    """float32-rounded inputs, as the examples pass them to every framework, back in float64."""
    return np.asarray(a, np.float32).astype(np.float64)


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000, path


def test_01_regression_outlier(run):
    out = run("01_regression_outlier")
    t, p = f32([1, 2, 3, 4, 100]), f32([1.1, 2.1, 2.9, 4.2, 5.0])
    e = np.abs(p - t)
    want = [np.mean(e**2), np.mean(e), np.mean(np.where(e <= 1, 0.5 * e**2, e - 0.5))]
    np.testing.assert_allclose(want, [1805.014, 19.1, 18.907], rtol=1e-6)  # by hand: 9025.07/5, 95.5/5, 94.535/5
    table = next(t for t in tables(out) if "framework" in t)
    for name, values in framework_rows(table).items():
        np.testing.assert_allclose(values, want, rtol=RTOL, err_msg=name)
    assert "99.999%" in out  # 9025 of the 9025.07 summed squared error


def test_02_bce_curve(run, tmp_path):
    out = run("02_bce_curve", "--out", str(tmp_path))
    table = next(t for t in tables(out) if "p" in t)
    tiny32 = 2.0**-126
    rows = {float(label): [float(c) for c in cells] for label, cells in table.items() if label != "p"}
    assert sorted(rows) == [0, 1e-40, 1e-30, 1e-7, 1e-3, 0.1, 0.5, 0.9, 0.999, 1]
    header = table["p"]
    for p, values in rows.items():
        p32 = float(np.float32(p))
        want = {"ml": -np.log(max(p32, tiny32)),  # multiloss: log at max(p, float32's smallest normal)
                "torch F.bce": min(-np.log(p32) if p32 else np.inf, 100.0),  # log clamped at −100
                "keras bce": -np.log(np.clip(np.float32(p32), np.float32(1e-7), np.float32(1) - np.float32(1e-7)))}
        for column, value in zip(header, values):
            np.testing.assert_allclose(value, want[column.split()[0] if column.startswith("ml ") else column],
                                       rtol=RTOL, atol=1e-12, err_msg=f"{column} at p={p}")
    assert {f"ml {name}" for name in INSTALLED} <= set(header)
    assert rows[0][0] == pytest.approx(126 * np.log(2), rel=RTOL)  # 87.34
    assert f"{-np.log(np.finfo(np.float64).smallest_normal):.2f} in float64" in out  # 708.40
    assert_png(tmp_path / "bce_curve.png")


def test_03_bce_example(run):
    out = run("03_bce_example")
    y, p = f32([1, 0, 1, 1]), f32([0.9, 0.1, 0.8, 0.4])
    per_sample = -np.log(np.where(y == 1, p, 1 - p))
    want = [per_sample.mean(), *per_sample]
    assert want[0] == pytest.approx(0.33754, abs=5e-6)  # −(2 ln 0.9 + ln 0.8 + ln 0.4)/4
    table = next(t for t in tables(out) if "framework" in t)
    for name, values in framework_rows(table).items():
        np.testing.assert_allclose(values, want, rtol=RTOL, err_msg=name)
    natives = dict(re.findall(r"^((?:torch|keras)\S*(?: \S+)?) {2,}(\S+)$", out, flags=re.MULTILINE))
    assert len(natives) == sum(importlib.util.find_spec(n) is not None for n in ("torch", "keras"))
    for name, value in natives.items():
        assert float(value) == pytest.approx(want[0], rel=RTOL), name


def test_04_focal_imbalance(run):
    out = run("04_focal_imbalance")
    labels, logits = module("04_focal_imbalance")["batch"]()
    y, x = labels, f32(logits)
    assert y.size == 1000 and y.sum() == 50
    p = 1 / (1 + np.exp(-x))
    bce = np.where(y == 1, np.logaddexp(0, -x), np.logaddexp(0, x))
    p_t, alpha_t = np.where(y == 1, p, 1 - p), np.where(y == 1, 0.25, 0.75)
    focal = alpha_t * (1 - p_t) ** 2 * bce
    pos = y == 1
    main, by_group = (t for t in tables(out) if "framework" in t or "group" in t)
    for name in INSTALLED:
        b, f, share_b, share_f = main[name]
        np.testing.assert_allclose([float(b), float(f)], [bce.mean(), focal.mean()], rtol=RTOL, err_msg=name)
        assert float(share_b[:-1]) == pytest.approx(100 * bce[pos].sum() / bce.sum(), abs=0.051)
        assert float(share_f[:-1]) == pytest.approx(100 * focal[pos].sum() / focal.sum(), abs=0.051)
    masks = {"positives": pos, "hard negatives (p ≥ 0.5)": ~pos & (p >= 0.5),
             "medium negatives": ~pos & (p >= 0.1) & (p < 0.5), "easy negatives (p < 0.1)": ~pos & (p < 0.1)}
    assert set(masks) == set(by_group) - {"group"}
    for group, m in masks.items():
        count, share_b, share_f, ratio = by_group[group]
        assert int(count) == m.sum()
        assert float(share_b[:-1]) == pytest.approx(100 * bce[m].sum() / bce.sum(), abs=0.051), group
        assert float(share_f[:-1]) == pytest.approx(100 * focal[m].sum() / focal.sum(), abs=0.051), group
        assert float(ratio[:-1]) == pytest.approx(bce[m].sum() / focal[m].sum(), abs=0.51), group
    # The point of the example: focal shrinks the easy negatives' loss at least (1/0.75)/0.1² = 133×.
    easy = masks["easy negatives (p < 0.1)"]
    assert (bce[easy] / focal[easy]).min() > 133


def test_05_multitask_composite(run):
    out = run("05_multitask_composite")
    make_batch = module("05_multitask_composite")["batch"]
    blocks = [t for t in tables(out) if "framework" in t]
    assert len(blocks) == 2
    for table, data in zip(blocks, (make_batch(), make_batch(positives=False))):
        y, x = data["label"], f32(data["logit"])
        cls = np.mean(2.0 * y * np.logaddexp(0, -x) + (1 - y) * np.logaddexp(0, x))
        sq = (f32(data["severity"]) - f32(data["severity_pred"])) ** 2
        reg = np.sum(y * sq) / y.sum() if y.any() else 0.0  # MSE over the positives only
        for name, values in framework_rows(table).items():
            np.testing.assert_allclose(values, [cls + 0.5 * reg, cls, reg], rtol=RTOL, err_msg=name)
            if not y.any():
                assert values[2] == 0.0


def test_06_training_outliers(run, tmp_path):
    out = run("06_training_outliers", "--out", str(tmp_path))
    x, y = (a.astype(np.float64) for a in module("06_training_outliers")["data"]())
    slope, intercept = np.polyfit(x, y, 1)  # least squares: where MSE's gradient descent ends
    # Least absolute deviations: some optimal line passes through two of the points.
    i, j = np.triu_indices(x.size, 1)
    slopes = (y[j] - y[i]) / (x[j] - x[i])
    lines = np.stack([slopes, y[i] - slopes * x[i]], 1)
    maes = np.abs(lines[:, :1] * x + lines[:, 1:] - y).mean(1)
    lad_slope, lad_intercept = lines[maes.argmin()]
    mse_fit, mae_fit = (framework_rows(t) for t in tables(out) if "framework" in t)
    for name in INSTALLED:
        w, b, first, last = mse_fit[name]
        np.testing.assert_allclose([w, b], [slope, intercept], atol=1e-5, err_msg=name)
        np.testing.assert_allclose([first, last], [np.mean(y**2), np.mean((slope * x + intercept - y) ** 2)],
                                   rtol=RTOL, err_msg=name)
        w, b, first, last = mae_fit[name]
        assert first == pytest.approx(np.mean(np.abs(y)), rel=RTOL)
        # SGD with a fixed step: near the optimum
        assert maes.min() * (1 - RTOL) <= last <= maes.min() * (1 + 1e-4), name
        np.testing.assert_allclose([w, b], [lad_slope, lad_intercept], atol=2e-3, err_msg=name)
        # MAE resists the outliers: its line is far closer to the true y = 2x + 1.
        assert abs(w - 2) + abs(b - 1) < 0.2 < abs(mse_fit[name][0] - 2)
    assert_png(tmp_path / "training_outliers.png")


def _box_losses(t, p, eps=1e-7):
    """(1 − IoU, GIoU, DIoU, CIoU) of boxes t (target) and p (prediction), from their definitions."""
    inter = max(min(t[2], p[2]) - max(t[0], p[0]), 0) * max(min(t[3], p[3]) - max(t[1], p[1]), 0)
    union = (t[2] - t[0]) * (t[3] - t[1]) + (p[2] - p[0]) * (p[3] - p[1]) - inter
    iou = inter / (union + eps)
    cw, ch = max(t[2], p[2]) - min(t[0], p[0]), max(t[3], p[3]) - min(t[1], p[1])
    giou = 1 - iou + (cw * ch - union) / (cw * ch + eps)
    rho2 = ((p[0] + p[2] - t[0] - t[2]) / 2) ** 2 + ((p[1] + p[3] - t[1] - t[3]) / 2) ** 2
    diou = 1 - iou + rho2 / (cw**2 + ch**2 + eps)
    v = 4 / np.pi**2 * (np.arctan((t[2] - t[0]) / (t[3] - t[1])) - np.arctan((p[2] - p[0]) / (p[3] - p[1]))) ** 2
    return 1 - inter / union, giou, diou, diou + v / (1 - iou + v + eps) * v


def test_08_box_iou(run, tmp_path):
    out = run("08_box_iou", "--out", str(tmp_path))
    t, p = f32([1, 1, 4, 3]), f32([2, 1.5, 4.5, 4.5])
    # I = 2 × 1.5 = 3, U = 6 + 7.5 − 3 = 10.5, C = 3.5 × 3.5: GIoU = 1 − 3/10.5 + 1.75/12.25 = 6/7
    assert _box_losses(t, p)[1] == pytest.approx(6 / 7, rel=1e-6)
    table = next(x for x in tables(out) if "framework" in x)
    for name, values in framework_rows(table).items():
        np.testing.assert_allclose(values, _box_losses(t, p)[1:], rtol=RTOL, err_msg=name)
    sliding = next(x for x in tables(out) if "x" in x)
    assert sliding["x"] == ["1 − IoU", "GIoU", "DIoU", "CIoU"]
    for x in (0, 1, 2.5, 4, 8):
        want = _box_losses(t, p + f32([x, 0, x, 0]))
        np.testing.assert_allclose([float(c) for c in sliding[f"{x:g}"]], want, rtol=RTOL, err_msg=f"x = {x}")
        assert (want[0] == 1) == (x > 2)  # disjoint from x = 2 on: 1 − IoU stays 1, the others grow
    assert_png(tmp_path / "box_iou.png")

def test_07_ctc_alignment(run):
    out = run("07_ctc_alignment")
    words, frames = ("ab", "aa", "aab", "aaa"), 4

    def collapse(path):  # merge repeats, drop blanks ("_")
        return "".join(c for i, c in enumerate(path) if (i == 0 or c != path[i - 1]) and c != "_")

    counts = {w: sum(collapse(p) == w for p in itertools.product("_ab", repeat=frames)) for w in words}
    # by hand: "aa" is a_a with one more frame, a blank (_a_a, a__a, a_a_) or an a (a_aa, aa_a); "aab" only a_ab
    assert counts == {"ab": 15, "aa": 5, "aab": 1, "aaa": 0}
    want = [-np.log(counts[w] / 81) if counts[w] else np.inf for w in words]
    dropped = np.mean([0.0 if np.isinf(v) else v for v in want])
    counted, per_framework = (t for t in tables(out) if "labels" in t or "framework" in t)
    for w in words:
        assert int(counted[w][0]) == counts[w]
    for name, values in framework_rows(per_framework).items():
        np.testing.assert_allclose(values, [*want, dropped], rtol=RTOL, err_msg=name)
    assert "the alignments of 'aa': _a_a, a__a, a_a_, a_aa, aa_a" in out


def test_missing_framework_and_matplotlib_are_skipped_with_a_message(tmp_path):
    """As a script, in a fresh process where `import tensorflow` and `import matplotlib` fail."""
    for hidden in ("tensorflow", "matplotlib"):
        (tmp_path / "hide" / hidden).mkdir(parents=True)
        (tmp_path / "hide" / hidden / "__init__.py").write_text(f"raise ImportError('{hidden} hidden by the test')")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "hide")}
    result = subprocess.run([sys.executable, str(EXAMPLES / "02_bce_curve.py"), "--out", str(tmp_path / "out")],
                            check=False, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "tensorflow: not installed, skipped (tensorflow hidden by the test)" in result.stdout
    assert "matplotlib is not installed" in result.stdout
    assert "ml tensorflow" not in result.stdout and "ml numpy" in result.stdout
    assert not (tmp_path / "out").exists()
