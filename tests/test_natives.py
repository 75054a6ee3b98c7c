"""Each registered native counterpart (torch, Keras, optax, scikit-learn) against ours.

Natives marked ``exact`` must equal ours under their mapping of our parameters, up to
both sides' rounding (measured against the reference's scale). Where a native returns NaN
or inf and we do not, that is a documented difference in our favour; the reverse fails.
Inexact natives have their documented difference asserted in test_regression.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_backend
from multiloss.natives import of as natives_of
from multiloss.registry import REGISTRY
from multiloss.testing.matrix import Case, math_module
from multiloss.testing.numerics import native_tolerance

FRAMEWORK_MODULES = {"torch": "torch", "keras": "keras", "optax": "optax", "sklearn": "sklearn"}
NATIVE_CASES = [
    pytest.param(Case(spec, params), native, id=f"{Case(spec, params).id}-{native.api}")
    for spec in REGISTRY.values()
    for params in ({}, *spec.variants)
    for native in natives_of(spec).natives
    if native.exact and not native.unchecked and native.applies({**spec.params, **params})
]
M = math_module()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case, native", NATIVE_CASES)
def test_native_agrees_under_mapped_conventions(case, native, dtype):
    pytest.importorskip(FRAMEWORK_MODULES[native.framework], reason=f"{native.framework} is not installed")
    backend = load_backend(native.backend)
    arrays, held = case.to_backend(backend, dtype)
    inputs = dict(zip(case.spec.inputs, arrays))
    values, scales, _, _, _ = case.reference(held, M, gradients=False)
    ours = backend.to_numpy(case.call(*inputs.values(), reduction="none")).astype(np.float64)

    theirs = native.values(inputs, case.params, dtype)  # each value one of our items, or their mean
    if native.per == "mean":
        ours, scales = np.mean(ours), np.mean(scales)
    theirs = np.reshape(theirs, np.shape(ours))

    finite = np.isfinite(theirs)
    assert np.all(np.isfinite(ours)), "ours is not finite where the native is"
    # Both sides round; a native may also cancel intermediates as large as the inputs
    # (e.g. torch's (1 − y)·x + softplus(−x) for large logits, Keras's log(1 − p) and 1 − p_t),
    # so its error bound grows with max(1, |inputs|) per item as well as with the term scale.
    magnitude = np.max([np.abs(held[n]).reshape(values.shape + (-1,)).max(axis=-1, initial=1.0)
                        for n in case.spec.inputs], axis=0)
    if native.per == "mean":
        magnitude = np.mean(magnitude)
    tol = native_tolerance(scales, magnitude, ours, dtype, values.size if native.per == "mean" else 0)
    err = np.abs(ours - theirs)
    assert np.all(err[finite] <= np.broadcast_to(tol, np.shape(err))[finite]), (
        f"{native.api} differs from ours by up to {np.max(err[finite]):.3g} "
        f"(tolerance {np.min(np.broadcast_to(tol, np.shape(err))[finite]):.3g})"
    )
