"""PyTorch ``nn.Module`` wrappers, one per registered loss, generated from the registry.

``multiloss.torch.Huber(delta=1.0)`` is ``multiloss.huber`` as a module: the constructor takes
the function's keyword arguments (and ``reduction``), ``forward`` takes the arrays in PyTorch's
order (``LossSpec.argument_order("torch")``: the predictions, then the labels, as ``input,
target`` for ``nn.MSELoss``-style losses, or the loss's registered ``torch_order``, e.g.
``GaussianNll(input, target, var)``) and an optional ``sample_weight``; ``convention="torch"``
gives PyTorch's own numbers (e.g. ``BinaryCrossEntropy(convention="torch")`` clamps each log at
−100). A drop-in for ``nn.MSELoss``,
``nn.BCEWithLogitsLoss`` (``BinaryCrossEntropy(from_logits=True)``), … that works under
``torch.compile`` and on any device. A loss registered later (your own ``@multiloss.loss``) gets
its module from :func:`module`.
"""

from __future__ import annotations

import torch

from multiloss._validation import check_param, check_reduction
from multiloss.registry import REGISTRY

__all__ = ["module"]  # + one class per registered loss, added below


def module(spec_or_name) -> type[torch.nn.Module]:
    """The ``nn.Module`` class of a registered loss.

    Parameters
    ----------
    spec_or_name : LossSpec or str
        The loss: its spec (``my_loss.spec``) or its registered name.

    Returns
    -------
    type
        A ``torch.nn.Module`` subclass named ``spec.class_name``: its constructor takes the
        loss's keyword parameters, ``reduction`` and ``convention``; ``forward`` takes the arrays
        in PyTorch's order and ``sample_weight``.
    """
    spec = REGISTRY[spec_or_name] if isinstance(spec_or_name, str) else spec_or_name
    order = spec.argument_order("torch")
    position = [order.index(n) for n in spec.inputs]  # where each of our inputs comes in forward
    same_order = position == list(range(len(position)))
    function = spec.function

    def __init__(self, *, reduction: str = "mean", convention: str | None = None, **params):
        torch.nn.Module.__init__(self)
        unknown = params.keys() - spec.params.keys()
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) {sorted(unknown)}")
        if convention is not None:  # the framework's parameters, under the caller's
            params = spec.convention(convention, params)[1]
        for name, value in params.items():  # bad settings fail here, not at the first forward
            if name in spec.conditions:
                check_param(name, value, spec.conditions[name])
        check_reduction(reduction)
        self.reduction, self.convention = reduction, convention
        self.params = {**spec.params, **params}
        self.given = params  # what forward passes: a call at the defaults binds nothing

    def forward(self, *arrays, sample_weight=None):
        if len(arrays) != len(order):
            raise TypeError(f"{type(self).__name__}.forward() takes {len(order)} arrays {order}; got {len(arrays)}")
        return function(*(arrays if same_order else [arrays[i] for i in position]), **self.given,
                        reduction=self.reduction, sample_weight=sample_weight, convention=self.convention)

    def extra_repr(self):
        return spec.settings(self.params, self.convention, reduction=self.reduction)

    doc = (f"``multiloss.{spec.name}`` as an ``nn.Module``: ``forward({', '.join(order)}, sample_weight=None)``.\n\n"
           f"{spec.summary}")
    return type(spec.class_name, (torch.nn.Module,), {
        "__init__": __init__, "forward": forward, "extra_repr": extra_repr, "__doc__": doc,
        "__module__": __name__, "order": order,
    })


for _spec in REGISTRY.values():
    globals()[_spec.class_name] = module(_spec)
    __all__.append(_spec.class_name)
del _spec
