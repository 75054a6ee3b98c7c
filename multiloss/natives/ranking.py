"""The frameworks' own ranking losses (:mod:`multiloss.losses.ranking`)."""

from __future__ import annotations
