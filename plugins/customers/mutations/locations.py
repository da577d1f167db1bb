"""Mutations of what belongs to a location: contacts (C5) and addresses (C8)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.plugins.customers import reads
from fiche.plugins.customers.inputs import AddressCreateInput, AddressUpdateInput, ContactCreateInput, ContactUpdateInput
from fiche.plugins.customers.mutations.common import INPUT, gid, pk_of, sent
from fiche.plugins.customers.payloads import AddressDeletePayload, AddressPayload, ContactDeletePayload, ContactPayload
from fiche.plugins.customers.services import addresses, contacts
from fiche.plugins.customers.services.customers import get_customer

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["LocationMutations"]

CONTACT_FIELDS = {
    "name": "name",
    "role": "role",
    "email": "email",
    "phone": "phone",
    "mobile": "mobile",
    "preferred": "preferred",
    "portal_access": "portal_access",
}
ADDRESS_FIELDS = {
    "label": "label",
    "line1": "line1",
    "line2": "line2",
    "postal_code": "postal_code",
    "city": "city",
    "country": "country",
    "latitude": "latitude",
    "longitude": "longitude",
    "primary": "primary",
}


@strawberry.type
class LocationMutations:
    @strawberry.mutation(description="Add a contact to a customer or branch.")
    async def contact_create(
        self, info: strawberry.Info, input: Annotated[ContactCreateInput, strawberry.argument(description=INPUT)]
    ) -> ContactPayload:
        context: OperationContext = info.context

        async def change() -> ContactPayload:
            context.require_viewer()
            session = await context.session()
            customer = await get_customer(session, pk_of(input.customer_id, "Customer", "input", "customerId"), "input", "customerId")
            data = contacts.NewContact(
                name=input.name,
                role=input.role,
                email=input.email,
                phone=input.phone,
                mobile=input.mobile,
                preferred=input.preferred,
                portal_access=input.portal_access,
            )
            return ContactPayload(contact=reads.contact_from_row(await contacts.create_contact(session, customer.id, data)))

        return await context.mutate(change, ContactPayload)

    @strawberry.mutation(description="Change a contact; `preferred: true` takes the flag from the previous preferred contact.")
    async def contact_update(
        self, info: strawberry.Info, input: Annotated[ContactUpdateInput, strawberry.argument(description=INPUT)]
    ) -> ContactPayload:
        context: OperationContext = info.context

        async def change() -> ContactPayload:
            context.require_viewer()
            session = await context.session()
            contact = await contacts.get_contact(session, pk_of(input.id, "Contact", "input", "id"), "input", "id")
            updated = await contacts.update_contact(session, contact, sent(input, CONTACT_FIELDS))
            return ContactPayload(contact=reads.contact_from_row(updated))

        return await context.mutate(change, ContactPayload)

    @strawberry.mutation(description="Delete a contact.")
    async def contact_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The contact to delete.")]
    ) -> ContactDeletePayload:
        context: OperationContext = info.context

        async def change() -> ContactDeletePayload:
            context.require_viewer()
            session = await context.session()
            contact = await contacts.get_contact(session, pk_of(id, "Contact", "id"), "id")
            pk = contact.id
            await contacts.delete_contact(session, contact)
            return ContactDeletePayload(deleted_id=gid("Contact", pk))

        return await context.mutate(change, ContactDeletePayload)

    @strawberry.mutation(description="Add an address to a customer; its first address becomes the primary one.")
    async def address_create(
        self, info: strawberry.Info, input: Annotated[AddressCreateInput, strawberry.argument(description=INPUT)]
    ) -> AddressPayload:
        context: OperationContext = info.context

        async def change() -> AddressPayload:
            context.require_viewer()
            session = await context.session()
            customer = await get_customer(session, pk_of(input.customer_id, "Customer", "input", "customerId"), "input", "customerId")
            data = addresses.NewAddress(
                label=input.label,
                line1=input.line1,
                line2=input.line2,
                postal_code=input.postal_code,
                city=input.city,
                country=input.country,
                latitude=input.latitude,
                longitude=input.longitude,
                primary=input.primary,
            )
            return AddressPayload(address=reads.address_from_row(await addresses.create_address(session, customer.id, data)))

        return await context.mutate(change, AddressPayload)

    @strawberry.mutation(description="Change an address; fields left out stay as they are.")
    async def address_update(
        self, info: strawberry.Info, input: Annotated[AddressUpdateInput, strawberry.argument(description=INPUT)]
    ) -> AddressPayload:
        context: OperationContext = info.context

        async def change() -> AddressPayload:
            context.require_viewer()
            session = await context.session()
            address = await addresses.get_address(session, pk_of(input.id, "Address", "input", "id"), "input", "id")
            updated = await addresses.update_address(session, address, sent(input, ADDRESS_FIELDS))
            return AddressPayload(address=reads.address_from_row(updated))

        return await context.mutate(change, AddressPayload)

    @strawberry.mutation(description="Make an address its customer's primary address (the previous one becomes secondary).")
    async def address_set_primary(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The address to make primary.")]
    ) -> AddressPayload:
        context: OperationContext = info.context

        async def change() -> AddressPayload:
            context.require_viewer()
            session = await context.session()
            address = await addresses.get_address(session, pk_of(id, "Address", "id"), "id")
            return AddressPayload(address=reads.address_from_row(await addresses.set_primary(session, address)))

        return await context.mutate(change, AddressPayload)

    @strawberry.mutation(description="Delete an address; when it was primary, the oldest remaining address becomes primary.")
    async def address_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The address to delete.")]
    ) -> AddressDeletePayload:
        context: OperationContext = info.context

        async def change() -> AddressDeletePayload:
            context.require_viewer()
            session = await context.session()
            address = await addresses.get_address(session, pk_of(id, "Address", "id"), "id")
            pk = address.id
            await addresses.delete_address(session, address)
            return AddressDeletePayload(deleted_id=gid("Address", pk))

        return await context.mutate(change, AddressDeletePayload)
