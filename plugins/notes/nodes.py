"""What ``node(id:)`` resolves for the plugin: ``Note`` (visibility-checked) and
``NoteCategory``; and which notes a notification may still point at for its reader."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import case, select

from fiche.relay import InvalidID, decode_id
from fiche.plugins.notes import models, services
from fiche.plugins.notes.types import NOTE_COLUMNS, Note, NoteCategory, note_from_row

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["load_categories", "load_notes", "notification_visibility"]


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


async def notification_visibility(context: OperationContext, object_ids: Sequence[str]) -> dict[str, bool]:
    """The ``notification_visibility`` answer for notes and tasks, in one statement: False
    for a note that exists and that the viewer may not read NOW (role lowered, team left,
    task reassigned away). A deleted note is answered True: its notifications already lost
    their text when it was deleted, and keep saying it was deleted."""
    notes: dict[int, str] = {}
    for object_id in object_ids:
        try:
            type_name, pk = decode_id(object_id)
        except InvalidID:
            continue
        if type_name == "Note":
            notes[pk] = object_id
    if not notes:
        return {}
    viewer = context.require_viewer()
    if viewer.is_admin:
        return dict.fromkeys(notes.values(), True)
    # CASE rather than NOT(...): the clause is NULL, not false, for a note without assignee.
    readable = case((services.visible_clause(viewer), True), else_=False)
    async with context.read() as session:
        rows = (await session.execute(select(models.Note.id, readable).where(models.Note.id.in_(sorted(notes))))).all()
    hidden = {pk for pk, visible in rows if not visible}
    return {object_id: pk not in hidden for pk, object_id in notes.items()}
