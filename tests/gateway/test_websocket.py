"""Real-time (G10) over a real server: ``graphql-transport-ws`` and the legacy ``graphql-ws``
on ``/graphql``, the token in ``connection_init``, and a fresh context (loaders) for
every operation on a socket."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.gateway.conftest import PROBE
from tests.gateway.ws_client import LEGACY_WS, TRANSPORT_WS, open_socket
from tests.support import TestOrg

VIEWER = "{ viewer { user { handle } } }"
LOADER_SERIAL = "{ first: probeLoaderSerial second: probeLoaderSerial }"
BATCHES = "query Batches($key: Int!) { number: probeNumber(key: $key) batches: probeBatchesAfterLoading(key: $key) }"
WHO_AM_I = "subscription { probeWhoAmI }"
COUNT = "subscription Count($to: Int!) { probeCount(to: $to) }"
PROBE_NOTIFY = "mutation Notify($to: [ID!]!) { probeNotify(recipientIds: $to) { notified errors { code } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE



def bearer(org: TestOrg, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.token(who)}"}


# ------------------------------------------------------------------ graphql-transport-ws


async def test_token_in_connection_init_is_accepted(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        # when
        ack = await socket.init(bearer(org, "member"))
        result = await socket.query("1", VIEWER)
    # then
    assert ack["type"] == "connection_ack"
    assert result == {"data": {"viewer": {"user": {"handle": "member"}}}}


async def test_token_may_also_be_sent_as_a_token_field(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        # when
        await socket.init({"token": org.token("manager")})
        result = await socket.query("1", VIEWER)
    # then
    assert result["data"]["viewer"]["user"]["handle"] == "manager"


@pytest.mark.parametrize(
    "payload",
    [None, {}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}, {"token": 12}],
)
async def test_missing_or_invalid_token_closes_the_socket_with_4403(org: TestOrg, server: str, payload: dict[str, Any] | None) -> None:
    async with open_socket(server) as socket:
        # when
        with pytest.raises(ConnectionClosed) as closed:
            await socket.init(payload)
    # then
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_subscription_streams_its_events_then_completes(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await socket.init(bearer(org, "member"))
        # when
        await socket.subscribe("count", COUNT, {"to": 3})
        results = await socket.results("count", 3)
        end = await socket.next("count")
    # then
    assert [result["data"]["probeCount"].split(":")[0] for result in results] == ["1", "2", "3"]
    assert end is None


async def test_two_operations_on_one_socket_never_share_a_loader(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await socket.init(bearer(org, "member"))
        # when
        first = await socket.query("1", LOADER_SERIAL)
        second = await socket.query("2", LOADER_SERIAL)
    # then: one loader per operation, shared by the fields of that operation only
    assert first["data"]["first"] == first["data"]["second"]
    assert second["data"]["first"] == second["data"]["second"]
    assert first["data"]["first"] != second["data"]["first"]


async def test_each_operation_on_a_socket_starts_with_an_unused_loader(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await socket.init(bearer(org, "member"))
        # when
        first = await socket.query("1", BATCHES, {"key": 1})
        second = await socket.query("2", BATCHES, {"key": 2})
    # then: a loader shared with the first operation would have run its second batch
    assert first["data"] == {"number": 10, "batches": 1}
    assert second["data"] == {"number": 20, "batches": 1}


async def test_concurrent_subscriptions_on_one_socket_have_their_own_loaders(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await socket.init(bearer(org, "member"))
        # when
        await socket.subscribe("a", COUNT, {"to": 2})
        await socket.subscribe("b", COUNT, {"to": 2})
        a = await socket.results("a", 2)
        b = await socket.results("b", 2)
    # then
    serials_a = {result["data"]["probeCount"].split(":")[1] for result in a}
    serials_b = {result["data"]["probeCount"].split(":")[1] for result in b}
    assert len(serials_a) == len(serials_b) == 1
    assert serials_a != serials_b


async def test_mutation_over_the_socket_acts_for_the_connected_user(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await socket.init(bearer(org, "member"))
        # when
        result = await socket.query("1", "mutation { teamCreate(name: \"Sneaky\") { errors { code } } }")
    # then: the member's role applies, not anyone else's
    assert result["data"]["teamCreate"]["errors"] == [{"code": "FORBIDDEN"}]


# ------------------------------------------------------------------ legacy graphql-ws


async def test_legacy_protocol_accepts_the_token_in_connection_init(org: TestOrg, server: str) -> None:
    async with open_socket(server, protocol=LEGACY_WS) as socket:
        # when
        ack = await socket.init(bearer(org, "technician"))
        await socket.subscribe("1", WHO_AM_I)
        result = await socket.next("1")
    # then
    assert ack["type"] == "connection_ack"
    assert result == {"data": {"probeWhoAmI": "technician"}}


async def test_legacy_protocol_streams_subscriptions(org: TestOrg, server: str) -> None:
    async with open_socket(server, protocol=LEGACY_WS) as socket:
        await socket.init(bearer(org, "member"))
        # when
        await socket.subscribe("count", COUNT, {"to": 2})
        results = await socket.results("count", 2)
    # then
    assert [result["data"]["probeCount"].split(":")[0] for result in results] == ["1", "2"]


async def test_legacy_protocol_refuses_an_invalid_token(org: TestOrg, server: str) -> None:
    async with open_socket(server, protocol=LEGACY_WS) as socket:
        # when
        answer = await socket.init({"Authorization": "Bearer forged"})
        with pytest.raises(ConnectionClosed):
            await socket.receive()
    # then
    assert answer["type"] == "connection_error"


async def test_legacy_protocol_refuses_operations_before_connection_init(org: TestOrg, server: str) -> None:
    async with open_socket(server, protocol=LEGACY_WS) as socket:
        # when
        await socket.subscribe("1", VIEWER)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.receive()
    # then
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_transport_ws_refuses_operations_before_connection_init(org: TestOrg, server: str) -> None:
    async with open_socket(server, protocol=TRANSPORT_WS) as socket:
        # when
        await socket.subscribe("1", VIEWER)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.receive()
    # then
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
