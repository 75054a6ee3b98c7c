"""The case ``multiloss compare`` runs a loss on, with or without ``--against``: its inputs (the
loss's domain with edge cases, or the user's ``--inputs`` file) and the reference at them."""

from __future__ import annotations

import dataclasses

import numpy as np

from multiloss._options import UsageError
from multiloss.registry import LossSpec
from multiloss.testing.matrix import Case, math_module

__all__ = ["EDGE_PROBABILITIES", "Reference", "case_from", "error_text", "kv", "reference", "reference_module"]

#: (label, probability) pairs put at the end of a probability ``y_pred``: exact 0 and 1, where a
#: naive log is −inf (0·log 0 = 0 in the reference), 2⁻²⁴ (below Keras's 1e-7 clip) and
#: 1 − 2⁻¹¹; each exact in float16.
EDGE_PROBABILITIES = ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.0, 0.0), (1.0, 2.0**-24), (0.0, 1.0 - 2.0**-11))


class _Given(Case):
    """A case on the user's own inputs (``--inputs``) rather than on the domain's."""

    def __init__(self, spec: LossSpec, params: dict, inputs: dict, out_shape: tuple):
        self.spec, self.params, self.inputs = spec, {**spec.params, **params}, inputs
        self.shape, self._out_shape, self.id = out_shape, out_shape, spec.name

    @property
    def out_shape(self) -> tuple:
        return self._out_shape


def case_from(spec: LossSpec, params: dict, args) -> tuple[Case, str]:
    """The inputs ``args`` ask for (``--inputs``, else the domain at ``--shape``), as a Case, and
    a phrase saying where they come from."""
    if args.inputs:
        inputs = _load_npz(spec, args.inputs)
        try:
            out = spec.function(*inputs.values(), reduction="none", **params)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--inputs {args.inputs}: {exc}") from None
        case = _Given(spec, params, inputs, np.shape(out))
        return case, f"{np.size(out)} items from {args.inputs}"
    if spec.domain is None:
        raise UsageError(f"{spec.name} has no domain to draw inputs from; pass --inputs FILE.npz")
    case = Case(spec, params, args.shape)
    case.inputs, edges = _with_edges(case)
    shape = "×".join(map(str, case.inputs[spec.inputs[0]].shape))
    return case, f"{int(np.prod(case.out_shape))} items from {spec.name}'s domain ({shape}){edges}"


def _load_npz(spec: LossSpec, path: str) -> dict:
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--inputs {path}: not a readable .npz file ({exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise UsageError(f"--inputs {path}: a single array; expected an .npz with arrays {', '.join(spec.inputs)}")
    missing = [n for n in spec.inputs if n not in data.files]
    extra = sorted(set(data.files) - set(spec.inputs))
    if missing or extra:
        raise UsageError(
            f"--inputs {path}: {spec.name} takes arrays {', '.join(spec.inputs)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(extra)}" if extra else ""))
    try:
        return {n: np.asarray(data[n], np.int64 if n in spec.indices else np.float64) for n in spec.inputs}
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--inputs {path}: {exc}") from None


def _with_edges(case: Case) -> tuple[dict, str]:
    """The domain's inputs with EDGE_PROBABILITIES as the last items where ``y_pred`` is a
    probability (a loss with ``from_logits=False``), and a phrase saying so."""
    inputs = dict(case.inputs)
    if case.params.get("from_logits", True) or "y_pred" not in inputs:
        return inputs, ""
    k = min(len(EDGE_PROBABILITIES), inputs["y_pred"].size)
    p = inputs["y_pred"].copy()
    p.reshape(-1)[-k:] = [q for _, q in EDGE_PROBABILITIES[:k]]
    inputs["y_pred"] = p
    y = inputs.get("y_true")
    if case.kind == "element" and y is not None and y.shape == p.shape and "y_true" in case.spec.labels:
        y = y.copy()
        y.reshape(-1)[-k:] = [t for t, _ in EDGE_PROBABILITIES[:k]]
        inputs["y_true"] = y
    return inputs, "; last, y_pred = 0, 1, 2⁻²⁴ and 1 − 2⁻¹¹ (exact in float16)"


class _ZeroLog:
    """mpmath with ∞ = 10¹⁰⁰⁰ and log 0 = −∞: still inf as floats, yet 0·log 0 = 0, its limit (as
    xlogy has it), so that the reference is defined at exact 0 and 1 probabilities."""

    def __init__(self, m):
        self._m = m
        self.inf = m.mpf(10) ** 1000

    def __getattr__(self, name):
        return getattr(self._m, name)

    def log(self, x):
        return self._m.log(x) if x != 0 else -self.inf


@dataclasses.dataclass
class Reference:
    """The reference per item, with what its tolerances scale with."""

    values: np.ndarray  # per item
    scales: np.ndarray  # the sum of the magnitudes of each item's terms
    magnitude: np.ndarray  # per item: max(1, |inputs|)
    item_weights: np.ndarray
    grads: dict  # input name -> d(Σ items)/d(input); empty without gradients
    gscales: dict

    @property
    def mean(self) -> float:
        return float(np.sum(self.values) / (np.sum(self.item_weights) or 1.0))


def reference(case: Case, held: dict, m, gradients: bool) -> Reference:
    """The reference at ``held`` (the inputs as the dtype holds them): mpmath's (``m``), or
    without it the float64 NumPy result of ours, whose scale is then |value|."""
    shape = case.out_shape
    magnitude = np.max([np.abs(held[n]).reshape(shape + (-1,)).max(axis=-1, initial=1.0) for n in case.spec.inputs],
                       axis=0)
    if m is None:
        ours = np.asarray(case.call(*held.values(), reduction="none"), np.float64)
        return Reference(ours, np.abs(ours), magnitude, np.ones(shape), {}, {})
    values, scales, grads, gscales, item_weights = case.reference(held, m, gradients=gradients)
    return Reference(values, scales, magnitude, item_weights, grads, gscales)


def reference_module():
    """(math module for the reference or None, a phrase naming the reference)."""
    m = math_module()
    if m.__name__ != "mpmath":
        return None, "the float64 NumPy result (install mpmath for an independent reference)"
    return _ZeroLog(m), "mpmath at 60 digits (0·log 0 = 0)"


def kv(d: dict) -> str:
    return ", ".join(f"{k}={x!r}" for k, x in d.items())


def error_text(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return text if len(text) <= 90 else text[:87] + "..."
