"""Hook implementations of the customers plugin (the only module the plugin manager loads)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fiche import hookimpl
from fiche.plugins.customers import custom_field_types, loaders, routes, timeline
from fiche.plugins.customers.demo import seed
from fiche.plugins.customers.mutations import MUTATIONS
from fiche.plugins.customers.nodes import NODE_RESOLVERS
from fiche.plugins.customers.queries import CustomerQueries
from fiche.plugins.customers.services import hierarchy
from fiche.plugins.customers.types import Address, Contact, Customer, CustomerDocument, CustomerRelation

if TYPE_CHECKING:
    from aiodataloader import DataLoader
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.routing import BaseRoute

    from fiche.context import OperationContext
    from fiche.demo import DemoContext
    from fiche.directory import CustomerLocation
    from fiche.settings import Settings
    from fiche.timeline import TimelineEntry, TimelineQuery

MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"


@hookimpl
def register_types() -> list[type]:
    return [
        Customer,
        Contact,
        Address,
        CustomerDocument,
        CustomerRelation,
        custom_field_types.CustomField,
        *custom_field_types.VALUE_TYPES,
        timeline.CustomerEventEntry,
    ]


@hookimpl
def register_queries() -> list[type]:
    return [CustomerQueries]


@hookimpl
def register_mutations() -> list[type]:
    return list(MUTATIONS)


@hookimpl
def register_loaders(context: OperationContext) -> Mapping[str, DataLoader[Any, Any]]:
    return loaders.make_loaders(context)


@hookimpl
def register_node_types() -> Mapping[str, Any]:
    return NODE_RESOLVERS


@hookimpl
def register_subject_types() -> list[str]:
    return ["Customer"]


@hookimpl
def register_migrations() -> list[Path]:
    return [MIGRATIONS]


@hookimpl
def register_routes(settings: Settings) -> Sequence[BaseRoute]:
    return routes.routes()


@hookimpl
async def customer_branches(session: AsyncSession, customer_ids: Sequence[int]) -> Mapping[int, Sequence[int]]:
    return await hierarchy.branches_of(session, customer_ids)


@hookimpl
async def customer_locations(session: AsyncSession, customer_ids: Sequence[int]) -> Mapping[int, CustomerLocation]:
    return await hierarchy.locations_of(session, customer_ids)


@hookimpl
async def customer_addresses(session: AsyncSession, address_ids: Sequence[int]) -> Mapping[int, Mapping[str, Any]]:
    return await hierarchy.addresses_of(session, address_ids)


@hookimpl
async def timeline_entries(
    context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int
) -> Sequence[TimelineEntry]:
    return await timeline.timeline_entries(context, location_ids, query, limit)


@hookimpl
async def seed_demo(demo: DemoContext) -> None:
    await seed(demo)
