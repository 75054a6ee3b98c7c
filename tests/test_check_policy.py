"""The check policy (``multiloss.checks``): which array values a call reads, and what an
out-of-domain value then gets, for every value rule of every built-in loss, on every backend.

"No host read" is proved by instrumenting the one way multiloss reads values, the adapters'
``to_host``, and, on PyTorch, every method of ``torch.Tensor`` that reads one (``__bool__``,
``item``, ``tolist``, ``numpy``, ...): in the modes that promise none, a read fails the test.
An accelerator is simulated by ``on_host`` returning False (tests/scripts/cuda_check.py runs the
same on a real GPU with PyTorch's sync debug mode and JAX's transfer guard).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import multiloss as ml
from multiloss.testing.numerics import EPS, PEER_ULPS
from tests.test_bad_inputs import BREACHES, _breached


class HostRead(AssertionError):
    pass


def _refuse(*args, **kwargs):
    raise HostRead("an array's value was read on the host")


@contextlib.contextmanager
def no_host_reads(backend, monkeypatch):
    """Fail on any read of an array's value: the adapter's ``to_host``, and torch's own readers."""
    with monkeypatch.context() as m:
        m.setattr(backend.xp, "to_host", _refuse)
        if backend.xp.backend == "torch":
            import torch

            for name in ("__bool__", "__float__", "__int__", "__index__", "item", "tolist", "numpy", "__array__"):
                m.setattr(torch.Tensor, name, _refuse)
        yield


@contextlib.contextmanager
def on_an_accelerator(backend, monkeypatch):
    """The backend's arrays as if they lived on a device (``on_host`` False)."""
    with monkeypatch.context() as m:
        m.setattr(backend.xp, "on_host", lambda x, /: False)
        m.setattr(backend.xp, "checks_labels", lambda x, /: False)  # (PyTorch's CUDA kernel asserts instead)
        yield


def _valid(backend, case):
    return backend.to_numpy(case.call(*case.to_backend(backend, "float32")[0], reduction="none")).reshape(-1)


def _nan_for_the_bad_item(backend, case, got, p):
    got, valid = backend.to_numpy(got).reshape(-1), _valid(backend, case)
    assert np.isnan(got[0]), f"{p}: {got[0]} for the out-of-domain item"
    if case.spec.kind != "batch" and case.params.get("labels") != "binary_batch":
        np.testing.assert_allclose(got[1:], valid[1:], rtol=PEER_ULPS * EPS["float32"], err_msg=p)


def test_the_policy_is_a_global_setting_and_a_context_manager():
    assert ml.check_mode() == "auto"
    with ml.checks("nan") as c:
        assert ml.check_mode() == "nan" and isinstance(c, ml.checks)
        with ml.checks("off"):
            assert ml.check_mode() == "off"
        assert ml.check_mode() == "nan"
    assert ml.check_mode() == "auto"
    try:
        ml.checks("strict")
        assert ml.check_mode() == "strict"
    finally:
        ml.checks("auto")
    with pytest.raises(ValueError, match=r"^`mode` must be one of \('auto', 'strict', 'nan', 'off'\); got 'fast'\.$"):
        ml.checks("fast")
    assert ml.check_mode() == "auto"


@pytest.mark.parametrize(("case", "name", "value"), BREACHES)
def test_nan_mode_reads_nothing_and_gives_nan_for_the_bad_item(backend, case, name, value, monkeypatch):
    arrays = _breached(backend, case, name, value)
    with ml.checks("nan"), no_host_reads(backend, monkeypatch), np.errstate(all="ignore"):
        got = case.call(*arrays, reduction="none")
        mean = case.call(*arrays)
    _nan_for_the_bad_item(backend, case, got, f"{case.id}-{name}={value}")
    assert np.isnan(backend.to_numpy(mean))


@pytest.mark.parametrize(("case", "name", "value"), BREACHES)
def test_auto_reads_nothing_on_an_accelerator_and_strict_raises_there(backend, case, name, value, monkeypatch):
    arrays = _breached(backend, case, name, value)
    with on_an_accelerator(backend, monkeypatch), np.errstate(all="ignore"):
        with no_host_reads(backend, monkeypatch):
            got = case.call(*arrays, reduction="none")
        with ml.checks("strict"), pytest.raises(ValueError, match=rf"^`{name}` must be .*; 1 value\(s\) are not"):
            case.call(*arrays)
    _nan_for_the_bad_item(backend, case, got, f"{case.id}-{name}={value}")


@pytest.mark.parametrize(("case", "name", "value"), BREACHES)
def test_off_reads_nothing_and_raises_nothing(backend, case, name, value, monkeypatch):
    arrays = _breached(backend, case, name, value)
    with ml.checks("off"), no_host_reads(backend, monkeypatch), np.errstate(all="ignore"):
        got = case.call(*arrays, reduction="none")
    assert backend.to_numpy(got).shape == case.out_shape


def test_valid_inputs_read_nothing_in_nan_mode_on_every_loss(backend, monkeypatch):
    """The happy path of every case, weights included, in ``"nan"`` mode: no read, eager values."""
    from multiloss.testing.matrix import cases

    for case in cases():
        if not case.spec.builtin:
            continue
        arrays = case.to_backend(backend, "float32")[0]
        want = _valid(backend, case)
        with ml.checks("nan"), no_host_reads(backend, monkeypatch):
            got = case.call(*arrays, reduction="none")
            weighted = case.call(*arrays, sample_weight=backend.from_numpy(np.ones(case.out_shape[:1]), "float32"))
        np.testing.assert_array_equal(backend.to_numpy(got).reshape(-1), want, err_msg=case.id)
        assert np.isfinite(backend.to_numpy(weighted)), case.id


def test_torch_cpu_cross_entropy_checks_its_labels_itself(monkeypatch):
    """``"auto"`` on CPU tensors: the plain cross-entropy from logits leaves the label check to
    F.cross_entropy (no read); its IndexError becomes the loss's ValueError."""
    from conftest import load_backend

    torch_backend = load_backend("torch")
    import torch

    x, y = torch.randn(4, 3), torch.tensor([0, 2, 1, 2])
    want = torch.nn.functional.cross_entropy(x, y)
    with no_host_reads(torch_backend, monkeypatch):
        got = ml.sparse_categorical_cross_entropy(y, x, from_logits=True)
    assert torch.equal(got, want)
    for bad in (3, -1, -100):
        labels = y.clone()
        labels[1] = bad
        with pytest.raises(ValueError, match=r"^`y_true` must be class labels in \[0, 3\); 1 value\(s\) are not "
                                             r"\(torch\)\.$"):
            ml.sparse_categorical_cross_entropy(labels, x, from_logits=True)
