"""Properties over generated inputs.

- Shapes (regression): any rank (0 included), empty axes, per-sample weights; hypothesis draws
  shapes and a seed for the loss's own domain, and every backend in float64 must agree with
  NumPy, element by element and reduced.
- Magnitudes (every loss and variant): inputs scaled to any magnitude the dtype holds give
  finite values and gradients wherever the exact ones are finite, on every backend, and in
  float64 the backends agree. (The matrix checks accuracy on one (6, 8) shape of moderate values.)
"""

from __future__ import annotations

import copy
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ALL_BACKENDS, load_backend
from multiloss.registry import REGISTRY
from multiloss.testing import matrix, strategies
from multiloss.testing.matrix import cases, math_module
from multiloss.testing.numerics import EPS, FINITE_MAX, NORMAL, PEER_ULPS, errors, overflowed

# Elementwise losses (the per-row families have their own shape rules).
SPECS = [(spec, p) for spec in REGISTRY.values() for p in ({}, *spec.variants) if spec.family == "regression"]


@settings(max_examples=30, deadline=None)
@given(
    case=st.sampled_from(SPECS),
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
    weight_rank=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_backend_agrees_with_numpy_on_any_shape(case, shape, weight_rank, seed):
    spec, params = case
    params = {**spec.params, **params}
    rng = np.random.default_rng(seed)
    data = spec.domain(rng, shape, params)
    w = rng.uniform(0.0, 2.0, shape[: min(weight_rank, len(shape))])
    want_none = spec.function(*data.values(), reduction="none", **params)
    want_mean = spec.function(*data.values(), sample_weight=w, **params)
    assert np.shape(want_none) == shape

    expanded = np.broadcast_to(w.reshape(w.shape + (1,) * (len(shape) - w.ndim)), shape)
    total = np.sum(expanded)
    want = np.sum(want_none * expanded) / total if total else 0.0
    np.testing.assert_allclose(want_mean, want, rtol=1e-13, atol=1e-300)

    for name in ALL_BACKENDS[1:]:
        try:
            backend = load_backend(name)
        except pytest.skip.Exception:
            continue
        arrays = [backend.from_numpy(a, "float64") for a in data.values()]
        got_none = backend.to_numpy(spec.function(*arrays, reduction="none", **params))
        got_mean = backend.to_numpy(spec.function(*arrays, sample_weight=backend.from_numpy(w, "float64"), **params))
        # Backends' libm differ by an ulp or so; cancelling terms (Poisson) make that absolute.
        atol = 1e-13 * (1.0 + np.max(np.abs(want_none), initial=0.0))
        np.testing.assert_allclose(got_none, want_none, rtol=1e-13, atol=atol, err_msg=f"{name} {spec.name}")
        np.testing.assert_allclose(got_mean, want_mean, rtol=1e-13, atol=atol, err_msg=f"{name} {spec.name}")


# --- every loss at any magnitude ------------------------------------------------------------
#: Every registered loss with a domain and a reference, at its defaults and each variant, on
#: items of shape (3, 8) (8 classes: a variant's class weights have 8).
CASES = [case for case in cases(shape=(3, 8)) if case.spec.builtin]
M = math_module()
#: A value or derivative within this factor of the dtype's largest finite number may overflow on
#: the way (2·e, a sum of two such terms): below it, it must not.
HEADROOM = 16.0


def _reference(case, held):
    """The case's reference at ``held``, its derivatives by central differences with a step
    relative to each input (the matrix's 1e-25·max(1, |x|) would dwarf inputs scaled to 1e-300;
    an input at 0 steps by 1e-25 × the magnitude of the scaled inputs, or 1 without them)."""
    scaled = case.spec.domain.scalable(case.params)
    magnitude = max((float(np.max(np.abs(held[n]), initial=0.0)) for n in scaled), default=0.0) or 1.0

    def relative(f, x, m):
        h = m.mpf("1e-25") * (abs(x) if x else magnitude)
        slopes = []
        for a, b in zip(f(x + h), f(x - h)):
            d = (a - b) / (2 * h)
            slopes.append((d.real if d.imag == 0 else m.nan) if isinstance(d, m.mpc) else d)
        return slopes

    with mock.patch.object(matrix, "derivatives", relative), np.errstate(all="ignore"):
        return case.reference(held, M)


def _finite(got, want, dtype, what):
    """``got`` is finite wherever the exact ``want`` is finite and representable with HEADROOM."""
    want = overflowed(want, dtype)
    representable = np.isfinite(want) & (np.abs(want) <= FINITE_MAX[dtype] / HEADROOM)
    bad = representable & ~np.isfinite(got)
    assert not np.any(bad), f"{what}: {got[bad]} where the exact value is {want[bad]}"


def _agree(got, base, scale, what):
    """Two backends' float64 results within PEER_ULPS of the largest magnitude in play (theirs,
    or the scale of the exact result's terms where those cancel); errors below the smallest
    normal number count as 0 (XLA flushes subnormal results to 0)."""
    scale = np.where(np.isfinite(scale), scale, 0.0)  # the exact terms may be undefined: 0·log 0
    with np.errstate(invalid="ignore"):
        tol = PEER_ULPS * EPS["float64"] * np.maximum(np.maximum(np.abs(got), np.abs(base)), scale) + NORMAL["float64"]
        off = ~((errors(got, base) <= tol) | (np.isnan(got) & np.isnan(base)))
    assert not np.any(off), f"{what}: {got[off]} against {base[off]}"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_loss_is_finite_at_any_magnitude_and_the_backends_agree(data):
    """Inputs scaled to any magnitude from the dtype's smallest normal number to its largest / 1e3
    (the loss's scalable inputs: predictions, embeddings, logits): every backend's value and
    gradient is finite wherever the exact one (mpmath) is finite and representable, and in
    float64 the four backends' values agree with NumPy's within PEER_ULPS of the scale of the
    exact value's terms. (Gradients are checked for finiteness only: where a quotient's
    derivative cancels, d(n/d) = dn/d − n·dd/d², their rounding follows intermediates that the
    terms' scale does not see; the matrix checks their accuracy on moderate inputs.)"""
    case = copy.copy(data.draw(st.sampled_from(CASES), label="case"))
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    case.inputs = data.draw(strategies.inputs(case.spec, dtype, case.shape, case.params,
                                              magnitude=strategies.magnitudes(dtype)), label="inputs")
    held = {n: np.asarray(x, np.int64 if n in case.spec.indices else np.float64) for n, x in case.inputs.items()}
    values, scales, grads, _, _ = _reference(case, held)
    base = None
    for name in ALL_BACKENDS:
        try:
            backend = load_backend(name)
        except pytest.skip.Exception:
            continue
        arrays, _ = case.to_backend(backend, dtype)
        with np.errstate(all="ignore"):
            got = backend.to_numpy(case.call(*arrays, reduction="none")).astype(np.float64)
        _finite(got, values, dtype, f"{name} {case.id} {dtype}")
        if backend.value_and_grad is not None:
            for n, g in case.grad_of_sum(backend, arrays, reduction="sum").items():
                _finite(backend.to_numpy(g).astype(np.float64), grads[n], dtype, f"{name} d{case.id}/d{n} {dtype}")
        if dtype == "float64":
            if base is None:
                base = (name, got)
            else:
                _agree(got, base[1], scales, f"{name} against {base[0]}: {case.id}")
