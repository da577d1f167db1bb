"""What plugins may know about customers without importing the customers plugin.

The customers plugin answers the ``customer_branches`` and ``customer_locations`` hooks;
other plugins (notes, activities, ...) call the helpers here. With no customers plugin
installed the answers are empty.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["CustomerLocation", "customer_branches", "customer_locations"]


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerLocation:
    customer_id: int
    parent_id: int | None
    display_name: str
    latitude: float | None
    longitude: float | None
    preferred_contact_id: int | None
    archived: bool = False


async def _call(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


async def customer_branches(pm: Any, session: AsyncSession, customer_ids: Sequence[int]) -> Mapping[int, Sequence[int]]:
    """Branches of each customer (every level below it), empty without a customers plugin."""
    answer = await _call(pm.hook.customer_branches(session=session, customer_ids=list(customer_ids)))
    return answer or {customer_id: [] for customer_id in customer_ids}


async def customer_locations(pm: Any, session: AsyncSession, customer_ids: Sequence[int]) -> Mapping[int, CustomerLocation]:
    answer = await _call(pm.hook.customer_locations(session=session, customer_ids=list(customer_ids)))
    return answer or {}
