"""Margin losses over scores: PyTorch's soft, multi-class and multi-label margins and hinge embedding;
optax's perceptron and sparsemax losses."""

from __future__ import annotations

__all__: list[str] = []
