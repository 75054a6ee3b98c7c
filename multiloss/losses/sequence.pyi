"""The signatures of the losses in sequence.py, for type checkers and editors.

Generated from the registry by ``python -m multiloss._stubs``; a test fails when it is stale.
The math and the docs are the ``@loss`` kernels of the same names in sequence.py.
"""

from typing import Literal

from multiloss._typing import Array, ArrayLike

__all__ = [
    "ctc",
]


def ctc(
    labels: ArrayLike,
    logits: ArrayLike,
    label_lengths: ArrayLike,
    logit_lengths: ArrayLike,
    *,
    blank: int = 0,
    zero_infinity: bool = False,
    per_label: bool = False,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...
