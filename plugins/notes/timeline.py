"""The plugin's part of the customer timeline (G12): notes (kind ``NOTE``) and tasks
(kind ``TASK``) of customers and branches, newest first, as the viewer may see them —
with those attached to another plugin's subject that belongs to the customer (an activity,
an intervention, an order...: N8), which that plugin tells through ``customer_subjects``."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pluggy
from sqlalchemy import String, and_, literal, select, union_all
from sqlalchemy.sql import Subquery

from fiche.accounts import models as accounts
from fiche.timeline import TimelineEntry, TimelineQuery, latest_per_location, together
from fiche.plugins.notes import models, services
from fiche.plugins.notes.types import NOTE_COLUMNS, timeline_entry_from_row

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["SOURCE", "timeline_entries"]

SOURCE = "notes"


@functools.lru_cache(maxsize=16)
def owned_subjects(pm: pluggy.PluginManager) -> Subquery | None:
    """Every plugin's ``customer_subjects`` as one relation (subject_type, subject_pk,
    customer_pk); None when no plugin has subjects of a customer."""
    parts = []
    for answer in pm.hook.customer_subjects():
        for type_name, pairs in sorted((answer or {}).items()):
            subject, customer = list(pairs.subquery().c)
            parts.append(
                select(literal(type_name, String(60)).label("subject_type"), subject.label("subject_pk"), customer.label("customer_pk"))
            )
    if not parts:
        return None
    return union_all(*parts).subquery("owned_subjects")


async def timeline_entries(
    context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int
) -> list[TimelineEntry]:
    """The newest ``limit`` notes / tasks of each location, about it or about one of its
    subjects: a statement for each, asked at once (the same source and order, so they merge)."""
    wants_notes, wants_tasks = query.wants("NOTE"), query.wants("TASK")
    if not (wants_notes or wants_tasks) or not location_ids:
        return []
    viewer = context.require_viewer()
    note = models.Note
    team_id = query.team_id
    owned = owned_subjects(context.pm)

    def filtered(stmt: Any) -> Any:
        stmt = stmt.where(services.visible_clause(viewer))
        if wants_notes != wants_tasks:
            stmt = stmt.where(note.is_task.is_(wants_tasks))
        if team_id is not None:
            members = select(accounts.TeamMembership.user_id).where(accounts.TeamMembership.team_id == team_id)
            stmt = stmt.where(note.author_id.in_(members))
        return stmt

    def about_customers() -> Any:
        return filtered(select(*NOTE_COLUMNS))

    def about_subjects() -> Any:
        assert owned is not None
        # The subject's customer stands in the row's ``customer_id`` (null on such a note).
        columns = [owned.c.customer_pk.label("customer_id") if column is note.customer_id else column for column in NOTE_COLUMNS]
        joined = select(*columns).join(owned, and_(note.target_type == owned.c.subject_type, note.target_id == owned.c.subject_pk))
        return filtered(joined)

    # What the statements depend on: the viewer's visibility (role, id, teams), kinds, team.
    shape = (SOURCE, viewer.role, viewer.user_id, viewer.team_ids, wants_notes, wants_tasks, team_id)
    common: dict[str, Any] = {
        "occurred": note.created_at,
        "pk": note.id,
        "source": SOURCE,
        "location_ids": location_ids,
        "query": query,
        "limit": limit,
        "build": timeline_entry_from_row,
    }
    async with context.read() as session:
        reads = [latest_per_location(session, about_customers, location=note.customer_id, shape=shape, **common)]
        if owned is not None:
            reads.append(latest_per_location(session, about_subjects, location=owned.c.customer_pk, shape=(*shape, "subjects", owned), **common))
        return await together(*reads)
