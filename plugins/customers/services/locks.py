"""Locks of a location's flagged rows (one preferred contact, one primary address).

Writers that move a flag call :func:`lock_location` before they read who holds it, so that
concurrent writers take turns: each one moves the flag from the previous holder, the last
one wins, and the partial unique index never sees two (nor do readers see none).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import lock

__all__ = ["lock_location"]


async def lock_location(session: AsyncSession, *customer_ids: int) -> None:
    """Lock the contacts and addresses of each customer, in ID order (no deadlock)."""
    for customer_id in sorted(set(customer_ids)):
        await lock(session, f"customers.location.{customer_id}")
