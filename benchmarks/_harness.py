"""The timing harness shared by ``benchmarks/regression.py`` and ``benchmarks/classification.py``.

It holds what the two scripts do alike: the interleaved timer (``per_call``, ``interleaved``),
the A/A noise check (``noise_floor``), the per-call dispatch timer (``dispatch_time``), the
process setup (``MALLOC_ENV`` and ``reexec_with_malloc_env``, ``frameworks_env``), the thread
pinning of torch and TensorFlow (``torch_jit``, ``tf_pinned``), ``make_backends``, and two small
helpers (``to_float``, ``error_message``). Each script keeps its own backends, inputs, compile
step, tables and memory measurement.

Method: the two sides of a comparison are timed in the same process, interleaved: each round
runs n calls of one side then n calls of the other (the order alternates between rounds), n
chosen so a round takes about ``round_s``. The time per call is the minimum over rounds, with
the garbage collector off. Every call is synchronised (JAX ``block_until_ready``, TensorFlow
``.numpy()``; NumPy and CPU torch are synchronous). Thread pools are pinned to ``threads``. The
timing process runs with glibc's mmap and trim thresholds raised (``MALLOC_ENV``), so that large
temporaries reuse the heap instead of faulting in fresh pages on every call.
"""

from __future__ import annotations

import gc
import json
import math
import os
import subprocess
import sys
import time
import timeit

# glibc hands every freed block above its mmap threshold back to the OS, so each large
# temporary is a fresh mmap whose pages fault in on first touch. On this project's VMs that
# makes the same NumPy expression 1.5 ms or 12 ms depending on heap layout (seen with
# multiloss's and the native's expressions alike). Timing runs with both thresholds raised to
# 1 GiB (both sides alike); classification.py's memory subprocesses run with glibc's defaults.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def reexec_with_malloc_env() -> None:
    """Re-run this process (same arguments) with ``MALLOC_ENV`` set, unless it already is."""
    if any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **MALLOC_ENV})


def frameworks_env(threads) -> None:
    """Thread pools and logging, fixed before any framework starts."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if threads == 1 and "XLA_FLAGS" not in os.environ:
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


# --- backends -------------------------------------------------------------------------------
def torch_jit(threads, compile_):
    """Pin torch's intra-op pool to ``threads``; the torch.compile wrapper (None without ``compile_``)."""
    import torch

    torch.set_num_threads(threads)
    if not compile_:
        return None

    def jit(fn):  # fullgraph=True, so that a graph break is reported (then the default)
        return torch.compile(fn, fullgraph=True, dynamic=False)

    return jit


def tf_pinned(threads):
    """The ``tensorflow`` module, its thread pools pinned to ``threads`` and its logger quiet."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # AutoGraph's "could not transform" warnings
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    return tf


def make_backends(makers, names, threads, torch_compile) -> list:
    """``makers[name](threads, torch_compile)`` for each name; a missing framework is skipped."""
    out = []
    for name in names:
        try:
            out.append(makers[name](threads, torch_compile))
        except ImportError as e:
            print(f"# skipping {name}: {e}")
    return out


def version(name) -> str:
    return getattr(sys.modules.get(name), "__version__", "?")


# --- timing ---------------------------------------------------------------------------------
def per_call(fn, args, sync, n) -> float:
    """Seconds per call of ``sync(fn(*args))``, over ``n`` calls."""
    t0 = time.perf_counter()
    for _ in range(n):
        sync(fn(*args))
    return (time.perf_counter() - t0) / n


def interleaved(ours, native, args, sync, rounds, round_s, probe=2) -> tuple[float, float]:
    """Min-over-rounds seconds per call of (ours, native), the two timed alternately; n per
    round from ``probe`` calls of each side."""
    for f in (ours, native):  # warm-up (caches, allocator, lazy init)
        for _ in range(2):
            sync(f(*args))
    slowest = max(per_call(ours, args, sync, probe), per_call(native, args, sync, probe))
    n = max(1, int(round_s / slowest))
    best = [math.inf, math.inf]
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            for side in (0, 1) if r % 2 == 0 else (1, 0):
                best[side] = min(best[side], per_call((ours, native)[side], args, sync, n))
    finally:
        if gc_was_enabled:
            gc.enable()
    return best[0], best[1]


def noise_floor(be, modes, native, args, compile_pair, rounds, round_s, probe=2) -> list[tuple[str, float]]:
    """A/A check: ``native`` timed against a copy of itself (the same computation, two Python
    functions) on ``args``, as every pair is timed; each ratio's distance from 1.00 is the noise
    in this run's ratios. ``compile_pair(be, f, g, args)`` -> (compiled f, compiled g, notes)."""

    def copy(*xs):
        return native(*xs)

    out = []
    for mode in modes:
        if mode == "jit" and be.jit is None:
            continue
        f, g = native, copy
        if mode == "jit":
            f, g, _ = compile_pair(be, f, g, args)
        a, b = interleaved(f, g, args, be.sync, rounds, round_s, probe)
        out.append((f"{be.name} {mode}", a / b))
    return out


def dispatch_time(a, b, number) -> float:
    """Seconds per call of ``multiloss.array_namespace(a, b)``, its type cache filled first."""
    import multiloss

    multiloss.array_namespace(a, b)
    timer = timeit.Timer(lambda: multiloss.array_namespace(a, b))
    return min(timer.repeat(5, number)) / number


# --- helpers --------------------------------------------------------------------------------
def to_float(x) -> float:
    return float(x.numpy() if hasattr(x, "numpy") else x)


def error_message(e: Exception) -> str:
    """The informative line of an error (TensorFlow puts it last, after 'in user code:')."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    line = lines[-1] if lines and lines[0] == "in user code:" else (lines[0] if lines else "")
    return line[:100]


# --- peak memory (called in a fresh process per side) ---------------------------------------
def status_kib() -> dict:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def measure_call(fn, a, sync) -> tuple[float, float]:
    """(MiB the call raised the peak RSS above the RSS before it, MiB still held after it)."""
    gc.collect()
    can_reset = reset_peak()
    before = status_kib()
    base = before["VmRSS"] if can_reset else before["VmHWM"]  # without reset: a lower bound
    r = fn(*a)
    sync(r)
    peak = status_kib()["VmHWM"]
    del r
    gc.collect()
    after = status_kib()["VmRSS"]
    return max(0, peak - base) / 1024, (after - before["VmRSS"]) / 1024


def run_json(cmd, env, timeout=600):
    """Run ``cmd`` (a fresh process); return (the JSON of its last stdout line, None), or
    (None, why it gave none)."""
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    try:
        return json.loads(p.stdout.strip().splitlines()[-1]), None
    except (IndexError, ValueError):
        return None, (p.stderr.strip().splitlines() or ["no output"])[-1][:100]
