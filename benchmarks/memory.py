"""Peak memory of one loss call (torch: forward + backward; NumPy: forward), multiloss vs native.

    python benchmarks/memory.py                  # every case at 2 x 10^7 float32 elements
    python benchmarks/memory.py --quick          # the same cases at 2 x 10^6 (a smoke run only:
                                                 # 8 MiB buffers fall under glibc's dynamic mmap
                                                 # threshold, so its ratios are not meaningful)
    python benchmarks/memory.py --cases torch:mse,numpy:mse --elements 20000000

The cases (inputs: 2 x 10^7 float32 elements, ``--elements``; the sparse cross-entropies take
(N, 1000) logits with N = elements / 1000, i.e. 20 000 x 1 000):

    torch:mse          multiloss.mean_squared_error(t, p)                     vs F.mse_loss(p, t)
    torch:huber        multiloss.huber(t, p)                                  vs F.huber_loss(p, t)
    torch:bce_logits   multiloss.binary_cross_entropy(t, x, from_logits=True)
                                                         vs F.binary_cross_entropy_with_logits(x, t)
    torch:sce_logits   multiloss.sparse_categorical_cross_entropy(y, x, from_logits=True)
                                                                              vs F.cross_entropy(x, y)
    torch:sce_probs    multiloss.sparse_categorical_cross_entropy(y, p, from_logits=False) on
                       softmax probabilities                        vs F.nll_loss(torch.log(p), y)
    numpy:mse, numpy:huber, numpy:bce_logits, numpy:sce_logits
                       forward only, vs the hand-written NumPy expression (np.mean((p - t) ** 2),
                       the branchwise Huber, mean(logaddexp(0, x) - t·x), the max-shifted
                       mean(logsumexp(x) - x[i, y_i]))

torch cases are forward + backward: the loss (mean) of inputs that require grad, then
``.backward()``; the peak includes the gradient the backward writes (as large as the input,
on both sides). Inputs are drawn from a fixed seed directly in float32 (memory does not depend
on their values): standard-normal predictions / logits, 0/1 targets for BCE, integer labels.

Method (as ``benchmarks/classification.py`` measures it, ``_harness.measure_call``): each
(case, side) runs in a FRESH subprocess that creates the inputs, warms the framework up on a
tiny input, then resets the kernel's peak-RSS mark (``/proc/self/clear_refs``), notes VmRSS,
makes one call, and reads VmHWM: the increase is what that call added on top of the inputs
("MB above inputs"). Two calls are measured; the second (warm) one is the headline, the first
is shown too. Without ``clear_refs`` (not Linux) the baseline is the peak so far, and the
numbers are lower bounds. The subprocesses run with glibc's DEFAULT malloc settings (the
timing scripts raise its mmap/trim thresholds; here they are removed from the environment):
every buffer this large is then its own mmap, returned on free, so VmHWM tracks the live peak.
Threads are pinned to ``--threads`` (default 1). Ratio = ours / native; below
``MEMORY_FLOOR_MIB`` on both sides a ratio is page/allocator granularity and is not judged.

Only the public API is used (``multiloss.<loss>``), so this runs against any checkout with it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import _harness
from _harness import MALLOC_ENV

ELEMENTS = 20_000_000
CLASSES = 1_000
MEMORY_FLOOR_MIB = 8.0
CASES = ("torch:mse", "torch:huber", "torch:bce_logits", "torch:sce_logits", "torch:sce_probs",
         "numpy:mse", "numpy:huber", "numpy:bce_logits", "numpy:sce_logits")
NATIVE_NAMES = {
    "torch:mse": "F.mse_loss", "torch:huber": "F.huber_loss",
    "torch:bce_logits": "F.binary_cross_entropy_with_logits", "torch:sce_logits": "F.cross_entropy",
    "torch:sce_probs": "F.nll_loss(torch.log(p), y)", "numpy:mse": "np.mean((p - t) ** 2)",
    "numpy:huber": "np.mean(np.where(a <= 1, a*a/2, a - 1/2))", "numpy:bce_logits": "np.mean(logaddexp(0, x) - t*x)",
    "numpy:sce_logits": "np.mean(logsumexp(x) - x[i, y_i])",
}


# --- inputs and the two sides (in the child) -------------------------------------------------
def numpy_inputs(name: str, elements: int) -> tuple:
    """Our arguments, in our order (labels first), as NumPy arrays."""
    import numpy as np

    rng = np.random.default_rng(0)
    if name.startswith("sce"):
        n = max(1, elements // CLASSES)
        x = rng.standard_normal((n, CLASSES), dtype=np.float32)
        y = rng.integers(0, CLASSES, n)
        if name == "sce_probs":
            x -= x.max(axis=1, keepdims=True)
            np.exp(x, out=x)
            x /= x.sum(axis=1, keepdims=True)
        return y, x
    t = (rng.random(elements, dtype=np.float32) < 0.5).astype(np.float32) if name == "bce_logits" \
        else rng.standard_normal(elements, dtype=np.float32)
    return t, rng.standard_normal(elements, dtype=np.float32)


def _numpy_sides(name: str):
    import numpy as np

    import multiloss

    def huber(t, p):
        a = np.abs(p - t)
        return np.mean(np.where(a <= 1.0, 0.5 * a * a, a - 0.5))

    def sce(y, x):
        m = np.max(x, axis=-1, keepdims=True)
        lse = np.log(np.sum(np.exp(x - m), axis=-1)) + m[:, 0]
        return np.mean(lse - np.take_along_axis(x, y[:, None], axis=-1)[:, 0])

    sides = {
        "mse": (multiloss.mean_squared_error, lambda t, p: np.mean((p - t) ** 2)),
        "huber": (multiloss.huber, huber),
        "bce_logits": (lambda t, x: multiloss.binary_cross_entropy(t, x, from_logits=True),
                       lambda t, x: np.mean(np.logaddexp(0.0, x) - t * x)),
        "sce_logits": (lambda y, x: multiloss.sparse_categorical_cross_entropy(y, x, from_logits=True), sce),
    }
    return sides[name]


def _torch_sides(name: str):
    import torch
    import torch.nn.functional as F

    import multiloss

    sce = multiloss.sparse_categorical_cross_entropy
    sides = {
        "mse": (multiloss.mean_squared_error, lambda t, p: F.mse_loss(p, t)),
        "huber": (multiloss.huber, lambda t, p: F.huber_loss(p, t)),
        "bce_logits": (lambda t, x: multiloss.binary_cross_entropy(t, x, from_logits=True),
                       lambda t, x: F.binary_cross_entropy_with_logits(x, t)),
        "sce_logits": (lambda y, x: sce(y, x, from_logits=True), lambda y, x: F.cross_entropy(x, y)),
        "sce_probs": (lambda y, p: sce(y, p, from_logits=False), lambda y, p: F.nll_loss(torch.log(p), y)),
    }
    return sides[name]


def child(spec: str, elements: int, threads: int) -> None:
    """Run in a fresh process: one side's peak memory; print one JSON line."""
    case, side = spec.rsplit(",", 1)
    backend, name = case.split(":")
    warnings.filterwarnings("ignore")
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
        ours, native = _torch_sides(name)
        fn = ours if side == "ours" else native

        def to_torch(arrays):
            labels, pred = arrays
            return torch.from_numpy(labels), torch.from_numpy(pred).requires_grad_(True)

        def call(labels, pred):  # forward + backward; the gradient is dropped before the next call
            pred.grad = None
            loss = fn(labels, pred)
            loss.backward()
            return loss.detach()

        tiny = to_torch(numpy_inputs(name, 2 * CLASSES))
        args = to_torch(numpy_inputs(name, elements))
    else:
        ours, native = _numpy_sides(name)
        call = ours if side == "ours" else native
        tiny = numpy_inputs(name, 2 * CLASSES)
        args = numpy_inputs(name, elements)
    for _ in range(2):
        call(*tiny)  # warm-up on a tiny input (lazy imports, dispatch caches, allocator)
    first, retained = _harness.measure_call(call, args, lambda r: r)
    if backend == "torch":
        args[1].grad = None
    warm, _ = _harness.measure_call(call, args, lambda r: r)
    print(json.dumps({"first": first, "warm": warm, "retained": retained, "reset": _harness.reset_peak()}))


# --- the parent ------------------------------------------------------------------------------
def judge(ours: float, native: float) -> str:
    if max(ours, native) < MEMORY_FLOOR_MIB:
        return "(both < floor)"
    return f"{ours / max(native, 0.1):.2f}"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 x 10^6 elements instead of 2 x 10^7")
    ap.add_argument("--elements", type=int, default=None, help=f"float32 elements per input (default {ELEMENTS})")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.elements = args.elements or (ELEMENTS // 10 if args.quick else ELEMENTS)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        child(args.child, args.elements, args.threads)
        return
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV}  # glibc defaults (see doc)
    env.setdefault("OMP_NUM_THREADS", str(args.threads))
    n = args.elements
    print(f"# Python {sys.version.split()[0]}; {n:,} float32 elements per input ({n * 4 / 2**20:.0f} MiB); "
          f"sparse CE: {max(1, n // CLASSES):,} x {CLASSES:,}; one fresh subprocess per case and side; glibc default "
          f"malloc; {args.threads} thread(s)")
    print("# MB above inputs = MiB the call raised the peak RSS above the RSS before it (torch: forward + backward, "
          "the gradient included; NumPy: forward); warm = the 2nd call; ratio = ours / native on the warm call\n")
    print("| case | ours MB (warm) | native MB (warm) | ratio | ours MB (1st) | native MB (1st) | native | notes |\n"
          "|---|---:|---:|---:|---:|---:|---|---|")
    for case in args.cases.split(","):
        results, notes = {}, []
        for side in ("ours", "native"):
            cmd = [sys.executable, os.path.abspath(__file__), "--child", f"{case},{side}", "--elements", str(n),
                   "--threads", str(args.threads)]
            result, err = _harness.run_json(cmd, env)
            if result is None:
                notes.append(f"{side} FAILED: {err}")
            else:
                results[side] = result
                if not result["reset"]:
                    notes.append(f"{side}: no /proc/self/clear_refs (lower bound)")

        def cell(side, key, results=results):
            return f"{results[side][key]:.1f}" if side in results else "-"

        ratio = judge(results["ours"]["warm"], results["native"]["warm"]) if len(results) == 2 else "-"
        print(f"| {case} | {cell('ours', 'warm')} | {cell('native', 'warm')} | {ratio} | {cell('ours', 'first')} | "
              f"{cell('native', 'first')} | {NATIVE_NAMES.get(case, '?')} | {'; '.join(notes)} |", flush=True)
    print(f"\n# total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
