"""The signatures of the losses in embedding.py, for type checkers and editors.

Generated from the registry by ``python -m multiloss._stubs``; a test fails when it is stale.
The math and the docs are the ``@loss`` kernels of the same names in embedding.py.
"""

from collections.abc import Callable
from typing import Final, Literal

from multiloss._typing import Array, ArrayLike

__all__ = [
    "batch_hard_triplet",
    "circle",
    "contrastive",
    "cosine_distance",
    "cosine_embedding",
    "cosine_similarity",
    "lifted_structured",
    "margin_ranking",
    "npairs",
    "nt_xent",
    "semi_hard_triplet",
    "triplet_margin",
]

DISTANCES: Final = ("euclidean", "cosine")
EPS_AT: Final = ("difference", "sum")


def contrastive(
    y_true: ArrayLike,
    x1: ArrayLike,
    x2: ArrayLike,
    *,
    margin: float = 1.0,
    distance: Literal["euclidean", "cosine"] = "euclidean",
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: None = None,
) -> Array: ...

def triplet_margin(
    anchor: ArrayLike,
    positive: ArrayLike,
    negative: ArrayLike,
    *,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-06,
    swap: bool = False,
    distance: Literal["euclidean", "cosine"] | Callable[[Array, Array], Array] = "euclidean",
    eps_at: Literal["difference", "sum"] = "difference",
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch", "optax"] | None = None,
) -> Array: ...

def batch_hard_triplet(
    labels: ArrayLike,
    embeddings: ArrayLike,
    *,
    margin: float = 1.0,
    squared: bool = False,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: None = None,
) -> Array: ...

def nt_xent(
    z1: ArrayLike,
    z2: ArrayLike,
    *,
    temperature: float = 0.5,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...

def circle(
    labels: ArrayLike,
    embeddings: ArrayLike,
    *,
    gamma: float = 80.0,
    margin: float = 0.4,
    remove_diagonal: bool = True,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras"] | None = None,
) -> Array: ...

def semi_hard_triplet(
    labels: ArrayLike,
    embeddings: ArrayLike,
    *,
    margin: float = 1.0,
    squared: bool = True,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: None = None,
) -> Array: ...

def lifted_structured(
    labels: ArrayLike,
    embeddings: ArrayLike,
    *,
    margin: float = 1.0,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: None = None,
) -> Array: ...

def npairs(
    labels: ArrayLike,
    anchors: ArrayLike,
    positives: ArrayLike,
    *,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: None = None,
) -> Array: ...

def cosine_similarity(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    axis: int = -1,
    epsilon: float = 0.0,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["keras", "torch", "optax"] | None = None,
) -> Array: ...

def cosine_distance(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    axis: int = -1,
    epsilon: float = 0.0,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["optax"] | None = None,
) -> Array: ...

def cosine_embedding(
    y_true: ArrayLike,
    x1: ArrayLike,
    x2: ArrayLike,
    *,
    margin: float = 0.0,
    eps: float = 0.0,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...

def margin_ranking(
    y_true: ArrayLike,
    x1: ArrayLike,
    x2: ArrayLike,
    *,
    margin: float = 0.0,
    reduction: Literal["mean", "sum", "none", "sum_over_batch_size"] = "mean",
    sample_weight: ArrayLike | None = None,
    convention: Literal["torch"] | None = None,
) -> Array: ...
