"""What ``node(id:)`` resolves for billing: ``BillingDocument`` and ``Payment``, hidden
from viewers who may not read billing (like a missing one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fiche.plugins.billing import access, models
from fiche.plugins.billing.types import PAYMENT_COLUMNS, Payment, payment_from_row

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["NODE_RESOLVERS"]


async def load_documents(context: OperationContext, pks: Sequence[int]) -> list[Any]:
    return list(await context.loaders["billing_documents_by_id"].load_many(list(pks)))


async def load_payments(context: OperationContext, pks: Sequence[int]) -> list[Payment | None]:
    if not access.can_read(context.viewer):
        return [None] * len(pks)
    stmt = (
        select(*PAYMENT_COLUMNS)
        .join(models.BillingDocument, models.BillingDocument.id == models.Payment.document_id)
        .where(models.Payment.id.in_(list(pks)))
    )
    async with context.read() as session:
        rows = (await session.execute(stmt)).all()
    found = {row.id: payment_from_row(row) for row in rows}
    return [found.get(pk) for pk in pks]


NODE_RESOLVERS = {"BillingDocument": load_documents, "Payment": load_payments}
