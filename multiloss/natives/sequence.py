"""The frameworks' own sequence losses (:mod:`multiloss.losses.sequence`)."""

from __future__ import annotations
