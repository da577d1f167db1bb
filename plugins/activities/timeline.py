"""The plugin's part of the customer timeline (G12): activities (kind ``ACTIVITY``, at
their start) and reports (kind ``REPORT``, when submitted), one statement per kind for
every location asked about."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy import select

from fiche.timeline import TimelineEntry, TimelineQuery, latest_per_location, together
from fiche.plugins.activities import models
from fiche.plugins.activities.services.sanitise import plain_text
from fiche.plugins.activities.reads import REPORT_COLUMNS, activity_from_row, activity_select, report_from_row
from fiche.plugins.activities.types import Activity, Report

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["ACTIVITY", "ActivityTimelineEntry", "REPORT", "REPORT_SOURCE", "ReportTimelineEntry", "SOURCE", "timeline_entries"]

SOURCE = "activities"
REPORT_SOURCE = "activity_reports"  # a source of its own: (source, id) is unique in the merged order
ACTIVITY = "ACTIVITY"
REPORT = "REPORT"
EXCERPT = 80


@strawberry.type(description="An activity in a customer's timeline (kind `ACTIVITY`, dated by its start).")
class ActivityTimelineEntry(TimelineEntry):
    activity: Activity = strawberry.field(description="The activity.")


@strawberry.type(description="A report submitted on an activity (kind `REPORT`, dated by its submission).")
class ReportTimelineEntry(TimelineEntry):
    report: Report = strawberry.field(description="The report.")

    @strawberry.field(description="The activity reported on.")
    async def activity(self, info: strawberry.Info) -> Activity:
        # A report is deleted with its activity, so the activity is always there.
        return await info.context.loaders["activities_by_id"].load(self.report.activity_pk)


# Descriptions up to this length have their excerpt kept (see _description_excerpt).
EXCERPT_KEPT_UP_TO = 2_000


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


@functools.lru_cache(maxsize=2048)
def _kept_excerpt(description: str) -> str:
    return _excerpt(plain_text(description))


def _description_excerpt(description: str | None) -> str:
    """The excerpt of a description's text. Parsing its HTML is most of building an entry
    (tens of µs a description, up to 20 per page) and the same activities come back page after page:
    the excerpt of a short description is kept, keyed by the description itself (it depends
    on nothing else, so nothing of one organisation can answer for another's text)."""
    if not description:
        return ""
    if len(description) > EXCERPT_KEPT_UP_TO:
        return _excerpt(plain_text(description))
    return _kept_excerpt(description)


def _activity_entry(row: Any) -> ActivityTimelineEntry:
    summary = row.type_name if row.assignee_name is None else f"{row.type_name} · {row.assignee_name}"
    text = _description_excerpt(row.description)
    return ActivityTimelineEntry(
        occurred_at=row.starts_at,
        kind=ACTIVITY,
        summary=f"{summary}: {text}" if text else summary,
        location_pk=row.location_id,
        source=SOURCE,
        source_pk=row.id,
        activity=activity_from_row(row),
    )


def _report_entry(row: Any) -> ReportTimelineEntry:
    return ReportTimelineEntry(
        occurred_at=row.submitted_at,
        kind=REPORT,
        summary=f"Report “{row.form_name}” on {row.type_name}",
        location_pk=row.location_id,
        source=REPORT_SOURCE,
        source_pk=row.id,
        report=report_from_row(row),
    )


async def timeline_entries(
    context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int
) -> list[TimelineEntry]:
    """The newest ``limit`` activities and reports of each location, as asked by ``query``."""
    wants_activities, wants_reports = query.wants(ACTIVITY), query.wants(REPORT)
    if not (wants_activities or wants_reports) or not location_ids:
        return []
    A, T, R, F = models.Activity, models.ActivityType, models.Report, models.ReportForm
    team_id = query.team_id

    def activities() -> Any:
        stmt = activity_select()  # carries type_name and assignee_name for the summary
        return stmt if team_id is None else stmt.where(A.team_id == team_id)

    def reports() -> Any:
        stmt = (
            select(*REPORT_COLUMNS, A.location_id, F.name.label("form_name"), T.name.label("type_name"))
            .join(A, A.id == R.activity_id)
            .join(F, F.id == R.form_id)
            .join(T, T.id == A.type_id)
        )
        return stmt if team_id is None else stmt.where(A.team_id == team_id)

    reads: list[Awaitable[list[TimelineEntry]]] = []
    async with context.read() as session:
        # The statements depend on the team only: each is built once per team and kept. Both
        # are asked at once: the timeline runs them with the other plugins' as one statement.
        if wants_activities:
            reads.append(latest_per_location(
                session, activities, location=A.location_id, occurred=A.starts_at, pk=A.id, source=SOURCE,
                location_ids=location_ids, query=query, limit=limit, build=_activity_entry, shape=(SOURCE, team_id),
            ))  # fmt: skip
        if wants_reports:
            reads.append(latest_per_location(
                session, reports, location=A.location_id, occurred=R.submitted_at, pk=R.id, source=REPORT_SOURCE,
                location_ids=location_ids, query=query, limit=limit, build=_report_entry, shape=(REPORT_SOURCE, team_id),
            ))  # fmt: skip
        return await together(*reads)
