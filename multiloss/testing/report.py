"""The check matrix as a table: ``multiloss check`` (the main job) and :func:`check_loss` (your own loss).

Each row is one case (a loss at one parameter setting) on one backend, checked by
:func:`multiloss.testing.matrix.check`: per-element values and autodiff gradients against the
independent reference, in ulps. The table ends with one summary line.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field

from multiloss.backends import NAMES, load_all
from multiloss.testing.matrix import Case, check, math_module
from multiloss.testing.numerics import GRAD_ULPS, ULPS

__all__ = ["Report", "Row", "check_loss", "run"]

WIDTH = 40  # the loss column: longer case ids wrap at their parameters
BACKEND = max(map(len, NAMES))  # the backend column


@dataclass
class Row:
    """One case on one backend: the mean loss, the worst value and gradient errors in ulps
    (gradient None: no autodiff, or no mpmath), ``ok``, or the ``error`` it raised."""

    case: str
    backend: str
    value: float = float("nan")
    ulps: float = float("nan")
    grad_ulps: float | None = None
    ok: bool = False
    error: str = ""


@dataclass
class Report:
    """What :func:`run` checked: its rows, the losses and backends, and the seconds it took."""

    rows: list[Row] = field(default_factory=list)
    losses: int = 0
    backends: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def failures(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """One line: what was checked, the worst errors (and where), the time, the verdict."""
        done = [r for r in self.rows if not r.error]
        worst = max(done, key=lambda r: r.ulps, default=None)
        graded = [r for r in done if r.grad_ulps is not None]
        worst_grad = max(graded, key=lambda r: r.grad_ulps, default=None)
        cases = len({r.case for r in self.rows})
        parts = [f"{self.losses} losses ({cases} settings) × {len(self.backends)} backends: {len(self.rows)} checks"]
        if worst is not None:
            parts.append(f"worst {worst.ulps:.2f} ulps ({worst.case}, {worst.backend})")
        if worst_grad is not None:
            parts.append(f"gradients {worst_grad.grad_ulps:.2f} ({worst_grad.case}, {worst_grad.backend})")
        verdict = "all agree" if self.ok else f"{len(self.failures)} disagreement(s)"
        return f"{verdict}: " + ", ".join(parts) + f", {self.seconds:.0f} s"


def wrap(name: str, width: int = WIDTH) -> list[str]:
    """A case id in lines of at most ``width``, broken before its parameters ("-delta=0.5");
    continuation lines are indented by two spaces."""
    parts = re.split(r"(?=-[A-Za-z_]\w*=)", name)
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + len(part) <= width:
            lines[-1] += part
        else:
            lines.append("  " + part)
    return lines


def header(dtype: str, reference: str) -> list[str]:
    """The legend and the column titles."""
    columns = f"{'loss':<{WIDTH}} {'backend':<{BACKEND}} {'mean value':>14} {'max err':>9} {'grad err':>9}  ok"
    return [
        f"pass: values within {ULPS} ulps (+1 for the result's rounding), gradients within {GRAD_ULPS} ulps "
        f"(ulps of {dtype} × the loss's term scale), against the reference ({reference})",
        "max err, grad err: the worst per-element error of the values and of the autodiff gradients, in ulps; "
        "grad err — : not checked (NumPy and array-api-strict have no autodiff"
        + (")" if reference.startswith("mpmath") else "; gradients need mpmath)"),
        "",
        columns,
        "-" * len(columns),
    ]


def line(row: Row, first: bool = True) -> list[str]:
    """The table lines of one row: the case id (wrapped when long) on its first backend's row
    only."""
    names = wrap(row.case) if first else [""]
    if row.error:
        return names[:-1] + [f"{names[-1]:<{WIDTH}} {row.backend:<{BACKEND}} error: {row.error}"]
    grad = "—" if row.grad_ulps is None else f"{row.grad_ulps:.2f}"
    cells = f"{row.backend:<{BACKEND}} {row.value:>14.7g} {row.ulps:>9.2f} {grad:>9}  {'✓' if row.ok else '✗'}"
    return names[:-1] + [f"{names[-1]:<{WIDTH}} {cells}"]


def run(cases, backends, dtype: str, m, out=print) -> Report:
    """Check each of ``cases`` on each of ``backends`` (adapters) that has ``dtype``, against the
    reference computed with ``m`` (:func:`multiloss.testing.matrix.math_module`); ``out`` gets
    each table line (column titles first, the summary last). A case that raises is a failed row."""
    start = time.perf_counter()
    names = tuple(b.xp.backend for b in backends)
    report = Report(losses=len({c.spec.name for c in cases}), backends=names)
    for text in header(dtype, "mpmath, 60 digits" if hasattr(m, "mpf") else "math, float64"):
        out(text)
    for case in cases:
        first = True
        for b in backends:
            if dtype not in b.DTYPES:
                continue
            try:
                r = check(case, b, dtype, m)
                row = Row(case.id, b.xp.backend, r["value"], r["ulps"], r["grad_ulps"], r["ok"])
            except Exception as exc:  # noqa: BLE001 - a crash is a disagreement too; report it in the table
                row = Row(case.id, b.xp.backend, error=f"{type(exc).__name__}: {str(exc)[:60]}")
            report.rows.append(row)
            for text in line(row, first):
                out(text)
            first = False
    report.seconds = time.perf_counter() - start
    out("")
    out(report.summary())
    return report


def check_loss(loss, *, params=None, dtype: str = "float32", backends=None, file=None) -> Report:
    """Check your own loss as ``multiloss check`` checks the built-ins, on every installed backend:
    per-element values and autodiff gradients against the loss's independent reference.

    Parameters
    ----------
    loss : callable
        A function registered with ``@multiloss.loss(domain=..., reference=...)``.
    params : list of dict, optional
        The parameter settings to check; default: its defaults and its ``variants``.
    dtype : {"float32", "float64", "float16", "bfloat16"}
        The inputs' dtype (a backend without it is skipped).
    backends : sequence of str, optional
        Backend names; default: every one installed.
    file : file-like, optional
        Where the table goes; default: stdout.

    Returns
    -------
    Report
        ``report.ok`` is False where a backend's values or gradients are off the reference by
        more than the tolerance, and ``report.failures`` lists those rows.

    Raises
    ------
    ValueError
        For a loss registered without ``domain=`` or ``reference=``.
    """
    spec = getattr(loss, "spec", loss)
    if getattr(spec, "reference", None) is None or getattr(spec, "domain", None) is None:
        raise ValueError(f"`loss` must be registered with @multiloss.loss(domain=..., reference=...); "
                         f"got {getattr(spec, 'name', loss)!r} without "
                         f"{'a reference' if getattr(spec, 'reference', None) is None else 'a domain'}.")
    loaded, _ = load_all(NAMES if backends is None else backends)
    cases = [Case(spec, p) for p in (params if params is not None else ({}, *spec.variants))]
    file = sys.stdout if file is None else file
    return run(cases, loaded, dtype, math_module(), out=lambda text: print(text, file=file))
