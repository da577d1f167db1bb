"""Limits of live delivery (issue 15, item 4), on the memory broker and on Redis: a cap on a
user's subscriptions over all their sockets and every gateway instance, with a coded error;
and a slow consumer that never delays the others and still gets everything, in order, from
the inbox once it reads again."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import pytest

from fiche import broker as broker_module
from fiche.broker import RedisBroker, broker_from_url
from fiche.context import ConnectionContext
from fiche.notifications import user_topic
from fiche.notifications.hub import hub_of
from fiche.settings import Settings
from tests.gateway.conftest import PROBE
from tests.gateway.test_notifications_live import SUBSCRIBE, connect_as, notify
from tests.gateway.ws_client import open_socket
from tests.support import REDIS_URL, TestOrg
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)

LIMIT = 3
REDIS_ONLY = pytest.mark.parametrize("broker_kind", ["redis"], indirect=True)


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, max_subscriptions_per_user=LIMIT)


def codes(result: dict[str, Any] | None) -> list[str | None]:
    assert result is not None
    return [(error.get("extensions") or {}).get("code") for error in result.get("errors") or []]


async def slots_held(tenant: TestOrg, who: str) -> int:
    """How many subscription slots ``who`` holds, as the broker counts them."""
    broker: Any = tenant.state.broker
    key = f"subscriptions:{tenant.organization_id}:{tenant.users[who].id}"
    if isinstance(broker, RedisBroker):
        return int(await broker._redis.zcard(broker._channel(f"slots:{key}")))
    return len(broker._slots.get(key, ()))


async def holding(tenant: TestOrg, who: str, count: int) -> None:
    """Wait until ``who`` holds exactly ``count`` slots (subscriptions start and end in tasks)."""
    for _ in range(250):
        if await slots_held(tenant, who) == count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{who} holds {await slots_held(tenant, who)} slots, not {count}")


def subscriptions_of(tenant: TestOrg, topic: str) -> int:
    """Subscriptions of ``topic`` in this process: delivered by the hub, or each with its own
    broker subscription (the per-socket path)."""
    hub = hub_of(tenant.state)
    listener = hub.topics.get(topic)
    delivered = sum(not delivery.busy for delivery in listener.members) if listener is not None else 0
    own = sum(not isinstance(member, type(listener)) for member in tenant.state.broker._local.subscriptions.get(topic, ()))  # type: ignore[attr-defined]
    return delivered + own


async def subscribed(tenant: TestOrg, who: str, count: int) -> None:
    """Wait until ``count`` subscriptions of ``who`` listen to the broker in this process."""
    topic = user_topic(tenant.organization_id, tenant.users[who].id)
    for _ in range(250):
        if subscriptions_of(tenant, topic) == count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{who}'s subscriptions never reached the broker")


async def test_a_user_past_the_cap_over_several_sockets_gets_a_coded_error(org: TestOrg, server: str) -> None:
    async with open_socket(server) as first, open_socket(server) as second, open_socket(server) as other:
        await connect_as(first, org, "member")
        await connect_as(second, org, "member")
        await connect_as(other, org, "member2")
        # given: the member's three subscriptions, over two sockets
        await first.subscribe("a", SUBSCRIBE)
        await first.subscribe("b", SUBSCRIBE)
        await second.subscribe("c", SUBSCRIBE)
        await holding(org, "member", LIMIT)
        await subscribed(org, "member", LIMIT)
        # when: a fourth one
        await second.subscribe("d", SUBSCRIBE)
        refused = await second.next("d")
        # then: refused with its code, and the socket goes on
        assert codes(refused) == ["TOO_MANY_SUBSCRIPTIONS"]
        assert "3 subscriptions" in refused["errors"][0]["message"]  # type: ignore[index]
        # ... another user is not concerned
        await other.subscribe("e", SUBSCRIBE)
        await subscribed(org, "member2", 1)
        await notify(org, "member", "member2")
        assert codes(await other.next("e")) == []
        for socket, operation in ((first, "a"), (first, "b"), (second, "c")):
            assert codes(await socket.next(operation)) == []
        # when: one of the three completes, a new one is accepted
        await first.stop("a")
        await holding(org, "member", LIMIT - 1)
        await second.subscribe("f", SUBSCRIBE)
        await subscribed(org, "member", LIMIT)
        await notify(org, "member")
        # then: it is live
        assert codes(await second.next("f")) == []


async def test_closing_a_socket_gives_its_subscriptions_slots_back(org: TestOrg, server: str) -> None:
    # given: a socket holding all the member's slots, then closed
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        for index in range(LIMIT):
            await socket.subscribe(f"s{index}", SUBSCRIBE)
        await holding(org, "member", LIMIT)
    # when
    await holding(org, "member", 0)
    # then: a new socket gets as many again, and no more
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        for index in range(LIMIT):
            await socket.subscribe(f"again{index}", SUBSCRIBE)
        await holding(org, "member", LIMIT)
        await socket.subscribe("one-more", SUBSCRIBE)
        assert codes(await socket.next("one-more")) == ["TOO_MANY_SUBSCRIPTIONS"]
        await subscribed(org, "member", LIMIT)
        await notify(org, "member")
        for index in range(LIMIT):
            assert codes(await socket.next(f"again{index}")) == []


@REDIS_ONLY
async def test_the_cap_counts_every_instance_and_a_dead_instances_slots_end_with_their_lease(broker_url: str) -> None:
    namespace = f"fiche-test-{uuid.uuid4().hex[:8]}"
    one, two = broker_from_url(REDIS_URL, namespace), broker_from_url(REDIS_URL, namespace)
    assert isinstance(one, RedisBroker) and isinstance(two, RedisBroker)
    one.lease_seconds = two.lease_seconds = 1.0
    try:
        # given: two slots taken on one instance
        assert await one.acquire("user", 3) and await one.acquire("user", 3)
        # when / then: the other instance gets the third and no fourth
        third = await two.acquire("user", 3)
        assert third is not None
        assert await two.acquire("user", 3) is None
        # slots held by a live instance outlast their lease: it renews them
        await asyncio.sleep(1.6)
        assert await two.acquire("user", 3) is None
        # given back: taken again
        await two.release("user", third)
        assert await two.acquire("user", 3) is not None
        # when: the first instance dies without giving its slots back
        assert one._renewer is not None
        one._renewer.cancel()
        await asyncio.sleep(1.3)
        # then: their leases ended
        assert await two.acquire("user", 3) is not None
    finally:
        await one.disconnect()
        await two.disconnect()


async def test_a_burst_of_slots_is_counted_whole_past_the_redis_pool(broker_url: str, caplog: pytest.LogCaptureFixture) -> None:
    # given: more sockets starting at once than Redis's connection pool holds (100)
    namespace = f"fiche-test-{uuid.uuid4().hex[:8]}"
    broker = broker_from_url(REDIS_URL, namespace)
    assert isinstance(broker, RedisBroker)
    try:
        # when: 150 subscriptions of one user and one of each of 150 others ask for a slot together
        crowd = [broker.acquire("crowded", 3) for _ in range(150)]
        others = [broker.acquire(f"user-{index}", 3) for index in range(150)]
        taken = await asyncio.gather(*crowd, *others)
        # then: the cap held (nothing was let through unchecked), everyone else got one
        assert sum(token is not None for token in taken[:150]) == 3
        assert all(token is not None for token in taken[150:])
        assert "could not count" not in caplog.text
        # and given back together, every slot is free again
        held = [(f"user-{index}", token) for index, token in enumerate(taken[150:])]
        await asyncio.gather(*(broker.release(key, token) for key, token in held if token is not None))
        assert "could not release" not in caplog.text
        assert all([await broker.acquire(f"user-{index}", 1) for index in range(5)])
    finally:
        await broker.disconnect()


async def test_a_slow_consumer_delays_no_one_and_catches_up_in_order(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: tiny queues, and two subscriptions of the member: one read, one left unread
    monkeypatch.setattr(broker_module, "QUEUE_SIZE", 3)
    fast = await org.schema.subscribe(SUBSCRIBE, context_value=ConnectionContext(org.state, viewer=org.viewer("member")))
    slow = await org.schema.subscribe(SUBSCRIBE, context_value=ConnectionContext(org.state, viewer=org.viewer("member")))
    try:
        fast_first = asyncio.ensure_future(anext(fast))  # type: ignore[arg-type]
        slow_first = asyncio.ensure_future(anext(slow))  # type: ignore[arg-type]
        await subscribed(org, "member", 2)
        # when: ten notifications, far more than a queue holds
        await notify(org, "member")
        first = await asyncio.wait_for(fast_first, 5)
        slow_event = await asyncio.wait_for(slow_first, 5)  # the slow one takes one, then stops reading
        for _ in range(9):
            await notify(org, "member")
        # then: the fast one gets every one at once, unaffected by the unread queue
        fast_ids = [first.data["notifications"]["id"]] + [
            (await asyncio.wait_for(anext(fast), 5)).data["notifications"]["id"] for _ in range(9)  # type: ignore[arg-type]
        ]
        # ... and the slow one, reading again, gets the nine others exactly once, in order
        slow_ids = [slow_event.data["notifications"]["id"]] + [
            (await asyncio.wait_for(anext(slow), 5)).data["notifications"]["id"] for _ in range(9)  # type: ignore[arg-type]
        ]
        inbox = await org.ok("{ notifications(first: 20) { nodes { id } } }", as_="member")
        expected = [node["id"] for node in reversed(inbox["notifications"]["nodes"])]
        assert fast_ids == expected
        assert slow_ids == expected
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(slow), 0.3)  # type: ignore[arg-type]
    finally:
        await fast.aclose()  # type: ignore[union-attr]
        await slow.aclose()  # type: ignore[union-attr]
