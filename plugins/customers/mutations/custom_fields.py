"""Admin mutations of custom field definitions (C1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.plugins.customers import models, reads
from fiche.plugins.customers.inputs import CustomFieldCreateInput, CustomFieldUpdateInput
from fiche.plugins.customers.mutations.common import INPUT, gid, pk_of
from fiche.plugins.customers.payloads import CustomFieldDeletePayload, CustomFieldPayload
from fiche.plugins.customers.services import custom_fields

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["CustomFieldMutations"]


@strawberry.type
class CustomFieldMutations:
    @strawberry.mutation(description="Define a new custom field of customers (admins only).")
    async def custom_field_create(
        self, info: strawberry.Info, input: Annotated[CustomFieldCreateInput, strawberry.argument(description=INPUT)]
    ) -> CustomFieldPayload:
        context: OperationContext = info.context

        async def change() -> CustomFieldPayload:
            context.require_role_error(admin=True)
            field = await custom_fields.create_field(
                await context.session(),
                key=input.key,
                label=input.label,
                kind=models.CustomFieldType[input.type.name],
                choices=input.choices,
                required=input.required,
                position=input.position,
            )
            return CustomFieldPayload(field=reads.field_from_row(field))

        return await context.mutate(change, CustomFieldPayload)

    @strawberry.mutation(description="Change a custom field's label, choices, required flag or position (admins only).")
    async def custom_field_update(
        self, info: strawberry.Info, input: Annotated[CustomFieldUpdateInput, strawberry.argument(description=INPUT)]
    ) -> CustomFieldPayload:
        context: OperationContext = info.context

        async def change() -> CustomFieldPayload:
            context.require_role_error(admin=True)
            session = await context.session()
            field = await custom_fields.get_field(session, pk_of(input.id, "CustomField", "input", "id"), "input", "id")
            updated = await custom_fields.update_field(
                session, field, label=input.label, choices=input.choices, required=input.required, position=input.position
            )
            return CustomFieldPayload(field=reads.field_from_row(updated))

        return await context.mutate(change, CustomFieldPayload)

    @strawberry.mutation(description="Delete a custom field and every customer's value of it (admins only).")
    async def custom_field_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The custom field to delete.")]
    ) -> CustomFieldDeletePayload:
        context: OperationContext = info.context

        async def change() -> CustomFieldDeletePayload:
            context.require_role_error(admin=True)
            session = await context.session()
            field = await custom_fields.get_field(session, pk_of(id, "CustomField", "id"), "id")
            pk = field.id
            await custom_fields.delete_field(session, field)
            return CustomFieldDeletePayload(deleted_id=gid("CustomField", pk))

        return await context.mutate(change, CustomFieldDeletePayload)
