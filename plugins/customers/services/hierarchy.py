"""Branches (C6): descendants of customers, cycle checks, and the directory answers
(``customer_branches`` / ``customer_locations``) other plugins read through the gateway."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import CTE, and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fiche.db import lock
from fiche.directory import CustomerLocation
from fiche.errors import UserErrors
from fiche.plugins.customers import models

__all__ = ["MAX_DEPTH", "addresses_of", "branches_of", "check_parent", "descendants", "lock_hierarchy", "locations_of"]

# The deepest hierarchy allowed: a main customer is level 1, its branches level 2, and so
# on. Writes refuse to go deeper, and every walk of the tree stops there, so a cycle that
# corrupt data might hold can never make a request loop (real trees have 2 or 3 levels).
MAX_DEPTH = 50
HIERARCHY_LOCK = "customers.hierarchy"


async def lock_hierarchy(session: AsyncSession) -> None:
    """Serialise the organisation's changes of parents until the transaction ends, so that
    the cycle check and the write are atomic (two writers setting X under Y and Y under X
    take turns, and the second one sees the first one's parent)."""
    await lock(session, HIERARCHY_LOCK)


def _tenant(session: AsyncSession, customer: Any) -> list[Any]:
    # The tenant filter of fiche.db does not reach into a recursive CTE; say it here.
    organization_id = session.info.get("organization_id")
    return [] if organization_id is None else [customer.organization_id == organization_id]


def _below(session: AsyncSession, roots: Sequence[int]) -> CTE:
    """``(root, id, depth)`` of every branch under ``roots``, at most ``MAX_DEPTH`` levels
    down. UNION (not UNION ALL) and the depth cap bound the walk even on a cycle."""
    customer = models.Customer
    tree = (
        select(customer.parent_id.label("root"), customer.id.label("id"), literal(1).label("depth"))
        .where(customer.parent_id.in_(list(roots)), *_tenant(session, customer))
        .cte("branches", recursive=True)
    )
    child = aliased(models.Customer)
    return tree.union(
        select(tree.c.root, child.id, tree.c.depth + 1)
        .join(child, child.parent_id == tree.c.id)
        .where(tree.c.depth < MAX_DEPTH, *_tenant(session, child))
    )


async def branches_of(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, list[int]]:
    """Every branch (all levels) of each customer, in one statement."""
    roots = list(dict.fromkeys(customer_ids))
    found: dict[int, list[int]] = {root: [] for root in roots}
    if not roots:
        return found
    tree = _below(session, roots)
    rows = (
        await session.execute(
            select(tree.c.root, tree.c.id).where(tree.c.id != tree.c.root).distinct().order_by(tree.c.root, tree.c.id)
        )
    ).all()
    for row in rows:
        found[row.root].append(row.id)
    return found


async def descendants(session: AsyncSession, customer_id: int) -> list[int]:
    return (await branches_of(session, [customer_id]))[customer_id]


async def _height(session: AsyncSession, customer_id: int) -> int:
    """Levels of the subtree of ``customer_id``: 1 without branches."""
    tree = _below(session, [customer_id])
    return 1 + int(await session.scalar(select(func.coalesce(func.max(tree.c.depth), 0))) or 0)


async def check_parent(session: AsyncSession, customer_id: int | None, parent_id: int, *path: str) -> None:
    """Refuse a parent that is the customer itself or one of its branches (a cycle), or
    that would make the hierarchy deeper than ``MAX_DEPTH`` levels.

    Call :func:`lock_hierarchy` first: the check is only valid while no one else can move a
    customer. Walks up from the proposed parent in one statement."""
    customer = models.Customer
    chain = (
        select(customer.id.label("id"), customer.parent_id.label("parent_id"), literal(1).label("level"))
        .where(customer.id == parent_id, *_tenant(session, customer))
        .cte("ancestors", recursive=True)
    )
    above = aliased(models.Customer)
    chain = chain.union(
        select(above.id, above.parent_id, chain.c.level + 1)
        .join(above, above.id == chain.c.parent_id)
        .where(chain.c.level <= MAX_DEPTH, *_tenant(session, above))
    )
    rows = (await session.execute(select(chain.c.id, chain.c.level))).all()
    if customer_id is not None and any(row.id == customer_id for row in rows):
        raise UserErrors.conflict("A customer cannot be a branch of itself or of one of its own branches.", *path)
    parent_level = max((row.level for row in rows), default=0)
    height = 1 if customer_id is None else await _height(session, customer_id)
    if parent_level + height > MAX_DEPTH:
        raise UserErrors.conflict(f"A hierarchy of branches has at most {MAX_DEPTH} levels.", *path)


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


async def addresses_of(session: AsyncSession, address_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The ``customer_addresses`` answer: postal addresses by primary key, in one statement."""
    if not address_ids:
        return {}
    address = models.Address
    stmt = select(address.id, address.customer_id, address.line1, address.line2, address.postal_code, address.city, address.country).where(
        address.id.in_(list(address_ids))
    )
    rows = (await session.execute(stmt)).all()
    return {
        row.id: {"customer_id": row.customer_id, "line1": row.line1, "line2": row.line2, "postal_code": row.postal_code, "city": row.city, "country": row.country}
        for row in rows
    }
