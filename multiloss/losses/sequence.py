"""Sequence losses: connectionist temporal classification (CTC).

A batch of N sequences: ``logits`` (N, T, C), frames padded to the longest, and ``labels``
(N, S) of integer classes, padded to the longest; one loss per sequence. How much of each row
is real is given by lengths (N,) (PyTorch's and Keras's format), or by paddings, (N, T) and
(N, S) arrays of 0 for a real frame or label and 1 for padding, right-padded (optax's format):
a 2-D length input is read as paddings. Lengths may be integers or floats holding integers.

Numerics, on every backend: the forward recursion runs in log space on log-softmax outputs;
log 0 is a finite number far below any log-probability (``LOG_ZERO`` = −1e30), so no value
or gradient meets inf − inf, and a sequence with no valid alignment is given +inf (0 with
``zero_infinity``) with a zero gradient. A NaN logit gives NaN for its sequence.
"""

from __future__ import annotations

from multiloss import _validation as v
from multiloss import domains
from multiloss.reference import number
from multiloss.registry import Convention, loss

__all__ = ["ctc"]


def _ctc_shapes(xp, arrays, params):
    labels, logits = arrays["labels"], arrays["logits"]
    if labels.ndim != 2 or logits.ndim != 3:
        raise ValueError(f"`labels` must be (batch, labels) and `logits` (batch, frames, classes); got "
                         f"{v.shape_of(labels)} and {v.shape_of(logits)} ({xp.backend}).")
    n, s = v.shape_of(labels)
    n2, t, c = v.shape_of(logits)
    if not v._same((n,), (n2,)):
        raise ValueError(f"`labels` and `logits` must have one batch size; got {v.shape_of(labels)} and "
                         f"{v.shape_of(logits)} ({xp.backend}).")
    for name, padded in (("label_lengths", s), ("logit_lengths", t)):
        shape = v.shape_of(arrays[name])
        if not (v._same(shape, (n,)) or v._same(shape, (n, padded))):
            raise ValueError(f"`{name}` must be lengths ({n},) or paddings {(n, padded)}; got {shape} "
                             f"({xp.backend}).")
    if c is not None and not 0 <= params["blank"] < c:
        raise ValueError(f"`blank` must be a class index in [0, {c}) for `logits` of shape {v.shape_of(logits)}; "
                         f"got {params['blank']} ({xp.backend}).")


def _lengths(xp, lengths, size):
    """Lengths (N,) from lengths or right-paddings (N, size)."""
    return xp.sum(1.0 - lengths, axis=-1) if lengths.ndim == 2 else lengths


def _size(xp, x, axis, like):
    """``x``'s size along ``axis``, to compare with the lengths ``like``: an int, or where it is
    known only at run time (tf.function) a tensor of ``like``'s dtype."""
    n = xp.dim(x, axis)
    return n if isinstance(n, int) else xp.astype(n, like.dtype)


def _length_rule(xp, name, lengths, size, what):
    if lengths.ndim == 2:
        return v.Rule(name, lengths, "paddings: 0 (real) or 1 (padding)", ok=(lengths == 0) | (lengths == 1))
    whole = lengths == xp.floor(lengths)
    return v.Rule(name, lengths, f"whole numbers in [0, {size}] (the {what}'s padded length)",
                  ok=whole & (lengths >= 0) & (lengths <= size))


def _check_ctc(xp, labels, logits, label_lengths, logit_lengths, *, blank, **_):
    s, t, c = _size(xp, labels, 1, label_lengths), _size(xp, logits, 1, logit_lengths), _size(xp, logits, 2, labels)
    inside = (xp.arange(s, dtype=label_lengths.dtype, device=xp.device_of(labels))[None, :]
              < _lengths(xp, label_lengths, s)[:, None])
    valid = (labels >= 0) & (labels < c) & (labels != blank)
    return (
        _length_rule(xp, "label_lengths", label_lengths, s, "labels"),
        _length_rule(xp, "logit_lengths", logit_lengths, t, "logits"),
        # (the labels within their lengths: a value the lengths make, so that it is read only
        # where they can be, e.g. not under jax.grad, which traces every operation)
        v.Rule("labels", xp.where(inside, labels, xp.zeros_like(labels)), f"class indices in [0, {c}) other than "
               f"blank={blank} (within label_lengths)", ok=valid | ~inside),
    )


def _need(seq):
    """The fewest frames that can emit ``seq``: one per label, plus a blank between repeats."""
    return len(seq) + sum(a == b for a, b in zip(seq, seq[1:]))


def _whole(x):
    return int(round(float(x)))


def _ctc_reference(labels, logits, label_lengths, logit_lengths, *, blank, zero_infinity, per_label, m):
    """−log p(labels | x) of one sequence, p the sum over alignments π of Π_t softmax(x_t)[π_t]:
    Σ_t log Σ_c exp(x_tc) − log Σ_π exp(Σ_t x_tπ_t), the second sum by the forward recursion
    (Graves et al. 2006, eq. 6–9) over exp(x) in plain numbers (mpmath has no underflow)."""
    target, frames = list(labels[:_whole(label_lengths)]), logits[:_whole(logit_lengths)]
    ext = [blank]
    for k in target:
        ext += [k, blank]
    alpha = [1] + [0] * (len(ext) - 1)  # before the first frame: the start, at state 0
    for frame in frames:
        e = [m.exp(z) for z in frame]
        alpha = [(alpha[s] + (alpha[s - 1] if s >= 1 else 0)
                  + (alpha[s - 2] if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2] else 0)) * e[ext[s]]
                 for s in range(len(ext))]
    total = alpha[-1] + (alpha[-2] if len(ext) > 1 else 0)
    terms = [m.log(m.fsum(m.exp(z) for z in frame)) for frame in frames]
    if total == 0:  # no alignment: −log 0
        terms = [0 * number(0.0, m)] if zero_infinity else [m.inf if hasattr(m, "inf") else float("inf")]
    else:
        terms.append(-m.log(total))
    if per_label:
        terms = [t_ / max(len(target), 1) for t_ in terms]
    return tuple(terms)


@loss(
    family="sequence",
    domain=domains.ctc(),
    reference=_ctc_reference,
    kind="row",
    labels=("label_lengths", "logit_lengths"),
    indices=("labels",),
    shapes=_ctc_shapes,
    conditions={"blank": "int"},
    checks=_check_ctc,
    variants=({"zero_infinity": True}, {"per_label": True}),
    conventions=(Convention("torch.nn.functional.ctc_loss", {"per_label": True}, when={"per_label": True}),),
    torch_order=("logits", "labels", "logit_lengths", "label_lengths"),
)
def ctc(labels, logits, label_lengths, logit_lengths, *, blank=0, zero_infinity=False, per_label=False, xp):
    """Connectionist temporal classification loss (Graves et al. 2006): −log p(labels | logits).

    p sums, over every alignment π of length T_n that collapses to the labels (merge repeats,
    then drop blanks), Π_t softmax(logits_t)[π_t]; a repeated label needs a blank between its
    copies. ``labels`` (N, S) integers in [0, C) other than ``blank``, read within
    ``label_lengths``; ``logits`` (N, T, C) unnormalized scores (log-softmax is applied),
    read within ``logit_lengths``. The lengths are (N,), or right-paddings (N, S) and (N, T)
    (1 = padding: optax's format). One loss per sequence.

    A sequence without an alignment (T_n frames too few for its labels and the blanks between
    repeats) has loss +inf, or 0 with ``zero_infinity`` (PyTorch's), with zero gradient.
    ``per_label`` divides each sequence's loss by its label length (at least 1): PyTorch's
    ``reduction="mean"`` is the mean of those (``convention="torch"``). Keras's ``CTC`` and
    optax's ``ctc_loss`` agree at the defaults with blank 0 (optax's impossible alignments are
    finite, about 1e5 per frame, rather than inf).
    """
    s = _size(xp, labels, 1, label_lengths)
    label_lengths = xp.stop_gradient(_lengths(xp, label_lengths, s))  # counts: no gradient
    logit_lengths = xp.stop_gradient(_lengths(xp, logit_lengths, _size(xp, logits, 1, logit_lengths)))
    c = xp.dim(logits, -1)
    inside = xp.arange(s, dtype=label_lengths.dtype, device=xp.device_of(labels))[None, :] < label_lengths[:, None]
    valid = (labels >= 0) & (labels < c) & (labels != blank)
    blanks = xp.zeros_like(labels) + blank
    safe = xp.where(inside & valid, labels, blanks)  # padding and (under a compiler) bad labels: blank
    # lengths outside their range (NaN under a compiler, from the value rules) read as 0, the
    # sequence's loss then NaN through `broken`
    ok_label = (label_lengths >= 0) & (label_lengths <= s)
    ok_logit = (logit_lengths >= 0) & (logit_lengths <= _size(xp, logits, 1, logit_lengths))
    ints = labels.dtype
    nll = xp.ctc_nll(xp.log_softmax(logits, axis=-1), safe,
                     xp.astype(xp.where(ok_label, label_lengths, 0.0), ints),
                     xp.astype(xp.where(ok_logit, logit_lengths, 0.0), ints), blank=blank)
    if zero_infinity:
        nll = xp.where(nll == float("inf"), 0.0, nll)
    if per_label:
        nll = nll / xp.maximum(label_lengths, 1.0)
    # NaN in, NaN out, also from a padded frame (which the recursion never reads)
    broken = xp.any(inside & ~valid, axis=1) | ~ok_label | ~ok_logit | xp.any(xp.isnan(logits), axis=(1, 2))
    return xp.where(broken, float("nan"), nll)


def _keras_inputs(ops, y_true, y_pred, params):
    """``multiloss.keras.Ctc``'s arrays from Keras's two, as ``keras.losses.CTC`` reads them:
    y_true the labels (N, S) padded with the blank, y_pred the logits (N, T, C); each sequence
    has all T frames and as many labels as are not the blank."""
    label_lengths = ops.sum(ops.cast(ops.not_equal(y_true, params["blank"]), y_pred.dtype), axis=1)
    logit_lengths = ops.sum(ops.ones_like(y_pred[:, :, 0]), axis=1)
    return y_true, y_pred, label_lengths, logit_lengths


ctc.spec.kernel.keras_inputs = _keras_inputs
