"""CTC: worked examples, the reference against brute-force enumeration of alignments, padding
formats, bad input, and the documented differences from torch, Keras and optax."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from multiloss.losses.sequence import _ctc_reference
from multiloss.natives import of as natives_of
from multiloss.testing.matrix import math_module
from tests.test_classification import value

M = math_module()


def ctc_inputs(backend, labels, logits, label_lengths, logit_lengths, dtype="float64"):
    ints = [backend.from_numpy(np.asarray(a, np.int64)) for a in (labels, label_lengths, logit_lengths)]
    return ints[0], backend.from_numpy(np.asarray(logits, np.float64), dtype), ints[1], ints[2]


def uniform(n, t, c):
    return np.zeros((n, t, c))


# --- worked examples ------------------------------------------------------------------------
def test_hand_computed_values(backend):
    # Equal logits: every frame is uniform over C classes, so p(labels) = (number of alignments) / C^T.
    # labels [1], T = 1: only "1" → 1/2; T = 2: "11", "b1", "1b" → 3/4; [1, 1], T = 3: only "1b1" → 1/8;
    # empty labels, T = 2: only "bb" → 1/4.
    labels = [[1, 0], [1, 0], [1, 1], [0, 0]]
    out = ml.ctc(*ctc_inputs(backend, labels, uniform(4, 3, 2), [1, 1, 2, 0], [1, 2, 3, 2]), reduction="none")
    np.testing.assert_allclose(value(backend, out), [math.log(2), math.log(4 / 3), 3 * math.log(2), 2 * math.log(2)],
                               rtol=1e-14)
    # three classes, labels [1, 2] in 2 frames: only "12" → 1/9; in 3 frames: "112", "122", "b12", "1b2", "12b" → 5/27
    out = ml.ctc(*ctc_inputs(backend, [[1, 2], [1, 2]], uniform(2, 3, 3), [2, 2], [2, 3]), reduction="none")
    np.testing.assert_allclose(value(backend, out), [2 * math.log(3), math.log(27 / 5)], rtol=1e-14)


def test_impossible_alignments_are_inf_or_zero(backend):
    # [1, 1] needs 3 frames (a blank between the repeats); [1, 2] needs 2; one label needs one frame
    args = ctc_inputs(backend, [[1, 1], [1, 2], [1, 0]], uniform(3, 3, 3), [2, 2, 1], [2, 1, 0])
    np.testing.assert_array_equal(value(backend, ml.ctc(*args, reduction="none")), [math.inf] * 3)
    np.testing.assert_array_equal(value(backend, ml.ctc(*args, reduction="none", zero_infinity=True)), [0.0] * 3)
    if backend.value_and_grad is not None:
        labels, logits, ly, lx = args
        _, (g,) = backend.value_and_grad(lambda x: ml.ctc(labels, x, ly, lx, zero_infinity=True, reduction="sum"),
                                         logits)
        np.testing.assert_array_equal(value(backend, g), np.zeros((3, 3, 3)))


def test_blank_may_be_any_class(backend):
    # labels [0] with blank 2 over uniform 3 classes, T = 2: "00", "20", "02" → 3/9
    out = ml.ctc(*ctc_inputs(backend, [[0]], uniform(1, 2, 3), [1], [2]), blank=2, reduction="none")
    np.testing.assert_allclose(value(backend, out), [math.log(3)], rtol=1e-14)


def test_gradient_is_softmax_minus_occupancy(backend):
    # d(−log p)/dx_tc = softmax(x_t)_c − γ_t(c), γ the posterior occupancy of class c at frame t. With
    # labels [1], T = 1 the only alignment is "1": γ = one-hot(1), gradient = softmax − e_1.
    if backend.value_and_grad is None:
        pytest.skip("numpy has no autodiff")
    x = np.array([[[0.5, -1.0, 2.0]]])
    labels, logits, ly, lx = ctc_inputs(backend, [[1]], x, [1], [1])
    _, (g,) = backend.value_and_grad(lambda z: ml.ctc(labels, z, ly, lx, reduction="sum"), logits)
    p = np.exp(x - np.log(np.exp(x).sum(-1, keepdims=True)))
    np.testing.assert_allclose(value(backend, g), p - np.eye(3)[1], rtol=1e-13, atol=1e-16)


# --- the reference --------------------------------------------------------------------------
def _collapse(path, blank):
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return [k for k in merged if k != blank]


def _brute_force(labels, logits, blank, m):
    """−log Σ over every path of T classes that collapses to ``labels`` of Π softmax: C^T paths."""
    probs = [[m.exp(z) / m.fsum(m.exp(w) for w in frame) for z in frame] for frame in logits]
    total = m.fsum(m.fprod(probs[t][k] for t, k in enumerate(path))
                   for path in itertools.product(range(len(logits[0])), repeat=len(logits))
                   if _collapse(list(path), blank) == list(labels))
    return -m.log(total) if total else m.inf


@pytest.mark.parametrize("labels, blank", [([], 0), ([1], 0), ([1, 1], 0), ([2, 1, 2], 0), ([1, 2], 0),
                                           ([0, 0], 2), ([2, 2, 2], 1)])
def test_reference_forward_recursion_matches_brute_force(labels, blank):
    rng = np.random.default_rng(len(labels) + 10 * blank)
    t, c = 5, 3
    x = [[M.mpf(float(z)) for z in frame] for frame in rng.normal(0.0, 2.0, (t, c))]
    padded = labels + [blank] * (3 - len(labels))
    terms = _ctc_reference(padded, x, len(labels), t, blank=blank, zero_infinity=False, per_label=False, m=M)
    expected = _brute_force(labels, x, blank, M)
    if expected == M.inf:
        assert terms == (M.inf,)
    else:
        assert abs(M.fsum(terms) - expected) < M.mpf("1e-50") * abs(expected)


# --- formats --------------------------------------------------------------------------------
def test_padding_values_do_not_matter_and_paddings_equal_lengths(backend):
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, (3, 6, 4))
    labels = np.array([[1, 2, 2], [3, 0, 0], [2, 1, 0]])
    ly, lx = np.array([3, 1, 2]), np.array([6, 4, 5])
    base = value(backend, ml.ctc(*ctc_inputs(backend, labels, x, ly, lx), reduction="none"))
    noisy_x, noisy_labels = x.copy(), labels.copy()
    noisy_x[1, 4:], noisy_x[2, 5:] = 50.0, -7.0  # padded frames
    noisy_labels[1, 1:], noisy_labels[2, 2] = 3, 2  # padded labels (valid classes; the last label repeated)
    np.testing.assert_array_equal(value(backend, ml.ctc(*ctc_inputs(backend, noisy_labels, noisy_x, ly, lx),
                                                        reduction="none")), base)
    label_paddings = (np.arange(3)[None, :] >= ly[:, None]).astype(np.float64)
    logit_paddings = (np.arange(6)[None, :] >= lx[:, None]).astype(np.float64)
    lab, logits = ctc_inputs(backend, labels, x, ly, lx)[:2]
    out = ml.ctc(lab, logits, backend.from_numpy(label_paddings, "float64"),
                 backend.from_numpy(logit_paddings, "float64"), reduction="none")
    np.testing.assert_array_equal(value(backend, out), base)


def test_float32_and_float16_logits(backend):
    rng = np.random.default_rng(4)
    x = rng.normal(0.0, 1.0, (2, 5, 3))
    args64 = ctc_inputs(backend, [[1, 2], [2, 2]], x, [2, 2], [5, 4])
    want = value(backend, ml.ctc(*args64, reduction="none"))
    for dtype, rtol in (("float32", 1e-6), ("float16", 2e-3)):
        if dtype not in backend.DTYPES:
            continue
        args = ctc_inputs(backend, [[1, 2], [2, 2]], x, [2, 2], [5, 4], dtype=dtype)
        out = ml.ctc(*args, reduction="none")
        assert dtype in str(out.dtype)
        held = ctc_inputs(backend, [[1, 2], [2, 2]], value(backend, args[1]), [2, 2], [5, 4])
        np.testing.assert_allclose(value(backend, out), value(backend, ml.ctc(*held, reduction="none")), rtol=rtol)
    assert np.all(np.isfinite(want))


def test_per_label_is_torchs_mean(backend):
    args = ctc_inputs(backend, [[1, 2, 0], [1, 0, 0], [0, 0, 0]], uniform(3, 4, 3), [2, 1, 0], [4, 4, 2])
    per = value(backend, ml.ctc(*args, reduction="none"))
    np.testing.assert_allclose(value(backend, ml.ctc(*args, convention="torch")), np.mean(per / [2, 1, 1]),
                               rtol=1e-14)
    np.testing.assert_allclose(value(backend, ml.ctc(*args, per_label=True)), np.mean(per / [2, 1, 1]), rtol=1e-14)
    with pytest.raises(ValueError, match="per_label=True only"):
        ml.ctc(*args, convention="torch", per_label=False)


def test_nan_logits_give_nan_for_their_sequence(backend):
    x = uniform(2, 3, 3)
    x[0, 1, 2] = math.nan
    out = value(backend, ml.ctc(*ctc_inputs(backend, [[1], [1]], x, [1, 1], [3, 3]), reduction="none"))
    assert math.isnan(out[0]) and out[1] == pytest.approx(math.log(27 / 6))  # 6 alignments of "1" in 3 frames of 3


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("labels, ly, lx, blank, match", [
    ([[1, 3]], [2], [3], 0, r"`labels` must be class indices in \[0, 3\) other than blank=0"),
    ([[1, 0]], [2], [3], 0, r"`labels` must be class indices"),  # the blank inside the labels
    ([[1, -1]], [1], [3], 0, None),  # outside the length: padding, any value
    ([[1, 2]], [3], [3], 0, r"`label_lengths` must be whole numbers in \[0, 2\]"),
    ([[1, 2]], [2], [4], 0, r"`logit_lengths` must be whole numbers in \[0, 3\]"),
    ([[1, 2]], [-1], [3], 0, r"`label_lengths` must be whole numbers"),
])
def test_bad_values_raise_naming_the_argument(backend, labels, ly, lx, blank, match):
    args = ctc_inputs(backend, labels, uniform(1, 3, 3), ly, lx)
    if match is None:
        assert np.isfinite(value(backend, ml.ctc(*args)))
        return
    with pytest.raises(ValueError, match=match + r".*\(" + backend.xp.backend):
        ml.ctc(*args)


def test_bad_shapes_and_parameters_raise(backend):
    labels, logits, ly, lx = ctc_inputs(backend, [[1, 2]], uniform(1, 3, 3), [2], [3])
    name = backend.xp.backend
    with pytest.raises(ValueError, match=rf"`labels` must be \(batch, labels\).*\({name}\)"):
        ml.ctc(backend.from_numpy(np.array([1, 2])), logits, ly, lx)
    with pytest.raises(ValueError, match=rf"one batch size.*\({name}\)"):
        ml.ctc(backend.from_numpy(np.array([[1, 2], [1, 1]])), logits, ly, lx)
    with pytest.raises(ValueError, match=rf"`logit_lengths` must be lengths \(1,\) or paddings \(1, 3\).*\({name}\)"):
        ml.ctc(labels, logits, ly, backend.from_numpy(np.array([3, 3])))
    with pytest.raises(ValueError, match=rf"`blank` must be a class index in \[0, 3\).*got 3 \({name}\)"):
        ml.ctc(labels, logits, ly, lx, blank=3)
    with pytest.raises(ValueError, match=r"`blank` must be an integer"):
        ml.ctc(labels, logits, ly, lx, blank=0.0)
    with pytest.raises(TypeError, match=rf"`labels` must hold integer class labels.*\({name}\)"):
        ml.ctc(logits[:, 0, :2], logits, ly, lx)


# --- the frameworks' own CTC ----------------------------------------------------------------
def _native(api, **when):
    return next(n for n in natives_of("ctc").natives
                if n.api == api and all(n.when.get(k) == v for k, v in when.items()))


def _case_inputs(backend_name, dtype="float64", seed=0):
    backend = load_backend(backend_name)
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 2.0, (3, 6, 4))
    labels = np.array([[1, 2, 2], [3, 0, 0], [2, 1, 0]])
    names = ("labels", "logits", "label_lengths", "logit_lengths")
    arrays = dict(zip(names, ctc_inputs(backend, labels, x, [3, 1, 2], [6, 4, 5], dtype)))
    arrays["label_lengths"] = backend.from_numpy(np.array([3.0, 1.0, 2.0]), dtype)
    arrays["logit_lengths"] = backend.from_numpy(np.array([6.0, 4.0, 5.0]), dtype)
    return backend, arrays


def test_keras_ops_computes_in_float32_even_for_float64():
    pytest.importorskip("keras")
    native = _native("keras.ops.ctc_loss")
    for dtype, lo, hi in (("float64", 1e-10, 1e-5), ("float32", 0.0, 1e-6)):
        backend, arrays = _case_inputs("tensorflow", dtype)
        ours = value(backend, ml.ctc(*arrays.values(), reduction="none"))
        theirs = native.values(arrays, {"blank": 0}, dtype)
        gap = np.max(np.abs(theirs - ours) / ours)
        assert lo <= gap <= hi, (dtype, gap)


def test_keras_ctc_class_takes_no_lengths():
    pytest.importorskip("keras")
    native = _native("keras.losses.CTC")
    backend, arrays = _case_inputs("tensorflow", "float32")
    # full frames, labels padded with 0 (the blank): Keras's lengths are ours
    full = dict(arrays, logit_lengths=backend.from_numpy(np.array([6.0, 6.0, 6.0]), "float32"))
    ours = value(backend, ml.ctc(*full.values(), reduction="none"))
    np.testing.assert_allclose(native.values(full, {"blank": 0}, "float32"), ours, rtol=1e-6)
    # shorter sequences: Keras still reads all 6 frames
    ours = value(backend, ml.ctc(*arrays.values(), reduction="none"))
    assert np.all(np.abs(native.values(arrays, {"blank": 0}, "float32") - ours)[1:] > 1e-3)


def test_optax_impossible_alignments_are_finite():
    pytest.importorskip("optax")
    native = _native("optax.losses.ctc_loss")
    backend, arrays = _case_inputs("jax", "float32")
    short = dict(arrays, logit_lengths=backend.from_numpy(np.array([2.0, 4.0, 5.0]), "float32"))  # [1, 2, 2] in 2
    ours = value(backend, ml.ctc(*short.values(), reduction="none"))
    theirs = native.values(short, {"blank": 0}, "float32")
    assert ours[0] == math.inf and 1e4 < theirs[0] < math.inf
    np.testing.assert_allclose(theirs[1:], ours[1:], rtol=1e-6)
    # a padded label equal to the last label changes nothing (optax's final blank transition ignores
    # its repeat marks), as here
    repeated = dict(arrays, labels=backend.from_numpy(np.array([[1, 2, 2], [3, 3, 3], [2, 1, 1]])))
    np.testing.assert_allclose(native.values(repeated, {"blank": 0}, "float32"),
                               value(backend, ml.ctc(*arrays.values(), reduction="none")), rtol=1e-6)


def test_optax_forward_probs_returns_the_loss_and_the_forward_variables():
    pytest.importorskip("optax")
    native = _native("optax.losses.ctc_loss_with_forward_probs")
    backend, arrays = _case_inputs("jax", "float64")
    loss, alpha_blank, alpha_label = native(arrays, {"blank": 0}, "float64")
    assert alpha_blank.shape == (6, 3, 4) and alpha_label.shape == (6, 3, 3)  # (T, N, S + 1), (T, N, S)
    ours = value(backend, ml.ctc(*arrays.values(), reduction="none"))
    np.testing.assert_allclose(np.asarray(loss), ours, rtol=1e-13)


def test_torch_mean_divides_by_target_length():
    torch = pytest.importorskip("torch")
    backend, arrays = _case_inputs("torch", "float64")
    native = _native("torch.nn.functional.ctc_loss", per_label=False)
    per = value(backend, ml.ctc(*arrays.values(), reduction="none"))
    np.testing.assert_allclose(native.values(arrays, {"blank": 0, "zero_infinity": False}, "float64"), per,
                               rtol=1e-13)
    log_probs = torch.log_softmax(arrays["logits"], dim=-1).transpose(0, 1)
    mean = torch.nn.functional.ctc_loss(log_probs, arrays["labels"], torch.tensor([6, 4, 5]), torch.tensor([3, 1, 2]))
    np.testing.assert_allclose(mean.item(), np.mean(per / [3, 1, 2]), rtol=1e-13)
    assert abs(mean.item() - np.mean(per)) > 1.0
    np.testing.assert_allclose(value(backend, ml.ctc(*arrays.values(), convention="torch")), mean.item(), rtol=1e-13)


@pytest.mark.parametrize("blank", [2, 4])
def test_any_blank_matches_the_reference_and_torch(backend, blank):
    """The matrix runs blank 0 (its out-of-domain check sets a label to 0, which only blank 0
    refuses); here blank 2 and 4 (the last class) on random sequences, against the reference and
    F.ctc_loss."""
    rng = np.random.default_rng(blank)
    others = [k for k in range(5) if k != blank]
    labels = np.full((4, 3), blank)
    ly, lx = np.array([3, 2, 1, 0]), np.array([6, 5, 2, 4])
    for i, n in enumerate(ly):
        labels[i, :n] = rng.choice(others, n)
    labels[0, :2] = others[1]  # a repeat
    x = rng.normal(0.0, 2.0, (4, 6, 5))
    ours = value(backend, ml.ctc(*ctc_inputs(backend, labels, x, ly, lx), blank=blank, reduction="none"))
    for i in range(4):
        terms = _ctc_reference([int(k) for k in labels[i]], [[M.mpf(float(z)) for z in f] for f in x[i]], ly[i], lx[i],
                               blank=blank, zero_infinity=False, per_label=False, m=M)
        assert ours[i] == pytest.approx(float(M.fsum(terms)), rel=1e-13)
    torch = pytest.importorskip("torch")
    log_probs = torch.log_softmax(torch.from_numpy(x), dim=-1).transpose(0, 1)
    theirs = torch.nn.functional.ctc_loss(log_probs, torch.from_numpy(labels), torch.from_numpy(lx),
                                          torch.from_numpy(ly), blank=blank, reduction="none").numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)
