"""Branches (C6): descendants of customers, cycle checks, and the directory answers
(``customer_branches`` / ``customer_locations``) other plugins read through the gateway."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.directory import CustomerLocation
from gateway.errors import UserErrors
from plugins.customers import models

__all__ = ["MAX_DEPTH", "branches_of", "check_parent", "descendants", "locations_of"]

# A guard against a corrupted tree; real hierarchies are two or three levels deep.
MAX_DEPTH = 50


async def branches_of(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, list[int]]:
    """Every branch (all levels) of each customer, one statement per level of the tree."""
    roots = list(dict.fromkeys(customer_ids))
    children: dict[int, list[int]] = {}
    frontier = roots
    seen = set(roots)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        rows = (
            await session.execute(
                select(models.Customer.id, models.Customer.parent_id)
                .where(models.Customer.parent_id.in_(frontier))
                .order_by(models.Customer.id)
            )
        ).all()
        frontier = []
        for row in rows:
            children.setdefault(row.parent_id, []).append(row.id)
            if row.id not in seen:
                seen.add(row.id)
                frontier.append(row.id)
    return {root: _collect(root, children) for root in roots}


def _collect(root: int, children: Mapping[int, Iterable[int]]) -> list[int]:
    found: list[int] = []
    stack = list(children.get(root, ()))
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children.get(node, ()))
    return sorted(found)


async def descendants(session: AsyncSession, customer_id: int) -> list[int]:
    return (await branches_of(session, [customer_id]))[customer_id]


async def check_parent(session: AsyncSession, customer_id: int | None, parent_id: int, *path: str) -> None:
    """Refuse a parent that is the customer itself or one of its branches (a cycle).

    Walks up from the proposed parent, one statement per level."""
    current: int | None = parent_id
    for _ in range(MAX_DEPTH):
        if current is None:
            return
        if current == customer_id:
            raise UserErrors.conflict(
                "A customer cannot be a branch of itself or of one of its own branches.", *path
            )
        current = await session.scalar(select(models.Customer.parent_id).where(models.Customer.id == current))
    raise UserErrors.conflict("The branch hierarchy is too deep.", *path)


async def locations_of(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, CustomerLocation]:
    """Parent, name, primary-address coordinates and preferred contact, in one statement."""
    if not customer_ids:
        return {}
    customer, address, contact = models.Customer, models.Address, models.Contact
    stmt = (
        select(
            customer.id,
            customer.parent_id,
            customer.display_name,
            customer.archived,
            address.latitude,
            address.longitude,
            contact.id.label("contact_id"),
        )
        .outerjoin(address, and_(address.customer_id == customer.id, address.is_primary.is_(True)))
        .outerjoin(contact, and_(contact.customer_id == customer.id, contact.preferred.is_(True)))
        .where(customer.id.in_(list(customer_ids)))
    )
    rows = (await session.execute(stmt)).all()
    return {
        row.id: CustomerLocation(
            customer_id=row.id,
            parent_id=row.parent_id,
            display_name=row.display_name,
            latitude=row.latitude,
            longitude=row.longitude,
            preferred_contact_id=row.contact_id,
            archived=row.archived,
        )
        for row in rows
    }
