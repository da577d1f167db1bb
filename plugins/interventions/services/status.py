"""The status of an intervention, derived from its appointment and its completion (I1).

Computed in SQL (:func:`status_expression`) so that filtering by status and keyset paging
see the same value. "Today" is the organisation's day (setting
``organization.time_zone``), passed to the statement as two UTC instants.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import zoneinfo
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy import and_, case, exists, func, literal, not_, select

from fiche.db import utcnow
from fiche.org_settings import organization_zone
from fiche.plugins.interventions import models

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["InterventionStatus", "Today", "WorksiteStatus", "day_bounds", "status_expression", "today", "worksite_status_expression"]


@strawberry.enum(description="Where an intervention stands, from its appointment and its report.")
class InterventionStatus(enum.Enum):
    LATE = strawberry.enum_value("LATE", description="Its appointment ended before today and it is not done.")
    TODAY = strawberry.enum_value("TODAY", description="Its appointment is (at least partly) today and it is not done.")
    UPCOMING = strawberry.enum_value("UPCOMING", description="Its appointment starts after today.")
    DONE = strawberry.enum_value("DONE", description="A technician completed it with a report.")
    UNSCHEDULED = strawberry.enum_value("UNSCHEDULED", description="It has no appointment and is not done.")


@dataclasses.dataclass(frozen=True, slots=True)
class Today:
    """The organisation's current day as UTC instants: ``start <= t < end``."""

    start: dt.datetime
    end: dt.datetime
    date: dt.date
    """The day itself, in the organisation's time zone."""


def day_bounds(day: dt.date, zone: zoneinfo.ZoneInfo) -> Today:
    """The UTC instants at which ``day`` starts and ends in ``zone`` (23 or 25 hours on
    the days the clocks change)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return Today(start.astimezone(dt.UTC), end.astimezone(dt.UTC), day)


async def today(context: OperationContext) -> Today:
    """Today in the organisation's time zone, read once per operation."""
    key = "interventions.today"
    if key not in context.memo:
        zone = await organization_zone(context)
        context.memo[key] = day_bounds(utcnow().astimezone(zone).date(), zone)
    value: Today = context.memo[key]
    return value


def status_expression(bounds: Today) -> Any:
    """SQL for the status name (``"LATE"``...) of the ``interventions`` row."""
    i = models.Intervention
    last = func.coalesce(i.ends_at, i.starts_at)
    return case(
        (i.completed_at.is_not(None), literal("DONE")),
        (i.starts_at.is_(None), literal("UNSCHEDULED")),
        (last < bounds.start, literal("LATE")),
        (i.starts_at >= bounds.end, literal("UPCOMING")),
        else_=literal("TODAY"),
    )


@strawberry.enum(description="Where a worksite stands, from its dates and its interventions.")
class WorksiteStatus(enum.Enum):
    PLANNED = strawberry.enum_value("PLANNED", description="It starts after today.")
    IN_PROGRESS = strawberry.enum_value("IN_PROGRESS", description="It started, and is not over or still has interventions to do.")
    DONE = strawberry.enum_value("DONE", description="Its end date passed and every intervention of it is done (or archived).")


def worksite_status_expression(bounds: Today) -> Any:
    """SQL for the status name (``"PLANNED"``...) of the ``worksites`` row."""
    w, i = models.Worksite, models.Intervention
    open_work = exists(select(i.id).where(i.worksite_id == w.id, i.completed_at.is_(None), i.archived.is_(False)))
    return case(
        (w.starts_on > bounds.date, literal("PLANNED")),
        (and_(w.ends_on.is_not(None), w.ends_on < bounds.date, not_(open_work)), literal("DONE")),
        else_=literal("IN_PROGRESS"),
    )
