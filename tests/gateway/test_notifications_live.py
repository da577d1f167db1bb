"""The live ``notifications`` subscription (G11) over a real WebSocket, on the memory broker
and on Redis: live delivery, and nothing lost when a socket drops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from fiche.context import ConnectionContext
from fiche.notifications import user_topic
from fiche.notifications.hub import hub_of
from fiche.relay import encode_id
from tests.gateway.conftest import PROBE
from tests.gateway.ws_client import GraphQLSocket, open_socket
from tests.support import TestOrg
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)
from tests.live_fixtures import each_ws_server  # noqa: F401  (both WebSocket layers)

SUBSCRIBE = """
subscription Live($after: ID) {
  notifications(after: $after) { id kind message actor { handle } }
}
"""
PROBE_NOTIFY = """
mutation Notify($to: [ID!]!, $fail: Boolean! = false) {
  probeNotify(recipientIds: $to, fail: $fail) { notified errors { code } }
}
"""
INBOX_IDS = "{ notifications(first: 100) { nodes { id } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE



async def notify(tenant: TestOrg, *to: str, fail: bool = False) -> None:
    variables = {"to": [encode_id("User", tenant.users[who].id) for who in to], "fail": fail}
    await tenant.ok(PROBE_NOTIFY, variables, as_="admin")


def _live(tenant: TestOrg, topic: str) -> bool:
    """Whether the hub's subscriptions of ``topic`` (if the hub delivers them) are caught up."""
    hub = hub_of(tenant.state)
    listener = hub.topics.get(topic)
    return listener is None or all(not delivery.busy for delivery in listener.members)


async def listening(tenant: TestOrg, who: str) -> None:
    """Wait until the subscription of ``who`` is registered with the broker."""
    topic = user_topic(tenant.organization_id, tenant.users[who].id)
    for _ in range(250):
        if topic in tenant.state.broker._local.subscriptions and _live(tenant, topic):  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the subscription never reached the broker")


async def connect_as(socket: GraphQLSocket, tenant: TestOrg, who: str) -> None:
    ack = await socket.init({"Authorization": f"Bearer {tenant.token(who)}"})
    assert ack["type"] == "connection_ack"


async def test_new_notification_arrives_live(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        # when
        await notify(org, "member")
        result = await socket.next("live")
    # then
    assert result is not None
    event = result["data"]["notifications"]
    assert (event["kind"], event["message"], event["actor"]) == ("PROBE_PING", "PROBE_PING from the probe", {"handle": "admin"})
    assert event["id"] == (await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"][0]["id"]


async def test_subscription_receives_only_the_viewer_notifications(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        # when
        await notify(org, "member2")
        await notify(org, "member")
        result = await socket.next("live")
        # then: the member's own, and nothing else
        assert result is not None
        assert result["data"]["notifications"]["id"] == (await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"][0]["id"]
        assert await socket.nothing_more("live")


async def test_rolled_back_notification_is_never_delivered(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        # when
        await notify(org, "member", fail=True)
        # then
        assert await socket.nothing_more("live")


async def test_reconnecting_client_receives_what_it_missed_once_in_order_then_live(org: TestOrg, server: str) -> None:
    # given: a client saw one notification, then its socket dropped
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        await notify(org, "member")
        seen = await socket.next("live")
    assert seen is not None
    last_seen = seen["data"]["notifications"]["id"]
    # ... and three notifications were committed while it was away
    for _ in range(3):
        await notify(org, "member")
    missed = list(reversed((await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"]))[1:]
    # when: it reconnects with the last ID it saw
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("again", SUBSCRIBE, {"after": last_seen})
        replayed = await socket.results("again", 3)
        # then: exactly those three, once each, oldest first
        assert [result["data"]["notifications"]["id"] for result in replayed] == [node["id"] for node in missed]
        assert await socket.nothing_more("again")
        # and a fourth arrives live
        await notify(org, "member")
        live = await socket.next("again")
        assert live is not None
        newest = (await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"][0]["id"]
        assert live["data"]["notifications"]["id"] == newest
        assert await socket.nothing_more("again")


async def test_subscription_without_after_does_not_replay_the_inbox(org: TestOrg, server: str) -> None:
    # given
    await notify(org, "member")
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        # when
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        # then
        assert await socket.nothing_more("live")


async def test_malformed_after_is_a_bad_user_input(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        # when
        await socket.subscribe("live", SUBSCRIBE, {"after": encode_id("User", 1)})
        result = await socket.next("live")
    # then
    assert result is not None
    errors = result["errors"]
    assert [(error.get("extensions") or {}).get("code") for error in errors] == ["BAD_USER_INPUT"]


async def test_lost_broker_messages_are_replayed_from_the_inbox(org: TestOrg, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        # given: three notifications committed while the broker dropped every message
        broker = org.state.broker

        async def dropped(messages: Any) -> None:
            return None

        monkeypatch.setattr(broker, "publish_many", dropped)
        for _ in range(3):
            await notify(org, "member")
        monkeypatch.undo()
        # when: the subscription learns it lost messages (overflow, Redis reconnect)
        topic = user_topic(org.organization_id, org.users["member"].id)
        for subscription in broker._local.subscriptions[topic]:  # type: ignore[attr-defined]
            subscription.mark_lost()
        replayed = await socket.results("live", 3)
    # then
    expected = list(reversed((await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"]))
    assert [result["data"]["notifications"]["id"] for result in replayed] == [node["id"] for node in expected]


async def test_notification_committed_while_the_subscription_starts_is_delivered(
    org: TestOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a notification commits just after the broker subscription is in place
    broker = org.state.broker
    subscribe = broker.subscribe

    @contextlib.asynccontextmanager
    async def subscribe_then_commit(topic: str) -> AsyncIterator[Any]:
        async with subscribe(topic) as events:
            await notify(org, "member")
            yield events

    monkeypatch.setattr(broker, "subscribe", subscribe_then_commit)
    context = ConnectionContext(org.state, viewer=org.viewer("member"))
    stream = await org.schema.subscribe(SUBSCRIBE, context_value=context)
    # when
    try:
        result = await asyncio.wait_for(anext(stream), timeout=2)  # type: ignore[arg-type]
    finally:
        await stream.aclose()  # type: ignore[union-attr]
    # then
    assert result.errors is None
    assert result.data["notifications"]["id"] == (await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"][0]["id"]
