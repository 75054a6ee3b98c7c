"""``python -m multiloss``: see :mod:`multiloss.cli`."""

from multiloss.cli import main

raise SystemExit(main())
