"""The signatures of the losses in segmentation.py, for type checkers and editors.

Generated from the registry by ``python -m multiloss._stubs``; a test fails when it is stale.
The math and the docs are the ``@loss`` kernels of the same names in segmentation.py.
"""

from typing import Final, Literal

from multiloss._typing import Array, ArrayLike

__all__ = [
    "binary_dice",
    "dice",
    "generalized_dice",
    "tversky",
]

AXES: Final = (None, "spatial", "all")


def dice(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    smooth: float = 1.0,
    axis: int | tuple[int, ...] | Literal["spatial", "all"] | None = None,
    epsilon: float = 0.0,
    from_logits: bool = False,
    class_weights: ArrayLike | None = None,
    ignore_background: bool = False,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras", "optax"] | None = None,
) -> Array: ...

def binary_dice(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    smooth: float = 1.0,
    axis: int | tuple[int, ...] | Literal["spatial", "all"] | None = None,
    from_logits: bool = False,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...

def generalized_dice(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    smooth: float = 1.0,
    from_logits: bool = False,
    ignore_background: bool = False,
    weight_epsilon: float = 1e-07,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...

def tversky(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth: float = 1.0,
    axis: int | tuple[int, ...] | Literal["spatial", "all"] | None = None,
    epsilon: float = 0.0,
    from_logits: bool = False,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras", "optax"] | None = None,
) -> Array: ...
