"""The lean WebSocket layer (fiche.leanws, ``FICHE_WS_SERVER=lean``) on a real uvicorn
server: it answers ``graphql-transport-ws`` itself with no task per idle socket, hands
everything else to the ASGI path, and keeps today's close codes and refusals. (The
behaviour both layers share is tested on both: the modules that import
``each_ws_server``.)"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from fiche.app import create_app
from fiche.context import AppState
from fiche.leanws.protocol import LeanWebSocketProtocol
from fiche.notifications.hub import hub_of
from tests.gateway.conftest import PROBE
from tests.gateway.test_notification_hub import deliveries
from tests.gateway.test_notifications_live import SUBSCRIBE, connect_as, listening, notify
from tests.gateway.ws_client import LEGACY_WS, TRANSPORT_WS, GraphQLSocket, open_socket, receive_text
from tests.support import TestOrg, live_server
from tests.live_fixtures import each_ws_server  # noqa: F401  (both WebSocket layers)

ME = "{ viewer { user { handle } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


async def closed_with(socket: GraphQLSocket) -> tuple[int | None, str | None]:
    """Wait for the server's close; its code and reason."""
    with pytest.raises(ConnectionClosed):
        for _ in range(10):
            await socket.receive()
    return socket.connection.close_code, socket.connection.close_reason


def lean_deliveries(state: AppState) -> list[Any]:
    return [delivery for topic in hub_of(state).topics.values() for delivery in topic.members]


async def test_the_hub_writes_to_the_lean_connection_itself(org: TestOrg, server: str, ws_server: str) -> None:
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await deliveries(org, "member", 1)
        (delivery,) = lean_deliveries(org.state)
        # the hub's writer is the lean connection (lean) or Starlette's WebSocket (asgi)
        assert isinstance(getattr(delivery.send, "__self__", None), LeanWebSocketProtocol) is (ws_server == "lean")
        await notify(org, "member")
        frame = await receive_text(socket.connection)  # a text frame (receive_text refuses binary)
    assert '"type":"next"' in frame and '"id":"live"' in frame


async def test_queries_and_mutations_over_the_lean_layer_run_through_strawberry(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        assert await socket.query("q", ME) == {"data": {"viewer": {"user": {"handle": "member"}}}}
        # a document refused before execution is an error message; the socket stays open
        await socket.subscribe("bad", "{ nope }")
        refused = await socket.next("bad")
        assert refused is not None and refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert await socket.query("again", ME) == {"data": {"viewer": {"user": {"handle": "member"}}}}


async def test_the_legacy_subprotocol_is_handed_to_the_asgi_path(org: TestOrg, server: str) -> None:
    async with open_socket(server, protocol=LEGACY_WS) as socket:
        assert socket.connection.subprotocol == LEGACY_WS
        await connect_as(socket, org, "member")
        assert await socket.query("q", ME) == {"data": {"viewer": {"user": {"handle": "member"}}}}
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        await notify(org, "member")
        result = await socket.next("live")
    assert result is not None and result["data"]["notifications"]["message"]


async def test_a_client_preferring_the_legacy_subprotocol_gets_it(org: TestOrg, server: str) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=[Subprotocol(LEGACY_WS), Subprotocol(TRANSPORT_WS)]) as connection:
        assert connection.subprotocol == LEGACY_WS  # the client's order, as Strawberry picks


async def test_a_cross_site_origin_is_refused_and_an_allowed_one_accepted(org: TestOrg, state: AppState) -> None:
    settings = dataclasses.replace(state.settings, allowed_origins=("https://app.example",))
    async with live_server(create_app(state=dataclasses.replace(state, settings=settings))) as address:
        with pytest.raises(InvalidStatus) as refused:
            async with open_socket(address, origin="https://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        async with open_socket(address, origin="https://app.example") as socket:
            await connect_as(socket, org, "member")
        async with open_socket(address, origin=f"http://{address}") as socket:  # same origin
            await connect_as(socket, org, "member")


@pytest.mark.parametrize(
    ("messages", "code", "reason"),
    [
        (["not json"], 4400, "WebSocket message must be valid JSON"),
        ([{"type": "nope"}], 4400, "Unknown message type: nope"),
        ([{"no": "type"}], 4400, "Failed to parse message"),
        ([{"type": "connection_init", "payload": 3}], 4400, "Invalid connection init payload"),
        ([{"type": "subscribe", "id": "1", "payload": {"query": ME}}], 4401, "Unauthorized"),
        ([{"type": "connection_init", "payload": {"Authorization": "Bearer nope"}}], 4403, "Forbidden"),
        (["INIT", {"type": "connection_init", "payload": {}}], 4429, "Too many initialisation requests"),
        (["INIT", {"type": "subscribe", "id": "a", "payload": {"query": SUBSCRIBE}}, {"type": "subscribe", "id": "a", "payload": {"query": SUBSCRIBE}}], 4409, "Subscriber for a already exists"),
        (["INIT", {"type": "complete"}], 4400, "Failed to parse message"),
    ],
)
async def test_close_codes(org: TestOrg, server: str, messages: list[Any], code: int, reason: str) -> None:
    async with open_socket(server) as socket:
        for message in messages:
            if message == "INIT":
                await connect_as(socket, org, "member")
            elif isinstance(message, str):
                await socket.connection.send(message)
            else:
                await socket.send(message)
        assert await closed_with(socket) == (code, reason)


async def test_a_binary_message_is_refused_with_4400(server: str) -> None:
    async with open_socket(server) as socket:
        await socket.connection.send(b'{"type": "connection_init"}')
        assert await closed_with(socket) == (4400, "WebSocket message type must be text")


async def test_a_socket_without_connection_init_is_closed_with_4408(org: TestOrg, state: AppState) -> None:
    app = create_app(state=state)
    app.state.graphql_view.connection_init_wait_timeout = timedelta(seconds=0.2)
    async with live_server(app) as address, open_socket(address) as socket:
        assert await closed_with(socket) == (4408, "Connection initialisation timeout")


async def test_ping_is_answered_with_pong_and_websocket_pings_too(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.send({"type": "ping"})
        assert await receive_text(socket.connection) == '{"type":"pong"}'
        pong = await socket.connection.ping(b"abc")
        assert await asyncio.wait_for(pong, 5) >= 0


async def test_idle_subscribers_hold_no_task_on_the_lean_layer(org: TestOrg, server: str, ws_server: str) -> None:
    sockets = []
    try:
        async with open_socket(server) as first:
            await connect_as(first, org, "member")
            await first.subscribe("s", SUBSCRIBE)
            await deliveries(org, "member", 1)
            await asyncio.sleep(0.1)
            before = len(asyncio.all_tasks())
            for index in range(50):
                context = open_socket(server)
                socket = await context.__aenter__()
                sockets.append(context)
                await connect_as(socket, org, "member")
                await socket.subscribe(f"s{index}", SUBSCRIBE)
            await deliveries(org, "member", 51)
            await asyncio.sleep(0.2)  # what starts them is over
            grown = len(asyncio.all_tasks()) - before
            # each client's own connection task lives in this process too: 50 of them
            server_tasks = grown - 50
            if ws_server == "lean":
                assert server_tasks <= 2, f"{server_tasks} tasks for 50 idle subscribers"
            else:  # the ASGI path: one task per socket at least (this test can fail)
                assert server_tasks >= 50
            # and they still deliver
            await notify(org, "member")
            result = await first.next("s")
            assert result is not None
    finally:
        for context in sockets:
            await context.__aexit__(None, None, None)


async def test_a_stopping_server_closes_subscribers_with_1012_and_gives_their_slots_back(org: TestOrg, state: AppState) -> None:
    async with live_server(create_app(state=state)) as address:
        context = open_socket(address)
        socket = await context.__aenter__()
        try:
            await connect_as(socket, org, "member")
            await socket.subscribe("live", SUBSCRIBE)
            await deliveries(org, "member", 1)
        except BaseException:
            await context.__aexit__(None, None, None)
            raise
    # the server stopped (live_server's exit): the socket was told why, nothing is left
    try:
        assert await closed_with(socket) == (1012, "")
    finally:
        await context.__aexit__(None, None, None)
    for _ in range(100):
        if not hub_of(state).topics:
            break
        await asyncio.sleep(0.02)
    assert hub_of(state).topics == {}
    user = org.users["member"]
    key = f"subscriptions:{org.organization_id}:{user.id}"
    assert await state.broker.acquire(key, 1) is not None  # the slot was given back
