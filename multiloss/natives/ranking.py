"""The frameworks' own ranking losses (:mod:`multiloss.losses.ranking`), and the 1-D slice
``multiloss plot`` draws of them."""

from __future__ import annotations

import numpy as np

from multiloss.losses import ranking as losses
from multiloss.natives import Fixed, Native, register
from multiloss.plot import Sweep, grid

_NONE = ("PyTorch, Keras and scikit-learn have no listwise softmax loss (TF-Ranking's SoftmaxLoss, a separate "
         "package, divides the labels by their sum per list).")


def _mask(params, dtype):
    """Our ``where`` (any array, nonzero in the list) as the boolean JAX array optax's takes."""
    import jax.numpy as jnp

    where = params["where"]
    return None if where is None else jnp.asarray(np.asarray(where) != 0)


def _weights(params, dtype):
    import jax.numpy as jnp

    weights = params["weights"]
    return None if weights is None else jnp.asarray(np.asarray(weights, np.float64), dtype)


def _listwise_sweep(params, x_range):
    """The first item's score in a list of two, the other scored 0: relevant, or the other is."""

    def case(k):
        def build(xp, x):
            z, one = xp.zeros_like(x), xp.ones_like(x)
            return {"y_true": xp.stack([one, z] if k == 0 else [z, one], axis=-1),
                    "y_pred": xp.stack([x, z], axis=-1)}

        return build

    return Sweep("score y_pred[..., 0] (y_pred = [x, 0])", "score", grid(*(x_range or (-10.0, 10.0)), [0.0]),
                 {"y_true = [1, 0]": case(0), "y_true = [0, 1]": case(1)}, marks=(0.0,))


register(
    losses.listwise_softmax,
    Native("optax.losses.ranking_softmax_loss", {"where": _mask, "weights": _weights, "reduce_fn": Fixed(None)},
           signature="optax.losses.ranking_softmax_loss(logits, labels, *, where=None, weights=None, "
                     "reduce_fn=jax.numpy.mean)",
           reduction="reduce_fn=jnp.mean over the lists; a list with no item in `where` is left out of the mean",
           safeguards="masked items get the logit −inf (out of the softmax); an all-masked list gives 0",
           label_format="relevance labels of the logits' shape, the list on the last axis (not normalized)",
           notes=("optax takes (logits, labels), predictions first, and its `where` as a boolean mask; ours takes "
                  "any array, nonzero meaning in the list.",
                  "Its mean (reduce_fn=jnp.mean) leaves out the lists with no item in `where`, as ours does; "
                  "reduce_fn=None gives 0 for them.", _NONE)),
    absent=dict.fromkeys(("torch", "keras", "sklearn"), _NONE),
    sweep=_listwise_sweep,
)
