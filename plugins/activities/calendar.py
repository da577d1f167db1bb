"""The calendar (A8): the root ``activities`` query, a user's or a team's activities in a
time range, oldest first, one statement per page.

Who sees what: managers and admins see every activity of the organisation; members and
technicians see the activities assigned to them and those of the teams they belong to (a
colleague's calendar outside their teams is not theirs to read). Filters only narrow that.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import or_

from fiche.datetimes import require_instant
from fiche.errors import PublicError
from fiche.relay import Connection, InvalidID, SortKey, decode_id, page_size, paginate
from fiche.plugins.activities import models
from fiche.plugins.activities.reads import ActivityBuilder, activity_select
from fiche.plugins.activities.types import Activity

if TYPE_CHECKING:
    from fiche.auth import Viewer
    from fiche.context import OperationContext
    from fiche.relay import AnySelect

__all__ = ["CalendarFilter", "CalendarQueries", "visible_to"]

A = models.Activity
OLDEST_FIRST = (SortKey(A.starts_at), SortKey(A.id))
# Ids a filter may list: enough for a manager's whole region, bounded for the SQL IN list.
MAX_FILTER_IDS = 200


@strawberry.input(description="Which activities a calendar shows; every field narrows the selection.")
class CalendarFilter:
    from_: dt.datetime | None = strawberry.field(default=None, name="from", description="Only activities ending at or after this time.")
    to: dt.datetime | None = strawberry.field(default=None, description="Only activities starting before this time.")
    assignee_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only activities assigned to these users.")
    team_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only activities counting for these teams.")
    types: list[strawberry.ID] | None = strawberry.field(default=None, description="Only activities of these types (`ActivityType` IDs).")


def visible_to(viewer: Viewer, stmt: AnySelect) -> AnySelect:
    """``stmt`` restricted to the activities ``viewer`` may see in calendars and routes."""
    if viewer.is_manager:
        return stmt
    return stmt.where(or_(A.assignee_id == viewer.user_id, A.team_id.in_(sorted(viewer.team_ids))))


def _pks(ids: list[strawberry.ID] | None, type_name: str, field: str) -> list[int] | None:
    if ids is None:
        return None
    if len(ids) > MAX_FILTER_IDS:
        raise PublicError.bad_request(f"`filter.{field}` lists at most {MAX_FILTER_IDS} IDs.")
    try:
        return sorted({decode_id(gid, type_name)[1] for gid in ids})
    except InvalidID as exc:
        raise PublicError.bad_request(f"`filter.{field}`: {exc}") from exc


def _statement(viewer: Viewer, filter: CalendarFilter) -> AnySelect:
    stmt = visible_to(viewer, activity_select())
    start = require_instant(filter.from_, "filter.from")
    end = require_instant(filter.to, "filter.to")
    if start is not None:
        stmt = stmt.where(A.ends_at >= start)
    if end is not None:
        stmt = stmt.where(A.starts_at < end)
    for column, pks in (
        (A.assignee_id, _pks(filter.assignee_ids, "User", "assigneeIds")),
        (A.team_id, _pks(filter.team_ids, "Team", "teamIds")),
        (A.type_id, _pks(filter.types, "ActivityType", "types")),
    ):
        if pks is not None:
            stmt = stmt.where(column.in_(pks))
    return stmt


@strawberry.type
class CalendarQueries:
    @strawberry.field(
        description="A calendar: the activities in a time range, oldest first (A8). Managers and admins see every activity; "
        "members and technicians theirs and those of their teams. An activity is in the range when it overlaps it."
    )
    async def activities(
        self,
        info: strawberry.Info,
        filter: Annotated[CalendarFilter | None, strawberry.argument(description="Which activities; all you may see when null.")] = None,
        first: Annotated[int | None, strawberry.argument(description="How many activities to return (the page size).")] = None,
        after: Annotated[str | None, strawberry.argument(description="Return the activities after this cursor.")] = None,
    ) -> Connection[Activity]:
        context: OperationContext = info.context
        viewer = context.require_viewer()
        size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
        stmt = _statement(viewer, filter or CalendarFilter())
        async with context.read() as session:
            return await paginate(session, stmt, OLDEST_FIRST, first=size, after=after, build=ActivityBuilder())
