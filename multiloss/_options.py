"""What every ``multiloss`` command reads the same way: ``--param NAME=VALUE``, ``--backends``
and ``--dtype``, and the usage error (exit status 2) a bad one gets. A loss's name is read by
:func:`multiloss.registry.lookup`; a framework is loaded by :func:`multiloss.backends.load_all`.
"""

from __future__ import annotations

import ast

from multiloss import _validation as v
from multiloss.backends import NAMES
from multiloss.registry import LossSpec
from multiloss.testing.numerics import DTYPES

__all__ = ["DTYPES", "UsageError", "add_backends", "check_backends", "check_params", "parse_params", "parse_value"]


class UsageError(Exception):
    """A bad argument: reported on stderr with exit status 2."""


def parse_value(text: str):
    """A ``--param`` value: true / false / none (any case), a Python literal (numbers, None,
    True, tuples), else the text itself (``distance=cosine``)."""
    text = text.strip()
    words = {"true": True, "false": False, "none": None}
    if text.lower() in words:
        return words[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def check_params(spec: LossSpec, given: dict) -> dict:
    """``spec``'s parameters: its defaults updated with ``given``, whose names must be its own
    and whose values must meet their conditions (``ValueError`` otherwise)."""
    for name, value in given.items():
        if name not in spec.params:
            raise ValueError(f"{spec.name} has no parameter {name!r} (NAME=VALUE; its parameters: "
                             f"{', '.join(spec.params) or 'none'})")
        if name in spec.conditions:
            v.check_param(name, value, spec.conditions[name])
    return {**spec.params, **given}


def parse_params(spec: LossSpec, items: list[str]) -> dict:
    """The ``--param NAME=VALUE`` items as ``spec``'s keyword parameters (only those given);
    ``UsageError`` naming the item for a malformed one, an unknown name or a bad value."""
    given = {}
    for item in items:
        name, sep, text = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError(f"expected NAME=VALUE; {spec.name}'s parameters: {', '.join(spec.params) or 'none'}")
            value = {name.strip(): parse_value(text)}
            check_params(spec, value)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--param {item!r}: {exc}") from None
        given.update(value)
    return given


def add_backends(parser) -> None:
    parser.add_argument("--backends", default=",".join(NAMES), type=lambda s: [x for x in s.split(",") if x],
                        help="comma-separated subset of " + ", ".join(NAMES))


def check_backends(names: list[str]) -> list[str]:
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        raise UsageError(f"--backends names unknown backends {unknown}; expected some of {list(NAMES)}")
    return names
