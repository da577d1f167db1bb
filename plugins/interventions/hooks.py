"""Hook implementations of the interventions plugin (the only module the host registers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from starlette.routing import BaseRoute

from fiche import hookimpl
from fiche.notifications import NotificationKind
from fiche.schema import TypeExtension
from fiche.plugins.interventions import interop, kinds, lifecycle, models, nodes, timeline
from fiche.plugins.interventions.loaders import make_loaders
from fiche.plugins.interventions.mutations import MUTATIONS
from fiche.plugins.interventions.queries import CUSTOMER_FIELDS, InterventionFilter, InterventionQueries, MaintenanceVisitFilter, WorksiteFilter
from fiche.plugins.interventions.routes import routes
from fiche.plugins.interventions.types import (
    Equipment,
    EquipmentPicture,
    Intervention,
    InterventionPhoto,
    InterventionReport,
    InterventionType,
    MaintenancePlan,
    MaintenanceVisit,
    Worksite,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext
    from fiche.demo import DemoContext
    from fiche.interop import BillableWork, RouteStop
    from fiche.settings import Settings
    from fiche.timeline import TimelineEntry, TimelineQuery

MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"


@hookimpl
def register_types() -> list[type]:
    # InterventionFilter is listed so that its `hasQuote` field follows requires_hook.
    return [
        Intervention, InterventionType, InterventionReport, InterventionPhoto, Equipment, EquipmentPicture, Worksite,
        MaintenancePlan, MaintenanceVisit, InterventionFilter, WorksiteFilter, MaintenanceVisitFilter, timeline.InterventionTimelineEntry,
    ]  # fmt: skip


@hookimpl
def register_queries() -> list[type]:
    return [InterventionQueries]


@hookimpl
def register_mutations() -> list[type]:
    return list(MUTATIONS)


@hookimpl
def register_type_extensions() -> list[TypeExtension]:
    return [TypeExtension("Customer", CUSTOMER_FIELDS)]


@hookimpl
def register_loaders(context: OperationContext) -> dict[str, Any]:
    return make_loaders(context)


@hookimpl
def register_node_types() -> dict[str, Any]:
    return dict(nodes.NODE_RESOLVERS)


@hookimpl
def register_subject_types() -> list[str]:
    return ["Intervention", "Equipment", "Worksite"]


@hookimpl
def customer_subjects() -> dict[str, Any]:
    # The notes of an intervention, a piece of equipment or a worksite show on its
    # customer's timeline (N8).
    return {model.__name__: select(model.id, model.customer_id) for model in (models.Intervention, models.Equipment, models.Worksite)}


@hookimpl
def register_notification_kinds() -> list[NotificationKind]:
    return list(kinds.KINDS)


@hookimpl
def notification_visibility(context: OperationContext, object_ids: Sequence[str]) -> Any:
    # No answer at all (None) when no intervention is asked about: no statement, no task.
    wanted = nodes.intervention_ids(object_ids)
    return nodes.notification_visibility(context, wanted) if wanted else None


@hookimpl
def register_migrations() -> list[Path]:
    return [MIGRATIONS]


@hookimpl
def register_routes(settings: Settings) -> Sequence[BaseRoute]:
    return routes()


@hookimpl
async def timeline_entries(context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int) -> list[TimelineEntry]:
    return await timeline.timeline_entries(context, location_ids, query, limit)


@hookimpl
async def merge_customers(session: AsyncSession, source_id: int, target_id: int) -> None:
    await lifecycle.merge_customer_rows(session, source_id, target_id)


@hookimpl
async def customer_deleted(session: AsyncSession, customer_id: int, context: OperationContext) -> None:
    await lifecycle.delete_customer_rows(session, customer_id, context)


@hookimpl
async def intervention_customers(session: AsyncSession, intervention_ids: Sequence[int]) -> dict[int, int]:
    return await interop.intervention_customers(session, intervention_ids)


@hookimpl
async def billable_work(context: OperationContext, customer_id: int, work_ids: Sequence[int] | None) -> list[BillableWork]:
    return await interop.billable_work(context, customer_id, work_ids)


@hookimpl
async def work_invoiced(context: OperationContext, work: Sequence[BillableWork], document_id: str) -> None:
    await interop.work_invoiced(context, work, document_id)


@hookimpl
async def work_released(context: OperationContext, document_id: str) -> None:
    await interop.work_released(context, document_id)


@hookimpl
async def route_stops(context: OperationContext, user_id: int, day: dt.date) -> list[RouteStop]:
    return await interop.route_stops(context, user_id, day)


@hookimpl
async def seed_demo(demo: DemoContext) -> None:
    from fiche.plugins.interventions.demo import seed_demo as seed

    await seed(demo)
