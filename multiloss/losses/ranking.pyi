"""The signatures of the losses in ranking.py, for type checkers and editors.

Generated from the registry by ``python -m multiloss._stubs``; a test fails when it is stale.
The math and the docs are the ``@loss`` kernels of the same names in ranking.py.
"""

from typing import Literal

from multiloss._typing import Array, ArrayLike

__all__ = [
    "listwise_softmax",
]


def listwise_softmax(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    where: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...
