"""Keys of the loaders that page a list per customer (contacts, branches, documents)."""

from __future__ import annotations

import dataclasses

__all__ = ["PageKey"]


@dataclasses.dataclass(frozen=True, slots=True)
class PageKey:
    """One page of one customer's list; loads with equal ``(first, after)`` share a statement."""

    customer_pk: int
    first: int
    after: str | None = None
