"""Maintenance visits (I5): the occurrences of customers' plans over a period, each DONE
(its intervention completed), PLANNED (an intervention scheduled for it) or UNPLANNED.
Two statements for every customer asked about, whatever the number of plans."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from fiche.plugins.interventions import models
from fiche.plugins.interventions.reads import PLAN_COLUMNS, plan_from_row
from fiche.plugins.interventions.services.recurrence import MAX_OCCURRENCES, RecurrenceError, occurrences, parse_rule
from fiche.plugins.interventions.types import MaintenanceVisit, MaintenanceVisitStatus

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["VisitQuery", "visits_of"]


@dataclasses.dataclass(frozen=True, slots=True)
class VisitQuery:
    """The period ``[date_from, date_to)`` and the plans' assignees asked for."""

    date_from: dt.date
    date_to: dt.date
    assigned_user_ids: frozenset[int] | None = None


async def visits_of(context: OperationContext, customer_pks: Sequence[int], query: VisitQuery) -> dict[int, list[MaintenanceVisit]]:
    """The visits of each customer's plans in the period, by day then plan name."""
    M, I = models.MaintenancePlan, models.Intervention
    stmt = select(*PLAN_COLUMNS).where(
        M.customer_id.in_(sorted(set(customer_pks))),
        M.starts_on < query.date_to,
        or_(M.ends_on.is_(None), M.ends_on >= query.date_from),
    )
    if query.assigned_user_ids is not None:
        stmt = stmt.where(M.assigned_user_id.in_(sorted(query.assigned_user_ids)))
    async with context.read() as session:
        plans = [plan_from_row(row) for row in (await session.execute(stmt.order_by(M.id))).all()]
        made: dict[tuple[int, dt.date], tuple[int, bool]] = {}
        if plans:
            linked = select(I.maintenance_plan_id, I.occurrence, I.id, I.completed_at).where(
                I.maintenance_plan_id.in_([plan.pk for plan in plans]), I.occurrence >= query.date_from, I.occurrence < query.date_to
            )
            for row in (await session.execute(linked)).all():
                made[(row.maintenance_plan_id, row.occurrence)] = (row.id, row.completed_at is not None)
    budget = MAX_OCCURRENCES
    found: dict[int, list[MaintenanceVisit]] = defaultdict(list)
    for plan in plans:
        try:
            rule = parse_rule(plan.recurrence, plan.starts_on)
        except RecurrenceError:  # a rule accepted once and refused now (a stricter check): no visit due
            days: list[dt.date] = []
        else:
            days = occurrences(rule, query.date_from, query.date_to, plan.ends_on, budget)
        budget -= len(days)
        for day in sorted(set(days) | {occurrence for plan_pk, occurrence in made if plan_pk == plan.pk}):
            intervention = made.get((plan.pk, day))
            if intervention is None:
                status = MaintenanceVisitStatus.UNPLANNED
            else:
                status = MaintenanceVisitStatus.DONE if intervention[1] else MaintenanceVisitStatus.PLANNED
            found[plan.customer_pk].append(
                MaintenanceVisit(plan=plan, occurrence=day, status=status, intervention_pk=intervention[0] if intervention else None)
            )
    for visits in found.values():
        visits.sort(key=lambda visit: (visit.occurrence, visit.plan.name, visit.plan.pk))
    return found
