"""Locks of a location's flagged rows (one preferred contact, one primary address).

Writers that move a flag call :func:`lock_location` before they read who holds it, so that
concurrent writers take turns: each one moves the flag from the previous holder, the last
one wins, and the partial unique index never sees two (nor do readers see none).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.db import lock
from fiche.errors import UserErrors

__all__ = ["lock_location", "refresh_locked"]


async def lock_location(session: AsyncSession, *customer_ids: int) -> None:
    """Lock the contacts and addresses of each customer, in ID order (no deadlock)."""
    for customer_id in sorted(set(customer_ids)):
        await lock(session, f"customers.location.{customer_id}")


async def refresh_locked(session: AsyncSession, row: Any, message: str, *path: str) -> None:
    """Re-read ``row`` after taking a lock (a writer before us may have changed its flag),
    or NOT_FOUND when a writer before us deleted it."""
    try:
        await session.refresh(row)
    except InvalidRequestError as exc:  # "Could not refresh instance": the row is gone
        raise UserErrors.not_found(message, *path) from exc
