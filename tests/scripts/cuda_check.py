"""Every loss of the check matrix on GPU arrays: values and gradients against the reference,
results and gradients on the device. Run on a machine with CUDA (CI has none):

    python tests/scripts/cuda_check.py [--device cuda] [--dtypes float32,float64] [--backends torch,jax,cupy]

Also ``convention=`` (Keras's and PyTorch's numbers) and the torch modules under
torch.compile, on the device; and that a call waits for no device (the check policy,
``multiloss.checks``): every case, forward and backward, under
``torch.cuda.set_sync_debug_mode("error")`` and ``jax.transfer_guard_device_to_host("disallow")``
in the ``"auto"`` and ``"nan"`` policies (``"strict"`` must then be refused: it reads values).
CuPy (``pip install cupy-cuda12x``), for GPU users without a deep-learning framework, runs
through array-api-compat and the portable extension ops: values against the reference, and
no host read under ``cupyx.allow_synchronize(False)``; it is skipped, saying so, where it is
not installed (and on ``--device cpu``).
Prints one line per case and exits 1 on any failure.
``--device cpu`` runs the same script here, as a dry run.
"""

from __future__ import annotations

import argparse
import sys
import time
import types

import numpy as np


def cupy_backend():
    """A backend (as the matrix takes it) of CuPy arrays on the current GPU; no autodiff."""
    import cupy

    import multiloss as ml

    def to_numpy(x):
        if not isinstance(x, cupy.ndarray):
            raise AssertionError(f"cupy: a result is a {type(x).__name__}, not a cupy.ndarray")
        return cupy.asnumpy(x)

    dtypes = {"float64": cupy.float64, "float32": cupy.float32, "float16": cupy.float16}
    def from_numpy(a, dtype=None):
        return cupy.asarray(a, dtype=dtypes[dtype] if dtype else None)

    return types.SimpleNamespace(xp=ml.array_namespace(cupy.zeros(1)), DTYPES=dtypes, from_numpy=from_numpy,
                                 to_numpy=to_numpy, value_and_grad=None)


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


def no_host_sync(name: str, device: str):
    """A context in which a device-to-host read raises: PyTorch's sync debug mode, JAX's transfer
    guard (on CPU, PyTorch has no such mode: nullcontext)."""
    import contextlib

    if name == "cupy":
        import cupyx

        return cupyx.allow_synchronize(False)
    if name == "jax":
        import jax

        return jax.transfer_guard_device_to_host("disallow")
    if device == "cpu":
        return contextlib.nullcontext()
    import torch

    @contextlib.contextmanager
    def sync_errors():
        torch.cuda.set_sync_debug_mode("error")
        try:
            yield
        finally:
            torch.cuda.set_sync_debug_mode("default")

    return sync_errors()


def check_no_sync(case, b, name: str, device: str) -> tuple[bool, str]:
    """``case`` forward and backward reads nothing on the host under "auto" and "nan"; under
    "strict" its value rules (if any) read, which the guard refuses."""
    import multiloss as ml

    arrays, _ = case.to_backend(b, "float32")
    for mode in ("auto", "nan"):
        with ml.checks(mode), no_host_sync(name, device):
            if b.value_and_grad is None:
                case.call(*arrays)
            else:
                floats = [a for a, k in zip(arrays, case.spec.inputs) if k not in case.spec.indices]
                rest = [a for a, k in zip(arrays, case.spec.inputs) if k in case.spec.indices]

                def total(*f, rest=rest):
                    merged, fi, ri = [], iter(f), iter(rest)
                    for k in case.spec.inputs:
                        merged.append(next(ri) if k in case.spec.indices else next(fi))
                    return case.call(*merged)

                b.value_and_grad(total, *floats)
    if case.spec.checks is None or device == "cpu" and name == "torch":
        return True, "no host read in auto and nan"
    try:
        with ml.checks("strict"), no_host_sync(name, device):
            case.call(*arrays)
    except Exception as exc:  # the guard's error: strict reads the values, as it promises
        return True, f"no host read in auto and nan; strict reads ({type(exc).__name__})"
    return True, ("no host read in auto and nan; strict: the guard saw no read (it sees none on CPU; on a GPU, "
                  "no rule applies at these values)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--backends", default="torch,jax,cupy")
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
        if name == "cupy":
            try:
                if args.device == "cpu":
                    raise ImportError("CuPy runs on a GPU only")
                b = cupy_backend()
            except ImportError as exc:
                print(f"skip cupy: {exc}", flush=True)
                continue
        else:
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
            for spec in REGISTRY.values() if name != "cupy" else ():  # (compared with torch's and jax's CPU runs)
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
        # No host syncs: every case in float32, forward and backward, under the device's guard.
        for case in cases():
            try:
                ok, detail = check_no_sync(case, b, name, args.device)
            except Exception as exc:
                ok, detail = False, f"{type(exc).__name__}: {str(exc)[:160]}"
            failures += not ok
            print(f"{'ok ' if ok else 'FAIL'} {name:<6} no-sync  {case.id:<60} {detail}", flush=True)
    print(f"\n{failures} failure(s) in {time.perf_counter() - start:.0f} s on {args.device}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
