"""Run with XLA_FLAGS=--xla_force_host_platform_device_count=4: each loss under jax.jit on a
batch sharded over 4 devices against the same call on one device; prints the largest relative
difference per loss as JSON."""

import json
import sys

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

jax.config.update("jax_enable_x64", True)

from multiloss.testing.matrix import cases  # noqa: E402

assert len(jax.devices()) == 4, jax.devices()
mesh = Mesh(np.array(jax.devices()), ("batch",))
out = {}
for case in cases(shape=(8, 8)):  # 8 rows: 2 per device
    arrays = [jax.numpy.asarray(case.inputs[n]) for n in case.spec.inputs]
    sharded = [jax.device_put(a, NamedSharding(mesh, PartitionSpec("batch"))) for a in arrays]
    worst = 0.0
    for reduction in ("mean", "sum", "none"):
        fn = jax.jit(lambda *a, r=reduction, case=case: case.call(*a, reduction=r))
        one, many = np.asarray(fn(*arrays)), np.asarray(fn(*sharded))
        scale = np.maximum(np.abs(one), 1e-300)
        worst = max(worst, float(np.max(np.abs(many - one) / scale, initial=0.0)))
    out[case.id] = worst
json.dump(out, sys.stdout)
