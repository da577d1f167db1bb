"""Root queries (activity types, report forms) and ``Customer.activities`` (A3)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import strawberry
from sqlalchemy import select

from fiche.cost import list_size
from fiche.datetimes import require_instant
from fiche.errors import PublicError
from fiche.selections import connection_nodes, fields_of, named
from fiche.execution import batched
from fiche.relay import Connection, InvalidID, decode_id, page_size
from fiche.plugins.activities import models
from fiche.plugins.activities.common import seed_builtin_types
from fiche.plugins.activities.loaders import ActivityQuery, CustomerActivitiesKey
from fiche.plugins.activities.services.bounds import MAX_ACTIVITY_TYPES, MAX_REPORT_FORMS
from fiche.plugins.activities.services.builtins import missing_codes
from fiche.plugins.activities.reads import FORM_COLUMNS, LEAN_SELECTION, TYPE_COLUMNS, form_from_row, type_from_row
from fiche.plugins.activities.types import Activity, ActivityType, ReportForm

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["ActivityFilter", "ActivityQueries", "customer_activities_field"]


@strawberry.type
class ActivityQueries:
    @strawberry.field(description="Your organisation's activity types: the seven built-in ones first, then custom ones.", metadata=list_size(MAX_ACTIVITY_TYPES))
    async def activity_types(
        self,
        info: strawberry.Info,
        include_archived: Annotated[bool, strawberry.argument(description="Also the archived types.")] = False,
    ) -> list[ActivityType]:
        context: OperationContext = info.context
        context.require_viewer()
        T = models.ActivityType
        stmt = select(*TYPE_COLUMNS).order_by(T.position, T.name, T.id)
        async with context.read() as session:
            rows = (await session.execute(stmt)).all()
        if missing_codes(row.code for row in rows):
            await seed_builtin_types(context)
            async with context.read() as session:
                rows = (await session.execute(stmt)).all()
        return [type_from_row(row) for row in rows if include_archived or not row.archived]

    @strawberry.field(description="Your organisation's report forms, by name.", metadata=list_size(MAX_REPORT_FORMS))
    async def report_forms(
        self,
        info: strawberry.Info,
        include_archived: Annotated[bool, strawberry.argument(description="Also the archived forms.")] = False,
    ) -> list[ReportForm]:
        context: OperationContext = info.context
        context.require_viewer()
        F = models.ReportForm
        stmt = select(*FORM_COLUMNS).order_by(F.name, F.id)
        if not include_archived:
            stmt = stmt.where(F.archived.is_(False))
        async with context.read() as session:
            rows = (await session.execute(stmt)).all()
        return [form_from_row(row) for row in rows]


@strawberry.input(description="Which activities of a customer to list.")
class ActivityFilter:
    from_: dt.datetime | None = strawberry.field(default=None, name="from", description="Only activities starting at or after this time.")
    to: dt.datetime | None = strawberry.field(default=None, description="Only activities starting before this time.")
    type_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only activities of these types.")
    team_id: strawberry.ID | None = strawberry.field(default=None, description="Only activities of this team.")
    include_branches: bool = strawberry.field(default=False, description="Also the activities of the customer's branches (every level).")


class HasPk(Protocol):
    pk: int


def _query(filter: ActivityFilter | None) -> ActivityQuery:
    if filter is None:
        return ActivityQuery()
    try:
        type_ids = frozenset(decode_id(gid, "ActivityType")[1] for gid in filter.type_ids) if filter.type_ids is not None else None
        team_id = decode_id(filter.team_id, "Team")[1] if filter.team_id is not None else None
    except InvalidID as exc:
        raise PublicError.bad_request(str(exc)) from exc
    return ActivityQuery(
        date_from=require_instant(filter.from_, "filter.from"),
        date_to=require_instant(filter.to, "filter.to"),
        type_ids=type_ids, team_id=team_id, include_branches=filter.include_branches
    )


@batched
async def resolve_customer_activities(
    roots: Sequence[HasPk],
    info: strawberry.Info,
    filter: Annotated[ActivityFilter | None, strawberry.argument(description="Which activities; all of the customer's by default.")] = None,
    first: Annotated[int | None, strawberry.argument(description="How many activities to return (the page size).")] = None,
    after: Annotated[str | None, strawberry.argument(description="Return the activities after this cursor.")] = None,
) -> list[Connection[Activity]]:
    context: OperationContext = info.context
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    query = _query(filter)
    reports = _selects_reports(info)
    keys = [
        CustomerActivitiesKey(
            customer_pk=root.pk, first=size, after=after, query=query, with_reports=reports.selected, with_report_values=reports.values, lean=reports.lean
        )
        for root in roots
    ]
    return await context.loaders["activities_by_customer"].load_many(keys)


@dataclasses.dataclass(frozen=True, slots=True)
class ReportsSelection:
    selected: bool  # the activities' reports are selected: fetch them with the page
    values: bool  # ... with their ``values`` (a JSON document per report, read only if asked)
    lean: bool = False  # the activities' fields selected are all in reads.LEAN_SELECTION


def _selects_reports(info: strawberry.Info) -> ReportsSelection:
    """Whether the query asks for the activities' reports (``edges { node { reports } }``
    or ``nodes { reports }``), and for their ``values``, so that the loader fetches them
    with the page, reading the JSON column only when it is selected.

    Computed once per field of the operation: every customer of a page shares the same
    selection, and ``info.selected_fields`` rebuilds it on each call."""
    context: OperationContext = info.context
    memo_key = ("activities.selects_reports", tuple(id(node) for node in info._raw_info.field_nodes))
    if memo_key not in context.memo:
        context.memo[memo_key] = _analyse_reports(info)
    selection: ReportsSelection = context.memo[memo_key]
    return selection


def _analyse_reports(info: strawberry.Info) -> ReportsSelection:
    nodes = connection_nodes(info)
    reports = [report for node in nodes for report in named(node.selections, "reports")]
    lean = all(_lean(node.selections) for node in nodes)
    return ReportsSelection(selected=bool(reports), values=any(True for report in reports for _ in named(report.selections, "values")), lean=lean)


def _lean(selections: Sequence[Any]) -> bool:
    """Whether an activity selection asks only for what a lean row carries (see
    ``reads.LEAN_SELECTION``)."""
    for field in fields_of(selections):
        if field.name not in LEAN_SELECTION:
            return False
        allowed = LEAN_SELECTION[field.name]
        if allowed is not None and any(inner.name not in allowed for inner in fields_of(field.selections)):
            return False
    return True


customer_activities_field = strawberry.field(
    resolver=resolve_customer_activities,
    name="activities",
    description="The customer's activities, newest first (A3): type, time, assignee and whether reports are attached.",
)
