"""Helpers shared by the plugin's resolvers: decoding IDs into payload errors, loading rows
for writes, seeding the built-in types outside a write operation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import UserErrors
from gateway.relay import InvalidID, decode_id
from plugins.activities import models
from plugins.activities.services.builtins import ensure_builtin_types
from plugins.activities.reads import activity_from_row, activity_select
from plugins.activities.types import Activity

if TYPE_CHECKING:
    from gateway.context import OperationContext

__all__ = ["decode", "fetch_activity", "get_row", "seed_builtin_types"]

M = TypeVar("M")


def decode(global_id: str, type_name: str, *path: str) -> int:
    """The primary key of a global ID of ``type_name``; INVALID (with ``path``) otherwise."""
    try:
        return decode_id(global_id, type_name)[1]
    except InvalidID as exc:
        raise UserErrors.invalid(str(exc), *path) from exc


async def get_row(session: AsyncSession, model: type[M], global_id: str, type_name: str, *path: str) -> M:
    """The entity behind a global ID in the session's organisation; NOT_FOUND otherwise
    (another organisation's ID behaves like a missing one: the tenant filter applies)."""
    pk = decode(global_id, type_name, *path)
    row: Any = await session.get(model, pk)
    if row is None:
        raise UserErrors.not_found(f"No {type_name} with this ID.", *path)
    return row


async def seed_builtin_types(context: OperationContext) -> None:
    """Create the organisation's missing built-in types in a transaction of their own
    (used by read paths, which have no write session)."""
    viewer = context.require_viewer()
    async with context.db.session(organization_id=viewer.organization_id) as session:
        async with session.begin():
            await ensure_builtin_types(session)


async def fetch_activity(session: AsyncSession, pk: int) -> Activity:
    """The GraphQL object of an activity as the write session sees it (after a flush)."""
    row = (await session.execute(activity_select().where(models.Activity.id == pk))).one()
    return activity_from_row(row)
