"""The planning filter (I2) as a hashable value, and the SQL it becomes.

One filter serves the list, calendar and timeline views, at the root (the planning) and on
``Customer.interventions``; equal filters batch together in the loaders.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy import and_, func, or_, select

from fiche.relay import AnySelect, SortKey
from fiche.text import fold, like_pattern
from fiche.plugins.interventions import models
from fiche.plugins.interventions.services.status import InterventionStatus, Today, status_expression

if TYPE_CHECKING:
    from fiche.auth import Viewer

__all__ = ["InterventionOrder", "InterventionQuery", "apply_query", "sort_keys"]

I = models.Intervention


@strawberry.enum(description="How interventions are ordered.")
class InterventionOrder(enum.Enum):
    APPOINTMENT = strawberry.enum_value("APPOINTMENT", description="By appointment, earliest first; unscheduled ones last (the planning).")
    NEWEST = strawberry.enum_value("NEWEST", description="By number, the latest created first.")


@dataclasses.dataclass(frozen=True, slots=True)
class InterventionQuery:
    """What ``interventions(filter:)`` asks for, decoded and checked."""

    search: str | None = None
    type_ids: frozenset[int] | None = None
    address_ids: frozenset[int] | None = None
    technician_ids: frozenset[int] | None = None
    archived: bool | None = False
    statuses: frozenset[InterventionStatus] | None = None
    has_appointment: bool | None = None
    has_quote: bool | None = None
    to_invoice: bool | None = None
    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None
    order: InterventionOrder = InterventionOrder.APPOINTMENT


def sort_keys(order: InterventionOrder) -> tuple[SortKey, ...]:
    if order is InterventionOrder.NEWEST:
        return (SortKey(I.number, descending=True),)
    return (SortKey(I.starts_at), SortKey(I.id))


def apply_query(stmt: AnySelect, query: InterventionQuery, today: Today, pm: Any, viewer: Viewer) -> AnySelect:
    """``stmt`` (over ``interventions``) narrowed to what ``query`` keeps for ``viewer`` (who may
    not know of quotes: the plugin that keeps them decides, see ``intervention_quote_condition``)."""
    conditions: list[Any] = []
    if query.search:
        folded = fold(query.search.strip())
        matches: list[Any] = [I.search_title.like(like_pattern(folded), escape="\\")]
        digits = folded.lstrip("#")
        if digits.isdigit() and len(digits) <= 9:
            matches.append(I.number == int(digits))
        conditions.append(or_(*matches))
    if query.type_ids is not None:
        conditions.append(I.type_id.in_(sorted(query.type_ids)))
    if query.address_ids is not None:
        conditions.append(I.address_id.in_(sorted(query.address_ids)))
    if query.technician_ids is not None:
        link = models.InterventionTechnician
        conditions.append(I.id.in_(select(link.intervention_id).where(link.user_id.in_(sorted(query.technician_ids)))))
    if query.archived is not None:
        conditions.append(I.archived.is_(query.archived))
    if query.statuses is not None:
        conditions.append(status_expression(today).in_(sorted(status.name for status in query.statuses)))
    if query.has_appointment is not None:
        conditions.append(I.starts_at.is_not(None) if query.has_appointment else I.starts_at.is_(None))
    if query.has_quote is not None:
        condition = pm.hook.intervention_quote_condition(intervention_id=I.id, has_quote=query.has_quote, viewer=viewer)
        if condition is not None:
            conditions.append(condition)
    if query.to_invoice is not None:
        conditions.append(I.to_invoice.is_(query.to_invoice))
    # The appointment overlaps [from, to): what a calendar of that period shows.
    if query.date_from is not None:
        conditions.append(func.coalesce(I.ends_at, I.starts_at) >= query.date_from)
    if query.date_to is not None:
        conditions.append(I.starts_at < query.date_to)
    return stmt.where(and_(*conditions)) if conditions else stmt
