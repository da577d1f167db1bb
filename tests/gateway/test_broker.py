"""The broker (G10), on memory and on Redis: fan-out, topic and namespace isolation,
clean-up when a subscriber leaves, and ``lost`` when messages were dropped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as redis

from fiche import broker as broker_module
from fiche.broker import Broker, MemoryBroker, RedisBroker, Subscription, broker_from_url
from tests.support import REDIS_URL
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)

TIMEOUT = 5
REDIS_ONLY = pytest.mark.parametrize("broker_kind", ["redis"], indirect=True)


@pytest.fixture
def namespace() -> str:
    return f"fiche-test-{uuid.uuid4().hex[:8]}"


BrokerFactory = Callable[[str], Awaitable[Broker]]


@pytest.fixture
async def make_broker(broker_url: str) -> AsyncIterator[BrokerFactory]:
    """Connected brokers on ``broker_url`` (one per gateway instance), disconnected at the end."""
    made: list[Broker] = []

    async def make(namespace: str) -> Broker:
        instance = broker_from_url(broker_url, namespace)
        await instance.connect()
        made.append(instance)
        return instance

    yield make
    for instance in made:
        await instance.disconnect()


@pytest.fixture
async def broker(make_broker: BrokerFactory, namespace: str) -> Broker:
    return await make_broker(namespace)


async def receive(subscription: Subscription) -> Any:
    return await asyncio.wait_for(subscription.get(), timeout=TIMEOUT)


async def nothing_arrives(subscription: Subscription, wait: float = 0.2) -> bool:
    try:
        await asyncio.wait_for(subscription.get(), timeout=wait)
    except TimeoutError:
        return True
    return False


# ------------------------------------------------------------------ choosing a broker


@pytest.mark.parametrize(
    ("url", "kind"),
    [("memory://", MemoryBroker), ("redis://127.0.0.1:6379/0", RedisBroker), ("rediss://example.test:6380/0", RedisBroker)],
)
def test_broker_is_chosen_by_url_scheme(url: str, kind: type) -> None:
    # when / then
    assert isinstance(broker_from_url(url), kind)


def test_unknown_broker_scheme_is_refused() -> None:
    # when / then
    with pytest.raises(ValueError, match="kafka"):
        broker_from_url("kafka://somewhere")


# ------------------------------------------------------------------ delivery


async def test_every_subscriber_of_a_topic_receives_a_message(broker: Broker) -> None:
    # given
    async with broker.subscribe("topic") as first, broker.subscribe("topic") as second:
        # when
        await broker.publish("topic", {"n": 1})
        # then
        assert await receive(first) == {"n": 1}
        assert await receive(second) == {"n": 1}


async def test_messages_arrive_in_publication_order(broker: Broker) -> None:
    # given
    async with broker.subscribe("topic") as subscription:
        # when
        for number in range(5):
            await broker.publish("topic", number)
        # then
        assert [await receive(subscription) for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_a_message_published_right_after_subscribing_is_received(broker: Broker) -> None:
    # given
    async with broker.subscribe("fresh") as subscription:
        # when: no pause between subscribing and publishing
        await broker.publish("fresh", "hello")
        # then
        assert await receive(subscription) == "hello"


async def test_subscriber_receives_only_its_topic(broker: Broker) -> None:
    # given
    async with broker.subscribe("mine") as mine:
        # when
        await broker.publish("theirs", {"secret": True})
        await broker.publish("mine", {"secret": False})
        # then
        assert await receive(mine) == {"secret": False}
        assert await nothing_arrives(mine)


async def test_messages_are_json_shaped_on_every_broker(broker: Broker) -> None:
    # given
    async with broker.subscribe("shapes") as subscription:
        # when
        await broker.publish("shapes", {"tuple": (1, 2), "nested": {"none": None}})
        # then
        assert await receive(subscription) == {"tuple": [1, 2], "nested": {"none": None}}


async def test_subscriber_leaving_does_not_disturb_the_others(broker: Broker) -> None:
    # given
    async with broker.subscribe("topic") as staying:
        async with broker.subscribe("topic"):
            pass
        # when
        await broker.publish("topic", "still here")
        # then
        assert await receive(staying) == "still here"


async def test_leaving_subscriber_is_unregistered(broker: Broker) -> None:
    # given
    async with broker.subscribe("topic"):
        assert "topic" in broker._local.subscriptions  # type: ignore[attr-defined]
    # when
    await broker.publish("topic", "nobody listens")
    # then
    assert "topic" not in broker._local.subscriptions  # type: ignore[attr-defined]


async def test_brokers_of_other_namespaces_do_not_see_each_other(make_broker: BrokerFactory) -> None:
    # given: two deployments sharing one Redis (or one process)
    ours = await make_broker(f"ours-{uuid.uuid4().hex[:6]}")
    theirs = await make_broker(f"theirs-{uuid.uuid4().hex[:6]}")
    async with ours.subscribe("topic") as subscription:
        # when
        await theirs.publish("topic", "theirs")
        await ours.publish("topic", "ours")
        # then
        assert await receive(subscription) == "ours"
        assert await nothing_arrives(subscription)


async def test_overflow_marks_the_subscription_lost(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a consumer that does not keep up
    monkeypatch.setattr(broker_module, "QUEUE_SIZE", 3)
    async with broker.subscribe("busy") as subscription:
        # when
        for number in range(10):
            await broker.publish("busy", number)
        # then
        for _ in range(100):
            if subscription.lost:
                break
            await asyncio.sleep(0.02)
        assert subscription.lost


async def test_drained_consumer_is_woken_with_none_after_an_overflow(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr(broker_module, "QUEUE_SIZE", 3)
    async with broker.subscribe("busy") as subscription:
        for number in range(10):
            await broker.publish("busy", number)
        # when: it reads whatever is queued
        received = [await receive(subscription) for _ in range(3)]
        while received[-1] is not None:
            received.append(await receive(subscription))
        # then: it learns it must resynchronise, and got no more than the queue could hold
        assert received[-1] is None
        assert subscription.lost
        assert len(received) <= 4


# ------------------------------------------------------------------ Redis across instances


@REDIS_ONLY
async def test_redis_delivers_across_gateway_instances(make_broker: BrokerFactory, namespace: str) -> None:
    # given: two gateway processes behind a load balancer
    publisher = await make_broker(namespace)
    listener = await make_broker(namespace)
    async with listener.subscribe("topic") as subscription:
        # when
        await publisher.publish("topic", {"from": "the other instance"})
        # then
        assert await receive(subscription) == {"from": "the other instance"}


@REDIS_ONLY
async def test_redis_unsubscribes_the_channel_when_the_last_subscriber_leaves(broker: Broker, namespace: str) -> None:
    # given
    observer = redis.Redis.from_url(REDIS_URL)
    channel = f"{namespace}:topic"
    try:
        async with broker.subscribe("topic"), broker.subscribe("topic"):
            during = dict(await observer.pubsub_numsub(channel))
        # when: both left
        after = dict(await observer.pubsub_numsub(channel))
    finally:
        await observer.aclose()
    # then
    assert during[channel.encode()] == 1  # one Pub/Sub connection per process, however many subscribers
    assert after[channel.encode()] == 0


@REDIS_ONLY
async def test_redis_connection_loss_marks_subscriptions_lost(broker: Broker) -> None:
    # given
    assert isinstance(broker, RedisBroker)
    async with broker.subscribe("topic") as subscription:
        # when: the Pub/Sub connection drops under the reader
        await broker._pubsub.connection.disconnect()
        # then
        assert await receive(subscription) is None
        assert subscription.lost


@REDIS_ONLY
async def test_redis_subscription_goes_on_after_a_connection_loss(broker: Broker) -> None:
    # given
    assert isinstance(broker, RedisBroker)
    async with broker.subscribe("topic") as subscription:
        await broker._pubsub.connection.disconnect()
        assert await receive(subscription) is None
        subscription.lost = False  # the consumer resynchronised
        # when: the reader reconnected (and resubscribed) by itself
        received: list[Any] = []
        for _ in range(50):
            await broker.publish("topic", "after the outage")
            try:
                received.append(await asyncio.wait_for(subscription.get(), timeout=0.2))
            except TimeoutError:
                continue
            if received[-1] is not None:
                break
        # then: once subscribed again it is told to resynchronise (what was published
        # before that is lost), then gets what is published
        assert received == [None, "after the outage"]


async def test_publish_many_delivers_every_message_in_order_to_its_topic(broker: Broker) -> None:
    # given
    async with broker.subscribe("ann") as ann, broker.subscribe("bob") as bob:
        # when
        await broker.publish_many([("ann", {"n": 1}), ("bob", {"n": 2}), ("ann", {"n": 3})])
        # then
        assert [await asyncio.wait_for(ann.get(), 2), await asyncio.wait_for(ann.get(), 2)] == [{"n": 1}, {"n": 3}]
        assert await asyncio.wait_for(bob.get(), 2) == {"n": 2}
        assert ann.queue.empty() and bob.queue.empty()
