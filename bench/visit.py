"""Figures of issue 13 that need no server: the offline report assistant's field accuracy on
the labelled answers of tests/plugins/activities/assistant_cases.json (by split, mode,
language and field type), and the route solver against brute force on random small days
(how often it finds the optimum, the worst gap, the solve time), plus its solve time on
larger days.

    .venv/bin/python bench/visit.py --days 300
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fiche.plugins.activities.services.routing import plan_route  # noqa: E402
from tests.plugins.activities.assistant_scoring import load_cases, score  # noqa: E402
from tests.plugins.activities.test_routing import SPEED_KMH, brute_force, on_time, random_day  # noqa: E402


def assistant() -> dict[str, dict[str, str]]:
    cases = load_cases()
    figures = {}
    for split in ("tuning", "held_out", "held_out_2"):
        scores = score(cases, split=split)
        figures[split] = {group: f"{value.right}/{value.total} = {value.accuracy:.1%}" for group, value in sorted(scores.items())}
    return figures


def routes(days: int) -> dict[str, object]:
    gaps: list[float] = []
    exact = infeasible = 0
    times: list[float] = []
    for seed in range(days):
        rng = random.Random(seed)
        stops = random_day(rng, rng.randint(2, 7))
        started = time.perf_counter()
        route = plan_route(stops, SPEED_KMH)
        times.append(time.perf_counter() - started)
        best = brute_force(stops)
        if best is None:
            infeasible += 1
            continue
        assert on_time(route.order, stops)
        gap = route.total / best - 1 if best else 0.0
        gaps.append(gap)
        exact += gap < 1e-9
    large = {}
    for size in (10, 20, 40):
        stops = random_day(random.Random(size), size)
        started = time.perf_counter()
        plan_route(stops, SPEED_KMH)
        large[f"{size} stops"] = f"{(time.perf_counter() - started) * 1000:.0f} ms"
    return {
        "days": days,
        "days with no on-time order": infeasible,
        "optimal": f"{exact}/{len(gaps)}",
        "worst gap": f"{max(gaps):.2%}",
        "mean gap": f"{statistics.fmean(gaps):.4%}",
        "solve p50 (2-7 stops)": f"{statistics.median(times) * 1000:.1f} ms",
        "solve max (2-7 stops)": f"{max(times) * 1000:.1f} ms",
        "larger days": large,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=300, help="random small days to check against brute force")
    args = parser.parse_args()
    print(json.dumps({"machine": f"{platform.machine()}, Python {platform.python_version()}", "assistant": assistant(), "routes": routes(args.days)}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
