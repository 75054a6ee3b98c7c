"""The registry: every loss, registered once, with what the rest of the project reads.

``@loss(...)`` turns a kernel into the public function (its call path is
:mod:`multiloss._dispatch`) and records a :class:`LossSpec`: the kernel's inputs and
parameters with their conditions, the input domain test inputs are drawn from, the
independent reference the test matrix checks it against, and the :class:`Convention` values
that ``convention=`` applies. :func:`lookup` finds a loss by name for every tool.

How each framework's own version of a loss is called, its signature and how it differs from
ours live in :mod:`multiloss.natives`, which only the teaching tools and the tests load.

dtype policy: the result has ``y_pred``'s floating dtype; float16 / bfloat16 are computed in
float32 and rounded once at the end; integer or boolean targets are cast to that dtype.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from multiloss import _dispatch
from multiloss import _validation as v

__all__ = ["KINDS", "REGISTRY", "Convention", "LossSpec", "loss", "lookup", "same"]

#: What one item of a loss's result covers: an element of its inputs, a row (the last axis:
#: classes, features, pixels), or a row whose value depends on the whole batch (in-batch mining).
KINDS = ("element", "row", "batch")


def same(value, setting) -> bool:
    """Whether a parameter's ``value`` is ``setting`` (a scalar, string or None): an array
    value (class weights) is never a scalar setting, and is not compared element-wise."""
    return value is setting or (not hasattr(value, "shape") and not isinstance(value, (list, tuple))
                                and value == setting)


@dataclass(frozen=True)
class Convention:
    """Our parameter values that give a framework's own numbers: ``convention=framework``.

    ``values`` reproduce ``native`` (the framework's loss, a dotted path whose first part names
    the framework) called at its own defaults, its safeguards included, wherever our parameters
    satisfy ``when``; of a framework's conventions the first whose ``when`` holds applies.
    ``per_sample``: the native averages the last axis per sample (Keras's element losses), and
    ours does too before reducing. ``divisor``: what a weighted ``"mean"`` divides Σwℓ by,
    "weight" (Σw) or "count" (the number of items: Keras's ``"sum_over_batch_size"``, the
    default for Keras). ``why``: for a parameter of ``when``, the sentence the error for another
    value adds (PyTorch's class axis is always 1).
    """

    native: str
    values: dict = field(default_factory=dict)
    when: dict = field(default_factory=dict)
    per_sample: bool = False
    divisor: str = ""
    why: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.divisor:
            object.__setattr__(self, "divisor", "count" if self.framework == "keras" else "weight")

    @property
    def framework(self) -> str:
        """``native``'s first part; torchvision's losses are PyTorch's (``convention="torch"``)."""
        first = self.native.split(".", 1)[0]
        return "torch" if first == "torchvision" else first

    def applies(self, params: dict) -> bool:
        return all(same(params.get(k), value) for k, value in self.when.items())


@dataclass(frozen=True)
class LossSpec:
    name: str
    function: Callable  # the public function
    kernel: Callable  # kernel(*arrays, **params, xp=xp): per-item losses
    family: str
    inputs: tuple[str, ...]  # positional array arguments, in order
    labels: tuple[str, ...]  # inputs that may be integer / boolean (cast to floating)
    indices: tuple[str, ...]  # integer class-label inputs (kept integer)
    params: dict  # name -> default
    conditions: dict  # name -> condition text for _validation.check_param
    checks: Callable | None  # checks(xp, *arrays, **params) -> the rules on the arrays' values (_validation.Rule)
    domain: Callable | None  # domain(rng, shape, params) -> {input name: NumPy array}; None: not generated
    reference: Callable | None  # reference(*items, **params, m): the independent formula
    kind: str = "element"  # one of KINDS: what one item covers, and what the reference takes
    conventions: tuple[Convention, ...] = ()
    aliases: tuple[str, ...] = ()
    variants: tuple[dict, ...] = ()  # parameter settings checked besides the defaults
    torch_order: tuple[str, ...] = ()  # PyTorch's argument order where it is not predictions, then labels

    @property
    def summary(self) -> str:
        return (self.kernel.__doc__ or "").strip().splitlines()[0]

    @property
    def frameworks(self) -> tuple[str, ...]:
        """The frameworks whose numbers ``convention=`` can reproduce, in registration order."""
        return tuple(dict.fromkeys(c.framework for c in self.conventions))

    def settings(self, params: dict, convention=None, **rest) -> str:
        """A wrapper's settings as its repr shows them: the parameters that differ from the
        defaults, the convention if any, then ``rest`` (``reduction="sum"``)."""
        changed = {k: v for k, v in params.items() if not same(v, self.params[k])}
        if convention is not None:
            changed["convention"] = convention
        return ", ".join(f"{k}={v!r}" for k, v in {**changed, **rest}.items())

    @property
    def class_name(self) -> str:
        """The name of the loss's wrapper classes (``multiloss.torch``, ``multiloss.keras``):
        ``binary_cross_entropy`` is ``BinaryCrossEntropy``; :func:`lookup` reads it back."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def builtin(self) -> bool:
        return self.kernel.__module__.startswith("multiloss.losses.")

    def argument_order(self, framework: str) -> tuple[str, ...]:
        """The order a framework's losses take this loss's arrays in: PyTorch (``torch_order``
        where given) and optax the predictions, then the labels; Keras and scikit-learn the
        labels first."""
        if framework == "torch" and self.torch_order:
            return self.torch_order
        labels = [n for n in self.inputs if n in self.labels or n in self.indices]
        predictions = [n for n in self.inputs if n not in labels]
        return tuple(labels + predictions if framework in ("keras", "sklearn") else predictions + labels)

    def convention(self, framework: str, kwargs: dict) -> tuple[Convention, dict]:
        """The convention ``convention=framework`` follows given the caller's ``kwargs``, and the
        keyword parameters to run with: the convention's values, overridden by the caller's."""
        candidates = [c for c in self.conventions if c.framework == framework]
        if not candidates:
            raise ValueError(f"`convention` must be one of {list(self.frameworks)} for {self.name}; "
                             f"got {framework!r}")
        for rule in candidates:
            merged = {**rule.values, **kwargs}
            if rule.applies({**self.params, **merged}):
                return rule, merged
        rule = candidates[0]
        full = {**self.params, **rule.values, **kwargs}
        unmet = [k for k, value in rule.when.items() if not same(full.get(k), value)]
        raise ValueError(
            f"convention={framework!r}: {rule.native} is {self.name} with "
            + ", ".join(f"{k}={rule.when[k]!r}" for k in unmet)
            + " only; got " + ", ".join(f"{k}={full.get(k)!r}" for k in unmet)
            + "".join(f": {rule.why[k]}" for k in unmet if k in rule.why)
        )


REGISTRY: dict[str, LossSpec] = {}


def loss(
    *,
    family: str = "custom",
    domain: Callable | None = None,
    reference: Callable | None = None,
    kind: str = "element",
    labels: tuple[str, ...] = ("y_true",),
    indices: tuple[str, ...] = (),
    shapes: Callable | None = None,
    conditions: dict | None = None,
    checks: Callable | None = None,
    conventions: tuple[Convention, ...] = (),
    aliases: tuple[str, ...] = (),
    variants: tuple[dict, ...] = (),
    torch_order: tuple[str, ...] = (),
):
    """Register a loss kernel and return the public loss function: a decorator.

    The kernel is ``kernel(*arrays, *, <params>, xp)``: it receives validated arrays of one
    floating dtype and returns the per-item loss, or ``(weighted loss, weight)`` when the loss
    weights its own items (class weights, ignored labels; see ``_reduction.reduce``). A kernel
    that also takes ``reduction="none"`` may return the loss reduced ("mean" or "sum" of a
    non-empty batch without weights, a 0-D array) where a fused extension op does it: the call
    then keeps no per-item array (a framework's fused loss saves less for the backward pass). The public
    function takes the same arrays and parameters plus ``reduction``, ``sample_weight`` and
    ``convention``. ``labels`` are inputs that may be integer or boolean (cast to the floating
    dtype); ``indices`` are integer class labels, passed on as integers. ``shapes(xp, arrays,
    params)`` replaces the default check that all inputs have one shape. Parameters given as
    arrays (or lists), except an ``axis``, become arrays of the inputs' framework and dtype.
    ``conditions`` maps a parameter to a condition (see ``_validation.check_param``); a bool
    default implies "bool" and a float default "finite" unless given. ``checks(xp, *arrays,
    **params)`` returns the rules the arrays' values must keep (``_validation.Rule``): a
    ``ValueError`` in eager mode, NaN for the offending items under a compiler.

    For the test matrix and ``multiloss check``: ``domain(rng, shape, params)`` draws inputs
    (:mod:`multiloss.domains`); ``reference(*items, **params, m)`` is the loss written
    independently over scalars (``kind="element"``), rows as lists (``"row"``), or the whole
    batch (``"batch"``, returning one item per row), with ``m`` mpmath or math (see
    :mod:`multiloss.reference`); ``variants`` are parameter settings checked besides the
    defaults. A loss of your own with a domain and a reference is checked as the built-ins are.

    Parameters
    ----------
    family : str
        The loss's family (its plot sweep and tables follow it): "regression",
        "classification", "margin", "embedding", ... or "custom".
    domain, reference : callable, optional
        The test inputs' generator and the independent formula (above).
    kind : {"element", "row", "batch"}
        What one item of the result covers (:data:`KINDS`).
    labels, indices : tuple of str
        The inputs that may be integer or boolean, and those that are integer class labels.
    shapes, checks : callable, optional
        The shape check that replaces "all inputs have one shape", and the value rules.
    conditions : dict, optional
        Parameter name -> condition text (``"> 0"``, ``"[0, 1] or None"``, ...).
    conventions : tuple of Convention
        What ``convention=`` applies, one per framework's native.
    aliases : tuple of str
        Other names :func:`lookup` finds the loss by (``"mse"``).
    variants : tuple of dict
        Parameter settings the test matrix checks besides the defaults.
    torch_order : tuple of str
        PyTorch's argument order, where it is not the predictions, then the labels.

    Returns
    -------
    callable
        A decorator: ``kernel -> public function``, whose ``spec`` attribute is its
        :class:`LossSpec` (also ``REGISTRY[name]``).

    Raises
    ------
    ValueError
        For an unknown ``kind``, a default outside its condition, a convention naming unknown
        parameters, or a name already registered.

    Examples
    --------
    >>> import multiloss as ml
    >>> @ml.loss(conditions={"delta": "> 0"})
    ... def pseudo_huber(y_true, y_pred, *, delta=1.0, xp):
    ...     e = (y_pred - y_true) / delta
    ...     return delta**2 * (xp.sqrt(1 + e * e) - 1)
    """
    declared = conditions or {}
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}; got {kind!r}")

    def decorate(kernel):
        sig = inspect.signature(kernel)
        inputs = tuple(p.name for p in sig.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD)
        params = {p.name: p.default for p in sig.parameters.values()
                  if p.kind is p.KEYWORD_ONLY and p.name not in ("xp", "reduction")}
        conditions = {**_implicit_conditions(params), **declared}
        for name, condition in conditions.items():  # defaults must satisfy their own conditions
            v.check_param(name, params[name], condition)
        for rule in conventions:
            unknown = (rule.values.keys() | rule.when.keys()) - params.keys()
            if unknown:
                raise ValueError(f"{kernel.__name__}: the convention for {rule.native} names unknown parameters "
                                 f"{sorted(unknown)}")
        floats = [n for n in inputs if n not in labels and n not in indices]
        plan = _dispatch.Plan(
            name=kernel.__name__,
            kernel=kernel,
            inputs=inputs,
            params=params,
            conditions=conditions,
            dtype_checks=tuple(v.check_integer if n in indices else v.check_numeric if n in labels
                               else v.check_floating for n in inputs),
            casts=tuple(n not in indices for n in inputs),
            result=inputs.index(floats[0]),
            shapes=shapes,
            checks=checks,
            conventions=lambda framework, kwargs: spec.convention(framework, kwargs),
            kind=kind,
            reduces="reduction" in sig.parameters,
        )

        public = _dispatch.function(plan)
        _describe(public, kernel, sig)
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
            checks=checks,
            domain=domain,
            reference=reference,
            kind=kind,
            conventions=tuple(conventions),
            aliases=aliases,
            variants=variants,
            torch_order=torch_order,
        )
        if spec.name in REGISTRY:
            raise ValueError(f"a loss named {spec.name!r} is already registered")
        REGISTRY[spec.name] = spec
        public.spec = spec
        return public

    return decorate


def _implicit_conditions(params: dict) -> dict:
    """The conditions a parameter's default implies: a bool default takes only True or False (a
    truthy "False" would silently switch the option on), a float default any finite number."""
    return {name: "bool" if isinstance(default, bool) else "finite"
            for name, default in params.items() if isinstance(default, (bool, float))}


def _describe(public, kernel, sig) -> None:
    """The kernel's name, docs and signature (without ``xp``, with the call options) on ``public``.

    No ``__wrapped__``: tf.function's AutoGraph would convert the kernel's source in its place
    and call it without ``xp``."""
    public.__name__, public.__qualname__ = kernel.__name__, kernel.__qualname__
    public.__module__, public.__doc__ = kernel.__module__, kernel.__doc__
    options = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
               for name, default in (("reduction", "mean"), ("sample_weight", None), ("convention", None))]
    public.__signature__ = sig.replace(parameters=[p for p in sig.parameters.values()
                                                   if p.name not in ("xp", "reduction")] + options)


def _snake(name: str) -> str:
    """``name`` as a registry key: lower case, words joined by ``_`` (``BinaryCrossEntropy``,
    ``binary-cross-entropy`` and ``Binary cross entropy`` are ``binary_cross_entropy``)."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name.strip())
    return re.sub(r"[\s\-]+", "_", name).lower()


def lookup(name: str) -> LossSpec:
    """The registered loss called ``name``.

    Parameters
    ----------
    name : str
        Its name or an alias, in any case, CamelCase (the wrappers' class names) or with dashes.

    Returns
    -------
    LossSpec

    Raises
    ------
    ValueError
        For an unknown name, naming the closest names.
    """
    names = {n: spec for spec in REGISTRY.values() for n in (spec.name, *spec.aliases)}
    key = _snake(name)
    if key in names:
        return names[key]
    close = difflib.get_close_matches(key, list(names), n=5, cutoff=0.6)
    close += [n for n in names if n not in close and key and (key in n or "".join(w[0] for w in n.split("_")) == key)]
    hint = (f"did you mean {', '.join(close)}?" if close else
            f"the losses are {', '.join(spec.name for spec in REGISTRY.values())}")
    raise ValueError(f"unknown loss {name!r}; {hint}")
