"""The ``multiloss`` command: ``check`` (the default), ``compare``, ``conventions``, ``plot``.

``multiloss`` (or ``multiloss check``) evaluates every registered loss, at its defaults and
each registered variant, on every installed backend, on inputs drawn from the loss's domain,
and compares per-element values and gradients with the independent reference. It prints one
table and exits 1 if any backend disagrees. With only NumPy installed it checks NumPy.

``multiloss conventions --coverage`` prints every loss the installed frameworks ship and its
multiloss counterpart (:mod:`multiloss.coverage`) rather than the teaching table.
"""

from __future__ import annotations

import argparse
import re
import sys

from multiloss import _options, compare, coverage, plot, teaching
from multiloss.backends import load_all, version

#: The other subcommands: modules with ``add_arguments(parser)`` and ``run(args) -> int``.
TOOLS = {"compare": compare, "conventions": teaching, "plot": plot}


def check(args) -> int:
    from multiloss.testing import report
    from multiloss.testing.matrix import cases, math_module

    def log(msg):
        if not args.quiet:
            print(msg, end="", file=sys.stderr, flush=True)

    try:
        _options.check_backends(args.backends)
    except _options.UsageError as exc:
        print(f"multiloss: error: {exc}", file=sys.stderr)
        return 2
    backends, missing = load_all(args.backends, log)
    print(f"multiloss check: every registered loss at its defaults and variants, {args.dtype}")
    print("backends: " + ", ".join(f"{b.xp.backend} {version(b.xp.backend) or '?'}" for b in backends)
          + (f"; not installed: {', '.join(missing)}" if missing else ""))
    result = report.run(cases(), backends, args.dtype, math_module(), out=print)
    return 0 if result.ok else 1


def conventions(args) -> int:
    """``multiloss conventions``: the teaching table, or with ``--coverage`` the coverage table."""
    return coverage.run(args) if args.coverage else teaching.run(args)


def plain(text: str | None) -> str | None:
    """A docstring as help text: reST's ``code`` and :role:`name` become plain words."""
    return text and re.sub(r"(?::\w+:)?`{1,2}([^`]+)`{1,2}", r"\1", text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="multiloss", description=plain(__doc__.split("\n\n")[0]))
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("check", help="check every loss on every installed backend (the default)")
    for target in (parser, p):
        target.add_argument("--dtype", default="float32", choices=_options.DTYPES,
                            help="the dtype the losses are computed in (default float32)")
        _options.add_backends(target)
        target.add_argument("-q", "--quiet", action="store_true", help="no import progress")
    for name, tool in TOOLS.items():
        p = sub.add_parser(name, help=plain(tool.__doc__.strip().splitlines()[0]))
        tool.add_arguments(p)
        p.description = plain(p.description)
        p.set_defaults(run=tool.run)
        if tool is teaching:
            coverage.add_arguments(p)
            p.set_defaults(run=conventions)
    args = parser.parse_args(argv)
    return args.run(args) if hasattr(args, "run") else check(args)
