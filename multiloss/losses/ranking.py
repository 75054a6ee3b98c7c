"""Ranking losses: listwise softmax cross-entropy over relevance labels."""

from __future__ import annotations

__all__: list[str] = []
