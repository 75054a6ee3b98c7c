"""A loss of one's own written in JAX, for ``multiloss compare --against`` (framework detection)."""

from __future__ import annotations

import jax.numpy as jnp


def squared_error(y_true, y_pred):
    """Mean squared error, one value per element."""
    return jnp.square(y_pred - y_true)
