"""The signatures of the losses in probabilistic.py, for type checkers and editors.

Generated from the registry by ``python -m multiloss._stubs``; a test fails when it is stale.
The math and the docs are the ``@loss`` kernels of the same names in probabilistic.py.
"""

from typing import Literal

from multiloss._typing import Array, ArrayLike

__all__ = [
    "gaussian_nll",
]


def gaussian_nll(
    y_true: ArrayLike,
    mean: ArrayLike,
    var: ArrayLike,
    *,
    eps: float = 1e-06,
    full: bool = False,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...
