"""Bounding-box losses: generalized, distance and complete IoU of boxes (x1, y1, x2, y2)."""

from __future__ import annotations

__all__: list[str] = []
