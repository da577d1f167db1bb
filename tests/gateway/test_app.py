"""The real application (``create_app``): GraphiQL on ``/graphql``, health and readiness,
CORS, the WebSocket origin check and the request-size limit."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from websockets.exceptions import InvalidStatus

from fiche.app import create_app
from fiche.broker import RedisBroker
from fiche.context import AppState
from fiche.db import Database
from fiche.graphiql import ASSET_URL_PREFIX, referenced_assets
from tests.gateway.ws_client import open_socket
from tests.support import TestOrg, free_port, live_server

ALLOWED = "https://app.example"
EVIL = "https://evil.example"
VIEWER = "{ viewer { user { handle } } }"
EXTERNAL_URL = re.compile(r"(?:https?:)?//", re.IGNORECASE)
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}


def configured(state: AppState, **changes: object) -> AppState:
    """The same state with other settings (the view reads them from the state)."""
    return dataclasses.replace(state, settings=dataclasses.replace(state.settings, **changes))


def client_of(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def cors_client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app that allows :data:`ALLOWED` only."""
    allowed = configured(state, allowed_origins=(ALLOWED,))
    async with client_of(create_app(allowed.settings, state=allowed)) as http:
        yield http


# ------------------------------------------------------------------ GraphiQL


async def test_browser_get_on_graphql_returns_graphiql(client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Fiche GraphiQL</title>" in response.text


async def test_graphiql_page_refers_to_no_external_url(client: httpx.AsyncClient) -> None:
    # when
    html = (await client.get("/graphql", headers={"Accept": "text/html"})).text
    # then
    assert EXTERNAL_URL.search(html) is None
    assert all(url.startswith(ASSET_URL_PREFIX + "/") for url in referenced_assets(html))


async def test_every_asset_of_the_graphiql_page_is_served(client: httpx.AsyncClient) -> None:
    # given
    html = (await client.get("/graphql", headers={"Accept": "text/html"})).text
    assets = referenced_assets(html)
    # when
    responses = {url: await client.get(url) for url in assets}
    # then
    assert len(assets) >= 5
    assert {url: response.status_code for url, response in responses.items()} == {url: 200 for url in assets}
    assert all(response.content for response in responses.values())


async def test_json_get_on_graphql_is_not_graphiql(org: TestOrg, client: httpx.AsyncClient) -> None:
    # when
    response = await client.get(
        "/graphql", params={"query": VIEWER}, headers={"Accept": "application/json", "Authorization": f"Bearer {org.token('member')}"}
    )
    # then
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"viewer": {"user": {"handle": "member"}}}}


async def test_mutation_over_get_is_refused_and_not_run(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given: a link anyone could make a browser follow
    query = 'mutation { teamCreate(name: "Via GET") { errors { code } } }'
    # when
    response = await client.get(
        "/graphql", params={"query": query}, headers={"Accept": "application/json", "Authorization": f"Bearer {org.token('admin')}"}
    )
    # then
    assert response.status_code == 400
    teams = await org.ok("{ teams { name } }")
    assert {"name": "Via GET"} not in teams["teams"]


# ------------------------------------------------------------------ health and readiness


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/healthz")
    # then
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_is_ready_when_database_and_broker_answer(client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/readyz")
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


async def test_readyz_is_unavailable_with_a_reason_when_the_broker_is_down(state: AppState) -> None:
    # given: a Redis broker on a port where nothing listens
    down = RedisBroker(f"redis://127.0.0.1:{free_port()}/0")
    broken = dataclasses.replace(state, broker=down)
    # when
    async with client_of(create_app(broken.settings, state=broken)) as http:
        response = await http.get("/readyz")
    await down.disconnect()
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unavailable: ")


async def test_readyz_is_unavailable_with_a_reason_when_the_database_is_down(state: AppState) -> None:
    # given: a database on a port where nothing listens
    down = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing")
    broken = dataclasses.replace(state, db=down)
    # when
    async with client_of(create_app(broken.settings, state=broken)) as http:
        response = await http.get("/readyz")
    await down.dispose()
    # then
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unavailable: ")
    assert response.json()["checks"]["broker"] == "ok"


# ------------------------------------------------------------------ CORS


async def test_preflight_from_an_allowed_origin_gets_the_cors_headers(cors_client: httpx.AsyncClient) -> None:
    # when
    response = await cors_client.options("/graphql", headers={"Origin": ALLOWED, **PREFLIGHT})
    # then
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


async def test_preflight_from_another_origin_gets_no_cors_headers(cors_client: httpx.AsyncClient) -> None:
    # when
    response = await cors_client.options("/graphql", headers={"Origin": EVIL, **PREFLIGHT})
    # then
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_request_from_an_allowed_origin_is_readable_by_that_origin(org: TestOrg, cors_client: httpx.AsyncClient) -> None:
    # when
    response = await cors_client.post(
        "/graphql", json={"query": VIEWER}, headers={"Origin": ALLOWED, "Authorization": f"Bearer {org.token('member')}"}
    )
    # then
    assert response.headers["access-control-allow-origin"] == ALLOWED


async def test_request_from_another_origin_is_not_readable_by_it(org: TestOrg, cors_client: httpx.AsyncClient) -> None:
    # when
    response = await cors_client.post(
        "/graphql", json={"query": VIEWER}, headers={"Origin": EVIL, "Authorization": f"Bearer {org.token('member')}"}
    )
    # then
    assert "access-control-allow-origin" not in response.headers


async def test_without_allowed_origins_there_are_no_cors_headers(client: httpx.AsyncClient) -> None:
    # when
    response = await client.options("/graphql", headers={"Origin": ALLOWED, **PREFLIGHT})
    # then
    assert "access-control-allow-origin" not in response.headers


# ------------------------------------------------------------------ WebSocket origin check


@pytest.fixture
async def origin_server(state: AppState) -> AsyncIterator[str]:
    allowed = configured(state, allowed_origins=(ALLOWED,))
    async with live_server(create_app(allowed.settings, state=allowed)) as address:
        yield address


async def test_websocket_handshake_from_a_foreign_origin_is_refused(org: TestOrg, origin_server: str) -> None:
    # when
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(origin_server, origin=EVIL):
            pass
    # then
    assert refused.value.response.status_code == 403


async def test_websocket_handshake_from_an_allowed_origin_is_accepted(org: TestOrg, origin_server: str) -> None:
    async with open_socket(origin_server, origin=ALLOWED) as socket:
        # when
        ack = await socket.init({"Authorization": f"Bearer {org.token('member')}"})
    # then
    assert ack["type"] == "connection_ack"


async def test_websocket_handshake_without_origin_is_accepted(org: TestOrg, origin_server: str) -> None:
    # given: a non-browser client sends no Origin
    async with open_socket(origin_server) as socket:
        # when
        ack = await socket.init({"Authorization": f"Bearer {org.token('member')}"})
    # then
    assert ack["type"] == "connection_ack"


# ------------------------------------------------------------------ request size


@pytest.fixture
async def small_client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app that accepts uploads of 1 kB (plus the multipart allowance)."""
    small = configured(state, max_upload_bytes=1000)
    async with client_of(create_app(small.settings, state=small)) as http:
        yield http


def oversized() -> bytes:
    return b'{"query": "{ __typename }", "padding": "' + b"x" * 200_000 + b'"}'


async def test_oversized_request_body_is_refused(small_client: httpx.AsyncClient) -> None:
    # when
    response = await small_client.post("/graphql", content=oversized(), headers={"Content-Type": "application/json"})
    # then
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_oversized_chunked_request_body_is_refused(small_client: httpx.AsyncClient) -> None:
    # given: no Content-Length to check up front
    async def chunks() -> AsyncIterator[bytes]:
        body = oversized()
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    # when
    response = await small_client.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    # then
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
