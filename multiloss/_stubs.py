"""The type stubs of the loss modules, generated from the registry: ``python -m multiloss._stubs``.

``@loss`` makes each public loss a closure taking ``(*arrays, reduction=..., **kwargs)``, so a
type checker reading ``multiloss/losses/regression.py`` cannot see ``huber``'s parameters. Its
stub ``regression.pyi`` states the signature the loss has at run time (``inspect.signature``:
the kernel's arrays and parameters, then ``reduction``, ``sample_weight`` and ``convention``),
with types read from each parameter's condition: ``"bool"`` is ``bool``, a number ``float``,
``"in (...)"`` a ``Literal``, ``"or None"`` ``| None``, and ``convention`` the loss's own
frameworks. Arrays are :data:`multiloss._typing.ArrayLike` (``Any``). A test fails when a stub
is stale; the stubs name the ``.py`` file whose ``@loss`` kernels hold the math.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import types
from pathlib import Path

from multiloss import _validation as v
from multiloss.registry import REGISTRY, LossSpec

__all__ = ["REGENERATE", "stubs"]

REGENERATE = "python -m multiloss._stubs"

# Parameters whose condition does not say their type (validated elsewhere): name -> type.
_UNCONDITIONED = {"axis": 'int | tuple[int, ...] | Literal["spatial", "all"] | None'}  # dice, tversky


def _literal(value) -> str:
    """``value`` as Python source, strings in double quotes."""
    if isinstance(value, str) and '"' not in value and "\\" not in value:
        return f'"{value}"'
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_literal, value)) + ("," if len(value) == 1 else "") + ")"
    text = repr(value)
    if ast.literal_eval(text) != value:
        raise ValueError(f"{value!r} is not a literal a stub can hold")
    return text


def _condition_type(condition: str) -> str:
    """The type a parameter condition (``_validation.check_param``) accepts."""
    for suffix, extra in ((" or None", "None"), (" or array", "ArrayLike"),
                          (" or callable", "Callable[[Array, Array], Array]")):
        if condition.endswith(suffix):
            return f"{_condition_type(condition.removesuffix(suffix))} | {extra}"
    if condition in ("bool", "int"):
        return condition
    if condition == "array":
        return "ArrayLike"
    if condition.startswith("in "):
        choices = ast.literal_eval(condition[3:])
        named = ", ".join(_literal(c) for c in choices if c is not None)
        return f"Literal[{named}]" + (" | None" if None in choices else "")
    v.describe(condition)  # a KeyError for a condition check_param does not know either
    return "float"  # "finite", "> 0", "[0, 1]", ...: an int is a float to a type checker


def _param_type(spec: LossSpec, name: str) -> str:
    if name in spec.conditions:
        return _condition_type(spec.conditions[name])
    if name in _UNCONDITIONED:
        return _UNCONDITIONED[name]
    raise ValueError(f"{spec.name}: parameter `{name}` has no condition to type it by; give it one "
                     f"(`conditions=` of @loss) or add it to multiloss._stubs._UNCONDITIONED")


def _signature(spec: LossSpec) -> list[str]:
    """``def name(...) -> Array: ...`` for one loss, a parameter per line."""
    options = {
        "reduction": "Literal[" + ", ".join(map(_literal, v.REDUCTIONS)) + "]",
        "sample_weight": "ArrayLike | None",
        "convention": ("Literal[" + ", ".join(map(_literal, spec.frameworks)) + "] | None" if spec.frameworks
                       else "None"),
    }
    lines = [f"def {spec.name}("]
    star = False
    for p in inspect.signature(spec.function).parameters.values():
        if p.kind is p.POSITIONAL_OR_KEYWORD:
            lines.append(f"    {p.name}: ArrayLike,")
            continue
        if p.kind is not p.KEYWORD_ONLY:
            raise ValueError(f"{spec.name}: unexpected parameter kind {p}")
        if not star:
            lines.append("    *,")
            star = True
        annotation = options.get(p.name) or _param_type(spec, p.name)
        lines.append(f"    {p.name}: {annotation} = {_literal(p.default)},")
    return [*lines, ") -> Array: ..."]


def _constants(module: types.ModuleType) -> list[str]:
    """``NAME: Final = value`` for the module's public constants (tuples of choices); a public
    function or class defined there that is not a registered loss is an error."""
    lines = []
    for name, value in vars(module).items():
        if name.startswith("_") or name in module.__all__ or isinstance(value, types.ModuleType):
            continue
        if getattr(value, "__module__", None) == module.__name__:
            raise ValueError(f"{module.__name__}.{name} is public but not a loss: the stub would hide it")
        if isinstance(value, (tuple, str, int, float)):
            lines.append(f"{name}: Final = {_literal(value)}")
    return lines


def _family_stub(module: types.ModuleType, specs: list[LossSpec]) -> str:
    """The stub of a module of losses: its constants, then each loss's signature and aliases."""
    missing = set(module.__all__) - {n for spec in specs for n in (spec.name, *spec.aliases)}
    if missing:
        raise ValueError(f"{module.__name__}.__all__ names {sorted(missing)}, which are not registered losses")
    source = Path(module.__file__).name
    constants = _constants(module)
    lines = [
        f'"""The signatures of the losses in {source}, for type checkers and editors.',
        "",
        f"Generated from the registry by ``{REGENERATE}``; a test fails when it is stale.",
        f"The math and the docs are the ``@loss`` kernels of the same names in {source}.",
        '"""',
        "",
        f"from typing import {'Final, Literal' if constants else 'Literal'}",
        "",
        "from multiloss._typing import Array, ArrayLike",
        "",
        "__all__ = [",
        *(f"    {_literal(n)}," for n in module.__all__),
        "]",
        "",
        *constants,
        *([""] if constants else []),
    ]
    for spec in specs:
        lines += ["", *_signature(spec)]
        lines += [f"{alias} = {spec.name}" for alias in spec.aliases]
    if any("Callable[" in line for line in lines):  # a function parameter (a distance)
        lines.insert(next(i for i, line in enumerate(lines) if line.startswith("from typing")),
                     "from collections.abc import Callable")
    return "\n".join(lines) + "\n"


def _package_stub(package: types.ModuleType) -> str:
    """The stub of ``multiloss/__init__.py``: its imports as explicit re-exports (``from m import
    *`` spelt out from ``m.__all__``) and its ``__all__`` as a literal list, the forms type
    checkers read (mypy reads neither ``*m.__all__`` in a list nor ``__all__ += m.__all__``)."""
    lines = [
        '"""The public names of multiloss, for type checkers and editors: those of __init__.py.',
        "",
        f"Generated by ``{REGENERATE}``; a test fails when it is stale.",
        '"""',
        "",
    ]
    for node in ast.parse(Path(package.__file__).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):  # the docstring
            continue
        if isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            if names == ["*"]:
                names = sorted(importlib.import_module(node.module).__all__)
            lines += [f"from {node.module} import {n} as {n}" for n in names]
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets) == "__version__":
            lines += ["", "__version__: str"]
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets) == "__all__":
            lines += ["", "__all__ = [", *(f"    {_literal(n)}," for n in package.__all__), "]"]
        else:
            raise ValueError(f"{package.__name__}/__init__.py: a statement the stub generator does not know: "
                             f"{ast.unparse(node)}")
    return "\n".join(lines) + "\n"


def stubs() -> dict[Path, str]:
    """Every stub: path -> text. The modules that define built-in losses, and the package."""
    import multiloss

    by_module: dict[str, list[LossSpec]] = {}
    for spec in REGISTRY.values():
        if spec.builtin:
            by_module.setdefault(spec.kernel.__module__, []).append(spec)
    out = {}
    for name, specs in by_module.items():
        module = importlib.import_module(name)
        out[Path(module.__file__).with_suffix(".pyi")] = _family_stub(module, specs)
    out[Path(multiloss.__file__).with_suffix(".pyi")] = _package_stub(multiloss)
    return out


if __name__ == "__main__":
    for path, text in stubs().items():
        path.write_text(text, encoding="utf-8")
        print(path, file=sys.stderr)
