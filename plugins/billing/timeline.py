"""Billing's part of the customer timeline (G12): a quote sent (``QUOTE_SENT``), an
invoice or a credit note issued (``INVOICE_ISSUED``, ``CREDIT_NOTE_ISSUED``), a payment
received (``PAYMENT_RECEIVED``). Two statements, whatever the number of customers; nothing
for viewers who may not read billing."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.timeline import TimelineEntry, TimelineQuery, latest_per_location, together
from fiche.plugins.billing import access, models
from fiche.plugins.billing.types import (
    DOCUMENT_COLUMNS,
    PAYMENT_COLUMNS,
    BillingDocumentTimelineEntry,
    PaymentReceivedTimelineEntry,
    document_from_row,
    payment_from_row,
)

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["DOCUMENTS", "PAYMENTS", "timeline_entries"]

DOCUMENTS = "billing"
PAYMENTS = "billing-payments"
KINDS = {
    models.DocumentKind.QUOTE: "QUOTE_SENT",
    models.DocumentKind.INVOICE: "INVOICE_ISSUED",
    models.DocumentKind.CREDIT_NOTE: "CREDIT_NOTE_ISSUED",
}
WORDS = {models.DocumentKind.QUOTE: "Quote", models.DocumentKind.INVOICE: "Invoice", models.DocumentKind.CREDIT_NOTE: "Credit note"}


def _document_entry(row: Any) -> TimelineEntry:
    verb = "sent" if row.kind is models.DocumentKind.QUOTE else "issued"
    return BillingDocumentTimelineEntry(
        occurred_at=row.issued_at,
        kind=KINDS[row.kind],
        summary=f"{WORDS[row.kind]} {row.number} {verb}: {row.gross_total} {row.currency}",
        location_pk=row.customer_id,
        source=DOCUMENTS,
        source_pk=row.id,
        document=document_from_row(row),
    )


def _payment_entry(row: Any) -> TimelineEntry:
    return PaymentReceivedTimelineEntry(
        occurred_at=row.created_at,
        kind="PAYMENT_RECEIVED",
        summary=f"Payment received: {row.amount} {row.currency}",
        location_pk=row.customer_id,
        source=PAYMENTS,
        source_pk=row.id,
        payment=payment_from_row(row),
    )


async def timeline_entries(context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int) -> list[TimelineEntry]:
    if not location_ids or not access.can_read(context.viewer):
        return []
    document, payment = models.BillingDocument, models.Payment
    team_id = query.team_id
    wanted = tuple(kind for kind, name in KINDS.items() if query.wants(name))

    def members() -> Any:
        return select(accounts.TeamMembership.user_id).where(accounts.TeamMembership.team_id == team_id)

    def documents() -> Any:
        stmt: Any = select(*DOCUMENT_COLUMNS).where(document.issued_at.is_not(None), document.kind.in_(wanted))
        return stmt if team_id is None else stmt.where(document.updated_by_id.in_(members()))  # what the team's members issued

    def payments() -> Any:
        stmt: Any = select(*PAYMENT_COLUMNS).join(document, document.id == payment.document_id)
        return stmt if team_id is None else stmt.where(payment.created_by_id.in_(members()))

    reads: list[Awaitable[list[TimelineEntry]]] = []
    async with context.read() as session:
        # The statements depend on the kinds and the team only: built once for each and kept.
        # Both are asked at once: the timeline runs them with the other plugins' as one statement.
        if wanted:
            reads.append(latest_per_location(
                session, documents, location=document.customer_id, occurred=document.issued_at, pk=document.id,
                source=DOCUMENTS, location_ids=location_ids, query=query, limit=limit, build=_document_entry,
                shape=(DOCUMENTS, wanted, team_id),
            ))  # fmt: skip
        if query.wants("PAYMENT_RECEIVED"):
            reads.append(latest_per_location(
                session, payments, location=document.customer_id, occurred=payment.created_at, pk=payment.id,
                source=PAYMENTS, location_ids=location_ids, query=query, limit=limit, build=_payment_entry,
                shape=(PAYMENTS, team_id),
            ))  # fmt: skip
        return await together(*reads)
