"""The registry: every loss, registered once, with what the rest of the project reads.

``@loss(...)`` turns an elementwise spec into the public function (dispatch, validation,
dtype policy, reduction) and records a :class:`LossSpec`: parameters and their conditions,
the input domain that test inputs are generated from, and the frameworks' native
counterparts with the mapping of conventions. The test matrix, the ``multiloss`` command,
the benchmarks and (later) the wrappers and teaching tables all read ``REGISTRY``.

dtype policy: the result has ``y_pred``'s floating dtype; float16 / bfloat16 are computed in
float32 and rounded once at the end; integer or boolean targets are cast to that dtype.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from multiloss import _validation as v
from multiloss._reduction import reduce
from multiloss.backends import adapter, array_namespace

__all__ = ["DTYPE", "REGISTRY", "AsArray", "Fixed", "LossSpec", "Native", "loss"]


@dataclass(frozen=True)
class Native:
    """A framework's own version of a loss and how to call it so it matches ours.

    Calling a ``Native`` imports ``api`` and calls it with the inputs in ``order`` (our
    argument names) and keyword arguments ``kwargs`` (native name -> our parameter name, or
    a fixed value wrapped in :class:`Fixed`). ``per`` says what one
    output value covers: "element", "last_axis" (Keras functions average the last axis, so
    they are called on inputs of shape (..., 1)) or "mean" (scikit-learn's metrics return the
    mean). ``scale``: native = scale × ours. ``args`` builds the positional arguments where the
    native's differ from ours by more than their order (e.g. two batches of views stacked).
    ``exact``: equal up to rounding under this mapping; otherwise ``notes`` says how they
    differ, and a test asserts that difference. ``notes`` also hold the conventions a user
    porting a model needs (defaults, safeguards, argument order), one sentence each.

    ``convention``: our parameter values that reproduce this native called at its own defaults,
    its numerical safeguards included, so that ``loss(..., convention=framework)`` gives the
    native's numbers on any backend (None: this native defines no convention). Under it a
    ``per="last_axis"`` native's per-sample mean over the last axis is taken before reducing,
    and ``weight_divisor`` says what a weighted ``"mean"`` divides Σwℓ by: "weight" (Σw) or
    "count" (the number of items, Keras's ``"sum_over_batch_size"``).

    For the teaching table: ``signature`` (the native's call as its docs show it, with its
    defaults; a test checks them against the installed framework), ``reduction`` (its default
    reduction and axes, where the framework's usual rule does not say it), ``safeguards``
    (clipping, epsilons, clamps) and ``label_format`` (what ``y_true`` must be), one phrase each.
    """

    framework: str  # "torch", "keras", "optax", "sklearn"
    api: str  # dotted path, e.g. "torch.nn.functional.huber_loss"
    order: tuple[str, ...] = ("y_pred", "y_true")
    kwargs: dict = field(default_factory=dict)
    per: str = "element"
    scale: float = 1.0
    exact: bool = True
    notes: tuple[str, ...] = ()
    when: dict = field(default_factory=dict)  # our parameter values under which the mapping holds
    construct: bool = False  # ``api`` is a class: kwargs go to its constructor, arrays to its call
    args: Callable | None = None  # (xp, arrays by our names) -> the native's positional arguments
    convention: dict | None = None  # our parameters reproducing the native at its defaults
    weight_divisor: str = ""  # "weight" or "count"; "" = the framework's rule (Keras: count)
    signature: str = ""
    reduction: str = ""
    safeguards: str = ""
    label_format: str = ""

    @property
    def divisor(self) -> str:
        return self.weight_divisor or ("count" if self.framework == "keras" else "weight")

    def applies(self, params: dict) -> bool:
        return all(params.get(k) == v for k, v in self.when.items())

    @property
    def backend(self) -> str:
        """The backend whose arrays the native takes (Keras runs on its TensorFlow backend)."""
        return {"keras": "tensorflow", "optax": "jax", "sklearn": "numpy"}.get(self.framework, self.framework)

    def __call__(self, arrays: dict, params: dict, dtype: str | None = None, **call_kwargs):
        """Call the native on ``arrays`` (by our input names) with our ``params`` mapped, and
        ``call_kwargs`` (e.g. ``sample_weight``) passed to the call itself.

        A kwargs value is one of our parameter names, a :class:`Fixed` value, an
        :class:`AsArray` parameter, a function of our parameters and the dtype name, or ``DTYPE`` (the inputs' dtype name, for Keras's ``dtype=``)."""
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
class LossSpec:
    name: str
    function: Callable  # the public function
    kernel: Callable  # the elementwise spec: kernel(*arrays, **params, xp=xp)
    family: str
    inputs: tuple[str, ...]  # positional array arguments, in order
    labels: tuple[str, ...]  # inputs that may be integer / boolean (cast to floating)
    indices: tuple[str, ...]  # integer class-label inputs (kept integer)
    params: dict  # name -> default
    conditions: dict  # name -> condition text for _validation.check_param
    domain: Callable | None  # domain(rng, shape, params) -> {input name: NumPy array}; None: not generated
    natives: tuple[Native, ...] = ()
    aliases: tuple[str, ...] = ()
    variants: tuple[dict, ...] = ()  # parameter settings checked besides the defaults
    reference: Callable | None = None  # a user's per-element reference (built-ins: multiloss.testing.reference)

    @property
    def summary(self) -> str:
        return (self.kernel.__doc__ or "").strip().splitlines()[0]

    @property
    def conventions(self) -> tuple[str, ...]:
        """The frameworks whose numbers ``convention=`` can reproduce, in registry order."""
        return tuple(dict.fromkeys(n.framework for n in self.natives if n.convention is not None))

    def convention(self, framework: str, kwargs: dict) -> tuple[Native, dict]:
        """The native that ``convention=framework`` follows given the caller's ``kwargs``, and the
        keyword parameters to run with: the convention's values, overridden by the caller's."""
        candidates = [n for n in self.natives if n.framework == framework and n.convention is not None]
        if not candidates:
            raise ValueError(f"`convention` must be one of {list(self.conventions)} for {self.name}; "
                             f"got {framework!r}")
        for native in candidates:
            merged = {**native.convention, **kwargs}
            if native.applies({**self.params, **merged}):
                return native, merged
        native = candidates[0]
        full = {**self.params, **native.convention, **kwargs}
        unmet = [k for k, value in native.when.items() if full.get(k) != value]
        raise ValueError(
            f"convention={framework!r}: {native.api} is {self.name} with "
            + ", ".join(f"{k}={native.when[k]!r}" for k in unmet)
            + " only; got " + ", ".join(f"{k}={full.get(k)!r}" for k in unmet)
        )


REGISTRY: dict[str, LossSpec] = {}


def _as_array(xp, x):
    """Arrays pass through; Python scalars and sequences become arrays of namespace ``xp``."""
    return x if hasattr(x, "dtype") and hasattr(x, "shape") else xp.asarray(x)


def loss(
    *,
    family: str = "custom",
    domain: Callable | None = None,
    labels: tuple[str, ...] = ("y_true",),
    indices: tuple[str, ...] = (),
    shapes: Callable | None = None,
    conditions: dict | None = None,
    checks: Callable | None = None,
    natives: tuple[Native, ...] = (),
    aliases: tuple[str, ...] = (),
    variants: tuple[dict, ...] = (),
    reference: Callable | None = None,
):
    """Register a loss spec and return the public loss function.

    The spec is ``kernel(*arrays, *, <params>, xp)``: it receives validated arrays of one
    floating dtype and returns the per-item loss, or ``(weighted loss, weight)`` when the loss
    weights its own items (class weights, ignored labels; see ``_reduction.reduce``). The public
    function takes the same arrays and parameters plus ``reduction`` and ``sample_weight``.
    ``labels`` are inputs that may be integer or boolean (cast to the floating dtype);
    ``indices`` are integer class labels, passed on as integers. ``shapes(xp, arrays, params)``
    replaces the default check that all inputs have one shape. Parameters given as arrays
    (or lists), except an ``axis``, become arrays of the inputs' framework and floating dtype.
    ``variants`` are parameter settings the test matrix checks besides the defaults.
    ``conditions`` maps a parameter to a condition (see ``_validation.check_param``);
    ``checks(xp, *arrays, **params)`` validates values (run in eager mode only). A loss of
    your own with a ``domain`` and a per-element ``reference(*scalars, **params, m)`` (``m``:
    mpmath or math) is checked as the built-ins are (``multiloss.testing.matrix``).
    """
    conditions = conditions or {}

    def decorate(kernel):
        sig = inspect.signature(kernel)
        inputs = tuple(p.name for p in sig.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD)
        params = {
            p.name: p.default
            for p in sig.parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.name != "xp"
        }
        floats = tuple(n for n in inputs if n not in labels and n not in indices)
        ref = inputs.index(floats[0])  # the input whose dtype the result takes
        dtype_checks = tuple(
            v.check_integer if n in indices else v.check_numeric if n in labels else v.check_floating for n in inputs
        )
        casts = tuple(n not in indices for n in inputs)
        for name, condition in conditions.items():  # defaults must satisfy their own conditions
            v.check_param(name, params[name], condition)

        def bind(arrays, kwargs):
            """Slow path: arrays passed by name, and keyword parameters."""
            if len(arrays) < len(inputs):  # e.g. y_true=..., y_pred=...
                arrays += tuple(kwargs.pop(n) for n in inputs[len(arrays):] if n in kwargs)
            if len(arrays) != len(inputs):
                raise TypeError(f"{kernel.__name__}() takes {len(inputs)} arrays {inputs}; got {len(arrays)}")
            unknown = kwargs.keys() - params.keys()
            if unknown:
                raise TypeError(f"{kernel.__name__}() got unexpected keyword argument(s) {sorted(unknown)}")
            for name, value in kwargs.items():
                if name in conditions:
                    v.check_param(name, value, conditions[name])
            return arrays, {**params, **kwargs}

        fused = {}  # backend -> the kernel as that backend's xp.fuse compiles it

        def public(*arrays, reduction="mean", sample_weight=None, convention=None, **kwargs):
            p = params
            native = None
            if convention is not None:
                native, kwargs = spec.convention(convention, kwargs)
            if kwargs or len(arrays) != len(inputs):
                arrays, p = bind(arrays, kwargs)
            if reduction not in v.REDUCTIONS:
                v.check_reduction(reduction)

            array_params = [
                k for k, x in p.items() if x is not None and k != "axis" and not isinstance(x, (bool, int, float, str))
            ]
            xp = array_namespace(*arrays, sample_weight, *(p[k] for k in array_params))
            arrays = [_as_array(xp, a) for a in arrays]
            for check, name, a in zip(dtype_checks, inputs, arrays):
                check(xp, a, name)
            dtype = arrays[ref].dtype
            compute = xp.float32 if dtype in xp.low_precision else dtype
            if array_params:
                p = dict(p)
                for k in array_params:
                    a = _as_array(xp, p[k])
                    v.check_numeric(xp, a, k)
                    p[k] = a if a.dtype == compute else xp.astype(a, compute)
            if shapes is None:
                for name, a in zip(inputs[1:], arrays[1:]):
                    v.check_same_shape(xp, arrays[0], a, inputs[0], name)
            else:
                shapes(xp, dict(zip(inputs, arrays)), p)
            args = [a if not cast or a.dtype == compute else xp.astype(a, compute) for cast, a in zip(casts, arrays)]
            if checks is not None:
                checks(xp, *args, **p)

            run = fused.get(xp.backend)
            if run is None:
                run = fused[xp.backend] = xp.fuse(functools.partial(kernel, xp=xp))
            out = run(*args, **p)
            out, item_weight = out if isinstance(out, tuple) else (out, None)
            if native is not None:
                if native.per == "last_axis":  # Keras: the per-sample mean over the last axis
                    out = xp.mean(out, axis=-1)
                if native.divisor == "count" and item_weight is None and reduction == "mean":
                    reduction = "sum_over_batch_size"
            if sample_weight is not None:
                sample_weight = _as_array(xp, sample_weight)
                v.check_numeric(xp, sample_weight, "sample_weight")
                v.check_weight_shape(xp, sample_weight, v.shape_of(out))
                if sample_weight.dtype != compute:
                    sample_weight = xp.astype(sample_weight, compute)
            out = reduce(xp, out, reduction, sample_weight, item_weight)
            return out if compute == dtype else xp.astype(out, dtype)

        # Name and docs, but no __wrapped__: tf.function's AutoGraph would convert the kernel's
        # source in its place and call it without ``xp``.
        functools.update_wrapper(public, kernel, updated=())
        del public.__wrapped__
        public.__signature__ = sig.replace(
            parameters=[p for p in sig.parameters.values() if p.name != "xp"]
            + [
                inspect.Parameter("reduction", inspect.Parameter.KEYWORD_ONLY, default="mean"),
                inspect.Parameter("sample_weight", inspect.Parameter.KEYWORD_ONLY, default=None),
                inspect.Parameter("convention", inspect.Parameter.KEYWORD_ONLY, default=None),
            ]
        )
        spec = LossSpec(
            name=kernel.__name__,
            function=public,
            kernel=kernel,
            family=family,
            inputs=inputs,
            labels=tuple(n for n in inputs if n in labels),
            indices=tuple(n for n in inputs if n in indices),
            params=params,
            conditions=conditions,
            domain=domain,
            natives=natives,
            aliases=aliases,
            variants=variants,
            reference=reference,
        )
        if spec.name in REGISTRY:
            raise ValueError(f"a loss named {spec.name!r} is already registered")
        REGISTRY[spec.name] = spec
        public.spec = spec
        return public

    return decorate
