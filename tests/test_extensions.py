"""Extension ops: each backend's override agrees with the portable default, values and gradients."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from multiloss.backends._extensions import EXTENSIONS
from multiloss.testing.numerics import EPS, ULPS

# Arguments for each op (NumPy float64), chosen to reach each op's hard cases: large |x|
# (overflow), ±inf in logsumexp, x = y = 0 in xlogy, |e| at and around δ.
X = np.array([[-1e4, -30.0, -1.5, 0.0], [0.0, 2.0, 30.0, 1e4]])
CASES = {
    "softplus": ((X,), {}),
    "log_sigmoid": ((X,), {}),
    "logsumexp": ((X,), {"axis": -1}),
    "log_softmax": ((X,), {"axis": -1}),
    "sparsemax": ((X,), {"axis": -1}),  # (and against the projection by sorting: test_sparsemax_is_...)
    "softmax_nll": ((X, np.array([0, 3])), {"axis": -1}),  # (and ``picked`` given: test_softmax_nll_takes_picked)
    # labels hard and soft; pos_weight: test_sigmoid_cross_entropy_takes_pos_weight
    "sigmoid_cross_entropy": ((X, np.array([[0.0, 1.0, 0.3, 1.0], [0.0, 0.25, 1.0, 0.0]])), {}),
    "xlogy": ((np.array([0.0, 0.0, 2.0, 3.0]), np.array([0.0, 1.5, 0.5, 4.0])), {}),
    "squared_difference": ((X[0], X[1]), {}),
    "huber_difference": ((np.array([0.0, 1.0, -1.0, 0.5, 4.0]), np.array([0.0, 0.0, 0.0, 0.25, -1.0]), 1.0), {}),
    "smooth_l1_difference": ((np.array([0.0, 0.5, -0.5, 0.1, 4.0]), np.array([0.0, 0.0, 0.0, 0.0, -1.0]), 0.5), {}),
    # labels [1, 2] and [1, 1] over 4 frames of 3 classes (log-softmax of X's rows), all frames
    "ctc_nll": ((np.log(np.array([[[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.4, 0.1, 0.5], [0.3, 0.3, 0.4]]] * 2)),
                 np.array([[1, 2], [1, 1]]), np.array([2, 2]), np.array([4, 3])), {"blank": 0}),
    "scan": ((X,), {}),  # a running sum over X's rows: the override against the Python loop
    "fuse": ((X,), {"scale": 0.5}),  # fuse(f)(X, scale=0.5) against f(X, scale=0.5)
    "stop_gradient": ((X,), {}),
    "dim": ((X, -1), {}),  # (and a size known only at run time: tests/test_dynamic_shapes.py)
    "is_concrete": ((X,), {}),
    "on_host": ((X,), {}),
    "to_host": ((X,), {}),
    "checks_labels": ((X,), {}),
}
REDUCING = ("softmax_nll", "sigmoid_cross_entropy", "squared_difference", "huber_difference",
            "smooth_l1_difference")  # take ``reduction``
SMOOTH_EXCEPT_AT_KINKS = {"stop_gradient": "the default is the identity (NumPy has no autodiff)"}


@pytest.fixture(autouse=True)
def _fused_at_every_size(monkeypatch):
    """PyTorch's sigmoid_cross_entropy takes its autograd.Function from 2¹⁶ elements on (the
    composed form is faster below): here, at every size."""
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        import multiloss.backends.torch as torch_adapter

        monkeypatch.setattr(torch_adapter, "_FUSED_FROM", 0)


def test_every_extension_op_has_a_case():
    assert set(CASES) == set(EXTENSIONS)


@pytest.mark.parametrize("op", sorted(EXTENSIONS))
def test_override_matches_default(op, backend):
    xp = backend.xp
    default = functools.partial(EXTENSIONS[op], xp=xp)
    ops = getattr(xp, op)
    args, kwargs = CASES[op]
    floating = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in args]  # integer labels stay integer
    arrays = [backend.from_numpy(a, "float64" if f else None) if isinstance(a, np.ndarray) else a
              for a, f in zip(args, floating)]
    if op in ("is_concrete", "on_host"):  # (these CPU arrays)
        assert ops(arrays[0]) is True
        return
    if op == "checks_labels":  # only PyTorch's CPU cross-entropy raises for a label out of range
        assert ops(arrays[0]) is (backend.xp.backend == "torch")
        return
    if op == "to_host":
        got = ops(arrays[0])
        assert type(got) is np.ndarray and got.dtype == np.float64
        np.testing.assert_array_equal(got, X)
        return
    if op == "dim":  # a known size is a Python int on every backend
        got = ops(*arrays, **kwargs)
        assert got == default(*arrays, **kwargs) == X.shape[-1] and isinstance(got, int)
        return
    if op == "scan":  # c ← c/2 + x_t² over X's rows, as the override and as the default loop
        def step(c, row):
            return 0.5 * c + row * row

        run, loop = ops, default
        ops, default = (lambda x: run(step, x[0, ...] * 0.0, (x,))), (lambda x: loop(step, x[0, ...] * 0.0, (x,)))
    if op == "fuse":  # compare a fused function with the plain one, as for any other op
        def plain(x, *, scale):
            return scale * x * x / (1.0 + xp.abs(x))  # arithmetic only: no libm to differ

        ops, default = ops(plain), plain
    got, want = ops(*arrays, **kwargs), default(*arrays, **kwargs)
    np.testing.assert_allclose(backend.to_numpy(got), backend.to_numpy(want), rtol=ULPS * EPS["float64"], atol=0)
    if backend.value_and_grad is None or op == "stop_gradient":
        return
    n = sum(floating)  # the floating arrays come first: the gradients are theirs

    def total(fn):
        return lambda *a: xp.sum(fn(*a, *arrays[n:], **kwargs))

    _, g_got = backend.value_and_grad(total(ops), *arrays[:n])
    _, g_want = backend.value_and_grad(total(default), *arrays[:n])
    # exp(z) has condition number |z|: a gradient like softmax = exp(x - lse) is accurate to
    # about |x| ulps, so the tolerance grows with |x| (the first argument's magnitude).
    condition = 1.0 + np.abs(args[0])
    for a, b in zip(g_got, g_want):
        a, b = backend.to_numpy(a), backend.to_numpy(b)
        assert np.all(np.isfinite(a)), f"{op} gradient not finite: {a}"
        assert np.all(np.abs(a - b) <= ULPS * EPS["float64"] * condition * np.abs(b)), f"{op} gradients: {a} vs {b}"


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("op", REDUCING)
def test_reducing_ops_reduce_as_the_default(op, reduction, backend):
    """``reduction=`` gives the mean or sum of the per-item values, the override (a framework's
    fused loss) as the portable default, values and gradients."""
    xp = backend.xp
    args, kwargs = CASES[op]
    arrays = [backend.from_numpy(a, "float64" if a.dtype.kind == "f" else None) if isinstance(a, np.ndarray) else a
              for a in args]
    per_item = backend.to_numpy(getattr(xp, op)(*arrays, **kwargs))
    want = per_item.mean() if reduction == "mean" else per_item.sum()
    for fn in (getattr(xp, op), functools.partial(EXTENSIONS[op], xp=xp)):
        got = fn(*arrays, **kwargs, reduction=reduction)
        assert got.ndim == 0
        np.testing.assert_allclose(backend.to_numpy(got), want, rtol=4 * EPS["float64"])
    if backend.value_and_grad is None:
        return
    n = sum(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in args)
    _, g_got = backend.value_and_grad(lambda *a: getattr(xp, op)(*a, *arrays[n:], **kwargs, reduction=reduction),
                                      *arrays[:n])
    _, g_want = backend.value_and_grad(
        lambda *a: xp.sum(getattr(xp, op)(*a, *arrays[n:], **kwargs)) / (per_item.size if reduction == "mean" else 1),
        *arrays[:n])
    for a, b in zip(g_got, g_want):
        np.testing.assert_allclose(backend.to_numpy(a), backend.to_numpy(b), rtol=4 * EPS["float64"], atol=0)


def test_stop_gradient_stops_gradients(backend):
    if backend.value_and_grad is None:
        pytest.skip("NumPy has no autodiff")
    xp = backend.xp
    x = backend.from_numpy(np.array([1.0, 2.0]), "float64")
    _, (g,) = backend.value_and_grad(lambda a: xp.sum(xp.stop_gradient(a) * a), x)
    np.testing.assert_array_equal(backend.to_numpy(g), [1.0, 2.0])


def test_is_concrete_is_false_while_tracing():
    from conftest import load_backend

    jax = load_backend("jax")
    import jax as j

    seen = []
    j.jit(lambda x: seen.append(jax.xp.is_concrete(x)) or x)(jax.from_numpy(np.ones(2)))
    assert seen == [False]


def test_softmax_nll_takes_picked(backend):
    """``picked`` stands for x[index]: given it, every backend returns lse(x) − x[index]."""
    xp = backend.xp
    x, index = backend.from_numpy(X, "float64"), backend.from_numpy(np.array([1, 2]))
    picked = backend.from_numpy(X[[0, 1], [1, 2]], "float64")
    lse = np.log(np.sum(np.exp(X - X.max(1, keepdims=True)), axis=1)) + X.max(1)
    for out in (xp.softmax_nll(x, index, axis=-1, picked=picked), xp.softmax_nll(x, index, axis=-1)):
        np.testing.assert_allclose(backend.to_numpy(out), lse - X[[0, 1], [1, 2]], rtol=1e-15)


def test_log_softmax_with_infinities_is_the_frameworks_on_every_backend(backend):
    """A +inf makes its row NaN, as do all −inf; a −inf among finite logits is a −inf log-probability.
    (The default's x − logsumexp(x) gave −inf beside a +inf where the frameworks give NaN.)"""
    rows = np.array([[np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf], [-np.inf, 0.0, 1.0]])
    with np.errstate(invalid="ignore"):
        got = backend.to_numpy(backend.xp.log_softmax(backend.from_numpy(rows, "float64"), axis=-1))
    assert np.all(np.isnan(got[:2]))
    np.testing.assert_allclose(got[2], [-np.inf, -np.log1p(np.e), 1.0 - np.log1p(np.e)], rtol=1e-15)


def _projection(row):
    """The Euclidean projection of ``row`` onto the simplex, by sorting (Held, Wolfe & Crowder 1974)."""
    u = sorted(row, reverse=True)
    k = max(j for j in range(1, len(u) + 1) if 1 + j * u[j - 1] > math.fsum(u[:j]))
    tau = (math.fsum(u[:k]) - 1) / k
    return [max(x - tau, 0.0) for x in row]


@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_is_the_simplex_projection(backend, axis):
    """xp.sparsemax along ``axis``: sums to 1, sparse, the projection found by sorting; its
    Jacobian is diag(s) − s·sᵀ/|s| (s the support): the gradient of p·c is s·(c − mean_S c)."""
    xp = backend.xp
    rows = np.array([[0.5, 1.2, -0.3, 1.0], [3.0, 3.0, 3.0, 3.0], [1e4, 2.0, 3.0, -1e4], [0.1, -0.2, 0.05, -5.0]])
    x = rows if axis == -1 else rows.T
    got = backend.to_numpy(xp.sparsemax(backend.from_numpy(x, "float64"), axis=axis))
    got = got if axis == -1 else got.T
    np.testing.assert_allclose(got, [_projection(list(r)) for r in rows], rtol=4 * EPS["float64"], atol=1e-15)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=4 * EPS["float64"])
    if backend.value_and_grad is None:
        return
    c = np.array([1.0, 2.0, 4.0, 8.0])
    weights = backend.from_numpy(c if axis == -1 else c[:, None], "float64")
    _, (g,) = backend.value_and_grad(lambda a: xp.sum(weights * xp.sparsemax(a, axis=axis)),
                                     backend.from_numpy(x, "float64"))
    g = backend.to_numpy(g) if axis == -1 else backend.to_numpy(g).T
    support = got > 0
    want = support * (c - (support @ c / support.sum(axis=-1))[:, None])
    np.testing.assert_allclose(g, want, rtol=4 * EPS["float64"], atol=1e-12)


def test_log1p_gradient_at_minus_one_is_inf_not_nan(backend):
    """The JAX and TensorFlow float64 log1p pick log(1 + x) on (−½, −¼) with ``where``; the branch
    not taken must not see x = −1, where its derivative 1/(1 + x) times 0 would be NaN."""
    xp = backend.xp
    x = backend.from_numpy(np.array([-1.0, -0.375, 0.5]), "float64")
    with np.errstate(divide="ignore"):
        want = np.log1p([-1.0, -0.375, 0.5])
    np.testing.assert_allclose(backend.to_numpy(xp.log1p(x)), want, rtol=2 * EPS["float64"])
    if backend.value_and_grad is None:
        return
    _, (g,) = backend.value_and_grad(lambda a: xp.sum(xp.log1p(a)), x)
    np.testing.assert_allclose(backend.to_numpy(g), [np.inf, 1 / 0.625, 1 / 1.5], rtol=EPS["float64"])


@pytest.mark.parametrize("weight", [0.0, 2.5, "array"])
def test_sigmoid_cross_entropy_takes_pos_weight(weight, backend):
    """w·y·softplus(−x) + (1 − y)·softplus(x) for a number or an array w (one per class), the
    override as the default, per item and reduced, values and gradients."""
    xp = backend.xp
    (x, y), _ = CASES["sigmoid_cross_entropy"]
    w = backend.from_numpy(np.array([0.5, 1.0, 2.0, 4.0]), "float64") if weight == "array" else weight
    arrays = [backend.from_numpy(a, "float64") for a in (x, y)]
    for reduction in ("none", "mean", "sum"):
        for fn in (xp.sigmoid_cross_entropy, functools.partial(EXTENSIONS["sigmoid_cross_entropy"], xp=xp)):
            got = backend.to_numpy(fn(*arrays, pos_weight=w, reduction=reduction))
            wn = np.array([0.5, 1.0, 2.0, 4.0]) if weight == "array" else weight
            with np.errstate(over="ignore"):
                want = wn * y * np.logaddexp(0.0, -x) + (1 - y) * np.logaddexp(0.0, x)
            want = want if reduction == "none" else want.mean() if reduction == "mean" else want.sum()
            np.testing.assert_allclose(got, want, rtol=ULPS * EPS["float64"], atol=0)
    if backend.value_and_grad is None:
        return

    def total(fn):
        return lambda a, b: xp.sum(fn(a, b, pos_weight=w))

    _, g_got = backend.value_and_grad(total(xp.sigmoid_cross_entropy), *arrays)
    _, g_want = backend.value_and_grad(total(functools.partial(EXTENSIONS["sigmoid_cross_entropy"], xp=xp)), *arrays)
    for a, b in zip(g_got, g_want):  # within ULPS·(1 + |x|) ulps, as test_override_matches_default
        a, b = backend.to_numpy(a), backend.to_numpy(b)
        assert np.all(np.abs(a - b) <= ULPS * EPS["float64"] * (1.0 + np.abs(x)) * np.abs(b)), f"{a} vs {b}"
