"""multiloss.testing: assert_backends_agree, the hypothesis strategies and the pytest plugin;
multiloss.backends's framework loader."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import multiloss as ml
from conftest import ALL_BACKENDS, load_backend
from multiloss.backends import BACKENDS, load, load_all
from multiloss.domains import Domain
from multiloss.registry import REGISTRY
from multiloss.testing import assert_backends_agree, strategies
from multiloss.testing.agree import selected
from multiloss.testing.matrix import Case

pytest_plugins = ["pytester"]

INSTALLED = [name for name, module, _ in BACKENDS if importlib.util.find_spec(module) is not None]
AVAILABLE = [name for name in INSTALLED if name in selected()]  # what assert_backends_agree runs on
DTYPES = ("float64", "float32", "float16", "bfloat16")
BUILT_INS = sorted(name for name, spec in REGISTRY.items() if spec.kernel.__module__.startswith("multiloss."))


def failing(message: str) -> set[tuple[str, str, str]]:
    """(dtype, backend, quantity) of the rows an assert_backends_agree table marks ✗."""
    lines = message.splitlines()
    assert lines[2].split()[:3] == ["dtype", "backend", "quantity"], message
    return {tuple(re.split(r"\s{2,}", line)[:3]) for line in lines[3:] if "✗" in line}


def row(message: str, dtype: str, backend: str, quantity: str) -> list[str]:
    """The cells of one row of an assert_backends_agree table."""
    for line in message.splitlines()[3:]:
        cells = re.split(r"\s{2,}", line)
        if cells[:3] == [dtype, backend, quantity]:
            return cells
    raise AssertionError(f"no row {dtype} {backend} {quantity} in\n{message}")


@pytest.fixture
def register():
    """Register losses of a test's own, removed from the registry afterwards."""
    names = []

    def decorate(**options):
        def wrap(kernel):
            names.append(kernel.__name__)
            return ml.loss(**options)(kernel)

        return wrap

    yield decorate
    for name in names:
        REGISTRY.pop(name, None)


def need(*names):
    """Skip unless each of these backends is installed and selected."""
    for name in names:
        load_backend(name)


# --- assert_backends_agree: built-ins and a loss of the user's own agree ---------------------
@pytest.mark.parametrize(
    "name, params, kwargs",
    [
        # Errors at the kink; reduction="none" and a NumPy sample_weight, converted too.
        ("huber", {}, {"reduction": "none", "sample_weight": np.linspace(0.0, 2.0, 6)}),
        ("sparse_categorical_cross_entropy", {"from_logits": True, "ignore_index": 2}, {}),  # integer labels
        ("binary_focal", {"from_logits": True, "gamma": 0.5}, {}),  # parameters; logits up to ±65504
        ("triplet_margin", {"swap": True, "p": 1.0}, {}),  # three floating inputs
    ],
)
def test_built_ins_agree(name, params, kwargs):
    case = Case(REGISTRY[name], params)
    assert_backends_agree(case.spec.function, *case.inputs.values(), **case.params, **kwargs)


def test_every_dtype_agrees():
    case = Case(REGISTRY["huber"], {})
    dtypes = [d for d in DTYPES if any(d in load(n).DTYPES for n in AVAILABLE)]  # NumPy has no bfloat16
    assert_backends_agree(ml.huber, *case.inputs.values(), dtypes=dtypes)


def test_a_loss_of_ones_own_agrees(register):
    @register(conditions={"delta": "> 0"})
    def pseudo_huber_agrees(y_true, y_pred, *, delta=1.0, xp):
        e = (y_pred - y_true) / delta
        return delta**2 * (xp.sqrt(1.0 + e * e) - 1.0)

    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    assert_backends_agree(pseudo_huber_agrees, y, p, delta=2.0, dtypes=("float64", "float32"))


# --- assert_backends_agree: disagreements are tabled ----------------------------------------
def test_a_value_off_on_one_backend_fails_with_its_row(register):
    need("jax")

    @register()
    def off_on_jax(y_true, y_pred, *, xp):
        e = y_pred - y_true
        return e * e + (1e-3 if ml.backend_name(y_pred) == "jax" else 0.0)

    y, p = np.zeros((2, 3)), np.arange(6.0).reshape(2, 3) / 4
    with pytest.raises(AssertionError) as info:
        assert_backends_agree(off_on_jax, y, p)
    message = str(info.value)
    assert "off_on_jax(y_true (2, 3) float64, y_pred (2, 3) float64)" in message
    # mean(e²) = 55/96 = 0.5729166666666666; the median of three or more backends is that value,
    # of two their mean: both are flagged then, each half-way.
    if len(AVAILABLE) >= 3:
        assert failing(message) == {("float64", "jax", "value")}
        cells = row(message, "float64", "jax", "value")
        assert cells[3:7] == ["0.001", "0.00175", "7.86e+12", "()"]
        assert [float(c) for c in cells[7:9]] == pytest.approx([55 / 96 + 1e-3, 55 / 96], rel=1e-15)
    else:
        assert failing(message) == {("float64", "numpy", "value"), ("float64", "jax", "value")}
    # The tolerance scales with the dtype: 1e-3 of 0.66 is within float16's 16 ulps, and an atol given is used.
    assert_backends_agree(off_on_jax, y, p, dtypes=("float16",))
    assert_backends_agree(off_on_jax, y, p, atol=2e-3)


def test_a_gradient_off_on_torch_fails_with_its_row():
    need("torch", "jax", "tensorflow")  # three autodiff backends: the median picks out the odd one

    def detached_on_torch(y_true, y_pred):
        xp = ml.array_namespace(y_true, y_pred)
        if ml.backend_name(y_pred) == "torch":  # the same value, half the gradient
            y_pred = 0.5 * (y_pred + xp.stop_gradient(y_pred))
        return xp.mean((y_pred - y_true) ** 2)

    y, p = np.zeros(4), np.array([1.0, -2.0, 0.5, 4.0])
    with pytest.raises(AssertionError) as info:
        assert_backends_agree(detached_on_torch, y, p, dtypes=("float64", "float32"))
    message = str(info.value)
    assert failing(message) == {("float64", "torch", "grad y_pred"), ("float32", "torch", "grad y_pred")}
    cells = row(message, "float64", "torch", "grad y_pred")
    assert cells[6:9] == ["(3,)", "1.0", "2.0"]  # d/dp mean(p²) = p/2 at the worst element, halved on torch
    assert row(message, "float32", "torch", "grad y_pred")[7:9] == ["1.0", "2.0"]


def test_nan_on_one_backend_is_caught():
    if len(AVAILABLE) < 2:
        pytest.skip("one backend: nothing to compare")

    def nan_on_numpy(x):
        xp = ml.array_namespace(x)
        return xp.where(x > 2.5, xp.nan, x) if ml.backend_name(x) == "numpy" else x * 1.0

    with pytest.raises(AssertionError) as info:
        assert_backends_agree(nan_on_numpy, np.arange(4.0).reshape(2, 2))
    message = str(info.value)
    assert failing(message) == {("float64", "numpy", "value")}
    assert row(message, "float64", "numpy", "value")[6:9] == ["(1, 1)", "nan", "3.0"]


def test_a_backend_that_raises_or_returns_another_shape_is_a_row():
    need("torch", "jax")

    def odd(x):
        name = ml.backend_name(x)
        if name == "torch":
            raise ValueError("no torch today")
        return ml.array_namespace(x).reshape(x, (-1,)) if name == "jax" else x * 2.0

    with pytest.raises(AssertionError) as info:
        assert_backends_agree(odd, np.ones((2, 2)), grad=False)
    message = str(info.value)
    assert failing(message) == {("float64", "torch", "value"), ("float64", "jax", "value")}
    assert row(message, "float64", "torch", "value")[3] == "✗ raised ValueError: no torch today"
    assert row(message, "float64", "jax", "value")[3] == "✗ shape (4,), the others' (2, 2)"


def test_arguments_are_checked():
    with pytest.raises(ValueError, match=r"`dtypes` must be a sequence of .*; got 'float32'"):
        assert_backends_agree(ml.mse, np.zeros(2), np.ones(2), dtypes="float32")
    with pytest.raises(ValueError, match=r"`dtypes` \['bfloat16'\]: none of \['numpy'\] has it"):
        assert_backends_agree(ml.mse, np.zeros(2), np.ones(2), backends=["numpy"], dtypes=["bfloat16"])


# --- strategies -------------------------------------------------------------------------------
def test_every_built_in_domain_has_a_strategy():
    for name in BUILT_INS:
        domain, params = REGISTRY[name].domain, REGISTRY[name].params
        assert isinstance(domain, Domain), (name, domain)
        assert 1 <= domain.min_dims <= domain.max_dims, (name, domain)
        assert isinstance(domain.strategy((3,) * domain.min_dims, params), st.SearchStrategy), (name, domain)


# Each built-in loss at its defaults and each variant.
SETTINGS = [(n, {**REGISTRY[n].params, **v}) for n in BUILT_INS for v in ({}, *REGISTRY[n].variants)]


@pytest.mark.parametrize("name, params", SETTINGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SETTINGS)])
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_a_domain_samples_and_draws_the_same_names_shapes_and_dtypes(name, params, data):
    domain = REGISTRY[name].domain
    for shape in [(6, 4, 2)[:k] for k in range(domain.min_dims, domain.max_dims + 1)]:
        sampled = domain(np.random.default_rng(0), shape, params)
        drawn = data.draw(domain.strategy(shape, params))
        assert drawn.keys() == sampled.keys(), shape
        for n in sampled:
            assert (drawn[n].shape, drawn[n].dtype) == (sampled[n].shape, sampled[n].dtype), (shape, n)


@pytest.mark.parametrize("name", BUILT_INS)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_drawn_arguments_are_accepted_and_finite(name, data):
    spec = REGISTRY[name]
    arrays, params = data.draw(strategies.arguments(spec))
    assert list(arrays) == list(spec.inputs)
    for n, a in arrays.items():
        assert a.dtype == (np.int64 if n in spec.indices else np.float64), n
    for reduction in ("none", "mean"):
        value = spec.function(*arrays.values(), **params, reduction=reduction)
        assert np.all(np.isfinite(value)), (reduction, value)


@settings(max_examples=10, deadline=None)
@given(strategies.inputs("sparse_categorical_cross_entropy", dtype="bfloat16", shape=(3, 4),
                         params={"ignore_index": -1}),
       strategies.inputs(ml.hinge, dtype="float16"))
def test_drawn_inputs_have_the_dtype_shape_and_labels_asked_for(sparse, hinge):
    labels, scores = sparse["y_true"], sparse["y_pred"]
    assert labels.dtype == np.int64 and labels.shape == (3,) and set(labels.tolist()) <= {-1, 0, 1, 2, 3}
    assert scores.dtype == np.float32 and scores.shape == (3, 4)
    assert not np.any(scores.view(np.uint32) & 0xFFFF)  # bfloat16 values: the low 16 bits are 0
    assert hinge["y_pred"].dtype == np.float16 and set(hinge["y_true"].ravel().tolist()) <= {-1.0, 0.0, 1.0}


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_magnitude_scales_the_scalable_inputs_only(data):
    """Logits and embeddings take the drawn magnitude, from float32's smallest normal number to its
    largest / 1e3; labels and probabilities stay as the domain draws them."""
    size = data.draw(strategies.magnitudes("float32"))
    assert 2.0**-126 <= size <= 3.5e35
    logits = data.draw(strategies.inputs("binary_cross_entropy", "float32", (3, 4), {"from_logits": True},
                                         magnitude=size))
    probabilities = data.draw(strategies.inputs("binary_cross_entropy", "float32", (3, 4), magnitude=size))
    triplets = data.draw(strategies.inputs("triplet_margin", "float64", (2, 3), magnitude=2.0**-1000))
    top = float(np.max(np.abs(logits["y_pred"])))
    assert top == 0 or top == pytest.approx(size, rel=2.0**-23)
    for arrays in (logits, probabilities):
        assert np.all((arrays["y_true"] >= 0) & (arrays["y_true"] <= 1))
    assert np.all((probabilities["y_pred"] >= 0) & (probabilities["y_pred"] <= 1))
    top = max(float(np.max(np.abs(a))) for a in triplets.values())
    assert top in (0.0, 2.0**-1000)  # one factor for the three: their relations are kept
    assert ml.domains.triplets().scalable({}) == ("anchor", "positive", "negative")


def test_a_domain_of_ones_own_is_drawn_from_a_seed(register):
    def fifths(rng, shape, params):
        return {"y_true": rng.integers(0, 5, shape) / 5, "y_pred": np.full(shape, 0.5)}

    @register(domain=fifths)
    def fifths_loss(y_true, y_pred, *, xp):
        return (y_pred - y_true) ** 2

    @settings(max_examples=5, deadline=None)
    @given(strategies.inputs(fifths_loss, dtype="float32", shape=(2, 2)))
    def check(arrays):
        assert arrays["y_true"].dtype == np.float32 and set((arrays["y_true"] * 5).round().ravel()) <= set(range(5))
        assert np.all(arrays["y_pred"] == 0.5)

    check()


def test_strategy_arguments_are_checked(register):
    @register()
    def without_domain(y_true, y_pred, *, xp):
        return y_pred - y_true

    with pytest.raises(ValueError, match="without_domain has no domain"):
        strategies.inputs(without_domain)
    with pytest.raises(ValueError, match=r"`dtype` must be one of .*; got 'int8'"):
        strategies.inputs(ml.mse, dtype="int8")
    with pytest.raises(ValueError, match=r"`loss` must be a registered loss; got 'nope'"):
        strategies.inputs("nope")
    with pytest.raises(TypeError, match="`loss` must be a multiloss loss"):
        strategies.params(len)


@pytest.mark.parametrize("name", ["huber", "sparse_categorical_cross_entropy"])
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_every_backend_agrees_with_numpy_on_drawn_inputs(backend, name, data):
    arrays = data.draw(strategies.inputs(name, shape=(3, 4)))  # one shape: one compilation per backend
    assert_backends_agree(REGISTRY[name].function, *arrays.values(), backends=("numpy", backend.xp.backend))


# --- the package imports nothing it does not need --------------------------------------------
def test_importing_the_testing_package_imports_no_framework_nor_hypothesis():
    code = textwrap.dedent("""
        import sys
        import multiloss.testing, multiloss.testing.plugin
        heavy = {"torch", "jax", "tensorflow", "hypothesis"}
        assert not heavy & set(sys.modules), heavy & set(sys.modules)
        multiloss.testing.assert_backends_agree
        assert not heavy & set(sys.modules), heavy & set(sys.modules)
        assert multiloss.testing.strategies.inputs and "hypothesis" in sys.modules
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- the framework loader -----------------------------------------------------------------------
def test_load_sets_frameworks_up_for_comparing():
    """float64 means float64 on JAX; TensorFlow's C++ logging is quiet, even loaded after JAX
    (whose import sets its own default), and its logger at ERROR."""
    need("jax", "tensorflow")
    code = textwrap.dedent("""
        import logging, os
        from multiloss.backends import load
        os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
        jnp = load("jax").xp
        assert jnp.zeros(1, dtype=jnp.float64).dtype == jnp.float64
        load("tensorflow")
        import tensorflow as tf
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2" and tf.get_logger().level == logging.ERROR
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_load_all_reports_progress_and_what_is_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "multiloss.backends.torch", None)  # its import fails, as without torch
    messages = []
    loaded, missing = load_all(["numpy", "torch"], log=messages.append)
    assert [b.xp.backend for b in loaded] == ["numpy"] and missing == ["torch"]
    assert re.fullmatch(r"importing numpy \.\.\. \d+\.\d s\nimporting torch \.\.\. not installed\n", "".join(messages))
    with pytest.raises(ImportError):
        load("torch")


# --- the pytest plugin, in a test suite of a user's own --------------------------------------
PLUGIN = "multiloss.testing.plugin"
# An install of multiloss made before the plugin became opt-in still registers it (pytest11 entry
# point "multiloss") until reinstalled: the users' suites below block that name.
NO_ENTRY_POINT = ("-p", "no:multiloss")


@pytest.fixture
def users_suite(pytester, monkeypatch):
    """``pytester``, whose runs import this multiloss rather than an installed one."""
    monkeypatch.setenv("PYTHONPATH", str(Path(ml.__file__).parents[1]), prepend=os.pathsep)
    return pytester

USER_TESTS = """
    import numpy as np
    import pytest
    from hypothesis import given, settings

    import multiloss
    from multiloss.testing import strategies

    def test_xp(backend, xp):
        assert xp is backend.xp

    @settings(max_examples=3, deadline=None)
    @given(arrays=strategies.inputs(multiloss.mse, shape=(2, 3)))
    def test_mse(backend, arrays):
        out = multiloss.mse(*(backend.from_numpy(a, "float64") for a in arrays.values()))
        assert multiloss.backend_name(out) == backend.xp.backend and float(backend.to_numpy(out)) >= 0

    @pytest.mark.backends("numpy")
    def test_numpy_only(backend):
        assert backend.xp.backend == "numpy"

    def test_dtype(backend, dtype):
        assert dtype in backend.DTYPES
"""


def outcomes(result) -> dict[str, dict[str, list[str]]]:
    """{backend id: {outcome: [test and reason]}} from a ``-v -rs`` run."""
    found = {}
    for line in result.stdout.lines:
        m = re.match(r".*::(\w+)\[(\w+)(?:-(\w+))?\] (PASSED|SKIPPED|FAILED)", line)
        if m:
            test, name, param, outcome = m.groups()
            found.setdefault(name, {}).setdefault(outcome, []).append(test + (f"-{param}" if param else ""))
    return found


def test_plugin_fixtures_in_a_users_suite(users_suite, monkeypatch):
    """Each installed backend that MULTILOSS_TEST_BACKENDS names runs every test it has a dtype
    for; TensorFlow (the slowest to import), left out, is skipped saying so, and so is any
    framework that is not installed."""
    monkeypatch.setenv("MULTILOSS_TEST_BACKENDS", ",".join(n for n in ALL_BACKENDS if n != "tensorflow"))
    run = [n for n in INSTALLED if n != "tensorflow"]
    users_suite.makepyfile(test_users=textwrap.dedent(USER_TESTS))
    result = users_suite.runpytest_subprocess(*NO_ENTRY_POINT, "-p", PLUGIN, "-v", "-rs", "-p", "no:cacheprovider",
                                              timeout=300)
    found = outcomes(result)
    every = ["test_xp", "test_mse", "test_numpy_only"] + [f"test_dtype-{d}" for d in DTYPES]
    for name in ALL_BACKENDS:
        if name in run:
            passed = [t for t in every if t.removeprefix("test_dtype-") in (*load(name).DTYPES, t)]
            passed = [t for t in passed if t != "test_numpy_only" or name == "numpy"]
            assert sorted(found[name]["PASSED"]) == sorted(passed), (name, result.stdout.str())
        else:
            assert found[name] == {"SKIPPED": every}, (name, result.stdout.str())
    reasons = ["tensorflow not in MULTILOSS_TEST_BACKENDS", "numpy has no bfloat16"]
    reasons += ["array_api_strict has no float16"] if "array_api_strict" in run else []
    reasons += [f"{name} is not installed" for name in set(ALL_BACKENDS) - set(INSTALLED) - {"tensorflow"}]
    reasons += ["marked to run on numpy only"] if len(run) > 1 else []
    for reason in reasons:  # the -rs summary, in any order
        result.stdout.fnmatch_lines([f"SKIPPED * {reason}"])
    assert result.ret == 0


def test_a_framework_that_is_not_installed_is_skipped(monkeypatch):
    monkeypatch.delenv("MULTILOSS_TEST_BACKENDS", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match="^jax is not installed$"):
        load_backend("jax")


@pytest.mark.parametrize("opt_in", ["none", "-p", "conftest"])
def test_the_plugin_is_opt_in(users_suite, monkeypatch, opt_in):
    """Installing multiloss adds no fixtures to a suite; ``-p multiloss.testing.plugin`` or
    ``pytest_plugins`` in its conftest.py adds them."""
    assert "pytest11" not in (Path(ml.__file__).parents[1] / "pyproject.toml").read_text()  # no entry point
    monkeypatch.setenv("MULTILOSS_TEST_BACKENDS", "numpy")
    users_suite.makepyfile(test_users="def test_xp(backend, xp):\n    assert xp is backend.xp\n")
    if opt_in == "conftest":
        users_suite.makeconftest(f"pytest_plugins = [{PLUGIN!r}]")
    args = ("-p", PLUGIN) if opt_in == "-p" else ()
    result = users_suite.runpytest_subprocess(*NO_ENTRY_POINT, *args, "-p", "no:cacheprovider", timeout=120)
    if opt_in == "none":
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*fixture 'backend' not found*"])
    else:
        result.assert_outcomes(passed=1, skipped=len(ALL_BACKENDS) - 1)  # numpy; the others not selected


def test_plugin_rejects_an_unknown_backend(users_suite, monkeypatch):
    monkeypatch.setenv("MULTILOSS_TEST_BACKENDS", "numpy,cupy")
    users_suite.makeconftest(f"pytest_plugins = [{PLUGIN!r}]")
    users_suite.makepyfile(test_users="def test_nothing(): pass")
    result = users_suite.runpytest_subprocess(*NO_ENTRY_POINT, "-p", "no:cacheprovider", timeout=120)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "MULTILOSS_TEST_BACKENDS names unknown backends ['cupy']" in result.stderr.str()
