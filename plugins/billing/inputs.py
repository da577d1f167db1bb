"""GraphQL inputs and payloads of billing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from fiche.errors import UserError
from fiche.schema import requires_hook
from fiche.plugins.billing import models
from fiche.plugins.billing.loaders import DocumentQuery
from fiche.plugins.billing.money import ExactDecimal
from fiche.plugins.billing.types import (
    BillingDocument,
    BillingDocumentKind,
    BillingDocumentStatus,
    BillingInformation,
    Payment,
    PaymentMethod,
    PaymentTerms,
)

__all__ = [
    "After",
    "BillingDocumentFilter",
    "BillingDocumentPayload",
    "BillingDocumentDeletePayload",
    "BillingDocumentUpdateInput",
    "BillingInformationInput",
    "BillingInformationPayload",
    "BillingLineInput",
    "BillableWorkInvoiceInput",
    "CreditNoteCreateInput",
    "DocumentId",
    "First",
    "InvoiceCreateInput",
    "PaymentPayload",
    "PaymentRecordInput",
    "QuoteCreateInput",
    "document_query",
]

After = Annotated[str | None, strawberry.argument(description="Return the items after this cursor (a previous page's `endCursor`).")]
First = Annotated[int | None, strawberry.argument(description="How many items to return (the page size).")]
DocumentId = Annotated[strawberry.ID, strawberry.argument(description="The global ID of the billing document.")]


@strawberry.input(description="One line of a document. Numbers are ExactDecimal strings.")
class BillingLineInput:
    description: str = strawberry.field(description="What is sold (required, at most 2000 characters).")
    quantity: ExactDecimal = strawberry.field(description="How many units: more than 0, at most 10^9, at most 4 decimals.")
    unit_price: ExactDecimal = strawberry.field(description="Price of one unit without VAT: at most 10^12 either way, at most 4 decimals (negative for a deduction).")
    vat_rate: ExactDecimal = strawberry.field(description="VAT rate in percent, 0 to 100, at most 2 decimals (`20`, `5.5`).")
    unit: str = strawberry.field(default="", description="The unit (`h`, `pce`), at most 20 characters.")
    discount: ExactDecimal | None = strawberry.field(default=None, description="Discount of the line in percent, 0 to 100 (none when null).")


@strawberry.input(description="A new quote for a customer.")
class QuoteCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    lines: list[BillingLineInput] = strawberry.field(description="The lines (at most 200).")
    title: str | None = strawberry.field(default=None, description="A short title.")
    notes: str | None = strawberry.field(default=None, description="Free text printed on the quote.")
    valid_until: dt.date | None = strawberry.field(default=None, description="Last day it may be accepted (30 days after sending when null).")
    intervention_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The intervention the quote is for; it must be one of the customer's.",
        metadata=requires_hook("intervention_customers"),
    )


@strawberry.input(description="A new invoice written directly (without a quote).")
class InvoiceCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    lines: list[BillingLineInput] = strawberry.field(description="The lines (at most 200).")
    title: str | None = strawberry.field(default=None, description="A short title.")
    notes: str | None = strawberry.field(default=None, description="Free text printed on the invoice.")


@strawberry.input(description="Changes to a DRAFT document; null fields are left as they are.")
class BillingDocumentUpdateInput:
    id: strawberry.ID = strawberry.field(description="The document's global ID.")
    lines: list[BillingLineInput] | None = strawberry.field(default=None, description="All the lines, replacing the current ones.")
    title: str | None = strawberry.field(default=None, description="A new title.")
    notes: str | None = strawberry.field(default=None, description="New notes.")
    valid_until: dt.date | None = strawberry.field(default=None, description="A quote's new last day of validity.")


@strawberry.input(description="A credit note of an issued invoice.")
class CreditNoteCreateInput:
    invoice_id: strawberry.ID = strawberry.field(description="The invoice credited.")
    lines: list[BillingLineInput] | None = strawberry.field(
        default=None, description="What is credited (a partial credit); null credits the whole invoice."
    )


@strawberry.input(description="A payment received on an issued invoice.")
class PaymentRecordInput:
    invoice_id: strawberry.ID = strawberry.field(description="The invoice paid.")
    amount: ExactDecimal = strawberry.field(description="The amount: positive, at most the balance due, in the currency's minor unit.")
    paid_on: dt.date = strawberry.field(description="The day it was received (not in the future).")
    method: PaymentMethod = strawberry.field(description="How it was paid.")
    reference: str | None = strawberry.field(default=None, description="A cheque number, a transfer reference...")


@strawberry.input(description="A customer's billing information; it replaces what was set.")
class BillingInformationInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    address_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Bill one of the customer's own addresses (an `Address`) instead of the lines below.",
        metadata=requires_hook("customer_addresses"),
    )
    address_line1: str | None = strawberry.field(default=None, description="Billing address, first line.")
    address_line2: str | None = strawberry.field(default=None, description="Billing address, second line.")
    postal_code: str | None = strawberry.field(default=None, description="Postal code.")
    city: str | None = strawberry.field(default=None, description="City.")
    country: str | None = strawberry.field(default=None, description="ISO 3166 country code (`FR` when null).")
    vat_number: str | None = strawberry.field(default=None, description="Intra-community VAT number, checked for the country.")
    siren: str | None = strawberry.field(default=None, description="SIREN (French customers).")
    siret: str | None = strawberry.field(default=None, description="SIRET (French customers); its SIREN is taken when none is given.")
    payment_terms: PaymentTerms = strawberry.field(default=PaymentTerms.DAYS, description="When invoices are due.")
    payment_days: int | None = strawberry.field(default=None, description="N of the terms (30 when null; at most 60, or 45 end of month).")
    email: str | None = strawberry.field(default=None, description="Where invoices are sent.")
    currency: str | None = strawberry.field(default=None, description="ISO 4217 code of new documents (`EUR` when null).")


@strawberry.input(description="Invoice a customer's finished work flagged \"to invoice\" (interventions): one line per piece of work.")
class BillableWorkInvoiceInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    unit_price: ExactDecimal = strawberry.field(description="Price of an hour of work (or of a piece of work whose time is unknown).")
    vat_rate: ExactDecimal = strawberry.field(description="VAT rate in percent of the lines.")
    work_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only these interventions; all the billable ones when null.")
    title: str | None = strawberry.field(default=None, description="The invoice's title.")


@strawberry.input(description="Which billing documents to list.")
class BillingDocumentFilter:
    kinds: list[BillingDocumentKind] | None = strawberry.field(default=None, description="Only these kinds.")
    statuses: list[BillingDocumentStatus] | None = strawberry.field(default=None, description="Only these statuses.")
    from_: dt.date | None = strawberry.field(default=None, name="from", description="Only documents dated on or after this day.")
    to: dt.date | None = strawberry.field(default=None, description="Only documents dated on or before this day.")


def document_query(value: BillingDocumentFilter | None) -> DocumentQuery:
    if value is None:
        return DocumentQuery()
    return DocumentQuery(
        kinds=frozenset(models.DocumentKind[kind.name] for kind in value.kinds) if value.kinds is not None else None,
        statuses=frozenset(models.DocumentStatus[status.name] for status in value.statuses) if value.statuses is not None else None,
        date_from=value.from_,
        date_to=value.to,
    )


@strawberry.type(description="The outcome of a mutation of a billing document.")
class BillingDocumentPayload:
    document: BillingDocument | None = strawberry.field(default=None, description="The document after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why the change was refused, if it was.")


@strawberry.type(description="The outcome of `billingDocumentDelete`.")
class BillingDocumentDeletePayload:
    deleted_document_id: strawberry.ID | None = strawberry.field(default=None, description="The deleted draft's ID.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why the deletion was refused, if it was.")


@strawberry.type(description="The outcome of `paymentRecord`.")
class PaymentPayload:
    payment: Payment | None = strawberry.field(default=None, description="The payment recorded.")
    invoice: BillingDocument | None = strawberry.field(default=None, description="The invoice, with its new balance and status.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it was refused, if it was.")


@strawberry.type(description="The outcome of `billingInformationSet`.")
class BillingInformationPayload:
    billing_information: BillingInformation | None = strawberry.field(default=None, description="The information saved.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it was refused, with the fields concerned.")
