"""Input objects of the customers mutations. In update inputs a field left out keeps its
value and an explicit null clears it."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.file_uploads import Upload

from fiche.plugins.customers.enums import CustomerKind, CustomFieldType, RelationKind

__all__ = [
    "AddressCreateInput",
    "AddressUpdateInput",
    "ContactCreateInput",
    "ContactUpdateInput",
    "CustomFieldCreateInput",
    "CustomFieldUpdateInput",
    "CustomFieldValueInput",
    "CustomerConvertInput",
    "CustomerCreateInput",
    "CustomerDocumentUploadInput",
    "CustomerRelationCreateInput",
    "CustomerUpdateInput",
]

UNSET = strawberry.UNSET


@strawberry.input(description="A custom field value: set the member named after the field's type, or none to clear it.")
class CustomFieldValueInput:
    key: str = strawberry.field(description="The custom field's key.")
    text: str | None = strawberry.field(default=None, description="The value of a TEXT field.")
    number: float | None = strawberry.field(default=None, description="The value of a NUMBER field.")
    date: dt.date | None = strawberry.field(default=None, description="The value of a DATE field.")
    boolean: bool | None = strawberry.field(default=None, description="The value of a BOOLEAN field.")
    choice: str | None = strawberry.field(default=None, description="The value of a CHOICE field: one of its choices.")


@strawberry.input(description="A new customer.")
class CustomerCreateInput:
    kind: CustomerKind = strawberry.field(description="Individual or professional.")
    company_name: str | None = strawberry.field(default=None, description="Company name; required for a professional.")
    first_name: str | None = strawberry.field(default=None, description="First name of an individual.")
    last_name: str | None = strawberry.field(default=None, description="Last name of an individual (an individual needs a first or a last name).")
    registration_number: str | None = strawberry.field(default=None, description="Company registration number.")
    reference: str | None = strawberry.field(default=None, description="Customer reference; generated from the organisation's sequence when left out.")
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="Makes the new customer a branch of this customer.")
    representative_id: strawberry.ID | None = strawberry.field(default=None, description="The assigned sales representative (a `User` ID).")
    email: str | None = strawberry.field(default=None, description="Main e-mail address.")
    phone: str | None = strawberry.field(default=None, description="Main phone number.")
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(default=None, description="Values of custom fields; required fields must be given.")


@strawberry.input(description="Changes to a customer; fields left out stay as they are, null clears a field.")
class CustomerUpdateInput:
    id: strawberry.ID = strawberry.field(description="The customer to change.")
    company_name: str | None = strawberry.field(default=UNSET, description="New company name (professionals).")
    first_name: str | None = strawberry.field(default=UNSET, description="New first name (individuals).")
    last_name: str | None = strawberry.field(default=UNSET, description="New last name (individuals).")
    registration_number: str | None = strawberry.field(default=UNSET, description="New registration number.")
    reference: str | None = strawberry.field(default=UNSET, description="New reference, unique in the organisation (cannot be cleared).")
    parent_id: strawberry.ID | None = strawberry.field(default=UNSET, description="New main customer (the customer becomes its branch); null makes it a main customer. Cycles are refused.")
    representative_id: strawberry.ID | None = strawberry.field(default=UNSET, description="New representative; null unassigns.")
    email: str | None = strawberry.field(default=UNSET, description="New e-mail address.")
    phone: str | None = strawberry.field(default=UNSET, description="New phone number.")
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(default=None, description="Custom field values to set or clear; others stay.")


@strawberry.input(description="Turning an individual customer into a professional one.")
class CustomerConvertInput:
    id: strawberry.ID = strawberry.field(description="The individual customer to convert.")
    company_name: str | None = strawberry.field(default=None, description="The company name; the person's name when left out.")
    registration_number: str | None = strawberry.field(default=None, description="The company's registration number.")
    keep_person_as_contact: bool = strawberry.field(default=True, description="Add the person (name, e-mail, phone) as a contact of the company.")


@strawberry.input(description="A new contact at a customer or branch.")
class ContactCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer or branch the contact belongs to.")
    name: str = strawberry.field(description="Full name (required).")
    role: str | None = strawberry.field(default=None, description="A usual role (Buyer, Owner, Manager, Accounting, Reception, in English or French) or free text.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    phone: str | None = strawberry.field(default=None, description="Landline phone number.")
    mobile: str | None = strawberry.field(default=None, description="Mobile phone number.")
    preferred: bool = strawberry.field(default=False, description="Make it the location's preferred contact (the previous one is un-set).")
    portal_access: bool = strawberry.field(default=False, description="Grant access to the customer portal.")


@strawberry.input(description="Changes to a contact; fields left out stay as they are, null clears a field.")
class ContactUpdateInput:
    id: strawberry.ID = strawberry.field(description="The contact to change.")
    name: str | None = strawberry.field(default=UNSET, description="New full name (cannot be cleared).")
    role: str | None = strawberry.field(default=UNSET, description="New role: a usual role or free text.")
    email: str | None = strawberry.field(default=UNSET, description="New e-mail address.")
    phone: str | None = strawberry.field(default=UNSET, description="New landline phone number.")
    mobile: str | None = strawberry.field(default=UNSET, description="New mobile phone number.")
    preferred: bool | None = strawberry.field(default=UNSET, description="true makes it the preferred contact (the previous one is un-set); false un-sets it.")
    portal_access: bool | None = strawberry.field(default=UNSET, description="Grant or revoke customer-portal access.")


@strawberry.input(description="A new address of a customer.")
class AddressCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer or branch.")
    label: str | None = strawberry.field(default=None, description="What the address is, e.g. \"Siège\".")
    line1: str = strawberry.field(description="Street address (required).")
    line2: str | None = strawberry.field(default=None, description="Complement (building, floor, ...).")
    postal_code: str | None = strawberry.field(default=None, description="Postal code.")
    city: str = strawberry.field(description="City (required).")
    country: str | None = strawberry.field(default=None, description="ISO 3166 two-letter country code; FR when left out.")
    latitude: float | None = strawberry.field(default=None, description="Latitude in degrees, -90 to 90 (with a longitude).")
    longitude: float | None = strawberry.field(default=None, description="Longitude in degrees, -180 to 180 (with a latitude).")
    primary: bool = strawberry.field(default=False, description="Make it the primary address; a customer's first address always is.")


@strawberry.input(description="Changes to an address; fields left out stay as they are, null clears a field.")
class AddressUpdateInput:
    id: strawberry.ID = strawberry.field(description="The address to change.")
    label: str | None = strawberry.field(default=UNSET, description="New label.")
    line1: str | None = strawberry.field(default=UNSET, description="New street address (cannot be cleared).")
    line2: str | None = strawberry.field(default=UNSET, description="New complement.")
    postal_code: str | None = strawberry.field(default=UNSET, description="New postal code.")
    city: str | None = strawberry.field(default=UNSET, description="New city (cannot be cleared).")
    country: str | None = strawberry.field(default=UNSET, description="New ISO 3166 country code.")
    latitude: float | None = strawberry.field(default=UNSET, description="New latitude; null clears both coordinates with `longitude: null`.")
    longitude: float | None = strawberry.field(default=UNSET, description="New longitude.")
    primary: bool | None = strawberry.field(default=UNSET, description="true makes it the primary address; a primary address cannot be un-set, only replaced.")


@strawberry.input(description="A new custom field of customers (admins only).")
class CustomFieldCreateInput:
    key: str = strawberry.field(description="Stable identifier: lowercase letters, digits and underscores, e.g. `signup_date`.")
    label: str = strawberry.field(description="Name shown to users.")
    type: CustomFieldType = strawberry.field(description="The type of the values.")
    choices: list[str] | None = strawberry.field(default=None, description="The allowed values of a CHOICE field.")
    required: bool = strawberry.field(default=False, description="Whether every new customer must have a value.")
    position: int | None = strawberry.field(default=None, description="Display order; after the existing fields when left out.")


@strawberry.input(description="Changes to a custom field (admins only); its key and type never change.")
class CustomFieldUpdateInput:
    id: strawberry.ID = strawberry.field(description="The custom field to change.")
    label: str | None = strawberry.field(default=None, description="New label.")
    choices: list[str] | None = strawberry.field(default=None, description="New choices of a CHOICE field; a choice in use cannot be removed.")
    required: bool | None = strawberry.field(default=None, description="New required flag.")
    position: int | None = strawberry.field(default=None, description="New display order.")


@strawberry.input(description="A typed link between two customers.")
class CustomerRelationCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer the link starts from.")
    related_customer_id: strawberry.ID = strawberry.field(description="The customer the link points to.")
    kind: RelationKind = strawberry.field(description="How the related customer is linked.")
    note: str | None = strawberry.field(default=None, description="A free-text explanation.")


@strawberry.input(description="A file to attach to a customer, sent as a GraphQL multipart request.")
class CustomerDocumentUploadInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer to attach the file to.")
    file: Upload = strawberry.field(description="The file (multipart request part); size and type limits apply.")
