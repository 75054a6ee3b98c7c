"""multiloss: machine-learning losses written once, run on NumPy, PyTorch, TensorFlow and JAX.

Every loss takes ``(y_true, y_pred, *, ..., reduction="mean", sample_weight=None)`` and
returns an array of the framework its inputs came from, with that framework's autodiff and
compilers intact. Importing multiloss imports no framework.
"""

from multiloss.backends import array_namespace, backend_name
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
from multiloss.registry import REGISTRY, loss

__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "array_namespace",
    "backend_name",
    "binary_cross_entropy",
    "binary_focal",
    "categorical_cross_entropy",
    "categorical_focal",
    "categorical_hinge",
    "hinge",
    "kl_divergence",
    "sparse_categorical_cross_entropy",
    "squared_hinge",
    "huber",
    "log_cosh",
    "loss",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mean_squared_log_error",
    "mse",
    "msle",
    "poisson",
    "quantile",
    "smooth_l1",
]
