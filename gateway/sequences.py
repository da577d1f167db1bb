"""Gap-free numbering: intervention numbers, invoice numbers (a legal requirement in France:
an unbroken chronological series per year).

The next number is the largest one given so far in its series plus one, read and written
in one transaction that holds the series' lock (:func:`fiche.db.lock`): a concurrent writer
waits for the first one to commit or roll back, then reads what it left. A rolled-back
write gives its number back, so there are never gaps; a unique constraint on the series and
number stays as the database's own guard.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.db import lock

__all__ = ["next_number"]


async def next_number(session: AsyncSession, series: str, column: Any, *where: Any) -> int:
    """The next number of a series, for the row the session's transaction is about to write.

    :param session: the write transaction (tenant-scoped: the organisation's rows only).
    :param series: a name for the lock, unique to the series (e.g. ``"invoice-number:FAC-2026"``).
    :param column: the ORM column holding the numbers (e.g. ``Intervention.number``).
    :param where: conditions selecting the series' rows (e.g. kind and year).
    """
    await lock(session, series)
    highest = await session.scalar(select(func.max(column)).where(*where))
    return int(highest or 0) + 1
