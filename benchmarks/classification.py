"""Sparse categorical cross-entropy from logits: multiloss vs each framework's own loss.

    python benchmarks/classification.py            # full run (about 4 minutes on 2 cores)
    python benchmarks/classification.py --quick    # fewer, shorter rounds; no torch.compile, no A/A

Times ``multiloss.sparse_categorical_cross_entropy(labels, logits, from_logits=True)`` (mean
over samples) against the framework's own loss on the same inputs -- integer labels (N,) and
float32 logits (N, C) drawn from a fixed seed -- at N=32, C=10 (per-call overhead) and
N=65,536, C=1,000 (throughput), eagerly and under the framework's compiler:

    torch       F.cross_entropy(logits, labels)                       eager, torch.compile
    jax         jnp.mean(optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels))
                                                                      eager, jax.jit
    tensorflow  keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
                                                                      eager, tf.function(jit_compile=True)
    numpy       the straightforward expression: mean(logsumexp(x) - x[i, y_i]), max-shifted
                                                                      eager only

Timing method (``benchmarks/_harness.py``, shared with ``benchmarks/regression.py``): the two
sides are timed in the same process,
interleaved: each round runs n calls of one side then n of the other (the order alternates
between rounds), n chosen so a round takes about ``--round-ms``; the time per call is the
minimum over rounds and the ratio is ours / native. Every call is synchronised (JAX
``block_until_ready``, TensorFlow ``.numpy()``; NumPy and CPU torch are synchronous). Thread
pools are pinned to ``--threads`` (default 1). Compile time is excluded. An A/A row (the
native loss timed against itself at the large size) shows the run's noise.

Peak memory, at the large size only: each (backend, mode, side) runs in a fresh subprocess that
creates the inputs, warms the framework up on a tiny input, then resets the kernel's peak-RSS
mark (``/proc/self/clear_refs``), notes VmRSS, makes one call, and reads VmHWM: the increase is
what that call added on top of the inputs. The first call at the large shape includes
compilation (under jit, and for the JAX/TensorFlow kernels that compile per shape even in
eager mode); a second, warm call is measured the same way and is the headline number, as
compile time is excluded from the timings. The memory subprocesses run with glibc's default
malloc settings, under which every buffer this large is its own mmap, returned on free, so
VmHWM tracks the live peak (the timing process raises the thresholds; see MALLOC_ENV).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import _harness
from _harness import (
    MALLOC_ENV,
    dispatch_time,
    error_message,
    frameworks_env,
    interleaved,
    make_backends,
    reexec_with_malloc_env,
    tf_pinned,
    to_float,
    torch_jit,
    version,
)

SMALL, LARGE = (32, 10), (65_536, 1_000)
SIZES = (SMALL, LARGE)
TARGETS = {"eager": 1.20, "jit": 1.05, "memory": 1.20}  # ours / native at the large size
# Below this many MiB on both sides a peak-memory ratio is noise (page-table and allocator
# granularity); such rows are shown but not judged.
MEMORY_FLOOR_MIB = 8.0
MODES = ("eager", "jit")


# --- the two sides --------------------------------------------------------------------------
def ours_fn():
    import multiloss

    loss = multiloss.sparse_categorical_cross_entropy

    def ours(labels, logits):  # a plain closure: tf.function's AutoGraph mis-converts a
        return loss(labels, logits, from_logits=True)  # multiloss function passed as a default

    return ours


def numpy_expression(labels, logits):
    import numpy as np

    m = np.max(logits, axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(logits - m), axis=-1)) + m[:, 0]
    return np.mean(lse - np.take_along_axis(logits, labels[:, None], axis=-1)[:, 0])


@dataclass
class Backend:
    name: str
    native_name: str
    labels: Callable  # int NumPy array -> framework array
    logits: Callable  # float32 NumPy array -> framework array
    sync: Callable
    jit: Callable | None
    jit_name: str
    native: Callable  # (labels, logits) -> mean loss


def _numpy_backend(threads, compile_):
    import numpy as np

    return Backend("numpy", "expression", lambda a: a.astype(np.int64), lambda a: a, lambda r: r, None, "-",
                   numpy_expression)


def _torch_backend(threads, compile_):
    import torch
    import torch.nn.functional as F

    jit = torch_jit(threads, compile_)

    def native(labels, logits):
        return F.cross_entropy(logits, labels)

    return Backend("torch", "F.cross_entropy", lambda a: torch.from_numpy(a.astype("int64")), torch.from_numpy,
                   lambda r: r, jit, "torch.compile", native)


def _jax_backend(threads, compile_):
    import jax
    import jax.numpy as jnp
    import optax

    def native(labels, logits):
        return jnp.mean(optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels))

    return Backend("jax", "optax softmax_cross_entropy_with_integer_labels + mean",
                   lambda a: jnp.asarray(a.astype("int32")), jnp.asarray, lambda r: r.block_until_ready(),
                   jax.jit, "jax.jit", native)


def _tf_backend(threads, compile_):
    tf = tf_pinned(threads)
    import keras

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def native(labels, logits):
        return loss(labels, logits)

    return Backend("tensorflow", "keras SparseCategoricalCrossentropy(from_logits=True)",
                   lambda a: tf.constant(a.astype("int32")), tf.constant, lambda r: r.numpy(),
                   lambda fn: tf.function(fn, jit_compile=True), "tf.function(jit_compile=True)", native)


MAKERS = {"numpy": _numpy_backend, "torch": _torch_backend, "jax": _jax_backend, "tensorflow": _tf_backend}


_INPUTS: dict = {}


def inputs(size, seed=0, cache=False):
    """(labels int64 (N,), logits float32 (N, C)); float32 drawn directly (no float64 copy).
    Converters may share the buffer (torch.from_numpy): the kernels only read it."""
    if (size, seed) in _INPUTS:
        return _INPUTS[size, seed]
    import numpy as np

    n, c = size
    rng = np.random.default_rng(seed)
    out = rng.integers(0, c, n), rng.standard_normal((n, c), dtype=np.float32)
    if cache:
        _INPUTS[size, seed] = out
    return out


def compile_pair(be: Backend, ours, native, args_):
    """Compiled (ours, native), each called once (compile time excluded), and a note."""
    notes = []
    out = []
    if be.name == "torch":
        import torch

        torch._dynamo.reset()
    for side, f in (("ours", ours), ("native", native)):
        be.sync(f(*args_))  # an eager call first fills multiloss's dispatch cache (its first
        c = be.jit(f)  # resolution imports modules, which would break torch.compile's graph)
        t0 = time.perf_counter()
        try:
            be.sync(c(*args_))
        except Exception as e:  # torch fullgraph=True on a graph break
            if be.name != "torch":
                raise
            import torch

            c = torch.compile(f, dynamic=False)
            be.sync(c(*args_))
            notes.append(f"{side}: graph break ({str(e).splitlines()[0][:60]})")
        if side == "ours" and time.perf_counter() - t0 > 5:
            notes.append(f"ours: compile {time.perf_counter() - t0:.0f} s")
        out.append(c)
    return out[0], out[1], notes


@dataclass
class Row:
    backend: str
    mode: str
    native_name: str
    ours_s: dict = field(default_factory=dict)  # size -> seconds per call
    native_s: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def bench_backend(be: Backend, modes, args) -> list[Row]:
    rows = []
    for mode in modes:
        if mode == "jit" and be.jit is None:
            continue
        row = Row(be.name, mode, be.native_name if mode == "eager" else f"{be.jit_name}({be.native_name.split()[0]})")
        for size in args.sizes:
            labels, logits = inputs(size, cache=True)
            a = (be.labels(labels), be.logits(logits))
            del labels, logits
            ours, native = ours_fn(), be.native
            try:
                if mode == "jit":
                    ours, native, notes = compile_pair(be, ours, native, a)
                    row.notes += [n for n in notes if n not in row.notes]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    vo, vn = to_float(ours(*a)), to_float(native(*a))
                    if not math.isclose(vo, vn, rel_tol=1e-4, abs_tol=1e-6):
                        row.notes.append(f"values differ at {_size_name(size)}: {vo:.7g} vs {vn:.7g}")
                    rounds = args.rounds if size == SMALL else args.rounds_large
                    row.ours_s[size], row.native_s[size] = interleaved(
                        ours, native, a, be.sync, rounds, args.round_ms / 1000, probe=1)
            except Exception as e:  # noqa: BLE001 (a failing case is reported, not fatal)
                row.notes.append(f"FAILED at {_size_name(size)}: {type(e).__name__}: {error_message(e)}")
            del a
        rows.append(row)
        print_row(row, args.sizes)
    return rows


def noise_floor(be: Backend, modes, args) -> list[tuple[str, float]]:
    """A/A: the native loss timed against itself at the large size, with the same method."""
    labels, logits = inputs(LARGE, seed=1, cache=True)
    a = (be.labels(labels), be.logits(logits))
    del labels, logits
    return _harness.noise_floor(be, modes, be.native, a, compile_pair, args.rounds_large, args.round_ms / 1000,
                                probe=1)


# --- peak memory (one fresh subprocess per backend, mode and side) ---------------------------
def memory_child(spec: str, threads: int) -> None:
    """Run in a fresh process: measure one side's peak memory; print one JSON line."""
    backend, mode, side = spec.split(",")
    frameworks_env(threads)
    warnings.filterwarnings("ignore")
    be = MAKERS[backend](threads, mode == "jit")
    fn = ours_fn() if side == "ours" else be.native
    tiny = tuple(conv(x) for conv, x in zip((be.labels, be.logits), inputs(SMALL)))
    labels, logits = inputs(LARGE)
    a = (be.labels(labels), be.logits(logits))
    if backend != "torch" and backend != "numpy":  # torch.from_numpy and NumPy share the buffer
        del logits
    del labels
    if mode == "jit":
        plain = fn
        be.sync(plain(*tiny))  # the eager call first, as in the timings (dispatch cache)
        fn = be.jit(plain)
        try:
            be.sync(fn(*tiny))
        except Exception:  # noqa: BLE001 (torch fullgraph=True on a graph break)
            import torch

            fn = torch.compile(plain, dynamic=False)
    be.sync(fn(*tiny))  # warm-up on a tiny input
    first, retained = _harness.measure_call(fn, a, be.sync)
    warm, _ = _harness.measure_call(fn, a, be.sync)
    print(json.dumps({"first": first, "warm": warm, "retained": retained, "reset": _harness.reset_peak()}))


def bench_memory(backends, modes, args) -> list[dict]:
    """One fresh subprocess per (backend, mode, side), ``--memory-jobs`` at a time (each measures
    its own RSS, so they do not disturb each other's numbers)."""
    from concurrent.futures import ThreadPoolExecutor

    env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV}  # glibc defaults (see doc)
    env.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")  # no compile-worker pool
    cases = [(be.name, mode) for be in backends for mode in modes if mode == "eager" or be.jit is not None]

    def run(case, side):
        cmd = [sys.executable, os.path.abspath(__file__), "--threads", str(args.threads),
               "--memory-child", f"{case[0]},{case[1]},{side}"]
        return _harness.run_json(cmd, env)

    with ThreadPoolExecutor(max(1, args.memory_jobs)) as pool:
        futures = {(case, side): pool.submit(run, case, side) for case in cases for side in ("ours", "native")}
        rows = []
        for case in cases:
            row = {"backend": case[0], "mode": case[1]}
            for side in ("ours", "native"):
                result, err = futures[case, side].result()
                if result is None:
                    row.setdefault("notes", []).append(f"{side} FAILED: {err}")
                else:
                    row[side] = result
            rows.append(row)
            print_memory_row(row)
    return rows


# --- dispatch -------------------------------------------------------------------------------
def bench_dispatch(backends) -> list[tuple[str, float]]:
    out = []
    for be in backends:
        labels, logits = inputs(SMALL)
        out.append((be.name, dispatch_time(be.labels(labels), be.logits(logits), 50_000)))
    return out


# --- output ---------------------------------------------------------------------------------
def _size_name(size) -> str:
    return f"{size[0]}x{size[1]}"


def fmt_time(s: float) -> str:
    us = s * 1e6
    if us < 1000:
        return f"{us:7.1f} µs"
    return f"{us / 1000:7.1f} ms"


_HEADER = False


def print_row(row: Row, sizes):
    global _HEADER
    if not _HEADER:
        cols = "".join(f" | {_size_name(s):>10}: native    ratio" for s in sizes)
        print(f"{'backend':<10} {'mode':<5}{cols} | {'Δ µs small':>10} | native; notes")
        print("-" * (18 + 33 * len(sizes) + 40))
        _HEADER = True
    cells = []
    for s in sizes:
        if s not in row.ours_s:
            cells.append(f" | {'':>10}  {'FAIL':>10} {'':6}")
            continue
        ratio = row.ours_s[s] / row.native_s[s]
        flag = "!" if s == LARGE and ratio > TARGETS[row.mode] else " "
        cells.append(f" | {'':>10}  {fmt_time(row.native_s[s])} {ratio:5.2f}{flag}")
    small = min(sizes)
    delta = f"{(row.ours_s[small] - row.native_s[small]) * 1e6:10.1f}" if small in row.ours_s else f"{'-':>10}"
    print(f"{row.backend:<10} {row.mode:<5}{''.join(cells)} | {delta} | " + "; ".join([row.native_name, *row.notes]),
          flush=True)


_MEM_HEADER = False


def _judge_memory(row) -> tuple[float | None, str]:
    if "ours" not in row or "native" not in row:
        return None, "FAIL"
    o, n = row["ours"]["warm"], row["native"]["warm"]
    if max(o, n) < MEMORY_FLOOR_MIB:
        return None, "  (both < floor)"
    ratio = o / max(n, 0.1)
    flag = "!" if ratio > TARGETS["memory"] and o - n >= MEMORY_FLOOR_MIB else " "
    return ratio, f"{ratio:6.2f}{flag}"


def print_memory_row(row):
    global _MEM_HEADER
    if not _MEM_HEADER:
        print(f"{'backend':<10} {'mode':<5} | {'warm call: ours':>15} {'native':>8} {'ratio':>7} | "
              f"{'1st call: ours':>14} {'native':>8} | {'held after: ours':>16} {'native':>7} | notes")
        print("-" * 118)
        _MEM_HEADER = True

    def cell(side, key, width):
        return f"{row[side][key]:{width}.1f}" if side in row else f"{'-':>{width}}"

    _, ratio = _judge_memory(row)
    notes = list(row.get("notes", []))
    if any(side in row and not row[side]["reset"] for side in ("ours", "native")):
        notes.append("no /proc/self/clear_refs: lower bounds")
    print(f"{row['backend']:<10} {row['mode']:<5} | {cell('ours', 'warm', 15)} {cell('native', 'warm', 8)} "
          f"{ratio:>7} | {cell('ours', 'first', 14)} {cell('native', 'first', 8)} | "
          f"{cell('ours', 'retained', 16)} {cell('native', 'retained', 7)} | " + "; ".join(notes), flush=True)


def summarize(rows, noise, mem_rows):
    print(f"\nSummary at {_size_name(LARGE)} (targets: time eager ≤ {TARGETS['eager']:.2f}×, "
          f"jit ≤ {TARGETS['jit']:.2f}×; peak memory ≤ {TARGETS['memory']:.2f}×):")
    for mode in MODES:
        rs = [r for r in rows if r.mode == mode and LARGE in r.ours_s]
        if not rs:
            continue
        ratios = [r.ours_s[LARGE] / r.native_s[LARGE] for r in rs]
        over = [f"{r.backend} {x:.2f}" for r, x in zip(rs, ratios) if x > TARGETS[mode]]
        ok = [f"{r.backend} {x:.2f}" for r, x in zip(rs, ratios) if x <= TARGETS[mode]]
        print(f"  time {mode:<5}: within target: {', '.join(ok) or '-'}; OVER: {', '.join(over) or '-'}")
    failed = [f"{r.backend} {r.mode}" for r in rows if LARGE not in r.ours_s]
    if failed:
        print(f"  time failed: {', '.join(failed)}")
    if noise:
        print(f"  noise (A/A: the native loss against itself at {_size_name(LARGE)}, same method): "
              + ", ".join(f"{name} {r:.2f}" for name, r in noise))
    if mem_rows:
        judged = [(f"{m['backend']} {m['mode']}", _judge_memory(m)[0]) for m in mem_rows]
        over = [f"{k} {r:.2f}" for k, r in judged if r is not None and r > TARGETS["memory"]]
        ok = [f"{k} {r:.2f}" for k, r in judged if r is not None and r <= TARGETS["memory"]]
        floor = [k for k, r in judged if r is None]
        print(f"  memory    : within target: {', '.join(ok) or '-'}; OVER: {', '.join(over) or '-'}"
              + (f"; not judged (both < {MEMORY_FLOOR_MIB:g} MiB, or failed): {', '.join(floor)}" if floor else ""))


# --- main -----------------------------------------------------------------------------------
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer, shorter rounds; no torch.compile, no A/A row, no peak memory (unless --memory)")
    ap.add_argument("--no-torch-compile", action="store_true")
    ap.add_argument("--torch-compile", action="store_true", help="with --quick: keep torch.compile")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument("--memory", action="store_true", help="with --quick: measure peak memory too")
    ap.add_argument("--memory-jobs", type=int, default=2, help="memory subprocesses run at once (default 2)")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads for every framework (default 1)")
    ap.add_argument("--backends", default="numpy,torch,jax,tensorflow")
    ap.add_argument("--modes", default="eager,jit")
    ap.add_argument("--rounds", type=int, default=None, help="rounds at the small size (default 11; --quick 3)")
    ap.add_argument("--rounds-large", type=int, default=None, help="rounds at the large size (default 7; --quick 2)")
    ap.add_argument("--round-ms", type=float, default=None, help="ms per side per round (default 25; --quick 4)")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 11)
    args.rounds_large = args.rounds_large or (2 if args.quick else 7)
    args.round_ms = args.round_ms or (4.0 if args.quick else 25.0)
    args.sizes = list(SIZES)
    args.torch_compile = not args.no_torch_compile and (not args.quick or args.torch_compile)
    args.measure_memory = not args.no_memory and (not args.quick or args.memory)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args.threads)
        return
    reexec_with_malloc_env()
    frameworks_env(args.threads)
    warnings.filterwarnings("ignore", module="torch")
    start = time.perf_counter()

    backends = make_backends(MAKERS, args.backends.split(","), args.threads, args.torch_compile)
    import numpy as np

    import multiloss

    print(f"# multiloss {multiloss.__version__}, Python {sys.version.split()[0]}, numpy {np.__version__}, "
          + ", ".join(f"{b.name} {version(b.name)}" for b in backends if b.name != "numpy")
          + (f", optax {sys.modules['optax'].__version__}" if "optax" in sys.modules else "")
          + (f", keras {sys.modules['keras'].__version__}" if "keras" in sys.modules else ""))
    print("# sparse_categorical_cross_entropy(labels, logits, from_logits=True), mean; float32 logits, "
          "int labels (int64 numpy/torch, int32 jax/tensorflow)")
    print(f"# {args.rounds} (small) / {args.rounds_large} (large) interleaved rounds of ~{args.round_ms:g} ms "
          f"per side; min per call; {args.threads} thread(s); os.cpu_count()={os.cpu_count()}; "
          f"load average at start {os.getloadavg()[0]:.1f}; glibc mmap/trim thresholds raised for timing")
    print("# jit: " + ", ".join(f"{b.name}={b.jit_name if b.jit else 'no (eager only)'}" for b in backends))
    if "torch" in args.backends and not args.torch_compile:
        print("# torch.compile skipped (--quick or --no-torch-compile)")
    print(f"# ratio = multiloss / native (below 1: multiloss faster); '!' = over the target at {_size_name(LARGE)} "
          f"(eager {TARGETS['eager']}, jit {TARGETS['jit']}); Δ µs small = multiloss − native per call at "
          f"{_size_name(SMALL)}\n")

    modes = args.modes.split(",")
    rows, noise = [], []
    for be in backends:
        rows += bench_backend(be, modes, args)
    phases = [("timing", time.perf_counter() - start)]
    if not args.quick:
        for be in backends:
            noise += noise_floor(be, modes, args)
        phases.append(("A/A", time.perf_counter() - start - sum(t for _, t in phases)))
    _INPUTS.clear()

    mem_rows = []
    if args.measure_memory:
        print(f"\nPeak memory at {_size_name(LARGE)} (inputs {LARGE[0] * LARGE[1] * 4 / 2**20:.0f} MiB of logits): "
              "MiB the call raised the process's peak RSS above its RSS before the call; one fresh process "
              f"per side; ratio = ours / native on the warm call, '!' = over {TARGETS['memory']} "
              f"(and ≥ {MEMORY_FLOOR_MIB:g} MiB more); 'held after' = RSS still held after the 1st call")
        mem_rows = bench_memory(backends, modes, args)
        phases.append(("memory", time.perf_counter() - start - sum(t for _, t in phases)))

    summarize(rows, noise, mem_rows)
    print("\nDispatch: multiloss.array_namespace(labels, logits) per call:")
    for name, s in bench_dispatch(backends):
        print(f"  {name:<12} {s * 1e9:7.0f} ns")
    print(f"\n# total {time.perf_counter() - start:.0f} s (" + ", ".join(f"{k} {t:.0f} s" for k, t in phases) + ")")


if __name__ == "__main__":
    main()
