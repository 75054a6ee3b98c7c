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

from multiloss.backends._extensions import build_namespace

__all__ = ["DTYPES", "from_numpy", "to_numpy", "value_and_grad", "xp"]


def _logsumexp(x, /, *, axis=None, keepdims=False):
    return torch.logsumexp(x, dim=tuple(range(x.ndim)) if axis is None else axis, keepdim=keepdims)


_NO_INDEX = -(2**63)  # F.cross_entropy's ignore_index (default −100, a label it would skip): int64's least value


def _softmax_nll(x, index, /, *, axis=-1, picked=None, reduction="none"):
    if x.ndim > 1 and axis % x.ndim != 1:
        x = torch.movedim(x, axis, 1)  # F.cross_entropy's class axis
    return F.cross_entropy(x, index, ignore_index=_NO_INDEX, reduction=reduction)


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
