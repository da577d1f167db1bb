"""What plugins may know about customers without importing the customers plugin.

The customers plugin answers the ``customer_branches``, ``customer_locations`` and
``customer_addresses`` hooks, the notes plugin ``customer_followers``; other plugins
(notes, activities, interventions, ...) call the helpers here. With no plugin answering,
the answers are empty.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["CustomerAddress", "CustomerLocation", "customer_addresses", "customer_branches", "customer_followers", "customer_locations"]


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerLocation:
    customer_id: int
    parent_id: int | None
    display_name: str
    latitude: float | None
    longitude: float | None
    preferred_contact_id: int | None
    archived: bool = False
    memo: str | None = None
    """The customer's memo (C7), shown to whoever works for the customer (a technician)."""
    primary_address_id: int | None = None
    """Primary key of its primary address (see :func:`customer_addresses`), if it has one."""


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerAddress:
    """One address of a customer or branch, as other plugins may know it."""

    address_id: int
    customer_id: int
    label: str | None
    line1: str
    line2: str | None
    postal_code: str | None
    city: str
    country: str
    latitude: float | None
    longitude: float | None

    @property
    def one_line(self) -> str:
        """The address on one line, e.g. ``1 place Bellecour, 69002 Lyon``."""
        town = " ".join(part for part in (self.postal_code, self.city) if part)
        return ", ".join(part for part in (self.line1, self.line2, town) if part)


async def _call(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


async def customer_branches(pm: Any, session: AsyncSession, customer_ids: Sequence[int]) -> Mapping[int, Sequence[int]]:
    """Branches of each customer (every level below it), empty without a customers plugin."""
    answer = await _call(pm.hook.customer_branches(session=session, customer_ids=list(customer_ids)))
    return answer or {customer_id: [] for customer_id in customer_ids}


async def customer_locations(pm: Any, session: AsyncSession, customer_ids: Sequence[int]) -> Mapping[int, CustomerLocation]:
    answer = await _call(pm.hook.customer_locations(session=session, customer_ids=list(customer_ids)))
    return answer or {}


async def customer_addresses(pm: Any, session: AsyncSession, address_ids: Sequence[int]) -> Mapping[int, CustomerAddress]:
    """The addresses asked for (missing ones and other organisations' absent), empty
    without a customers plugin."""
    if not address_ids:
        return {}
    answer = await _call(pm.hook.customer_addresses(session=session, address_ids=list(address_ids)))
    return answer or {}


async def customer_followers(pm: Any, session: AsyncSession, customer_ids: Sequence[int]) -> Mapping[int, Sequence[int]]:
    """The users following each customer, empty without a plugin that keeps followers."""
    if not customer_ids:
        return {}
    answer = await _call(pm.hook.customer_followers(session=session, customer_ids=list(customer_ids)))
    return answer or {}
