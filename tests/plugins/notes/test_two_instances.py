"""Two gateway instances sharing PostgreSQL and Redis: a subscriber connected to instance A
receives, within a second, the mention written through instance B. Pinned to PostgreSQL and
Redis (the production set-up); skipped locally, failed under CI, when either is missing."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.app import build_state, create_app
from gateway.plugins import get_plugin_manager
from gateway.settings import Settings
from tests.plugins.notes.test_live import live_subscription, write_note
from tests.plugins.notes.wsclient import WsClient
from tests.support import REDIS_URL, TestOrg, live_server


@pytest.fixture
def db_kind() -> str:
    return "postgres"


@pytest.fixture
def broker_url() -> str:
    import redis

    from tests.conftest import _unavailable

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable("redis", exc)
    return REDIS_URL


async def test_two_instances_deliver_a_mention_across_redis_within_a_second(
    org: TestOrg, settings: Settings
) -> None:
    # given: instance A and instance B, each with its own database pool and Redis connection
    state_b = build_state(settings, get_plugin_manager(settings))
    app_a = create_app(settings, state=org.state)
    app_b = create_app(settings, state=state_b)
    async with (
        live_server(app_a) as host_a,
        live_server(app_b) as host_b,
        WsClient.connect(host_a, org.token("member")) as client,
    ):
        await live_subscription(org, client, "member")
        # when: the note is written through instance B
        started = time.perf_counter()
        note = await write_note(host_b, org, "@member via l'instance B")
        received = (await asyncio.wait_for(client.next(timeout=1.0), 1.0))["notifications"]
        elapsed = time.perf_counter() - started
    # then
    assert (received["kind"], received["subject"]["id"]) == ("MENTION", note)
    assert elapsed < 1.0
