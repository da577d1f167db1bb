"""The bounded soak (issue 15, item 5): three gateway processes, reconnecting clients, writes
going on, and one fault of each kind — ``kill -9`` of a gateway, Redis stopped, PostgreSQL
gone and back — in about a minute. Every committed notification reaches its recipient
exactly once, in order; no write fails while Redis is away; live delivery resumes within
10 s of each fault; the gateways that were not killed never need a restart.

It runs ``bench/soak.py`` (the ten-minute soak is the same code with larger numbers) with
its own ``redis-server`` and a TCP proxy in front of PostgreSQL: the machine's shared
servers are never stopped."""

from __future__ import annotations

import json
import shutil

import pytest

from bench import soak
from tests.support import POSTGRES_ADMIN_URL, admin_sql


@pytest.mark.postgres
@pytest.mark.redis
async def test_every_notification_is_delivered_exactly_once_through_a_gateway_kill_a_redis_stop_and_a_postgres_cut() -> None:
    from tests.conftest import _unavailable

    if shutil.which("redis-server") is None:
        _unavailable("redis-server", FileNotFoundError("redis-server is not installed"))
    try:
        await admin_sql("SELECT 1", POSTGRES_ADMIN_URL)
    except Exception as exc:
        _unavailable("postgres", exc)
    args = soak.parser().parse_args(
        ["--seconds", "45", "--sockets", "30", "--writes", "5", "--fault-every", "10", "--outage", "4", "--settle", "20", "--admin-url", POSTGRES_ADMIN_URL]
    )
    # when
    report = await soak.run(args)
    print(json.dumps(report, indent=1, default=str))  # shown when an assertion fails
    # then
    assert report["faults"] == ["kill", "redis", "postgres"], report
    assert report["committed_notifications"] > 300, report
    assert (report["missing"], report["duplicated"], report["out_of_order"], report["unknown"]) == (0, 0, 0, 0), report
    assert report["delivered"] == report["committed_notifications"], report
    assert "redis" not in report["writes_failed_by_phase"], report
    assert report["reconnects"] > 0, report  # the killed gateway's clients came back elsewhere
    resumed = report["live_again_after_s"]
    assert all(seconds is not None and seconds <= 10 for seconds in resumed.values()), report
    assert report["survivors_alive"], report
    assert report["gateway_starts"].count(1) == len(report["gateway_starts"]) - 1, report
