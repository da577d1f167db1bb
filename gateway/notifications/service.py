"""``notify()``: inbox rows in the caller's transaction, published once it commits.

Each row takes the next number of its recipient's counter (``recipient_seq``); the counter's
row lock is held until the transaction ends, so a recipient's numbers follow commit order
and a subscriber can tell a duplicate (``seq <= last``) from a gap (``seq > last + 1``).
The rows of a transaction are written together right before it commits, so that lock is
held for the commit alone, and a write to ten thousand recipients costs the statements and
the broker message of a write to one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import String, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from fiche import metrics
from fiche.db import UTCDateTime, bindable, bound_keys, keys_parameter, keys_shape, prepared, read_rows, utcnow
from fiche.notifications import models

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["NotificationRecord", "notify", "notify_first", "recipients_of", "retarget", "user_topic", "withdraw"]


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

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> NotificationRecord:
        values = dict(data)
        values["created_at"] = _moment(values["created_at"])
        values["read_at"] = _moment(values["read_at"]) if values.get("read_at") else None
        return cls(**values)


@functools.lru_cache(maxsize=64)
def _moment(text: str) -> dt.datetime:
    """A message's time: the recipients of one write share it, parsed once for them all."""
    return dt.datetime.fromisoformat(text)


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


# What every recipient of one ``notify()`` call shares, in the order the writes bind it.
_SHARED = ("kind", "actor_id", "target_id", "subject_id", "message", "link")


@dataclasses.dataclass(frozen=True, slots=True)
class _Event:
    """One ``notify()`` call: its recipients, and the fields of ``_SHARED``."""

    shared: dict[str, Any]
    recipients: tuple[int, ...]


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
    """Notify each of ``recipients`` who has ``kind`` enabled: one inbox row each, written in
    the operation's write transaction, published to them once that transaction commits.

    Returns the ids of the recipients notified (at once: their preferences are read now).
    The rows themselves are written when the transaction is about to commit, with those of
    every other ``notify()`` of the transaction, in a constant number of statements whatever
    the number of recipients (see :class:`_Outbox`): commit through ``context.mutate()`` or
    ``context.commit()``, never ``session.commit()``, or they are not written. Within the
    transaction the rows are not in the inbox yet. ``kind`` must be registered."""
    notified = await notify_first(
        context, [(kind, recipients, message)], target_id=target_id, subject_id=subject_id, link=link, actor_id=actor_id
    )
    return sorted(notified)


async def notify_first(
    context: OperationContext,
    rules: Sequence[tuple[str, Iterable[int], str]],
    *,
    target_id: str | None = None,
    subject_id: str | None = None,
    link: str | None = None,
    actor_id: int | None = None,
) -> dict[int, str]:
    """:func:`notify` for several kinds about one thing, each user at most once.

    ``rules`` are ``(kind, recipients, message)`` in priority order: a user is notified by
    the first rule that names them AND whose kind they have enabled (one who turned the
    first kind off still hears through the next rule that names them). One read of the
    preferences serves every rule. Returns who got which kind."""
    kinds = context.app.notification_kinds
    for kind, _, _ in rules:
        if kind not in kinds:
            raise ValueError(f"notification kind {kind!r} is not registered")
    viewer = context.require_viewer()
    named = [(kind, sorted(set(recipients)), message) for kind, recipients, message in rules]
    everyone = sorted({user_id for _, users, _ in named for user_id in users})
    if not everyone:
        return {}
    session = await context.session()
    preferences = await _preferences(session, everyone, sorted({kind for kind, _, _ in named}))
    notified: dict[int, str] = {}
    events: list[_Event] = []
    for kind, users, message in named:
        default = kinds[kind].default_enabled
        chosen = tuple(user_id for user_id in users if user_id not in notified and preferences.get((user_id, kind), default))
        if not chosen:
            continue
        for user_id in chosen:
            notified[user_id] = kind
        shared = {
            "kind": kind,
            "actor_id": viewer.user_id if actor_id is None else actor_id,
            "target_id": target_id,
            "subject_id": subject_id,
            "message": message,
            "link": link,
        }
        events.append(_Event(shared=shared, recipients=chosen))
    if events:
        outbox = context.transaction_state.get(_Outbox)
        if outbox is None:
            outbox = context.transaction_state[_Outbox] = _Outbox(context, viewer.organization_id)
        context.before_commit(outbox.write)
        outbox.events.extend(events)
    return notified


def _preferences_statement(dialect: str, users: Sequence[int]) -> Any:
    preference = models.NotificationPreference
    # One bound parameter whatever the number of recipients (ten thousand followers
    # rendered and bound ten thousand parameters).
    users_clause = bound_keys(dialect, preference.user_id, users, "users")
    assert users_clause is not None  # integers, checked by the caller
    # The kinds too as one array parameter on PostgreSQL (an expanding IN is rendered anew
    # at every execution).
    kinds_clause = (
        preference.kind == any_(bindparam("kinds", type_=ARRAY(String)))
        if dialect == "postgresql"
        else preference.kind.in_(bindparam("kinds", expanding=True))
    )
    return select(preference.user_id, preference.kind, preference.enabled).where(kinds_clause, users_clause)


async def _preferences(session: AsyncSession, users: Sequence[int], kinds: Sequence[str]) -> dict[tuple[int, str], bool]:
    """``(user, kind) -> enabled`` of the preferences the users set (absent: the default).

    The statement is kept (built once per shape): building it took more CPU than running it."""
    dialect = session.bind.dialect.name if session.bind is not None else ""
    if not bindable(users):
        raise TypeError("recipients are user ids (integers)")
    stmt = prepared(("notifications.preferences", keys_shape(dialect, users)), lambda: _preferences_statement(dialect, users))
    rows: Sequence[Any] = await read_rows(session, stmt, {"users": keys_parameter(dialect, users), "kinds": list(kinds)})  # (user, kind, enabled)
    return {(row[0], row[1]): bool(row[2]) for row in rows}


class _Outbox:
    """The notifications of one write transaction, written right before it commits.

    Numbering a recipient's rows locks their counter row until the transaction ends (that is
    what makes numbers follow commit order). Taking it at the last moment keeps a busy
    recipient's lock for the commit alone, not for the rest of the mutation.

    Every event of the transaction is written at once, whatever the number of recipients:
    on PostgreSQL ONE statement (the counters bumped by an upsert over ``unnest`` arrays in
    recipient order, the inbox rows inserted from it in the same statement); on SQLite two
    (the counters, then the rows, each over a JSON array read by ``json_each``). Then ONE
    broker message carries them all (``Broker.publish_many``)."""

    def __init__(self, context: OperationContext, organization_id: int) -> None:
        self.context = context
        self.organization_id = organization_id
        self.events: list[_Event] = []

    async def write(self) -> None:
        events, self.events = self.events, []
        if not events:
            return
        context, organization_id = self.context, self.organization_id
        # Each recipient's rows, in the order of the events: the k-th of n gets the k-th of
        # the n numbers the counter moves by, i.e. (new counter) - (n - k).
        per_user: dict[int, list[int]] = {}
        for index, event in enumerate(events):
            for user_id in event.recipients:
                per_user.setdefault(user_id, []).append(index)
        rows = [(user_id, len(indexes) - position - 1, index) for user_id, indexes in sorted(per_user.items()) for position, index in enumerate(indexes)]
        # On the session's connection, in its transaction: text statements need none of the
        # ORM's per-execution work (the organisation is bound explicitly).
        connection = await (await context.session()).connection()
        now = utcnow()
        if connection.dialect.name == "postgresql":
            written = await connection.execute(_POSTGRES_WRITE, _postgres_parameters(organization_id, now, events, rows))
        else:
            counts = [[user_id, len(indexes)] for user_id, indexes in sorted(per_user.items())]
            await connection.execute(_SQLITE_COUNTERS, {"organization_id": organization_id, "counts": orjson.dumps(counts).decode()})
            written = await connection.execute(_SQLITE_ROWS, _sqlite_parameters(organization_id, now, events, rows))
        numbered: dict[int, list[tuple[int, int]]] = {}
        for row in written:
            numbered.setdefault(row.recipient_id, []).append((row.recipient_seq, row.id))
        created_at = now.isoformat()
        messages: list[tuple[str, dict[str, Any]]] = []
        for user_id, indexes in per_user.items():
            topic = user_topic(organization_id, user_id)
            for (seq, pk), index in zip(sorted(numbered[user_id]), indexes, strict=True):
                body = {"id": pk, "recipient_id": user_id, "seq": seq, **events[index].shared, "created_at": created_at, "read_at": None}
                messages.append((topic, body))
        broker = context.broker

        async def publish() -> None:
            await broker.publish_many(messages)
            metrics.notifications_published(context.app, len(messages))

        context.after_commit(publish)


_INBOX_COLUMNS = "organization_id, recipient_id, recipient_seq, kind, actor_id, target_id, subject_id, message, link, created_at, read_at"

# PostgreSQL: the counters of the recipients (sorted, so that two writers with recipients in
# common lock them in the same order and cannot deadlock) and the inbox rows, in one
# statement. A counter created here starts at the number of rows it numbers.
_POSTGRES_WRITE = text(
    f"""
    WITH wanted AS (
        SELECT user_id, back, event
        FROM unnest(CAST(:users AS INTEGER[]), CAST(:backs AS INTEGER[]), CAST(:events AS INTEGER[])) AS w(user_id, back, event)
    ),
    bumped AS (
        INSERT INTO notification_counters (user_id, organization_id, seq)
        SELECT user_id, :organization_id, count(*) FROM wanted GROUP BY user_id ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE SET seq = notification_counters.seq + excluded.seq
        RETURNING user_id, seq
    )
    INSERT INTO notifications ({_INBOX_COLUMNS})
    SELECT :organization_id, wanted.user_id, bumped.seq - wanted.back, e.kind, e.actor_id, e.target_id, e.subject_id,
           e.message, e.link, :created_at, NULL
    FROM wanted
    JOIN bumped ON bumped.user_id = wanted.user_id
    JOIN unnest(
        CAST(:kinds AS VARCHAR[]), CAST(:actors AS INTEGER[]), CAST(:targets AS VARCHAR[]),
        CAST(:subjects AS VARCHAR[]), CAST(:messages AS TEXT[]), CAST(:links AS VARCHAR[])
    ) WITH ORDINALITY AS e(kind, actor_id, target_id, subject_id, message, link, event) ON e.event = wanted.event + 1
    ORDER BY wanted.event, wanted.user_id
    RETURNING id, recipient_id, recipient_seq
    """
).bindparams(bindparam("created_at", type_=UTCDateTime()))

# SQLite (one writer at a time: the database lock, taken by the first statement, orders
# the transactions): the counters, then the rows numbered from them.
_SQLITE_COUNTERS = text(
    """
    INSERT INTO notification_counters (user_id, organization_id, seq)
    SELECT json_extract(value, '$[0]'), :organization_id, json_extract(value, '$[1]') FROM json_each(:counts) WHERE true
    ON CONFLICT (user_id) DO UPDATE SET seq = notification_counters.seq + excluded.seq
    """
)
_SQLITE_ROWS = text(
    f"""
    INSERT INTO notifications ({_INBOX_COLUMNS})
    SELECT :organization_id, json_extract(w.value, '$[0]'), c.seq - json_extract(w.value, '$[1]'),
           json_extract(e.value, '$[0]'), json_extract(e.value, '$[1]'), json_extract(e.value, '$[2]'),
           json_extract(e.value, '$[3]'), json_extract(e.value, '$[4]'), json_extract(e.value, '$[5]'), :created_at, NULL
    FROM json_each(:rows) AS w
    JOIN json_each(:events) AS e ON e.key = json_extract(w.value, '$[2]')
    JOIN notification_counters AS c ON c.user_id = json_extract(w.value, '$[0]')
    WHERE true
    ORDER BY json_extract(w.value, '$[2]'), json_extract(w.value, '$[0]')
    RETURNING id, recipient_id, recipient_seq
    """
).bindparams(bindparam("created_at", type_=UTCDateTime()))


_POSTGRES_ARRAYS = ("kinds", "actors", "targets", "subjects", "messages", "links")  # of _SHARED, in order


def _postgres_parameters(organization_id: int, now: dt.datetime, events: Sequence[_Event], rows: Sequence[tuple[int, int, int]]) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "created_at": now,
        "users": [row[0] for row in rows],
        "backs": [row[1] for row in rows],
        "events": [row[2] for row in rows],
        **{array: [event.shared[name] for event in events] for array, name in zip(_POSTGRES_ARRAYS, _SHARED, strict=True)},
    }


def _sqlite_parameters(organization_id: int, now: dt.datetime, events: Sequence[_Event], rows: Sequence[tuple[int, int, int]]) -> dict[str, Any]:
    shared = [[event.shared[name] for name in _SHARED] for event in events]
    return {
        "organization_id": organization_id,
        "created_at": now,
        "rows": orjson.dumps(rows).decode(),
        "events": orjson.dumps(shared).decode(),
    }


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
