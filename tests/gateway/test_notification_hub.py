"""The delivery hub of the ``notifications`` subscription (fiche.notifications.hub): one
projection per group of subscriptions, each socket its own shape, exactly what Strawberry's
execution answers, a slow socket that delays no other, over both protocols, the memory
broker and Redis, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fiche.context import ConnectionContext
from fiche.notifications import hub as hub_module
from fiche.notifications.hub import Delivery, hub_of
from fiche.notifications.projection import compile_plan
from tests.gateway.conftest import PROBE
from tests.gateway.test_notifications_live import INBOX_IDS, SUBSCRIBE, connect_as, listening, notify
from tests.gateway.ws_client import LEGACY_WS, TRANSPORT_WS, open_socket
from tests.support import TestOrg, count_statements
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)
from tests.live_fixtures import each_ws_server  # noqa: F401  (both WebSocket layers)

# Aliases, a named and an inline fragment (on Notification and on Node), __typename, a
# skipped and an included field (by variables), a nested lookup, a repeated field merged.
SHAPED = """
subscription Shaped($after: ID, $withLink: Boolean!, $skipKind: Boolean = true) {
  inbox: notifications(after: $after) {
    __typename
    ...Basics
    ... on Node { nodeId: id }
    what: kind @skip(if: $skipKind)
    link @include(if: $withLink)
    read
    readAt
    createdAt
    who: actor { __typename id handle name role isActive handle }
    message
  }
}
fragment Basics on Notification { id message kind }
"""
PLAIN = "subscription { notifications { id message } }"
WITH_TARGET = "subscription { notifications { id target { id } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


async def deliveries(tenant: TestOrg, who: str, count: int) -> None:
    """Wait until ``count`` hub subscriptions of ``who`` are live."""
    from fiche.notifications import user_topic

    topic = user_topic(tenant.organization_id, tenant.users[who].id)
    for _ in range(250):
        listener = hub_of(tenant.state).topics.get(topic)
        if listener is not None and sum(not delivery.busy for delivery in listener.members) == count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{who}'s hub subscriptions never went live")


async def test_one_projection_runs_per_group_of_identical_selections(org: TestOrg, server: str) -> None:
    hub = hub_of(org.state)
    async with open_socket(server) as first, open_socket(server) as second, open_socket(server) as third:
        # given: three users subscribed with one selection, a fourth socket with another
        for socket, who in ((first, "member"), (second, "member2"), (third, "manager")):
            await connect_as(socket, org, who)
            await socket.subscribe("live", PLAIN)
        await third.subscribe("shaped", SHAPED, {"withLink": True})
        for who, count in (("member", 1), ("member2", 1), ("manager", 2)):
            await deliveries(org, who, count)
        projections, projected = hub.projections, hub.projected
        # when: one write notifies the three of them
        await notify(org, "member", "member2", "manager")
        results = [await socket.next("live") for socket in (first, second, third)]
        shaped = await third.next("shaped")
        # then: one projection per selection, over every record of its group
        assert (hub.projections - projections, hub.projected - projected) == (2, 4)
        assert all(result is not None and result["data"]["notifications"]["message"] for result in results)
        assert shaped is not None and shaped["data"]["inbox"]["__typename"] == "Notification"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_two_sockets_of_one_user_get_each_their_own_shape_exactly_as_graphql_answers_it(org: TestOrg, server: str, protocol: str) -> None:
    hub = hub_of(org.state)
    async with open_socket(server, protocol=protocol) as reference, open_socket(server, protocol=protocol) as plain, open_socket(server, protocol=protocol) as shaped:
        # given: the same user subscribed three times, the first one through Strawberry's
        # own execution (the hub turned off while it starts)
        for socket in (reference, plain, shaped):
            await connect_as(socket, org, "member")
        hub.enabled = False
        try:
            await reference.subscribe("ref", SHAPED, {"withLink": True})
            await listening(org, "member")
        finally:
            hub.enabled = True
        await plain.subscribe("plain", PLAIN)
        await shaped.subscribe("shaped", SHAPED, {"withLink": True})
        await deliveries(org, "member", 2)
        # when
        await notify(org, "member")
        # then: each socket gets its own selection, and the hub's answer is GraphQL's
        expected = await reference.next("ref")
        got_plain = await plain.next("plain")
        got_shaped = await shaped.next("shaped")
    assert got_shaped == expected
    assert expected is not None and list(expected["data"]["inbox"]) == [
        "__typename", "id", "message", "kind", "nodeId", "link", "read", "readAt", "createdAt", "who",
    ]
    assert expected["data"]["inbox"]["who"]["handle"] == "admin"
    assert got_plain == {"data": {"notifications": {key: expected["data"]["inbox"][key] for key in ("id", "message")}}}


async def test_a_selection_the_projection_does_not_cover_runs_through_strawberry(org: TestOrg, server: str) -> None:
    hub = hub_of(org.state)
    fallbacks = hub.fallbacks
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", WITH_TARGET)
        await listening(org, "member")
        await notify(org, "member")
        result = await socket.next("live")
    assert result is not None and set(result["data"]["notifications"]) == {"id", "target"}
    assert hub.fallbacks == fallbacks + 1


async def test_replay_with_after_then_live_is_exact_through_the_hub(org: TestOrg, server: str) -> None:
    # given: three notifications, the client saw the first one
    for _ in range(3):
        await notify(org, "member")
    ids = [node["id"] for node in reversed((await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"])]
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        # when: it subscribes after the first, then a fourth one commits
        await socket.subscribe("live", SUBSCRIBE, {"after": ids[0]})
        replayed = await socket.results("live", 2)
        await deliveries(org, "member", 1)
        await notify(org, "member")
        live = await socket.next("live")
        assert await socket.nothing_more("live")
    # then
    every = [node["id"] for node in reversed((await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"])]
    assert [result["data"]["notifications"]["id"] for result in [*replayed, live]] == every[1:]  # type: ignore[index]


def _delivery(tenant: TestOrg, who: str, frames: list[bytes], gate: asyncio.Event | None = None, *, writes: bool = False) -> Delivery:
    """A hub subscription whose socket takes no frame until ``gate`` is set: its writes
    wait (``writes=False``: every frame through the coroutine) or are refused while the
    transport is full (``writes=True``: the lean layer's synchronous write)."""
    projection = compile_plan(tenant.schema, tenant.state.settings, PLAIN, None).projection({})  # type: ignore[union-attr]
    assert projection is not None
    viewer = tenant.viewer(who)

    async def send(frame: bytes) -> None:
        if gate is not None:
            await gate.wait()
        frames.append(frame)

    def write(frame: bytes) -> bool:
        if gate is not None and not gate.is_set():
            return False
        frames.append(frame)
        return True

    return Delivery(ConnectionContext(tenant.state, viewer=viewer), viewer, projection, b'{"payload":{"data":', send, None, 0, write if writes else None)


def _ids(frames: list[bytes]) -> list[str]:
    import json

    return [json.loads(frame)["payload"]["data"]["notifications"]["id"] for frame in frames]


@pytest.mark.parametrize("writes", [False, True], ids=["send", "write"])
async def test_a_slow_socket_delays_no_other_and_gets_everything_once_in_order(org: TestOrg, monkeypatch: pytest.MonkeyPatch, writes: bool) -> None:
    monkeypatch.setattr(hub_module, "OUTBOX_SIZE", 2)
    await org.state.broker.connect()
    hub = hub_of(org.state)
    gate = asyncio.Event()
    slow_frames: list[bytes] = []
    fast_frames: list[bytes] = []
    # given: one user's two subscriptions, one whose socket does not take its frames
    slow = _delivery(org, "member", slow_frames, gate, writes=writes)
    fast = _delivery(org, "member", fast_frames, writes=writes)
    await hub.add(slow)
    await hub.add(fast)
    try:
        # when: five notifications commit (more than the slow one's outbox holds)
        for count in range(1, 6):
            await notify(org, "member")
            for _ in range(250):
                if len(fast_frames) == count:
                    break
                await asyncio.sleep(0.02)
        # then: the other one got each at once, while the slow one got none yet
        assert len(fast_frames) == 5
        assert slow_frames == []
        # and once the slow socket drains, it gets every one, once, in order (caught up
        # from the inbox for what its outbox could not hold)
        catch_ups = hub.catch_ups
        gate.set()
        for _ in range(250):
            if len(slow_frames) == 5 and not slow.busy:
                break
            await asyncio.sleep(0.02)
        expected = [node["id"] for node in reversed((await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"])]
        assert _ids(fast_frames) == expected
        assert _ids(slow_frames) == expected
        assert hub.catch_ups > catch_ups
    finally:
        await hub.remove(slow)
        await hub.remove(fast)
    assert not hub.topics


async def test_subscriptions_starting_together_read_the_inbox_in_one_statement_each_step(org: TestOrg) -> None:
    # given: two users with notifications, three without
    await notify(org, "member")
    await notify(org, "member", "member2")
    hub = hub_of(org.state)
    everyone = ("member", "member2", "manager", "technician", "admin")
    viewers = [org.viewer(who) for who in everyone]
    # when: their subscriptions start at the same moment
    with count_statements(org.state.db) as latest_reads:
        latest = await asyncio.gather(*(hub.latest_seq(viewer) for viewer in viewers))
    reads = hub._reads(org.organization_id)
    with count_statements(org.state.db) as first_reads:
        firsts = await asyncio.gather(*(reads.after.load((viewer.user_id, 0)) for viewer in viewers))
    # then: one statement for their latest numbers, one for their first catch-up
    assert (latest_reads.count, first_reads.count) == (1, 1)
    assert latest == [2, 1, 0, 0, 0]
    assert [[record.seq for record in records] for records, _complete in firsts] == [[1, 2], [1], [], [], []]
    assert all(complete for _records, complete in firsts)
    assert {record.recipient_id for records, _complete in firsts for record in records} == {org.users["member"].id, org.users["member2"].id}


async def test_the_batched_start_reads_never_see_another_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # given: a user of another organisation with notifications
    await notify(other_org, "member")
    stranger = other_org.users["member"].id
    reads = hub_of(org.state)._reads(org.organization_id)
    # when: this organisation's reads are asked about them
    latest, (records, _complete) = await asyncio.gather(reads.latest.load(stranger), reads.after.load((stranger, 0)))
    # then
    assert (latest, records) == (0, [])


async def test_a_subscription_from_the_latest_starts_with_one_statement_and_gets_only_what_follows(org: TestOrg) -> None:
    # given: a user with two notifications already
    await org.state.broker.connect()
    await notify(org, "member")
    await notify(org, "member")
    hub = hub_of(org.state)
    frames: list[str] = []
    delivery = _delivery(org, "member", frames)
    # when: their subscription starts after the latest one (no `after`)
    with count_statements(org.state.db) as start:
        await hub.add(delivery, from_latest=True)
    try:
        # then: the latest number is read once the topic listens, and nothing is caught up
        assert start.count == 1
        assert (delivery.last, delivery.busy, frames) == (2, False, [])
        # and what commits next arrives live
        await notify(org, "member")
        for _ in range(250):
            if frames:
                break
            await asyncio.sleep(0.02)
        expected = [node["id"] for node in (await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"]][:1]
        assert _ids(frames) == expected
    finally:
        await hub.remove(delivery)


async def test_a_notification_heard_while_the_latest_number_is_read_is_caught_up_once(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a notification that commits (and is published) while the start reads the user's
    # latest number, but after that read's snapshot (the read answers the number before it)
    await org.state.broker.connect()
    await notify(org, "member")
    hub = hub_of(org.state)
    reads = hub._reads(org.organization_id)
    read_latest = reads._latest

    async def latest_then_a_commit(user_ids: list[int]) -> list[int]:
        numbers = await read_latest(user_ids)
        await notify(org, "member")
        return numbers

    monkeypatch.setattr(reads.latest, "batch_load_fn", latest_then_a_commit)
    frames: list[str] = []
    delivery = _delivery(org, "member", frames)
    # when
    await hub.add(delivery, from_latest=True)
    try:
        for _ in range(250):
            if frames and not delivery.busy:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        # then: the start saw a message arrive, caught up from the inbox, and got it once
        newest = (await org.ok(INBOX_IDS, as_="member"))["notifications"]["nodes"][0]["id"]
        assert _ids(frames) == [newest]
        assert delivery.last == 2
    finally:
        await hub.remove(delivery)
