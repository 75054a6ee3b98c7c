"""CTC: multiloss.ctc against each framework's own CTC, value and value + gradient, eager and compiled.

    python benchmarks/ctc.py                    # T=100, N=32, C=30, S=20 (the issue's shape)
    python benchmarks/ctc.py --quick            # fewer, shorter rounds
    python benchmarks/ctc.py --backends jax --modes jit

Inputs: float32 logits (N, T, C) from a standard normal, labels (N, S) of classes 1..C−1 (blank
0), label lengths drawn in [S/2, S], logit lengths in [T − 20, T] (every sequence has an
alignment). Both sides compute the mean over the batch of the per-sequence losses:

    torch       F.ctc_loss(log_softmax(logits).transpose(0, 1), labels, logit_lengths,
                label_lengths, reduction="sum") / N
    jax         optax.losses.ctc_loss(logits, logit_paddings, labels, label_paddings).mean()
    tensorflow  keras.ops.ctc_loss(labels, logits, label_lengths, logit_lengths).mean()
                (tf.nn.ctc_loss underneath)

against ``multiloss.ctc(labels, logits, label_lengths, logit_lengths)`` (optax's paddings are
made once, outside the timed call). "value+grad" adds the gradient with respect to the logits
(torch ``autograd.grad``, ``jax.value_and_grad``, ``tf.GradientTape``).

Modes: "eager" calls both sides directly. There multiloss's PyTorch adapter routes to
F.ctc_loss (so the ratio is our dispatch's overhead), and on JAX and TensorFlow multiloss runs
its own recursion (``xp.scan``: ``jax.lax.scan``; unrolled on TensorFlow) as one compiled kernel
(``xp.fuse``), while the natives run as their framework runs them eagerly. "jit" compiles the
whole step of BOTH sides: ``jax.jit``; ``tf.function(jit_compile=True)`` for ours and
``tf.function`` for Keras's (tf.nn.ctc_loss has no XLA kernel on CPU); ``torch.compile``,
fullgraph for ours (its own recursion, unrolled over T) and with a graph break for the native
(torch.compile cannot trace F.ctc_loss). Compile time is excluded, and printed.

Timing method (``benchmarks/_harness.py``): the two sides are timed in the same process,
interleaved, minimum over rounds, every call synchronised; thread pools pinned to
``--threads`` (default 1). The ratio is ours / native; the target is ≤ 1.5 where we run our own
recursion.
"""

from __future__ import annotations

import argparse
import sys
import time

import _harness
from _harness import frameworks_env, interleaved, tf_pinned, version

T, N, C, S = 100, 32, 30, 20
TARGET = 1.5


def inputs(seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 1.0, (N, T, C)).astype(np.float32)
    labels = rng.integers(1, C, (N, S)).astype(np.int64)
    label_lengths = rng.integers(S // 2, S + 1, N)
    logit_lengths = rng.integers(T - 20, T + 1, N)
    labels[np.arange(S)[None, :] >= label_lengths[:, None]] = 0
    return logits, labels, label_lengths, logit_lengths


def torch_side(threads, mode, grad):
    import torch
    import torch.nn.functional as F

    import multiloss

    torch.set_num_threads(threads)
    logits, labels, ly, lx = inputs()
    x = torch.from_numpy(logits).requires_grad_(grad)
    y, ly_t, lx_t = torch.from_numpy(labels), torch.from_numpy(ly), torch.from_numpy(lx)

    def ours(x):
        return multiloss.ctc(y, x, ly_t, lx_t)

    def native(x):
        return F.ctc_loss(torch.log_softmax(x, dim=-1).transpose(0, 1), y, lx_t, ly_t, reduction="sum") / N

    def wrap(fn):
        if not grad:
            return fn

        def step(x):
            value = fn(x)
            return value, torch.autograd.grad(value, x)

        return step

    ours, native = wrap(ours), wrap(native)
    if mode == "jit":
        ours, native = torch.compile(ours, fullgraph=True, dynamic=False), torch.compile(native, dynamic=False)
    return ours, native, (x,), lambda r: r, lambda r: float((r[0] if grad else r).detach())


def jax_side(threads, mode, grad):
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    import multiloss

    logits, labels, ly, lx = inputs()
    x, y = jnp.asarray(logits), jnp.asarray(labels)
    ly_j, lx_j = jnp.asarray(ly), jnp.asarray(lx)
    label_pad = jnp.asarray((np.arange(S)[None, :] >= ly[:, None]).astype(np.float32))
    logit_pad = jnp.asarray((np.arange(T)[None, :] >= lx[:, None]).astype(np.float32))

    def ours(x):
        return multiloss.ctc(y, x, ly_j, lx_j)

    def native(x):
        return optax.losses.ctc_loss(x, logit_pad, y, label_pad).mean()

    if grad:
        ours, native = jax.value_and_grad(ours), jax.value_and_grad(native)
    if mode == "jit":
        ours, native = jax.jit(ours), jax.jit(native)
    return ours, native, (x,), jax.block_until_ready, lambda r: float(r[0] if grad else r)


def tf_side(threads, mode, grad):
    tf = tf_pinned(threads)
    import keras

    import multiloss

    logits, labels, ly, lx = inputs()
    x, y = tf.constant(logits), tf.constant(labels)
    ly_t, lx_t = tf.constant(ly.astype("int32")), tf.constant(lx.astype("int32"))

    def ours(x):
        return multiloss.ctc(y, x, ly_t, lx_t)

    def native(x):
        return tf.reduce_mean(keras.ops.ctc_loss(y, x, ly_t, lx_t))

    def wrap(fn):
        if not grad:
            return fn

        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = fn(x)
            return value, tape.gradient(value, x)

        return step

    ours, native = wrap(ours), wrap(native)
    if mode == "jit":
        ours, native = tf.function(ours, jit_compile=True), tf.function(native)

    def sync(r):
        for t in r if isinstance(r, tuple) else (r,):
            t.numpy()
        return r

    return ours, native, (x,), sync, lambda r: float((r[0] if grad else r).numpy())


SIDES = {"torch": torch_side, "jax": jax_side, "tensorflow": tf_side}
VERSIONS = {"torch": "torch", "jax": "optax", "tensorflow": "keras"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(SIDES), choices=list(SIDES))
    parser.add_argument("--modes", nargs="+", default=["eager", "jit"], choices=["eager", "jit"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--round-ms", type=float, default=200.0)
    parser.add_argument("--quick", action="store_true", help="3 rounds of 50 ms")
    args = parser.parse_args(argv)
    rounds, round_s = (3, 0.05) if args.quick else (args.rounds, args.round_ms / 1000)
    frameworks_env(args.threads)
    rows = []
    for name in args.backends:
        for mode in args.modes:
            for grad in (False, True):
                what = "value+grad" if grad else "value"
                try:
                    ours, native, xs, sync, scalar = SIDES[name](args.threads, mode, grad)
                    start = time.perf_counter()
                    a, b = scalar(sync(ours(*xs))), scalar(sync(native(*xs)))  # compiles, in jit mode
                    compile_s = time.perf_counter() - start
                    if abs(a - b) > 1e-4 * abs(b):
                        print(f"# {name} {mode} {what}: values differ: ours {a!r}, native {b!r}", file=sys.stderr)
                    t_ours, t_native = interleaved(ours, native, xs, sync, rounds, round_s)
                except ImportError as exc:
                    print(f"# skipping {name}: {exc}")
                    break
                rows.append((name, mode, what, t_ours, t_native, compile_s))
                print(f"# {name} {mode} {what}: ours {a:.6f}, native {b:.6f}, first calls {compile_s:.1f} s",
                      flush=True)
    print(f"\nCTC, T={T}, N={N}, C={C}, S={S}, float32, {args.threads} thread(s); "
          + ", ".join(f"{VERSIONS[n]} {version(VERSIONS[n])}" for n in args.backends))
    print(f"{'backend':<11} {'mode':<6} {'pass':<11} {'ours ms':>9} {'native ms':>10} {'ours/native':>12}")
    for name, mode, what, t_ours, t_native, _ in rows:
        ratio = t_ours / t_native
        flag = "" if ratio <= TARGET else f"  (> {TARGET})"
        print(f"{name:<11} {mode:<6} {what:<11} {1e3 * t_ours:9.3f} {1e3 * t_native:10.3f} {ratio:12.2f}{flag}")
    return 0


if __name__ == "__main__":
    _harness.reexec_with_malloc_env()
    sys.exit(main())
