"""``multiloss compare``: the table across backends and natives, and ``--against`` a user's own loss.

The command runs in-process (``multiloss.cli.main``); each framework is imported once.
The hand-written natives live in tests/user_losses.py (PyTorch, NumPy) and
tests/user_losses_jax.py.
"""

from __future__ import annotations

import importlib.util
import math
import re

import numpy as np
import pytest

import multiloss as ml
from multiloss import _case, cli, domains
from multiloss.backends import BACKENDS
from multiloss.registry import REGISTRY

INSTALLED = [n for n, module, _ in BACKENDS if importlib.util.find_spec(module) is not None]
FOCAL = ["binary_focal", "--param", "from_logits=True", "--order", "y_pred,y_true"]


def run(capsys, *argv):
    """(exit status, stdout, stderr) of ``multiloss compare ARGV``."""
    status = cli.main(["compare", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def row(out, label):
    """The table row that starts with ``label``."""
    found = [line for line in out.splitlines() if line.startswith(label)]
    assert found, f"no row {label!r} in\n{out}"
    return found[0]


def dtype_row(out, dtype):
    return row(out, f"{dtype} ")


def has(module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


# --- the table ------------------------------------------------------------------------------
def test_huber_agrees_everywhere(capsys):
    status, out, err = run(capsys, "huber")
    assert status == 0, out
    assert "importing numpy ..." in err  # progress while the frameworks import
    for name in INSTALLED:
        assert row(out, f"ours · {name}").endswith("✓")
    natives = {"torch": "torch.nn.functional.huber_loss", "keras": "keras.losses.Huber",
               "optax": "optax.losses.huber_loss"}
    for module, api in natives.items():
        if importlib.util.find_spec(module) is not None:
            assert row(out, f"{api} · defaults = mapped").endswith("✓")
    for framework in REGISTRY["huber"].frameworks:  # ours under each installed convention equals the native
        if importlib.util.find_spec(framework) is not None:
            assert row(out, f"ours convention={framework!r} ↔ ").endswith("✓")
    assert out.rstrip().endswith("all agree")


def test_binary_cross_entropy_explains_keras_clipping(capsys):
    has("torch")
    has("keras")
    status, out, _ = run(capsys, "binary_cross_entropy", "-q")
    assert status == 0, out
    assert "y_pred = 0, 1, 2⁻²⁴ and 1 − 2⁻¹¹" in out  # the edge cases are in the inputs
    assert row(out, "ours · torch").endswith("✓")
    assert row(out, "torch.nn.functional.binary_cross_entropy · defaults = mapped").endswith("✓")
    assert row(out, "keras.losses.BinaryCrossentropy · defaults = mapped").endswith("✗ known difference")
    assert "keras.losses.BinaryCrossentropy: Keras clips probabilities to [1e-7, 1 − 1e-7]" in out
    assert "2 of 48 items have no finite reference" in out
    assert re.search(r"torch\.nn\.functional\.binary_cross_entropy_with_logits: it is binary_cross_entropy with "
                     r"from_logits=True", out)


@pytest.fixture
def skewed():
    """A loss whose torch backend is 0.1 % off: the backends disagree."""

    def reference(y_true, y_pred, *, m):
        return (y_pred - y_true) ** 2

    @ml.loss(domain=domains.real_pairs(), reference=reference)
    def skewed_mse(y_true, y_pred, *, xp):
        d = y_pred - y_true
        return d * d * (1.001 if xp.backend == "torch" else 1.0)

    yield skewed_mse
    del REGISTRY["skewed_mse"]


def test_disagreeing_backends_fail(capsys, skewed):
    has("torch")
    status, out, _ = run(capsys, "skewed_mse", "--backends", "numpy,torch", "-q")
    assert status == 1
    assert row(out, "ours · numpy").endswith("✓")
    assert row(out, "ours · torch").endswith("✗")
    assert out.rstrip().endswith("1 disagreement(s)")


@pytest.fixture
def my_huber():
    """Huber with two registered natives and no notes: torch's huber_loss (defaults delta=1.0)
    and, wrongly, torch's l1_loss."""
    from multiloss import natives

    def reference(y_true, y_pred, *, delta, m):
        a = abs(y_pred - y_true)
        return a * a / 2 if a <= delta else delta * (a - delta / 2)

    @ml.loss(domain=domains.real_pairs("delta"), reference=reference)
    def my_huber(y_true, y_pred, *, delta=1.0, xp):
        return xp.huber_difference(y_pred, y_true, delta)

    natives.register(my_huber, natives.unreduced("torch.nn.functional.huber_loss", {"delta": "delta"}),
                     natives.unreduced("torch.nn.functional.l1_loss"))
    yield my_huber
    del REGISTRY["my_huber"], natives.NATIVES["my_huber"]


def test_native_differences_explained_or_failing(capsys, my_huber):
    has("torch")
    status, out, _ = run(capsys, "my_huber", "--param", "delta=2", "--backends", "numpy,torch", "-q")
    assert row(out, "torch.nn.functional.huber_loss · defaults").endswith("✗ known difference")
    assert "torch.nn.functional.huber_loss: At its defaults it has delta=1.0 (compared here: delta=2)." in out
    assert row(out, "torch.nn.functional.huber_loss · mapped").endswith("✓")
    assert row(out, "torch.nn.functional.l1_loss · defaults = mapped").endswith("✗ undocumented")
    assert ("Undocumented: torch.nn.functional.l1_loss · defaults = mapped differs from the reference and its "
            "natives entry gives no reason") in out
    assert status == 1


def test_inputs_from_npz(capsys, tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, y_true=[0.0, 1.0, 2.0, 100.0], y_pred=[0.5, 1.0, -1.0, 0.0])
    status, out, _ = run(capsys, "huber", "--inputs", str(good), "--backends", "numpy", "-q")
    assert status == 0, out
    assert f"inputs: 4 items from {good}" in out
    assert row(out, "reference (mpmath)").split()[2] == "25.53125"  # huber of errors 0.5, 0, −3, −100

    bad = tmp_path / "bad.npz"
    np.savez(bad, y_true=[0.0], target=[1.0])
    status, _, err = run(capsys, "huber", "--inputs", str(bad), "--backends", "numpy", "-q")
    assert status == 2
    assert f"--inputs {bad}: huber takes arrays y_true, y_pred; missing y_pred; unexpected target" in err

    status, _, err = run(capsys, "huber", "--inputs", str(tmp_path / "none.npz"), "--backends", "numpy", "-q")
    assert status == 2 and "not a readable .npz file" in err
    np.savez(bad, y_true=[0.0, 1.0], y_pred=[[0.0, 1.0]])
    status, _, err = run(capsys, "huber", "--inputs", str(bad), "--backends", "numpy", "-q")
    assert status == 2 and "(2,)" in err and "(1, 2)" in err  # our shape check, with both shapes


@pytest.mark.parametrize("argv, message", [
    (["hubr"], "unknown loss 'hubr'; did you mean huber"),
    (["huber", "--param", "delt=2"],
     "--param 'delt=2': huber has no parameter 'delt' (NAME=VALUE; its parameters: delta)"),
    (["huber", "--param", "delta=-1"], "--param 'delta=-1': `delta` must be"),
    (["huber", "--backends", "numpy,mxnet"], "--backends names unknown backends ['mxnet']"),
    (["binary_focal", "--against", "tests.user_losses:focal_loss"],
     ("focal_loss's arguments (logits, targets, alpha, gamma) are not named as binary_focal's inputs (y_true, y_pred); "
      "pass --order")),
    (["binary_focal", "--against", "tests.user_losses:no_such_loss"],
     "tests.user_losses has no attribute 'no_such_loss'"),
    (["binary_focal", "--against", "focal_loss"], "expected MODULE:FUNCTION"),
    (["binary_focal", "--against", "tests.user_losses:focal_loss", "--order", "y_pred,y_pred"],
     "--order y_pred,y_pred: expected each of binary_focal's inputs y_true, y_pred once"),
])
def test_usage_errors(capsys, argv, message):
    if "--against" in argv:
        has("torch")
    status, out, err = run(capsys, *argv, "-q")
    assert status == 2, out
    assert message in err


def test_without_mpmath_the_reference_is_numpy_float64(capsys, monkeypatch):
    monkeypatch.setattr(_case, "math_module", lambda: math)  # where compare and --against take it from
    status, out, _ = run(capsys, "huber", "--backends", "numpy", "-q")
    assert status == 0, out
    assert "reference: the float64 NumPy result (install mpmath for an independent reference)" in out


# --- --against ------------------------------------------------------------------------------
def test_stable_focal_loss_agrees(capsys):
    has("torch")
    status, out, _ = run(capsys, *FOCAL, "--against", "tests.user_losses:focal_loss", "-q")
    assert status == 0, out
    assert "its arguments: logits ← y_pred, targets ← y_true; framework: torch (detected" in out
    assert "compared with the reference's mean, and per item by calling it on each item alone" in out
    for dtype in ("float64", "float32", "float16"):
        assert dtype_row(out, dtype).endswith("0/0  ✓")


def test_article_focal_loss_is_float32_inside(capsys):
    """The article's `targets.type(torch.float32)` computes float64 inputs in float32."""
    has("torch")
    status, out, _ = run(capsys, *FOCAL, "--against", "tests.user_losses:article_focal_loss", "-q")
    assert status == 1
    assert dtype_row(out, "float64").endswith("✗")
    assert dtype_row(out, "float32").endswith("✓")
    assert "disagrees at float64" in out


def test_naive_focal_loss_overflows_at_extreme_logits(capsys):
    has("torch")
    status, out, _ = run(capsys, *FOCAL, "--against", "tests.user_losses:naive_focal_loss", "-q")
    assert status == 1
    assert dtype_row(out, "float32").endswith("8/8  ✗")
    assert "float64: 8 item(s) with inf or NaN where the reference is finite:" in out
    assert "at logits=-10000, targets=1 → inf (reference 2500)" in out
    assert "at logits=65504, targets=1 → nan (reference 0)" in out
    assert "d/dlogits at logits=65504, targets=1 → nan (reference 0)" in out
    assert "float32: the same 8 item(s) with inf or NaN" in out


def test_planted_bugs_are_caught(capsys):
    has("torch")
    status, out, _ = run(capsys, *FOCAL, "--against", "tests.user_losses:swapped_alpha_focal_loss", "-q")
    assert status == 1
    for dtype in ("float64", "float32", "float16"):
        assert dtype_row(out, dtype).endswith("✗")
    assert re.search(r"float32: worst value at logits=\S+, targets=1: \S+, reference \S+ \(\S+ ulps\)", out)
    assert re.search(r"float32: worst gradient d/dlogits at logits=", out)

    status, out, _ = run(capsys, *FOCAL, "--against", "tests.user_losses:wrong_axis_focal_loss", "-q")
    assert status == 1
    assert "✗ it returns shape (8,): expected one value per item (6, 8) or one for the batch ()" in out


@pytest.fixture
def multitask():
    has("torch")
    from tests.user_losses import register_multitask

    yield register_multitask()
    del REGISTRY["multitask"]


def test_multitask_loss_against_its_registered_equivalent(capsys, multitask):
    status, out, _ = run(capsys, "multitask", "--against", "tests.user_losses:MultiTaskLoss",
                         "--order", "logit,value,label,target", "--shape", "24,1", "-q")
    assert "tests.user_losses:MultiTaskLoss() (instantiated with its defaults)" in out
    assert "compared with the reference's mean (each item depends on the whole batch" in out
    assert dtype_row(out, "float64").endswith("✓")
    assert dtype_row(out, "float32").endswith("✓")
    # float16 overflows: the positive at logit −65504 costs pos_weight × 65504, beyond float16's range
    assert dtype_row(out, "float16").endswith("✗")
    assert "float16: its batch value inf differs from the reference's mean" in out
    assert status == 1


def test_numpy_and_jax_losses_are_detected(capsys):
    has("torch")  # tests/user_losses.py imports it
    status, out, _ = run(capsys, "huber", "--against", "tests.user_losses:huber_loss", "-q")
    assert status == 0, out
    assert "its arguments: y_true ← y_true, y_pred ← y_pred; framework: numpy" in out
    assert dtype_row(out, "float32").endswith("—      0/0  ✓")  # no autodiff in NumPy

    has("jax")
    status, out, _ = run(capsys, "mse", "--against", "tests.user_losses_jax:squared_error", "-q")
    assert status == 0, out
    assert "framework: jax" in out
    assert "it returns one value per item (6, 8): compared item by item" in out
    assert dtype_row(out, "float16").endswith("✓")


def test_known_differences_lists_only_differences(capsys):
    """Keras's BCE row differs for its 1e-7 clip; its label smoothing is ours, so the list below the
    table names the clip and not the smoothing (which the conventions table's labels row keeps)."""
    if "tensorflow" not in INSTALLED or importlib.util.find_spec("keras") is None:
        pytest.skip("needs TensorFlow and Keras")
    status, out, _ = run(capsys, "binary_cross_entropy", "--backends", "numpy,tensorflow", "-q")
    assert status == 0, out
    listed = out.split("Known differences:\n", 1)[1].split("\n\n", 1)[0].split("Not compared", 1)[0]
    assert "keras.losses.BinaryCrossentropy: Keras clips probabilities to [1e-7, 1 − 1e-7]" in listed
    assert "smooth" not in listed, listed
    from multiloss import natives

    keras_bce = next(n for n in natives.of("binary_cross_entropy").natives
                     if n.api == "keras.losses.BinaryCrossentropy" and not n.when["from_logits"])
    assert "y(1 − ls) + ls/2" in keras_bce.label_format
