"""The signatures of the losses in regression.py, for type checkers and editors.

Generated from the registry by ``python -m multiloss._stubs``; a test fails when it is stale.
The math and the docs are the ``@loss`` kernels of the same names in regression.py.
"""

from typing import Literal

from multiloss._typing import Array, ArrayLike

__all__ = [
    "huber",
    "log_cosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_log_error",
    "mse",
    "msle",
    "poisson",
    "quantile",
    "smooth_l1",
]


def mean_squared_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch", "keras", "optax", "sklearn"] | None = None,
) -> Array: ...
mse = mean_squared_error

def mean_absolute_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch", "sklearn", "keras"] | None = None,
) -> Array: ...
mae = mean_absolute_error

def mean_absolute_percentage_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    epsilon: float = 1e-07,
    percent: bool = True,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras", "sklearn"] | None = None,
) -> Array: ...
mape = mean_absolute_percentage_error

def huber(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    delta: float = 1.0,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch", "keras", "optax"] | None = None,
) -> Array: ...

def smooth_l1(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    beta: float = 1.0,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...

def log_cosh(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...

def quantile(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    q: float = 0.5,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["sklearn"] | None = None,
) -> Array: ...

def mean_squared_log_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    epsilon: float | None = None,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras", "sklearn"] | None = None,
) -> Array: ...
msle = mean_squared_log_error

def poisson(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    log_input: bool = False,
    epsilon: float = 0.0,
    full: bool = False,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch", "keras"] | None = None,
) -> Array: ...
