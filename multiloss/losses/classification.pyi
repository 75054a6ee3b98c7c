"""The signatures of the losses in classification.py, for type checkers and editors.

Generated from the registry by ``python -m multiloss._stubs``; a test fails when it is stale.
The math and the docs are the ``@loss`` kernels of the same names in classification.py.
"""

from typing import Literal

from multiloss._typing import Array, ArrayLike

__all__ = [
    "binary_cross_entropy",
    "binary_focal",
    "categorical_cross_entropy",
    "categorical_focal",
    "categorical_hinge",
    "generalized_cross_entropy",
    "hinge",
    "kl_divergence",
    "negative_log_likelihood",
    "nll",
    "poly_cross_entropy",
    "sparse_categorical_cross_entropy",
    "squared_hinge",
]


def binary_cross_entropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    pos_weight: float | ArrayLike | None = None,
    epsilon: float | None = None,
    log_floor: float | None = None,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch", "keras", "optax"] | None = None,
) -> Array: ...

def binary_focal(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    epsilon: float | None = None,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras", "optax", "torch"] | None = None,
) -> Array: ...

def categorical_cross_entropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    epsilon: float | None = None,
    normalize: bool = False,
    axis: int = -1,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch", "keras", "optax"] | None = None,
) -> Array: ...

def poly_cross_entropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    epsilon: float = 2.0,
    from_logits: bool = False,
    axis: int = -1,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...

def sparse_categorical_cross_entropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    epsilon: float | None = None,
    normalize: bool = False,
    axis: int = -1,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch", "keras", "optax"] | None = None,
) -> Array: ...

def negative_log_likelihood(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    axis: int = -1,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...
nll = negative_log_likelihood

def generalized_cross_entropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    q: float = 0.5,
    from_logits: bool = False,
    axis: int = -1,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras"] | None = None,
) -> Array: ...

def categorical_focal(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    alpha: float | ArrayLike | None = None,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    epsilon: float | None = None,
    normalize: bool = False,
    axis: int = -1,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras"] | None = None,
) -> Array: ...

def hinge(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: Literal["zero_negative", "binary_batch", "signs"] = "zero_negative",
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras", "optax"] | None = None,
) -> Array: ...

def squared_hinge(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: Literal["zero_negative", "binary_batch", "signs"] = "zero_negative",
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras"] | None = None,
) -> Array: ...

def categorical_hinge(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    zero_true_class: bool = False,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras"] | None = None,
) -> Array: ...

def kl_divergence(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    from_logits: bool = False,
    log_input: bool = False,
    log_target: bool = False,
    epsilon: float | None = None,
    class_mean: bool = False,
    axis: int = -1,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras", "torch", "optax"] | None = None,
) -> Array: ...
