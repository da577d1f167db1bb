"""The plugin's part of the customer timeline (G12): interventions (kind ``INTERVENTION``),
dated by their completion when done, else by their appointment, else by their creation;
one statement for every location asked about. Technicians see their own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy import func

from fiche.timeline import TimelineEntry, TimelineQuery, latest_per_location
from fiche.plugins.interventions import models
from fiche.plugins.interventions.loaders import visible_select, visible_shape
from fiche.plugins.interventions.services.status import today
from fiche.plugins.interventions.reads import InterventionBuilder
from fiche.plugins.interventions.types import Intervention

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["INTERVENTION", "InterventionTimelineEntry", "SOURCE", "timeline_entries"]

SOURCE = "interventions"
INTERVENTION = "INTERVENTION"


@strawberry.type(description="An intervention in a customer's timeline (kind `INTERVENTION`): dated by its completion, its appointment or its creation.")
class InterventionTimelineEntry(TimelineEntry):
    intervention: Intervention = strawberry.field(description="The intervention.")


def _entry(build: InterventionBuilder) -> Any:
    def entry(row: Any) -> InterventionTimelineEntry:
        intervention = build(row)
        return InterventionTimelineEntry(
            occurred_at=row.occurred,
            kind=INTERVENTION,
            summary=f"Intervention {row.number} · {row.type_name}: {row.title} ({intervention.status.name.lower()})",
            location_pk=row.customer_id,
            source=SOURCE,
            source_pk=row.id,
            intervention=intervention,
        )

    return entry


async def timeline_entries(context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int) -> list[TimelineEntry]:
    if not query.wants(INTERVENTION) or not location_ids or query.team_id is not None:
        # Interventions belong to no team: a team's timeline has none.
        return []
    I = models.Intervention
    occurred = func.coalesce(I.completed_at, I.starts_at, I.created_at)
    bounds, viewer = await today(context), context.require_viewer()

    def statement() -> Any:
        return visible_select(bounds, viewer).add_columns(occurred.label("occurred"))

    async with context.read() as session:
        return await latest_per_location(
            session, statement, location=I.customer_id, occurred=occurred, pk=I.id, source=SOURCE,
            location_ids=location_ids, query=query, limit=limit, build=_entry(InterventionBuilder()),
            shape=(SOURCE, *visible_shape(bounds, viewer)),  # built once per day (statuses) and visibility
        )  # fmt: skip
