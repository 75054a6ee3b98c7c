"""Input types beyond plain arrays: each works as the array it stands for, or is refused clearly.

- TensorFlow variables and torch Parameters: the value the tensor gives, and gradients that
  reach them (inputs, ``sample_weight``, array parameters), eagerly and compiled;
- class labels of every integer width and labels of every integer width and bool: the value
  the int64 (or floating) labels give, eagerly and compiled;
- NumPy scalars next to a framework's arrays: as the Python scalars they hold (the framework's
  array, in the predictions' dtype); a 0-d ``np.ndarray`` there is an array of NumPy's, a
  ``TypeError`` as any mix of two frameworks;
- ``np.matrix`` and masked arrays: a ``TypeError`` naming the argument and saying to pass
  ``np.asarray(x)``; ``np.memmap`` works;
- Python ints and bools: numbers (the default floating dtype), as are pandas and polars Series
  and DataFrames (NumPy);
- torch meta tensors: a meta result of the eager result's shape and dtype, for every loss.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from conftest import compiler, load_backend
from multiloss import array_namespace, backend_name
from multiloss._validation import _dtype_name
from multiloss.testing.matrix import cases

CASES = cases()
FIRST = list({case.spec.name: case for case in reversed(CASES)}.values())[::-1]  # each loss at its defaults
SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint16", "uint32", "uint64")


def ids(cases_):
    return [case.id for case in cases_]


def floating(case) -> list[int]:
    """The positions of the case's floating inputs (all but class labels)."""
    return [i for i, n in enumerate(case.spec.inputs) if n not in case.spec.indices]


def numpy_of(backend, x):
    return np.asarray(backend.to_numpy(x))


# --- TensorFlow variables and torch Parameters ----------------------------------------------
@pytest.mark.parametrize("case", FIRST, ids=ids(FIRST))
def test_tf_variables_give_the_tensors_value_and_gradients(case):
    backend = load_backend("tensorflow")
    import tensorflow as tf

    tensors, _ = case.to_backend(backend, "float64")
    variables = [tf.Variable(t) for t in tensors]  # class labels too: a variable of integers
    at = floating(case)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([tensors[i] for i in at])
        want = case.call(*tensors)
        got = case.call(*variables)
    assert isinstance(got, tf.Tensor) and got.dtype == want.dtype
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    g_want = tape.gradient(want, [tensors[i] for i in at])
    g_got = tape.gradient(got, [variables[i] for i in at])
    for i, a, b in zip(at, g_got, g_want):
        assert (a is None) == (b is None), f"{case.spec.inputs[i]}: the gradient does not reach the variable"
        if b is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_tf_variables_under_tf_function():
    """Every loss on variables inside tf.function(jit_compile=True), as its eager value on tensors,
    and the gradient of their sum reaches every floating variable."""
    backend = load_backend("tensorflow")
    import tensorflow as tf

    tensors = [case.to_backend(backend, "float32")[0] for case in FIRST]
    variables = [[tf.Variable(t) for t in ts] for ts in tensors]
    at = [(k, i) for k, case in enumerate(FIRST) for i in floating(case)]

    @tf.function(jit_compile=True)
    def all_losses():
        with tf.GradientTape() as tape:
            values = [case.call(*vs) for case, vs in zip(FIRST, variables)]
        return values, tape.gradient(tf.add_n(values), [variables[k][i] for k, i in at])

    values, grads = all_losses()
    with tf.GradientTape() as tape:
        tape.watch([tensors[k][i] for k, i in at])
        eager = [case.call(*ts) for case, ts in zip(FIRST, tensors)]
    eager_grads = tape.gradient(tf.add_n(eager), [tensors[k][i] for k, i in at])
    np.testing.assert_allclose([v.numpy() for v in values], [v.numpy() for v in eager], rtol=1e-5,
                               err_msg=str(ids(FIRST)))
    for (k, i), a, b in zip(at, grads, eager_grads):  # cosine_embedding's y_true has none
        what = f"{FIRST[k].id}: {FIRST[k].spec.inputs[i]}"
        assert (a is None) == (b is None), f"{what}: the gradient does not reach the variable"
        if b is not None:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6, err_msg=what)


def test_tf_variables_as_sample_weight_and_array_parameters():
    backend = load_backend("tensorflow")
    import tensorflow as tf

    weighted = next(c for c in CASES if c.params.get("class_weight") is not None)
    pos = next(c for c in CASES if c.params.get("pos_weight") is not None)
    for case, name in ((weighted, "class_weight"), (pos, "pos_weight")):
        arrays, _ = case.to_backend(backend, "float64")
        w = tf.constant(np.asarray(case.params[name], np.float64))
        sw = tf.constant(np.linspace(0.5, 2.0, case.out_shape[0]))
        w_var, sw_var = tf.Variable(w), tf.Variable(sw)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([w, sw])
            want = case.spec.function(*arrays, **{**case.params, name: w}, sample_weight=sw)
            got = case.spec.function(*arrays, **{**case.params, name: w_var}, sample_weight=sw_var)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        for a, b in zip(tape.gradient(got, [w_var, sw_var]), tape.gradient(want, [w, sw])):
            assert a is not None, f"{case.id}: no gradient reaches the variable"
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("case", FIRST, ids=ids(FIRST))
def test_torch_parameters_give_the_tensors_value_and_gradients(case):
    backend = load_backend("torch")
    import torch

    tensors, _ = case.to_backend(backend, "float64")
    at = floating(case)
    leaves = [t.clone().requires_grad_(True) if i in at else t for i, t in enumerate(tensors)]
    params = [torch.nn.Parameter(t.clone()) if i in at else t for i, t in enumerate(tensors)]
    want, got = case.call(*leaves), case.call(*params)
    assert type(got) is torch.Tensor and got.dtype == want.dtype
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    want.backward()
    got.backward()
    for i in at:
        a, b = params[i].grad, leaves[i].grad
        assert (a is None) == (b is None), f"{case.spec.inputs[i]}: the gradient does not reach the Parameter"
        if b is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_torch_parameters_under_torch_compile():
    backend = load_backend("torch")
    import torch

    case = next(c for c in CASES if c.params.get("class_weight") is not None)
    labels, logits = case.to_backend(backend, "float32")[0]
    weight = torch.nn.Parameter(torch.tensor(case.params["class_weight"], dtype=torch.float32))
    logits = torch.nn.Parameter(logits)
    params = {**case.params, "class_weight": weight}
    want = case.spec.function(labels, logits, **params)
    got = compiler("torch")(lambda y, p: case.spec.function(y, p, **params))(labels, logits)
    torch.testing.assert_close(got, want)
    got.backward()
    assert logits.grad is not None and weight.grad is not None


# --- integer widths -------------------------------------------------------------------------
INDEXED = [case for case in CASES if case.spec.indices]
LABELLED = [case for case in FIRST if case.spec.labels]


def widths_for(values: np.ndarray, with_bool: bool) -> list[str]:
    """The integer dtypes (and bool) that hold ``values`` exactly."""
    out = [w for w in SIGNED + UNSIGNED if np.array_equal(values.astype(w), values)]
    return out + (["bool"] if with_bool and np.isin(values, (0, 1)).all() else [])


@pytest.mark.parametrize("case", INDEXED, ids=ids(INDEXED))
def test_class_labels_of_every_integer_width(case, backend):
    arrays, _ = case.to_backend(backend, "float64")
    want = case.call(*arrays, reduction="none")
    for name in case.spec.indices:
        i = case.spec.inputs.index(name)
        widths = widths_for(case.inputs[name], with_bool=False)
        # the domain's labels fit every width (signed only where −1 ends a list: multilabel_margin)
        assert set(widths) == set(SIGNED + (UNSIGNED if case.inputs[name].min() >= 0 else ()))
        for width in widths:
            labels = backend.from_numpy(case.inputs[name].astype(width))
            got = case.call(*arrays[:i], labels, *arrays[i + 1:], reduction="none")
            assert _dtype_name(got.dtype) == "float64", width
            np.testing.assert_array_equal(numpy_of(backend, got), numpy_of(backend, want), err_msg=width)


@pytest.mark.parametrize("name", ["jax", "tensorflow", "torch"])
def test_class_labels_of_narrow_widths_compiled(name):
    backend, compile_fn = load_backend(name), compiler(name)
    case = next(c for c in INDEXED if c.params.get("ignore_index") is not None)
    labels, logits = case.to_backend(backend, "float32")[0]
    want = numpy_of(backend, case.call(labels, logits))
    loss = compile_fn(lambda y, p: case.call(y, p))
    for width in ("int32", "uint8") if name == "torch" else ("int8", "int32", "uint8", "uint16"):
        got = loss(backend.from_numpy(case.inputs["y_true"].astype(width)), logits)
        np.testing.assert_allclose(numpy_of(backend, got), want, rtol=1e-6, err_msg=width)


@pytest.mark.parametrize("case", LABELLED, ids=ids(LABELLED))
def test_labels_of_every_integer_width_and_bool(case, backend):
    """Integer and boolean labels are cast to the floating dtype: the value of those floats."""
    arrays, _ = case.to_backend(backend, "float64")
    for name in case.spec.labels:
        i = case.spec.inputs.index(name)
        values = np.round(case.inputs[name])
        rounded = backend.from_numpy(values, "float64")
        want = numpy_of(backend, case.call(*arrays[:i], rounded, *arrays[i + 1:], reduction="none"))
        widths = widths_for(values, with_bool=True)
        assert "int8" in widths
        for width in widths:
            labels = backend.from_numpy(values.astype(width))
            got = case.call(*arrays[:i], labels, *arrays[i + 1:], reduction="none")
            assert _dtype_name(got.dtype) == "float64", width
            np.testing.assert_array_equal(numpy_of(backend, got), want, err_msg=width)


# --- NumPy scalars ---------------------------------------------------------------------------
SCALARS = (np.float64(0.1), np.float32(0.1), np.float16(0.5), np.int64(1), np.int8(-2), np.uint8(3), np.bool_(True))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numpy_scalars_next_to_arrays_are_python_scalars(backend, dtype):
    """As labels, a NumPy scalar gives what the Python scalar it holds gives: the framework's
    array, in the predictions' dtype."""
    y_pred = backend.from_numpy(np.array(0.25), dtype)
    for s in SCALARS:
        got, want = ml.mse(s, y_pred), ml.mse(s.item(), y_pred)
        assert backend_name(got) == backend.xp.backend, repr(s)
        assert _dtype_name(got.dtype) == dtype, repr(s)
        assert float(numpy_of(backend, got)) == float(numpy_of(backend, want)), repr(s)


def test_numpy_scalars_as_predictions_take_the_arrays_dtype(backend):
    """As predictions next to a float64 array: float64 for every framework but NumPy, whose own
    scalars are its 0-d arrays and keep their dtype."""
    y_true = backend.from_numpy(np.array(0.0), "float64")
    got = ml.mse(y_true, np.float32(0.5))
    assert backend_name(got) == backend.xp.backend
    assert _dtype_name(got.dtype) == ("float32" if backend.xp.backend == "numpy" else "float64")
    assert float(numpy_of(backend, got)) == 0.25


def test_python_floats_adopt_the_arrays_dtype_exactly(backend):
    """0.1 next to a float64 array is float64's 0.1, never float32's (PyTorch's and TensorFlow's
    default) cast up; lists and array parameters too."""
    zero = backend.from_numpy(np.zeros(()), "float64")
    for y_true in (0.1, np.float64(0.1)):
        assert float(numpy_of(backend, ml.mse(y_true, zero))) == 0.1**2
        assert float(numpy_of(backend, ml.mse(zero, y_true))) == 0.1**2
    zeros = backend.from_numpy(np.zeros(2), "float64")
    assert float(numpy_of(backend, ml.mse([0.1, 0.1], zeros))) == 0.1**2
    assert float(numpy_of(backend, ml.mse(zeros, zeros + 0.1, sample_weight=[0.1, 0.3]))) == pytest.approx(
        0.1**2, rel=1e-15)
    case = next(c for c in CASES if c.params.get("class_weight") is not None)
    labels, logits = case.to_backend(backend, "float64")[0]
    weights = case.params["class_weight"]
    want = case.spec.function(labels, logits, **{**case.params, "class_weight": backend.from_numpy(
        np.asarray(weights), "float64")})
    got = case.call(labels, logits)  # class_weight as a tuple of Python floats
    assert float(numpy_of(backend, got)) == float(numpy_of(backend, want))


def test_numpy_scalars_as_sample_weight_and_parameters(backend):
    y_true, y_pred = (backend.from_numpy(np.array([0.0, 1.0, 1.0]), "float32"),
                      backend.from_numpy(np.array([-1.0, 0.5, 2.0]), "float32"))
    for s in (np.float32(2.0), np.float64(2.0), np.int64(2)):
        got = ml.binary_cross_entropy(y_true, y_pred, from_logits=True, pos_weight=s, sample_weight=s)
        want = ml.binary_cross_entropy(y_true, y_pred, from_logits=True, pos_weight=2.0, sample_weight=2.0)
        assert backend_name(got) == backend.xp.backend
        assert float(numpy_of(backend, got)) == float(numpy_of(backend, want)), repr(s)


def test_the_issue_example():
    load_backend("torch")
    import torch

    out = ml.mse(torch.tensor(1.0), np.float64(2.0))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and float(out) == 1.0


def test_numpy_scalars_alone_are_numpy():
    out = ml.mse(np.float32(1.0), np.float32(3.0))
    assert backend_name(out) == "numpy" and out.dtype == np.float32 and float(out) == 4.0
    assert array_namespace(np.float64(1.0), np.bool_(True)).backend == "numpy"


@pytest.mark.parametrize("other", ["jax", "tensorflow"])
def test_numpy_scalars_under_compilers(other):
    """Not torch.compile: its NumPy support traces a NumPy scalar as a 0-d np.ndarray, which is
    then an array of NumPy's (a TypeError, two frameworks): pass Python scalars there."""
    backend, compile_fn = load_backend(other), compiler(other)
    y_pred = backend.from_numpy(np.array(0.25), "float32")

    def loss(p):
        return ml.binary_cross_entropy(np.float32(1.0), p, pos_weight=np.float64(2.0), sample_weight=np.int8(3),
                                       reduction="sum")

    want = loss(y_pred)  # eagerly first: the first call of a process imports the adapter
    got = compile_fn(loss)(y_pred)
    assert _dtype_name(got.dtype) == "float32"
    np.testing.assert_allclose(numpy_of(backend, got), numpy_of(backend, want), rtol=1e-6)
    np.testing.assert_allclose(numpy_of(backend, got), -2.0 * 3.0 * np.log(0.25), rtol=1e-6)


@pytest.mark.parametrize("other", ["torch", "jax", "tensorflow"])
def test_a_0d_ndarray_next_to_a_tensor_is_two_frameworks(other):
    """A 0-d np.ndarray is an array of NumPy's, not a scalar: mixing it with another framework's
    arrays is the usual TypeError (convert it, or pass a scalar)."""
    backend = load_backend(other)
    y_pred = backend.from_numpy(np.array(0.25), "float32")
    with pytest.raises(TypeError, match="two frameworks"):
        ml.mse(np.asarray(0.1), y_pred)


# --- ndarray subclasses ----------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_np_matrix_is_refused_naming_the_argument():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    m = np.asmatrix(y + 1.0)
    with pytest.raises(TypeError, match=r"^`y_pred`: .*numpy\.matrix .*matrix product.*np\.asarray\(x\)"):
        ml.mse(y, m)
    with pytest.raises(TypeError, match=r"^`y_true`: .*numpy\.matrix"):
        ml.mse(m, y)
    with pytest.raises(TypeError, match=r"^`sample_weight`: .*numpy\.matrix"):
        ml.mse(y, y, sample_weight=np.asmatrix([[1.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(TypeError, match=r"numpy\.matrix.*np\.asarray"):
        array_namespace(m)


def test_masked_arrays_are_refused_naming_the_argument():
    y = np.array([1.0, 2.0, 3.0])
    masked = np.ma.masked_array([1.0, 2.0, 9.0], mask=[False, False, True])
    with pytest.raises(TypeError, match=r"^`y_pred`: .*MaskedArray .*mask.*np\.asarray\(x\)"):
        ml.mse(y, masked)
    with pytest.raises(TypeError, match=r"^`sample_weight`: .*MaskedArray"):
        ml.mse(y, y, sample_weight=masked)
    case = next(c for c in CASES if c.params.get("class_weight") is not None)
    params = {**case.params, "class_weight": np.ma.masked_array(case.params["class_weight"])}
    with pytest.raises(TypeError, match=r"^`class_weight`: .*MaskedArray"):
        case.spec.function(*case.inputs.values(), **params)


def test_a_refused_type_is_named():
    from fractions import Fraction

    with pytest.raises(TypeError, match=r"^`y_true`: .*fractions\.Fraction"):
        ml.mse(Fraction(1, 2), np.array(1.0))


def test_memmap_is_an_array(tmp_path):
    y = np.array([[0.0, 1.0], [2.0, 3.0]])
    pred = np.memmap(tmp_path / "pred.dat", dtype=np.float64, mode="w+", shape=y.shape)
    pred[:] = y + np.array([[1.0], [2.0]])
    for reduction in ("mean", "none"):
        got = ml.mse(y, pred, reduction=reduction, sample_weight=np.array([1.0, 3.0]))
        want = ml.mse(y, np.asarray(pred), reduction=reduction, sample_weight=np.array([1.0, 3.0]))
        np.testing.assert_array_equal(got, want)
    assert float(ml.mse(y, pred)) == 2.5


# --- Python numbers and lists; pandas and polars ---------------------------------------------
@pytest.mark.parametrize("y_true, y_pred, want",
                         [([1, 2, 3], [1, 2, 4], 1 / 3), (1, 3, 4.0), ([True, False], [0, 1], 1.0)])
def test_python_integers_are_numbers(y_true, y_pred, want):
    """Python ints and bools are numbers, as in scikit-learn's metrics: they become the
    framework's default floating dtype where no input is a floating array."""
    out = ml.mse(y_true, y_pred)
    assert backend_name(out) == "numpy" and out.dtype == np.float64 and float(out) == want


def test_python_integers_next_to_a_framework_take_its_default_float_and_int_arrays_stay_refused(backend):
    """Python ints next to nothing else: the framework's default floating dtype; integer arrays
    of a framework keep the error (an int tensor of predictions is usually a mistake)."""
    ints = backend.from_numpy(np.array([1, 3]))
    with pytest.raises(TypeError, match=r"`y_pred` must have a floating dtype; got int(64|32)"):
        ml.mse([1, 2], ints)
    labels = ml.sparse_categorical_cross_entropy([0, 1], [[0.9, 0.1], [0.2, 0.8]], reduction="none")
    np.testing.assert_allclose(labels, [-math.log(0.9), -math.log(0.8)], rtol=2.0**-52)


TABLES = {"pandas": ("Series", "DataFrame"), "polars": ("Series", "DataFrame")}


@pytest.mark.parametrize("library", sorted(TABLES))
def test_series_and_single_column_frames_become_numpy(library):
    """pandas and polars Series (and DataFrames: a column is an (n, 1) array) are their NumPy
    values, as in scikit-learn's metrics; a missing value is NaN, and NaN comes out."""
    lib = pytest.importorskip(library, reason=f"{library} is not installed")
    y, p = [1.0, 2.0, 3.0, 4.0, 100.0], [1.1, 2.1, 2.9, 4.2, 5.0]
    series = lib.Series("y", y) if library == "polars" else lib.Series(y)
    pred = lib.Series("p", p) if library == "polars" else lib.Series(p)
    out = ml.mse(series, pred)
    assert backend_name(out) == "numpy" and float(out) == float(ml.mse(np.array(y), np.array(p)))
    assert float(ml.huber(series, np.array(p))) == float(ml.huber(np.array(y), np.array(p)))
    frame = lib.DataFrame({"y": y}), lib.DataFrame({"p": p})
    np.testing.assert_array_equal(ml.mae(*frame, reduction="none"), ml.mae(np.array([y]).T, np.array([p]).T,
                                                                          reduction="none"))
    with pytest.raises(ValueError, match=r"\(5, 1\) and \(5,\)"):  # a column against a Series: no broadcasting
        ml.mae(frame[0], pred)
    missing = lib.Series("p", [1.0, None, 3.0, 4.0, 5.0]) if library == "polars" else lib.Series(
        [1.0, None, 3.0, 4.0, 5.0], dtype="Float64")
    out = ml.mse(series, missing, reduction="none")
    assert np.isnan(out[1]) and not np.isnan(out[[0, 2, 3, 4]]).any()


def test_a_series_next_to_a_tensor_is_two_frameworks():
    pd = pytest.importorskip("pandas", reason="pandas is not installed")
    torch = load_backend("torch").xp
    with pytest.raises(TypeError, match="arrays from two frameworks in one call: torch and numpy"):
        ml.mse(torch.asarray([1.0, 2.0]), pd.Series([1.0, 2.0]))


# --- torch meta tensors ----------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_meta_tensors_give_meta_results_of_the_right_shape(case):
    """Shape inference: a meta result of the eager result's shape and dtype, values never read."""
    backend = load_backend("torch")
    import torch

    arrays, _ = case.to_backend(backend, "float32")
    meta = [a.to("meta") for a in arrays]
    weight = torch.linspace(0.5, 2.0, case.out_shape[0])
    for kwargs in ({"reduction": "none"}, {}, {"reduction": "sum", "sample_weight": weight}):
        want = case.call(*arrays, **kwargs)
        got = case.call(*meta, **{k: x.to("meta") if k == "sample_weight" else x for k, x in kwargs.items()})
        assert got.is_meta, kwargs
        assert got.shape == want.shape and got.dtype == want.dtype, kwargs


def test_python_values_next_to_meta_tensors_go_to_meta():
    load_backend("torch")
    import torch

    y_pred = torch.ones(2, 3, device="meta")
    out = ml.mse([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], y_pred, sample_weight=[1.0, 2.0], reduction="none")
    assert out.is_meta and out.shape == (2, 3)
    out = ml.sparse_categorical_cross_entropy([0, 2], y_pred, from_logits=True, class_weight=[1.0, 2.0, 3.0])
    assert out.is_meta and out.shape == ()


def test_meta_tensors_are_not_concrete():
    xp = load_backend("torch").xp
    import torch

    assert xp.is_concrete(torch.ones(2)) is True
    assert xp.is_concrete(torch.ones(2, device="meta")) is False
