"""A new note and its mentions written without the ORM's unit of work: on PostgreSQL in ONE
statement (the note inserted in a data-modifying CTE, its mentions inserted from its new
ID over ``unnest`` arrays), on SQLite in two (the note, then its mentions in one
``executemany``). Before, the ORM flushed the note and then the mentions: two round trips
and most of a millisecond of Python per note.

The statements are Core statements on the ``notes`` and ``note_mentions`` tables, built
once and kept. A Core insert is not stamped by the session (``fiche.db``), so the
organisation and the audit columns are set here, from the session's organisation and
user, never from input.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Integer, Table, bindparam, func, insert, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from fiche.db import TenantError
from fiche.plugins.notes import models, services

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["insert_note"]

_NOTES = cast(Table, models.Note.__table__)
_MENTIONS = cast(Table, models.NoteMention.__table__)
# Every column of a new note but its ID (the database's), in the order bound.
_NOTE_COLUMNS = tuple(column.name for column in _NOTES.columns if column.name != "id")


def _note_insert() -> Any:
    # Parameters named apart from the columns: SQLAlchemy keeps a column's own name for
    # the parameters it makes itself.
    return insert(_NOTES).values({name: bindparam(f"note_{name}", type_=_NOTES.c[name].type) for name in _NOTE_COLUMNS})


@functools.cache
def _postgres_statement() -> Any:
    note = _note_insert().returning(_NOTES.c.id).cte("new_note")
    listed = func.unnest(
        bindparam("mention_users", type_=ARRAY(Integer)),
        bindparam("mention_starts", type_=ARRAY(Integer)),
        bindparam("mention_stops", type_=ARRAY(Integer)),
    ).table_valued("user_id", "start", "stop").render_derived(name="listed")
    mentions = insert(_MENTIONS).from_select(
        ["organization_id", "note_id", "user_id", "start", "stop"],
        select(bindparam("note_organization_id", type_=Integer), note.c.id, listed.c.user_id, listed.c.start, listed.c.stop)
        .select_from(note)
        .join(listed, true()),
    ).cte("new_mentions")
    # PostgreSQL runs a data-modifying CTE exactly once whether or not it is referenced.
    return select(note.c.id).add_cte(mentions)


@functools.cache
def _sqlite_statements() -> tuple[Any, Any]:
    return _note_insert().returning(_NOTES.c.id), insert(_MENTIONS)


async def insert_note(session: AsyncSession, note: models.Note, mentions: Sequence[services.ResolvedMention]) -> int:
    """Write ``note`` (a transient object, never added to the session) and its mentions;
    sets and returns its new ID."""
    organization_id, user_id = session.info.get("organization_id"), session.info.get("user_id")
    if organization_id is None:
        raise TenantError("a note written on a session without an organisation")
    note.organization_id = organization_id
    note.created_by_id = note.updated_by_id = user_id
    values = {f"note_{name}": getattr(note, name) for name in _NOTE_COLUMNS}
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        values.update(
            mention_users=[mention.user_id for mention in mentions],
            mention_starts=[mention.start for mention in mentions],
            mention_stops=[mention.stop for mention in mentions],
        )
        note.id = (await connection.execute(_postgres_statement(), values)).scalar_one()
    else:
        note_statement, mentions_statement = _sqlite_statements()
        note.id = (await connection.execute(note_statement, values)).scalar_one()
        if mentions:
            rows = [
                {"organization_id": organization_id, "note_id": note.id, "user_id": mention.user_id, "start": mention.start, "stop": mention.stop}
                for mention in mentions
            ]
            await connection.execute(mentions_statement, rows)
    return note.id
