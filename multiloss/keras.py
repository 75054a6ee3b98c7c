"""Keras 3 ``keras.losses.Loss`` subclasses, one per registered loss of ``(y_true, y_pred)`` (or
``(labels, embeddings)``), generated from the registry.

``multiloss.keras.Huber(delta=0.5)`` goes in ``model.compile(loss=...)`` on every Keras backend
(TensorFlow, JAX, PyTorch): ``call`` returns multiloss's per-item losses (``reduction="none"``)
and Keras applies its own ``reduction`` (default ``"sum_over_batch_size"``), ``sample_weight``
and masks, as for its built-in losses. Constructor: the function's keyword arguments, then
Keras's ``reduction``, ``name`` and ``dtype``. Each class is registered as serializable
(``"multiloss>Huber"``): a saved model loads back once ``multiloss.keras`` is imported.

Keras hands a loss only ``y_true`` and ``y_pred``, so losses of three arrays (triplet,
contrastive, cosine embedding, margin ranking, Gaussian NLL) and ``nt_xent`` (two views, no
labels) have no class here: call the function in a custom ``train_step``.
"""

from __future__ import annotations

import keras

from multiloss._validation import check_param
from multiloss.registry import REGISTRY, LossSpec

__all__ = ["loss_class"]  # + one class per eligible registered loss, added below


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def eligible(spec: LossSpec) -> bool:
    """Whether Keras can call ``spec``: two arrays, targets (or labels) first."""
    return len(spec.inputs) == 2 and spec.inputs[0] in ("y_true", "labels")


def loss_class(spec_or_name) -> type[keras.losses.Loss]:
    """The ``keras.losses.Loss`` class of a registered loss (a :class:`LossSpec` or its name)."""
    spec = REGISTRY[spec_or_name] if isinstance(spec_or_name, str) else spec_or_name
    if not eligible(spec):
        raise TypeError(f"{spec.name} takes {spec.inputs}: Keras passes a loss only (y_true, y_pred).")
    function, integer_labels = spec.function, bool(spec.indices)
    class_name = _camel(spec.name)

    def __init__(self, reduction="sum_over_batch_size", name=spec.name, dtype=None, **params):
        unknown = params.keys() - spec.params.keys()
        if unknown:
            raise TypeError(f"{class_name}() got unexpected keyword argument(s) {sorted(unknown)}")
        for key, value in params.items():
            if key in spec.conditions:
                check_param(key, value, spec.conditions[key])
        keras.losses.Loss.__init__(self, name=name, reduction=reduction, dtype=dtype)
        # a config read back from JSON has lists where there were tuples (an axis, class weights)
        self.params = {**spec.params, **{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}}

    def call(self, y_true, y_pred):
        if integer_labels:  # Keras converts y_true to the loss's floating dtype
            y_true = keras.ops.cast(y_true, "int64")
        return function(y_true, y_pred, **self.params, reduction="none")

    def get_config(self):
        return {**keras.losses.Loss.get_config(self), **self.params}

    cls = type(class_name, (keras.losses.Loss,), {
        "__init__": __init__, "call": call, "get_config": get_config, "__module__": __name__,
        "__doc__": f"``multiloss.{spec.name}`` as a Keras loss (per-item losses; Keras reduces).\n\n{spec.summary}",
    })
    return keras.saving.register_keras_serializable(package="multiloss", name=class_name)(cls)


for _spec in REGISTRY.values():
    if eligible(_spec):
        globals()[_camel(_spec.name)] = loss_class(_spec)
        __all__.append(_camel(_spec.name))
del _spec
