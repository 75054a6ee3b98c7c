"""multiloss: machine-learning losses written once, run on NumPy, PyTorch, TensorFlow and JAX.

Every loss takes its arrays (``y_true, y_pred`` for most), keyword parameters,
``reduction="mean"`` and ``sample_weight=None``, and
returns an array of the framework its inputs came from, with that framework's autodiff and
compilers intact. Importing multiloss imports no framework.
"""

from multiloss.backends import array_namespace, backend_name
from multiloss.composite import composite
from multiloss.losses.classification import (
    binary_cross_entropy,
    binary_focal,
    categorical_cross_entropy,
    categorical_focal,
    categorical_hinge,
    hinge,
    kl_divergence,
    sparse_categorical_cross_entropy,
    squared_hinge,
)
from multiloss.losses.embedding import (
    batch_hard_triplet,
    contrastive,
    cosine_embedding,
    cosine_similarity,
    margin_ranking,
    nt_xent,
    triplet_margin,
)
from multiloss.losses.probabilistic import gaussian_nll
from multiloss.losses.regression import (
    huber,
    log_cosh,
    mae,
    mean_absolute_error,
    mean_squared_error,
    mean_squared_log_error,
    mse,
    msle,
    poisson,
    quantile,
    smooth_l1,
)
from multiloss.losses.segmentation import dice, tversky
from multiloss.registry import REGISTRY, loss

__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "array_namespace",
    "backend_name",
    "batch_hard_triplet",
    "binary_cross_entropy",
    "binary_focal",
    "categorical_cross_entropy",
    "categorical_focal",
    "categorical_hinge",
    "composite",
    "contrastive",
    "cosine_embedding",
    "cosine_similarity",
    "dice",
    "gaussian_nll",
    "hinge",
    "kl_divergence",
    "sparse_categorical_cross_entropy",
    "squared_hinge",
    "huber",
    "log_cosh",
    "loss",
    "margin_ranking",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mean_squared_log_error",
    "mse",
    "msle",
    "nt_xent",
    "poisson",
    "quantile",
    "smooth_l1",
    "triplet_margin",
    "tversky",
]
