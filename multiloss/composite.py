"""Composite (multi-task) losses: a weighted sum of named terms, returned with each term.

``composite(classification=(fn, 1.0), regression=(fn, 0.5))`` is a function of the batch: it
calls each term's function with the same arguments and returns ``(total, parts)``, ``parts``
mapping each name to its unweighted value (for logging). It is pure array code, so it runs on
every backend and under jax.jit, tf.function and torch.compile. Terms that cover only some
items take a ``sample_weight`` mask rather than Python branching on the data: an all-zero mask
gives exactly 0 with zero gradients (see ``_reduction``), so a batch with no item for a term
needs no ``if``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["composite"]


def composite(
    **terms: Callable[..., Any] | tuple[Callable[..., Any], float],
) -> Callable[..., tuple[Any, dict[str, Any]]]:
    """A loss Σ_k w_k·term_k from named terms ``name=fn`` or ``name=(fn, w)``.

    Parameters
    ----------
    **terms : callable or (callable, float)
        Each term's function, called with the composite's arguments, and its weight (default 1).

    Returns
    -------
    callable
        ``f(*args, **kwargs) -> (total, parts)``: the weighted sum of the terms, and ``parts``
        mapping each name to its unweighted value (for logging). ``f.terms`` holds the terms.

    Raises
    ------
    ValueError
        Without terms.
    TypeError
        For a term that is not a function or a (function, weight) pair.

    Examples
    --------
    >>> import multiloss as ml
    >>> loss = ml.composite(fit=ml.mse, robust=(ml.mae, 0.5))
    >>> total, parts = loss([1.0, 2.0], [1.5, 2.0])
    >>> float(total), float(parts["robust"])
    (0.25, 0.25)
    """
    if not terms:
        raise ValueError("composite() needs at least one named term")
    weighted = {}
    for name, term in terms.items():
        fn, weight = term if isinstance(term, tuple) else (term, 1.0)
        if not callable(fn) or isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise TypeError(f"term `{name}` must be a function or (function, weight); got {term!r}")
        weighted[name] = (fn, float(weight))

    def loss(*args, **kwargs):
        parts = {name: fn(*args, **kwargs) for name, (fn, _) in weighted.items()}
        total = None
        for name, (_, weight) in weighted.items():
            term = parts[name] if weight == 1.0 else weight * parts[name]
            total = term if total is None else total + term
        return total, parts

    loss.terms = weighted
    return loss
