"""The life of quotes, invoices and credit notes (B2): drafting, issuing with a legal
number, accepting or refusing a quote, turning it into an invoice, crediting an invoice,
cancelling.

Rules that two users could break by clicking at once are checked under a lock, after
reading the rows again: issuing takes the lock of the number series (one issue at a time
per organisation, kind and year, so numbers have no gap and no duplicate), and every change
of an issued document's balance takes the document's own lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from fiche.db import lock, utcnow
from fiche.directory import customer_locations
from fiche.errors import UserErrors
from fiche.org_settings import organization_zone
from fiche.relay import encode_id, input_pk
from fiche.sequences import next_number
from fiche.plugins.billing import access, models, notices, profiles
from fiche.plugins.billing.lines import LineDraft, check_lines, check_totals
from fiche.plugins.billing.money import currency_exponent
from fiche.plugins.billing.seller import seller_of

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = [
    "PREFIXES",
    "balance_due",
    "cancel",
    "create_credit_note",
    "create_document",
    "decide_quote",
    "delete_draft",
    "fresh",
    "load_document",
    "issue",
    "quote_to_invoice",
    "today",
    "update_draft",
]

Kind = models.DocumentKind
Status = models.DocumentStatus

PREFIXES = {Kind.QUOTE: "DEV", Kind.INVOICE: "FAC", Kind.CREDIT_NOTE: "AV"}
NOUNS = {Kind.QUOTE: "quote", Kind.INVOICE: "invoice", Kind.CREDIT_NOTE: "credit note"}
TYPE_NAME = "BillingDocument"
QUOTE_VALIDITY_DAYS = 30
MAX_TITLE = 200
MAX_NOTES = 5000


async def today(context: OperationContext) -> dt.date:
    """Today in the organisation's time zone (document dates, due dates, overdue)."""
    memo = context.memo.get("billing.today")
    if memo is None:
        zone = await organization_zone(context)
        memo = context.memo["billing.today"] = utcnow().astimezone(zone).date()
    return memo


def balance_due(document: models.BillingDocument) -> Decimal:
    """What the customer still owes on an invoice (negative: owed back to the customer)."""
    return document.gross_total - document.paid_total - document.credited_total


async def fresh(session: AsyncSession, pk: int) -> models.BillingDocument | None:
    """The document as committed now (not the session's cached copy): read after a lock."""
    stmt = select(models.BillingDocument).where(models.BillingDocument.id == pk).execution_options(populate_existing=True)
    return await session.scalar(stmt)


async def load_document(session: AsyncSession, global_id: str, *path: str, lock_it: bool = False) -> models.BillingDocument:
    pk = input_pk(global_id, TYPE_NAME, *path)
    if lock_it:
        await lock(session, f"billing-document:{pk}")
    document = await fresh(session, pk)
    if document is None:
        raise UserErrors.not_found("No billing document with this ID.", *path)
    return document


async def customer_pk(context: OperationContext, session: AsyncSession, global_id: str, *path: str) -> int:
    """The primary key of a customer of the organisation; NOT_FOUND otherwise."""
    pk = input_pk(global_id, "Customer", *path)
    found = await customer_locations(context.pm, session, [pk])
    if pk not in found:
        raise UserErrors.not_found("No customer with this ID.", *path)
    return pk


def _text(value: str | None, limit: int, label: str, *path: str) -> str:
    cleaned = (value or "").strip()
    if len(cleaned) > limit:
        raise UserErrors.invalid(f"{label} has at most {limit} characters.", *path)
    return cleaned


async def _write_lines(session: AsyncSession, document: models.BillingDocument, drafts: Sequence[LineDraft]) -> None:
    """Replace the document's lines and totals (drafts only)."""
    totals = check_totals(drafts, currency_exponent(document.currency), "input", "lines")
    if document.id is not None:
        await session.execute(delete(models.BillingLine).where(models.BillingLine.document_id == document.id))
    else:
        session.add(document)
        await session.flush()
    for position, (draft, net) in enumerate(zip(drafts, totals.lines, strict=True)):
        session.add(
            models.BillingLine(
                document_id=document.id,
                position=position,
                description=draft.description,
                quantity=draft.quantity,
                unit=draft.unit,
                unit_price=draft.unit_price,
                vat_rate=draft.vat_rate,
                discount=draft.discount,
                net_amount=net,
                work_id=draft.work_id,
            )
        )
    document.net_total, document.tax_total, document.gross_total = totals.net, totals.tax, totals.gross
    await session.flush()


async def create_document(
    context: OperationContext,
    kind: models.DocumentKind,
    customer_gid: str,
    *,
    title: str | None,
    notes: str | None,
    lines: Sequence[object],
    valid_until: dt.date | None = None,
    intervention_gid: str | None = None,
) -> models.BillingDocument:
    """A new draft quote or invoice for a customer, in the customer's currency."""
    access.require_drafter(context)
    day = await today(context)  # before the write session holds a connection: never two at once
    session = await context.session()
    customer = await customer_pk(context, session, customer_gid, "input", "customerId")
    drafts = check_lines(lines, "input", "lines")
    profile = await profiles.profile_of(session, customer)
    document = models.BillingDocument(
        customer_id=customer,
        kind=kind,
        status=Status.DRAFT,
        title=_text(title, MAX_TITLE, "The title", "input", "title"),
        notes=_text(notes, MAX_NOTES, "The notes", "input", "notes"),
        currency=profile.currency if profile is not None else "EUR",
        date=day,
        valid_until=valid_until if kind is Kind.QUOTE else None,
    )
    if intervention_gid is not None:
        document.intervention_id = await _intervention_of(context, session, customer, intervention_gid)
    await _write_lines(session, document, drafts)
    return document


async def _intervention_of(context: OperationContext, session: AsyncSession, customer: int, global_id: str) -> int:
    """The intervention a quote is for: it must be one of the quote's customer's."""
    pk = input_pk(global_id, "Intervention", "input", "interventionId")
    answer = context.pm.hook.intervention_customers(session=session, intervention_ids=[pk])
    owners = (await answer) if answer is not None else {}
    if pk not in owners:
        raise UserErrors.not_found("No intervention with this ID.", "input", "interventionId")
    if owners[pk] != customer:
        raise UserErrors.invalid("This intervention is not one of the quote's customer.", "input", "interventionId")
    return pk


def _refuse_issued(document: models.BillingDocument, action: str) -> None:
    if document.status is not Status.DRAFT:
        if document.kind is Kind.QUOTE:
            raise UserErrors.conflict(f"Only a draft quote can be {action}; this one is {document.status.name.lower()}.", "input", "id")
        raise UserErrors.conflict(
            f"An issued {NOUNS[document.kind]} can no longer be {action}: credit it with a credit note instead.", "input", "id"
        )


async def update_draft(
    context: OperationContext,
    global_id: str,
    *,
    title: str | None,
    notes: str | None,
    lines: Sequence[object] | None,
    valid_until: dt.date | None,
) -> models.BillingDocument:
    access.require_drafter(context)
    session = await context.session()
    document = await load_document(session, global_id, "input", "id", lock_it=True)
    _refuse_issued(document, "edited")
    if title is not None:
        document.title = _text(title, MAX_TITLE, "The title", "input", "title")
    if notes is not None:
        document.notes = _text(notes, MAX_NOTES, "The notes", "input", "notes")
    if valid_until is not None and document.kind is Kind.QUOTE:
        document.valid_until = valid_until
    if lines is not None:
        drafts = check_lines(lines, "input", "lines")
        if document.kind is Kind.CREDIT_NOTE:
            await _check_credit_room(session, document.source_id, drafts, document.currency)
        await _write_lines(session, document, drafts)
    await session.flush()
    return document


async def delete_draft(context: OperationContext, global_id: str) -> int:
    access.require_drafter(context)
    session = await context.session()
    document = await load_document(session, global_id, "id", lock_it=True)
    if document.status is not Status.DRAFT:
        if document.kind is Kind.QUOTE:
            raise UserErrors.conflict("Only a draft can be deleted: cancel a sent quote instead.", "id")
        raise UserErrors.conflict(
            f"An issued {NOUNS[document.kind]} can never be deleted: credit it with a credit note instead.", "id"
        )
    pk = document.id
    await session.delete(document)
    await session.flush()
    if document.kind is Kind.INVOICE:
        # The work it invoiced may be invoiced again (B4).
        for answer in context.pm.hook.work_released(context=context, document_id=document_gid(pk)):
            await answer
    return pk


async def issue(context: OperationContext, global_id: str) -> models.BillingDocument:
    """Give a draft its number and date: a quote is sent, an invoice or a credit note issued.

    The series lock is taken before the draft is read again, so two users issuing the same
    draft get one number between them, and concurrent issues get consecutive numbers."""
    day = await today(context)  # before the write session holds a connection: never two at once
    session = await context.session()
    pk = input_pk(global_id, TYPE_NAME, "id")
    found = await fresh(session, pk)
    if found is None or not access.can_read(context.viewer):
        raise UserErrors.not_found("No billing document with this ID.", "id")
    access.require_issuer(context, found.kind)
    if found.kind is not Kind.QUOTE:
        seller = await seller_of(session)
        if not (seller.siren or seller.vat_number):
            # A French invoice names its seller's SIREN and VAT number (CGI art. 242 nonies A), and
            # EN 16931 needs one of them to identify the seller (BR-CO-26).
            raise UserErrors.conflict(
                "Set your company's SIREN or VAT number first (organisation settings billing.seller.siren, billing.seller.vat_number).",
                "id",
            )
    kind = found.kind
    series = f"billing-number:{kind.value}:{day.year}"
    await lock(session, series)
    document = await fresh(session, pk)
    if document is None:
        raise UserErrors.not_found("No billing document with this ID.", "id")
    if document.status is not Status.DRAFT:
        raise UserErrors.conflict(f"This {NOUNS[kind]} was already issued ({document.number}).", "id")
    if (document.gross_total <= 0 and kind is not Kind.QUOTE) or not await _has_lines(session, pk):
        raise UserErrors.invalid(f"A {NOUNS[kind]} needs at least one line and a positive total to be issued.", "id")
    if kind is Kind.CREDIT_NOTE:
        await _apply_credit(session, document)
    document.sequence = await next_number(
        session, series, models.BillingDocument.sequence, models.BillingDocument.kind == kind, models.BillingDocument.year == day.year
    )
    document.year = day.year
    document.number = f"{PREFIXES[kind]}-{day.year}-{document.sequence:04d}"
    document.status = Status.SENT
    document.date = document.issue_date = day
    document.issued_at = utcnow()
    document.buyer = await profiles.buyer_of(context.pm, session, document.customer_id)
    if kind is Kind.QUOTE:
        document.valid_until = document.valid_until or day + dt.timedelta(days=QUOTE_VALIDITY_DAYS)
    elif kind is Kind.INVOICE:
        document.due_date = profiles.due_date(day, profiles.terms_of(await profiles.profile_of(session, document.customer_id)))
    await session.flush()
    return document


async def _has_lines(session: AsyncSession, pk: int) -> bool:
    count = await session.scalar(select(func.count(models.BillingLine.id)).where(models.BillingLine.document_id == pk))
    return bool(count)


async def _check_credit_room(session: AsyncSession, invoice_pk: int | None, drafts: Sequence[LineDraft], currency: str) -> None:
    if invoice_pk is None:
        return
    invoice = await fresh(session, invoice_pk)
    assert invoice is not None
    totals = check_totals(drafts, currency_exponent(currency), "input", "lines")
    room = invoice.gross_total - invoice.credited_total
    if totals.gross > room:
        raise UserErrors.invalid(f"A credit note of this invoice can be at most {room} {invoice.currency}.", "input", "lines")


async def _apply_credit(session: AsyncSession, credit_note: models.BillingDocument) -> None:
    """Deduct an issued credit note from its invoice, under the invoice's lock."""
    assert credit_note.source_id is not None
    await lock(session, f"billing-document:{credit_note.source_id}")
    invoice = await fresh(session, credit_note.source_id)
    assert invoice is not None
    room = invoice.gross_total - invoice.credited_total
    if credit_note.gross_total > room:
        raise UserErrors.conflict(
            f"The invoice {invoice.number} has only {room} {invoice.currency} left to credit.", "id"
        )
    invoice.credited_total += credit_note.gross_total
    settle(invoice)


def settle(invoice: models.BillingDocument) -> None:
    """An invoice with nothing left to pay is PAID (or CANCELLED when credit notes, not
    payments, settled it entirely)."""
    if invoice.status is Status.SENT and balance_due(invoice) <= 0:
        invoice.status = Status.PAID if invoice.paid_total > 0 else Status.CANCELLED


async def decide_quote(context: OperationContext, global_id: str, accepted: bool) -> models.BillingDocument:
    access.require_drafter(context)
    session = await context.session()
    document = await load_document(session, global_id, "id", lock_it=True)
    if document.kind is not Kind.QUOTE:
        raise UserErrors.invalid("Only a quote can be accepted or refused.", "id")
    if document.status is not Status.SENT:
        raise UserErrors.conflict(f"Only a sent quote can be accepted or refused; this one is {document.status.name.lower()}.", "id")
    document.status = Status.ACCEPTED if accepted else Status.REFUSED
    document.decided_at = utcnow()
    await session.flush()
    await notices.quote_decided(context, document)
    return document


async def _copy_lines(session: AsyncSession, source: int) -> list[LineDraft]:
    line = models.BillingLine
    rows = (
        await session.execute(
            select(line.description, line.quantity, line.unit, line.unit_price, line.vat_rate, line.discount, line.work_id)
            .where(line.document_id == source)
            .order_by(line.position)
        )
    ).all()
    return [LineDraft(row.description, row.quantity, row.unit, row.unit_price, row.vat_rate, row.discount, row.work_id) for row in rows]


async def quote_to_invoice(context: OperationContext, global_id: str) -> models.BillingDocument:
    """A draft invoice with the lines of an accepted quote (once per quote)."""
    access.require_drafter(context)
    day = await today(context)  # before the write session holds a connection: never two at once
    session = await context.session()
    quote = await load_document(session, global_id, "id", lock_it=True)
    if quote.kind is not Kind.QUOTE:
        raise UserErrors.invalid("Only a quote can be turned into an invoice.", "id")
    if quote.status is not Status.ACCEPTED:
        raise UserErrors.conflict("Only an accepted quote can be turned into an invoice.", "id")
    if await _derived_count(session, quote.id):
        raise UserErrors.conflict("This quote was already turned into an invoice.", "id")
    invoice = models.BillingDocument(
        customer_id=quote.customer_id,
        kind=Kind.INVOICE,
        status=Status.DRAFT,
        title=quote.title,
        notes=quote.notes,
        currency=quote.currency,
        date=day,
        source_id=quote.id,
    )
    await _write_lines(session, invoice, await _copy_lines(session, quote.id))
    return invoice


async def create_credit_note(context: OperationContext, invoice_gid: str, lines: Sequence[object] | None) -> models.BillingDocument:
    """A draft credit note of an issued invoice: all its lines (full credit) or the lines
    given (partial), never more than what is left to credit."""
    access.require_drafter(context)
    day = await today(context)  # before the write session holds a connection: never two at once
    session = await context.session()
    invoice = await load_document(session, invoice_gid, "input", "invoiceId")
    if invoice.kind is not Kind.INVOICE or invoice.status in (Status.DRAFT,):
        raise UserErrors.invalid("Only an issued invoice can be credited.", "input", "invoiceId")
    drafts = await _copy_lines(session, invoice.id) if lines is None else check_lines(lines, "input", "lines", allow_empty=False)
    if lines is None and invoice.credited_total > 0:
        raise UserErrors.conflict("This invoice was already credited in part: give the lines to credit.", "input", "lines")
    await _check_credit_room(session, invoice.id, drafts, invoice.currency)
    credit_note = models.BillingDocument(
        customer_id=invoice.customer_id,
        kind=Kind.CREDIT_NOTE,
        status=Status.DRAFT,
        title=f"Credit note of {invoice.number}",
        currency=invoice.currency,
        date=day,
        source_id=invoice.id,
    )
    await _write_lines(session, credit_note, drafts)
    return credit_note


async def cancel(context: OperationContext, global_id: str) -> models.BillingDocument:
    """Cancel a quote that was not turned into an invoice. An issued invoice is never
    cancelled (it is credited); a draft invoice or credit note is deleted instead."""
    access.require_drafter(context)
    session = await context.session()
    document = await load_document(session, global_id, "id", lock_it=True)
    if document.kind is not Kind.QUOTE:
        if document.status is Status.DRAFT:
            raise UserErrors.conflict(f"Delete a draft {NOUNS[document.kind]} instead of cancelling it.", "id")
        raise UserErrors.conflict(f"An issued {NOUNS[document.kind]} cannot be cancelled: credit it with a credit note.", "id")
    if document.status in (Status.CANCELLED, Status.REFUSED):
        raise UserErrors.conflict(f"This quote is already {document.status.name.lower()}.", "id")
    if await _derived_count(session, document.id):
        raise UserErrors.conflict("This quote was turned into an invoice and can no longer be cancelled.", "id")
    document.status = Status.CANCELLED
    await session.flush()
    return document


async def _derived_count(session: AsyncSession, pk: int) -> int:
    """How many documents (not cancelled) were made from this one."""
    document = models.BillingDocument
    stmt = select(func.count(document.id)).where(document.source_id == pk, document.status != Status.CANCELLED)
    return int(await session.scalar(stmt) or 0)


def document_gid(pk: int) -> str:
    return encode_id(TYPE_NAME, pk)
