"""Mutations of typed links between customers (C6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.plugins.customers import models, reads
from fiche.plugins.customers.inputs import CustomerRelationCreateInput
from fiche.plugins.customers.mutations.common import INPUT, gid, pk_of
from fiche.plugins.customers.payloads import CustomerRelationDeletePayload, CustomerRelationPayload
from fiche.plugins.customers.services import relations
from fiche.plugins.customers.services.customers import get_customer

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["RelationMutations"]


@strawberry.type
class RelationMutations:
    @strawberry.mutation(description="Link two customers (partner, supplier, same group, ...).")
    async def customer_relation_create(
        self, info: strawberry.Info, input: Annotated[CustomerRelationCreateInput, strawberry.argument(description=INPUT)]
    ) -> CustomerRelationPayload:
        context: OperationContext = info.context

        async def change() -> CustomerRelationPayload:
            context.require_viewer()
            session = await context.session()
            customer = await get_customer(session, pk_of(input.customer_id, "Customer", "input", "customerId"), "input", "customerId")
            related = await get_customer(
                session, pk_of(input.related_customer_id, "Customer", "input", "relatedCustomerId"), "input", "relatedCustomerId"
            )
            relation = await relations.create_relation(
                session, customer.id, related.id, models.RelationKind[input.kind.name], input.note
            )
            return CustomerRelationPayload(relation=reads.relation_from_row(relation))

        return await context.mutate(change, CustomerRelationPayload)

    @strawberry.mutation(description="Remove a link between two customers.")
    async def customer_relation_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The link to remove.")]
    ) -> CustomerRelationDeletePayload:
        context: OperationContext = info.context

        async def change() -> CustomerRelationDeletePayload:
            context.require_viewer()
            session = await context.session()
            relation = await relations.get_relation(session, pk_of(id, "CustomerRelation", "id"), "id")
            pk = relation.id
            await session.delete(relation)
            await session.flush()
            return CustomerRelationDeletePayload(deleted_id=gid("CustomerRelation", pk))

        return await context.mutate(change, CustomerRelationDeletePayload)
