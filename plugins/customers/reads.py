"""Read paths: the columns each GraphQL type needs and the builders that turn a row (or an
entity just written, which has the same attributes) into the GraphQL object.

The builders of the objects lists are made of (customers, contacts, addresses) set the
attributes in one dictionary and encode the ID themselves, as the dataclass ``__init__``
and ``Node.__post_init__`` would (tests/plugins/customers/test_reads.py checks it): that
pair of calls cost more than reading the row."""

from __future__ import annotations

from typing import Any

from fiche.relay import encode_id
from fiche.plugins.customers import custom_field_types as cft
from fiche.plugins.customers import enums, models
from fiche.plugins.customers.types import Address, Contact, Customer, CustomerDocument, CustomerMemo, CustomerRelation

__all__ = [
    "ADDRESS_COLUMNS",
    "CONTACT_COLUMNS",
    "CUSTOMER_COLUMNS",
    "DOCUMENT_COLUMNS",
    "FIELD_COLUMNS",
    "RELATION_COLUMNS",
    "address_from_row",
    "contact_from_row",
    "customer_from_row",
    "document_from_row",
    "field_from_row",
    "memo_from_row",
    "relation_from_row",
    "value_from_row",
]

_CUSTOMER_KINDS = {member: enums.CustomerKind[member.name] for member in models.CustomerKind}
_ROLES = {member: enums.ContactRole[member.name] for member in models.ContactRole}
_RELATIONS = {member: enums.RelationKind[member.name] for member in models.RelationKind}
_FIELD_TYPES = {member: enums.CustomFieldType[member.name] for member in models.CustomFieldType}
_new = object.__new__

CUSTOMER_COLUMNS = (
    models.Customer.id,
    models.Customer.kind,
    models.Customer.company_name,
    models.Customer.first_name,
    models.Customer.last_name,
    models.Customer.display_name,
    models.Customer.registration_number,
    models.Customer.reference,
    models.Customer.email,
    models.Customer.phone,
    models.Customer.archived,
    models.Customer.archived_at,
    models.Customer.created_at,
    models.Customer.updated_at,
    models.Customer.representative_id,
    models.Customer.parent_id,
    models.Customer.created_by_id,
    models.Customer.updated_by_id,
)


def customer_from_row(row: Any) -> Customer:
    customer = _new(Customer)
    pk, parent_pk = row.id, row.parent_id
    customer.__dict__ = {
        "pk": pk,
        "id": encode_id("Customer", pk),
        "kind": _CUSTOMER_KINDS[row.kind],
        "company_name": row.company_name,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "display_name": row.display_name,
        "registration_number": row.registration_number,
        "reference": row.reference,
        "email": row.email,
        "phone": row.phone,
        "archived": row.archived,
        "archived_at": row.archived_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "is_branch": parent_pk is not None,
        "representative_pk": row.representative_id,
        "parent_pk": parent_pk,
        "created_by_pk": row.created_by_id,
        "updated_by_pk": row.updated_by_id,
    }
    return customer


CONTACT_COLUMNS = (
    models.Contact.id,
    models.Contact.customer_id,
    models.Contact.name,
    models.Contact.role_kind,
    models.Contact.role,
    models.Contact.email,
    models.Contact.phone,
    models.Contact.mobile,
    models.Contact.preferred,
    models.Contact.portal_access,
    models.Contact.created_at,
    models.Contact.updated_at,
)


def contact_from_row(row: Any) -> Contact:
    kind = row.role_kind
    pk = row.id
    contact = _new(Contact)
    contact.__dict__ = {
        "pk": pk,
        "id": encode_id("Contact", pk),
        "customer_pk": row.customer_id,
        "name": row.name,
        "role": row.role if kind is models.ContactRole.OTHER else (kind.value if kind is not None else None),
        "role_kind": _ROLES[kind] if kind is not None else None,
        "email": row.email,
        "phone": row.phone,
        "mobile": row.mobile,
        "preferred": row.preferred,
        "portal_access": row.portal_access,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }
    return contact


ADDRESS_COLUMNS = (
    models.Address.id,
    models.Address.customer_id,
    models.Address.label,
    models.Address.line1,
    models.Address.line2,
    models.Address.postal_code,
    models.Address.city,
    models.Address.country,
    models.Address.latitude,
    models.Address.longitude,
    models.Address.is_primary,
)


def address_from_row(row: Any) -> Address:
    pk = row.id
    address = _new(Address)
    address.__dict__ = {
        "pk": pk,
        "id": encode_id("Address", pk),
        "customer_pk": row.customer_id,
        "label": row.label,
        "line1": row.line1,
        "line2": row.line2,
        "postal_code": row.postal_code,
        "city": row.city,
        "country": row.country,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "primary": row.is_primary,
    }
    return address


def memo_from_row(row: Any) -> CustomerMemo:
    return CustomerMemo(body=row.body, updated_at=row.updated_at, updated_by_pk=row.updated_by_id)


DOCUMENT_COLUMNS = (
    models.CustomerDocument.id,
    models.CustomerDocument.customer_id,
    models.CustomerDocument.filename,
    models.CustomerDocument.content_type,
    models.CustomerDocument.size,
    models.CustomerDocument.created_at,
    models.CustomerDocument.created_by_id,
)


def document_from_row(row: Any) -> CustomerDocument:
    return CustomerDocument(
        pk=row.id,
        customer_pk=row.customer_id,
        uploaded_by_pk=row.created_by_id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        created_at=row.created_at,
    )


RELATION_COLUMNS = (
    models.CustomerRelation.id,
    models.CustomerRelation.customer_id,
    models.CustomerRelation.related_customer_id,
    models.CustomerRelation.kind,
    models.CustomerRelation.note,
    models.CustomerRelation.created_at,
)


def relation_from_row(row: Any) -> CustomerRelation:
    return CustomerRelation(
        pk=row.id,
        customer_pk=row.customer_id,
        related_pk=row.related_customer_id,
        kind=_RELATIONS[row.kind],
        note=row.note,
        created_at=row.created_at,
    )


FIELD_COLUMNS = (
    models.CustomField.id,
    models.CustomField.key,
    models.CustomField.label,
    models.CustomField.type,
    models.CustomField.choices,
    models.CustomField.required,
    models.CustomField.position,
)


def field_from_row(row: Any) -> cft.CustomField:
    return cft.CustomField(
        pk=row.id,
        key=row.key,
        label=row.label,
        type=_FIELD_TYPES[row.type],
        choices=list(row.choices or ()),
        required=row.required,
        position=row.position,
    )


def value_from_row(field: cft.CustomField, row: Any) -> cft.CustomFieldValue | None:
    """The typed value of ``field`` in a row with ``text_value``, ``number_value``, ..."""
    kind = field.type
    if kind is enums.CustomFieldType.TEXT and row.text_value is not None:
        return cft.TextCustomFieldValue(field=field, text=row.text_value)
    if kind is enums.CustomFieldType.CHOICE and row.text_value is not None:
        return cft.ChoiceCustomFieldValue(field=field, choice=row.text_value)
    if kind is enums.CustomFieldType.NUMBER and row.number_value is not None:
        return cft.NumberCustomFieldValue(field=field, number=row.number_value)
    if kind is enums.CustomFieldType.DATE and row.date_value is not None:
        return cft.DateCustomFieldValue(field=field, date=row.date_value)
    if kind is enums.CustomFieldType.BOOLEAN and row.bool_value is not None:
        return cft.BooleanCustomFieldValue(field=field, boolean=row.bool_value)
    return None
