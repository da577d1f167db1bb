"""GraphQL types of billing: ``BillingDocument`` (a quote, an invoice or a credit note),
its lines, VAT breakdown and payments, ``BillingInformation`` and ``Order``.

Objects are built from selected columns; only edges that need the database (lines,
payments, customer, author, source) are loader calls, in their batch form."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import strawberry

from fiche.accounts.types import User
from fiche.cost import list_size
from fiche.directory import CustomerAddress
from fiche.execution import batched, load_optional
from fiche.relay import Node, encode_id
from fiche.schema import requires_hook
from fiche.timeline import TimelineEntry
from fiche.plugins.billing import models
from fiche.plugins.billing.lines import MAX_LINES
from fiche.plugins.billing.money import ExactDecimal, LineAmounts, compute_totals, currency_exponent, money
from fiche.plugins.billing.payments import MAX_PAYMENTS

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "DOCUMENT_COLUMNS",
    "PAYMENT_COLUMNS",
    "BillingDocument",
    "BillingDocumentKind",
    "BillingDocumentStatus",
    "BillingDocumentTimelineEntry",
    "BillingInformation",
    "BillingLine",
    "Payment",
    "PaymentMethod",
    "PaymentReceivedTimelineEntry",
    "PaymentTerms",
    "VatBreakdown",
    "document_from_row",
    "payment_from_row",
    "profile_from_row",
]

DOWNLOAD_PATH = "/files/billing-documents/{id}"


@strawberry.enum(description="What a billing document is.")
class BillingDocumentKind(enum.Enum):
    QUOTE = strawberry.enum_value("QUOTE", description="A quote (devis), numbered DEV-YYYY-NNNN when sent.")
    INVOICE = strawberry.enum_value("INVOICE", description="An invoice (facture), numbered FAC-YYYY-NNNN when issued.")
    CREDIT_NOTE = strawberry.enum_value("CREDIT_NOTE", description="A credit note (avoir) of an invoice, numbered AV-YYYY-NNNN when issued.")


@strawberry.enum(description="Where a billing document stands. Partly paid and overdue are derived: see `isPartiallyPaid`, `isOverdue`.")
class BillingDocumentStatus(enum.Enum):
    DRAFT = strawberry.enum_value("DRAFT", description="Being written: no number yet, can be edited or deleted.")
    SENT = strawberry.enum_value("SENT", description="Issued with its number (a quote sent, an invoice or credit note issued); never edited again.")
    ACCEPTED = strawberry.enum_value("ACCEPTED", description="A quote the customer accepted.")
    REFUSED = strawberry.enum_value("REFUSED", description="A quote the customer refused.")
    PAID = strawberry.enum_value("PAID", description="An invoice fully paid (credit notes may have settled part of it).")
    CANCELLED = strawberry.enum_value("CANCELLED", description="A cancelled quote, or an invoice entirely credited by credit notes.")


@strawberry.enum(description="How a payment was made.")
class PaymentMethod(enum.Enum):
    BANK_TRANSFER = strawberry.enum_value("BANK_TRANSFER", description="Bank transfer (virement).")
    CARD = strawberry.enum_value("CARD", description="Payment card.")
    CHEQUE = strawberry.enum_value("CHEQUE", description="Cheque.")
    CASH = strawberry.enum_value("CASH", description="Cash.")
    DIRECT_DEBIT = strawberry.enum_value("DIRECT_DEBIT", description="Direct debit (prélèvement).")
    OTHER = strawberry.enum_value("OTHER", description="Any other means.")


@strawberry.enum(description="When an invoice must be paid.")
class PaymentTerms(enum.Enum):
    ON_RECEIPT = strawberry.enum_value("ON_RECEIPT", description="On receipt: due the day it is issued.")
    DAYS = strawberry.enum_value("DAYS", description="Within N days of its date (N at most 60).")
    DAYS_END_OF_MONTH = strawberry.enum_value("DAYS_END_OF_MONTH", description="N days then the end of that month (N at most 45).")


def kind_to_graphql(value: models.DocumentKind) -> BillingDocumentKind:
    return BillingDocumentKind[value.name]


def status_to_graphql(value: models.DocumentStatus) -> BillingDocumentStatus:
    return BillingDocumentStatus[value.name]


@strawberry.type(description="One line of a billing document or an order.")
class BillingLine:
    description: str = strawberry.field(description="What is sold.")
    quantity: ExactDecimal = strawberry.field(description="How many units (positive, at most 4 decimals).")
    unit: str = strawberry.field(description="The unit (`h`, `pce`, `m²`, ...), empty when none.")
    unit_price: ExactDecimal = strawberry.field(description="Price of one unit before discount and VAT.")
    vat_rate: ExactDecimal = strawberry.field(description="VAT rate in percent (`20`, `5.5`).")
    discount: ExactDecimal = strawberry.field(description="Discount in percent of the line (`0` when none).")
    net_amount: ExactDecimal = strawberry.field(
        description="round(quantity × unit price × (1 − discount / 100)), half-up to the currency's minor unit."
    )
    work_id: strawberry.ID | None = strawberry.field(description="Global ID of the work this line invoices (an intervention), if any.")


@strawberry.type(description="The VAT of one rate on a document: EN 16931's VAT breakdown.")
class VatBreakdown:
    rate: ExactDecimal = strawberry.field(description="The VAT rate in percent.")
    base: ExactDecimal = strawberry.field(description="The sum of the net amounts of the lines at this rate.")
    amount: ExactDecimal = strawberry.field(description="round(base × rate / 100), half-up to the currency's minor unit.")


@strawberry.type(description="A payment received on an invoice.")
class Payment(Node):
    paid_on: dt.date = strawberry.field(description="The day the money was received.")
    amount: ExactDecimal = strawberry.field(description="The amount, in the invoice's currency.")
    method: PaymentMethod = strawberry.field(description="How it was paid.")
    reference: str = strawberry.field(description="A cheque number, a transfer reference...; empty when none.")
    created_at: dt.datetime = strawberry.field(description="When the payment was recorded.")
    document_pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]

    @strawberry.field(description="The invoice paid.")
    @batched
    async def invoice(payments: Sequence[Payment], info: strawberry.Info) -> list[BillingDocument | None]:
        context: OperationContext = info.context
        return list(await context.loaders["billing_documents_by_id"].load_many([payment.document_pk for payment in payments]))


@strawberry.type(
    description=(
        "A quote, an invoice or a credit note of a customer. Amounts are exact decimals in `currency`; "
        "see docs/billing.md for the rounding rule and who may do what."
    )
)
class BillingDocument(Node):
    kind: BillingDocumentKind = strawberry.field(description="Quote, invoice or credit note.")
    status: BillingDocumentStatus = strawberry.field(description="Where the document stands.")
    number: str | None = strawberry.field(description="The legal number (`FAC-2026-0007`), given when issued; null for a draft.")
    title: str = strawberry.field(description="A short title (`Chaudière — remplacement`), empty when none.")
    notes: str = strawberry.field(description="Free text printed on the document.")
    currency: str = strawberry.field(description="ISO 4217 code of every amount.")
    date: dt.date = strawberry.field(description="The document's date: the day it was drafted, then the day it was issued.")
    issue_date: dt.date | None = strawberry.field(description="The day it was issued (sent, for a quote); null for a draft.")
    due_date: dt.date | None = strawberry.field(description="An invoice's due date, from the customer's payment terms.")
    valid_until: dt.date | None = strawberry.field(description="The last day a quote may be accepted.")
    net_total: ExactDecimal = strawberry.field(description="Total without VAT: the sum of the lines' net amounts.")
    tax_total: ExactDecimal = strawberry.field(description="Total VAT: the sum of the VAT breakdown's amounts.")
    total: ExactDecimal = strawberry.field(description="Total with VAT.")
    paid_total: ExactDecimal = strawberry.field(description="What payments brought in (invoices).")
    credited_total: ExactDecimal = strawberry.field(description="What issued credit notes took off (invoices).")
    issued_at: dt.datetime | None = strawberry.field(description="When it was issued.")
    created_at: dt.datetime = strawberry.field(description="When it was drafted.")
    customer_pk: strawberry.Private[int]
    author_pk: strawberry.Private[int | None]
    source_pk: strawberry.Private[int | None]
    intervention_pk: strawberry.Private[int | None]
    model_kind: strawberry.Private[models.DocumentKind]
    model_status: strawberry.Private[models.DocumentStatus]

    @strawberry.field(description="What the customer still owes on an invoice (negative: to refund); null for quotes and credit notes.")
    def balance_due(self) -> ExactDecimal | None:
        if self.model_kind is not models.DocumentKind.INVOICE:
            return None
        return ExactDecimal(money(self.total - self.paid_total - self.credited_total, self.currency))

    @strawberry.field(description="An issued invoice that received payments but is not fully paid.")
    def is_partially_paid(self) -> bool:
        return (
            self.model_kind is models.DocumentKind.INVOICE
            and self.model_status is models.DocumentStatus.SENT
            and self.paid_total > 0
        )

    @strawberry.field(description="An issued invoice with a balance due after its due date (in the organisation's time zone).")
    @batched
    async def is_overdue(documents: Sequence[BillingDocument], info: strawberry.Info) -> list[bool]:
        from fiche.plugins.billing.documents import today

        day = await today(info.context)
        return [
            document.model_kind is models.DocumentKind.INVOICE
            and document.model_status is models.DocumentStatus.SENT
            and document.due_date is not None
            and document.due_date < day
            for document in documents
        ]

    @strawberry.field(description="A sent quote whose last day of validity is past (in the organisation's time zone); it may still be accepted.")
    @batched
    async def is_expired(documents: Sequence[BillingDocument], info: strawberry.Info) -> list[bool]:
        from fiche.plugins.billing.documents import today

        day = await today(info.context)
        return [
            document.model_kind is models.DocumentKind.QUOTE
            and document.model_status is models.DocumentStatus.SENT
            and document.valid_until is not None
            and document.valid_until < day
            for document in documents
        ]

    @strawberry.field(description="Path of the PDF (Factur-X for invoices and credit notes), downloaded with your bearer token.")
    def pdf_url(self) -> str:
        return DOWNLOAD_PATH.replace("{id}", self.id)

    @strawberry.field(description="The lines, in order.", metadata=list_size(MAX_LINES))
    @batched
    async def lines(documents: Sequence[BillingDocument], info: strawberry.Info) -> list[list[BillingLine]]:
        context: OperationContext = info.context
        return list(await context.loaders["billing_lines_by_document"].load_many([document.pk for document in documents]))

    @strawberry.field(description="The VAT per rate, lowest rate first.", metadata=list_size(MAX_LINES))
    @batched
    async def vat_breakdown(documents: Sequence[BillingDocument], info: strawberry.Info) -> list[list[VatBreakdown]]:
        context: OperationContext = info.context
        pages = await context.loaders["billing_lines_by_document"].load_many([document.pk for document in documents])
        result = []
        for document, lines in zip(documents, pages, strict=True):
            amounts = (LineAmounts(line.quantity, line.unit_price, line.discount, line.vat_rate) for line in lines)
            totals = compute_totals(amounts, currency_exponent(document.currency))
            result.append([VatBreakdown(rate=ExactDecimal(v.rate), base=ExactDecimal(v.base), amount=ExactDecimal(v.amount)) for v in totals.vat])
        return result

    @strawberry.field(description="Payments received on an invoice, oldest first.", metadata=list_size(MAX_PAYMENTS))
    @batched
    async def payments(documents: Sequence[BillingDocument], info: strawberry.Info) -> list[list[Payment]]:
        context: OperationContext = info.context
        return list(await context.loaders["billing_payments_by_document"].load_many([document.pk for document in documents]))

    @strawberry.field(description="The customer billed.")
    @batched
    async def customer(documents: Sequence[BillingDocument], info: strawberry.Info) -> list[Node | None]:
        context: OperationContext = info.context
        return list(await context.load_nodes([encode_id("Customer", document.customer_pk) for document in documents]))

    @strawberry.field(description="Who drafted it; null if the user was removed.")
    @batched
    async def created_by(documents: Sequence[BillingDocument], info: strawberry.Info) -> list[User | None]:
        context: OperationContext = info.context
        return await load_optional(context.loaders["users_by_id"], [document.author_pk for document in documents])

    @strawberry.field(description="The quote an invoice was made from, or the invoice a credit note credits.")
    @batched
    async def source(documents: Sequence[BillingDocument], info: strawberry.Info) -> list[BillingDocument | None]:
        context: OperationContext = info.context
        return await load_optional(context.loaders["billing_documents_by_id"], [document.source_pk for document in documents])

    @strawberry.field(
        description="The intervention a quote was made for (the interventions plugin's `Intervention`).",
        metadata=requires_hook("intervention_customers"),
    )
    @batched
    async def intervention(documents: Sequence[BillingDocument], info: strawberry.Info) -> list[Node | None]:
        context: OperationContext = info.context
        keys = [encode_id("Intervention", d.intervention_pk) if d.intervention_pk is not None else None for d in documents]
        found = await asyncio.gather(*(context.load_node(key) for key in keys if key is not None))
        loaded = iter(found)
        return [None if key is None else next(loaded) for key in keys]


@strawberry.type(description="A customer's billing information (B1).")
class BillingInformation:
    address_id: strawberry.ID | None = strawberry.field(
        description="The customer's own address billed (an `Address`), when billing uses one of them; the address lines below are then that address's."
    )
    address_line1: str | None = strawberry.field(description="Billing address, first line.")
    address_line2: str | None = strawberry.field(description="Billing address, second line.")
    postal_code: str | None = strawberry.field(description="Postal code of the billing address.")
    city: str | None = strawberry.field(description="City of the billing address.")
    country: str = strawberry.field(description="ISO 3166 country code of the billing address.")
    vat_number: str | None = strawberry.field(description="Intra-community VAT number, checked for the country (`FR40303265045`).")
    siren: str | None = strawberry.field(description="SIREN of a French company (9 digits, checked).")
    siret: str | None = strawberry.field(description="SIRET of the establishment billed (14 digits, checked).")
    payment_terms: PaymentTerms = strawberry.field(description="When invoices are due.")
    payment_days: int = strawberry.field(description="N of the payment terms (0 on receipt).")
    email: str | None = strawberry.field(description="Where invoices are sent.")
    currency: str = strawberry.field(description="ISO 4217 code of the customer's new documents.")


@strawberry.type(description="A billing document in a customer's timeline: a quote sent, an invoice or a credit note issued.")
class BillingDocumentTimelineEntry(TimelineEntry):
    document: BillingDocument = strawberry.field(description="The document.")


@strawberry.type(description="A payment received, in a customer's timeline.")
class PaymentReceivedTimelineEntry(TimelineEntry):
    payment: Payment = strawberry.field(description="The payment.")


DOCUMENT_COLUMNS = (
    models.BillingDocument.id,
    models.BillingDocument.customer_id,
    models.BillingDocument.kind,
    models.BillingDocument.status,
    models.BillingDocument.number,
    models.BillingDocument.title,
    models.BillingDocument.notes,
    models.BillingDocument.currency,
    models.BillingDocument.date,
    models.BillingDocument.issue_date,
    models.BillingDocument.due_date,
    models.BillingDocument.valid_until,
    models.BillingDocument.net_total,
    models.BillingDocument.tax_total,
    models.BillingDocument.gross_total,
    models.BillingDocument.paid_total,
    models.BillingDocument.credited_total,
    models.BillingDocument.issued_at,
    models.BillingDocument.created_at,
    models.BillingDocument.created_by_id,
    models.BillingDocument.source_id,
    models.BillingDocument.intervention_id,
)


def document_from_row(row: Any) -> BillingDocument:
    """A ``BillingDocument`` from a row of :data:`DOCUMENT_COLUMNS` (or an entity)."""
    return BillingDocument(
        pk=row.id,
        kind=kind_to_graphql(row.kind),
        status=status_to_graphql(row.status),
        number=row.number,
        title=row.title,
        notes=row.notes,
        currency=row.currency,
        date=row.date,
        issue_date=row.issue_date,
        due_date=row.due_date,
        valid_until=row.valid_until,
        net_total=ExactDecimal(money(row.net_total, row.currency)),
        tax_total=ExactDecimal(money(row.tax_total, row.currency)),
        total=ExactDecimal(money(row.gross_total, row.currency)),
        paid_total=ExactDecimal(money(row.paid_total, row.currency)),
        credited_total=ExactDecimal(money(row.credited_total, row.currency)),
        issued_at=row.issued_at,
        created_at=row.created_at,
        customer_pk=row.customer_id,
        author_pk=row.created_by_id,
        source_pk=row.source_id,
        intervention_pk=row.intervention_id,
        model_kind=row.kind,
        model_status=row.status,
    )


LINE_COLUMNS = (
    models.BillingLine.document_id,
    models.BillingLine.description,
    models.BillingLine.quantity,
    models.BillingLine.unit,
    models.BillingLine.unit_price,
    models.BillingLine.vat_rate,
    models.BillingLine.discount,
    models.BillingLine.net_amount,
    models.BillingLine.work_id,
    models.BillingDocument.currency,
)


def line_from_row(row: Any) -> BillingLine:
    return BillingLine(
        description=row.description,
        quantity=ExactDecimal(row.quantity),
        unit=row.unit,
        unit_price=ExactDecimal(row.unit_price),
        vat_rate=ExactDecimal(row.vat_rate),
        discount=ExactDecimal(row.discount),
        net_amount=ExactDecimal(money(row.net_amount, row.currency)),
        work_id=strawberry.ID(row.work_id) if row.work_id else None,
    )


PAYMENT_COLUMNS = (
    models.Payment.id,
    models.Payment.document_id,
    models.Payment.paid_on,
    models.Payment.amount,
    models.Payment.method,
    models.Payment.reference,
    models.Payment.created_at,
    models.BillingDocument.customer_id,
    models.BillingDocument.currency,
)


def payment_from_row(row: Any) -> Payment:
    return Payment(
        pk=row.id,
        paid_on=row.paid_on,
        amount=ExactDecimal(money(row.amount, row.currency)),
        method=PaymentMethod[row.method.name],
        reference=row.reference,
        created_at=row.created_at,
        document_pk=row.document_id,
        customer_pk=row.customer_id,
    )


PROFILE_COLUMNS = (
    models.BillingProfile.customer_id,
    models.BillingProfile.address_id,
    models.BillingProfile.address_line1,
    models.BillingProfile.address_line2,
    models.BillingProfile.postal_code,
    models.BillingProfile.city,
    models.BillingProfile.country,
    models.BillingProfile.vat_number,
    models.BillingProfile.siren,
    models.BillingProfile.siret,
    models.BillingProfile.payment_terms,
    models.BillingProfile.payment_days,
    models.BillingProfile.email,
    models.BillingProfile.currency,
)


def profile_from_row(row: Any, linked: Mapping[int, CustomerAddress] | None = None) -> BillingInformation:
    """Billing information from a row of :data:`PROFILE_COLUMNS` (or an entity); ``linked``
    holds the customers' addresses it may point at (a vanished one falls back to the lines)."""
    address = (linked or {}).get(row.address_id) if row.address_id is not None else None
    return BillingInformation(
        address_id=strawberry.ID(encode_id("Address", row.address_id)) if address is not None else None,
        address_line1=address.line1 if address else row.address_line1,
        address_line2=address.line2 if address else row.address_line2,
        postal_code=address.postal_code if address else row.postal_code,
        city=address.city if address else row.city,
        country=address.country if address else row.country,
        vat_number=row.vat_number,
        siren=row.siren,
        siret=row.siret,
        payment_terms=PaymentTerms[row.payment_terms.name],
        payment_days=row.payment_days,
        email=row.email,
        currency=row.currency,
    )


