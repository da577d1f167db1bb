"""Publish / subscribe between gateway processes, chosen by URL scheme.

``memory://`` serves one process. ``redis://`` lets several gateway instances behind a load
balancer share events: each process keeps ONE Redis Pub/Sub connection and fans messages
out to local queues. A subscriber's queue is bounded; when it overflows, or when the Redis
connection drops, the subscription is marked ``lost`` so the consumer can resynchronise
from the database (the notification inbox is the truth, the broker only a doorbell).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import orjson

__all__ = ["Broker", "MemoryBroker", "RedisBroker", "Subscription", "broker_from_url"]

log = logging.getLogger("fiche.broker")
QUEUE_SIZE = 1000


class Subscription:
    """The local end of a subscription to one topic: an async iterator of messages."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE_SIZE)
        self.lost = False  # messages were dropped: the consumer should resynchronise

    def deliver(self, message: Any) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.mark_lost()

    def mark_lost(self) -> None:
        self.lost = True
        if self.queue.full():
            # Drop the oldest message (it is lost either way) to make room for the wake-up
            # None: otherwise a consumer that drains the full queue would then wait forever.
            self.queue.get_nowait()
        self.queue.put_nowait(None)  # wake the consumer

    async def get(self) -> Any:
        """The next message, or None when messages may have been lost (see ``lost``)."""
        return await self.queue.get()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            yield await self.get()


class Broker(Protocol):
    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def ping(self) -> None: ...
    async def publish(self, topic: str, message: Any) -> None: ...
    async def publish_many(self, messages: Sequence[tuple[str, Any]]) -> None: ...
    def subscribe(self, topic: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...


class _LocalFanOut:
    def __init__(self) -> None:
        self.subscriptions: dict[str, set[Subscription]] = {}

    def add(self, subscription: Subscription) -> bool:
        """Register; True when it is the first local subscriber of its topic."""
        members = self.subscriptions.setdefault(subscription.topic, set())
        members.add(subscription)
        return len(members) == 1

    def remove(self, subscription: Subscription) -> bool:
        """Unregister; True when no local subscriber of its topic is left."""
        members = self.subscriptions.get(subscription.topic)
        if members is None:
            return False
        members.discard(subscription)
        if members:
            return False
        del self.subscriptions[subscription.topic]
        return True

    def deliver(self, topic: str, message: Any) -> None:
        for subscription in tuple(self.subscriptions.get(topic, ())):
            subscription.deliver(message)

    def mark_all_lost(self) -> None:
        for members in self.subscriptions.values():
            for subscription in members:
                subscription.mark_lost()


class MemoryBroker:
    """Single-process broker (the default)."""

    def __init__(self) -> None:
        self._local = _LocalFanOut()

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def publish(self, topic: str, message: Any) -> None:
        # Round-trip through JSON so both brokers hand subscribers the same shapes.
        self._local.deliver(topic, orjson.loads(orjson.dumps(message)))

    async def publish_many(self, messages: Sequence[tuple[str, Any]]) -> None:
        for topic, message in messages:
            await self.publish(topic, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(topic)
        self._local.add(subscription)
        try:
            yield subscription
        finally:
            self._local.remove(subscription)


class RedisBroker:
    """Redis Pub/Sub broker: one Pub/Sub connection per process, fanned out locally."""

    def __init__(self, url: str, namespace: str = "fiche") -> None:
        import redis.asyncio as redis

        self.url = url
        self.namespace = namespace
        self._redis = redis.Redis.from_url(url)
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._local = _LocalFanOut()
        self._lock = asyncio.Lock()
        self._confirmed: dict[str, asyncio.Event] = {}
        self.reconnects = 0  # times the Pub/Sub connection was lost (fiche.metrics reads it)

    def _channel(self, topic: str) -> str:
        return f"{self.namespace}:{topic}"

    async def connect(self) -> None:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
            # A placeholder subscription keeps the Pub/Sub connection open and listening.
            await self._pubsub.subscribe(self._channel("_"))
            self._reader = asyncio.create_task(self._read(), name="fiche-redis-reader")

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None
        await self._redis.aclose()

    async def ping(self) -> None:
        await self._redis.ping()

    async def publish(self, topic: str, message: Any) -> None:
        await self._redis.publish(self._channel(topic), orjson.dumps(message))

    async def publish_many(self, messages: Sequence[tuple[str, Any]]) -> None:
        """Many messages in one round trip (a note to a thousand followers)."""
        if not messages:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for topic, message in messages:
                pipe.publish(self._channel(topic), orjson.dumps(message))
            await pipe.execute()

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[Subscription]:
        await self.connect()
        subscription = Subscription(topic)
        channel = self._channel(topic)
        async with self._lock:
            if self._local.add(subscription):
                confirmed = self._confirmed[channel] = asyncio.Event()
                await self._pubsub.subscribe(channel)
            else:
                confirmed = self._confirmed.get(channel) or asyncio.Event()
        # Return only once Redis confirmed the subscription: what is published from now on
        # reaches this subscriber, so a replay-then-live consumer cannot miss a message.
        await asyncio.wait_for(confirmed.wait(), timeout=10)
        try:
            yield subscription
        finally:
            async with self._lock:
                if self._local.remove(subscription):
                    self._confirmed.pop(channel, None)
                    with contextlib.suppress(Exception):
                        await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        prefix = len(self.namespace) + 1
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("redis pub/sub connection lost; subscribers will resynchronise", exc_info=True)
                self._local.mark_all_lost()
                self.reconnects += 1
                await asyncio.sleep(0.5)
                continue
            if message is None:
                continue
            channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            if message["type"] == "subscribe":
                event = self._confirmed.get(channel)
                if event is not None:
                    event.set()
            elif message["type"] == "message":
                try:
                    payload = orjson.loads(message["data"])
                except orjson.JSONDecodeError:
                    log.warning("dropped a malformed message on %s", channel)
                    continue
                self._local.deliver(channel[prefix:], payload)


def broker_from_url(url: str, namespace: str = "fiche") -> Broker:
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url, namespace)
    raise ValueError(f"unsupported broker URL {url!r}: use memory:// or redis://")
