"""Sharded batches and per-example losses: jax.jit over a batch sharded on 4 host devices,
tf.distribute.MirroredStrategy over 2 logical CPUs (each in a fresh process: the device count is
fixed when the framework starts), and jax.vmap over per-example losses.

Reduction per replica (documented in the README): a loss's "mean" inside a replica is that
replica's mean; averaging replicas' means (the mean of means) is the global mean only when every
replica holds the same total weight. The recipe that always holds: reduction="sum" in each
replica, divided by the *global* Σw (or batch size), then summed across replicas.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import load_backend
from multiloss.testing.matrix import cases
from multiloss.testing.numerics import EPS, ULPS

SCRIPTS = Path(__file__).parent / "scripts"


def run_script(name, **env):
    out = subprocess.run([sys.executable, str(SCRIPTS / name)], env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_jax_jit_on_a_batch_sharded_over_4_devices_equals_one_device():
    worst = run_script("sharded_jax.py", XLA_FLAGS="--xla_force_host_platform_device_count=4")
    assert set(worst) == {c.id for c in cases()}  # every loss and variant
    bad = {k: v for k, v in worst.items() if v > ULPS * EPS["float64"]}  # a reduction reordered: a few float64 ulps
    assert not bad, bad


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="tensorflow is not installed")
def test_mirrored_strategy_sum_over_global_weight_equals_one_device():
    r = run_script("mirrored_tf.py")
    assert r["replicas"] == 2
    assert r["sum_over_global_weight"] == pytest.approx(r["single"], rel=1e-15)
    # the pitfall, as documented: averaging the replicas' own means weighs the replicas equally
    assert r["mean_of_means"] == pytest.approx(r["expected_mean_of_means"], rel=1e-15)
    assert abs(r["mean_of_means"] - r["single"]) > 0.1


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_jax_vmap_gives_per_example_losses(case):
    backend = load_backend("jax")
    import jax
    import jax.numpy as jnp

    arrays, _ = case.to_backend(backend, "float64")
    flipped = [a[::-1] for a in arrays]  # a second example: the rows in reverse order
    stacked = [jnp.stack([a, b]) for a, b in zip(arrays, flipped)]
    per_example = jax.vmap(lambda *a: case.call(*a))(*stacked)
    expected = [case.call(*arrays), case.call(*flipped)]
    np.testing.assert_allclose(np.asarray(per_example), np.asarray(expected), rtol=1e-13, atol=1e-300)
