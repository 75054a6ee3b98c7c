"""Every loss of the check matrix on GPU arrays: values and gradients against the reference,
results and gradients on the device. Run on a machine with CUDA (CI has none):

    python tests/scripts/cuda_check.py [--device cuda] [--dtypes float32,float64] [--backends torch,jax]

Also ``convention=`` (Keras's and PyTorch's numbers) and the torch modules under
torch.compile, on the device. Prints one line per case and exits 1 on any failure.
``--device cpu`` runs the same script here, as a dry run.
"""

from __future__ import annotations

import argparse
import sys
import time
import types

import numpy as np


def on_device(adapter, device: str, name: str):
    """``adapter`` with inputs placed on ``device`` and every output checked to be there."""

    def where(x):
        if name == "torch":
            return x.device.type
        return next(iter(x.devices())).platform

    def to_numpy(x):
        got = where(x)
        if got != device.replace("cuda", "gpu" if name == "jax" else "cuda"):
            raise AssertionError(f"{name}: a result is on {got}, not {device}")
        return adapter.to_numpy(x.cpu() if name == "torch" else x)

    if name == "torch":
        def from_numpy(a, dtype=None):
            return adapter.from_numpy(a, dtype).to(device)
    else:
        import jax

        target = jax.devices("gpu" if device == "cuda" else "cpu")[0]

        def from_numpy(a, dtype=None):
            return jax.device_put(adapter.from_numpy(a, dtype), target)

    return types.SimpleNamespace(xp=adapter.xp, DTYPES=adapter.DTYPES, from_numpy=from_numpy, to_numpy=to_numpy,
                                 value_and_grad=adapter.value_and_grad)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--backends", default="torch,jax")
    args = parser.parse_args()

    import jax

    jax.config.update("jax_enable_x64", True)
    from multiloss.backends import adapter
    from multiloss.registry import REGISTRY
    from multiloss.testing.matrix import cases, check, math_module

    m = math_module()
    failures = 0
    start = time.perf_counter()
    for name in args.backends.split(","):
        b = on_device(adapter(name), args.device, name)
        for dtype in args.dtypes.split(","):
            for case in cases():
                try:
                    r = check(case, b, dtype, m)
                    ok, detail = r["ok"], f"{r['ulps']:.2f} ulps, grad {r['grad_ulps']}"
                except Exception as exc:  # a crash (e.g. tensors on two devices) is a failure
                    ok, detail = False, f"{type(exc).__name__}: {str(exc)[:160]}"
                failures += not ok
                print(f"{'ok ' if ok else 'FAIL'} {name:<6} {dtype:<8} {case.id:<60} {detail}", flush=True)
            # convention=: every loss and framework, on the device (values vs the CPU run)
            for spec in REGISTRY.values():
                for framework in spec.conventions:
                    case = next(c for c in cases() if c.spec is spec)
                    try:
                        arrays, _ = case.to_backend(b, dtype)
                        cpu_arrays, _ = case.to_backend(adapter(name), dtype)
                        got = b.to_numpy(case.call(*arrays, reduction="none", convention=framework))
                        want = adapter(name).to_numpy(case.call(*cpu_arrays, reduction="none", convention=framework))
                        eps = np.finfo(dtype).eps
                        ok = bool(np.allclose(got, want, rtol=64 * eps, atol=64 * eps, equal_nan=True))
                        detail = f"max diff {np.nanmax(np.abs(got - want)):.3g}"
                    except ValueError as exc:  # the default parameters are outside this convention
                        ok, detail = True, f"n/a: {str(exc)[:100]}"
                    except Exception as exc:
                        ok, detail = False, f"{type(exc).__name__}: {str(exc)[:160]}"
                    failures += not ok
                    label = f"{spec.name} convention={framework}"
                    print(f"{'ok ' if ok else 'FAIL'} {name:<6} {dtype:<8} {label:<60} "
                          f"{detail}", flush=True)
    print(f"\n{failures} failure(s) in {time.perf_counter() - start:.0f} s on {args.device}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
