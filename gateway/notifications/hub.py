"""The per-process delivery hub of the ``notifications`` subscription.

A subscription the hub takes (one whose selection compiles into a
:class:`~fiche.notifications.projection.Projection`) is a small slotted :class:`Delivery`:
no task, no generator, no queue of its own while it is idle. The hub holds ONE broker
listener per user topic that has local subscriptions. When broker messages arrive, one
worker task takes them all, decides for each subscription what is next (the next number,
a duplicate to skip, a gap to catch up from the inbox), groups the subscriptions by
projection, projects each group's records ONCE (one loader batch for the group's nested
lookups), and writes each socket its own text frame.

The guarantees of the per-socket generator it replaces stay:

- each notification once, in commit order per recipient: ``recipient_seq`` tells the next
  one from a duplicate and from a gap; a gap, lost broker messages, a changed access (the
  inbox read applies the visibility rules again) or an overflowing socket is caught up
  from the inbox, the truth;
- a slow socket never delays the others: a write that would wait (the transport's buffer
  is full) is finished by a task of that socket's own, while its next frames wait in a
  bounded outbox; past the bound they are dropped and caught up from the inbox once the
  socket drains;
- a large fan-out does not hold the process: the frames are written in slices of
  :data:`FANOUT_SLICE`, the event loop running its other work between two.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from aiodataloader import DataLoader
from sqlalchemy import Integer, bindparam, func, select

from fiche import metrics
from fiche.context import ConnectionContext, OperationContext
from fiche.db import bound_keys, keys_parameter, keys_shape, prepared, read_rows
from fiche.errors import is_unavailable
from fiche.notifications import models
from fiche.notifications.schema import REPLAY_BATCH, missed_since
from fiche.notifications.resync import Resync
from fiche.notifications.service import RECORD_COLUMNS, NotificationRecord, record_from_row, user_topic
from fiche.notifications.visibility import shown

if TYPE_CHECKING:
    from fiche.auth import Viewer
    from fiche.context import AppState
    from fiche.notifications.projection import Projection

__all__ = ["Delivery", "Hub", "hub_of"]

log = logging.getLogger("fiche.notifications.hub")
OUTBOX_SIZE = 256  # frames a slow socket may have waiting before it is caught up instead
FANOUT_SLICE = 1000  # frames written before the event loop runs its other work
CATCH_UP_RETRY_SECONDS = 1.0  # a catch-up that found the database away is tried again after


def hub_of(app: AppState) -> Hub:
    """The hub of the process's app state (made on first use)."""
    hub: Hub | None = getattr(app, "_notification_hub", None)
    if hub is None:
        hub = Hub(app)
        app._notification_hub = hub  # type: ignore[attr-defined]
    return hub


class Delivery:
    """One ``notifications`` subscription delivered by the hub."""

    __slots__ = (
        "busy", "closed", "connection", "dirty", "head", "last", "outbox", "projection",
        "queued", "send", "slot", "started", "topic", "viewer", "write",
    )

    def __init__(
        self,
        connection: ConnectionContext,
        viewer: Viewer,
        projection: Projection,
        head: bytes,
        send: Callable[[bytes], Coroutine[Any, Any, None]],
        slot: tuple[str, str] | None,
        last: int,
        write: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.connection = connection
        self.viewer = viewer  # at the start: a different current viewer means access changed
        self.projection = projection
        self.head = head  # the frame up to the data: ``{"id":..,"type":"next","payload":{"data":``
        self.send = send  # writes a message (UTF-8 JSON) as a text frame, waiting if need be
        # Writes a text frame now, or answers False while the transport's buffer is full
        # (the lean layer); None: every write goes through ``send``.
        self.write = write
        self.slot = slot
        self.last = last  # the last number decided on (handed on, or about to be)
        self.queued = last  # the last number sent or in the outbox
        self.topic: _Topic | None = None
        self.busy = False  # a task of its own is writing or catching up
        self.dirty = False  # the inbox holds what it must get next: catch up
        self.closed = False
        self.outbox: collections.deque[tuple[int, bytes]] | None = None
        self.started = 0.0  # perf_counter() once registered (the operation's duration)


class _Topic:
    """The hub's broker listener for one user topic (:class:`fiche.broker.Listener`)."""

    __slots__ = ("attached", "heard", "hub", "members", "topic")

    def __init__(self, hub: Hub, topic: str) -> None:
        self.hub = hub
        self.topic = topic
        self.members: list[Delivery] = []
        self.attached: asyncio.Future[None] | None = None
        self.heard = 0  # broker messages (and losses) so far: a starting subscription's check

    def deliver(self, message: Any) -> None:
        self.heard += 1
        self.hub._arrived(self, message)

    def mark_lost(self) -> None:
        self.heard += 1
        for delivery in self.members:
            self.hub._catch_up(delivery)


class _StartReads:
    """The reads of the subscriptions of one organisation that start at the same moment,
    batched: their latest numbers in ONE statement, their first catch-up in ONE statement
    (a burst of a thousand sockets subscribing costs two statements, not two thousand).

    Both statements are kept from one batch to the next (:func:`fiche.db.prepared`), the
    users one bound parameter: building them cost more Python than running them."""

    def __init__(self, app: AppState, organization_id: int) -> None:
        self.app = app
        self.organization_id = organization_id
        self.loop = asyncio.get_running_loop()
        self.latest: DataLoader[int, int] = DataLoader(self._latest, cache=False)
        self.after: DataLoader[tuple[int, int], tuple[list[NotificationRecord], bool]] = DataLoader(self._after, cache=False)

    async def _latest(self, user_ids: list[int]) -> list[int]:
        users = sorted(set(user_ids))
        async with self.app.db.reader(self.organization_id) as session:
            dialect = session.bind.dialect.name if session.bind is not None else ""
            stmt = prepared(("hub.latest", keys_shape(dialect, users)), lambda: _latest_statement(dialect, users))
            rows: Sequence[Any] = await read_rows(session, stmt, {"users": keys_parameter(dialect, users)})  # (user, latest)
        latest = {recipient_id: int(seq) for recipient_id, seq in rows}
        return [latest.get(user_id, 0) for user_id in user_ids]

    async def _after(self, keys: list[tuple[int, int]]) -> list[tuple[list[NotificationRecord], bool]]:
        """For each ``(user, number)``: the user's next notifications after it (at most a
        replay batch), and whether that is all of them so far."""
        limit = REPLAY_BATCH * len(keys)
        users = sorted({user_id for user_id, _after in keys})
        async with self.app.db.reader(self.organization_id) as session:
            dialect = session.bind.dialect.name if session.bind is not None else ""
            stmt = prepared(("hub.after", keys_shape(dialect, users)), lambda: _after_statement(dialect, users))
            parameters = {"users": keys_parameter(dialect, users), "after": min(after for _user_id, after in keys), "limit": limit}
            rows = await read_rows(session, stmt, parameters)
        complete = len(rows) < limit  # else some user's rows may have been cut: read again
        by_user: dict[int, list[NotificationRecord]] = {}
        for row in rows:
            by_user.setdefault(row.recipient_id, []).append(record_from_row(row))
        answers = []
        for user_id, after in keys:
            records = [record for record in by_user.get(user_id, ()) if record.seq > after][:REPLAY_BATCH]
            answers.append((records, complete and len(records) < REPLAY_BATCH))
        return answers


def _users_clause(dialect: str, users: list[int]) -> Any:
    clause = bound_keys(dialect, models.Notification.recipient_id, users, "users")
    if clause is None:
        raise TypeError("user ids are integers")
    return clause


def _latest_statement(dialect: str, users: list[int]) -> Any:
    notification = models.Notification
    return (
        select(notification.recipient_id, func.max(notification.recipient_seq))
        .where(_users_clause(dialect, users))
        .group_by(notification.recipient_id)
    )


def _after_statement(dialect: str, users: list[int]) -> Any:
    notification = models.Notification
    return (
        select(*RECORD_COLUMNS)
        .where(_users_clause(dialect, users), notification.recipient_seq > bindparam("after", type_=Integer))
        .order_by(notification.recipient_id, notification.recipient_seq)
        .limit(bindparam("limit", type_=Integer))
    )


class Hub:
    """Every hub delivery of one process, by user topic."""

    def __init__(self, app: AppState) -> None:
        self.app = app
        self.enabled = True  # tests turn it off to compare with the per-socket path
        self.topics: dict[str, _Topic] = {}
        self._pending: list[tuple[_Topic, Any]] = []
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._start_reads: dict[int, _StartReads] = {}
        # Catches up what committed but was never published (fiche.notifications.resync).
        self.resync = Resync(self, app.settings.notification_resync_seconds)
        # Counters (tests and diagnostics): projections run, records projected, frames sent,
        # catch-ups from the inbox, subscriptions left to the per-socket path.
        self.projections = 0
        self.projected = 0
        self.frames = 0
        self.catch_ups = 0
        self.fallbacks = 0

    # -- subscriptions ---------------------------------------------------------------------
    def _reads(self, organization_id: int) -> _StartReads:
        reads = self._start_reads.get(organization_id)
        if reads is None or reads.loop is not asyncio.get_running_loop():
            reads = self._start_reads[organization_id] = _StartReads(self.app, organization_id)
        return reads

    async def latest_seq(self, viewer: Viewer) -> int:
        """The number of the user's latest notification (0 for none): where a subscription
        without ``after`` starts (batched with the other subscriptions starting now)."""
        return await self._reads(viewer.organization_id).latest.load(viewer.user_id)

    async def add(self, delivery: Delivery, *, from_latest: bool = False) -> None:
        """Register ``delivery`` and catch it up from the inbox; returns once it is live
        (what commits from now on reaches it, by the broker or by the catch-up).

        ``from_latest``: the subscription starts after the user's latest notification, read
        here once the topic is attached (``delivery.last`` is ignored). Then what commits
        after that read reaches it through the broker, and unless a message came while it
        was read, there is nothing to catch up: one batched statement, not two."""
        viewer = delivery.viewer
        name = user_topic(viewer.organization_id, viewer.user_id)
        topic = self.topics.get(name)
        if topic is None:
            topic = self.topics[name] = _Topic(self, name)
            topic.attached = asyncio.ensure_future(self.app.broker.attach(topic))
        topic.members.append(delivery)
        delivery.topic = topic
        self.resync.ensure_running()
        delivery.started = time.perf_counter()
        metrics.subscription_started(self.app)
        delivery.busy = delivery.dirty = True  # caught up first, live messages meanwhile wait
        try:
            await asyncio.shield(topic.attached)  # type: ignore[arg-type]
            if from_latest:
                heard = topic.heard
                latest = await self._reads(viewer.organization_id).latest.load(viewer.user_id)
                if delivery.closed:
                    return
                delivery.last = delivery.queued = latest
                if topic.heard == heard:
                    # Nothing arrived while the number was read: what committed before the
                    # read is not this subscription's, what commits after arrives live.
                    delivery.busy = delivery.dirty = False
                    return
        except BaseException:
            await self.remove(delivery)
            raise
        await self._drain(delivery, None, 0, first=True)

    async def remove(self, delivery: Delivery) -> None:
        """Forget ``delivery`` (completed, or its socket closed) and give back its slot."""
        if delivery.closed:
            return
        delivery.closed = True
        delivery.outbox = None
        topic = delivery.topic
        if topic is not None:
            # What the operation log's metrics count for a subscription Strawberry runs.
            metrics.subscription_ended(self.app)
            metrics.operation_finished(
                self.app,
                name=delivery.projection.plan.operation_name,
                operation_type="subscription",
                transport="ws",
                outcome="CANCELLED",
                seconds=time.perf_counter() - delivery.started,
                statements=0,
            )
            with contextlib.suppress(ValueError):
                topic.members.remove(delivery)
            if not topic.members and self.topics.get(topic.topic) is topic:
                del self.topics[topic.topic]
                await self._detach(topic)
        if delivery.slot is not None:
            slot, delivery.slot = delivery.slot, None
            await self.app.broker.release(*slot)

    async def _detach(self, topic: _Topic) -> None:
        attached = topic.attached
        if attached is not None:
            with contextlib.suppress(BaseException):
                await attached
        with contextlib.suppress(Exception):
            await self.app.broker.detach(topic)

    # -- live messages ---------------------------------------------------------------------
    def _arrived(self, topic: _Topic, message: Any) -> None:
        """From the broker's reader: keep it for the worker (started if none runs)."""
        self._pending.append((topic, message))
        if self._worker is None:
            self._worker = asyncio.ensure_future(self._work())

    async def _work(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await self._deliver(batch)
                except Exception:
                    log.exception("notification delivery failed; catching its subscriptions up")
                    for topic, _message in batch:
                        for delivery in topic.members:
                            self._catch_up(delivery)
        finally:
            self._worker = None
            if self._pending:
                self._worker = asyncio.ensure_future(self._work())

    async def _deliver(self, batch: list[tuple[_Topic, Any]]) -> None:
        # Decide, in arrival order, what each subscription gets; group them by projection
        # (and organisation, for the lookups of nested fields).
        chosen: list[tuple[Delivery, NotificationRecord, dict[int, bytes]]] = []
        groups: dict[Any, tuple[Projection, Viewer, dict[int, NotificationRecord], dict[int, bytes]]] = {}
        catch_up = self._catch_up
        for topic, message in batch:
            members = topic.members
            if not members:
                continue
            try:
                record = NotificationRecord.from_message(message)
            except (KeyError, TypeError, ValueError):
                log.warning("dropped a malformed notification message on %s", topic.topic)
                continue
            seq = record.seq
            for delivery in members:
                if delivery.dirty or delivery.closed:
                    continue  # its catch-up reads the inbox, this one included
                viewer = delivery.connection.viewer
                if viewer is None:
                    continue  # the socket is being closed (4403): its user lost access
                last = delivery.last
                if seq <= last:
                    continue  # already delivered (caught up from the inbox, or sent twice)
                if seq > last + 1 or (viewer is not delivery.viewer and viewer != delivery.viewer):
                    # A gap (the inbox holds the missing ones, this one included), or the
                    # socket's access changed: the inbox read applies visibility again.
                    catch_up(delivery)
                    continue
                delivery.last = seq
                projection = delivery.projection
                key = (projection, viewer.organization_id) if projection.needs_actor else projection
                group = groups.get(key)
                if group is None:
                    group = groups[key] = (projection, viewer, {}, {})
                group[2][id(record)] = record
                chosen.append((delivery, record, group[3]))
        if not chosen:
            return
        for projection, viewer, records, answers in groups.values():
            ordered = list(records.values())
            for record, answer in zip(ordered, await self._project(projection, viewer, ordered), strict=True):
                answers[id(record)] = answer
        # Written in slices, the loop's other work (the note's own response, other
        # sockets) running in between; the metrics count them once per event and slice.
        offer = self._offer
        for start in range(0, len(chosen), FANOUT_SLICE):
            if start:
                await asyncio.sleep(0)
            sent: dict[dt.datetime, int] = {}
            for delivery, record, answers in chosen[start : start + FANOUT_SLICE]:
                if offer(delivery, record.seq, delivery.head + answers[id(record)] + b"}}"):
                    created_at = record.created_at
                    sent[created_at] = sent.get(created_at, 0) + 1
            for created_at, count in sent.items():
                metrics.notifications_delivered(self.app, created_at, count)

    async def _project(self, projection: Projection, viewer: Viewer | None, records: list[NotificationRecord]) -> list[bytes]:
        """Each record's ``data`` as JSON: ONE projection over them all."""
        self.projections += 1
        self.projected += len(records)
        context = OperationContext(ConnectionContext(self.app, viewer=viewer))
        try:
            return await projection.serialize(context, records)
        finally:
            await context.close()

    # -- writing ---------------------------------------------------------------------------
    def _offer(self, delivery: Delivery, seq: int, frame: bytes) -> bool:
        """Hand ``frame`` (the message of number ``seq``) to the socket, in order, without
        waiting; True when it is handed on (written, or waiting in the outbox)."""
        if delivery.closed or delivery.dirty:
            return False
        queued = delivery.queued
        if seq <= queued:
            return False
        if seq > queued + 1:
            self._catch_up(delivery)
            return False
        if delivery.busy:
            outbox = delivery.outbox
            assert outbox is not None
            if len(outbox) >= OUTBOX_SIZE:
                # Too slow: drop what waits, catch up from the inbox once it has drained.
                delivery.last = delivery.queued = outbox[0][0] - 1  # the last one written
                outbox.clear()
                delivery.dirty = True
                return False
            outbox.append((seq, frame))
            delivery.queued = seq
            return True
        write = delivery.write
        if write is not None:
            # The socket writes synchronously: a frame now, or False while its transport's
            # buffer is full (then a task of its own sends it once the buffer drains).
            try:
                written = write(frame)
            except Exception:
                self._spawn(self.remove(delivery))  # the socket is gone
                return False
            delivery.queued = seq
            if written:
                self.frames += 1
                return True
            delivery.busy = True
            delivery.outbox = collections.deque(((seq, frame),))
            self._spawn(self._drain(delivery, None, seq))
            return True
        coroutine = delivery.send(frame)
        try:
            waiting = coroutine.send(None)
        except StopIteration:
            delivery.queued = seq
            self.frames += 1
            return True
        except Exception:
            self._spawn(self.remove(delivery))  # the socket is gone
            return False
        # The write waits for the transport: a task of this socket's own finishes it.
        delivery.queued = seq
        delivery.busy = True
        delivery.outbox = collections.deque()
        self._spawn(self._drain(delivery, _Resumed(coroutine, waiting), seq))
        return True

    def _catch_up(self, delivery: Delivery) -> None:
        """Deliver from the inbox what follows the last number written (a task of its own)."""
        if delivery.closed or delivery.dirty:
            return
        delivery.dirty = True
        if not delivery.busy:
            delivery.busy = True
            delivery.outbox = collections.deque()
            self._spawn(self._drain(delivery, None, 0))

    async def _drain(self, delivery: Delivery, writing: Awaitable[None] | None, seq: int, *, first: bool = False) -> None:
        """Finish a waiting write, then the outbox, then catch up while asked to (``first``:
        the subscription's first catch-up, read with those of the others starting now)."""
        if delivery.outbox is None:
            delivery.outbox = collections.deque()
        retry = False
        try:
            if writing is not None:
                await writing
                self.frames += 1
            while not delivery.closed:
                outbox = delivery.outbox
                if outbox:
                    _seq, frame = outbox.popleft()
                    await delivery.send(frame)
                    self.frames += 1
                    continue
                if not delivery.dirty:
                    break
                viewer = delivery.connection.viewer
                if viewer is None:
                    break  # being closed (4403)
                delivery.dirty = False
                self.catch_ups += 1
                context = OperationContext(delivery.connection)
                try:
                    if first:
                        # The first read of a subscription: batched with those of the others
                        # starting now (it mostly finds nothing).
                        first = False
                        rows, complete = await self._reads(viewer.organization_id).after.load((viewer.user_id, delivery.queued))
                        missed = await shown(context, rows) if rows else []
                        if not complete:
                            delivery.dirty = True
                    else:
                        missed = await missed_since(context, viewer.user_id, delivery.queued)
                finally:
                    await context.close()
                if delivery.closed:
                    break
                fresh = [record for record in missed if record.seq > delivery.queued]
                if fresh:
                    answers = await self._project(delivery.projection, viewer, fresh)
                    for record, answer in zip(fresh, answers, strict=True):
                        if record.seq <= delivery.queued:
                            continue  # handed on live while this was projected
                        if record.seq > delivery.queued + 1:
                            delivery.dirty = True
                            break
                        delivery.outbox.append((record.seq, delivery.head + answer + b"}}"))
                        delivery.queued = record.seq
                        delivery.last = max(delivery.last, record.seq)
                        metrics.notification_delivered(self.app, record.created_at)
                if len(missed) >= REPLAY_BATCH:
                    delivery.dirty = True
        except Exception as exc:
            if (is_unavailable(exc) or is_unavailable(exc.__cause__)) and not delivery.closed:
                # The database is away, the socket is not: read again in a moment. (Removed
                # here, the subscription would leave its client waiting for ever.)
                log.warning("the database is away: a notifications catch-up is tried again in %ss", CATCH_UP_RETRY_SECONDS)
                retry = True
            else:
                log.debug("a notifications subscription stopped", exc_info=True)  # its socket is gone
                await self.remove(delivery)
        finally:
            delivery.busy = False
            delivery.outbox = None
            if retry and not delivery.closed:
                delivery.dirty = True  # live messages wait for the catch-up, which reads them
                self._spawn(self._retry(delivery))
            elif delivery.dirty and not delivery.closed:
                delivery.dirty = False
                self._catch_up(delivery)

    async def _retry(self, delivery: Delivery) -> None:
        await asyncio.sleep(CATCH_UP_RETRY_SECONDS)
        if not delivery.closed:
            delivery.dirty = False
            self._catch_up(delivery)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _Resumed:
    """A coroutine already stepped once (it got as far as waiting for ``waiting``), made
    awaitable again so that a task can finish it."""

    __slots__ = ("coroutine", "waiting")

    def __init__(self, coroutine: Coroutine[Any, Any, Any], waiting: Any) -> None:
        self.coroutine = coroutine
        self.waiting = waiting

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, waiting = self.coroutine, self.waiting
        while True:
            error: BaseException | None = None
            value = None
            try:
                value = yield waiting
            except BaseException as exc:  # noqa: BLE001 - handed on to the coroutine
                error = exc
            try:
                waiting = coroutine.send(value) if error is None else coroutine.throw(error)
            except StopIteration as stop:
                return stop.value
