"""Garbage-collector tuning for a long-running server process.

Most objects a request allocates die young; the default generation-0 threshold (700) makes
the cyclic collector run constantly and re-scan long-lived startup objects. Freezing what
start-up allocated moves it out of the collector's sight, and larger thresholds make young
collections rarer. Measured in ``bench/`` (see ``bench/RESULTS.md``).
"""

from __future__ import annotations

import gc

__all__ = ["tame_gc"]


def tame_gc(threshold0: int = 50_000, threshold1: int = 20, threshold2: int = 100) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(threshold0, threshold1, threshold2)
