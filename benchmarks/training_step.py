"""One SGD training step of a small MLP: multiloss's sparse categorical cross-entropy vs the framework's own.

    python benchmarks/training_step.py                       # every case (a few minutes on 2 cores)
    python benchmarks/training_step.py --quick               # fewer, shorter rounds
    python benchmarks/training_step.py --cases torch-eager,jax-jit

The model: batch 64, 32 -> 64 -> 10, ReLU, logits out; integer labels; plain SGD (lr 0.01).
Both sides start from the same weights and train on the same fixed batch (float32 inputs drawn
from a fixed seed). Per case, the loss is the only difference:

    torch-eager       multiloss.torch.SparseCategoricalCrossEntropy(from_logits=True)
                      vs nn.CrossEntropyLoss(); step = zero_grad, forward, loss, backward,
                      torch.optim.SGD.step
    torch-compile     the same step with forward + loss under torch.compile (one compiled
                      function per side, fullgraph=True where it holds; backward runs the
                      compiled backward graph, the optimizer step is eager on both sides)
    keras-tensorflow  model.train_on_batch(x, y) of a Keras 3 model compiled with
    keras-jax         multiloss.keras.SparseCategoricalCrossEntropy(from_logits=True) vs
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True), on the
                      TensorFlow and on the JAX backend (Keras's default jit_compile="auto")
    jax-jit           a jax.jit step (value_and_grad + optax.sgd update) with
                      multiloss.sparse_categorical_cross_entropy(labels, logits, from_logits=True)
                      vs optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

Keras's backend is fixed when Keras is imported (KERAS_BACKEND), so every case runs in a fresh
subprocess of this script (``--case NAME``), which prints its result as one JSON line; the
parent prints the table. Within a case the two sides are timed interleaved
(``benchmarks/_harness.py``): each round runs n steps of one side then n of the other (the
order alternates), n chosen so a round takes about ``--round-ms``; the time per step is the
minimum over rounds, the ratio ours / native. Every step is synchronised (torch on CPU is
synchronous; JAX: ``jax.block_until_ready`` on the new parameters, optimizer state and loss;
``train_on_batch`` returns the loss as a NumPy value). Compilation (torch.compile, jax.jit,
Keras's traced train function) happens in warm-up steps before the timing. Thread pools are
pinned to ``--threads`` (default 1); the processes run with glibc's mmap/trim thresholds raised
(``_harness.MALLOC_ENV``). Each case also checks that the two sides' first-step losses agree.

Only the public API is used (``multiloss.sparse_categorical_cross_entropy``,
``multiloss.torch.SparseCategoricalCrossEntropy``, ``multiloss.keras.SparseCategoricalCrossEntropy``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings

import _harness
from _harness import MALLOC_ENV, error_message, frameworks_env, interleaved, reexec_with_malloc_env, tf_pinned

BATCH, D_IN, HIDDEN, CLASSES = 64, 32, 64, 10
LR = 0.01
CASES = ("torch-eager", "torch-compile", "keras-tensorflow", "keras-jax", "jax-jit")


def batch():
    """(x float32 (BATCH, D_IN), labels int64 (BATCH,)) from a fixed seed."""
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, D_IN), dtype=np.float32), rng.integers(0, CLASSES, BATCH)


def initial_weights():
    """[W1 (D_IN, HIDDEN), b1, W2 (HIDDEN, CLASSES), b2] as float32 NumPy, Glorot-uniform."""
    import numpy as np

    rng = np.random.default_rng(1)

    def glorot(a, b):
        limit = math.sqrt(6.0 / (a + b))
        return rng.uniform(-limit, limit, (a, b)).astype(np.float32)

    return [glorot(D_IN, HIDDEN), np.zeros(HIDDEN, np.float32), glorot(HIDDEN, CLASSES),
            np.zeros(CLASSES, np.float32)]


# --- torch -----------------------------------------------------------------------------------
def _torch_sides(compiled: bool, threads: int):
    import torch
    from torch import nn

    import multiloss.torch as mt

    _harness.torch_jit(threads, False)
    x_np, y_np = batch()
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np.astype("int64"))
    w = initial_weights()
    notes = []

    def side(name, loss_fn):
        model = nn.Sequential(nn.Linear(D_IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
        with torch.no_grad():  # nn.Linear's weight is (out, in)
            for p, value in zip(model.parameters(), w):
                p.copy_(torch.from_numpy(value.T.copy() if value.ndim == 2 else value))
        opt = torch.optim.SGD(model.parameters(), lr=LR)

        def forward(xb, yb):
            return loss_fn(model(xb), yb)

        if compiled:
            forward(x, y)  # an eager call first fills multiloss's dispatch cache
            fwd = torch.compile(forward, fullgraph=True, dynamic=False)
            t0 = time.perf_counter()
            try:
                fwd(x, y).backward()
            except Exception as e:  # noqa: BLE001 (a graph break under fullgraph=True)
                fwd = torch.compile(forward, dynamic=False)
                fwd(x, y).backward()
                notes.append(f"{name}: graph break ({error_message(e)[:60]})")
            notes.append(f"{name} compile {time.perf_counter() - t0:.1f} s")
            opt.zero_grad(set_to_none=True)
        else:
            fwd = forward

        def step():
            opt.zero_grad(set_to_none=True)
            loss = fwd(x, y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    ours = side("ours", mt.SparseCategoricalCrossEntropy(from_logits=True))
    native = side("native", nn.CrossEntropyLoss())
    return (ours, native, lambda r: r, "multiloss.torch.SparseCategoricalCrossEntropy(from_logits=True)",
            "nn.CrossEntropyLoss()", notes)


# --- Keras (the backend is KERAS_BACKEND, set by the parent) ---------------------------------
def _keras_sides(threads: int):
    if os.environ.get("KERAS_BACKEND") == "tensorflow":
        tf_pinned(threads)
    import keras

    import multiloss.keras as mk

    x, y_np = batch()
    y = y_np.astype("int32")
    w = initial_weights()
    notes = []

    def side(loss):
        model = keras.Sequential([keras.Input((D_IN,)), keras.layers.Dense(HIDDEN, activation="relu"),
                                  keras.layers.Dense(CLASSES)])
        model.set_weights(w)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=LR), loss=loss)

        def step():
            return model.train_on_batch(x, y)

        step()  # traces and compiles the train function
        if not notes:
            notes.append(f"jit_compile={model.jit_compile}")
        return step

    ours = side(mk.SparseCategoricalCrossEntropy(from_logits=True))
    native = side(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return (ours, native, lambda r: r, "multiloss.keras.SparseCategoricalCrossEntropy(from_logits=True)",
            "keras.losses.SparseCategoricalCrossentropy(from_logits=True)", notes)


# --- JAX + optax -----------------------------------------------------------------------------
def _jax_sides(threads: int):
    import jax
    import jax.numpy as jnp
    import optax

    import multiloss

    x_np, y_np = batch()
    x, y = jnp.asarray(x_np), jnp.asarray(y_np.astype("int32"))
    w = [jnp.asarray(a) for a in initial_weights()]
    opt = optax.sgd(LR)

    def mlp(params, xb):
        w1, b1, w2, b2 = params
        return jax.nn.relu(xb @ w1 + b1) @ w2 + b2

    def side(loss):
        @jax.jit
        def train_step(params, opt_state, xb, yb):
            value, grads = jax.value_and_grad(lambda p: loss(mlp(p, xb), yb))(params)
            updates, opt_state = opt.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, value

        state = [list(w), opt.init(list(w))]

        def step():
            params, opt_state, value = train_step(state[0], state[1], x, y)
            state[0], state[1] = params, opt_state
            return params, opt_state, value

        return step

    def ours_loss(logits, labels):
        return multiloss.sparse_categorical_cross_entropy(labels, logits, from_logits=True)

    def native_loss(logits, labels):
        return optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    return (side(ours_loss), side(native_loss), jax.block_until_ready,
            "jax.jit(multiloss.sparse_categorical_cross_entropy(from_logits=True)) + optax.sgd",
            "jax.jit(optax softmax_cross_entropy_with_integer_labels().mean()) + optax.sgd", [])


def _first_loss(result) -> float:
    if isinstance(result, tuple):  # JAX: (params, opt_state, loss)
        result = result[-1]
    if isinstance(result, (list, tuple)):  # Keras may return [loss]
        result = result[0]
    return float(result.numpy() if hasattr(result, "numpy") else result)


def run_case(case: str, args) -> dict:
    """In this process: time one case; the result as a dict."""
    frameworks_env(args.threads)
    warnings.filterwarnings("ignore")
    if case.startswith("torch"):
        sides = _torch_sides(case == "torch-compile", args.threads)
    elif case.startswith("keras"):
        sides = _keras_sides(args.threads)
    elif case == "jax-jit":
        sides = _jax_sides(args.threads)
    else:
        raise SystemExit(f"unknown case {case!r}; the cases are {', '.join(CASES)}")
    ours, native, sync, ours_name, native_name, notes = sides
    first_o, first_n = _first_loss(ours()), _first_loss(native())  # the same weights, batch: one loss
    if not math.isclose(first_o, first_n, rel_tol=1e-4, abs_tol=1e-6):
        notes.append(f"first-step losses differ: {first_o:.6g} vs {first_n:.6g}")
    to, tn = interleaved(ours, native, (), sync, args.rounds, args.round_ms / 1000, probe=3)
    return {"case": case, "ours_s": to, "native_s": tn, "ours": ours_name, "native": native_name, "notes": notes}


# --- the parent: one subprocess per case -----------------------------------------------------
def print_header():
    print("| case | ours ms/step | native ms/step | ratio | ours | native | notes |\n|---|---:|---:|---:|---|---|---|")


def print_result(r: dict):
    print(f"| {r['case']} | {r['ours_s'] * 1e3:.3f} | {r['native_s'] * 1e3:.3f} | {r['ours_s'] / r['native_s']:.2f} | "
          f"{r['ours']} | {r['native']} | {'; '.join(r['notes'])} |", flush=True)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 rounds of ~20 ms per side")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    ap.add_argument("--case", help="run one case in this process and print its JSON (what the parent runs)")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads for every framework (default 1)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 9; --quick 3)")
    ap.add_argument("--round-ms", type=float, default=None, help="ms per side per round (default 100; --quick 20)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per case subprocess (default 900)")
    args = ap.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 9)
    args.round_ms = args.round_ms or (20.0 if args.quick else 100.0)
    return args


def main(argv=None):
    args = parse_args(argv)
    reexec_with_malloc_env()
    if args.case:
        print(json.dumps(run_case(args.case, args)))
        return
    start = time.perf_counter()
    print(f"# Python {sys.version.split()[0]}; MLP {D_IN} -> {HIDDEN} -> {CLASSES} (ReLU), batch {BATCH}, SGD lr {LR}; "
          f"{args.rounds} interleaved rounds of ~{args.round_ms:g} ms per side; min per step; {args.threads} "
          f"thread(s); os.cpu_count()={os.cpu_count()}; load average at start {os.getloadavg()[0]:.1f}")
    print("# each case in a fresh subprocess; ratio = ours / native (below 1: multiloss faster)\n")
    print_header()
    for case in args.cases.split(","):
        env = {**os.environ, **MALLOC_ENV, "TORCHINDUCTOR_COMPILE_THREADS": "1"}
        if case.startswith("keras-"):
            env["KERAS_BACKEND"] = case.split("-", 1)[1]
        cmd = [sys.executable, os.path.abspath(__file__), "--case", case, "--threads", str(args.threads),
               "--rounds", str(args.rounds), "--round-ms", str(args.round_ms)]
        result, err = _harness.run_json(cmd, env, timeout=args.timeout)
        if result is None:
            print(f"| {case} | - | - | - | | | FAILED: {err} |", flush=True)
        else:
            print_result(result)
    print(f"\n# total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
