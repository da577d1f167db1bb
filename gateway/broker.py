"""Publish / subscribe between gateway processes, chosen by URL scheme.

``memory://`` serves one process. ``redis://`` lets several gateway instances behind a load
balancer share events: each process keeps ONE Redis Pub/Sub connection and fans messages
out to local queues. ``publish_many`` (a note to ten thousand followers) is ONE Redis
message, on a channel every process listens to, whatever the number of topics: the fields
all its messages share travel once, and each process delivers to its own subscribers. A subscriber's queue is bounded; when it overflows, or when the Redis
connection drops, the subscription is marked ``lost`` so the consumer can resynchronise
from the database (the notification inbox is the truth, the broker only a doorbell).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import orjson
from aiodataloader import DataLoader

__all__ = ["Broker", "Listener", "MemoryBroker", "RedisBroker", "Subscription", "broker_from_url"]

log = logging.getLogger("fiche.broker")
QUEUE_SIZE = 1000
MANY = "_many"  # the topic of ``publish_many`` messages


def _packed(messages: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """``publish_many``'s messages as one: ``shared`` holds the fields every message has
    with the same value (a note's text, sent to ten thousand followers, travels once),
    ``parts`` each ``[topic, its other fields]``. Messages that are not all objects travel whole."""
    bodies = [message for _topic, message in messages]
    shared: dict[str, Any] = {}
    if bodies and all(isinstance(body, dict) for body in bodies):
        first = bodies[0]
        shared = {key: value for key, value in first.items() if all(key in body and body[key] == value and type(body[key]) is type(value) for body in bodies[1:])}
    if shared:
        parts = [[topic, {key: value for key, value in message.items() if key not in shared}] for topic, message in messages]
    else:
        parts = [[topic, message] for topic, message in messages]
    return {"shared": shared, "parts": parts}


def _forget_slot(held: dict[str, set[str]], key: str, token: str) -> None:
    """Drop ``token`` from the slots held for ``key`` (and ``key`` once none is left)."""
    tokens = held.get(key)
    if tokens is not None:
        tokens.discard(token)
        if not tokens:
            del held[key]


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
        if self.lost:
            return  # the consumer has yet to resynchronise: that covers this loss too
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


class Listener(Protocol):
    """What :meth:`Broker.attach` hands messages to, in the broker's reader: it must not block."""

    topic: str

    def deliver(self, message: Any) -> None: ...
    def mark_lost(self) -> None: ...


class Broker(Protocol):
    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def ping(self) -> None: ...
    async def publish(self, topic: str, message: Any) -> None: ...
    async def publish_many(self, messages: Sequence[tuple[str, Any]]) -> None:
        """Publish each ``(topic, message)``, in order, as one broker message."""

    def subscribe(self, topic: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...

    async def attach(self, listener: Listener) -> None:
        """Hand ``listener`` the messages of its topic, synchronously, from now on: it
        returns once what is published next reaches it (a queue-less :meth:`subscribe`)."""

    async def detach(self, listener: Listener) -> None:
        """Stop handing ``listener`` messages."""

    async def acquire(self, key: str, limit: int) -> str | None:
        """Take one of the ``limit`` slots of ``key`` shared by every process (a user's
        subscriptions): a token to :meth:`release` it with, or None when all are taken.
        A slot of a process that died without releasing it frees itself after a lease."""

    async def release(self, key: str, token: str) -> None:
        """Give back a slot taken with :meth:`acquire`."""


class _LocalFanOut:
    def __init__(self) -> None:
        self.subscriptions: dict[str, set[Listener]] = {}

    def add(self, subscription: Listener) -> bool:
        """Register; True when it is the first local subscriber of its topic."""
        members = self.subscriptions.setdefault(subscription.topic, set())
        members.add(subscription)
        return len(members) == 1

    def remove(self, subscription: Listener) -> bool:
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

    def deliver_many(self, shared: dict[str, Any], parts: Sequence[Any]) -> None:
        """Deliver a ``publish_many`` (see :func:`_packed`) to the local subscribers of its topics."""
        for topic, part in parts:
            if topic in self.subscriptions:
                self.deliver(topic, {**shared, **part} if shared else part)

    def mark_lost(self, topic: str) -> None:
        for subscription in tuple(self.subscriptions.get(topic, ())):
            subscription.mark_lost()

    def mark_all_lost(self) -> None:
        for members in self.subscriptions.values():
            for subscription in members:
                subscription.mark_lost()


class _Subscribing:
    """:meth:`Broker.subscribe` for a broker that has ``attach`` and ``detach``: a
    :class:`Subscription` (a listener with a bounded queue) for the ``async with`` block."""

    async def attach(self, listener: Listener) -> None:
        raise NotImplementedError

    async def detach(self, listener: Listener) -> None:
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(topic)
        await self.attach(subscription)
        try:
            yield subscription
        finally:
            await self.detach(subscription)


class MemoryBroker(_Subscribing):
    """Single-process broker (the default)."""

    def __init__(self) -> None:
        self._local = _LocalFanOut()
        self._slots: dict[str, set[str]] = {}
        self._tokens = itertools.count(1)

    async def connect(self) -> None:
        return None

    async def acquire(self, key: str, limit: int) -> str | None:
        held = self._slots.setdefault(key, set())
        if len(held) >= limit:
            return None
        token = str(next(self._tokens))
        held.add(token)
        return token

    async def release(self, key: str, token: str) -> None:
        _forget_slot(self._slots, key, token)

    async def disconnect(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def publish(self, topic: str, message: Any) -> None:
        # Round-trip through JSON so both brokers hand subscribers the same shapes.
        self._local.deliver(topic, orjson.loads(orjson.dumps(message)))

    async def publish_many(self, messages: Sequence[tuple[str, Any]]) -> None:
        packed = orjson.loads(orjson.dumps(_packed(messages)))
        self._local.deliver_many(packed["shared"], packed["parts"])

    async def attach(self, listener: Listener) -> None:
        self._local.add(listener)

    async def detach(self, listener: Listener) -> None:
        self._local.remove(listener)


# Take a slot of KEYS[1] (a sorted set of tokens scored by the end of their lease, in Redis
# time) when fewer than ARGV[1] leases are alive; ARGV[2] lease seconds, ARGV[3] the token.
_ACQUIRE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
    return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
return 1
"""
# Extend the leases ARGV[2..] of KEYS[1] (those still there) by ARGV[1] seconds.
_RENEW = """
local clock = redis.call('TIME')
local until_ = tonumber(clock[1]) + tonumber(clock[2]) / 1000000 + tonumber(ARGV[1])
for index = 2, #ARGV do
    redis.call('ZADD', KEYS[1], 'XX', until_, ARGV[index])
end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])))
return 1
"""
LEASE_SECONDS = 60.0


class RedisBroker(_Subscribing):
    """Redis Pub/Sub broker: one Pub/Sub connection per process, fanned out locally."""

    def __init__(self, url: str, namespace: str = "fiche") -> None:
        import redis.asyncio as redis

        self.url = url
        self.namespace = namespace
        self._redis = redis.Redis.from_url(url)
        # By its SHA (EVALSHA, loaded on first use): not the script's text with every slot.
        self._acquire = self._redis.register_script(_ACQUIRE)
        # The slots taken and given back at the same moment (a burst of sockets connecting or
        # closing) go to Redis in one pipeline each: one round trip and ONE pooled connection,
        # where a command each took a connection each and, past the pool's 100, failed (and
        # the cap was not counted).
        self._slot_batches: tuple[asyncio.AbstractEventLoop, DataLoader[tuple[str, int, str], int], DataLoader[tuple[str, str], int]] | None = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._local = _LocalFanOut()
        self._lock = asyncio.Lock()
        self._confirmed: dict[str, asyncio.Event] = {}
        self.reconnects = 0  # times the Pub/Sub connection was lost (fiche.metrics reads it)
        self._many_confirmed = False
        # Slots this process holds, by key; renewed by one task while there are any.
        self.lease_seconds = LEASE_SECONDS
        self._held: dict[str, set[str]] = {}
        self._renewer: asyncio.Task[None] | None = None
        self._process = uuid.uuid4().hex[:12]
        self._tokens = itertools.count(1)
        self._releasing: set[asyncio.Future[None]] = set()

    def _channel(self, topic: str) -> str:
        return f"{self.namespace}:{topic}"

    async def connect(self) -> None:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
            # Every process listens to the channel of ``publish_many``; it also keeps the
            # Pub/Sub connection open and listening.
            await self._pubsub.subscribe(self._channel(MANY))
            self._reader = asyncio.create_task(self._read(), name="fiche-redis-reader")

    async def disconnect(self) -> None:
        if self._releasing:
            await asyncio.wait(tuple(self._releasing), timeout=5)
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewer
            self._renewer = None
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
        """One Redis message for them all, to every process (see :func:`_packed`)."""
        if messages:
            await self._redis.publish(self._channel(MANY), orjson.dumps(_packed(messages)))

    def _batches(self) -> tuple[DataLoader[tuple[str, int, str], int], DataLoader[tuple[str, str], int]]:
        loop = asyncio.get_running_loop()
        if self._slot_batches is None or self._slot_batches[0] is not loop:
            self._slot_batches = (loop, DataLoader(self._acquire_many, cache=False), DataLoader(self._release_many, cache=False))
        return self._slot_batches[1], self._slot_batches[2]

    async def _acquire_many(self, wanted: list[tuple[str, int, str]]) -> list[int]:
        """Take slots ``(channel, limit, token)``, in order (two of one key are counted one
        after the other: each script runs alone)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, limit, token in wanted:
                await self._acquire(keys=[channel], args=[limit, self.lease_seconds, token], client=pipe)
            return [int(taken) for taken in await pipe.execute()]

    async def _release_many(self, slots: list[tuple[str, str]]) -> list[int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, token in slots:
                pipe.zrem(channel, token)
            return [int(removed) for removed in await pipe.execute()]

    async def acquire(self, key: str, limit: int) -> str | None:
        token = f"{self._process}:{next(self._tokens)}"
        try:
            taken = await self._batches()[0].load((self._channel(f"slots:{key}"), limit, token))
        except Exception:
            # Redis is away: limits wait for it, subscriptions do not (the inbox is the truth).
            log.warning("could not count %s's slots; allowing this one", key, exc_info=True)
            taken = 1
        if not taken:
            return None
        self._held.setdefault(key, set()).add(token)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew(), name="fiche-redis-slot-renewer")
        return token

    async def release(self, key: str, token: str) -> None:
        _forget_slot(self._held, key, token)
        # Shielded: a subscription is often released while its task is being cancelled (the
        # client went away), and a command cut halfway would leave the slot to its lease.
        task = asyncio.ensure_future(self._release(key, token))
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)
        await asyncio.shield(task)

    async def _release(self, key: str, token: str) -> None:
        try:
            await self._batches()[1].load((self._channel(f"slots:{key}"), token))
        except Exception:
            log.warning("could not release a slot of %s; its lease will end it", key, exc_info=True)

    async def _renew(self) -> None:
        """Extend the leases of the slots held here, a third of a lease before they end."""
        while self._held:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for key, tokens in tuple(self._held.items()):
                        pipe.eval(_RENEW, 1, self._channel(f"slots:{key}"), self.lease_seconds, *tokens)
                    await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("could not renew subscription slots", exc_info=True)

    async def attach(self, listener: Listener) -> None:
        await self.connect()
        channel = self._channel(listener.topic)
        async with self._lock:
            if self._local.add(listener):
                confirmed = self._confirmed[channel] = asyncio.Event()
                await self._pubsub.subscribe(channel)
            else:
                confirmed = self._confirmed.get(channel) or asyncio.Event()
        # Return only once Redis confirmed the subscription: what is published from now on
        # reaches this subscriber, so a replay-then-live consumer cannot miss a message.
        try:
            await asyncio.wait_for(confirmed.wait(), timeout=10)
        except BaseException:
            await self.detach(listener)
            raise

    async def detach(self, listener: Listener) -> None:
        channel = self._channel(listener.topic)
        async with self._lock:
            if self._local.remove(listener):
                self._confirmed.pop(channel, None)
                with contextlib.suppress(Exception):
                    await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        prefix = len(self.namespace) + 1
        many = self._channel(MANY)
        connected = True
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                if connected:
                    # Once per outage: subscribers resynchronise now, and again when Redis
                    # confirms their subscriptions (see ``_subscribed``), not at every retry.
                    log.warning("redis pub/sub connection lost; subscribers will resynchronise", exc_info=True)
                    self._local.mark_all_lost()
                    self.reconnects += 1
                connected = False
                await asyncio.sleep(0.5)
                continue
            connected = True
            if message is None:
                continue
            channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            if message["type"] == "subscribe":
                self._subscribed(channel)
            elif message["type"] == "message":
                try:
                    payload = orjson.loads(message["data"])
                    if channel == many:
                        self._local.deliver_many(payload["shared"], payload["parts"])
                        continue
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    log.warning("dropped a malformed message on %s", channel)
                    continue
                self._local.deliver(channel[prefix:], payload)

    def _subscribed(self, channel: str) -> None:
        """Redis confirmed a subscription: the first one, or the same one again after the
        connection came back (redis-py subscribes again to every channel). Whatever was
        published in between is lost: its subscribers resynchronise, now that what is
        published reaches them again."""
        if channel == self._channel(MANY):
            if self._many_confirmed:
                self._local.mark_all_lost()
            self._many_confirmed = True
            return
        event = self._confirmed.get(channel)
        if event is None:
            return
        if event.is_set():
            self._local.mark_lost(channel[len(self.namespace) + 1 :])
        event.set()


def broker_from_url(url: str, namespace: str = "fiche") -> Broker:
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url, namespace)
    raise ValueError(f"unsupported broker URL {url!r}: use memory:// or redis://")
