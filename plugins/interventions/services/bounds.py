"""Limits that keep one intervention's lists small (declared on the GraphQL fields too)."""

from __future__ import annotations

__all__ = [
    "MAX_EQUIPMENT_PER_PLAN",
    "MAX_EQUIPMENT_PER_REPORT",
    "MAX_FILTER_IDS",
    "MAX_INTERVENTION_TYPES",
    "MAX_PHOTOS",
    "MAX_SEARCH",
    "MAX_TECHNICIANS",
]

MAX_TECHNICIANS = 20
MAX_PHOTOS = 20
MAX_EQUIPMENT_PER_REPORT = 50
MAX_EQUIPMENT_PER_PLAN = 20
MAX_INTERVENTION_TYPES = 200
MAX_FILTER_IDS = 100
MAX_SEARCH = 200
