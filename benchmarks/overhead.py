"""Per-call overhead, eager: every built-in loss x backend, multiloss vs the framework's own.

    python benchmarks/overhead.py                   # full run (several minutes on 2 cores)
    python benchmarks/overhead.py --quick           # 2 short rounds per pair (a smoke run)
    python benchmarks/overhead.py --backends torch --losses huber,mean_squared_error --sizes 32
    python benchmarks/overhead.py --checks off      # under a check policy (multiloss.checks)

For every built-in loss (a registry entry whose kernel lives in ``multiloss.losses``) and every
installed backend, this times ``multiloss.<loss>(*arrays, **params)`` (mean reduction) EAGERLY
against the framework's own loss at batch n = 32 and 1024 (``--sizes``): n elements for an
element loss, n x 10 for a class / row loss, n x 16 for an embedding loss (``--width``).
The inputs are drawn, float32 (class labels int64 for NumPy/torch, int32 for JAX/TensorFlow),
from the loss's registered ``domain(rng, shape, params)`` at the parameters benchmarked, so
they are valid and the same for both sides. The comparators:

    numpy       the hand-written NumPy expression (np.mean((p - t) ** 2), ...)
    torch       the fused torch.nn.functional loss where one gives the same number
                (F.mse_loss, F.cross_entropy, F.binary_cross_entropy_with_logits, F.huber_loss,
                F.kl_div, F.triplet_margin_loss, ...), else the same formula in torch ops ("expr")
    tensorflow  TWO ratios: the Keras loss class (keras.losses.MeanSquaredError(), ... built
                once), and the same formula in raw TF ops (tf.reduce_mean(tf.square(p - t)))
    jax         the optax loss + jnp.mean where one gives the same number, else jnp ops ("expr")

The "expr" comparators are each loss's straightforward formula, written once over a small
table of each framework's own functions (``OPS``: np.sum / torch.sum / tf.reduce_sum /
jnp.sum, ...), so the NumPy, torch, raw-TF and JAX expressions are the same formula. Parameters
are chosen so that both sides compute the same number: ``from_logits=True`` for the
cross-entropies and focal losses (as F.cross_entropy / optax take logits; binary
cross-entropy also on probabilities, vs F.binary_cross_entropy and Keras's default),
``zero_true_class=True`` for categorical hinge (Keras's max over (1 - y)·ŷ), and
``log_input=True`` for a second KL row (F.kl_div(..., reduction="batchmean"),
optax.losses.kl_divergence). Dice / Tversky keep ``smooth=1`` (the domain has empty masks, where
an unsmoothed expression is 0/0), so Keras's Dice / Tversky, which have no smoothing term,
give a different number there. Each row checks that the two values agree (rel. 1e-3) and
says so in its notes when they do not (Keras's smoothing-free Dice, or its probability clip on
the domain's extreme logits for categorical focal).

Method (``benchmarks/_harness.py``, shared with regression.py / classification.py): the two
sides are timed in the same process, interleaved: each round runs n calls of one side then n of
the other (the order alternates between rounds), n chosen so a round takes about
``--round-ms``; the time per call is the minimum over rounds, with the garbage collector off,
and the ratio is ours / native (below 1: multiloss faster). For TensorFlow ours is interleaved
with each comparator in turn, and each ratio uses ours as timed in its own pair ("ours µs" is
the one timed against the Keras class, or against raw ops where Keras has no loss). Every call is
synchronised (JAX ``block_until_ready``, TensorFlow ``.numpy()``; NumPy and CPU torch are
synchronous). Thread pools are pinned to ``--threads`` (default 1). The process runs with
glibc's mmap/trim thresholds raised (``_harness.MALLOC_ENV``). At the end: per backend and
size, the geometric mean and the maximum of the ratios.

Only the public API is used (``multiloss.<loss>``, ``multiloss.registry.REGISTRY``), so the
script runs against any checkout with the same API (a loss missing there is skipped).

Not covered, and why:
  * parameter settings other than the one per loss in ``CASES`` (label smoothing, class
    weights, ignore_index, pos_weight, sample_weight, reductions other than the mean): the
    benchmark is about per-call overhead, which these options change little;
  * compiled modes (jax.jit, tf.function, torch.compile): see regression.py / classification.py;
  * a registered built-in loss with no entry in ``CASES`` (one added after this script) is
    listed at the end as not covered;
  * native comparators where the framework has none giving the same number, so the "expr" is
    used instead: torch has no hinge, squared hinge, categorical hinge, log-cosh, quantile, MSLE,
    focal, categorical focal, contrastive, batch-hard triplet, NT-Xent, cosine distance, Dice or
    Tversky; Keras has no smooth L1, quantile, contrastive, triplet, batch-hard triplet,
    NT-Xent, cosine distance, cosine embedding, margin ranking, Gaussian NLL (no Keras ratio
    there, only raw TF ops); optax has no MAE, smooth L1, quantile, MSLE, Poisson, squared or
    categorical hinge on one-hot rows (multiclass_hinge_loss takes integer labels),
    contrastive, batch-hard triplet, cosine embedding, margin ranking, Gaussian NLL,
    categorical focal, or BCE on probabilities; its triplet_margin_loss puts eps inside the
    norm's sum (a different number) and its dice_loss takes spatial axes, so the jnp
    expression is used for those too.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

from _harness import (
    error_message,
    frameworks_env,
    interleaved,
    reexec_with_malloc_env,
    tf_pinned,
    to_float,
    torch_jit,
    version,
)

SIZES = (32, 1024)
CLASSES, WIDTH = 10, 16
LOG2 = math.log(2.0)


# --- the formulas, over a table of one framework's functions ---------------------------------
def _hinge_labels(o, t):
    return o.where(t == 0, -1.0, t)


def _cosine(o, a, b):
    den = o.maximum(o.sqrt(o.sum(a * a, -1)) * o.sqrt(o.sum(b * b, -1)), 1e-12)
    return o.sum(a * b, -1) / den


def _bce_logits(o, t, x):
    return o.softplus(x) - t * x


def _distance(o, a, b, eps):  # torch's pairwise_distance: ||a − b + eps||
    d = a - b + eps
    return o.sqrt(o.sum(d * d, -1))


def _batch_hard(o, labels, x, margin=1.0):
    n = x.shape[0]
    r = o.sum(x * x, -1)
    d = o.sqrt(o.maximum(r[:, None] - 2.0 * o.gram(x) + r[None, :], 0.0))
    same = labels[:, None] == labels[None, :]
    idx = o.arange(n)
    pos = same & (idx[:, None] != idx[None, :])
    hardest_pos = o.max(o.where(pos, d, 0.0), -1)
    hardest_neg = o.min(o.where(same, math.inf, d), -1)
    valid = o.any(pos, -1) & o.any(~same, -1)
    per = o.where(valid, o.maximum(hardest_pos - hardest_neg + margin, 0.0), 0.0)
    return o.sum(per) / o.maximum(o.sum(o.f32(valid)), 1.0)


def _nt_xent(o, z1, z2, temperature=0.5):
    z = o.concat([z1, z2])
    z = z / o.maximum(o.sqrt(o.sum(z * z, -1, keepdims=True)), 1e-12)
    s = o.where(o.eye(z.shape[0]), -math.inf, o.gram(z) / temperature)
    n = z1.shape[0]
    positive = o.sum(z[:n] * z[n:], -1) / temperature
    return o.mean(o.logsumexp(s)) - o.mean(positive)


def _dice_terms(o, t, p):
    return o.sum(t * p, -1), o.sum(t, -1), o.sum(p, -1)


def _tversky(o, t, p, alpha=0.5, beta=0.5, smooth=1.0):
    tp = o.sum(t * p, -1)
    fp, fn = o.sum((1.0 - t) * p, -1), o.sum(t * (1.0 - p), -1)
    return o.mean(1.0 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth))


def _dice(o, t, p, smooth=1.0):
    i, st, sp = _dice_terms(o, t, p)
    return o.mean(1.0 - (2.0 * i + smooth) / (st + sp + smooth))


def _binary_focal(o, t, x, alpha=0.25, gamma=2.0):
    p = o.sigmoid(x)
    pt = t * p + (1.0 - t) * (1.0 - p)
    a = alpha * t + (1.0 - alpha) * (1.0 - t)
    return o.mean(a * (1.0 - pt) ** gamma * _bce_logits(o, t, x))


def _categorical_focal(o, t, x, gamma=2.0):
    lp = o.log_softmax(x)
    return o.mean(o.sum(-((1.0 - o.exp(lp)) ** gamma) * t * lp, -1))


def _poisson(o, t, p):
    return o.mean(p - o.xlogy(t, p))


def _msle(o, t, p):
    d = o.log1p(p) - o.log1p(t)
    return o.mean(d * d)


def _huber(o, t, p, delta=1.0):
    a = o.abs(p - t)
    return o.mean(o.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta)))


def _smooth_l1(o, t, p, beta=1.0):
    a = o.abs(p - t)
    return o.mean(o.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta))


def _log_cosh(o, t, p):
    a = o.abs(p - t)
    return o.mean(a + o.softplus(-2.0 * a) - LOG2)


def _kl(o, t, p):
    return o.mean(o.sum(o.xlogy(t, t) - o.xlogy(t, p), -1))


def _contrastive(o, y, x1, x2, margin=1.0):
    d = x1 - x2
    d2 = o.sum(d * d, -1)
    gap = o.maximum(margin - o.sqrt(d2), 0.0)
    return o.mean(0.5 * (y * d2 + (1.0 - y) * gap * gap))


def _cosine_embedding(o, y, x1, x2, margin=0.0):
    c = _cosine(o, x1, x2)
    return o.mean(o.where(y == 1, 1.0 - c, o.maximum(c - margin, 0.0)))


def _gaussian_nll(o, y, mean, var, eps=1e-6):
    v = o.maximum(var, eps)
    return o.mean(0.5 * (o.log(v) + (mean - y) ** 2 / v))


def _categorical_hinge(o, t, p):  # zero_true_class=True: Keras's max over (1 − y)·ŷ
    return o.mean(o.maximum(1.0 + o.max((1.0 - t) * p, -1) - o.sum(t * p, -1), 0.0))


# --- the cases: our parameters, the expression, and each framework's own loss ----------------
@dataclass
class Case:
    """One loss at one parameter setting. ``expr(o, *arrays)``: the formula over ``o`` (OPS of a
    backend), arrays in our input order. ``torch`` / ``optax``: (name, fn(*arrays)) of the
    framework's own loss (None: the expression is the comparator). ``keras``: (class name,
    constructor kwargs), called as instance(y_true-like first, as ``keras_args`` orders them)."""

    loss: str
    params: dict
    expr: Callable
    torch: tuple | None = None
    keras: tuple | None = None
    optax: tuple | None = None
    keras_args: Callable | None = None  # arrays -> the Keras call's (y_true, y_pred)
    label: str = ""

    @property
    def key(self) -> str:
        return self.loss + (f"[{self.label}]" if self.label else "")


def _F(name):
    import torch.nn.functional as F

    return getattr(F, name)


def _ox(name):
    import optax

    return getattr(optax.losses, name)


def _jmean(x):
    import jax.numpy as jnp

    return jnp.mean(x)


CASES = [
    # regression
    Case("mean_squared_error", {}, lambda o, t, p: o.mean((p - t) ** 2),
         torch=("F.mse_loss", lambda t, p: _F("mse_loss")(p, t)),
         keras=("MeanSquaredError", {}),
         optax=("squared_error", lambda t, p: _jmean(_ox("squared_error")(p, t)))),
    Case("mean_absolute_error", {}, lambda o, t, p: o.mean(o.abs(p - t)),
         torch=("F.l1_loss", lambda t, p: _F("l1_loss")(p, t)),
         keras=("MeanAbsoluteError", {})),
    Case("huber", {"delta": 1.0}, _huber,
         torch=("F.huber_loss", lambda t, p: _F("huber_loss")(p, t, delta=1.0)),
         keras=("Huber", {"delta": 1.0}),
         optax=("huber_loss", lambda t, p: _jmean(_ox("huber_loss")(p, t, delta=1.0)))),
    Case("smooth_l1", {"beta": 1.0}, _smooth_l1,
         torch=("F.smooth_l1_loss", lambda t, p: _F("smooth_l1_loss")(p, t, beta=1.0))),
    Case("log_cosh", {}, _log_cosh,
         keras=("LogCosh", {}),
         optax=("log_cosh", lambda t, p: _jmean(_ox("log_cosh")(p, t)))),
    Case("quantile", {"q": 0.9}, lambda o, t, p: o.mean(o.maximum(0.9 * (t - p), -0.1 * (t - p)))),
    Case("mean_squared_log_error", {}, _msle, keras=("MeanSquaredLogarithmicError", {})),
    Case("poisson", {}, _poisson,
         torch=("F.poisson_nll_loss", lambda t, p: _F("poisson_nll_loss")(p, t, log_input=False)),
         keras=("Poisson", {})),
    # classification
    Case("binary_cross_entropy", {}, lambda o, t, p: -o.mean(t * o.log(p) + (1.0 - t) * o.log1p(-p)),
         torch=("F.binary_cross_entropy", lambda t, p: _F("binary_cross_entropy")(p, t)),
         keras=("BinaryCrossentropy", {})),
    Case("binary_cross_entropy", {"from_logits": True}, lambda o, t, x: o.mean(_bce_logits(o, t, x)),
         torch=("F.binary_cross_entropy_with_logits", lambda t, x: _F("binary_cross_entropy_with_logits")(x, t)),
         keras=("BinaryCrossentropy", {"from_logits": True}),
         optax=("sigmoid_binary_cross_entropy", lambda t, x: _jmean(_ox("sigmoid_binary_cross_entropy")(x, t))),
         label="from_logits"),
    Case("binary_focal", {"from_logits": True, "alpha": 0.25, "gamma": 2.0}, _binary_focal,
         keras=("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.25, "gamma": 2.0,
                                            "from_logits": True}),
         optax=("sigmoid_focal_loss", lambda t, x: _jmean(_ox("sigmoid_focal_loss")(x, t, alpha=0.25, gamma=2.0))),
         label="from_logits"),
    Case("categorical_cross_entropy", {"from_logits": True},
         lambda o, t, x: -o.mean(o.sum(t * o.log_softmax(x), -1)),
         torch=("F.cross_entropy", lambda t, x: _F("cross_entropy")(x, t)),
         keras=("CategoricalCrossentropy", {"from_logits": True}),
         optax=("softmax_cross_entropy", lambda t, x: _jmean(_ox("softmax_cross_entropy")(x, t))),
         label="from_logits"),
    Case("sparse_categorical_cross_entropy", {"from_logits": True},
         lambda o, y, x: o.mean(o.logsumexp(x) - o.pick(x, y)),
         torch=("F.cross_entropy", lambda y, x: _F("cross_entropy")(x, y)),
         keras=("SparseCategoricalCrossentropy", {"from_logits": True}),
         optax=("softmax_cross_entropy_with_integer_labels",
                lambda y, x: _jmean(_ox("softmax_cross_entropy_with_integer_labels")(x, y))),
         label="from_logits"),
    Case("categorical_focal", {"from_logits": True, "gamma": 2.0}, _categorical_focal,
         keras=("CategoricalFocalCrossentropy", {"alpha": 1.0, "gamma": 2.0, "from_logits": True}),
         label="from_logits"),
    Case("hinge", {}, lambda o, t, p: o.mean(o.maximum(1.0 - _hinge_labels(o, t) * p, 0.0)),
         keras=("Hinge", {})),
    Case("squared_hinge", {}, lambda o, t, p: o.mean(o.maximum(1.0 - _hinge_labels(o, t) * p, 0.0) ** 2),
         keras=("SquaredHinge", {})),
    Case("categorical_hinge", {"zero_true_class": True}, _categorical_hinge,
         keras=("CategoricalHinge", {}), label="zero_true_class"),
    Case("kl_divergence", {}, _kl, keras=("KLDivergence", {})),
    Case("kl_divergence", {"log_input": True}, lambda o, t, lq: o.mean(o.sum(o.xlogy(t, t) - t * lq, -1)),
         torch=("F.kl_div(batchmean)", lambda t, lq: _F("kl_div")(lq, t, reduction="batchmean")),
         optax=("kl_divergence", lambda t, lq: _jmean(_ox("kl_divergence")(lq, t))),
         label="log_input"),
    # embedding / ranking
    Case("contrastive", {}, _contrastive),
    Case("triplet_margin", {}, lambda o, a, p, n: o.mean(o.maximum(
        _distance(o, a, p, 1e-6) - _distance(o, a, n, 1e-6) + 1.0, 0.0)),
         torch=("F.triplet_margin_loss", lambda a, p, n: _F("triplet_margin_loss")(a, p, n))),
    Case("batch_hard_triplet", {}, _batch_hard),
    Case("nt_xent", {"temperature": 0.5}, _nt_xent,
         optax=("ntxent", lambda z1, z2: _ox("ntxent")(*_ntxent_args(z1, z2), temperature=0.5))),
    Case("cosine_similarity", {}, lambda o, t, p: -o.mean(_cosine(o, t, p)),
         torch=("-F.cosine_similarity", lambda t, p: -_F("cosine_similarity")(t, p, dim=-1).mean()),
         keras=("CosineSimilarity", {"axis": -1}),
         optax=("cosine_similarity", lambda t, p: -_jmean(_ox("cosine_similarity")(p, t)))),
    Case("cosine_distance", {}, lambda o, t, p: o.mean(1.0 - _cosine(o, t, p)),
         optax=("cosine_distance", lambda t, p: _jmean(_ox("cosine_distance")(p, t)))),
    Case("cosine_embedding", {}, _cosine_embedding,
         torch=("F.cosine_embedding_loss", lambda y, a, b: _F("cosine_embedding_loss")(a, b, y))),
    Case("margin_ranking", {}, lambda o, y, a, b: o.mean(o.maximum(-y * (a - b), 0.0)),
         torch=("F.margin_ranking_loss", lambda y, a, b: _F("margin_ranking_loss")(a, b, y))),
    # probabilistic
    Case("gaussian_nll", {}, _gaussian_nll,
         torch=("F.gaussian_nll_loss", lambda y, m, v: _F("gaussian_nll_loss")(m, y, v))),
    # segmentation
    Case("dice", {"smooth": 1.0}, _dice, keras=("Dice", {"axis": -1})),
    Case("tversky", {"smooth": 1.0}, _tversky, keras=("Tversky", {"axis": -1})),
]

_NTXENT_LABELS: dict = {}


def _ntxent_args(z1, z2):
    """optax.ntxent's arguments: the 2N views stacked, and their pair labels (built once per N)."""
    import jax.numpy as jnp

    n = z1.shape[0]
    if n not in _NTXENT_LABELS:
        _NTXENT_LABELS[n] = jnp.concatenate([jnp.arange(n), jnp.arange(n)])
    return jnp.concatenate([z1, z2]), _NTXENT_LABELS[n]


# --- backends: array conversion, synchronisation, the table of functions ---------------------
@dataclass
class Backend:
    name: str
    floats: Callable  # float32 NumPy -> framework array
    ints: Callable  # int NumPy -> framework array
    sync: Callable
    ops: SimpleNamespace
    natives: Callable  # case -> [(comparator name, fn(*arrays))]: the first is the headline ratio
    extra: dict = field(default_factory=dict)


def _numpy_backend(threads):
    import numpy as np

    def logsumexp(x, axis=-1):
        m = np.max(x, axis=axis, keepdims=True)
        return np.log(np.sum(np.exp(x - m), axis=axis)) + np.squeeze(m, axis)

    def xlogy(x, y):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))

    o = SimpleNamespace(
        mean=np.mean, sum=lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
        max=lambda x, axis: np.max(x, axis=axis), min=lambda x, axis: np.min(x, axis=axis),
        any=lambda x, axis: np.any(x, axis=axis), abs=np.abs, exp=np.exp, log=np.log, log1p=np.log1p,
        sqrt=np.sqrt, maximum=np.maximum, where=np.where, xlogy=xlogy,
        softplus=lambda x: np.logaddexp(0.0, x), sigmoid=lambda x: 1.0 / (1.0 + np.exp(-x)),
        log_softmax=lambda x: x - logsumexp(x)[..., None], logsumexp=logsumexp,
        pick=lambda x, y: np.take_along_axis(x, y[:, None], axis=-1)[:, 0],
        gram=lambda x: x @ x.T, arange=np.arange, eye=lambda n: np.eye(n, dtype=bool),
        concat=lambda xs: np.concatenate(xs), f32=lambda x: x.astype(np.float32))
    return Backend("numpy", lambda a: a, lambda a: a.astype(np.int64), lambda r: r, o,
                   lambda case: [("expr", lambda *a: case.expr(o, *a))])


def _torch_backend(threads):
    import torch
    import torch.nn.functional as F

    torch_jit(threads, False)  # pins the intra-op pool
    o = SimpleNamespace(
        mean=torch.mean, sum=lambda x, axis=None, keepdims=False: (
            torch.sum(x) if axis is None else torch.sum(x, dim=axis, keepdim=keepdims)),
        max=lambda x, axis: torch.amax(x, dim=axis), min=lambda x, axis: torch.amin(x, dim=axis),
        any=lambda x, axis: torch.any(x, dim=axis), abs=torch.abs, exp=torch.exp, log=torch.log,
        log1p=torch.log1p, sqrt=torch.sqrt, maximum=_torch_maximum(torch),
        where=torch.where, xlogy=torch.xlogy, softplus=F.softplus, sigmoid=torch.sigmoid,
        log_softmax=lambda x: torch.log_softmax(x, dim=-1), logsumexp=lambda x: torch.logsumexp(x, dim=-1),
        pick=lambda x, y: x.gather(-1, y[:, None])[:, 0], gram=lambda x: x @ x.T,
        arange=torch.arange, eye=lambda n: torch.eye(n, dtype=torch.bool), concat=lambda xs: torch.cat(xs),
        f32=lambda x: x.float())

    def natives(case):
        if case.torch is not None:
            return [(case.torch[0], case.torch[1])]
        return [("expr", lambda *a: case.expr(o, *a))]

    return Backend("torch", torch.from_numpy, lambda a: torch.from_numpy(a.astype("int64")), lambda r: r, o,
                   natives)


def _torch_maximum(torch):
    def maximum(x, y):  # torch.maximum takes tensors only; clamp_min takes a number
        return torch.clamp_min(x, y) if isinstance(y, float) else torch.maximum(x, y)

    return maximum


def _tf_backend(threads):
    tf = tf_pinned(threads)
    import keras

    def where(c, x, y):
        return tf.where(c, x, y)

    def maximum(x, y):
        return tf.maximum(x, y)

    o = SimpleNamespace(
        mean=tf.reduce_mean, sum=lambda x, axis=None, keepdims=False: tf.reduce_sum(x, axis=axis, keepdims=keepdims),
        max=lambda x, axis: tf.reduce_max(x, axis=axis), min=lambda x, axis: tf.reduce_min(x, axis=axis),
        any=lambda x, axis: tf.reduce_any(x, axis=axis), abs=tf.abs, exp=tf.exp, log=tf.math.log,
        log1p=tf.math.log1p, sqrt=tf.sqrt, maximum=maximum, where=where, xlogy=tf.math.xlogy,
        softplus=tf.nn.softplus, sigmoid=tf.sigmoid, log_softmax=tf.nn.log_softmax,
        logsumexp=lambda x: tf.reduce_logsumexp(x, axis=-1), pick=lambda x, y: tf.gather(x, y, batch_dims=1),
        gram=lambda x: tf.matmul(x, x, transpose_b=True), arange=tf.range,
        eye=lambda n: tf.cast(tf.eye(n), tf.bool), concat=lambda xs: tf.concat(xs, 0),
        f32=lambda x: tf.cast(x, tf.float32))

    def natives(case):
        out = []
        if case.keras is not None:
            instance = getattr(keras.losses, case.keras[0])(**case.keras[1])
            arrange = case.keras_args or (lambda *a: a)
            out.append((f"keras {case.keras[0]}", lambda *a: instance(*arrange(*a))))
        out.append(("raw ops", lambda *a: case.expr(o, *a)))
        return out

    return Backend("tensorflow", tf.constant, lambda a: tf.constant(a.astype("int32")), lambda r: r.numpy(), o,
                   natives)


def _jax_backend(threads):
    import jax
    import jax.numpy as jnp

    o = SimpleNamespace(
        mean=jnp.mean, sum=lambda x, axis=None, keepdims=False: jnp.sum(x, axis=axis, keepdims=keepdims),
        max=lambda x, axis: jnp.max(x, axis=axis), min=lambda x, axis: jnp.min(x, axis=axis),
        any=lambda x, axis: jnp.any(x, axis=axis), abs=jnp.abs, exp=jnp.exp, log=jnp.log, log1p=jnp.log1p,
        sqrt=jnp.sqrt, maximum=jnp.maximum, where=jnp.where, xlogy=jax.scipy.special.xlogy,
        softplus=jax.nn.softplus, sigmoid=jax.nn.sigmoid, log_softmax=jax.nn.log_softmax,
        logsumexp=lambda x: jax.nn.logsumexp(x, axis=-1),
        pick=lambda x, y: jnp.take_along_axis(x, y[:, None], axis=-1)[:, 0], gram=lambda x: x @ x.T,
        arange=jnp.arange, eye=lambda n: jnp.eye(n, dtype=bool), concat=lambda xs: jnp.concatenate(xs),
        f32=lambda x: x.astype(jnp.float32))

    def natives(case):
        if case.optax is not None:
            return [(f"optax {case.optax[0]}", case.optax[1])]
        return [("expr", lambda *a: case.expr(o, *a))]

    return Backend("jax", jnp.asarray, lambda a: jnp.asarray(a.astype("int32")), lambda r: r.block_until_ready(),
                   o, natives)


MAKERS = {"numpy": _numpy_backend, "torch": _torch_backend, "tensorflow": _tf_backend, "jax": _jax_backend}


# --- inputs ----------------------------------------------------------------------------------
def kind_of(spec, params) -> str:
    """The loss's ``kind`` ("element", "row", "batch"); a checkout whose registry predates
    ``LossSpec.kind`` gets it from the per-item output's shape at 64 elements."""
    kind = getattr(spec, "kind", None)
    if kind is None:
        import numpy as np

        try:
            drawn = spec.domain(np.random.default_rng(0), (64,), {**spec.params, **params})
            out = spec.function(*(drawn[n] for n in spec.inputs), **params, reduction="none")
            kind = "element" if np.shape(out) == (64,) else "row"
        except Exception:  # noqa: BLE001 (a row loss may reject 1-D inputs)
            kind = "row"
    return kind


def shape_of(spec, params, n, width) -> tuple:
    if kind_of(spec, params) == "element":
        return (n,)
    return (n, width if spec.family in ("embedding", "ranking") else CLASSES)


def draw(spec, params, shape, seed=0) -> dict:
    """The loss's registered domain at ``shape``: {input name: float32 NumPy array, or int64 for
    the integer class labels the domain draws}."""
    import numpy as np

    rng = np.random.default_rng(seed)
    drawn = {k: np.asarray(v) for k, v in spec.domain(rng, shape, {**spec.params, **params}).items()}
    return {k: v.astype(np.int64 if v.dtype.kind in "iu" else np.float32) for k, v in drawn.items()}


# --- the benchmark ---------------------------------------------------------------------------
@dataclass
class Row:
    case: str
    backend: str
    size: int
    shape: str
    ours_s: float = math.nan
    natives: list = field(default_factory=list)  # [(name, seconds, ratio)]
    notes: list = field(default_factory=list)


def bench_case(be: Backend, case: Case, spec, size, args) -> Row:
    import multiloss

    shape = shape_of(spec, case.params, size, args.width)
    row = Row(case.key, be.name, size, "x".join(map(str, shape)))
    drawn = draw(spec, case.params, shape)
    arrays = tuple(be.ints(drawn[n]) if drawn[n].dtype.kind == "i" else be.floats(drawn[n]) for n in spec.inputs)
    function, params = getattr(multiloss, spec.name), case.params

    def ours(*a):
        return function(*a, **params)

    ours_times = []
    try:
        natives = be.natives(case)
    except Exception as e:  # noqa: BLE001 (a comparator that cannot be built is reported)
        row.notes.append(f"native FAILED: {type(e).__name__}: {error_message(e)}")
        return row
    for name, native in natives:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vo, vn = to_float(ours(*arrays)), to_float(native(*arrays))
                if not math.isclose(vo, vn, rel_tol=1e-3, abs_tol=1e-5):
                    row.notes.append(f"{name}: values differ ({vo:.6g} vs {vn:.6g})")
                to, tn = interleaved(ours, native, arrays, be.sync, args.rounds, args.round_ms / 1000, probe=2)
            ours_times.append(to)
            row.natives.append((name, tn, to / tn))
        except Exception as e:  # noqa: BLE001 (a failing pair is reported, not fatal)
            row.natives.append((name, math.nan, math.nan))
            row.notes.append(f"{name} FAILED: {type(e).__name__}: {error_message(e)}")
    if ours_times:
        row.ours_s = ours_times[0]  # from the headline pair, so that ours / native is its ratio
    return row


def _us(s) -> str:
    return "-" if math.isnan(s) else f"{s * 1e6:.1f}"


def _ratio(r) -> str:
    return "-" if math.isnan(r) else f"{r:.2f}"


HEADER = ("| loss | backend | n | shape | ours µs | native µs | ratio | native | TF raw ops µs | ratio raw | notes |\n"
          "|---|---|---:|---|---:|---:|---:|---|---:|---:|---|")


def print_row(row: Row) -> None:
    first = row.natives[0] if row.natives else ("-", math.nan, math.nan)
    raw = row.natives[1] if row.backend == "tensorflow" and len(row.natives) > 1 else None
    if row.backend == "tensorflow" and first[0] == "raw ops":  # no Keras class: only the raw-ops ratio
        first, raw = ("- (no Keras loss)", math.nan, math.nan), first
    raw_cells = f"{_us(raw[1])} | {_ratio(raw[2])}" if raw else " | "
    print(f"| {row.case} | {row.backend} | {row.size} | {row.shape} | {_us(row.ours_s)} | {_us(first[1])} | "
          f"{_ratio(first[2])} | {first[0]} | {raw_cells} | {'; '.join(row.notes)} |", flush=True)


def summarize(rows, backends, sizes) -> None:
    print("\nSummary: ratio = ours / native per call (geometric mean and maximum over the losses)")
    print("| backend | comparator | n | losses | geo. mean | max | max at |\n|---|---|---:|---:|---:|---:|---|")
    for be in backends:
        groups = [("native", 0)] if be != "tensorflow" else [("keras class", "keras"), ("raw TF ops", "raw ops")]
        for label, which in groups:
            for size in [*sizes, "all"]:
                vals = []
                for r in rows:
                    if r.backend != be or (size != "all" and r.size != size):
                        continue
                    for name, _, ratio in r.natives:
                        chosen = (which == 0 and name == r.natives[0][0]) or \
                                 (which == "keras" and name.startswith("keras")) or (which == name)
                        if chosen and not math.isnan(ratio):
                            vals.append((ratio, f"{r.case} n={r.size}"))
                if not vals:
                    continue
                geo = math.exp(sum(math.log(v) for v, _ in vals) / len(vals))
                worst = max(vals)
                print(f"| {be} | {label} | {size} | {len(vals)} | {geo:.2f} | {worst[0]:.2f} | {worst[1]} |")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds of ~3 ms per side (a smoke run)")
    ap.add_argument("--backends", default="numpy,torch,tensorflow,jax")
    ap.add_argument("--losses", default="", help="comma-separated loss names (default: every built-in)")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="batch sizes n (default 32,1024)")
    ap.add_argument("--width", type=int, default=WIDTH, help="embedding width (default 16)")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads for every framework (default 1)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 7; --quick 2)")
    ap.add_argument("--round-ms", type=float, default=None, help="ms per side per round (default 20; --quick 3)")
    ap.add_argument("--checks", default=None, help="the check policy to time under (multiloss.checks: auto, strict, "
                                                   "nan, off; default: the library's)")
    args = ap.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 7)
    args.round_ms = args.round_ms or (3.0 if args.quick else 20.0)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    return args


def main(argv=None):
    args = parse_args(argv)
    reexec_with_malloc_env()
    frameworks_env(args.threads)
    warnings.filterwarnings("ignore", module="torch")
    warnings.filterwarnings("ignore", module="keras")
    start = time.perf_counter()

    backends = []
    for name in args.backends.split(","):
        try:
            backends.append(MAKERS[name](args.threads))
        except ImportError as e:
            print(f"# skipping {name}: {e}")
    import numpy as np

    import multiloss
    from multiloss.registry import REGISTRY

    if args.checks:
        multiloss.checks(args.checks)
    builtin = {n: s for n, s in REGISTRY.items() if s.kernel.__module__.startswith("multiloss.losses")}
    wanted = [w.strip() for w in args.losses.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in builtin]
    cases = [c for c in CASES if c.loss in builtin and (not wanted or c.loss in wanted)]
    print(f"# multiloss {getattr(multiloss, '__version__', '?')}, Python {sys.version.split()[0]}, "
          f"numpy {np.__version__}, " + ", ".join(f"{b.name} {version(b.name)}" for b in backends if b.name != "numpy")
          + (f", optax {version('optax')}" if "optax" in sys.modules or "jax" in args.backends else "")
          + (f", keras {version('keras')}" if "keras" in sys.modules else ""))
    print(f"# eager, float32, mean reduction; {args.rounds} interleaved rounds of ~{args.round_ms:g} ms per side; "
          f"min per call; {args.threads} thread(s); os.cpu_count()={os.cpu_count()}; load average at start "
          f"{os.getloadavg()[0]:.1f}; glibc mmap/trim thresholds raised"
          + (f"; check policy {args.checks!r}" if args.checks else ""))
    print("# ratio = multiloss / native (below 1: multiloss faster); native = the framework's own loss, or "
          "'expr' = the same formula in its ops; TensorFlow: the Keras class, and (ratio raw) raw TF ops\n")
    if unknown:
        print(f"# not built-in losses here (skipped): {', '.join(unknown)}")
    print(HEADER)
    rows = []
    for be in backends:
        for case in cases:
            spec = builtin[case.loss]
            for size in args.sizes:
                row = bench_case(be, case, spec, size, args)
                rows.append(row)
                print_row(row)
    summarize(rows, [b.name for b in backends], args.sizes)
    uncovered = sorted(set(builtin) - {c.loss for c in CASES})
    if uncovered:
        print(f"\nBuilt-in losses with no case in this script (not covered): {', '.join(uncovered)}")
    print(f"\n# total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
