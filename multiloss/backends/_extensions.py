"""Extension ops: what the loss specs need beyond the array API standard.

Every op has one portable default written against ``xp`` (keyword-only, never re-dispatching,
as in array-api-extra). A backend adapter may override an op with the framework's fused or
numerically stable kernel; the test suite checks each override against the default, values
and gradients. ``EXTENSIONS`` is the complete list.
"""

from __future__ import annotations

import functools
import math
from types import ModuleType

import numpy as np

__all__ = ["EXTENSIONS", "build_namespace", "device_of"]


def softplus(x, /, *, xp):
    """log(1 + exp(x)), as x + log1p(exp(-x)) for x > 0 and log1p(exp(x)) otherwise.

    Neither branch overflows, and each is fed only its own side of 0 (so the unselected one
    stays finite and contributes no NaN to the gradient); the derivative is sigmoid(x),
    ½ at 0. The max(x, 0) + log1p(exp(-|x|)) form leaves the derivative at 0 to how each
    framework splits ties in max and abs.
    """
    pos = x > 0
    return xp.where(pos, x + xp.log1p(xp.exp(-xp.where(pos, x, 0.0))), xp.log1p(xp.exp(xp.where(pos, 0.0, x))))


def log_sigmoid(x, /, *, xp):
    """log(sigmoid(x)) = -softplus(-x)."""
    return -xp.softplus(-x)


def logsumexp(x, /, *, axis=None, keepdims=False, xp):
    """log(sum(exp(x))) along ``axis``, shifted by the (gradient-stopped) maximum.

    The shift keeps exp from overflowing; a max of ±inf is replaced by 0 so that all -inf rows
    give -inf rather than NaN (Blanchard, Higham & Higham 2021, as scipy.special.logsumexp).
    """
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.stop_gradient(xp.where(xp.isfinite(m), m, 0.0))
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis if axis is not None else tuple(range(x.ndim)))


def log_softmax(x, /, *, axis=-1, xp):
    """(x − m) − log Σ exp(x − m) along ``axis``, m the (gradient-stopped) maximum.

    As the frameworks' own: a +inf makes its row NaN (inf − inf), and so does a row of −inf
    (no −inf maximum is replaced), rather than x − logsumexp(x)'s −inf for the other classes.
    """
    m = xp.max(x, axis=axis, keepdims=True)
    shifted = x - xp.stop_gradient(xp.where(m == -math.inf, 0.0, m))
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def sparsemax(x, /, *, axis=-1, xp):
    """The Euclidean projection of x onto the probability simplex along ``axis``: max(x − τ, 0)
    with τ such that the result sums to 1 (Martins & Astudillo 2016). Sparse: scores below τ get 0.

    τ = max_k (Σ_{i≤k} u_i − 1)/k over the scores u sorted in decreasing order (the maximum is at
    the support's size), taken from x minus its (gradient-stopped) maximum: the projection does
    not change, the sums stay within 1 of 0 where they count, and a row of 1e4s keeps its digits.
    Compile-safe: a sort, a cumulative sum and a max, no data-dependent shape. The derivative is
    the projection's: diag(s) − s·sᵀ/|s|, s the support. NaN or +inf in a row: NaN for the row.
    """
    m = xp.stop_gradient(xp.max(x, axis=axis, keepdims=True))
    z = x - m
    u = xp.sort(z, axis=axis, descending=True)
    k = xp.cumulative_sum(xp.ones_like(u), axis=axis)
    tau = xp.max((xp.cumulative_sum(u, axis=axis) - 1.0) / k, axis=axis, keepdims=True)
    return xp.maximum(z - tau, 0.0)


def _reduce(xp, out, reduction):
    """The per-item ``out`` reduced: "none", "mean" or "sum" (of a non-empty batch; the caller
    handles weights and empty batches, see :mod:`multiloss._reduction`)."""
    return out if reduction == "none" else xp.mean(out) if reduction == "mean" else xp.sum(out)


def softmax_nll(x, index, /, *, axis=-1, picked=None, reduction="none", xp):
    """−log softmax(x)[index] along ``axis``: the cross-entropy of integer labels ``index``
    (x's shape without ``axis``, each in [0, C): the caller checks or guards them);
    ``reduction`` "mean" or "sum" (of a non-empty batch) reduces it, as each op here that takes
    one: a framework's fused kernel then keeps no per-item array for the backward pass.

    −(log_softmax(x))[index]: x_y − m stays exact where logsumexp(x) − x_y would round m + log Σ
    first. ``picked`` is x[index] when the caller can compute it more cheaply than a gather
    (NT-Xent's positives are row dot products): then logsumexp(x) − picked, which under XLA
    fuses with the matrix product that makes x, and x is never kept (1.1 rather than 2.1
    matrices of peak memory). PyTorch overrides the op with F.cross_entropy on x itself, whose
    log-softmax keeps only its output for the backward pass (torch.logsumexp keeps its input
    and builds temporaries as large: 1.3× the memory).
    """
    if picked is None:
        index = xp.expand_dims(index, axis=axis)
        out = -xp.squeeze(xp.take_along_axis(xp.log_softmax(x, axis=axis), index, axis=axis), axis=axis)
    else:
        out = xp.logsumexp(x, axis=axis) - picked
    return _reduce(xp, out, reduction)


def sigmoid_cross_entropy(x, y, /, *, pos_weight=None, reduction="none", xp):
    """w·y·softplus(−x) + (1 − y)·softplus(x): the binary cross-entropy of logits ``x`` and
    (soft) labels ``y``, w = ``pos_weight`` (None: 1; a number or an array broadcasting to x).

    Both terms are ≥ 0 for y in [0, 1] and w ≥ 0, and each softplus is exact for any x: nothing
    cancels (the (1 − y)·x + softplus(−x) form of the frameworks' fused kernels gives 0 or 1e-6
    rather than 2.06e-9 for y = 0, x = −20 in float32). PyTorch and NumPy override the op with
    in-place passes that keep at most two input-sized temporaries (PyTorch: an autograd.Function
    that saves x and y only, with an analytic backward).
    """
    positive = y if pos_weight is None else pos_weight * y
    return _reduce(xp, positive * xp.softplus(-x) + (1.0 - y) * xp.softplus(x), reduction)


def xlogy(x, y, /, *, xp):
    """x * log(y), with 0 * log(0) = 0, and finite gradients there.

    Only the point x = y = 0 is changed (y read as 1), so the derivative in x is log(y)
    wherever y > 0 (TensorFlow's xlogy gives 0 for every x = 0) and log's derivative never
    sees y = 0 when x = 0, where it would put 0 * inf = NaN into the gradient.
    """
    return x * xp.log(xp.where((x == 0) & (y == 0), 1.0, y))


def squared_difference(x, y, /, *, reduction="none", xp):
    """(x - y)**2, elementwise."""
    d = x - y
    return _reduce(xp, d * d, reduction)


def huber_difference(x, y, delta, /, *, reduction="none", xp):
    """Huber_δ(x - y): ½e² for |e| ≤ δ, else δ(|e| - ½δ).

    Each branch is computed on its own and selected with ``where``, so the derivative is
    exactly e inside and ±δ outside (continuous at |e| = δ). The min(|e|, δ) form (optax)
    computes the inside derivative as (m - δ) + δ, which loses digits when |e| ≪ δ.
    """
    e = x - y
    a = xp.abs(e)
    return _reduce(xp, xp.where(a <= delta, 0.5 * e * e, delta * (a - 0.5 * delta)), reduction)


def smooth_l1_difference(x, y, beta, /, *, reduction="none", xp):
    """PyTorch's smooth L1 = Huber_β(x - y) / β (β > 0): ½e²/β for |e| < β, else |e| - ½β."""
    e = x - y
    a = xp.abs(e)
    return _reduce(xp, xp.where(a < beta, (0.5 / beta) * e * e, a - 0.5 * beta), reduction)


def scan(step, carry, xs, /, *, xp):
    """The ``carry`` after ``carry = step(carry, *(x[t] for x in xs))`` for t along the leading
    axis of the arrays ``xs`` (a tuple, one length): a loop over time that compilers accept.

    The default is the Python loop, which ``torch.compile`` unrolls and eager mode runs step by
    step; JAX overrides it with ``jax.lax.scan``; TensorFlow unrolls it where the length is static
    (its kernels' gradients run outside XLA, which a while loop's accumulators cannot cross) and
    uses ``tf.foldl`` where the length is known only at run time (values only).
    """
    for t in range(xs[0].shape[0]):
        carry = step(carry, *(x[t, ...] for x in xs))
    return carry


#: log(0) in the CTC recursion: finite, so that neither a value nor a gradient meets inf − inf;
#: exp of it minus any finite log-probability is 0 in every dtype the recursion runs in.
LOG_ZERO = -1e30


def ctc_nll(log_probs, labels, label_lengths, logit_lengths, /, *, blank, xp):
    """−log p(labels | log_probs) of connectionist temporal classification, per sequence: inf
    where no alignment exists. ``log_probs`` (N, T, C) are log-softmax outputs, ``labels``
    (N, S) integer classes (valid within ``label_lengths``: in [0, C), not ``blank``), the
    lengths (N,) integers within S and T.

    The log-space forward recursion (Graves et al. 2006) over the extended sequence of 2S + 1
    states (a blank before, between and after the labels) with :func:`scan` over time: α_t(s) =
    log Σ exp(α_{t−1}(s), α_{t−1}(s − 1), α_{t−1}(s − 2) where allowed) + log y_t(ext_s), the
    skip s − 2 → s allowed into a label that differs from the one before it; a frame past a
    sequence's length leaves its α unchanged; α is kept relative to its largest state, the shifts
    summed apart. −log p = −logaddexp(α(2L), α(2L − 1)). log 0 is
    :data:`LOG_ZERO`, a finite number: a state never reached holds it (gradient 0), and an
    impossible alignment's result, about −LOG_ZERO, is made inf. The PyTorch adapter routes
    eager calls that need no gradient to ``F.ctc_loss``; TensorFlow takes the gradient inside.
    """
    ints = labels.dtype
    blanks = xp.zeros_like(labels) + blank
    n_ext = 2 * xp.dim(labels, 1) + 1
    column = xp.zeros_like(label_lengths)[:, None] + blank  # (N, 1), also where S is 0
    ext = xp.concat([column, xp.reshape(xp.stack([labels, blanks], axis=-1), (-1, n_ext - 1))], axis=1)  # (N, 2S+1)
    index = ext[:, None, :] + xp.zeros_like(log_probs[:, :, :1], dtype=ints)  # (N, T, 2S+1)
    emit = xp.permute_dims(xp.take_along_axis(log_probs, index, axis=-1), (1, 0, 2))  # (T, N, 2S+1)
    zero = xp.zeros_like(emit[0, ...])  # (N, 2S+1)
    neg = zero[:, :1] + LOG_ZERO
    pad = xp.concat([neg, neg], axis=1)
    shifted = xp.concat([xp.zeros_like(column) + blank, xp.zeros_like(column) + blank, ext], axis=1)[:, :n_ext]
    skip = xp.where((ext != blank) & (ext != shifted), zero, zero + LOG_ZERO)  # s − 2 → s allowed: 0, else log 0
    states = xp.arange(n_ext, dtype=ints, device=xp.device_of(labels))
    alpha = xp.where(states == 0, zero, zero + LOG_ZERO)
    frames = xp.arange(xp.dim(emit, 0), dtype=logit_lengths.dtype, device=xp.device_of(labels))
    live = (frames[:, None] < logit_lengths[None, :])[:, :, None]  # (T, N, 1)

    def step(carry, emit_t, live_t):
        alpha, shift = carry
        padded = xp.concat([pad, alpha], axis=1)
        one, two = padded[:, 1:-1], padded[:, :-2] + skip
        m = xp.stop_gradient(xp.maximum(xp.maximum(alpha, one), two))
        total = m + xp.log(xp.exp(alpha - m) + xp.exp(one - m) + xp.exp(two - m)) + emit_t
        # α kept relative to its largest state (a constant: the gradient is unchanged), so that
        # its errors, and those of the ratios autodiff forms from it, stay ulps of O(1), not of |α|
        top = xp.where(live_t, xp.stop_gradient(xp.max(total, axis=1, keepdims=True)), 0.0)
        return xp.where(live_t, total, alpha) - top, shift + top[:, 0]

    alpha, shift = xp.scan(step, (alpha, zero[:, 0]), (emit, live))
    end = xp.stack([2 * label_lengths, 2 * label_lengths - xp.astype(label_lengths > 0, ints)], axis=1)  # (unsigned)
    last = xp.take_along_axis(alpha, xp.astype(end, ints), axis=1)  # (N, 2)
    last = xp.where(xp.stack([label_lengths >= 0, label_lengths > 0], axis=1), last, LOG_ZERO)
    m = xp.stop_gradient(xp.max(last, axis=1))
    ll = shift + m + xp.log(xp.sum(xp.exp(last - m[:, None]), axis=1))
    return xp.where(ll < 0.5 * LOG_ZERO, math.inf, -ll)


def fuse(fn, /, *, xp):
    """``fn(*arrays, **params)`` compiled as one kernel where eager execution runs op by op.

    The default is ``fn`` itself. JAX overrides it with ``jax.jit`` (array parameters traced,
    the others static), so an eager call of a loss is one dispatch instead of one per op;
    inside the user's own jit it is simply inlined.
    """
    return fn


def stop_gradient(x, /, *, xp):
    """x, with no gradient flowing back through it (identity where there is no autodiff)."""
    return x


def dim(x, axis, /, *, xp=None):
    """The size of ``x``'s ``axis``, for kernels that compute with it (a mask ``eye(n)``, labels
    ``< n``): ``x.shape[axis]``, a Python int wherever the size is known (eager, ``jax.jit``, a
    static dimension inside ``tf.function``). Where a float needs only 1/n, a mean over the
    axis is simpler than the size.

    Under ``torch.compile(dynamic=True)`` it is a SymInt, which computes like an int. TensorFlow
    overrides the op: inside ``tf.function`` a dimension may be unknown until run time (Keras
    traces its losses with the batch size unknown), and ``x.shape[axis]`` is then None; there
    the size is a 0-D int64 tensor, which the namespace's ``eye``, ``arange`` and ``reshape``
    take (compare integer labels of another dtype with it through ``xp.astype(labels, n.dtype)``).
    """
    return x.shape[axis]


def is_concrete(x, /, *, xp=None):
    """True when ``x`` holds values that can be inspected now (eager, not traced or compiled).

    Data-dependent input checks (labels in range, rates ≥ 0) run only when this is true.
    """
    return True


def on_host(x, /, *, xp=None):
    """True when ``x``'s values are in host memory, where reading them waits for no device."""
    return True


def to_host(x, /, *, xp=None):
    """``x``'s values as a NumPy array: the one way multiloss reads an array (its value checks,
    :mod:`multiloss._validation`), instrumented by the tests that prove a policy reads none."""
    return np.asarray(x)


def checks_labels(x, /, *, xp=None):
    """True where ``softmax_nll`` on ``x`` raises ``IndexError`` for a class label outside
    [0, C) itself (PyTorch's CPU kernels, eager), so an eager check before it is redundant."""
    return False


# defaults that never read ``xp``: bound without it (a partial costs 0.3 µs)
_WITHOUT_XP = ("dim", "is_concrete", "on_host", "to_host", "checks_labels")

EXTENSIONS = {
    f.__name__: f
    for f in (
        softplus,
        log_sigmoid,
        logsumexp,
        log_softmax,
        sparsemax,
        softmax_nll,
        sigmoid_cross_entropy,
        xlogy,
        squared_difference,
        huber_difference,
        smooth_l1_difference,
        scan,
        ctc_nll,
        fuse,
        stop_gradient,
        dim,
        is_concrete,
        on_host,
        to_host,
        checks_labels,
    )
}


def device_of(x, /):
    """The device ``x`` lives on, for the arrays a kernel creates beside it (``device=``).

    The standard's ``x.device``, or None where it cannot be known: JAX's tracers have none
    (jax issue #26000), and what a jitted function creates goes where jit places it.
    """
    return getattr(x, "device", None)


def build_namespace(backend: str, base: ModuleType, overrides: dict, standard: dict | None = None,
                    index_dtypes: tuple = ()) -> ModuleType:
    """One namespace object: ``base``'s public names + every extension op.

    Built once per backend; attribute access is then a plain module lookup. Extension ops not
    in ``overrides`` are the portable defaults bound to this namespace. ``standard`` replaces
    standard functions whose base version does not meet our conventions (each adapter says
    why). ``backend`` names the framework; ``real_floating`` holds its floating dtypes and
    ``low_precision`` the 16-bit ones among them (computed in float32); ``index_dtypes`` the
    integer dtypes its gathers take as indices, the first being what class labels of another
    integer dtype are cast to (empty: they take every integer dtype); ``device_of(x)`` the
    device to create arrays on beside ``x``.
    """
    unknown = set(overrides) - set(EXTENSIONS)
    if unknown:
        raise ValueError(f"overrides for unknown extension ops: {sorted(unknown)}")
    ns = ModuleType(f"multiloss.xp.{backend}")
    ns.__dict__.update({k: v for k, v in vars(base).items() if not k.startswith("_")})
    missing = set(standard or {}) - set(ns.__dict__)
    if missing:
        raise ValueError(f"replacements for functions the namespace lacks: {sorted(missing)}")
    ns.__dict__.update(standard or {})
    ns.__doc__ = f"Array-API namespace for {backend}, with multiloss's extension ops."
    ns.backend = backend
    ns.real_floating = tuple(getattr(base, n) for n in ("float16", "bfloat16", "float32", "float64")
                             if hasattr(base, n))
    ns.low_precision = ns.real_floating[:-2]
    ns.index_dtypes = index_dtypes
    ns.device_of = device_of
    for name, default in EXTENSIONS.items():
        bound = default if name in _WITHOUT_XP else functools.partial(default, xp=ns)
        setattr(ns, name, overrides.get(name) or bound)
    return ns
