"""Hook implementations of the gateway itself: ``node`` / ``nodes``, organisation
settings, the timeline fields on ``Customer``, default authentication and file storage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway import hookimpl
from gateway.auth import Identity, decode_token
from gateway.nodes import NodeQueries
from gateway.org_settings import SettingsMutations, SettingsQueries
from gateway.schema import TypeExtension
from gateway.storage import LocalFileStorage
from gateway.timeline import TimelineByCustomerLoader, TimelineEntry, latest_events_field, timeline_field

if TYPE_CHECKING:
    from gateway.context import OperationContext
    from gateway.settings import Settings


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
