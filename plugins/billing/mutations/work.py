"""``invoiceBillableWork`` (B4): in the schema only when a plugin answers ``billable_work``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.schema import requires_hook
from fiche.plugins.billing import work
from fiche.plugins.billing.inputs import BillableWorkInvoiceInput, BillingDocumentPayload
from fiche.plugins.billing.types import document_from_row

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["WorkMutations"]


@strawberry.type
class WorkMutations:
    @strawberry.mutation(
        description=(
            "Invoice a customer's finished interventions flagged \"to invoice\": one draft invoice, a line per intervention "
            "(its hours, or 1), and the interventions marked invoiced in the same transaction."
        ),
        metadata=requires_hook("billable_work"),
    )
    async def invoice_billable_work(
        self, info: strawberry.Info, input: Annotated[BillableWorkInvoiceInput, strawberry.argument(description="What to invoice.")]
    ) -> BillingDocumentPayload:
        context: OperationContext = info.context

        async def change() -> BillingDocumentPayload:
            invoice = await work.invoice_work(
                context, input.customer_id, unit_price=input.unit_price, vat_rate=input.vat_rate, work_gids=input.work_ids, title=input.title
            )
            return BillingDocumentPayload(document=document_from_row(invoice))

        return await context.mutate(change, BillingDocumentPayload)
