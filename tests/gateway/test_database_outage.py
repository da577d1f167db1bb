"""The database out of reach is SERVICE_UNAVAILABLE ("try again"), never a bare 500 or a
masked "Unexpected error.", and a query that meets a pooled connection the database has
since dropped is answered on a fresh one.

These run on PostgreSQL only: they are about losing a database *server* (refused
connections, a restart that kills pooled connections); SQLite is a file inside the
process, with no server or connection to lose.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from websockets.exceptions import ConnectionClosed

from fiche.app import build_state, create_app
from fiche.auth import issue_token
from fiche.errors import SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE
from fiche.plugin_host import get_plugin_manager
from fiche.relay import encode_id
from fiche.settings import Settings
from tests import differential
from tests.conftest import TEST_SECRET
from tests.gateway.ws_client import open_socket
from tests.support import TestOrg, admin_sql, free_port, live_server
from tests.live_fixtures import each_ws_server  # noqa: F401  (both WebSocket layers)


@pytest.fixture
def db_kind() -> str:
    return "postgres"


@pytest.fixture
def executors_agree() -> Iterator[None]:
    """The suite's differential check runs each query a second time on graphql-core's
    executor; here the first run meets the dead connections and the second a fresh pool,
    so their answers differ by design."""
    yield
    differential.DIFFERENCES.clear()


async def drop_pooled_connections(org: TestOrg) -> None:
    """What a PostgreSQL restart does to a gateway's pool: every connection to the
    organisation's database dies while it sits idle in the pool."""
    name = make_url(org.state.settings.database_url).database
    await admin_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()")


@pytest.fixture
async def unreachable(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway whose PostgreSQL refuses connections (nothing listens on its port)."""
    settings = Settings(
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere",
        secret_key=TEST_SECRET,
        upload_dir=str(tmp_path),
    )
    state = build_state(settings, get_plugin_manager(settings))
    app = create_app(state=state)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://fiche") as client:
        client.headers["authorization"] = f"Bearer {issue_token(settings, 1, 1)}"
        yield client
    await state.db.dispose()


async def test_a_request_that_cannot_reach_the_database_is_told_to_try_again(unreachable: httpx.AsyncClient) -> None:
    response = await unreachable.post("/graphql", json={"query": "{ viewer { name } }"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {"errors": [{"message": UNAVAILABLE_MESSAGE, "extensions": {"code": SERVICE_UNAVAILABLE}}]}


async def test_a_query_on_connections_the_database_dropped_is_answered(org: TestOrg) -> None:
    before = await org.gql("{ teams { name } users(first: 50) { edges { node { name } } } }")
    assert before.errors == [] and before.data["teams"]
    await drop_pooled_connections(org)
    after = await org.gql("{ teams { name } users(first: 50) { edges { node { name } } } }")
    assert after.errors == []
    assert after.data == before.data


async def test_a_mutation_on_a_dropped_connection_is_unavailable_not_retried_and_the_next_one_works(org: TestOrg) -> None:
    create = "mutation($name: String!) { teamCreate(name: $name) { team { name } errors { code } } }"
    assert (await org.gql(create, {"name": "Warm-up"})).errors == []
    await drop_pooled_connections(org)
    failed = await org.gql(create, {"name": "During the restart"})
    assert [error["extensions"]["code"] for error in failed.errors] == [SERVICE_UNAVAILABLE]
    assert failed.errors[0]["message"] == UNAVAILABLE_MESSAGE
    done = await org.gql(create, {"name": "After the restart"})
    assert done.errors == []
    assert done.data == {"teamCreate": {"team": {"name": "After the restart"}, "errors": []}}
    names = await org.gql("{ teams { name } }")
    assert "During the restart" not in {team["name"] for team in names.data["teams"]}


async def test_a_download_that_cannot_reach_the_database_is_told_to_try_again(unreachable: httpx.AsyncClient) -> None:
    response = await unreachable.get(f"/files/customer-documents/{encode_id('CustomerDocument', 1)}")
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"] == {"code": SERVICE_UNAVAILABLE}



async def test_a_socket_that_cannot_reach_the_database_at_connection_init_is_told_to_try_again_later(tmp_path: Path, ws_server: str) -> None:
    """Close code 1013 ("try again later"): the `graphql-ws` client retries it, where an
    abrupt close (what it got before, with a traceback on the server) says nothing."""
    settings = Settings(
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere",
        secret_key=TEST_SECRET,
        upload_dir=str(tmp_path),
        ws_server=ws_server,
    )
    state = build_state(settings, get_plugin_manager(settings))
    async with live_server(create_app(state=state)) as address, open_socket(address) as socket:
        await socket.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {issue_token(settings, 1, 1)}"}})
        with pytest.raises(ConnectionClosed):
            await socket.receive()
        assert socket.connection.close_code == 1013
    await state.db.dispose()
