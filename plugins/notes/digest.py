"""``customer_notes``: the notes and tasks of customers as the viewer may read them, with
the mentions nobody answered, for the activities plugin's customer insights (A6). Three
statements whatever the number of customers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select

from fiche.interop import NoteDigest
from fiche.relay import encode_id
from fiche.plugins.notes import models, services

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["customer_notes"]


async def customer_notes(context: OperationContext, customer_ids: Sequence[int], since: dt.datetime, limit: int) -> dict[int, list[NoteDigest]]:
    if not customer_ids:
        return {}
    viewer = context.require_viewer()
    note = models.Note
    wanted = and_(
        note.customer_id.in_(sorted(set(customer_ids))),
        services.visible_clause(viewer),
        or_(note.created_at >= since, and_(note.is_task.is_(True), note.completed_at.is_(None))),
    )
    rank = func.row_number().over(partition_by=note.customer_id, order_by=[note.created_at.desc(), note.id.desc()]).label("_rank")
    columns = (note.id, note.customer_id, note.body, note.created_at, note.author_id, note.is_task, note.assignee_id, note.due_at, note.completed_at)
    ranked = select(*columns, rank).where(wanted).subquery("ranked")
    async with context.read() as session:
        rows = (await session.execute(select(ranked).where(ranked.c._rank <= limit).order_by(ranked.c.customer_id, ranked.c._rank))).all()
        ids = [row.id for row in rows]
        mentions = (await session.execute(select(models.NoteMention.note_id, models.NoteMention.user_id).where(models.NoteMention.note_id.in_(ids)))).all() if ids else []
        mentioned = sorted({row.user_id for row in mentions})
        # The latest note each mentioned user wrote about each customer (readable or not:
        # only whether they answered is used, never what they wrote).
        latest = (
            await session.execute(
                select(note.customer_id, note.author_id, func.max(note.created_at).label("at"))
                .where(note.customer_id.in_(sorted(set(customer_ids))), note.author_id.in_(mentioned))
                .group_by(note.customer_id, note.author_id)
            )
        ).all() if mentioned else []  # fmt: skip
    last_word = {(row.customer_id, row.author_id): row.at for row in latest}
    by_note: dict[int, list[int]] = {}
    for row in mentions:
        by_note.setdefault(row.note_id, []).append(row.user_id)
    digests: dict[int, list[NoteDigest]] = {}
    for row in rows:
        unanswered = tuple(
            sorted(
                user_id
                for user_id in by_note.get(row.id, ())
                if user_id != row.author_id and (last_word.get((row.customer_id, user_id)) or dt.datetime.min.replace(tzinfo=dt.UTC)) <= row.created_at
            )
        )
        digests.setdefault(row.customer_id, []).append(
            NoteDigest(
                global_id=encode_id("Note", row.id), customer_id=row.customer_id, body=row.body, created_at=row.created_at,
                author_id=row.author_id, is_task=row.is_task, assignee_id=row.assignee_id, due_at=row.due_at,
                completed_at=row.completed_at, unanswered_mentions=unanswered,
            )
        )  # fmt: skip
    return digests
