"""The frameworks' own losses: how to call each so that it matches ours, and how it differs.

For every registered loss, :func:`of` gives its :class:`LossNatives`: the natives (PyTorch,
Keras, optax, scikit-learn) with how to call them, their documented signatures and the
differences a user porting a model must know; ``absent``, why a framework has none; and
``sweep``, the 1-D slice ``multiloss plot`` draws for a loss whose inputs are not
``(y_true, y_pred)``. One module per family of :mod:`multiloss.losses` registers them; only
the teaching tools (``multiloss conventions``, ``compare``, ``plot``) and the tests load this
package. What a loss needs at run time, its ``convention=`` values, is registered with its
kernel (:class:`multiloss.registry.Convention`); each convention's native is found here by
its ``api`` (and ``when``), which :func:`register` checks.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from multiloss.backends import adapter
from multiloss.registry import REGISTRY, Convention, LossSpec, same

__all__ = ["DTYPE", "FRAMEWORKS", "AsArray", "Fixed", "LossNatives", "Native", "keras_class", "of", "register",
           "unreduced"]

#: The frameworks with natives, and the backend whose arrays each takes (Keras: TensorFlow's).
FRAMEWORKS = {"torch": "torch", "keras": "tensorflow", "optax": "jax", "sklearn": "numpy"}
_FAMILIES = ("regression", "classification", "margin", "embedding", "probabilistic", "ranking", "segmentation",
             "detection", "sequence")


@dataclass(frozen=True)
class Fixed:
    """A fixed keyword value in :attr:`Native.kwargs` (rather than one of our parameters)."""

    value: object


DTYPE = object()  # in Native.kwargs: the dtype name of the inputs


@dataclass(frozen=True)
class AsArray:
    """In :attr:`Native.kwargs`: our parameter ``name`` as an array of the native's framework and
    the inputs' dtype (None stays None), for natives that take e.g. ``weight`` as a tensor."""

    name: str


@dataclass(frozen=True)
class Native:
    """A framework's own version of a loss, how to call it so that it matches ours, and what to
    teach about it. The framework is ``api``'s first part: torch, keras, optax or sklearn.

    Calling a ``Native`` imports ``api`` and calls it with our arrays in ``order`` and keyword
    arguments ``kwargs``: native name -> one of our parameter names, a :class:`Fixed` value, an
    :class:`AsArray` parameter, ``DTYPE`` (Keras's ``dtype=``) or a function of our parameters
    and the dtype name. ``construct``: ``api`` is a class; kwargs go to its constructor, arrays
    to its call. ``args`` builds the positional arguments where the native's differ from ours
    by more than their order (two batches of views stacked). ``per`` says what one output
    value covers: "element", "last_axis" (Keras averages the last axis: it is called on inputs
    of shape (..., 1)) or "mean" (one value). ``scale``: native = scale × ours. ``when``: our
    parameter values under which the mapping holds. ``exact``: equal up to rounding under the
    mapping; otherwise ``notes`` say how they differ (a test asserts it). ``notes`` also hold
    the conventions a user porting a model needs, one sentence each.

    Defaults filled in by :func:`register`: ``order``, the framework's usual one (PyTorch and
    optax: predictions, then labels; Keras and scikit-learn: labels first); ``when``, that of
    the loss's convention for this api; ``per``, "last_axis" under a per-sample convention.
    ``convention`` becomes the :class:`~multiloss.registry.Convention` that reproduces this
    native at its defaults, if the loss has one.

    ``unchecked``: why the native is recorded but never called (torchvision cannot be imported
    beside the CPU torch wheel these tests run on); its values are checked against the
    reference and worked cases instead.

    For the teaching table: ``signature`` (the call as its docs show it, defaults included; a
    test checks it against the installed framework), ``reduction`` (its default reduction and
    axes where the framework's usual rule does not say it), ``safeguards`` (clipping, epsilons,
    clamps) and ``label_format`` (what ``y_true`` must be), one phrase each.
    """

    api: str
    kwargs: dict = field(default_factory=dict)
    order: tuple[str, ...] = ()
    per: str = ""
    when: dict | None = None
    scale: float = 1.0
    exact: bool = True
    construct: bool = False
    args: Callable | None = None  # (xp, arrays by our names) -> the native's positional arguments
    notes: tuple[str, ...] = ()
    signature: str = ""
    reduction: str = ""
    safeguards: str = ""
    label_format: str = ""
    convention: Convention | None = None
    unchecked: str = ""  # why this native is recorded for the teaching tools but never called

    @property
    def framework(self) -> str:
        """The framework: ``api``'s first part; torchvision's losses are PyTorch's, TF-Addons' Keras's."""
        first = self.api.split(".", 1)[0]
        return {"torchvision": "torch", "tensorflow_addons": "keras"}.get(first, first)

    @property
    def backend(self) -> str:
        """The backend whose arrays the native takes (Keras runs on its TensorFlow backend)."""
        return FRAMEWORKS[self.framework]

    def applies(self, params: dict) -> bool:
        return all(same(params.get(k), value) for k, value in (self.when or {}).items())

    def __call__(self, arrays: dict, params: dict, dtype: str | None = None, **call_kwargs):
        """Call the native on ``arrays`` (by our input names) with our ``params`` mapped, and
        ``call_kwargs`` (e.g. ``sample_weight``) passed to the call itself."""
        module, _, attr = self.api.rpartition(".")
        fn = getattr(importlib.import_module(module), attr)

        def value(v):
            if isinstance(v, Fixed):
                return v.value
            if v is DTYPE:
                return dtype
            if isinstance(v, AsArray):
                x = params[v.name]
                return None if x is None else adapter(self.backend).from_numpy(np.asarray(x, np.float64), dtype)
            return v(params, dtype) if callable(v) else params[v]

        kwargs = {k: value(v) for k, v in self.kwargs.items()}
        args = self.args(adapter(self.backend).xp, arrays) if self.args else [arrays[n] for n in self.order]
        return fn(**kwargs)(*args, **call_kwargs) if self.construct else fn(*args, **kwargs, **call_kwargs)

    def arrange(self, arrays: dict, per_item: bool = True) -> dict:
        """Our arrays (of the native's backend) as the native takes them: flattened for one that
        returns the mean (scikit-learn's metrics take 1-D arrays); with ``per_item``, a trailing
        axis of 1 for one that averages the last axis, so that each of its values is one of our
        items (without: as the framework reduces, for ``convention=``)."""
        xp = adapter(self.backend).xp
        if self.args is not None:  # it arranges them itself
            return arrays
        if self.per == "mean":
            return {n: xp.reshape(a, (-1,)) for n, a in arrays.items()}
        if per_item and self.per == "last_axis":
            return {n: xp.reshape(a, tuple(a.shape) + (1,)) for n, a in arrays.items()}
        return arrays

    def values(self, arrays: dict, params: dict, dtype: str, per_item: bool = True, **call_kwargs) -> np.ndarray:
        """The native on our ``arrays`` (see :meth:`arrange`), as float64 NumPy divided by its
        ``scale``: comparable with ours."""
        out = self(self.arrange(arrays, per_item), params, dtype, **call_kwargs)
        return np.asarray(adapter(self.backend).to_numpy(out), np.float64) / self.scale


def keras_class(api: str, kwargs: dict | None = None, **fields) -> Native:
    """A Keras loss class: ``kwargs`` go to its constructor, with ``reduction=None`` (one value
    per sample) and ``dtype`` the inputs' (Keras computes in float32 otherwise)."""
    return Native(api, {**(kwargs or {}), "reduction": Fixed(None), "dtype": DTYPE}, construct=True, **fields)


def unreduced(api: str, kwargs: dict | None = None, **fields) -> Native:
    """A PyTorch functional loss called with ``reduction="none"``."""
    return Native(api, {"reduction": Fixed("none"), **(kwargs or {})}, **fields)


@dataclass(frozen=True)
class LossNatives:
    """What the tools know of one loss beyond its math (see the module docstring)."""

    spec: LossSpec
    natives: tuple[Native, ...] = ()
    absent: dict = field(default_factory=dict)  # framework -> the sentence saying why it has none
    sweep: Callable | None = None  # sweep(params, x_range) -> multiloss.plot.Sweep

    def following(self, rule: Convention) -> Native:
        """The native that ``rule`` (one of the loss's conventions) reproduces."""
        return next(n for n in self.natives if n.convention is rule)


NATIVES: dict[str, LossNatives] = {}


def _spec(loss) -> LossSpec:
    return loss if isinstance(loss, LossSpec) else REGISTRY[loss] if isinstance(loss, str) else loss.spec


def _resolve(spec: LossSpec, native: Native) -> Native:
    """``native`` with its defaults filled in and its convention found (see :class:`Native`)."""
    same_api = [c for c in spec.conventions if c.native == native.api]
    when = native.when
    if when is None:
        if len(same_api) > 1:
            raise ValueError(f"{spec.name}: {native.api} has {len(same_api)} conventions; give its `when`")
        when = same_api[0].when if same_api else {}
    rule = next((c for c in same_api if c.when == when), None)
    per = native.per or ("last_axis" if rule is not None and rule.per_sample else "element")
    if rule is not None and rule.per_sample != (per == "last_axis"):
        raise ValueError(f"{spec.name}: {native.api} has per={per!r}, its convention per_sample={rule.per_sample}")
    return dataclasses.replace(native, order=native.order or spec.argument_order(native.framework), when=when,
                               per=per, convention=rule)


def register(loss, *natives: Native, absent: dict | None = None, sweep: Callable | None = None) -> LossNatives:
    """Record ``loss``'s natives (its function, spec or name), the frameworks ``absent`` with
    the sentence that says why, and plot's ``sweep``. Every convention of the loss must find
    its native among them (same ``api`` and ``when``)."""
    spec = _spec(loss)
    entry = LossNatives(spec, tuple(_resolve(spec, n) for n in natives), dict(absent or {}), sweep)
    for rule in spec.conventions:
        found = sum(n.convention is rule for n in entry.natives)
        if found != 1:
            raise ValueError(f"{spec.name}: the convention for {rule.native} when {rule.when} needs one native "
                             f"with that api and when; {found} registered")
    NATIVES[spec.name] = entry
    return entry


def of(loss) -> LossNatives:
    """The natives of ``loss`` (its function, spec or name); none registered: an empty entry."""
    for family in _FAMILIES:  # the built-ins' (imported once)
        importlib.import_module(f"multiloss.natives.{family}")
    spec = _spec(loss)
    entry = NATIVES.get(spec.name)
    return entry if entry is not None and entry.spec is spec else LossNatives(spec)
