"""GraphQL types of the customers plugin: ``Customer`` (which other plugins extend),
``Contact``, ``Address``, ``CustomerMemo``, ``CustomerDocument``, ``CustomerRelation``.

Scalars are plain dataclass fields filled from selected columns; only edges that need the
database are async, and each goes through a per-operation loader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from fiche.accounts.types import User
from fiche.cost import list_size
from fiche.execution import batched, load_optional
from fiche.relay import Connection, Node, encode_id, page_size
from fiche.plugins.customers.custom_field_types import CustomFieldValue
from fiche.plugins.customers.enums import ContactRole, CustomerKind, RelationKind
from fiche.plugins.customers.keys import PageKey
from fiche.plugins.customers.services.bounds import MAX_ADDRESSES, MAX_CUSTOM_FIELDS, MAX_RELATIONS

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["Address", "Contact", "Customer", "CustomerDocument", "CustomerMemo", "CustomerRelation"]

First = Annotated[int | None, strawberry.argument(description="How many items to return (the page size).")]
After = Annotated[str | None, strawberry.argument(description="Return the items after this cursor (`pageInfo.endCursor`).")]


def _page(info: strawberry.Info, loader: str, pk: int, first: int | None, after: str | None) -> object:
    context: OperationContext = info.context
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    return context.loaders[loader].load(PageKey(pk, size, after))


async def _pages(info: strawberry.Info, loader: str, customers: Sequence[Customer], first: int | None, after: str | None) -> list[Any]:
    context: OperationContext = info.context
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    return list(await context.loaders[loader].load_many([PageKey(customer.pk, size, after) for customer in customers]))


async def _users(info: strawberry.Info, pks: Sequence[int | None]) -> list[User | None]:
    context: OperationContext = info.context
    return await load_optional(context.loaders["users_by_id"], pks)


async def _user(info: strawberry.Info, pk: int | None) -> User | None:
    if pk is None:
        return None
    context: OperationContext = info.context
    return await context.loaders["users_by_id"].load(pk)


async def _customer(info: strawberry.Info, pk: int | None) -> Customer | None:
    if pk is None:
        return None
    context: OperationContext = info.context
    return await context.loaders["customers_by_id"].load(pk)


@strawberry.type(description="A customer of your organisation (a person or a company), or a branch of one.")
class Customer(Node):
    kind: CustomerKind = strawberry.field(description="Individual (a person) or professional (a company).")
    company_name: str | None = strawberry.field(description="Company name of a professional customer.")
    first_name: str | None = strawberry.field(description="First name of an individual customer.")
    last_name: str | None = strawberry.field(description="Last name of an individual customer.")
    display_name: str = strawberry.field(description="The name to show: the company name, or first and last name.")
    registration_number: str | None = strawberry.field(description="Company registration number (SIREN / SIRET, ...).")
    reference: str = strawberry.field(description="Customer reference, unique in your organisation.")
    email: str | None = strawberry.field(description="Main e-mail address.")
    phone: str | None = strawberry.field(description="Main phone number.")
    archived: bool = strawberry.field(description="Archived customers are hidden from lists unless asked for.")
    archived_at: dt.datetime | None = strawberry.field(description="When the customer was archived; null when active.")
    created_at: dt.datetime = strawberry.field(description="When the customer was created.")
    updated_at: dt.datetime = strawberry.field(description="When the customer record was last changed.")
    is_branch: bool = strawberry.field(description="Whether this customer is a branch of another one (it has a `parent`).")
    representative_pk: strawberry.Private[int | None]
    parent_pk: strawberry.Private[int | None]
    created_by_pk: strawberry.Private[int | None]
    updated_by_pk: strawberry.Private[int | None]

    @strawberry.field(description="The sales representative assigned to the customer.")
    @batched
    async def representative(customers: Sequence[Customer], info: strawberry.Info) -> list[User | None]:
        return await _users(info, [customer.representative_pk for customer in customers])

    @strawberry.field(description="Who created the customer; null when that user was removed.")
    @batched
    async def created_by(customers: Sequence[Customer], info: strawberry.Info) -> list[User | None]:
        return await _users(info, [customer.created_by_pk for customer in customers])

    @strawberry.field(description="Who last changed the customer record; null when that user was removed.")
    async def updated_by(self, info: strawberry.Info) -> User | None:
        return await _user(info, self.updated_by_pk)

    @strawberry.field(description="The main customer this one is a branch of; null for a main customer.")
    async def parent(self, info: strawberry.Info) -> Customer | None:
        return await _customer(info, self.parent_pk)

    @strawberry.field(description="The direct branches of this customer (archived ones included), by name.")
    @batched
    async def branches(
        customers: Sequence[Customer], info: strawberry.Info, first: First = None, after: After = None
    ) -> list[Connection[Customer]]:
        return await _pages(info, "branches_by_customer", customers, first, after)

    @strawberry.field(description="The contacts of this location (not of its branches): the preferred one first, then by name.")
    @batched
    async def contacts(
        customers: Sequence[Customer], info: strawberry.Info, first: First = None, after: After = None
    ) -> list[Connection[Contact]]:
        return await _pages(info, "contacts_by_customer", customers, first, after)

    @strawberry.field(description="The preferred contact: the default contact of new activities.")
    @batched
    async def preferred_contact(customers: Sequence[Customer], info: strawberry.Info) -> list[Contact | None]:
        context: OperationContext = info.context
        return list(await context.loaders["preferred_contact_by_customer"].load_many([customer.pk for customer in customers]))

    @strawberry.field(description="The addresses of the customer: the primary one first.", metadata=list_size(MAX_ADDRESSES))
    @batched
    async def addresses(customers: Sequence[Customer], info: strawberry.Info) -> list[list[Address]]:
        context: OperationContext = info.context
        return list(await context.loaders["addresses_by_customer"].load_many([customer.pk for customer in customers]))

    @strawberry.field(description="The primary address; null when the customer has no address.")
    async def primary_address(self, info: strawberry.Info) -> Address | None:
        context: OperationContext = info.context
        addresses: list[Address] = await context.loaders["addresses_by_customer"].load(self.pk)
        return next((address for address in addresses if address.primary), None)

    @strawberry.field(description="The memo: notes for the team, shown to technicians on interventions.")
    async def memo(self, info: strawberry.Info) -> CustomerMemo | None:
        context: OperationContext = info.context
        return await context.loaders["memo_by_customer"].load(self.pk)

    @strawberry.field(description="The customer's values of your organisation's custom fields, in display order.", metadata=list_size(MAX_CUSTOM_FIELDS))
    async def custom_fields(self, info: strawberry.Info) -> list[CustomFieldValue]:
        context: OperationContext = info.context
        return await context.loaders["custom_values_by_customer"].load(self.pk)

    @strawberry.field(description="Typed links between this customer and others (both directions).", metadata=list_size(MAX_RELATIONS))
    async def relations(self, info: strawberry.Info) -> list[CustomerRelation]:
        context: OperationContext = info.context
        return await context.loaders["relations_by_customer"].load(self.pk)

    @strawberry.field(description="Files attached to the customer, newest first.")
    async def documents(self, info: strawberry.Info, first: First = None, after: After = None) -> Connection[CustomerDocument]:
        return await _page(info, "documents_by_customer", self.pk, first, after)  # type: ignore[misc]


@strawberry.type(description="A person to talk to at a customer or at one of its branches.")
class Contact(Node):
    customer_pk: strawberry.Private[int]
    name: str = strawberry.field(description="Full name.")
    role: str | None = strawberry.field(description="The role as shown: a usual role's name, or the free text.")
    role_kind: ContactRole | None = strawberry.field(description="The usual role, or OTHER for a free-text role.")
    email: str | None = strawberry.field(description="E-mail address.")
    phone: str | None = strawberry.field(description="Landline phone number.")
    mobile: str | None = strawberry.field(description="Mobile phone number (for text messages).")
    preferred: bool = strawberry.field(description="Whether this is the location's preferred contact (at most one).")
    portal_access: bool = strawberry.field(description="Whether the contact may use the customer portal.")
    created_at: dt.datetime = strawberry.field(description="When the contact was added.")
    updated_at: dt.datetime = strawberry.field(description="When the contact was last changed.")

    @strawberry.field(description="The customer or branch this contact belongs to.")
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await _customer(info, self.customer_pk)


@strawberry.type(description="A postal address of a customer, with its coordinates.")
class Address(Node):
    customer_pk: strawberry.Private[int]
    label: str | None = strawberry.field(description="What the address is, e.g. \"Siège\" or \"Entrepôt\".")
    line1: str = strawberry.field(description="Street address.")
    line2: str | None = strawberry.field(description="Complement (building, floor, ...).")
    postal_code: str | None = strawberry.field(description="Postal code.")
    city: str = strawberry.field(description="City.")
    country: str = strawberry.field(description="ISO 3166 two-letter country code.")
    latitude: float | None = strawberry.field(description="Latitude in degrees (WGS 84), between -90 and 90.")
    longitude: float | None = strawberry.field(description="Longitude in degrees (WGS 84), between -180 and 180.")
    primary: bool = strawberry.field(description="Whether this is the customer's primary address (exactly one is).")

    @strawberry.field(description="The customer this address belongs to.")
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await _customer(info, self.customer_pk)


@strawberry.type(description="A customer's memo: free text for the team, with who edited it last and when.")
class CustomerMemo:
    body: str = strawberry.field(description="The memo's text.")
    updated_at: dt.datetime = strawberry.field(description="When the memo was last edited.")
    updated_by_pk: strawberry.Private[int | None]

    @strawberry.field(description="Who edited the memo last; null when that user was removed.")
    async def updated_by(self, info: strawberry.Info) -> User | None:
        return await _user(info, self.updated_by_pk)


@strawberry.type(description="A file attached to a customer.")
class CustomerDocument(Node):
    customer_pk: strawberry.Private[int]
    uploaded_by_pk: strawberry.Private[int | None]
    filename: str = strawberry.field(description="The file's name, as uploaded.")
    content_type: str = strawberry.field(description="The file's media type, e.g. `application/pdf`.")
    size: int = strawberry.field(description="Size in bytes.")
    created_at: dt.datetime = strawberry.field(description="When the file was uploaded.")

    @strawberry.field(description="Where to download the file: send the same `Authorization` header.")
    def download_url(self, info: strawberry.Info) -> str:
        context: OperationContext = info.context
        base = context.settings.public_url.rstrip("/")
        return f"{base}/files/customer-documents/{encode_id('CustomerDocument', self.pk)}"

    @strawberry.field(description="Who uploaded the file; null when that user was removed.")
    async def uploaded_by(self, info: strawberry.Info) -> User | None:
        return await _user(info, self.uploaded_by_pk)

    @strawberry.field(description="The customer the file is attached to.")
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await _customer(info, self.customer_pk)


@strawberry.type(description="A typed link from one customer to a related customer.")
class CustomerRelation(Node):
    customer_pk: strawberry.Private[int]
    related_pk: strawberry.Private[int]
    kind: RelationKind = strawberry.field(description="How the related customer is linked to the customer.")
    note: str | None = strawberry.field(description="A free-text explanation.")
    created_at: dt.datetime = strawberry.field(description="When the link was made.")

    @strawberry.field(description="The customer the link starts from.")
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await _customer(info, self.customer_pk)

    @strawberry.field(description="The customer the link points to.")
    async def related_customer(self, info: strawberry.Info) -> Customer | None:
        return await _customer(info, self.related_pk)
