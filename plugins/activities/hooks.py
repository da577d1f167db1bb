"""Hook implementations of the activities plugin (the only module the host registers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from starlette.routing import BaseRoute

from fiche import hookimpl
from fiche.files import remove_after_commit
from fiche.notifications import NotificationKind
from fiche.org_settings import OrganizationSettingSpec
from fiche.schema import TypeExtension
from fiche.plugins.activities import models, notifications, timeline
from fiche.plugins.activities.calendar import CalendarQueries
from fiche.plugins.activities.demo import seed_demo as seed_demo_data
from fiche.plugins.activities.insights import InsightsByCustomerLoader, customer_insights_field
from fiche.plugins.activities.loaders import make_loaders
from fiche.plugins.activities.mutations import MUTATIONS
from fiche.plugins.activities.mutations.activities import delete_activities
from fiche.plugins.activities.nodes import NODE_RESOLVERS
from fiche.plugins.activities.queries import ActivityQueries, customer_activities_field
from fiche.plugins.activities.route_plan import RoutePlanQueries, activity_stops
from fiche.plugins.activities.routes import routes
from fiche.plugins.activities.services import providers
from fiche.plugins.activities.services.settings import SETTINGS
from fiche.plugins.activities.types import (
    Activity,
    ActivityAttachment,
    ActivityType,
    Report,
    ReportForm,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext
    from fiche.demo import DemoContext
    from fiche.interop import AssistantDraft, AssistantRequest, CustomerFacts, Insights, RouteStop
    from fiche.settings import Settings
    from fiche.timeline import TimelineEntry, TimelineQuery

MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"


@hookimpl
def register_types() -> list[type]:
    return [Activity, ActivityType, ReportForm, Report, ActivityAttachment, timeline.ActivityTimelineEntry, timeline.ReportTimelineEntry]


@hookimpl
def register_queries() -> list[type]:
    return [ActivityQueries, CalendarQueries, RoutePlanQueries]


@hookimpl
def register_mutations() -> list[type]:
    return list(MUTATIONS)


@hookimpl
def register_type_extensions() -> list[TypeExtension]:
    return [TypeExtension("Customer", [customer_activities_field, customer_insights_field])]


@hookimpl
def register_loaders(context: OperationContext) -> dict[str, Any]:
    return {**make_loaders(context), "insights_by_customer": InsightsByCustomerLoader(context)}


@hookimpl
def register_node_types() -> dict[str, Any]:
    return dict(NODE_RESOLVERS)


@hookimpl
def register_subject_types() -> list[str]:
    # Notes on an activity ("Ajouter des notes" in the activity view): its note history (N8).
    return ["Activity"]


@hookimpl
def customer_subjects() -> dict[str, Any]:
    # An activity's notes show on the timeline of its customer or branch (N8).
    return {"Activity": select(models.Activity.id, models.Activity.location_id)}


@hookimpl
def register_notification_kinds() -> list[NotificationKind]:
    return list(notifications.KINDS)


@hookimpl
def register_settings() -> list[OrganizationSettingSpec]:
    return list(SETTINGS)


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
async def route_stops(context: OperationContext, user_id: int, day: dt.date) -> list[RouteStop]:
    return await activity_stops(context, user_id, day)


@hookimpl
async def customer_insights(context: OperationContext, facts: CustomerFacts) -> Insights:
    return await providers.insights(context.settings, facts)


@hookimpl
async def report_assistant(context: OperationContext, request: AssistantRequest) -> AssistantDraft:
    return await providers.assistant(context.settings, request)


@hookimpl
async def merge_customers(session: AsyncSession, source_id: int, target_id: int) -> None:
    await session.execute(
        update(models.Activity)
        .where(models.Activity.location_id == source_id)
        .values(location_id=target_id)
        .execution_options(synchronize_session=False)
    )


@hookimpl
async def customer_deleted(session: AsyncSession, customer_id: int, context: OperationContext) -> None:
    # The customer's activities go with it; their attachments' files once the deletion commits.
    ids = list((await session.scalars(select(models.Activity.id).where(models.Activity.location_id == customer_id))).all())
    remove_after_commit(context, await delete_activities(context, session, ids))


@hookimpl
async def seed_demo(demo: DemoContext) -> None:
    await seed_demo_data(demo)
