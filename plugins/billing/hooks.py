"""Hook implementations of the billing plugin: its schema, loaders, node types,
notification kinds, settings, timeline part, routes, lifecycle answers to the customers
plugin, the facts it gives other plugins (hasQuote, sales), the quotes and invoice of an
intervention, demo data and migrations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fiche import hookimpl
from fiche.documents import document_route
from fiche.notifications import NotificationKind
from fiche.org_settings import OrganizationSettingSpec
from fiche.schema import TypeExtension
from fiche.plugins.billing import demo as demo_data
from fiche.plugins.billing import lifecycle, loaders, models, notices, orders, pdf, timeline
from fiche.plugins.billing.fields import CUSTOMER_FIELDS
from fiche.plugins.billing.intervention_fields import INTERVENTION_FIELDS
from fiche.plugins.billing.inputs import BillingInformationInput, QuoteCreateInput
from fiche.plugins.billing.mutations import MUTATIONS
from fiche.plugins.billing.nodes import NODE_RESOLVERS
from fiche.plugins.billing.seller import SETTINGS
from fiche.plugins.billing.types import (
    DOWNLOAD_PATH,
    BillingDocument,
    BillingDocumentTimelineEntry,
    BillingInformation,
    Payment,
    PaymentReceivedTimelineEntry,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.routing import BaseRoute

    from fiche.auth import Viewer
    from fiche.context import OperationContext
    from fiche.demo import DemoContext
    from fiche.settings import Settings
    from fiche.timeline import TimelineQuery

MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"


@hookimpl
def register_types() -> list[type]:
    # The inputs are listed so that their fields needing another plugin's hook leave the schema without it.
    return [
        BillingDocument,
        BillingInformation,
        Payment,
        orders.Order,
        BillingDocumentTimelineEntry,
        PaymentReceivedTimelineEntry,
        QuoteCreateInput,
        BillingInformationInput,
    ]


@hookimpl
def register_mutations() -> list[type]:
    return [*MUTATIONS, orders.OrderMutations]


@hookimpl
def register_type_extensions() -> list[TypeExtension]:
    # Intervention's fields go with the interventions plugin: an extension of an absent type is skipped.
    return [TypeExtension("Customer", [*CUSTOMER_FIELDS, *orders.CUSTOMER_FIELDS]), TypeExtension("Intervention", INTERVENTION_FIELDS)]


@hookimpl
def register_loaders(context: OperationContext) -> dict[str, Any]:
    return {**loaders.make_loaders(context), **orders.make_loaders(context)}


@hookimpl
def register_node_types() -> dict[str, Any]:
    return {**NODE_RESOLVERS, "Order": orders.load_orders}


@hookimpl
def register_subject_types() -> list[str]:
    return ["Order"]


@hookimpl
def customer_subjects() -> dict[str, Any]:
    # An order's notes show on its customer's timeline (N8).
    return {"Order": select(models.Order.id, models.Order.customer_id)}


@hookimpl
def register_notification_kinds() -> list[NotificationKind]:
    return list(notices.KINDS)


@hookimpl
def register_settings() -> list[OrganizationSettingSpec]:
    return list(SETTINGS)


@hookimpl
def register_routes(settings: Settings) -> Sequence[BaseRoute]:
    return [document_route(DOWNLOAD_PATH, "BillingDocument", pdf.render_document)]


@hookimpl
def timeline_entries(context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int) -> Any:
    return timeline.timeline_entries(context, location_ids, query, limit)


@hookimpl
def customer_deletion_blockers(session: AsyncSession, customer_id: int) -> Any:
    return lifecycle.deletion_blockers(session, customer_id)


@hookimpl
def customer_deleted(session: AsyncSession, customer_id: int) -> Any:
    return lifecycle.delete_customer_rows(session, customer_id)


@hookimpl
def merge_customers(session: AsyncSession, source_id: int, target_id: int) -> Any:
    return lifecycle.merge_customer_rows(session, source_id, target_id)


@hookimpl
def intervention_quote_condition(intervention_id: Any, has_quote: bool, viewer: Viewer) -> Any:
    return lifecycle.quote_condition(intervention_id, has_quote, viewer)


@hookimpl
def customer_sales(context: OperationContext, customer_ids: Sequence[int]) -> Any:
    return lifecycle.sales(context, customer_ids)


@hookimpl
def seed_demo(demo: DemoContext) -> Any:
    return demo_data.seed_demo(demo)


@hookimpl
def register_migrations() -> list[Path]:
    return [MIGRATIONS]

