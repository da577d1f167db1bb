"""Mutation payloads: the object written, or the reasons it was refused."""

from __future__ import annotations

import strawberry

from fiche.errors import UserError
from fiche.plugins.customers.custom_field_types import CustomField
from fiche.plugins.customers.types import Address, Contact, Customer, CustomerDocument, CustomerMemo, CustomerRelation

__all__ = [
    "AddressDeletePayload",
    "AddressPayload",
    "ContactDeletePayload",
    "ContactPayload",
    "CustomFieldDeletePayload",
    "CustomFieldPayload",
    "CustomerDeletePayload",
    "CustomerDocumentDeletePayload",
    "CustomerDocumentPayload",
    "CustomerMemoPayload",
    "CustomerPayload",
    "CustomerRelationDeletePayload",
    "CustomerRelationPayload",
]

ERRORS = "Why the mutation was refused; empty when it succeeded."
DELETED = "The global ID of the deleted object; null when the deletion was refused."


@strawberry.type(description="The outcome of a customer mutation.")
class CustomerPayload:
    customer: Customer | None = strawberry.field(default=None, description="The customer after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of deleting a customer.")
class CustomerDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description=DELETED)
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of a contact mutation.")
class ContactPayload:
    contact: Contact | None = strawberry.field(default=None, description="The contact after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of deleting a contact.")
class ContactDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description=DELETED)
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of an address mutation.")
class AddressPayload:
    address: Address | None = strawberry.field(default=None, description="The address after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of deleting an address.")
class AddressDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description=DELETED)
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of editing a customer's memo.")
class CustomerMemoPayload:
    memo: CustomerMemo | None = strawberry.field(default=None, description="The memo after the change; null when it was emptied.")
    customer: Customer | None = strawberry.field(default=None, description="The customer whose memo it is.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of uploading a document.")
class CustomerDocumentPayload:
    document: CustomerDocument | None = strawberry.field(default=None, description="The stored document.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of deleting a document.")
class CustomerDocumentDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description=DELETED)
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of linking two customers.")
class CustomerRelationPayload:
    relation: CustomerRelation | None = strawberry.field(default=None, description="The new link.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of removing a link between customers.")
class CustomerRelationDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description=DELETED)
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of a custom field mutation.")
class CustomFieldPayload:
    field: CustomField | None = strawberry.field(default=None, description="The custom field after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)


@strawberry.type(description="The outcome of deleting a custom field (and every customer's value of it).")
class CustomFieldDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description=DELETED)
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS)
