"""The frameworks' own margin losses (:mod:`multiloss.losses.margin`)."""

from __future__ import annotations
