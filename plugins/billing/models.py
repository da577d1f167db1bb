"""Tables of billing: customers' billing profiles, documents (quotes, invoices, credit
notes) with their lines, payments, and orders.

There is no foreign key to the customers plugin's tables (it may be disabled): its hooks
(``merge_customers``, ``customer_deleted``, ``customer_deletion_blockers``) keep these rows
in step. Amounts are :class:`~fiche.plugins.billing.money.NumericText` (exact on both
databases). A document's number is given when it is issued, from the series
``(kind, year)``; the unique constraint on it is the database's own guard against a
duplicate, behind the series lock of :func:`fiche.sequences.next_number`.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fiche.db import AuditMixin, Base, TenantMixin, UTCDateTime, conflict_info
from fiche.plugins.billing.money import NumericText

__all__ = [
    "BillingDocument",
    "BillingLine",
    "BillingProfile",
    "DocumentKind",
    "DocumentStatus",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Payment",
    "PaymentMethod",
    "PaymentTermsKind",
]


class DocumentKind(enum.Enum):
    QUOTE = "quote"
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class DocumentStatus(enum.Enum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    PAID = "paid"
    CANCELLED = "cancelled"


class PaymentMethod(enum.Enum):
    BANK_TRANSFER = "bank_transfer"
    CARD = "card"
    CHEQUE = "cheque"
    CASH = "cash"
    DIRECT_DEBIT = "direct_debit"
    OTHER = "other"


class PaymentTermsKind(enum.Enum):
    ON_RECEIPT = "on_receipt"
    DAYS = "days"
    DAYS_END_OF_MONTH = "days_end_of_month"


class OrderStatus(enum.Enum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=20)


class BillingProfile(TenantMixin, AuditMixin, Base):
    """A customer's billing information (B1): at most one per customer."""

    __tablename__ = "billing_profiles"
    __table_args__ = (
        UniqueConstraint("organization_id", "customer_id", info=conflict_info("This customer's billing information changed meanwhile.", "input")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    # One of the customer's own addresses (the customers plugin's primary key), used instead
    # of the lines below when set; the lines are the fallback if that address goes.
    address_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    address_line1: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address_line2: Mapped[str | None] = mapped_column(String(200), nullable=True)
    postal_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    country: Mapped[str] = mapped_column(String(2), default="FR")
    vat_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    siren: Mapped[str | None] = mapped_column(String(9), nullable=True)
    siret: Mapped[str | None] = mapped_column(String(14), nullable=True)
    payment_terms: Mapped[PaymentTermsKind] = mapped_column(_enum(PaymentTermsKind, "billing_payment_terms"), default=PaymentTermsKind.DAYS)
    payment_days: Mapped[int] = mapped_column(Integer, default=30)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")


class BillingDocument(TenantMixin, AuditMixin, Base):
    """A quote, an invoice or a credit note of a customer."""

    __tablename__ = "billing_documents"
    __table_args__ = (
        UniqueConstraint("organization_id", "kind", "year", "sequence", info=conflict_info("This number is already taken.")),
        Index("ix_billing_documents_customer_id_date", "customer_id", "date"),
        Index("ix_billing_documents_source_id", "source_id"),
        Index("ix_billing_documents_intervention_id", "intervention_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind, "billing_document_kind"))
    status: Mapped[DocumentStatus] = mapped_column(_enum(DocumentStatus, "billing_document_status"), default=DocumentStatus.DRAFT)
    # Given when issued: "FAC-2026-0007" is (INVOICE, 2026, 7).
    number: Mapped[str | None] = mapped_column(String(30), nullable=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # The document's date: the day it was drafted, then the day it was issued.
    date: Mapped[dt.date] = mapped_column(Date)
    issue_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The quote an invoice was made from; the invoice a credit note credits.
    source_id: Mapped[int | None] = mapped_column(ForeignKey("billing_documents.id", ondelete="RESTRICT"), nullable=True)
    # The intervention a quote was made for (the interventions plugin's primary key).
    intervention_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The buyer as billed, copied when the document is issued (name, address, VAT number,
    # SIREN, e-mail): an issued document never changes when the customer's details do.
    buyer: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    net_total: Mapped[Decimal] = mapped_column(NumericText(), default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(NumericText(), default=Decimal(0))
    gross_total: Mapped[Decimal] = mapped_column(NumericText(), default=Decimal(0))
    paid_total: Mapped[Decimal] = mapped_column(NumericText(), default=Decimal(0))
    credited_total: Mapped[Decimal] = mapped_column(NumericText(), default=Decimal(0))


class LineColumns:
    """The columns of a line, on documents and on orders alike."""

    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(NumericText())
    unit: Mapped[str] = mapped_column(String(20), default="")
    unit_price: Mapped[Decimal] = mapped_column(NumericText())
    vat_rate: Mapped[Decimal] = mapped_column(NumericText())
    discount: Mapped[Decimal] = mapped_column(NumericText(), default=Decimal(0))
    net_amount: Mapped[Decimal] = mapped_column(NumericText())


class BillingLine(LineColumns, TenantMixin, Base):
    __tablename__ = "billing_lines"
    __table_args__ = (Index("ix_billing_lines_document_id_position", "document_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("billing_documents.id", ondelete="CASCADE"))
    # The work this line invoices (B4): its global ID in the plugin that owns it.
    work_id: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Payment(TenantMixin, AuditMixin, Base):
    __tablename__ = "billing_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("billing_documents.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(NumericText())
    method: Mapped[PaymentMethod] = mapped_column(_enum(PaymentMethod, "billing_payment_method"))
    reference: Mapped[str] = mapped_column(String(100), default="")


class Order(TenantMixin, AuditMixin, Base):
    """A customer's order (B3): numbered when created, per organisation."""

    __tablename__ = "billing_orders"
    __table_args__ = (
        UniqueConstraint("organization_id", "sequence", info=conflict_info("This order number is already taken.")),
        Index("ix_billing_orders_customer_id_ordered_on", "customer_id", "ordered_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(30))
    ordered_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "billing_order_status"), default=OrderStatus.DRAFT)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    net_total: Mapped[Decimal] = mapped_column(NumericText(), default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(NumericText(), default=Decimal(0))
    gross_total: Mapped[Decimal] = mapped_column(NumericText(), default=Decimal(0))


class OrderLine(LineColumns, TenantMixin, Base):
    __tablename__ = "billing_order_lines"
    __table_args__ = (Index("ix_billing_order_lines_order_id_position", "order_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("billing_orders.id", ondelete="CASCADE"))
