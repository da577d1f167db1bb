"""Customer references: unique per organisation whatever their case, generated from a
per-organisation counter.

Writers that give a customer a reference call :func:`lock_references` first, so that the
"is it taken?" check and the write are atomic: of concurrent writers of one reference, the
first wins and the others get a CONFLICT. The counter row is incremented with
``UPDATE ... RETURNING`` inside the caller's transaction. The unique index on
``(organization_id, lower(reference))`` is the last wall; its violation becomes a
CONFLICT, never a server error.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.db import lock
from fiche.errors import UserErrors
from fiche.plugins.customers import models
from fiche.plugins.customers.services.validation import IntegrityRule

__all__ = [
    "REFERENCE_RULE",
    "check_reference",
    "format_reference",
    "lock_references",
    "next_reference",
    "reference_taken",
    "reserve_numbers",
]

MAX_LENGTH = 40
REFERENCE_INDEX = "uq_customers_organization_id_lower_reference"
# PostgreSQL and SQLite both name an expression index in their error.
REFERENCE_RULE = IntegrityRule(REFERENCE_INDEX, REFERENCE_INDEX, "Another customer already has this reference.", ("input", "reference"))


def format_reference(number: int) -> str:
    return f"C{number:05d}"


def check_reference(value: str, *path: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise UserErrors.invalid("The reference must not be empty.", *path)
    if len(cleaned) > MAX_LENGTH:
        raise UserErrors.invalid(f"The reference is longer than {MAX_LENGTH} characters.", *path)
    return cleaned


async def lock_references(session: AsyncSession) -> None:
    """Make the organisation's reference writers take turns until the transaction ends."""
    await lock(session, "customers.references")


async def reference_taken(session: AsyncSession, reference: str, *, except_id: int | None = None) -> bool:
    """Whether another customer has ``reference``, ignoring case (as the unique index does)."""
    stmt = (
        select(func.count())
        .select_from(models.Customer)
        .where(func.lower(models.Customer.reference) == func.lower(reference))
    )
    if except_id is not None:
        stmt = stmt.where(models.Customer.id != except_id)
    return bool(await session.scalar(stmt))


async def reserve_numbers(session: AsyncSession, count: int = 1) -> range:
    """Take ``count`` consecutive numbers from the organisation's counter."""
    stmt = (
        update(models.CustomerSequence)
        .values(next_value=models.CustomerSequence.next_value + count)
        .returning(models.CustomerSequence.next_value)
        .execution_options(synchronize_session=False)
    )
    after = (await session.execute(stmt)).scalar_one_or_none()
    if after is None:
        await _create_counter(session)
        after = (await session.execute(stmt)).scalar_one()
    return range(after - count, after)


async def _create_counter(session: AsyncSession) -> None:
    # INSERT ... ON CONFLICT DO NOTHING: two first creations at once both end up using the
    # single counter row instead of one of them failing.
    organization_id = session.info["organization_id"]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(models.CustomerSequence).values(organization_id=organization_id, next_value=1)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["organization_id"]))


async def next_reference(session: AsyncSession) -> str:
    """The next generated reference that no customer uses yet (one was maybe typed by hand)."""
    while True:
        (number,) = await reserve_numbers(session)
        reference = format_reference(number)
        if not await reference_taken(session, reference):
            return reference
