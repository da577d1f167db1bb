"""Helpers shared by the plugin's resolvers: decoding IDs into payload errors, loading rows
for writes, seeding the built-in types outside a write operation."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

# One implementation for every plugin: the names are this plugin's.
from fiche.relay import input_pk as decode
from fiche.relay import load_input_row as get_row
from fiche.plugins.activities import models
from fiche.plugins.activities.services.builtins import ensure_builtin_types
from fiche.plugins.activities.reads import activity_from_row, activity_select
from fiche.plugins.activities.types import Activity

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["answers", "concurrently", "decode", "fetch_activity", "get_row", "seed_builtin_types"]

M = TypeVar("M")


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


async def answers(results: Sequence[Any]) -> list[Any]:
    """The answers of every implementation of a hook, awaited in turn. pluggy has called
    them all already: when one raises, the others' coroutines are closed, not left pending."""
    pending = list(results)
    done: list[Any] = []
    try:
        while pending:
            result = pending.pop(0)
            done.append(await result if inspect.isawaitable(result) else result)
    finally:
        for leftover in pending:
            if inspect.iscoroutine(leftover):
                leftover.close()
    return done


async def concurrently(results: Sequence[Any]) -> list[Any]:
    """Like :func:`answers`, awaiting them together (each, e.g., an HTTP call to a provider)."""

    async def one(result: Any) -> Any:
        return await result if inspect.isawaitable(result) else result

    return list(await asyncio.gather(*(one(result) for result in results)))
