"""Latency figures shared by the benches: p50 / p99 / max in milliseconds."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

__all__ = ["latency_figures"]


def latency_figures(seconds: Sequence[float], digits: int = 1) -> dict[str, float | None]:
    """``p50_ms``, ``p99_ms`` and ``max_ms`` of latencies given in seconds (None when empty)."""
    if not seconds:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(seconds)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, digits),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, digits),
        "max_ms": round(ordered[-1] * 1000, digits),
    }
