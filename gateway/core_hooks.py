"""Hook implementations of the gateway itself: ``node`` / ``nodes``, organisation
settings, the timeline fields on ``Customer``, default authentication and file storage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fiche import hookimpl
from fiche.auth import Identity, decode_token
from fiche.nodes import NodeQueries
from fiche.org_settings import TIME_ZONE, OrganizationSettingSpec, SettingsMutations, SettingsQueries
from fiche.schema import TypeExtension
from fiche.storage import LocalFileStorage
from fiche.timeline import TimelineByCustomerLoader, TimelineEntry, latest_events_field, timeline_field

if TYPE_CHECKING:
    from fiche.context import OperationContext
    from fiche.settings import Settings


@hookimpl
def register_types() -> list[type]:
    return [TimelineEntry]


@hookimpl
def register_queries() -> list[type]:
    return [NodeQueries, SettingsQueries]


@hookimpl
def register_mutations() -> list[type]:
    return [SettingsMutations]


@hookimpl
def register_settings() -> list[OrganizationSettingSpec]:
    return [TIME_ZONE]


@hookimpl
def register_type_extensions() -> list[TypeExtension]:
    # Skipped by the schema builder when no plugin provides Customer.
    return [TypeExtension("Customer", [timeline_field, latest_events_field])]


@hookimpl
def register_loaders(context: OperationContext) -> dict[str, Any]:
    return {"timeline_by_customer": TimelineByCustomerLoader(context)}


@hookimpl(trylast=True)
def authenticate(token: str, settings: Settings) -> Identity | None:
    return decode_token(settings, token)


@hookimpl(trylast=True)
def file_storage(settings: Settings) -> Any:
    return LocalFileStorage(settings.upload_dir)
