"""Tables of the customers plugin. ORM entities are for writes; read paths select columns.

Text that lists are sorted or searched by is stored folded (``fiche.text.fold``) and, on
PostgreSQL, with the byte-wise ``C`` collation, so that both databases order and match
rows identically whatever the server's locale.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fiche.db import AuditMixin, Base, TenantMixin, UTCDateTime, conflict_info, utcnow
from fiche.text import fold

__all__ = [
    "Address",
    "Contact",
    "ContactRole",
    "CustomField",
    "CustomFieldType",
    "CustomValue",
    "Customer",
    "CustomerDocument",
    "CustomerEvent",
    "CustomerKind",
    "CustomerMemo",
    "CustomerRelation",
    "CustomerSequence",
    "EventKind",
    "RelationKind",
    "derived_columns",
    "display_name",
]


def _sortable(length: int) -> String:
    """A string column compared byte-wise on both databases (SQLite's BINARY is byte-wise)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20)


class CustomerKind(enum.Enum):
    INDIVIDUAL = "individual"
    PROFESSIONAL = "professional"


class ContactRole(enum.Enum):
    BUYER = "Buyer"
    OWNER = "Owner"
    MANAGER = "Manager"
    ACCOUNTING = "Accounting"
    RECEPTION = "Reception"
    OTHER = "Other"


class RelationKind(enum.Enum):
    PARTNER = "partner"
    SUPPLIER = "supplier"
    CONTRACTOR = "contractor"
    PRESCRIBER = "prescriber"
    SAME_GROUP = "same group"
    OTHER = "other"


class CustomFieldType(enum.Enum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    CHOICE = "choice"


class EventKind(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    ARCHIVED = "archived"
    UNARCHIVED = "unarchived"
    MERGED = "merged"
    CONVERTED = "converted"


def display_name(kind: CustomerKind, company_name: str | None, first_name: str | None, last_name: str | None) -> str:
    if kind is CustomerKind.PROFESSIONAL and company_name:
        return company_name
    return " ".join(part for part in (first_name, last_name) if part) or (company_name or "")


class Customer(TenantMixin, AuditMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_organization_id_sort_name", "organization_id", "sort_name", "id"),
        Index("ix_customers_organization_id_created_at", "organization_id", "created_at", "id"),
        Index("ix_customers_organization_id_updated_at", "organization_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CustomerKind] = mapped_column(_enum(CustomerKind, "customer_kind"))
    company_name: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    registration_number: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(_sortable(40))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    representative_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"), index=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Derived on every flush (see _derive below); bulk inserts use derived_columns().
    display_name: Mapped[str] = mapped_column(String(200))
    sort_name: Mapped[str] = mapped_column(_sortable(200))
    search_text: Mapped[str] = mapped_column(String(300))


def derived_columns(
    kind: CustomerKind, company_name: str | None, first_name: str | None, last_name: str | None, reference: str
) -> dict[str, str]:
    """The display name and the folded sort and search columns of a customer."""
    name = display_name(kind, company_name, first_name, last_name)
    return {"display_name": name, "sort_name": fold(name)[:200], "search_text": fold(f"{name} {reference}")[:300]}


# References are unique per organisation whatever their case (``zm-1`` clashes with ``ZM-1``).
# SQL's lower() is the same on both databases here: ASCII only (the column is byte-wise).
Index(
    "uq_customers_organization_id_lower_reference",
    Customer.organization_id,
    func.lower(Customer.reference),
    unique=True,
    info=conflict_info("Another customer already has this reference.", "input", "reference"),
)


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _derive(mapper: Any, connection: Any, customer: Customer) -> None:
    derived = derived_columns(customer.kind, customer.company_name, customer.first_name, customer.last_name, customer.reference)
    for column, value in derived.items():
        setattr(customer, column, value)


class CustomerSequence(TenantMixin, Base):
    """The next generated customer reference of an organisation (one row per organisation)."""

    __tablename__ = "customer_sequences"
    __table_args__ = (UniqueConstraint("organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer, default=1)


class CustomerEvent(TenantMixin, Base):
    """Something that happened to a customer record, for the unified timeline."""

    __tablename__ = "customer_events"
    __table_args__ = (Index("ix_customer_events_customer_id_occurred_at", "customer_id", "occurred_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "customer_event_kind"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    details: Mapped[str | None] = mapped_column(Text)


class CustomerMemo(TenantMixin, AuditMixin, Base):
    """The one free-text memo of a customer (C7); ``updated_by`` / ``updated_at`` say who and when."""

    __tablename__ = "customer_memos"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), unique=True)
    body: Mapped[str] = mapped_column(Text)


class Contact(TenantMixin, AuditMixin, Base):
    __tablename__ = "customer_contacts"
    __table_args__ = (
        Index("ix_customer_contacts_customer_id_sort_name", "customer_id", "sort_name", "id"),
        # At most one preferred contact per location, on both databases.
        Index(
            "uq_customer_contacts_preferred",
            "customer_id",
            unique=True,
            sqlite_where=text("preferred = 1"),
            postgresql_where=text("preferred"),
            info=conflict_info("Another contact of this location was made preferred at the same time; try again.", "input", "preferred"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    sort_name: Mapped[str] = mapped_column(_sortable(200))
    role_kind: Mapped[ContactRole | None] = mapped_column(_enum(ContactRole, "contact_role"))
    role: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    mobile: Mapped[str | None] = mapped_column(String(40))
    preferred: Mapped[bool] = mapped_column(Boolean, default=False)
    portal_access: Mapped[bool] = mapped_column(Boolean, default=False)


@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def _derive_contact(mapper: Any, connection: Any, contact: Contact) -> None:
    contact.sort_name = fold(contact.name)[:200]


class Address(TenantMixin, AuditMixin, Base):
    __tablename__ = "customer_addresses"
    __table_args__ = (
        # Exactly one primary address per customer that has addresses (the service keeps
        # "at least one"; the database refuses a second).
        Index(
            "uq_customer_addresses_primary",
            "customer_id",
            unique=True,
            sqlite_where=text("is_primary = 1"),
            postgresql_where=text("is_primary"),
            info=conflict_info("Another address of this customer was made primary at the same time; try again.", "input", "primary"),
        ),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    label: Mapped[str | None] = mapped_column(String(100))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="FR")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)


class CustomerRelation(TenantMixin, AuditMixin, Base):
    """A typed link from one customer to another (C6); branches use ``Customer.parent_id``."""

    __tablename__ = "customer_relations"
    __table_args__ = (
        UniqueConstraint("customer_id", "related_customer_id", "kind"),
        CheckConstraint("customer_id <> related_customer_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    related_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RelationKind] = mapped_column(_enum(RelationKind, "customer_relation_kind"))
    note: Mapped[str | None] = mapped_column(String(500))


class CustomField(TenantMixin, AuditMixin, Base):
    """An organisation's definition of a custom field of customers (C1)."""

    __tablename__ = "customer_custom_fields"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(100))
    type: Mapped[CustomFieldType] = mapped_column(_enum(CustomFieldType, "custom_field_type"))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CustomValue(TenantMixin, Base):
    """One customer's value of one custom field, in the column of the field's type."""

    __tablename__ = "customer_custom_values"
    __table_args__ = (UniqueConstraint("customer_id", "field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("customer_custom_fields.id", ondelete="CASCADE"), index=True)
    text_value: Mapped[str | None] = mapped_column(Text)
    number_value: Mapped[float | None] = mapped_column(Float)
    date_value: Mapped[dt.date | None] = mapped_column(Date)
    bool_value: Mapped[bool | None] = mapped_column(Boolean)


class CustomerDocument(TenantMixin, AuditMixin, Base):
    """Metadata of a file attached to a customer (C9); the bytes live in the file storage."""

    __tablename__ = "customer_documents"
    __table_args__ = (Index("ix_customer_documents_customer_id_created_at", "customer_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(120))
