"""The signatures of the losses in margin.py, for type checkers and editors.

Generated from the registry by ``python -m multiloss._stubs``; a test fails when it is stale.
The math and the docs are the ``@loss`` kernels of the same names in margin.py.
"""

from typing import Literal

from multiloss._typing import Array, ArrayLike

__all__ = [
    "hinge_embedding",
    "multi_margin",
    "multiclass_perceptron",
    "multiclass_sparsemax",
    "multilabel_margin",
    "multilabel_soft_margin",
    "perceptron",
    "soft_margin",
    "sparsemax",
]


def soft_margin(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...

def hinge_embedding(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    margin: float = 1.0,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...

def perceptron(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...

def sparsemax(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...

def multiclass_sparsemax(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...

def multiclass_perceptron(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...

def multi_margin(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    p: Literal[1, 2] = 1,
    margin: float = 1.0,
    class_weight: ArrayLike | None = None,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...

def multilabel_soft_margin(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    class_weight: ArrayLike | None = None,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch", "keras"] | None = None,
) -> Array: ...

def multilabel_margin(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...
