"""Inbox queries, mutations and the ``notifications`` subscription."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import Annotated, TYPE_CHECKING

import strawberry
from sqlalchemy import func, select, update

from fiche import metrics
from fiche.cost import list_size
from fiche.db import utcnow
from fiche.errors import PublicError, UserError, UserErrors
from fiche.notifications import models
from fiche.notifications.kinds import MAX_NOTIFICATION_KINDS
from fiche.notifications.service import RECORD_COLUMNS, NotificationRecord, record_from_row, user_topic
from fiche.notifications.types import Notification, NotificationPreference, notification_from_record
from fiche.notifications.visibility import shown
from fiche.relay import Connection, Edge, InvalidID, SortKey, connection_of, decode_id, page_size, paginate

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["NotificationMutations", "NotificationQueries", "NotificationSubscriptions", "missed_since", "seq_of"]

log = logging.getLogger(__name__)

REPLAY_BATCH = 200


@strawberry.type
class NotificationQueries:
    @strawberry.field(description="Your inbox, newest first.")
    async def notifications(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description="How many notifications to return (the page size).")] = None,
        after: Annotated[str | None, strawberry.argument(description="Return the notifications after this cursor.")] = None,
        unread_only: Annotated[bool, strawberry.argument(description="Only the unread ones.")] = False,
    ) -> Connection[Notification]:
        context: OperationContext = info.context
        viewer = context.require_viewer()
        size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
        stmt = select(*RECORD_COLUMNS).where(models.Notification.recipient_id == viewer.user_id)
        if unread_only:
            stmt = stmt.where(models.Notification.read_at.is_(None))
        async with context.read() as session:
            # Within one recipient, ID order is commit order: notify() takes the recipient's
            # counter lock before it inserts, so a later row of theirs gets a later ID.
            page = await paginate(
                session, stmt, [SortKey(models.Notification.id, descending=True)], first=size, after=after, build=record_from_row
            )
        records = await shown(context, [edge.node for edge in page.edges])
        edges = [Edge(node=notification_from_record(record), key=edge.key) for record, edge in zip(records, page.edges, strict=True)]
        return connection_of(edges, page.page_info.has_next_page, page.page_info.has_previous_page, page.total)

    @strawberry.field(description="How many notifications of your inbox are unread.")
    async def unread_notification_count(self, info: strawberry.Info) -> int:
        context: OperationContext = info.context
        viewer = context.require_viewer()
        async with context.read() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(models.Notification)
                .where(models.Notification.recipient_id == viewer.user_id, models.Notification.read_at.is_(None))
            )
        return int(count or 0)

    @strawberry.field(description="Every notification kind, and whether you receive it.", metadata=list_size(MAX_NOTIFICATION_KINDS))
    async def notification_preferences(self, info: strawberry.Info) -> list[NotificationPreference]:
        context: OperationContext = info.context
        viewer = context.require_viewer()
        async with context.read() as session:
            stored = dict(
                (
                    await session.execute(
                        select(models.NotificationPreference.kind, models.NotificationPreference.enabled).where(
                            models.NotificationPreference.user_id == viewer.user_id
                        )
                    )
                ).all()
            )
        return [
            NotificationPreference(kind=kind.name, description=kind.description, enabled=stored.get(kind.name, kind.default_enabled))
            for kind in sorted(context.app.notification_kinds.values(), key=lambda kind: kind.name)
        ]


@strawberry.type(description="The outcome of marking notifications read.")
class MarkNotificationsReadPayload:
    unread_count: int | None = strawberry.field(default=None, description="Your unread count afterwards.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of changing a notification preference.")
class NotificationPreferencePayload:
    preference: NotificationPreference | None = strawberry.field(default=None, description="The preference afterwards.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


async def _unread(context: OperationContext, user_id: int) -> int:
    session = await context.session()
    count = await session.scalar(
        select(func.count())
        .select_from(models.Notification)
        .where(models.Notification.recipient_id == user_id, models.Notification.read_at.is_(None))
    )
    return int(count or 0)


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description="Mark some of your notifications read.")
    async def mark_notifications_read(self, info: strawberry.Info, ids: Annotated[list[strawberry.ID], strawberry.argument(description="IDs of your notifications; others are ignored.")]) -> MarkNotificationsReadPayload:
        context: OperationContext = info.context

        async def change() -> MarkNotificationsReadPayload:
            viewer = context.require_viewer()
            pks = []
            for index, global_id in enumerate(ids):
                try:
                    pks.append(decode_id(global_id, "Notification")[1])
                except InvalidID as exc:
                    raise UserErrors.invalid(str(exc), "ids", str(index)) from exc
            session = await context.session()
            await session.execute(
                update(models.Notification)
                .where(
                    models.Notification.id.in_(pks),
                    models.Notification.recipient_id == viewer.user_id,
                    models.Notification.read_at.is_(None),
                )
                .values(read_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return MarkNotificationsReadPayload(unread_count=await _unread(context, viewer.user_id))

        return await context.mutate(change, MarkNotificationsReadPayload)

    @strawberry.mutation(description="Mark your whole inbox read.")
    async def mark_all_notifications_read(self, info: strawberry.Info) -> MarkNotificationsReadPayload:
        context: OperationContext = info.context

        async def change() -> MarkNotificationsReadPayload:
            viewer = context.require_viewer()
            session = await context.session()
            await session.execute(
                update(models.Notification)
                .where(models.Notification.recipient_id == viewer.user_id, models.Notification.read_at.is_(None))
                .values(read_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return MarkNotificationsReadPayload(unread_count=0)

        return await context.mutate(change, MarkNotificationsReadPayload)

    @strawberry.mutation(description="Turn one kind of notification on or off for yourself.")
    async def notification_preference_set(
        self,
        info: strawberry.Info,
        kind: Annotated[str, strawberry.argument(description="The notification kind (see `notificationPreferences`).")],
        enabled: Annotated[bool, strawberry.argument(description="Whether you want to receive it.")],
    ) -> NotificationPreferencePayload:
        context: OperationContext = info.context

        async def change() -> NotificationPreferencePayload:
            viewer = context.require_viewer()
            spec = context.app.notification_kinds.get(kind)
            if spec is None:
                raise UserErrors.not_found(f"There is no notification kind {kind!r}.", "kind")
            session = await context.session()
            row = await session.scalar(
                select(models.NotificationPreference).where(
                    models.NotificationPreference.user_id == viewer.user_id, models.NotificationPreference.kind == kind
                )
            )
            if row is None:
                session.add(models.NotificationPreference(user_id=viewer.user_id, kind=kind, enabled=enabled))
            else:
                row.enabled = enabled
            return NotificationPreferencePayload(
                preference=NotificationPreference(kind=kind, description=spec.description, enabled=enabled)
            )

        return await context.mutate(change, NotificationPreferencePayload)


async def missed_since(context: OperationContext, user_id: int, after_seq: int) -> list[NotificationRecord]:
    """The next notifications of ``user_id`` after number ``after_seq``, in commit order."""
    async with context.read() as session:
        rows = (
            await session.execute(
                select(*RECORD_COLUMNS)
                .where(models.Notification.recipient_id == user_id, models.Notification.recipient_seq > after_seq)
                .order_by(models.Notification.recipient_seq)
                .limit(REPLAY_BATCH)
            )
        ).all()
    return await shown(context, [record_from_row(row) for row in rows])


async def _latest_seq(context: OperationContext, user_id: int) -> int:
    async with context.read() as session:
        latest = await session.scalar(
            select(func.max(models.Notification.recipient_seq)).where(models.Notification.recipient_id == user_id)
        )
    return int(latest or 0)


async def seq_of(context: OperationContext, user_id: int, global_id: str) -> int:
    """The number of the viewer's notification ``global_id`` (a bad ID is the client's mistake)."""
    try:
        pk = decode_id(global_id, "Notification")[1]
    except InvalidID as exc:
        raise PublicError.bad_request(str(exc)) from exc
    async with context.read() as session:
        seq = await session.scalar(
            select(models.Notification.recipient_seq).where(models.Notification.id == pk, models.Notification.recipient_id == user_id)
        )
    if seq is None:
        raise PublicError.bad_request(f"{global_id!r} is not one of your notifications.")
    return int(seq)


@strawberry.type
class NotificationSubscriptions:
    @strawberry.subscription(
        description=(
            "Your new notifications, live, each once and in the order they were committed. Pass the ID "
            "of the last notification you received as `after` and you first get every one you missed, "
            "oldest first, then the live ones: nothing is lost when a connection drops."
        )
    )
    async def notifications(
        self,
        info: strawberry.Info,
        after: Annotated[strawberry.ID | None, strawberry.argument(description="ID of the last notification you received (one of yours); omit for live events only.")] = None,
    ) -> AsyncGenerator[Notification, None]:
        context: OperationContext = info.context
        viewer = context.require_viewer()
        # ``last`` is the number (recipient_seq) of the last notification delivered. Numbers
        # follow commit order without gaps (see gateway.notifications.service), so a broker
        # message numbered last + 1 is the next one, a lower one a duplicate, and a higher
        # one means an earlier message is still on its way or was lost: the inbox has them.
        if after is not None:
            last = await seq_of(context, viewer.user_id, after)
        else:
            # "From now on": fixed BEFORE subscribing. Read after, it could include a
            # notification committed once the subscription was in place, whose broker
            # message would then be skipped as already seen.
            last = await _latest_seq(context, viewer.user_id)
        # Subscribe, then catch up from the inbox on what committed since `last`: whatever
        # commits in between is either caught up or delivered by the broker, never both.
        # Idle for a resync period: read the user's last number; still behind it a period
        # later, the message of a committed notification never went out (its gateway died
        # before publishing): catch up (fiche.notifications.resync does this for the hub).
        period = context.app.settings.notification_resync_seconds or None
        behind = 0
        async with context.broker.subscribe(user_topic(viewer.organization_id, viewer.user_id)) as events:
            catch_up = True
            while True:
                if catch_up:
                    while True:
                        missed = await missed_since(context, viewer.user_id, last)
                        for record in missed:
                            last = record.seq
                            context.reset_loaders()
                            metrics.notification_delivered(context.app, record.created_at)
                            yield notification_from_record(record)
                        if len(missed) < REPLAY_BATCH:
                            break
                    catch_up = False
                try:
                    message = await asyncio.wait_for(events.get(), period)
                except TimeoutError:
                    if behind > last:
                        catch_up, behind = True, 0
                    else:
                        try:
                            latest = await _latest_seq(context, viewer.user_id)
                        except Exception:
                            # The database away: nothing can be caught up now; read again
                            # a period later.
                            log.debug("reading the last notification number failed", exc_info=True)
                            latest = 0
                        behind = latest if latest > last else 0
                    continue
                if message is None or events.lost:
                    # Messages were dropped (slow consumer, broker reconnect): catch up from the inbox.
                    events.lost = False
                    catch_up = True
                    continue
                current = context.viewer
                if current is None:
                    continue  # the socket is being closed (4403): its user lost access
                record = NotificationRecord.from_message(message)
                if record.seq <= last:
                    continue  # already delivered (caught up from the inbox, or sent twice)
                if record.seq > last + 1:
                    # A gap: this one committed, so every earlier one did (the counter's lock
                    # made them commit first) and the inbox holds them all, this one included.
                    catch_up = True
                    continue
                last = record.seq
                if current != viewer:
                    # The writer checked the recipient's access when it wrote the row; once
                    # the socket's access changed (fiche.live_access), check it again.
                    [record] = await shown(context, [record])
                context.reset_loaders()
                metrics.notification_delivered(context.app, record.created_at)
                yield notification_from_record(record)
