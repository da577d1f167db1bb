"""``customerFollow`` and ``customerUnfollow``: the bell on a customer's notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy import delete

from fiche.errors import UserErrors
from fiche.plugins.notes import models
from fiche.plugins.notes.inputs import CustomerFollowPayload, CustomerId
from fiche.plugins.notes.services import follow_statement
from fiche.plugins.notes.writes import decode

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["FollowMutations"]


async def _customer(context: OperationContext, global_id: str) -> Any:
    decode(global_id, "Customer", "customerId")
    customer = await context.load_node(global_id, "Customer")
    if customer is None:
        raise UserErrors.not_found("No customer with this ID.", "customerId")
    return customer


@strawberry.type
class FollowMutations:
    @strawberry.mutation(description="Follow a customer: you are notified of each new note colleagues write on it.")
    async def customer_follow(self, info: strawberry.Info, customer_id: CustomerId) -> CustomerFollowPayload:
        context: OperationContext = info.context

        async def change() -> CustomerFollowPayload:
            viewer = context.require_viewer()
            customer = await _customer(context, customer_id)
            session = await context.session()
            # Idempotent, and safe against a concurrent follow of the same customer.
            await session.execute(follow_statement(session, viewer.organization_id, customer.pk, viewer.user_id))
            return CustomerFollowPayload(customer=customer, is_followed=True)

        return await context.mutate(change, CustomerFollowPayload)

    @strawberry.mutation(description="Stop following a customer.")
    async def customer_unfollow(self, info: strawberry.Info, customer_id: CustomerId) -> CustomerFollowPayload:
        context: OperationContext = info.context

        async def change() -> CustomerFollowPayload:
            viewer = context.require_viewer()
            customer = await _customer(context, customer_id)
            session = await context.session()
            follow = models.CustomerFollow
            await session.execute(delete(follow).where(follow.customer_id == customer.pk, follow.user_id == viewer.user_id))
            return CustomerFollowPayload(customer=customer, is_followed=False)

        return await context.mutate(change, CustomerFollowPayload)
