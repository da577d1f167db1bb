"""What ``node(id:)`` resolves for this plugin. Every read goes through a tenant-scoped
session, so another organisation's ID resolves to null exactly like a missing one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fiche.plugins.customers import reads

if TYPE_CHECKING:
    from fiche.context import OperationContext
    from fiche.nodes import NodeResolver

__all__ = ["NODE_RESOLVERS"]


async def _customers(context: OperationContext, pks: Sequence[int]) -> list[Any]:
    return list(await context.loaders["customers_by_id"].load_many(list(pks)))


def _by_pk(columns: Sequence[Any], build: Callable[[Any], Any]) -> NodeResolver:
    id_column = columns[0]

    async def resolve(context: OperationContext, pks: Sequence[int]) -> list[Any]:
        async with context.read() as session:
            rows = (await session.execute(select(*columns).where(id_column.in_(list(pks))))).all()
        found = {row.id: build(row) for row in rows}
        return [found.get(pk) for pk in pks]

    return resolve


NODE_RESOLVERS: dict[str, NodeResolver] = {
    "Customer": _customers,
    "Contact": _by_pk(reads.CONTACT_COLUMNS, reads.contact_from_row),
    "Address": _by_pk(reads.ADDRESS_COLUMNS, reads.address_from_row),
    "CustomerDocument": _by_pk(reads.DOCUMENT_COLUMNS, reads.document_from_row),
    "CustomerRelation": _by_pk(reads.RELATION_COLUMNS, reads.relation_from_row),
    "CustomField": _by_pk(reads.FIELD_COLUMNS, reads.field_from_row),
}
