"""Regression losses: multiloss vs each framework's own loss, eager and compiled.

    python benchmarks/regression.py            # full run (a few minutes on 2 cores)
    python benchmarks/regression.py --quick    # fewer, shorter rounds; no torch.compile

For every regression loss and every installed backend this times ``multiloss.<loss>(t, p)``
against the framework's native equivalent -- or, where the framework has none, against the
straightforward expression in that framework (marked "expr") -- at 32 and 10^6 float32
elements, eagerly and under the framework's compiler (jax.jit, tf.function(jit_compile=True),
torch.compile; NumPy is eager only). Both sides get the same inputs, drawn from the loss's
registered domain.

Method: the two sides are timed in the same process, interleaved: each round runs N calls of
one side then N calls of the other (the order alternates between rounds), N chosen so a
round takes about ``--round-ms``. The time per call is the minimum over rounds; the ratio is
ours / native. Every call is synchronised (JAX ``block_until_ready``, TensorFlow ``.numpy()``;
NumPy and CPU torch are synchronous). Thread pools are pinned to ``--threads`` (default 1,
for stable numbers on a shared machine). Compile time is excluded: each compiled function is
called before timing.

It also times ``multiloss.array_namespace(a, b)``, the per-call dispatch, for each backend,
and an A/A check (the native MSE against itself) whose distance from 1.00 shows the noise of
the run: other processes on the machine inflate it, so compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import timeit
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import _harness
from _harness import (
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

# --- the losses and the parameters they are benchmarked with --------------------------------
DELTA, BETA, Q = 1.0, 1.0, 0.9
EPS = 1e-7  # Keras's epsilon in log(rate + eps); used by the Poisson expressions too
LOG2 = math.log(2.0)

LOSSES = {  # multiloss name -> keyword parameters
    "mean_squared_error": {},
    "mean_absolute_error": {},
    "huber": {"delta": DELTA},
    "smooth_l1": {"beta": BETA},
    "log_cosh": {},
    "quantile": {"q": Q},
    "mean_squared_log_error": {},
    "poisson": {"log_input": False},
}
SIZES = (32, 10**6)
TARGETS = {"eager": 1.10, "jit": 1.05}  # ours / native at 10^6 elements (the targets)


def expressions(m) -> dict[str, Callable]:
    """The straightforward expression of each loss, written once against a namespace ``m``
    (numpy, jax.numpy, torch, or the TensorFlow shim below); each is ``f(t, p)`` -> mean."""

    def huber(t, p):
        a = m.abs(p - t)
        return m.mean(m.where(a <= DELTA, 0.5 * a * a, DELTA * (a - 0.5 * DELTA)))

    def smooth_l1(t, p):
        a = m.abs(p - t)
        return m.mean(m.where(a < BETA, 0.5 * a * a / BETA, a - 0.5 * BETA))

    def sq(x):
        return x * x

    return {
        "mean_squared_error": lambda t, p: m.mean(sq(p - t)),
        "mean_absolute_error": lambda t, p: m.mean(m.abs(p - t)),
        "huber": huber,
        "smooth_l1": smooth_l1,
        "log_cosh": lambda t, p: m.mean(m.logaddexp(p - t, t - p) - LOG2),
        "quantile": lambda t, p: m.mean(m.maximum(Q * (t - p), (Q - 1.0) * (t - p))),
        "mean_squared_log_error": lambda t, p: m.mean(sq(m.log1p(p) - m.log1p(t))),
        "poisson": lambda t, p: m.mean(p - t * m.log(p + EPS)),
    }


def natives(backend: str) -> dict[str, Callable]:
    """The framework's own loss, ``f(t, p)`` -> mean; losses missing here use ``expressions``."""
    if backend == "torch":
        import torch.nn.functional as F

        return {
            "mean_squared_error": lambda t, p: F.mse_loss(p, t),
            "mean_absolute_error": lambda t, p: F.l1_loss(p, t),
            "huber": lambda t, p: F.huber_loss(p, t, delta=DELTA),
            "smooth_l1": lambda t, p: F.smooth_l1_loss(p, t, beta=BETA),
            "poisson": lambda t, p: F.poisson_nll_loss(p, t, log_input=False),
        }
    if backend == "tensorflow":  # Keras functions average the last axis only: add the mean
        import keras
        import tensorflow as tf

        k, mean = keras.losses, tf.reduce_mean
        return {
            "mean_squared_error": lambda t, p: mean(k.mean_squared_error(t, p)),
            "mean_absolute_error": lambda t, p: mean(k.mean_absolute_error(t, p)),
            "huber": lambda t, p: mean(k.huber(t, p, delta=DELTA)),
            "log_cosh": lambda t, p: mean(k.log_cosh(t, p)),
            "mean_squared_log_error": lambda t, p: mean(k.mean_squared_logarithmic_error(t, p)),
            "poisson": lambda t, p: mean(k.poisson(t, p)),
        }
    if backend == "jax":
        import jax.numpy as jnp
        import optax

        return {
            "mean_squared_error": lambda t, p: jnp.mean(optax.losses.squared_error(p, t)),
            "huber": lambda t, p: jnp.mean(optax.losses.huber_loss(p, t, delta=DELTA)),
            "log_cosh": lambda t, p: jnp.mean(optax.losses.log_cosh(p, t)),
        }
    return {}  # NumPy: scikit-learn is not installed; the expressions are the reference


# --- backends -------------------------------------------------------------------------------
@dataclass
class Backend:
    name: str
    convert: Callable  # float32 NumPy array -> this framework's array
    sync: Callable  # wait for a result to be computed
    jit: Callable | None  # fn -> compiled fn (None: eager only)
    jit_name: str
    namespace: object  # for expressions()


def _jax_backend(threads, compile_):
    import jax
    import jax.numpy as jnp

    return Backend("jax", jnp.asarray, lambda r: r.block_until_ready(), jax.jit, "jax.jit", jnp)


def _torch_backend(threads, compile_):
    import torch

    jit = torch_jit(threads, compile_)
    return Backend("torch", torch.from_numpy, lambda r: r, jit, "torch.compile", torch)


def _tf_backend(threads, compile_):
    tf = tf_pinned(threads)
    shim = SimpleNamespace(
        mean=tf.reduce_mean, abs=tf.abs, where=tf.where, maximum=tf.maximum,
        log=tf.math.log, log1p=tf.math.log1p,
        logaddexp=lambda x, y: tf.maximum(x, y) + tf.math.log1p(tf.exp(-tf.abs(x - y))),
    )  # fmt: skip
    return Backend(
        "tensorflow", tf.constant, lambda r: r.numpy(),
        lambda fn: tf.function(fn, jit_compile=True), "tf.function(jit_compile=True)", shim,
    )  # fmt: skip


def _numpy_backend(threads, compile_):
    import numpy as np

    return Backend("numpy", lambda a: a, lambda r: r, None, "-", np)


MAKERS = {"numpy": _numpy_backend, "torch": _torch_backend, "jax": _jax_backend, "tensorflow": _tf_backend}


# --- timing ---------------------------------------------------------------------------------
def close(a, b) -> bool:
    a, b = float(a), float(b)
    return math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-6)


@dataclass
class Row:
    backend: str
    mode: str
    loss: str
    kind: str  # "native" / "expr"
    native_s: dict  # size -> seconds per call
    ours_s: dict
    notes: list


def bench_backend(be: Backend, modes, losses, args, registry) -> list[Row]:
    import numpy as np

    import multiloss

    table = {**expressions(be.namespace), **natives(be.name)}
    native_names = set(natives(be.name))
    rows = []
    for mode in modes:
        if mode == "jit" and be.jit is None:
            continue
        for name in losses:
            params = LOSSES[name]
            ours = _ours(getattr(multiloss, name), params)
            native = table[name]
            row = Row(be.name, mode, name, "native" if name in native_names else "expr", {}, {}, [])
            for size in args.sizes:
                data = registry[name].domain(np.random.default_rng(0), (size,), params)
                t, p = (be.convert(data[k].astype(np.float32)) for k in ("y_true", "y_pred"))
                try:
                    row.ours_s[size], row.native_s[size] = bench_case(be, mode, ours, native, t, p, args, row)
                except Exception as e:  # noqa: BLE001 (a failing case is reported, not fatal)
                    row.notes.append(f"FAILED at n={_size_name(size)}: {type(e).__name__}: {error_message(e)}")
            rows.append(row)
            print_row(row, args.sizes, flush=True)
    return rows


def _ours(fn, params):
    """``fn(t, p, **params)`` as a plain closure (tf.function's AutoGraph mis-converts a
    multiloss function passed as a default argument; see the report)."""

    def ours(t, p):
        return fn(t, p, **params)

    return ours


def bench_case(be, mode, ours, native, t, p, args, row) -> tuple[float, float]:
    """(ours, native) seconds per call on (t, p), after a check that they agree."""
    if mode == "jit":
        ours, native, note = _compile_pair(be, ours, native, (t, p))
        if note and note not in row.notes:
            row.notes.append(note)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vo, vn = to_float(ours(t, p)), to_float(native(t, p))
        if not close(vo, vn):
            row.notes.append(f"values differ at n={_size_name(t.shape[0])}: {vo:.6g} vs {vn:.6g}")
        return interleaved(ours, native, (t, p), be.sync, args.rounds, args.round_ms / 1000)


def _compile_pair(be, ours, native, a):
    """Compiled (ours, native), each called once (compile time excluded); a note on ours."""
    note = ""
    out = []
    if be.name == "torch":
        import torch

        torch._dynamo.reset()  # a fresh cache per pair: no recompile limit, no stale guards
    for side, f in (("ours", ours), ("native", native)):
        be.sync(f(*a))  # one eager call first: fills multiloss's dispatch cache (its first
        c = be.jit(f)  # resolution imports modules, which would break torch.compile's graph)
        t0 = time.perf_counter()
        try:
            be.sync(c(*a))
        except Exception as e:  # torch fullgraph=True on a graph break
            if be.name != "torch":
                raise
            c = torch.compile(f, dynamic=False)
            be.sync(c(*a))
            note = f"{side}: graph break ({str(e).splitlines()[0][:60]})"
        compile_s = time.perf_counter() - t0
        if side == "ours" and compile_s > 5:
            note = (note + "; " if note else "") + f"compile {compile_s:.0f} s"
        out.append(c)
    return out[0], out[1], note


def noise_floor(be: Backend, modes, args) -> list[tuple[str, float]]:
    """A/A check: the native MSE timed against itself at the largest size."""
    import numpy as np

    n = max(args.sizes)
    rng = np.random.default_rng(1)
    t, p = (be.convert(rng.normal(size=n).astype(np.float32)) for _ in range(2))
    native = {**expressions(be.namespace), **natives(be.name)}["mean_squared_error"]
    return _harness.noise_floor(be, modes, native, (t, p), _compile_pair, args.rounds, args.round_ms / 1000)


# --- dispatch -------------------------------------------------------------------------------
def bench_dispatch(backends) -> list[tuple[str, float]]:
    import numpy as np

    out = []
    for be in backends:
        a, b = (be.convert(np.ones(32, np.float32)) for _ in range(2))
        out.append((be.name, dispatch_time(a, b, 100_000)))
    timer = timeit.Timer(lambda: None)
    out.append(("(empty lambda call, for reference)", min(timer.repeat(5, 100_000)) / 100_000))
    return out


# --- output ---------------------------------------------------------------------------------
def fmt_us(s: float) -> str:
    us = s * 1e6
    return f"{us:9.1f}" if us < 1000 else f"{us:9.0f}"


HEADER_DONE = False


def print_row(row: Row, sizes, flush=False):
    global HEADER_DONE
    if not HEADER_DONE:
        cols = "".join(f" | n={_size_name(s):>4}: native µs  ratio" for s in sizes)
        print(f"{'backend':<10} {'mode':<5} {'loss':<23} {'kind':<6}{cols} | {'Δ µs @32':>8} | notes")
        print("-" * (48 + 30 * len(sizes) + 22))
        HEADER_DONE = True
    cells = []
    for s in sizes:
        if s not in row.ours_s:
            cells.append(f" | {'':>7}{'FAIL':>9}  {'':5} ")
            continue
        ratio = row.ours_s[s] / row.native_s[s]
        target = TARGETS[row.mode] if s >= 10**5 else None
        flag = "!" if target and ratio > target else " "
        cells.append(f" | {'':>7}{fmt_us(row.native_s[s])}  {ratio:5.2f}{flag}")
    small = min(sizes)
    delta = f"{(row.ours_s[small] - row.native_s[small]) * 1e6:8.1f}" if small in row.ours_s else f"{'-':>8}"
    print(
        f"{row.backend:<10} {row.mode:<5} {row.loss:<23} {row.kind:<6}{''.join(cells)} | {delta} | "
        + "; ".join(row.notes),
        flush=flush,
    )


def _size_name(s: int) -> str:
    e = math.log10(s)
    return f"1e{int(e)}" if e.is_integer() and s >= 1000 else str(s)


def summarize(rows, sizes):
    big = max(sizes)
    print(f"\nSummary at n={_size_name(big)} (targets: eager ≤ {TARGETS['eager']:.2f}×, jit ≤ {TARGETS['jit']:.2f}×):")
    for mode in ("eager", "jit"):
        rs = [r for r in rows if r.mode == mode and big in r.ours_s]
        failed = [r for r in rows if r.mode == mode and big not in r.ours_s]
        if not rs and not failed:
            continue
        ratios = [r.ours_s[big] / r.native_s[big] for r in rs]
        over = [r for r, x in zip(rs, ratios) if x > TARGETS[mode]]
        print(
            f"  {mode:<5}: {len(rs)} comparisons, geometric-mean ratio "
            f"{math.exp(statistics.fmean(math.log(x) for x in ratios)) if ratios else math.nan:.2f}, "
            f"{len(over)} over target"
            + (": " + ", ".join(f"{r.backend}/{r.loss} {r.ours_s[big] / r.native_s[big]:.2f}" for r in over)
               if over else "")
        )
        if failed:
            print(f"         {len(failed)} failed: " + ", ".join(f"{r.backend}/{r.loss}" for r in failed))


# --- main -----------------------------------------------------------------------------------
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 short rounds per case; skips torch.compile")
    ap.add_argument("--no-torch-compile", action="store_true", help="skip the torch.compile comparisons")
    ap.add_argument("--torch-compile", action="store_true", help="with --quick: keep torch.compile")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads for every framework (default 1)")
    ap.add_argument("--backends", default="numpy,torch,jax,tensorflow")
    ap.add_argument("--losses", default=",".join(LOSSES), help="comma-separated multiloss names")
    ap.add_argument("--modes", default="eager,jit")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--rounds", type=int, default=None, help="rounds per case (default 11; --quick 3)")
    ap.add_argument("--round-ms", type=float, default=None, help="ms per side per round (default 25; --quick 4)")
    args = ap.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 11)
    args.round_ms = args.round_ms or (4.0 if args.quick else 25.0)
    args.sizes = [int(float(s)) for s in args.sizes.split(",")]
    args.torch_compile = not args.no_torch_compile and (not args.quick or args.torch_compile)
    for name in args.losses.split(","):
        if name not in LOSSES:
            ap.error(f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
    return args


def main(argv=None):
    reexec_with_malloc_env()
    args = parse_args(argv)
    frameworks_env(args.threads)
    warnings.filterwarnings("ignore", module="torch")
    start = time.perf_counter()

    backends = make_backends(MAKERS, args.backends.split(","), args.threads, args.torch_compile)
    import numpy as np

    import multiloss
    from multiloss.registry import REGISTRY

    print(f"# multiloss {multiloss.__version__}, Python {sys.version.split()[0]}, numpy {np.__version__}, "
          + ", ".join(f"{b.name} {version(b.name)}" for b in backends if b.name != "numpy"))
    print("# glibc mmap/trim thresholds raised to 1 GiB for both sides (see MALLOC_ENV)")
    print(f"# float32; {args.rounds} interleaved rounds of ~{args.round_ms:g} ms per side; min per call; "
          f"{args.threads} thread(s); os.cpu_count()={os.cpu_count()}; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    print("# jit: " + ", ".join(f"{b.name}={b.jit_name if b.jit else 'no (eager only)'}" for b in backends))
    if "torch" in args.backends and not args.torch_compile:
        print("# torch.compile skipped (--quick or --no-torch-compile)")
    print("# ratio = multiloss / native (below 1: multiloss faster); '!' = over the target at 1e6 "
          f"(eager {TARGETS['eager']}, jit {TARGETS['jit']}); Δ µs @32 = multiloss − native per call at n=32")
    print("# kind: native = the framework's own loss; expr = the straightforward expression in it\n")

    modes = args.modes.split(",")
    losses = args.losses.split(",")
    rows, noise = [], []
    for be in backends:
        rows += bench_backend(be, modes, losses, args, REGISTRY)
        noise += noise_floor(be, modes, args)

    summarize(rows, args.sizes)
    print(f"  noise (A/A: the native MSE against itself at n={_size_name(max(args.sizes))}, same method): "
          + ", ".join(f"{name} {r:.2f}" for name, r in noise))
    print("\nDispatch: multiloss.array_namespace(a, b) per call (target ≤ 2 µs):")
    for name, s in bench_dispatch(backends):
        print(f"  {name:<36} {s * 1e9:7.0f} ns" + ("" if name.startswith("(") else ("  ok" if s <= 2e-6 else "  OVER")))
    print(f"\n# total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
