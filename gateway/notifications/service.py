"""``notify()``: inbox rows in the caller's transaction, published once it commits.

Each row takes the next number of its recipient's counter (``recipient_seq``); the counter's
row lock is held until the transaction ends, so a recipient's numbers follow commit order
and a subscriber can tell a duplicate (``seq <= last``) from a gap (``seq > last + 1``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fiche import metrics
from fiche.db import utcnow
from fiche.notifications import models

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["NotificationRecord", "notify", "recipients_of", "retarget", "user_topic", "withdraw"]


def user_topic(organization_id: int, user_id: int) -> str:
    """One topic per user: an event reaches only the sockets that should get it."""
    return f"notifications:{organization_id}:{user_id}"


@dataclasses.dataclass(frozen=True, slots=True)
class NotificationRecord:
    """A notification as read from the inbox or received from the broker."""

    id: int
    recipient_id: int
    seq: int
    kind: str
    actor_id: int | None
    target_id: str | None
    subject_id: str | None
    message: str
    link: str | None
    created_at: dt.datetime
    read_at: dt.datetime | None

    def to_message(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["read_at"] = self.read_at.isoformat() if self.read_at else None
        return data

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> NotificationRecord:
        values = dict(data)
        values["created_at"] = dt.datetime.fromisoformat(values["created_at"])
        values["read_at"] = dt.datetime.fromisoformat(values["read_at"]) if values.get("read_at") else None
        return cls(**values)


RECORD_COLUMNS = (
    models.Notification.id,
    models.Notification.recipient_id,
    models.Notification.recipient_seq,
    models.Notification.kind,
    models.Notification.actor_id,
    models.Notification.target_id,
    models.Notification.subject_id,
    models.Notification.message,
    models.Notification.link,
    models.Notification.created_at,
    models.Notification.read_at,
)


def record_from_row(row: Any) -> NotificationRecord:
    return NotificationRecord(
        id=row.id,
        recipient_id=row.recipient_id,
        seq=row.recipient_seq,
        kind=row.kind,
        actor_id=row.actor_id,
        target_id=row.target_id,
        subject_id=row.subject_id,
        message=row.message,
        link=row.link,
        created_at=row.created_at,
        read_at=row.read_at,
    )


async def notify(
    context: OperationContext,
    recipients: Iterable[int],
    kind: str,
    *,
    message: str,
    target_id: str | None = None,
    subject_id: str | None = None,
    link: str | None = None,
    actor_id: int | None = None,
) -> list[int]:
    """Write one inbox row per recipient who has ``kind`` enabled, in the operation's write
    transaction, and publish each to its recipient once that transaction commits.

    Returns the ids of the recipients actually notified. ``kind`` must be registered."""
    spec = context.app.notification_kinds.get(kind)
    if spec is None:
        raise ValueError(f"notification kind {kind!r} is not registered")
    viewer = context.require_viewer()
    wanted = sorted(set(recipients))
    if not wanted:
        return []
    session = await context.session()
    preferences = dict(
        (
            await session.execute(
                select(models.NotificationPreference.user_id, models.NotificationPreference.enabled).where(
                    models.NotificationPreference.kind == kind,
                    models.NotificationPreference.user_id.in_(wanted),
                )
            )
        ).all()
    )
    notified = [user_id for user_id in wanted if preferences.get(user_id, spec.default_enabled)]
    if not notified:
        return []
    seqs = await _next_seqs(session, viewer.organization_id, notified)
    now = utcnow()
    values = [
        {
            "organization_id": viewer.organization_id,
            "recipient_id": user_id,
            "recipient_seq": seqs[user_id],
            "kind": kind,
            "actor_id": viewer.user_id if actor_id is None else actor_id,
            "target_id": target_id,
            "subject_id": subject_id,
            "message": message,
            "link": link,
            "created_at": now,
            "read_at": None,
        }
        for user_id in notified
    ]
    # A bulk INSERT ... RETURNING (batched by insertmanyvalues) rather than a flush of
    # objects, which SQLite would send one row at a time.
    written = await session.execute(insert(models.Notification).returning(*RECORD_COLUMNS), values)
    records = sorted((record_from_row(row) for row in written), key=lambda record: record.recipient_id)
    organization_id = viewer.organization_id
    broker = context.broker
    messages = [(user_topic(organization_id, record.recipient_id), record.to_message()) for record in records]

    async def publish() -> None:
        await broker.publish_many(messages)
        metrics.notifications_published(context.app, len(messages))

    context.after_commit(publish)
    return [record.recipient_id for record in records]


async def _next_seqs(session: AsyncSession, organization_id: int, user_ids: Sequence[int]) -> dict[int, int]:
    """Bump the counter of each of ``user_ids`` (sorted, distinct) in one statement and
    return their new values; the counter rows stay locked until the transaction ends.

    An upsert creates a user's counter at their first notification. PostgreSQL locks the
    rows in the order of the VALUES list, sorted by user, so two writers whose recipients
    overlap take their common locks in the same order and cannot deadlock; the second one
    waits for the first to commit, then reads its committed value (READ COMMITTED). SQLite
    has one writer at a time: the statement waits for the database write lock, held until
    commit."""
    counter = models.NotificationCounter
    dialect = (await session.connection()).dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = upsert(counter).on_conflict_do_update(index_elements=[counter.user_id], set_={"seq": counter.seq + 1})
    # One statement (split in batches of rows by insertmanyvalues only past its batch size,
    # like the inbox rows themselves), executed in the order of ``user_ids``.
    result = await session.execute(
        stmt.returning(counter.user_id, counter.seq),
        [{"user_id": user_id, "organization_id": organization_id, "seq": 1} for user_id in user_ids],
    )
    return {row.user_id: row.seq for row in result}


async def recipients_of(session: AsyncSession, subject_id: str) -> list[tuple[int, int]]:
    """``(notification id, recipient id)`` of every inbox row about ``subject_id``."""
    rows = await session.execute(
        select(models.Notification.id, models.Notification.recipient_id).where(models.Notification.subject_id == subject_id)
    )
    return [(row.id, row.recipient_id) for row in rows]


async def withdraw(
    session: AsyncSession,
    message: str,
    *,
    ids: Sequence[int] | None = None,
    subject_ids: Sequence[str] | None = None,
) -> None:
    """Keep inbox rows but replace their text and drop their link, when what they quote is
    gone or no longer readable by their recipient (by notification ids or by subject)."""
    condition = models.Notification.id.in_(list(ids or ())) if subject_ids is None else models.Notification.subject_id.in_(list(subject_ids))
    await session.execute(
        update(models.Notification).where(condition).values(message=message, link=None).execution_options(synchronize_session=False)
    )


async def retarget(session: AsyncSession, old_target_id: str, new_target_id: str, kinds: Sequence[str]) -> None:
    """Point notifications of ``kinds`` that lead to ``old_target_id`` (a merged duplicate)
    at ``new_target_id``, deep links included."""
    await session.execute(
        update(models.Notification)
        .where(models.Notification.target_id == old_target_id, models.Notification.kind.in_(list(kinds)))
        .values(target_id=new_target_id, link=func.replace(models.Notification.link, old_target_id, new_target_id))
        .execution_options(synchronize_session=False)
    )
