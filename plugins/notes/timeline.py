"""The plugin's part of the customer timeline (G12): notes (kind ``NOTE``) and tasks
(kind ``TASK``) of customers and branches, newest first, as the viewer may see them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.timeline import TimelineEntry, TimelineQuery, latest_per_location
from fiche.plugins.notes import models, services
from fiche.plugins.notes.types import NOTE_COLUMNS, timeline_entry_from_row

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["SOURCE", "timeline_entries"]

SOURCE = "notes"


async def timeline_entries(
    context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int
) -> list[TimelineEntry]:
    """The newest ``limit`` notes / tasks of each location, in one statement."""
    wants_notes, wants_tasks = query.wants("NOTE"), query.wants("TASK")
    if not (wants_notes or wants_tasks) or not location_ids:
        return []
    viewer = context.require_viewer()
    note = models.Note
    team_id = query.team_id

    def statement() -> Any:
        stmt = select(*NOTE_COLUMNS).where(services.visible_clause(viewer))
        if wants_notes != wants_tasks:
            stmt = stmt.where(note.is_task.is_(wants_tasks))
        if team_id is not None:
            members = select(accounts.TeamMembership.user_id).where(accounts.TeamMembership.team_id == team_id)
            stmt = stmt.where(note.author_id.in_(members))
        return stmt

    # What the statement depends on: the viewer's visibility (role, id, teams), kinds, team.
    shape = (SOURCE, viewer.role, viewer.user_id, viewer.team_ids, wants_notes, wants_tasks, team_id)
    async with context.read() as session:
        return await latest_per_location(
            session,
            statement,
            location=note.customer_id,
            occurred=note.created_at,
            pk=note.id,
            source=SOURCE,
            location_ids=location_ids,
            query=query,
            limit=limit,
            build=timeline_entry_from_row,
            shape=shape,
        )
