"""``customer_notes``: the notes and tasks of customers as the viewer may read them, with
the mentions nobody answered, for the activities plugin's customer insights (A6). Three
statements whatever the number of customers. Notes attached to another plugin's subjects
(an activity's notes, N8) count for the customer that plugin says they belong to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select

from fiche.interop import NoteDigest
from fiche.relay import encode_id
from fiche.plugins.notes import models, services

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["customer_notes"]


def _about(customer_ids: Sequence[int], subjects: Mapping[str, Any]) -> tuple[Any, Any, list[Any]]:
    """The notes' customer (``about``: their own, or that of the subject they are attached
    to), the condition "about one of ``customer_ids``", and the outer joins it needs."""
    note = models.Note
    wanted_ids = sorted(set(customer_ids))
    joins = []
    customers = [note.customer_id]
    for type_name, pairs in sorted(subjects.items()):
        pair = pairs.subquery(f"subject_{type_name.lower()}")
        subject_pk, customer_pk = pair.c[0], pair.c[1]
        joins.append((pair, and_(note.target_type == type_name, note.target_id == subject_pk)))
        customers.append(customer_pk)
    about = func.coalesce(*customers) if len(customers) > 1 else note.customer_id
    return about, about.in_(wanted_ids), joins


def _joined(stmt: Any, joins: list[Any]) -> Any:
    for pair, on in joins:
        stmt = stmt.outerjoin(pair, on)
    return stmt


async def customer_notes(
    context: OperationContext, customer_ids: Sequence[int], since: dt.datetime, limit: int, subjects: Mapping[str, Any] | None = None
) -> dict[int, list[NoteDigest]]:
    if not customer_ids:
        return {}
    viewer = context.require_viewer()
    note = models.Note
    about, about_them, joins = _about(customer_ids, subjects or {})
    wanted = and_(
        about_them,
        services.visible_clause(viewer),
        or_(note.created_at >= since, and_(note.is_task.is_(True), note.completed_at.is_(None))),
    )
    rank = func.row_number().over(partition_by=about, order_by=[note.created_at.desc(), note.id.desc()]).label("_rank")
    columns = (note.id, about.label("about"), note.body, note.created_at, note.author_id, note.is_task, note.assignee_id, note.due_at, note.completed_at)
    ranked = _joined(select(*columns, rank), joins).where(wanted).subquery("ranked")
    async with context.read() as session:
        rows = (await session.execute(select(ranked).where(ranked.c._rank <= limit).order_by(ranked.c.about, ranked.c._rank))).all()
        ids = [row.id for row in rows]
        mentions = (await session.execute(select(models.NoteMention.note_id, models.NoteMention.user_id).where(models.NoteMention.note_id.in_(ids)))).all() if ids else []
        mentioned = sorted({row.user_id for row in mentions})
        # The latest note each mentioned user wrote about each customer (readable or not:
        # only whether they answered is used, never what they wrote).
        latest = (
            await session.execute(
                _joined(select(about.label("about"), note.author_id, func.max(note.created_at).label("at")), joins)
                .where(about_them, note.author_id.in_(mentioned))
                .group_by(about, note.author_id)
            )
        ).all() if mentioned else []  # fmt: skip
    last_word = {(row.about, row.author_id): row.at for row in latest}
    by_note: dict[int, list[int]] = {}
    for row in mentions:
        by_note.setdefault(row.note_id, []).append(row.user_id)
    digests: dict[int, list[NoteDigest]] = {}
    for row in rows:
        unanswered = tuple(
            sorted(
                user_id
                for user_id in by_note.get(row.id, ())
                if user_id != row.author_id and (last_word.get((row.about, user_id)) or dt.datetime.min.replace(tzinfo=dt.UTC)) <= row.created_at
            )
        )
        digests.setdefault(row.about, []).append(
            NoteDigest(
                global_id=encode_id("Note", row.id), customer_id=row.about, body=row.body, created_at=row.created_at,
                author_id=row.author_id, is_task=row.is_task, assignee_id=row.assignee_id, due_at=row.due_at,
                completed_at=row.completed_at, unanswered_mentions=unanswered,
            )
        )  # fmt: skip
    return digests
