"""Mutations of quotes, invoices and credit notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.plugins.billing import documents, models
from fiche.plugins.billing.inputs import (
    BillingDocumentDeletePayload,
    BillingDocumentPayload,
    BillingDocumentUpdateInput,
    CreditNoteCreateInput,
    DocumentId,
    InvoiceCreateInput,
    QuoteCreateInput,
)
from fiche.plugins.billing.types import document_from_row

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from fiche.context import OperationContext

__all__ = ["BillingDocumentMutations"]


async def _run(info: strawberry.Info, change: Callable[[], Awaitable[models.BillingDocument]]) -> BillingDocumentPayload:
    context: OperationContext = info.context

    async def apply() -> BillingDocumentPayload:
        return BillingDocumentPayload(document=document_from_row(await change()))

    return await context.mutate(apply, BillingDocumentPayload)


@strawberry.type
class BillingDocumentMutations:
    @strawberry.mutation(description="Draft a quote for a customer (admins, managers, members).")
    async def quote_create(
        self, info: strawberry.Info, input: Annotated[QuoteCreateInput, strawberry.argument(description="The quote.")]
    ) -> BillingDocumentPayload:
        return await _run(
            info,
            lambda: documents.create_document(
                info.context,
                models.DocumentKind.QUOTE,
                input.customer_id,
                title=input.title,
                notes=input.notes,
                lines=input.lines,
                valid_until=input.valid_until,
                intervention_gid=input.intervention_id,
            ),
        )

    @strawberry.mutation(description="Draft an invoice for a customer without a quote (admins, managers, members).")
    async def invoice_create(
        self, info: strawberry.Info, input: Annotated[InvoiceCreateInput, strawberry.argument(description="The invoice.")]
    ) -> BillingDocumentPayload:
        return await _run(
            info,
            lambda: documents.create_document(
                info.context, models.DocumentKind.INVOICE, input.customer_id, title=input.title, notes=input.notes, lines=input.lines
            ),
        )

    @strawberry.mutation(description="Change a DRAFT document. An issued invoice can never be edited: credit it instead (CONFLICT).")
    async def billing_document_update(
        self, info: strawberry.Info, input: Annotated[BillingDocumentUpdateInput, strawberry.argument(description="What to change.")]
    ) -> BillingDocumentPayload:
        return await _run(
            info,
            lambda: documents.update_draft(
                info.context, input.id, title=input.title, notes=input.notes, lines=input.lines, valid_until=input.valid_until
            ),
        )

    @strawberry.mutation(description="Delete a DRAFT document. An issued invoice can never be deleted (CONFLICT).")
    async def billing_document_delete(self, info: strawberry.Info, id: DocumentId) -> BillingDocumentDeletePayload:
        context: OperationContext = info.context

        async def change() -> BillingDocumentDeletePayload:
            pk = await documents.delete_draft(context, id)
            return BillingDocumentDeletePayload(deleted_document_id=strawberry.ID(documents.document_gid(pk)))

        return await context.mutate(change, BillingDocumentDeletePayload)

    @strawberry.mutation(
        description=(
            "Issue a draft: it gets the next number of its yearly series (DEV-, FAC-, AV-YYYY-NNNN) and today's date, "
            "and becomes SENT. Quotes: admins, managers, members; invoices and credit notes: admins and managers."
        )
    )
    async def billing_document_issue(self, info: strawberry.Info, id: DocumentId) -> BillingDocumentPayload:
        return await _run(info, lambda: documents.issue(info.context, id))

    @strawberry.mutation(description="Record that the customer accepted a sent quote; its author is notified.")
    async def quote_accept(self, info: strawberry.Info, id: DocumentId) -> BillingDocumentPayload:
        return await _run(info, lambda: documents.decide_quote(info.context, id, accepted=True))

    @strawberry.mutation(description="Record that the customer refused a sent quote; its author is notified.")
    async def quote_refuse(self, info: strawberry.Info, id: DocumentId) -> BillingDocumentPayload:
        return await _run(info, lambda: documents.decide_quote(info.context, id, accepted=False))

    @strawberry.mutation(description="Cancel a quote (not one already turned into an invoice).")
    async def quote_cancel(self, info: strawberry.Info, id: DocumentId) -> BillingDocumentPayload:
        return await _run(info, lambda: documents.cancel(info.context, id))

    @strawberry.mutation(description="Turn an ACCEPTED quote into a draft invoice with the same lines (once per quote).")
    async def quote_to_invoice(self, info: strawberry.Info, id: DocumentId) -> BillingDocumentPayload:
        return await _run(info, lambda: documents.quote_to_invoice(info.context, id))

    @strawberry.mutation(description="Draft a credit note of an issued invoice: in full, or the lines given.")
    async def credit_note_create(
        self, info: strawberry.Info, input: Annotated[CreditNoteCreateInput, strawberry.argument(description="What to credit.")]
    ) -> BillingDocumentPayload:
        return await _run(info, lambda: documents.create_credit_note(info.context, input.invoice_id, input.lines))
