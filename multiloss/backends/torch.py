"""PyTorch adapter: array-api-compat's torch namespace + torch's fused kernels.

Data checks are skipped while torch.compile traces and on meta tensors (``is_concrete``), so
they never break a graph and shape inference on meta tensors works, and on GPUs by default
(``on_host``: a read would wait for the device); class labels of other
integer dtypes are cast to int64 (``index_dtypes``), the only index dtype of torch's gathers.
``take_along_axis`` is torch.gather, which keeps a dynamic-shape torch.compile's sizes symbolic.
"""

from __future__ import annotations

import array_api_compat.torch as _base
import numpy as np
import torch
import torch.nn.functional as F

from multiloss.backends import _extensions
from multiloss.backends._extensions import build_namespace

__all__ = ["DTYPES", "from_numpy", "to_numpy", "value_and_grad", "xp"]


def _logsumexp(x, /, *, axis=None, keepdims=False):
    return torch.logsumexp(x, dim=tuple(range(x.ndim)) if axis is None else axis, keepdim=keepdims)


_NO_INDEX = -(2**63)  # F.cross_entropy's ignore_index (default −100, a label it would skip): int64's least value


def _softmax_nll(x, index, /, *, axis=-1, picked=None, reduction="none"):
    if x.ndim > 1 and axis % x.ndim != 1:
        x = torch.movedim(x, axis, 1)  # F.cross_entropy's class axis
    return F.cross_entropy(x, index, ignore_index=_NO_INDEX, reduction=reduction)


def _sce_parts(x, y, w):
    """The binary cross-entropy's nonnegative parts, each computed in place in one new tensor:
    (1 − y)·relu(x), softplus(−|x|) (with w: (1 − y)·softplus(−|x|) and w·y·softplus(−|x|)),
    w·y·relu(−x). They sum to w·y·softplus(−x) + (1 − y)·softplus(x) (one relu is 0), with
    no cancellation, and give the portable form's NaN wherever it has one (0·inf)."""
    yield x.clamp_min(0).mul_(1 - y)
    s = x.abs().neg_().exp_().log1p_()
    if w is None:
        yield s
    else:
        yield torch.rsub(y, 1).mul_(s)
        yield s.mul_(y).mul_(w)
    del s
    t = x.clamp_max(0).neg_().mul_(y)
    yield t if w is None else t.mul_(w)


class _SigmoidCrossEntropy(torch.autograd.Function):
    """The op with at most two input-sized temporaries in the forward pass (the parts summed or
    reduced one at a time) and only x and y saved for the backward pass, where the composed
    form saves about six tensors as large. The backward is analytic, dx = (1 − y)·σ(x) −
    w·y·σ(−x) and dy = w·softplus(−x) − softplus(x), each term exact (no σ(x) − y, which
    rounds to 0 for y = 1, x > 17 in float32); under create_graph it uses differentiable ops."""

    @staticmethod
    def forward(ctx, x, y, w, reduction):
        ctx.reduction, ctx.w = reduction, w if not isinstance(w, torch.Tensor) else None
        ctx.save_for_backward(x, y, *((w,) if isinstance(w, torch.Tensor) else ()))
        parts = _sce_parts(x, y, w)
        if reduction == "none":
            out = next(parts)
            for t in parts:
                out.add_(t)
                del t
            return out
        total = next(parts).sum()
        for t in parts:
            total = total + t.sum()
            del t
        return total / x.numel() if reduction == "mean" else total

    @staticmethod
    def backward(ctx, g):
        x, y, *saved = ctx.saved_tensors
        w = saved[0] if saved else ctx.w
        if ctx.reduction == "mean":
            g = g / x.numel()
        gx = gy = None
        if ctx.needs_input_grad[0]:
            if torch.is_grad_enabled():  # create_graph: differentiable, nothing in place
                neg = torch.sigmoid(-x) * y
                gx = (torch.sigmoid(x) * (1 - y) - (neg if w is None else neg * w)) * g
            else:
                gx = torch.sigmoid(x).mul_(1 - y)
                neg = torch.neg(x).sigmoid_().mul_(y)
                gx.sub_(neg if w is None else neg.mul_(w))
                del neg
                gx.mul_(g)
        if ctx.needs_input_grad[1]:
            sp_neg = F.softplus(-x, threshold=40.0)
            gy = ((sp_neg if w is None else w * sp_neg) - F.softplus(x, threshold=40.0)) * g
        return gx, gy, None, None


_FUSED_FROM = 1 << 16  # elements: below, the composed form's few ops cost less than the Function's many in-place ones


def _sigmoid_cross_entropy(x, y, /, *, pos_weight=None, reduction="none"):
    w = pos_weight  # a weight that needs a gradient, or broadcasts x or y: the portable form
    if (x.numel() < _FUSED_FROM or x.shape != y.shape or x.dtype != y.dtype or isinstance(w, torch.Tensor)
            and (w.requires_grad or torch.broadcast_shapes(w.shape, x.shape) != x.shape)):
        return _extensions.sigmoid_cross_entropy(x, y, pos_weight=w, reduction=reduction, xp=xp)
    return _SigmoidCrossEntropy.apply(x, y, w, reduction)


def _ctc_nll(log_probs, labels, label_lengths, logit_lengths, /, *, blank):
    """F.ctc_loss (PyTorch's C++ recursion) where no gradient is asked for; the portable
    recursion otherwise: F.ctc_loss's backward, exp(log α + log β − log y + nll), loses about
    nll ulps of each posterior (2× to 3× our contract in the matrix), which autodiff of the
    recursion does not. Also the portable one under torch.compile, whose tracer cannot take
    ctc_loss (its output shape depends on the lengths' values), for 16-bit inputs, an empty batch
    (which it refuses) and meta tensors (shape inference)."""
    if (torch.compiler.is_compiling() or log_probs.dtype not in (torch.float32, torch.float64)
            or log_probs.requires_grad and torch.is_grad_enabled() or log_probs.shape[0] == 0 or log_probs.is_meta):
        return _extensions.ctc_nll(log_probs, labels, label_lengths, logit_lengths, blank=blank, xp=xp)
    # zero_infinity, then inf where there are too few frames for the labels and the blanks between
    # repeats (the labels are in [0, C) and not blank: the caller's)
    loss = F.ctc_loss(log_probs.transpose(0, 1), labels, logit_lengths, label_lengths, blank=blank,
                      reduction="none", zero_infinity=True)
    inside = torch.arange(1, labels.shape[1], device=labels.device) < label_lengths[:, None]
    repeats = ((labels[:, 1:] == labels[:, :-1]) & inside).sum(dim=1)
    return torch.where(label_lengths + repeats > logit_lengths, torch.inf, loss)


def _to_host(x, /):
    x = x.detach().cpu()
    return (x.float() if x.dtype == torch.bfloat16 else x).numpy()


def _with_scalar(fn):
    """``fn`` on a tensor and a Python scalar, made a tensor of the other's dtype and device.

    array-api-compat's maximum/minimum promote through ``torch.result_type`` on every call,
    which costs microseconds eagerly and is a graph break under torch.compile.
    """

    def wrapped(x1, x2, /):
        if not isinstance(x2, torch.Tensor):
            x2 = torch.tensor(x2, dtype=x1.dtype, device=x1.device)
        elif not isinstance(x1, torch.Tensor):
            x1 = torch.tensor(x1, dtype=x2.dtype, device=x2.device)
        return fn(x1, x2)

    wrapped.__name__ = fn.__name__
    return wrapped


def _take_along_axis(x, indices, /, *, axis=-1):
    """x's values at ``indices`` along ``axis``; the other axes of both must match. torch.gather,
    as torch.take_along_dim (array-api-compat's) fixes every size it sees to the traced one under
    torch.compile(dynamic=True), which then recompiles for each batch size (torch 2.13)."""
    return torch.gather(x, axis, torch.where(indices < 0, indices + x.shape[axis], indices))


def _is_concrete(x, /):
    # A meta tensor has a shape and a dtype but no values: shape inference runs the loss on them.
    return not torch.compiler.is_compiling() and not x.is_meta


xp = build_namespace(
    "torch",
    _base,
    {
        # torch's default threshold 20 returns x for x > 20: right in float32, 1e5 ulps off in
        # float64 (log1p(exp(-20)) = 2e-9). Above 40 the correction is below float64's ulp.
        "softplus": lambda x, /: F.softplus(x, threshold=40.0),
        "log_sigmoid": F.logsigmoid,
        "logsumexp": _logsumexp,
        "log_softmax": lambda x, /, *, axis=-1: torch.log_softmax(x, dim=axis),
        "softmax_nll": _softmax_nll,
        "sigmoid_cross_entropy": _sigmoid_cross_entropy,
        "ctc_nll": _ctc_nll,
        "squared_difference": lambda x, y, /, *, reduction="none": F.mse_loss(x, y, reduction=reduction),
        "huber_difference": lambda x, y, delta, /, *, reduction="none": F.huber_loss(x, y, reduction=reduction,
                                                                                    delta=delta),
        "smooth_l1_difference": lambda x, y, beta, /, *, reduction="none": F.smooth_l1_loss(x, y, reduction=reduction,
                                                                                           beta=beta),
        "stop_gradient": torch.Tensor.detach,
        "is_concrete": _is_concrete,
        "on_host": lambda x, /: x.is_cpu,
        "to_host": _to_host,
        # F.cross_entropy's CPU kernel raises IndexError for a label outside [0, C) (≠ ignore_index)
        "checks_labels": lambda x, /: x.is_cpu,
    },
    standard={"maximum": _with_scalar(torch.maximum), "minimum": _with_scalar(torch.minimum),
              "take_along_axis": _take_along_axis},
    index_dtypes=(torch.int64,),  # gather and F.cross_entropy take int64 (Long) indices only
)

DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


def from_numpy(a, dtype=None):
    t = torch.from_numpy(np.array(a))  # a copy: never share memory with the caller
    return t.to(DTYPES[dtype]) if dtype else t


def to_numpy(x):
    x = x.detach().cpu()
    return (x.float() if x.dtype == torch.bfloat16 else x).numpy()


def value_and_grad(fn, *args):
    """fn(*args) and its gradient with respect to every argument (fn returns a scalar)."""
    args = [a.detach().clone().requires_grad_(True) for a in args]
    value = fn(*args)
    grads = torch.autograd.grad(value, args, allow_unused=True)
    return value, tuple(torch.zeros_like(a) if g is None else g for a, g in zip(args, grads))
