"""In-batch embedding losses, forward + backward: multiloss vs a straightforward native implementation.

    python benchmarks/embedding.py                      # full run, N=4096, D=256 (about 8 minutes on 2 cores)
    python benchmarks/embedding.py --quick --n 256      # fewer, shorter rounds; no A/A, no peak memory
    python benchmarks/embedding.py --backends torch --losses nt_xent --no-memory

Times ``multiloss.batch_hard_triplet(labels, embeddings, margin=1.0)`` and
``multiloss.nt_xent(z1, z2, temperature=0.5)`` (mean over the batch) against the same loss
written in the framework the usual way -- neither torch nor Keras ships these losses -- on the
same inputs: float32 embeddings (N, D) drawn from a standard normal (default N=4096, D=256;
``--n``, ``--d``), and for batch-hard integer labels in the P×K layout (N/K classes of K=4
samples each, shuffled; ``--k``), so every anchor has positives and negatives. NT-Xent gets two
independent (N, D) views z1, z2. Each call is the value AND its gradient with respect to the
embeddings (torch ``autograd.grad``, ``jax.value_and_grad``, ``tf.GradientTape``); NumPy has no
autodiff, so its rows time the forward pass only.

The natives (margin 1.0, temperature 0.5, EPS = 1e-12):

    batch-hard triplet (Hermans, Beyer & Leibe 2017)
        torch       d = torch.cdist(e, e)
        jax, tf,    d = sqrt(max(‖a‖² + ‖b‖² − 2a·b, 0) + EPS)   (one matrix product)
        numpy
        then        same = labels_i == labels_j; positives = same without the diagonal;
                    hardest positive = max_j where(positives, d, 0); hardest negative =
                    min_j where(same, +inf, d); mean(relu(hp − hn + margin))
    NT-Xent (SimCLR, Chen et al. 2020)
        z = concat(normalize(z1), normalize(z2))   (F.normalize / x / max(‖x‖, 1e-12) /
                                                     tf.math.l2_normalize)
        sim = z @ z.T / τ, diagonal set to −inf (masked_fill / where), cross-entropy with
        targets (i + N) mod 2N, mean: F.cross_entropy (torch),
        optax.losses.softmax_cross_entropy_with_integer_labels (jax),
        tf.nn.sparse_softmax_cross_entropy_with_logits (tensorflow), a max-shifted log-softmax
        (numpy)

Modes: "eager" calls both sides directly, as a user who does not compile would -- the natives
run op by op; multiloss still runs its kernel as one compiled call on JAX (jax.jit) and
TensorFlow (tf.function(jit_compile=True)), see ``xp.fuse``. "jit" wraps the whole step (loss
and gradient) of BOTH sides in jax.jit / tf.function(jit_compile=True): the fair compiled
comparison. torch and NumPy are eager only (torch.compile is not measured here).

Before timing, each (backend, loss) is called once on each side and the values compared
(rel. 1e-4); the printed lines give both values, their difference, and the largest gradient
difference relative to the largest gradient entry.

Timing method (``benchmarks/_harness.py``, shared with ``classification.py`` and
``regression.py``): the two sides are timed in the same process, interleaved: each round runs n
calls of one side then n of the other (the order alternates between rounds), n chosen so a
round takes about ``--round-ms`` (at N=4096 every call is longer, so n = 1); the time per call
is the minimum over rounds and the ratio is ours / native. Every call is synchronised (JAX
``block_until_ready``, TensorFlow ``.numpy()``, on the value and the gradients; NumPy and CPU
torch are synchronous). Thread pools are pinned to ``--threads`` (default 1). Compile time is
excluded. An A/A row (the native batch-hard step timed against itself) shows the run's noise.

Peak memory, as ``classification.py`` measures it: each (backend, mode, loss, side) runs in a
fresh subprocess with glibc's default malloc settings that creates the inputs, warms the
framework up on a tiny input, resets the kernel's peak-RSS mark (``/proc/self/clear_refs``),
notes VmRSS, makes one call (value and gradient), and reads VmHWM: the increase is what the call
added on top of the inputs. The first call at the large shape includes compilation (JAX and
TensorFlow kernels compile per shape, in eager mode too); the table shows a second, warm call,
measured the same way, in MiB and in units of one N×N float32 matrix for batch-hard (the
distance matrix) and one (2N)×(2N) float32 matrix for NT-Xent (the similarity matrix).
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
    error_message,
    frameworks_env,
    interleaved,
    make_backends,
    reexec_with_malloc_env,
    tf_pinned,
    version,
)

MARGIN, TEMPERATURE = 1.0, 0.5
EPS = 1e-12  # under the natives' square root: a finite gradient at the (masked) zero diagonal
N, D, K = 4096, 256, 4
TARGETS = {"eager": 1.20, "jit": 1.05, "memory": 1.20}  # ours / native
MEMORY_FLOOR_MIB = 8.0  # below this on both sides a memory ratio is noise (not judged)
MODES = ("eager", "jit")
LOSSES = {  # name -> (the inputs' positions that get a gradient, the side of the loss's square matrix)
    "batch_hard_triplet": ((1,), lambda n: n),
    "nt_xent": ((0, 1), lambda n: 2 * n),
}


# --- the two sides --------------------------------------------------------------------------
def pin_blas(threads) -> None:
    """NumPy's BLAS (the matrix products) pinned to ``threads``, before NumPy is imported."""
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))


def ours_fns() -> dict[str, Callable]:
    import multiloss

    bh, nt = multiloss.batch_hard_triplet, multiloss.nt_xent

    # plain closures: tf.function's AutoGraph mis-converts a multiloss function passed as a default
    def batch_hard_triplet(labels, embeddings):
        return bh(labels, embeddings, margin=MARGIN)

    def nt_xent(z1, z2):
        return nt(z1, z2, temperature=TEMPERATURE)

    return {"batch_hard_triplet": batch_hard_triplet, "nt_xent": nt_xent}


@dataclass
class Backend:
    name: str
    labels: Callable  # int NumPy array -> framework array
    array: Callable  # float32 NumPy array, differentiated or not -> framework array
    sync: Callable  # wait for a step's result
    jit: Callable | None  # step -> compiled step (None: eager only)
    jit_name: str
    step: Callable  # (loss fn, positions to differentiate) -> fn(*inputs) -> (value, gradients)
    to_numpy: Callable
    natives: dict  # loss name -> (description, fn)
    passes: str = "fwd+bwd"


def _numpy_backend(threads, compile_):
    import numpy as np

    def batch_hard(labels, e):
        n = e.shape[0]
        sq = np.sum(e * e, axis=1)
        d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * (e @ e.T), 0.0) + EPS)
        same = labels[:, None] == labels[None, :]
        positives = same & ~np.eye(n, dtype=bool)
        hardest_positive = np.max(np.where(positives, d, 0.0), axis=1)
        hardest_negative = np.min(np.where(same, np.inf, d), axis=1)
        return np.mean(np.maximum(hardest_positive - hardest_negative + MARGIN, 0.0))

    def normalize(x):
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    def nt_xent(z1, z2):
        n = z1.shape[0]
        z = np.concatenate([normalize(z1), normalize(z2)])
        sim = (z @ z.T) / TEMPERATURE
        sim = np.where(np.eye(2 * n, dtype=bool), -np.inf, sim)
        targets = (np.arange(2 * n) + n) % (2 * n)
        m = np.max(sim, axis=1, keepdims=True)
        lse = np.log(np.sum(np.exp(sim - m), axis=1)) + m[:, 0]
        return np.mean(lse - sim[np.arange(2 * n), targets])

    return Backend(
        "numpy", lambda a: a.astype(np.int64), lambda a, grad: a, lambda r: r, None, "-",
        lambda fn, diff: fn, np.asarray,
        {"batch_hard_triplet": ("cdist by matmul, where/max/min", batch_hard),
         "nt_xent": ("normalize, matmul, where −inf, log-softmax", nt_xent)},
        passes="fwd",
    )  # fmt: skip


def _torch_backend(threads, compile_):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)

    def batch_hard(labels, e):
        n = e.shape[0]
        d = torch.cdist(e, e)
        same = labels[:, None] == labels[None, :]
        positives = same & ~torch.eye(n, dtype=torch.bool)
        hardest_positive = d.masked_fill(~positives, 0.0).amax(dim=1)
        hardest_negative = d.masked_fill(same, math.inf).amin(dim=1)
        return F.relu(hardest_positive - hardest_negative + MARGIN).mean()

    def nt_xent(z1, z2):
        n = z1.shape[0]
        z = torch.cat([F.normalize(z1, dim=1), F.normalize(z2, dim=1)])
        sim = z @ z.T / TEMPERATURE
        sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), -math.inf)
        targets = (torch.arange(2 * n) + n) % (2 * n)
        return F.cross_entropy(sim, targets)

    def step(fn, diff):
        def run(*a):
            value = fn(*a)
            return value, torch.autograd.grad(value, [a[i] for i in diff])

        return run

    def array(a, grad):
        t = torch.from_numpy(a)  # shares the buffer: both sides only read it
        return t.requires_grad_(True) if grad else t

    return Backend(
        "torch", lambda a: torch.from_numpy(a.astype("int64")), array, lambda r: r, None, "-", step,
        lambda x: x.detach().numpy(),
        {"batch_hard_triplet": ("torch.cdist, masked_fill/amax/amin, F.relu", batch_hard),
         "nt_xent": ("F.normalize, matmul, masked_fill −inf, F.cross_entropy", nt_xent)},
    )  # fmt: skip


def _jax_backend(threads, compile_):
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    def batch_hard(labels, e):
        n = e.shape[0]
        sq = jnp.sum(e * e, axis=1)
        d = jnp.sqrt(jnp.maximum(sq[:, None] + sq[None, :] - 2.0 * (e @ e.T), 0.0) + EPS)
        same = labels[:, None] == labels[None, :]
        positives = same & ~jnp.eye(n, dtype=bool)
        hardest_positive = jnp.max(jnp.where(positives, d, 0.0), axis=1)
        hardest_negative = jnp.min(jnp.where(same, jnp.inf, d), axis=1)
        return jnp.mean(jax.nn.relu(hardest_positive - hardest_negative + MARGIN))

    def normalize(x):
        return x / jnp.maximum(jnp.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    def nt_xent(z1, z2):
        n = z1.shape[0]
        z = jnp.concatenate([normalize(z1), normalize(z2)])
        sim = (z @ z.T) / TEMPERATURE
        sim = jnp.where(jnp.eye(2 * n, dtype=bool), -jnp.inf, sim)
        targets = (jnp.arange(2 * n) + n) % (2 * n)
        return jnp.mean(optax.losses.softmax_cross_entropy_with_integer_labels(sim, targets))

    def step(fn, diff):
        return jax.value_and_grad(fn, argnums=diff)

    return Backend(
        "jax", lambda a: jnp.asarray(a.astype("int32")), lambda a, grad: jnp.asarray(a), jax.block_until_ready,
        jax.jit, "jax.jit", step, np.asarray,
        {"batch_hard_triplet": ("matmul distances, where/max/min, relu", batch_hard),
         "nt_xent": ("normalize, matmul, where −inf, optax softmax_cross_entropy_with_integer_labels", nt_xent)},
    )  # fmt: skip


def _tf_backend(threads, compile_):
    tf = tf_pinned(threads)

    def batch_hard(labels, e):
        n = e.shape[0]
        sq = tf.reduce_sum(e * e, axis=1)
        d = tf.sqrt(tf.maximum(sq[:, None] + sq[None, :] - 2.0 * tf.matmul(e, e, transpose_b=True), 0.0) + EPS)
        same = tf.equal(labels[:, None], labels[None, :])
        positives = tf.logical_and(same, tf.logical_not(tf.eye(n, dtype=tf.bool)))
        hardest_positive = tf.reduce_max(tf.where(positives, d, 0.0), axis=1)
        hardest_negative = tf.reduce_min(tf.where(same, math.inf, d), axis=1)
        return tf.reduce_mean(tf.nn.relu(hardest_positive - hardest_negative + MARGIN))

    def nt_xent(z1, z2):
        n = z1.shape[0]
        z = tf.concat([tf.math.l2_normalize(z1, axis=1), tf.math.l2_normalize(z2, axis=1)], axis=0)
        sim = tf.matmul(z, z, transpose_b=True) / TEMPERATURE
        sim = tf.where(tf.eye(2 * n, dtype=tf.bool), -math.inf, sim)
        targets = (tf.range(2 * n) + n) % (2 * n)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=sim))

    def step(fn, diff):
        def run(*a):
            xs = [a[i] for i in diff]
            with tf.GradientTape() as tape:
                tape.watch(xs)
                value = fn(*a)
            return value, tuple(tape.gradient(value, xs))

        return run

    def sync(r):
        if isinstance(r, tuple):
            r[0].numpy()
            for g in r[1]:
                g.numpy()
        else:
            r.numpy()

    return Backend(
        "tensorflow", lambda a: tf.constant(a.astype("int32")), lambda a, grad: tf.constant(a), sync,
        lambda fn: tf.function(fn, jit_compile=True), "tf.function(jit_compile=True)", step, lambda x: x.numpy(),
        {"batch_hard_triplet": ("matmul distances, where/reduce_max/min, relu", batch_hard),
         "nt_xent": ("l2_normalize, matmul, where −inf, sparse_softmax_cross_entropy_with_logits", nt_xent)},
    )  # fmt: skip


MAKERS = {"numpy": _numpy_backend, "torch": _torch_backend, "jax": _jax_backend, "tensorflow": _tf_backend}


def inputs(loss, n, d, k, seed=0):
    """NumPy inputs: (labels int (N,), embeddings float32 (N, D)) or (z1, z2) float32 (N, D)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if loss == "batch_hard_triplet":
        labels = rng.permutation(np.repeat(np.arange(n // k), k))  # P×K: N/K classes of K samples
        return labels, rng.standard_normal((n, d), dtype=np.float32)
    return rng.standard_normal((n, d), dtype=np.float32), rng.standard_normal((n, d), dtype=np.float32)


def convert(be: Backend, loss, arrays):
    diff = LOSSES[loss][0]
    if loss == "batch_hard_triplet":
        return be.labels(arrays[0]), be.array(arrays[1], 1 in diff)
    return tuple(be.array(a, i in diff) for i, a in enumerate(arrays))


def steps(be: Backend, loss):
    """(ours step, native step), eager: each returns (value, gradients); NumPy's the value."""
    diff = LOSSES[loss][0]
    return be.step(ours_fns()[loss], diff), be.step(be.natives[loss][1], diff)


def compile_pair(be: Backend, ours, native, args_):
    """Compiled (ours, native), each called once (compile time excluded), and notes."""
    notes, out = [], []
    for side, f in (("ours", ours), ("native", native)):
        c = be.jit(f)  # no eager call first: the value check has filled multiloss's dispatch cache
        t0 = time.perf_counter()
        be.sync(c(*args_))
        if side == "ours" and time.perf_counter() - t0 > 5:
            notes.append(f"ours: compile {time.perf_counter() - t0:.0f} s")
        out.append(c)
    return out[0], out[1], notes


# --- value check ----------------------------------------------------------------------------
def check(be: Backend, loss, a) -> tuple[str, bool]:
    """Ours and the native once each on ``a``: a printable line and whether they agree."""
    import numpy as np

    ours, native = steps(be, loss)
    ro, rn = ours(*a), native(*a)
    if be.passes == "fwd":
        (vo, go), (vn, gn) = (ro, ()), (rn, ())
    else:
        (vo, go), (vn, gn) = ro, rn
    vo, vn = float(be.to_numpy(vo)), float(be.to_numpy(vn))
    ok = math.isclose(vo, vn, rel_tol=1e-4, abs_tol=1e-6)
    line = f"# check {be.name:<10} {loss:<18}: ours {vo:.7g}, native {vn:.7g}, |Δ| {abs(vo - vn):.1e} " \
           f"(rel {abs(vo - vn) / max(abs(vn), 1e-30):.1e})"
    if go:
        go, gn = (be.to_numpy(g) for g in go), (be.to_numpy(g) for g in gn)
        diffs = [(float(np.max(np.abs(x - y))), float(np.max(np.abs(y)))) for x, y in zip(go, gn)]
        finite = all(np.isfinite(be.to_numpy(g)).all() for g in ro[1]) and all(
            np.isfinite(be.to_numpy(g)).all() for g in rn[1])
        dg, scale = max(d for d, _ in diffs), max(s for _, s in diffs)
        line += f"; gradient max|Δ| {dg:.1e} (rel. to max|g| {dg / max(scale, 1e-30):.1e})"
        if not finite:
            line += "; NON-FINITE gradient"
            ok = False
    return line + ("" if ok else "  VALUES DIFFER"), ok


# --- timing ---------------------------------------------------------------------------------
@dataclass
class Row:
    backend: str
    mode: str
    loss: str
    passes: str
    native_name: str
    ours_s: float | None = None
    native_s: float | None = None
    mem: dict = field(default_factory=dict)  # side -> {"first", "warm", "retained", "reset"}
    notes: list = field(default_factory=list)


def bench_backend(be: Backend, modes, args) -> list[Row]:
    rows = []
    for loss in args.losses:
        a = convert(be, loss, inputs(loss, args.n, args.d, args.k))
        line, ok = check(be, loss, a)
        print(line, flush=True)
        for mode in modes:
            if mode == "jit" and be.jit is None:
                continue
            row = Row(be.name, mode, loss, be.passes, be.natives[loss][0])
            if not ok:
                row.notes.append("values differ (see check)")
            try:
                ours, native = steps(be, loss)
                if mode == "jit":
                    ours, native, notes = compile_pair(be, ours, native, a)
                    row.notes += notes
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row.ours_s, row.native_s = interleaved(ours, native, a, be.sync, args.rounds,
                                                           args.round_ms / 1000, probe=1)
            except Exception as e:  # noqa: BLE001 (a failing case is reported, not fatal)
                row.notes.append(f"FAILED: {type(e).__name__}: {error_message(e)}")
            rows.append(row)
            ratio = f"{row.ours_s / row.native_s:.2f}" if row.ours_s else "FAIL"
            print(f"#   timed {be.name} {mode} {loss}: native {fmt_time(row.native_s) if row.native_s else '-'}, "
                  f"ratio {ratio}", file=sys.stderr, flush=True)
        del a
    return rows


def noise_floor(be: Backend, modes, args) -> list[tuple[str, float]]:
    """A/A: the native batch-hard step timed against itself, with the same method."""
    loss = "batch_hard_triplet"
    a = convert(be, loss, inputs(loss, args.n, args.d, args.k, seed=1))
    _, native = steps(be, loss)
    return _harness.noise_floor(be, modes, native, a, compile_pair, args.rounds, args.round_ms / 1000, probe=1)


# --- peak memory (one fresh subprocess per backend, mode, loss and side) ---------------------
def memory_child(spec: str, args) -> None:
    """Run in a fresh process: measure one side's peak memory; print one JSON line."""
    backend, mode, loss, side = spec.split(",")
    pin_blas(args.threads)
    frameworks_env(args.threads)
    warnings.filterwarnings("ignore")
    be = MAKERS[backend](args.threads, False)
    ours, native = steps(be, loss)
    fn = ours if side == "ours" else native
    tiny = convert(be, loss, inputs(loss, 2 * args.k, 8, args.k))
    a = convert(be, loss, inputs(loss, args.n, args.d, args.k))  # torch and NumPy share the buffer
    if mode == "jit":
        be.sync(fn(*tiny))  # an eager call first, as the timings' value check makes one
        fn = be.jit(fn)
    be.sync(fn(*tiny))  # warm-up on a tiny input
    first, retained = _harness.measure_call(fn, a, be.sync)
    warm, _ = _harness.measure_call(fn, a, be.sync)
    print(json.dumps({"first": first, "warm": warm, "retained": retained, "reset": _harness.reset_peak()}))


def bench_memory(rows, args) -> None:
    """Fill ``row.mem``: one fresh subprocess per (backend, mode, loss, side), ``--memory-jobs``
    at a time (each measures its own RSS, so they do not disturb each other's numbers)."""
    from concurrent.futures import ThreadPoolExecutor

    env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV}  # glibc defaults (see doc)

    def run(row, side):
        cmd = [sys.executable, os.path.abspath(__file__), "--threads", str(args.threads), "--n", str(args.n),
               "--d", str(args.d), "--k", str(args.k), "--memory-child", f"{row.backend},{row.mode},{row.loss},{side}"]
        return _harness.run_json(cmd, env)

    with ThreadPoolExecutor(max(1, args.memory_jobs)) as pool:
        futures = {(id(row), side): pool.submit(run, row, side) for row in rows for side in ("ours", "native")}
        for row in rows:
            for side in ("ours", "native"):
                result, err = futures[id(row), side].result()
                if result is None:
                    row.notes.append(f"memory {side} FAILED: {err}")
                else:
                    row.mem[side] = result
                    if not result["reset"]:
                        row.notes.append("no /proc/self/clear_refs: memory lower bounds")
            print(f"#   memory {row.backend} {row.mode} {row.loss}: "
                  + ", ".join(f"{s} {row.mem[s]['warm']:.0f} MiB" for s in row.mem), file=sys.stderr, flush=True)


# --- output ---------------------------------------------------------------------------------
def fmt_time(s: float) -> str:
    us = s * 1e6
    if us < 1000:
        return f"{us:7.1f} µs"
    return f"{us / 1000:7.1f} ms"


def matrix_mib(loss, n) -> float:
    """MiB of the loss's square float32 matrix: N×N (batch-hard), (2N)×(2N) (NT-Xent)."""
    side = LOSSES[loss][1](n)
    return side * side * 4 / 2**20


def judge_memory(row) -> tuple[float | None, str]:
    if "ours" not in row.mem or "native" not in row.mem:
        return None, "FAIL" if row.mem or any("memory" in x for x in row.notes) else "-"
    o, n = row.mem["ours"]["warm"], row.mem["native"]["warm"]
    if max(o, n) < MEMORY_FLOOR_MIB:
        return None, "(<floor)"
    ratio = o / max(n, 0.1)
    flag = "!" if ratio > TARGETS["memory"] and o - n >= MEMORY_FLOOR_MIB else " "
    return ratio, f"{ratio:5.2f}{flag}"


def _mem(row, side, scale=1.0, width=7, digits=1) -> str:
    """The warm call's peak memory of one side, in MiB / ``scale``."""
    return f"{row.mem[side]['warm'] / scale:{width}.{digits}f}" if side in row.mem else f"{'-':>{width}}"


def print_table(rows, args):
    print(f"{'backend':<10} {'mode':<5} {'loss':<18} {'pass':<7} | {'native':>10} {'ratio':>6} | "
          f"{'peak MiB: ours':>14} {'native':>7} {'ratio':>6} | {'in matrices: ours':>17} {'native':>6} | "
          "native implementation; notes")
    print("-" * 150)
    for r in rows:
        if r.ours_s is not None:
            ratio = r.ours_s / r.native_s
            flag = "!" if ratio > TARGETS[r.mode] else " "
            t = f"{fmt_time(r.native_s):>10} {ratio:5.2f}{flag}"
        else:
            t = f"{'FAIL':>10} {'':6}"
        mat = matrix_mib(r.loss, args.n)

        _, mratio = judge_memory(r)
        print(f"{r.backend:<10} {r.mode:<5} {r.loss:<18} {r.passes:<7} | {t} | {_mem(r, 'ours', width=14)} "
              f"{_mem(r, 'native')} {mratio:>6} | {_mem(r, 'ours', mat, 17, 2)} {_mem(r, 'native', mat, 6, 2)} | "
              + "; ".join([r.native_name, *r.notes]))


def summarize(rows, noise, args):
    print(f"\nSummary at N={args.n}, D={args.d} (targets: time eager ≤ {TARGETS['eager']:.2f}×, "
          f"jit ≤ {TARGETS['jit']:.2f}×; peak memory ≤ {TARGETS['memory']:.2f}×):")
    for mode in MODES:
        rs = [r for r in rows if r.mode == mode and r.ours_s is not None]
        if not rs:
            continue
        judged = [(f"{r.backend}/{r.loss}", r.ours_s / r.native_s) for r in rs]
        ok = [f"{k} {x:.2f}" for k, x in judged if x <= TARGETS[mode]]
        over = [f"{k} {x:.2f}" for k, x in judged if x > TARGETS[mode]]
        print(f"  time {mode:<5}: within target: {', '.join(ok) or '-'}; OVER: {', '.join(over) or '-'}")
    failed = [f"{r.backend} {r.mode} {r.loss}" for r in rows if r.ours_s is None]
    if failed:
        print(f"  time failed: {', '.join(failed)}")
    if noise:
        print("  noise (A/A: the native batch-hard step against itself, same method): "
              + ", ".join(f"{name} {x:.2f}" for name, x in noise))
    if any(r.mem for r in rows):
        judged = [(f"{r.backend} {r.mode} {r.loss}", judge_memory(r)[0]) for r in rows]
        ok = [f"{k} {x:.2f}" for k, x in judged if x is not None and x <= TARGETS["memory"]]
        over = [f"{k} {x:.2f}" for k, x in judged if x is not None and x > TARGETS["memory"]]
        print(f"  memory    : within target: {', '.join(ok) or '-'}; OVER: {', '.join(over) or '-'}")


# --- main -----------------------------------------------------------------------------------
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer, shorter rounds; no A/A row, no peak memory (unless --memory)")
    ap.add_argument("--n", type=int, default=N, help=f"batch size N (default {N}); a multiple of --k")
    ap.add_argument("--d", type=int, default=D, help=f"embedding size D (default {D})")
    ap.add_argument("--k", type=int, default=K, help=f"samples per class for batch-hard (default {K})")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument("--memory", action="store_true", help="with --quick: measure peak memory too")
    ap.add_argument("--memory-jobs", type=int, default=2, help="memory subprocesses run at once (default 2)")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads for every framework (default 1)")
    ap.add_argument("--backends", default="numpy,torch,jax,tensorflow")
    ap.add_argument("--losses", default=",".join(LOSSES))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds per case (default 3; --quick 2)")
    ap.add_argument("--round-ms", type=float, default=None, help="ms per side per round (default 25; --quick 4)")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.round_ms = args.round_ms or (4.0 if args.quick else 25.0)
    args.losses = args.losses.split(",")
    for name in args.losses:
        if name not in LOSSES:
            ap.error(f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
    if args.k < 2 or args.n % args.k or args.n < 2 * args.k:
        ap.error("--n must be a multiple of --k, with --k ≥ 2 and at least two classes")
    args.measure_memory = not args.no_memory and (not args.quick or args.memory)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args)
        return
    reexec_with_malloc_env()
    pin_blas(args.threads)
    frameworks_env(args.threads)
    warnings.filterwarnings("ignore", module="torch")
    start = time.perf_counter()

    backends = make_backends(MAKERS, args.backends.split(","), args.threads, False)
    import numpy as np

    import multiloss

    print(f"# multiloss {multiloss.__version__}, Python {sys.version.split()[0]}, numpy {np.__version__}, "
          + ", ".join(f"{b.name} {version(b.name)}" for b in backends if b.name != "numpy")
          + (f", optax {sys.modules['optax'].__version__}" if "optax" in sys.modules else ""))
    print(f"# batch_hard_triplet(labels, embeddings, margin={MARGIN}) and nt_xent(z1, z2, temperature={TEMPERATURE}), "
          f"mean; float32 N={args.n}, D={args.d}; batch-hard labels {args.n // args.k} classes × {args.k}, shuffled")
    print("# pass: fwd+bwd = the value and its gradient w.r.t. the embeddings (NumPy: fwd, the value only)")
    print(f"# {args.rounds} interleaved rounds of ~{args.round_ms:g} ms per side; min per call; {args.threads} "
          f"thread(s); os.cpu_count()={os.cpu_count()}; load average at start {os.getloadavg()[0]:.1f}; "
          "glibc mmap/trim thresholds raised for timing")
    print("# jit (both sides' whole step compiled): "
          + ", ".join(f"{b.name}={b.jit_name if b.jit else 'no (eager only)'}" for b in backends))
    print("# eager: no user jit; multiloss still runs its kernel as one compiled call on jax and tensorflow\n")

    modes = args.modes.split(",")
    rows, noise = [], []
    for be in backends:
        rows += bench_backend(be, modes, args)
    phases = [("timing", time.perf_counter() - start)]
    if not args.quick:
        for be in backends:
            noise += noise_floor(be, modes, args)
        phases.append(("A/A", time.perf_counter() - start - sum(t for _, t in phases)))
    if args.measure_memory:
        bench_memory(rows, args)
        phases.append(("memory", time.perf_counter() - start - sum(t for _, t in phases)))

    print(f"\n# ratio = multiloss / native time per call (below 1: multiloss faster); '!' = over the target "
          f"(eager {TARGETS['eager']}, jit {TARGETS['jit']}, memory {TARGETS['memory']})")
    if rows and any(r.mem for r in rows):
        print("# peak MiB = what one warm call (value and gradient) raised the process's peak RSS above its RSS "
              "before the call, one fresh process per side; 'in matrices' = that peak in units of one float32 "
              f"N×N matrix ({matrix_mib('batch_hard_triplet', args.n):.4g} MiB) for batch-hard, (2N)×(2N) "
              f"({matrix_mib('nt_xent', args.n):.4g} MiB) for NT-Xent")
    print()
    print_table(rows, args)
    summarize(rows, noise, args)
    print(f"\n# total {time.perf_counter() - start:.0f} s (" + ", ".join(f"{k} {t:.0f} s" for k, t in phases) + ")")


if __name__ == "__main__":
    main()
