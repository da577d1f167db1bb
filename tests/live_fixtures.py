"""Fixtures a test module takes by importing them (pytest finds fixtures among a module's
names): ``from tests.live_fixtures import each_broker`` runs the module's tests on the
memory broker and on Redis; ``postgres_and_redis_*`` pins a module to the shared services
that several gateway instances need."""

from __future__ import annotations

import pytest

from tests.support import REDIS_URL

__all__ = ["each_broker", "each_ws_server", "postgres_and_redis_broker", "postgres_and_redis_database"]


@pytest.fixture(name="broker_url")
def each_broker(broker_kind: str) -> str:
    """The broker of the ``broker_kind`` parameter: memory, then Redis."""
    return "memory://" if broker_kind == "memory" else REDIS_URL


@pytest.fixture(name="db_kind")
def postgres_and_redis_database() -> str:
    return "postgres"


@pytest.fixture(name="broker_url")
def postgres_and_redis_broker() -> str:
    """Redis, checked up front: unreachable skips locally and fails under CI."""
    import redis

    from tests.conftest import _unavailable

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable("redis", exc)
    return REDIS_URL


@pytest.fixture(name="ws_server", params=["lean", "asgi"])
def each_ws_server(request: pytest.FixtureRequest) -> str:
    """Both WebSocket layers of a real server: Fiche's lean protocol and uvicorn's + ASGI."""
    return str(request.param)
