"""Every registered loss under each framework's compiler gives its eager value: no Python
control flow on data, no host round-trips, no graph breaks (torch.compile fullgraph=True)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import compiler, load_backend
from multiloss.testing.matrix import cases
from multiloss.testing.numerics import EPS, PEER_ULPS

CASES = cases()  # the class_weight variant has 8 classes: the matrix shape (6, 8)


def compiled_and_eager(backend, compile_fn):
    inputs = [tuple(case.to_backend(backend, "float32")[0]) for case in CASES]

    def all_losses(inputs):
        return [case.call(*args) for case, args in zip(CASES, inputs)]

    eager = [float(backend.to_numpy(x)) for x in all_losses(inputs)]
    compiled = [float(backend.to_numpy(x)) for x in compile_fn(all_losses)(inputs)]
    return np.array(compiled), np.array(eager)


@pytest.mark.parametrize("name", ["jax", "tensorflow", "torch"])
def test_every_loss_compiles_to_its_eager_value(name):
    backend, compile_fn = load_backend(name), compiler(name)
    compiled, eager = compiled_and_eager(backend, compile_fn)
    # Compilers may fuse and reorder, and XLA's transcendental functions differ from the eager
    # kernels by a few ulps: 16 float32 ulps of each value's magnitude.
    np.testing.assert_allclose(compiled, eager, rtol=PEER_ULPS * EPS["float32"], atol=1e-30,
                               err_msg=str([c.id for c in CASES]))
