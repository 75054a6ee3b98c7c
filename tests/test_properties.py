"""Properties over generated shapes: any rank (0 included), empty axes, per-sample weights.

The matrix fixes one (6, 8) shape; here hypothesis draws shapes and a seed for the loss's own
domain, and every backend in float64 must agree with NumPy, element by element and reduced.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ALL_BACKENDS, load_backend
from multiloss.registry import REGISTRY

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
