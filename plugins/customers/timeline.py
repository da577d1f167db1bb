"""The customer events' part of the unified timeline (G12): record created, updated,
archived, unarchived, merged, converted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.accounts.types import User
from fiche.timeline import TimelineEntry, TimelineQuery, latest_per_location
from fiche.plugins.customers import models

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["SOURCE", "CustomerEventEntry", "timeline_entries"]

SOURCE = "customers"
KIND_PREFIX = "CUSTOMER_"
SUMMARIES = {
    models.EventKind.CREATED: "Customer created",
    models.EventKind.UPDATED: "Customer record updated",
    models.EventKind.ARCHIVED: "Customer archived",
    models.EventKind.UNARCHIVED: "Customer unarchived",
    models.EventKind.MERGED: "Duplicate customer merged in",
    models.EventKind.CONVERTED: "Converted into a professional customer",
}


@strawberry.type(description="A change of the customer record itself (created, updated, archived, merged, ...).")
class CustomerEventEntry(TimelineEntry):
    details: str | None = strawberry.field(description="What changed, when there is more to say than the summary.")
    actor_pk: strawberry.Private[int | None]

    @strawberry.field(description="Who did it; null when that user was removed.")
    async def actor(self, info: strawberry.Info) -> User | None:
        if self.actor_pk is None:
            return None
        context: OperationContext = info.context
        return await context.loaders["users_by_id"].load(self.actor_pk)


def _entry(row: Any) -> CustomerEventEntry:
    summary = SUMMARIES[row.kind]
    return CustomerEventEntry(
        occurred_at=row.occurred_at,
        kind=KIND_PREFIX + row.kind.name,
        summary=f"{summary}: {row.details}" if row.details else f"{summary}.",
        location_pk=row.customer_id,
        source=SOURCE,
        source_pk=row.id,
        details=row.details,
        actor_pk=row.actor_id,
    )


async def timeline_entries(
    context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int
) -> list[TimelineEntry]:
    kinds = [kind for kind in models.EventKind if query.wants(KIND_PREFIX + kind.name)]
    if not kinds or not location_ids:
        return []
    event = models.CustomerEvent
    team_id = query.team_id

    def statement() -> Any:
        stmt = select(event.id, event.customer_id, event.kind, event.actor_id, event.occurred_at, event.details).where(event.kind.in_(kinds))
        if team_id is not None:
            # Customer events belong to no team: "of a team" means done by one of its members.
            members = select(accounts.TeamMembership.user_id).where(accounts.TeamMembership.team_id == team_id)
            stmt = stmt.where(event.actor_id.in_(members))
        return stmt

    async with context.read() as session:
        return await latest_per_location(
            session,
            statement,
            location=event.customer_id,
            occurred=event.occurred_at,
            pk=event.id,
            source=SOURCE,
            location_ids=location_ids,
            query=query,
            limit=limit,
            build=_entry,
            shape=(SOURCE, tuple(kinds), team_id),  # all the statement depends on: built once for each
        )
