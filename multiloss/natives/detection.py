"""The frameworks' own detection losses (:mod:`multiloss.losses.detection`)."""

from __future__ import annotations
