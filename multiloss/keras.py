"""Keras 3 ``keras.losses.Loss`` subclasses, one per registered loss, generated from the registry.

``multiloss.keras.Huber(delta=0.5)`` goes in ``model.compile(loss=...)`` on every Keras backend
(TensorFlow, JAX, PyTorch): ``call`` returns multiloss's per-item losses (``reduction="none"``)
and Keras applies its own ``reduction`` (default ``"sum_over_batch_size"``), ``sample_weight``
and masks, as for its built-in losses. Constructor: the function's keyword arguments, then
Keras's ``reduction``, ``name`` and ``dtype``, and ``convention="keras"`` for Keras's own numbers
(``BinaryCrossEntropy(convention="keras")`` clips at 1e-7 as ``keras.losses.BinaryCrossentropy``
does). Each class is registered as serializable
(``"multiloss>Huber"``): a saved model loads back once ``multiloss.keras`` is imported.

Keras hands a loss only ``y_true`` and ``y_pred``. A loss of more arrays takes its labels as
``y_true`` (ignored where it has none: triplet, NT-Xent) and its other arrays stacked on axis 1
of ``y_pred``, in the function's order: ``TripletMargin`` takes y_pred (N, 3, D) = [anchor,
positive, negative], ``Contrastive`` (N, 2, D) = [x1, x2], ``GaussianNll`` (N, 2, …) = [mean,
var], ``MarginRanking`` (N, 2) = [x1, x2]; a model ends with ``keras.ops.stack([...], axis=1)``.
``Ctc`` takes y_true the labels padded with the blank and y_pred the logits, every sequence
all T frames long (``keras.losses.CTC``'s rule): its kernel's ``keras_inputs`` makes the lengths.
"""

from __future__ import annotations

import keras

from multiloss._validation import check_param
from multiloss.registry import REGISTRY, LossSpec

__all__ = ["loss_class", "stacked"]  # + one class per registered loss, added below


def stacked(spec: LossSpec) -> tuple[str, ...]:
    """The arrays ``spec`` reads from ``y_pred`` stacked on axis 1; () when y_pred is one array."""
    if len(spec.inputs) == 2 and spec.inputs[0] in ("y_true", "labels") or hasattr(spec.kernel, "keras_inputs"):
        return ()
    labels = set(spec.labels) | set(spec.indices)
    return tuple(n for n in spec.inputs if n not in labels)


def loss_class(spec_or_name) -> type[keras.losses.Loss]:
    """The ``keras.losses.Loss`` class of a registered loss, registered as serializable.

    Parameters
    ----------
    spec_or_name : LossSpec or str
        The loss: its spec (``my_loss.spec``) or its registered name.

    Returns
    -------
    type
        A ``keras.losses.Loss`` subclass named ``spec.class_name``: its constructor takes the
        loss's keyword parameters, then Keras's ``reduction``, ``name`` and ``dtype``, and
        ``convention``; ``call(y_true, y_pred)`` returns the per-item losses.
    """
    spec = REGISTRY[spec_or_name] if isinstance(spec_or_name, str) else spec_or_name
    function, integer_labels = spec.function, bool(spec.indices)
    class_name = spec.class_name
    parts = stacked(spec)
    label = next((n for n in spec.inputs if n not in parts), None) if parts else None
    # a loss whose other arrays follow from y_true and y_pred (CTC's lengths) says how
    arrange = getattr(spec.kernel, "keras_inputs", None)

    def __init__(self, reduction="sum_over_batch_size", name=spec.name, dtype=None, convention=None, **params):
        unknown = params.keys() - spec.params.keys()
        if unknown:
            raise TypeError(f"{class_name}() got unexpected keyword argument(s) {sorted(unknown)}")
        if convention is not None:  # the framework's parameters, under the caller's
            params = spec.convention(convention, params)[1]
        self.convention = convention
        for key, value in params.items():
            if key in spec.conditions:
                check_param(key, value, spec.conditions[key])
        keras.losses.Loss.__init__(self, name=name, reduction=reduction, dtype=dtype)
        # a config read back from JSON has lists where there were tuples (an axis, class weights)
        self.params = {**spec.params, **{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}}

    def call(self, y_true, y_pred):
        if integer_labels:  # Keras converts y_true to the loss's floating dtype; int32 exists on every
            y_true = keras.ops.cast(y_true, "int32")  # backend (JAX's default 32-bit mode has no int64)
        if arrange is not None:
            return function(*arrange(keras.ops, y_true, y_pred, self.params), **self.params, reduction="none",
                            convention=self.convention)
        if not parts:
            return function(y_true, y_pred, **self.params, reduction="none", convention=self.convention)
        if y_pred.shape[1] not in (len(parts), None):  # None: known only at run time
            raise ValueError(f"{class_name} takes y_pred with {list(parts)} stacked on axis 1: shape "
                             f"(batch, {len(parts)}, ...); got {tuple(y_pred.shape)}.")
        arrays = {n: y_pred[:, k] for k, n in enumerate(parts)}
        if label is not None:
            arrays[label] = y_true
        return function(*(arrays[n] for n in spec.inputs), **self.params, reduction="none",
                        convention=self.convention)

    def get_config(self):
        return {**keras.losses.Loss.get_config(self), **self.params, "convention": self.convention}

    def __repr__(self):
        name = {"name": self.name} if self.name != spec.name else {}
        return f"{class_name}({spec.settings(self.params, self.convention, reduction=self.reduction, **name)})"

    cls = type(class_name, (keras.losses.Loss,), {
        "__init__": __init__, "call": call, "get_config": get_config, "__repr__": __repr__,
        "__module__": __name__,
        "__doc__": f"``multiloss.{spec.name}`` as a Keras loss (per-item losses; Keras reduces)"
                   + (f"; y_pred stacks {list(parts)} on axis 1" if parts else "") + f".\n\n{spec.summary}",
    })
    return keras.saving.register_keras_serializable(package="multiloss", name=class_name)(cls)


for _spec in REGISTRY.values():
    globals()[_spec.class_name] = loss_class(_spec)
    __all__.append(_spec.class_name)
del _spec
