"""multiloss: machine-learning losses written once, run on NumPy, PyTorch, TensorFlow and JAX.

Every loss takes its arrays (``y_true, y_pred`` for most), keyword parameters,
``reduction="mean"``, ``sample_weight=None`` and ``convention=None``, and returns an array of
the framework its inputs came from, with that framework's autodiff and compilers intact.
Importing multiloss imports no framework. The losses are those of :mod:`multiloss.losses`'
families, each listed in its module's ``__all__``.
"""

from multiloss._validation import check_mode, checks
from multiloss.backends import array_namespace, backend_name
from multiloss.composite import composite
from multiloss.losses import (
                              classification,
                              detection,
                              embedding,
                              margin,
                              probabilistic,
                              ranking,
                              regression,
                              segmentation,
                              sequence,
)
from multiloss.losses.classification import *  # noqa: F403
from multiloss.losses.detection import *  # noqa: F403
from multiloss.losses.embedding import *  # noqa: F403
from multiloss.losses.margin import *  # noqa: F403
from multiloss.losses.probabilistic import *  # noqa: F403
from multiloss.losses.ranking import *  # noqa: F403
from multiloss.losses.regression import *  # noqa: F403
from multiloss.losses.segmentation import *  # noqa: F403
from multiloss.losses.sequence import *  # noqa: F403
from multiloss.registry import REGISTRY, loss

__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "array_namespace",
    "backend_name",
    "check_mode",
    "checks",
    "composite",
    "loss",
    *classification.__all__,
    *detection.__all__,
    *embedding.__all__,
    *margin.__all__,
    *probabilistic.__all__,
    *ranking.__all__,
    *regression.__all__,
    *segmentation.__all__,
    *sequence.__all__,
]
