"""Array libraries beyond the four frameworks: Dask (lazy, chunked, on a cluster, from disk), any
library with ``__array_namespace__`` (the portable defaults, or a clear error for a function it
lacks), and the standard's fill-ins. array-api-strict runs the whole matrix as a backend (the
``backend`` fixture); CuPy needs a GPU: ``tests/scripts/cuda_check.py`` covers it.
"""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest

import multiloss as ml
from multiloss import backends
from multiloss.testing.matrix import cases

da = pytest.importorskip("dask.array", reason="Dask is not installed (pip install 'dask[array]')")
import dask  # noqa: E402

CASES = cases()
FIRST = list({case.spec.name: case for case in reversed(CASES)}.values())[::-1]  # each loss at its defaults


def chunked(a: np.ndarray):
    """``a`` as a Dask array of chunks of 2 along the batch axis (3 chunks of a batch of 6)."""
    return da.from_array(a, chunks=(2,) + a.shape[1:]) if a.ndim else da.from_array(a)


class Reads:
    """A NumPy array whose reads Dask counts: each chunk ``from_array`` takes is one read."""

    def __init__(self, a: np.ndarray):
        self.a, self.shape, self.dtype, self.ndim, self.reads = a, a.shape, a.dtype, a.ndim, 0

    def __getitem__(self, key):
        self.reads += 1
        return self.a[key]


@pytest.fixture
def no_compute(monkeypatch):
    """Fails a test whose loss call computes anything: a scheduler that refuses."""
    def refuse(*args, **kwargs):
        raise AssertionError("a loss call computed a Dask graph")

    with dask.config.set(scheduler=refuse):
        yield


# --- Dask ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", FIRST, ids=[c.id for c in FIRST])
def test_every_loss_on_chunked_dask_arrays_is_lazy_and_equals_numpy(case, no_compute):
    """Each loss over arrays of three chunks returns a Dask array without computing it (the
    call builds a graph), and its value, computed, is NumPy's (to a few ulps: Dask sums chunk by
    chunk, NumPy pairwise)."""
    arrays = [chunked(case.inputs[n]) for n in case.spec.inputs]
    lazy_none = case.call(*arrays, reduction="none")
    lazy_mean = case.call(*arrays)
    assert isinstance(lazy_none, da.Array) and isinstance(lazy_mean, da.Array)
    assert ml.backend_name(lazy_mean) == "dask"
    with dask.config.set(scheduler="sync"):
        none, mean = dask.compute(lazy_none, lazy_mean)
    inputs = [case.inputs[n] for n in case.spec.inputs]
    np.testing.assert_allclose(none, case.call(*inputs, reduction="none"), rtol=8 * 2.0**-52, atol=0)
    np.testing.assert_allclose(mean, case.call(*inputs), rtol=8 * 2.0**-52, atol=0)


def test_a_value_out_of_the_domain_is_nan_and_nothing_is_read_twice(no_compute):
    """Lazy arrays follow the compiled-mode rule in every check mode: the call reads nothing
    (a read would compute the graph, and the user's ``compute`` would compute it again), the
    item out of the domain is NaN, and each chunk is read once, when the user computes."""
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    p = np.array([0.1, 0.8, 1.5, 0.2, 0.6, 0.3])  # 1.5 is not a probability
    sources = Reads(y), Reads(p)
    for mode in ("auto", "strict"):
        with ml.checks(mode):
            lazy = ml.binary_cross_entropy(*(da.from_array(s, chunks=2, meta=np.empty(0)) for s in sources),
                                           reduction="none")
    assert all(s.reads == 0 for s in sources)
    with dask.config.set(scheduler="sync"):
        out = lazy.compute()
    assert [s.reads for s in sources] == [3, 3]  # three chunks each, read once
    want = ml.binary_cross_entropy(y[[0, 1, 3, 4, 5]], p[[0, 1, 3, 4, 5]], reduction="none")
    np.testing.assert_array_equal(np.isnan(out), [False, False, True, False, False, False])
    np.testing.assert_allclose(out[[0, 1, 3, 4, 5]], want, rtol=2.0**-52)
    with pytest.raises(ValueError, match="probability"):  # the same values, eager: the usual error
        ml.binary_cross_entropy(y, p)


def test_a_loss_over_an_on_disk_array_larger_than_a_chunk(tmp_path):
    """A validation loss over predictions on disk (``np.memmap``), 2 MB in 16 chunks of 128 kB:
    Dask reads chunk by chunk, and the result is the exactly rounded mean to a few ulps."""
    n, chunk = 1 << 18, 1 << 14
    rng = np.random.default_rng(0)
    files = {}
    for name, values in (("y_true", rng.normal(size=n)), ("y_pred", rng.normal(size=n))):
        files[name] = np.memmap(tmp_path / f"{name}.f64", dtype=np.float64, mode="w+", shape=(n,))
        files[name][:] = values
        files[name].flush()
    on_disk = {k: np.memmap(tmp_path / f"{k}.f64", dtype=np.float64, mode="r", shape=(n,)) for k in files}
    y_true, y_pred = (da.from_array(a, chunks=chunk) for a in on_disk.values())
    assert y_true.npartitions == y_pred.npartitions == n // chunk
    lazy = ml.huber(y_true, y_pred, delta=0.5)
    with dask.config.set(scheduler="threads"):
        got = float(lazy.compute())
    e = np.abs(on_disk["y_pred"] - on_disk["y_true"])  # the reference: math.fsum of float64 terms
    terms = np.where(e <= 0.5, 0.5 * e * e, 0.5 * (e - 0.25))
    want = math.fsum(terms) / n
    assert abs(got - want) <= 4 * 2.0**-52 * want


def test_a_loss_on_a_local_cluster_with_two_workers(tmp_path):
    """The README's example: a loss over on-disk arrays of four chunks, evaluated by
    dask.distributed's scheduler on a LocalCluster of two worker processes."""
    distributed = pytest.importorskip("dask.distributed", reason="dask.distributed is not installed")
    rng = np.random.default_rng(1)
    n = 40_000
    for name, values in (("y", rng.integers(0, 2, n)), ("p", rng.uniform(0.01, 0.99, n))):
        np.asarray(values, np.float32).tofile(tmp_path / f"{name}.f32")
    y = da.from_array(np.memmap(tmp_path / "y.f32", np.float32, "r"), chunks=10_000)
    p = da.from_array(np.memmap(tmp_path / "p.f32", np.float32, "r"), chunks=10_000)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        loss = ml.binary_cross_entropy(y, p)
        got = float(loss.compute())
    want = ml.binary_cross_entropy(np.fromfile(tmp_path / "y.f32", np.float32).astype(np.float64),
                                   np.fromfile(tmp_path / "p.f32", np.float32).astype(np.float64))
    assert got == pytest.approx(float(want), rel=8 * 2.0**-23)  # float32, summed by chunk


# --- any library with __array_namespace__ ----------------------------------------------------
def library(name: str, without: tuple[str, ...] = ()) -> types.ModuleType:
    """A library multiloss has no adapter for, as one it meets through ``__array_namespace__``:
    array-api-strict's functions (less ``without``) under another name, whose arrays are
    array-api-strict's, of a type of their own (``asarray``)."""
    strict = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed")
    lib = types.ModuleType(name)
    lib.__dict__.update({k: v for k, v in vars(strict).items() if k not in without and not k.startswith("__")})

    class Array(type(strict.asarray(0.0))):
        __slots__ = ()

        def __array_namespace__(self, api_version=None):
            return lib

    lib.asarray = lambda x: Array._new(np.asarray(x), device=None)  # (array-api-strict's own constructor)
    return lib


@pytest.fixture
def unknown(monkeypatch):
    """Dispatch without the array-api-strict adapter: its arrays' subclasses go the way of any
    library's (``multiloss.backends.standard``)."""
    monkeypatch.setattr(backends, "BACKENDS", tuple(b for b in backends.BACKENDS if b[0] != "array_api_strict"))


def test_an_unknown_standard_library_gets_the_portable_defaults(unknown):
    """Every loss runs on the library's own functions plus the extension ops' portable defaults,
    and agrees with NumPy."""
    lib = library("otherlib")
    for case in FIRST:
        arrays = [lib.asarray(case.inputs[n]) for n in case.spec.inputs]
        assert ml.array_namespace(*arrays).backend == "otherlib"
        got = case.call(*arrays, reduction="none")
        want = case.call(*(case.inputs[n] for n in case.spec.inputs), reduction="none")
        np.testing.assert_allclose(np.from_dlpack(got), want, rtol=8 * 2.0**-52, atol=0, err_msg=case.id)


def test_a_function_the_library_lacks_is_a_clear_error(unknown):
    lib = library("tinylib", without=("log1p",))
    t, p = lib.asarray([0.0, 1.0]), lib.asarray([0.5, 2.0])
    assert float(ml.mse(t, p)) == 0.625  # what the library has suffices for MSE
    with pytest.raises(AttributeError, match=r"tinylib's array namespace \(tinylib\) has no `log1p`, which this loss"):
        ml.mean_squared_log_error(t, p)


def test_an_array_of_no_known_library_is_a_type_error():
    class Opaque:
        pass

    with pytest.raises(TypeError, match=r"`y_true`: multiloss does not support arrays of type .*Opaque; expected "
                                        r"NumPy, PyTorch, JAX or TensorFlow arrays, or those of a library that "
                                        r"implements the array API standard"):
        ml.mse(Opaque(), np.zeros(2))


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_the_take_along_axis_fill_in_is_the_standards(axis):
    """Dask lacks take_along_axis (2024.12): the fill-in gives NumPy's, NaN and inf kept where
    they are picked and kept out where they are not."""
    x = np.array([[1.0, np.nan, 3.0], [np.inf, 5.0, -6.0], [7.0, 8.0, 9.0]])
    index = np.array([[0, 2, 1], [1, 0, 0], [2, 2, 1]])
    ns = ml.array_namespace(da.from_array(x))
    assert not hasattr(sys.modules["array_api_compat.dask.array"], "take_along_axis")
    got = ns.take_along_axis(da.from_array(x, chunks=2), da.from_array(index, chunks=2), axis=axis).compute()
    np.testing.assert_array_equal(got, np.take_along_axis(x, index, axis=axis))
