"""What ``node(id:)`` resolves for the plugin: ``Note`` (visibility-checked) and
``NoteCategory``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from plugins.notes import models, services
from plugins.notes.types import NOTE_COLUMNS, Note, NoteCategory, note_from_row

if TYPE_CHECKING:
    from gateway.context import OperationContext

__all__ = ["load_categories", "load_notes"]


async def load_notes(context: OperationContext, pks: Sequence[int]) -> list[Note | None]:
    """The ``node(id:)`` resolver of ``Note``: a note the viewer may not read is None."""
    viewer = context.require_viewer()
    async with context.read() as session:
        rows = (
            await session.execute(select(*NOTE_COLUMNS).where(models.Note.id.in_(list(pks)), services.visible_clause(viewer)))
        ).all()
    found = {row.id: note_from_row(row) for row in rows}
    return [found.get(pk) for pk in pks]


async def load_categories(context: OperationContext, pks: Sequence[int]) -> list[NoteCategory | None]:
    return list(await context.loaders["categories_by_id"].load_many(list(pks)))
