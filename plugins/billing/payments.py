"""Payments received on issued invoices, and the balance they leave.

A payment takes the invoice's lock and reads it again, so two payments recorded at once
can never together pay more than the balance due."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from fiche.cost import ensure_room
from fiche.errors import UserErrors
from fiche.plugins.billing import access, documents, models
from fiche.plugins.billing.money import currency_exponent

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["MAX_PAYMENTS", "record_payment"]

MAX_PAYMENTS = 100
MAX_REFERENCE = 100
EARLIEST = dt.date(2000, 1, 1)


async def record_payment(
    context: OperationContext,
    invoice_gid: str,
    *,
    amount: Decimal,
    paid_on: dt.date,
    method: models.PaymentMethod,
    reference: str | None,
) -> tuple[models.Payment, models.BillingDocument]:
    access.require_manager(context, "record payments")
    session = await context.session()
    invoice = await documents.load_document(session, invoice_gid, "input", "invoiceId", lock_it=True)
    if invoice.kind is not models.DocumentKind.INVOICE:
        raise UserErrors.invalid("Payments are recorded on invoices.", "input", "invoiceId")
    if invoice.status is not models.DocumentStatus.SENT:
        state = "a draft" if invoice.status is models.DocumentStatus.DRAFT else invoice.status.name.lower()
        raise UserErrors.conflict(f"This invoice is {state}: only an issued, unpaid invoice takes payments.", "input", "invoiceId")
    exponent = currency_exponent(invoice.currency)
    places = -int(amount.as_tuple().exponent) if int(amount.as_tuple().exponent) < 0 else 0
    if places > exponent:
        raise UserErrors.invalid(f"An amount in {invoice.currency} has at most {exponent} decimal places.", "input", "amount")
    if amount <= 0:
        raise UserErrors.invalid("A payment's amount must be positive.", "input", "amount")
    due = documents.balance_due(invoice)
    if amount > due:
        raise UserErrors.invalid(f"The balance due is {due} {invoice.currency}: a payment cannot be more.", "input", "amount")
    day = await documents.today(context)
    if paid_on > day or paid_on < EARLIEST:
        raise UserErrors.invalid("The payment date cannot be in the future (or before 2000).", "input", "paidOn")
    text = (reference or "").strip()
    if len(text) > MAX_REFERENCE:
        raise UserErrors.invalid(f"A reference has at most {MAX_REFERENCE} characters.", "input", "reference")
    count = select(func.count(models.Payment.id)).where(models.Payment.document_id == invoice.id)
    await ensure_room(
        session, count, MAX_PAYMENTS, f"An invoice takes at most {MAX_PAYMENTS} payments.", "input", lock=select(models.BillingDocument.id).where(models.BillingDocument.id == invoice.id)
    )
    payment = models.Payment(document_id=invoice.id, paid_on=paid_on, amount=amount, method=method, reference=text)
    session.add(payment)
    invoice.paid_total += amount
    documents.settle(invoice)
    await session.flush()
    return payment, invoice


