"""`multiloss plot`: the images, the printed comparison, the curves' data against independent
formulas, and the usage errors (exit status 2)."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys

import numpy as np
import pytest

from conftest import load_backend
from multiloss import cli, plot
from multiloss.registry import REGISTRY
from multiloss.testing.numerics import EPS
from multiloss.testing.plugin import selected

needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="drawing needs matplotlib (multiloss[plot])")

AUTODIFF = ["torch", "jax", "tensorflow"]


def _installed(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _run(capsys, *argv):
    rc = cli.main(["plot", *argv, "-q"])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _check_png(path):
    from matplotlib.image import imread

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert 10_000 < len(data) < 150_000
    assert imread(path).shape[:2] == (640, 680)  # 8.5 × 8 inches at 80 dpi


SELECTED = selected()


def _backends():
    return ",".join(SELECTED)


@needs_matplotlib
def test_bce_image_backends_coincide_and_differing_natives_are_named(tmp_path, capsys):
    out = tmp_path / "bce.png"
    rc, text, err = _run(capsys, "binary_cross_entropy", "--out", str(out), "--backends", _backends())
    assert rc == 0, err
    _check_png(out)
    assert f"wrote {out}" in text
    assert "backends agree" in text
    for name in SELECTED:
        if _installed(name):
            assert any(line.split()[:1] == [name] and line.endswith("✓") for line in text.splitlines()), text
    natives = [line for line in text.splitlines() if line.startswith("  native")]
    differs = "differs; largest gaps (ours vs theirs): loss 110.5 vs"
    if "torch" in SELECTED and _installed("torch"):  # each log clamped at −100
        assert f"torch.nn.functional.binary_cross_entropy: {differs} 100 at p = 1e-48, y_true = 1" in text
    if "tensorflow" in SELECTED and _installed("keras"):  # p clipped to [1e-7, 1 − 1e-7]
        assert f"keras.losses.BinaryCrossentropy: {differs} 16.12 at p = 1e-48, y_true = 1" in text
    assert "  native optax  optax.losses.sigmoid_binary_cross_entropy: not drawn, applies only with " \
           "from_logits=True" in natives


@needs_matplotlib
def test_huber_image_with_a_parameter(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, text, err = _run(capsys, "huber", "--param", "delta=2.0", "--backends", _backends())
    assert rc == 0, err
    _check_png(tmp_path / "huber.png")  # the default --out
    assert "backends agree" in text
    if "torch" in SELECTED and _installed("torch"):
        assert "torch.nn.functional.huber_loss: coincides" in text


@pytest.mark.parametrize("name", AUTODIFF)
def test_bce_curves_are_minus_log_p_and_minus_one_over_p(name):
    backend = load_backend(name)
    c = plot.curves("binary_cross_entropy", backends=[backend], natives=False)
    p = c.x
    assert p[0] < 1e-47 and 1 - p[-1] < 1e-15 and c.sweep.scale == "logit"
    ones, zeros = (next(cv for cv in c.ours if cv.case == f"y_true = {y}") for y in (1, 0))
    expected = {
        "y=1 value": (ones.value, [-math.log(v) for v in p]),
        "y=1 gradient": (ones.grad, -1 / p),
        "y=0 value": (zeros.value, [-math.log1p(-v) for v in p]),
        "y=0 gradient": (zeros.grad, 1 / (1 - p)),
    }
    for what, (got, want) in expected.items():
        np.testing.assert_allclose(got, want, rtol=8 * EPS["float64"], atol=0, err_msg=what)


def test_huber_curve_has_its_kinks_at_delta():
    jax = load_backend("jax")
    c = plot.curves("huber", {"delta": 2.0}, backends=[jax], natives=False)
    e = c.x
    assert {-2.0, 0.0, 2.0} <= set(e) and set(c.sweep.marks) == {-2.0, 0.0, 2.0}
    assert e[0] == -4.0 and e[-1] == 4.0  # R = max(3, 2δ)
    (cv,) = c.ours
    a = np.abs(e)
    np.testing.assert_allclose(cv.value, np.where(a <= 2, 0.5 * e * e, 2 * (a - 1)), rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(cv.grad, np.clip(e, -2.0, 2.0))


def test_regression_sweep_keeps_the_points_the_loss_accepts():
    c = plot.curves("mean_squared_log_error", natives=False)  # y_true = 1: y_pred = 1 + e > −1
    assert c.x[0] > -2 and c.x[-1] == 3.0
    np.testing.assert_allclose(c.ours[0].value, (np.log1p(1 + c.x) - math.log(2)) ** 2, rtol=1e-13)


def test_every_loss_gets_a_sweep_or_a_clear_error():
    for spec in REGISTRY.values():
        try:
            c = plot.curves(spec.name, natives=False)
        except ValueError as exc:
            assert spec.kind == "batch", exc
            assert "batch-level" in str(exc) and "plot supports regression, classification" in str(exc)
            continue
        assert len(c.x) > 100 and all(np.isfinite(cv.value).mean() > 0.99 for cv in c.ours), spec.name


@needs_matplotlib
def test_a_backend_disagreement_exits_1(capsys, monkeypatch, tmp_path):
    jax = load_backend("jax")
    c = plot.curves("huber", backends=[load_backend("numpy"), jax], natives=False)
    bad = dataclasses.replace(c.ours[1], value=c.ours[1].value * (1 + 1e-12))
    c.ours[1] = bad
    report = plot.compare(c)
    assert not report.agree and "✗ DISAGREES" in report.lines[1]
    monkeypatch.setattr(plot, "curves", lambda *a, **k: c)
    rc, text, _ = _run(capsys, "huber", "--backends", "numpy,jax", "--out", str(tmp_path / "h.png"))
    assert rc == 1 and "backends DISAGREE" in text


def test_missing_matplotlib_says_how_to_install(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    rc, _, err = _run(capsys, "huber")
    assert rc == 2
    assert "matplotlib is not installed" in err and "pip install 'multiloss[plot]'" in err
    assert not list(tmp_path.iterdir())


@needs_matplotlib  # the command checks for matplotlib first
@pytest.mark.parametrize("argv, message", [
    (["hubr"], "unknown loss 'hubr'; did you mean huber"),
    (["binary_crossentropy"], "did you mean binary_cross_entropy"),
    (["huber", "--param", "delt=2"],
     "--param 'delt=2': huber has no parameter 'delt' (NAME=VALUE; its parameters: delta)"),
    (["huber", "--param", "delta=-1"], "`delta` must be a finite number > 0; got -1"),
    (["nt_xent"], "cannot plot nt_xent: a batch-level loss"),
    (["huber", "--backends", "numpy,foo"], "--backends names unknown backends ['foo']"),
    (["binary_cross_entropy", "--range", "0", "0.5"], "--range 0 0.5: a probability range must lie inside (0, 1)"),
])
def test_usage_errors_exit_2_naming_the_argument(capsys, argv, message):
    rc, _, err = _run(capsys, *argv)
    assert rc == 2 and message in err, err


@needs_matplotlib
@pytest.mark.parametrize("argv, expected", [
    ((), "huber(delta=1.0)"),  # the defaults, shown
    (("--param", "delta=2.0"), "huber(delta=2.0)"),
])
def test_the_title_names_every_parameter_used(tmp_path, capsys, monkeypatch, argv, expected):
    import matplotlib.axes

    titles = []
    original = matplotlib.axes.Axes.set_title
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title",
                        lambda self, label, *a, **k: titles.append(label) or original(self, label, *a, **k))
    rc, _, err = _run(capsys, "huber", *argv, "--backends", "numpy", "--out", str(tmp_path / "h.png"))
    assert rc == 0, err
    assert [t.split("  ·  ")[0] for t in titles] == [expected]
