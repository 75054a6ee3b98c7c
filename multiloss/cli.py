"""The ``multiloss`` command: ``check`` (the default), ``compare``, ``conventions``, ``plot``.

``multiloss`` (or ``multiloss check``) evaluates every registered loss, at its defaults and
each registered variant, on every installed backend, on inputs drawn from the loss's domain,
and compares per-element values and gradients with the independent reference. It prints one
table and exits 1 if any backend disagrees. With only NumPy installed it checks NumPy.
"""

from __future__ import annotations

import argparse
import sys

from multiloss import _options, compare, plot, teaching
from multiloss.backends import load_all, version

#: The other subcommands: modules with ``add_arguments(parser)`` and ``run(args) -> int``.
TOOLS = {"compare": compare, "conventions": teaching, "plot": plot}


def check(args) -> int:
    from multiloss.testing.matrix import cases, math_module
    from multiloss.testing.matrix import check as check_case
    from multiloss.testing.numerics import GRAD_ULPS, ULPS

    def log(msg):
        if not args.quiet:
            print(msg, end="", file=sys.stderr, flush=True)

    try:
        _options.check_backends(args.backends)
    except _options.UsageError as exc:
        print(f"multiloss: error: {exc}", file=sys.stderr)
        return 2
    backends, missing = load_all(args.backends, log)
    m = math_module()
    ref = "mpmath, 60 digits" if m.__name__ == "mpmath" else "math, float64; install mpmath to check gradients too"
    print(f"multiloss check: every registered loss, {args.dtype}, against the reference ({ref})")
    print("backends: " + ", ".join(f"{b.xp.backend} {version(b.xp.backend) or '?'}" for b in backends)
          + (f"; not installed: {', '.join(missing)}" if missing else ""))
    print(f"pass: values within {ULPS} ulps (+1 for the result's rounding), gradients within {GRAD_ULPS} ulps "
          "(ulps of the loss's term scale)\n")
    all_cases = cases()
    w = min(max(len(c.id) for c in all_cases), 40)  # the widest ids (a weight tuple) overflow
    header = f"{'loss':<{w}} {'backend':<11} {'mean value':>14} {'max err':>9} {'grad err':>9}  ok"
    print(header)
    print("-" * len(header))
    failures = 0
    for case in all_cases:
        for b in backends:
            if args.dtype not in b.DTYPES:
                continue
            try:
                r = check_case(case, b, args.dtype, m)
            except Exception as exc:  # a crash is a disagreement too; report it in the table
                print(f"{case.id:<{w}} {b.xp.backend:<11} {'error: ' + type(exc).__name__ + ': ' + str(exc)[:60]}")
                failures += 1
                continue
            grad = "—" if r["grad_ulps"] is None else f"{r['grad_ulps']:.2f}"  # no autodiff or no mpmath
            mark = "✓" if r["ok"] else "✗"
            failures += not r["ok"]
            print(f"{case.id:<{w}} {b.xp.backend:<11} {r['value']:>14.7g} {r['ulps']:>9.2f} {grad:>9}  {mark}")
    print(f"\n{'all agree' if not failures else f'{failures} disagreement(s)'}")
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="multiloss", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("check", help="check every loss on every installed backend (the default)")
    for target in (parser, p):
        target.add_argument("--dtype", default="float32", choices=_options.DTYPES)
        _options.add_backends(target)
        target.add_argument("-q", "--quiet", action="store_true", help="no import progress")
    for name, tool in TOOLS.items():
        tool.add_arguments(sub.add_parser(name, help=tool.__doc__.strip().splitlines()[0]))
        sub.choices[name].set_defaults(run=tool.run)
    args = parser.parse_args(argv)
    return args.run(args) if hasattr(args, "run") else check(args)
