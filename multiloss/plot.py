"""PLACEHOLDER: `multiloss plot` (being written)."""


def add_arguments(parser):
    pass


def run(args) -> int:
    raise SystemExit("not written yet")
