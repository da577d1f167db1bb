"""Mutations of the customer record: create, update, convert, archive, merge, delete, memo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.files import remove_after_commit
from fiche.plugins.customers import models, reads
from fiche.plugins.customers.inputs import (
    CustomerConvertInput,
    CustomerCreateInput,
    CustomerUpdateInput,
)
from fiche.plugins.customers.mutations.common import (
    INPUT,
    custom_values,
    gid,
    optional_pk,
    pk_of,
    sent,
)
from fiche.plugins.customers.payloads import (
    CustomerDeletePayload,
    CustomerMemoPayload,
    CustomerPayload,
)
from fiche.plugins.customers.services import customers as service
from fiche.plugins.customers.services import lifecycle
from fiche.plugins.customers.services.relations import set_memo

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["CustomerMutations"]

CustomerId = Annotated[strawberry.ID, strawberry.argument(description="The customer's global ID.")]
UPDATE_FIELDS = {
    "company_name": "company_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "registration_number": "registration_number",
    "reference": "reference",
    "email": "email",
    "phone": "phone",
}


def _payload(customer: models.Customer) -> CustomerPayload:
    return CustomerPayload(customer=reads.customer_from_row(customer))


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="Create a customer (or a branch, with `parentId`).")
    async def customer_create(
        self, info: strawberry.Info, input: Annotated[CustomerCreateInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload:
        context: OperationContext = info.context

        async def change() -> CustomerPayload:
            context.require_viewer()
            data = service.NewCustomer(
                kind=models.CustomerKind[input.kind.name],
                company_name=input.company_name,
                first_name=input.first_name,
                last_name=input.last_name,
                registration_number=input.registration_number,
                reference=input.reference,
                email=input.email,
                phone=input.phone,
                representative_id=optional_pk(input.representative_id, "User", "input", "representativeId"),
                parent_id=optional_pk(input.parent_id, "Customer", "input", "parentId"),
                custom_values=custom_values(input.custom_fields),
            )
            return _payload(await service.create_customer(await context.session(), data))

        return await context.mutate(change, CustomerPayload)

    @strawberry.mutation(description="Change a customer's record; fields left out stay as they are.")
    async def customer_update(
        self, info: strawberry.Info, input: Annotated[CustomerUpdateInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload:
        context: OperationContext = info.context

        async def change() -> CustomerPayload:
            context.require_viewer()
            session = await context.session()
            customer = await service.get_customer(session, pk_of(input.id, "Customer", "input", "id"), "input", "id")
            changes = sent(input, UPDATE_FIELDS)
            if input.representative_id is not strawberry.UNSET:
                changes["representative_id"] = optional_pk(input.representative_id, "User", "input", "representativeId")
            if input.parent_id is not strawberry.UNSET:
                changes["parent_id"] = optional_pk(input.parent_id, "Customer", "input", "parentId")
            updated = await service.update_customer(session, customer, changes, custom_values(input.custom_fields))
            return _payload(updated)

        return await context.mutate(change, CustomerPayload)

    @strawberry.mutation(description="Turn an individual customer into a professional one.")
    async def customer_convert_to_professional(
        self, info: strawberry.Info, input: Annotated[CustomerConvertInput, strawberry.argument(description=INPUT)]
    ) -> CustomerPayload:
        context: OperationContext = info.context

        async def change() -> CustomerPayload:
            context.require_viewer()
            session = await context.session()
            customer = await service.get_customer(session, pk_of(input.id, "Customer", "input", "id"), "input", "id")
            converted = await service.convert_to_professional(
                session,
                customer,
                company_name=input.company_name,
                registration_number=input.registration_number,
                keep_person_as_contact=input.keep_person_as_contact,
            )
            return _payload(converted)

        return await context.mutate(change, CustomerPayload)

    @strawberry.mutation(description="Archive a customer: it disappears from lists unless they ask for archived customers.")
    async def customer_archive(self, info: strawberry.Info, id: CustomerId) -> CustomerPayload:
        context: OperationContext = info.context

        async def change() -> CustomerPayload:
            context.require_viewer()
            session = await context.session()
            customer = await service.get_customer(session, pk_of(id, "Customer", "id"), "id")
            return _payload(await service.archive(session, customer))

        return await context.mutate(change, CustomerPayload)

    @strawberry.mutation(description="Bring an archived customer back into lists.")
    async def customer_unarchive(self, info: strawberry.Info, id: CustomerId) -> CustomerPayload:
        context: OperationContext = info.context

        async def change() -> CustomerPayload:
            context.require_viewer()
            session = await context.session()
            customer = await service.get_customer(session, pk_of(id, "Customer", "id"), "id")
            return _payload(await service.unarchive(session, customer))

        return await context.mutate(change, CustomerPayload)

    @strawberry.mutation(
        description="Merge a duplicate into the customer kept (managers and admins): everything attached to the "
        "duplicate, in every plugin, moves to the kept customer in one transaction, then the duplicate is deleted."
    )
    async def customer_merge(
        self,
        info: strawberry.Info,
        keep_id: Annotated[strawberry.ID, strawberry.argument(description="The customer that stays.")],
        duplicate_id: Annotated[strawberry.ID, strawberry.argument(description="The duplicate, deleted once merged.")],
    ) -> CustomerPayload:
        context: OperationContext = info.context

        async def change() -> CustomerPayload:
            context.require_role_error(manager=True)
            session = await context.session()
            keep = await service.get_customer(session, pk_of(keep_id, "Customer", "keepId"), "keepId")
            duplicate = await service.get_customer(session, pk_of(duplicate_id, "Customer", "duplicateId"), "duplicateId")
            return _payload(await lifecycle.merge_customers(session, context.pm.hook, keep, duplicate))

        return await context.mutate(change, CustomerPayload)

    @strawberry.mutation(
        description="Delete a customer and its contacts, addresses, documents and memo (managers and admins). "
        "Refused while it has branches or while a plugin objects (e.g. billing documents exist)."
    )
    async def customer_delete(self, info: strawberry.Info, id: CustomerId) -> CustomerDeletePayload:
        context: OperationContext = info.context

        async def change() -> CustomerDeletePayload:
            context.require_role_error(manager=True)
            session = await context.session()
            customer = await service.get_customer(session, pk_of(id, "Customer", "id"), "id")
            pk = customer.id
            remove_after_commit(context, await lifecycle.delete_customer(session, context, customer))
            return CustomerDeletePayload(deleted_id=gid("Customer", pk))

        return await context.mutate(change, CustomerDeletePayload)

    @strawberry.mutation(description="Replace a customer's memo; an empty text removes it.")
    async def customer_memo_set(
        self,
        info: strawberry.Info,
        customer_id: Annotated[strawberry.ID, strawberry.argument(description="The customer whose memo to edit.")],
        body: Annotated[str, strawberry.argument(description="The memo's new text.")],
    ) -> CustomerMemoPayload:
        context: OperationContext = info.context

        async def change() -> CustomerMemoPayload:
            context.require_viewer()
            session = await context.session()
            customer = await service.get_customer(session, pk_of(customer_id, "Customer", "customerId"), "customerId")
            memo = await set_memo(session, customer.id, body)
            return CustomerMemoPayload(
                memo=reads.memo_from_row(memo) if memo is not None else None, customer=reads.customer_from_row(customer)
            )

        return await context.mutate(change, CustomerMemoPayload)
