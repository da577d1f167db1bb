"""Root queries (the planning, intervention types) and the fields added to ``Customer``:
``interventions`` (I2, with branches) and ``equipment`` (I3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Protocol

import strawberry
from sqlalchemy import select

from fiche.cost import list_size
from fiche.datetimes import require_instant
from fiche.errors import PublicError
from fiche.execution import batched
from fiche.relay import Connection, InvalidID, decode_id, page_size, paginate
from fiche.schema import requires_hook
from fiche.plugins.interventions import models
from fiche.plugins.interventions.filters import InterventionOrder, InterventionQuery, apply_query, sort_keys
from fiche.plugins.interventions.loaders import CustomerEquipmentKey, CustomerInterventionsKey, CustomerPlansKey, CustomerWorksitesKey, visible_interventions
from fiche.plugins.interventions.maintenance import VisitQuery, visits_of
from fiche.plugins.interventions.reads import TYPE_COLUMNS, InterventionBuilder, type_from_row
from fiche.plugins.interventions.services.bounds import MAX_FILTER_IDS, MAX_INTERVENTION_TYPES, MAX_SEARCH
from fiche.plugins.interventions.services.recurrence import FIRST_DAY, LAST_DAY, MAX_OCCURRENCES, MAX_PERIOD_DAYS
from fiche.plugins.interventions.services.status import InterventionStatus, WorksiteStatus, today
from fiche.plugins.interventions.types import Equipment, Intervention, InterventionType, MaintenancePlan, MaintenanceVisit, Worksite

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["CUSTOMER_FIELDS", "InterventionFilter", "InterventionQueries", "MaintenanceVisitFilter", "WorksiteFilter"]


@strawberry.input(description="Which interventions to list (I2). Every condition given must hold.")
class InterventionFilter:
    search: str | None = strawberry.field(default=None, description="Words of the title (accents and case ignored), or the intervention's number.")
    type_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only interventions of these types.")
    address_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only interventions at these addresses.")
    technician_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only interventions assigned to at least one of these users.")
    archived: bool | None = strawberry.field(default=False, description="Archived ones (true), the others (false, the default) or both (null).")
    statuses: list[InterventionStatus] | None = strawberry.field(default=None, description="Only interventions in these statuses.")
    has_appointment: bool | None = strawberry.field(default=None, description="Only scheduled (true) or unscheduled (false) interventions.")
    has_quote: bool | None = strawberry.field(
        default=None,
        description="Only interventions with (true) or without (false) a linked quote, as your role lets you know of quotes; present when a plugin keeps quotes.",
        metadata=requires_hook("intervention_quote_condition"),
    )
    to_invoice: bool | None = strawberry.field(default=None, description="Only interventions flagged to invoice (true) or not (false).")
    from_: dt.datetime | None = strawberry.field(default=None, name="from", description="Only appointments that end at or after this time.")
    to: dt.datetime | None = strawberry.field(default=None, description="Only appointments that start before this time.")


def _ids(values: list[strawberry.ID] | None, type_name: str, name: str) -> frozenset[int] | None:
    if values is None:
        return None
    if len(values) > MAX_FILTER_IDS:
        raise PublicError.bad_request(f"`filter.{name}` takes at most {MAX_FILTER_IDS} IDs.")
    try:
        return frozenset(decode_id(value, type_name)[1] for value in values)
    except InvalidID as exc:
        raise PublicError.bad_request(f"filter.{name}: {exc}") from exc


def decode_filter(filter: InterventionFilter | None, order: InterventionOrder) -> InterventionQuery:
    """The query ``filter`` asks for; BAD_USER_INPUT for a malformed one."""
    if filter is None:
        return InterventionQuery(order=order)
    if filter.search is not None and len(filter.search) > MAX_SEARCH:
        raise PublicError.bad_request(f"`filter.search` is at most {MAX_SEARCH} characters.")
    date_from = require_instant(filter.from_, "filter.from")
    date_to = require_instant(filter.to, "filter.to")
    if date_from is not None and date_to is not None and date_to < date_from:
        raise PublicError.bad_request("`filter.to` must not be before `filter.from`.")
    return InterventionQuery(
        search=filter.search.strip() or None if filter.search is not None else None,
        type_ids=_ids(filter.type_ids, "InterventionType", "typeIds"),
        address_ids=_ids(filter.address_ids, "Address", "addressIds"),
        technician_ids=_ids(filter.technician_ids, "User", "technicianIds"),
        archived=filter.archived,
        statuses=frozenset(filter.statuses) if filter.statuses is not None else None,
        has_appointment=filter.has_appointment,
        has_quote=filter.has_quote,
        to_invoice=filter.to_invoice,
        date_from=date_from,
        date_to=date_to,
        order=order,
    )


FILTER_ARGUMENT = strawberry.argument(description="Which interventions; by default every one not archived (that you may see).")
ORDER_ARGUMENT = strawberry.argument(description="The order; by appointment by default.")
FIRST_ARGUMENT = strawberry.argument(description="How many interventions to return (the page size).")
AFTER_ARGUMENT = strawberry.argument(description="Return the interventions after this cursor.")


@strawberry.type
class InterventionQueries:
    @strawberry.field(description="The planning: interventions of every customer, for the list, calendar and timeline views (I2). Technicians see their own.")
    async def interventions(
        self,
        info: strawberry.Info,
        filter: Annotated[InterventionFilter | None, FILTER_ARGUMENT] = None,
        order_by: Annotated[InterventionOrder, ORDER_ARGUMENT] = InterventionOrder.APPOINTMENT,
        first: Annotated[int | None, FIRST_ARGUMENT] = None,
        after: Annotated[str | None, AFTER_ARGUMENT] = None,
    ) -> Connection[Intervention]:
        context: OperationContext = info.context
        size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
        query = decode_filter(filter, order_by)
        stmt = apply_query(await visible_interventions(context), query, await today(context), context.pm, context.require_viewer())
        async with context.read() as session:
            return await paginate(session, stmt, sort_keys(order_by), first=size, after=after, build=InterventionBuilder())

    @strawberry.field(description="Your organisation's intervention types, by name.", metadata=list_size(MAX_INTERVENTION_TYPES))
    async def intervention_types(
        self,
        info: strawberry.Info,
        include_archived: Annotated[bool, strawberry.argument(description="Also the archived types.")] = False,
    ) -> list[InterventionType]:
        context: OperationContext = info.context
        context.require_viewer()
        T = models.InterventionType
        stmt = select(*TYPE_COLUMNS).order_by(T.name, T.id)
        if not include_archived:
            stmt = stmt.where(T.archived.is_(False))
        async with context.read() as session:
            rows = (await session.execute(stmt.limit(MAX_INTERVENTION_TYPES))).all()
        return [type_from_row(row) for row in rows]


class HasPk(Protocol):
    pk: int


@batched
async def resolve_customer_interventions(
    roots: Sequence[HasPk],
    info: strawberry.Info,
    filter: Annotated[InterventionFilter | None, FILTER_ARGUMENT] = None,
    include_branches: Annotated[bool, strawberry.argument(description="Also the interventions of the customer's branches (every level).")] = False,
    order_by: Annotated[InterventionOrder, ORDER_ARGUMENT] = InterventionOrder.APPOINTMENT,
    first: Annotated[int | None, FIRST_ARGUMENT] = None,
    after: Annotated[str | None, AFTER_ARGUMENT] = None,
) -> list[Connection[Intervention]]:
    context: OperationContext = info.context
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    query = decode_filter(filter, order_by)
    keys = [CustomerInterventionsKey(root.pk, size, after, query, include_branches) for root in roots]
    return await context.loaders["interventions_by_customer"].load_many(keys)


@batched
async def resolve_customer_equipment(
    roots: Sequence[HasPk],
    info: strawberry.Info,
    first: Annotated[int | None, strawberry.argument(description="How many to return (the page size).")] = None,
    after: Annotated[str | None, strawberry.argument(description="Return the equipment after this cursor.")] = None,
) -> list[Connection[Equipment]]:
    context: OperationContext = info.context
    context.require_viewer()
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    return await context.loaders["equipment_by_customer"].load_many([CustomerEquipmentKey(root.pk, size, after) for root in roots])


@strawberry.input(description="Which worksites of a customer to list.")
class WorksiteFilter:
    statuses: list[WorksiteStatus] | None = strawberry.field(default=None, description="Only worksites in these statuses.")


@batched
async def resolve_customer_worksites(
    roots: Sequence[HasPk],
    info: strawberry.Info,
    filter: Annotated[WorksiteFilter | None, strawberry.argument(description="Which worksites; all by default.")] = None,
    first: Annotated[int | None, strawberry.argument(description="How many to return (the page size).")] = None,
    after: Annotated[str | None, strawberry.argument(description="Return the worksites after this cursor.")] = None,
) -> list[Connection[Worksite]]:
    context: OperationContext = info.context
    context.require_viewer()
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    statuses = frozenset(filter.statuses) if filter is not None and filter.statuses is not None else None
    return await context.loaders["worksites_by_customer"].load_many([CustomerWorksitesKey(root.pk, size, after, statuses) for root in roots])


@batched
async def resolve_customer_plans(
    roots: Sequence[HasPk],
    info: strawberry.Info,
    first: Annotated[int | None, strawberry.argument(description="How many to return (the page size).")] = None,
    after: Annotated[str | None, strawberry.argument(description="Return the plans after this cursor.")] = None,
) -> list[Connection[MaintenancePlan]]:
    context: OperationContext = info.context
    context.require_viewer()
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    return await context.loaders["maintenance_plans_by_customer"].load_many([CustomerPlansKey(root.pk, size, after) for root in roots])


@strawberry.input(description=f"Which maintenance visits to list: a period of at most {MAX_PERIOD_DAYS} days.")
class MaintenanceVisitFilter:
    from_: dt.date = strawberry.field(name="from", description="The first day of the period.")
    to: dt.date = strawberry.field(description="The day after the period (exclusive).")
    assigned_user_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only the plans assigned to these users.")


def _visit_query(filter: MaintenanceVisitFilter) -> VisitQuery:
    if filter.from_ < FIRST_DAY or filter.to > LAST_DAY + dt.timedelta(days=1):
        raise PublicError.bad_request("Maintenance visits are listed between 2000 and 2100.")
    if filter.to <= filter.from_:
        raise PublicError.bad_request("`filter.to` must be after `filter.from`.")
    if (filter.to - filter.from_).days > MAX_PERIOD_DAYS:
        raise PublicError.bad_request(f"A period of maintenance visits is at most {MAX_PERIOD_DAYS} days.")
    return VisitQuery(filter.from_, filter.to, _ids(filter.assigned_user_ids, "User", "assignedUserIds"))


@batched
async def resolve_customer_visits(
    roots: Sequence[HasPk],
    info: strawberry.Info,
    filter: Annotated[MaintenanceVisitFilter, strawberry.argument(description="The period, and optionally the assignees.")],
) -> list[list[MaintenanceVisit]]:
    context: OperationContext = info.context
    context.require_viewer()
    found = await visits_of(context, [root.pk for root in roots], _visit_query(filter))
    return [found.get(root.pk, []) for root in roots]


CUSTOMER_FIELDS = [
    strawberry.field(
        resolver=resolve_customer_interventions,
        name="interventions",
            description="The customer's interventions (I2), with the planning's filters; technicians see their own.",
    ),
    strawberry.field(resolver=resolve_customer_equipment, name="equipment", description="The customer's equipment (I3), by name."),
    strawberry.field(resolver=resolve_customer_worksites, name="worksites", description="The customer's worksites (I4), the latest started first."),
    strawberry.field(resolver=resolve_customer_plans, name="maintenancePlans", description="The customer's maintenance plans (I5), by name."),
    strawberry.field(
        resolver=resolve_customer_visits,
        name="maintenanceVisits",
        description=f"The visits due by the customer's maintenance plans over a period (I5): done, planned or unplanned, by day (at most {MAX_OCCURRENCES}).",
        metadata=list_size(MAX_OCCURRENCES),
    ),
]
