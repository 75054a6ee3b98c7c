# pyright: reportWildcardImportFromLibrary=false
"""``from multiloss import *`` brings the typed losses too: mypy takes the names from the
literal ``__all__`` of ``multiloss/__init__.pyi`` (it cannot read ``*m.__all__`` in a list)."""

from multiloss import *  # noqa: F403


def misspelt_keyword() -> None:
    huber(0.0, 1.0, detla=1.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]  # noqa: F405
