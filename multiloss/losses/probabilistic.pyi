"""The signatures of the losses in probabilistic.py, for type checkers and editors.

Generated from the registry by ``python -m multiloss._stubs``; a test fails when it is stale.
The math and the docs are the ``@loss`` kernels of the same names in probabilistic.py.
"""

from typing import Literal

from multiloss._typing import Array, ArrayLike

__all__ = [
    "convex_kl_divergence",
    "gaussian_nll",
    "generalized_kl_divergence",
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

def generalized_kl_divergence(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    log_input: bool = True,
    axis: int = -1,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...
convex_kl_divergence = generalized_kl_divergence
