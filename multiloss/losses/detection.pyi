"""The signatures of the losses in detection.py, for type checkers and editors.

Generated from the registry by ``python -m multiloss._stubs``; a test fails when it is stale.
The math and the docs are the ``@loss`` kernels of the same names in detection.py.
"""

from typing import Literal

from multiloss._typing import Array, ArrayLike

__all__ = [
    "complete_box_iou",
    "distance_box_iou",
    "generalized_box_iou",
]


def generalized_box_iou(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    eps: float = 1e-07,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...

def distance_box_iou(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    eps: float = 1e-07,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...

def complete_box_iou(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    eps: float = 1e-07,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...
