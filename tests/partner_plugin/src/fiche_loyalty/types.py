from __future__ import annotations

from typing import Any, Protocol

import strawberry
from sqlalchemy import select

from fiche_loyalty import models
from fiche import InvalidID, Node, UserError, UserErrors


class HasPk(Protocol):
    pk: int


@strawberry.type(description="A customer's loyalty card (partner plugin).")
class LoyaltyCard(Node):
    customer_pk: strawberry.Private[int]
    points: int = strawberry.field(description="Points collected.")


@strawberry.type(description="The outcome of creating a loyalty card.")
class LoyaltyCardPayload:
    card: LoyaltyCard | None = strawberry.field(default=None, description="The new card.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed.")


@strawberry.type
class LoyaltyQueries:
    @strawberry.field(description="The loyalty tiers of the programme.")
    def loyalty_tiers(self, info: strawberry.Info) -> list[str]:
        info.context.require_viewer()
        return ["bronze", "silver", "gold"]


@strawberry.type
class LoyaltyMutations:
    @strawberry.mutation(description="Give a customer a loyalty card.")
    async def loyalty_card_create(self, info: strawberry.Info, customer_id: strawberry.ID, points: int = 0) -> LoyaltyCardPayload:
        context = info.context

        async def change() -> LoyaltyCardPayload:
            try:
                customer = await context.load_node(customer_id, "Customer")
            except InvalidID as exc:
                raise UserErrors.invalid(str(exc), "customerId") from exc
            if customer is None:
                raise UserErrors.not_found("No customer with this ID.", "customerId")
            session = await context.session()
            card = models.LoyaltyCard(customer_id=customer.pk, points=points)
            session.add(card)
            await session.flush()
            return LoyaltyCardPayload(card=LoyaltyCard(pk=card.id, customer_pk=card.customer_id, points=card.points))

        return await context.mutate(change, LoyaltyCardPayload)


async def resolve_loyalty_card(root: HasPk, info: strawberry.Info) -> LoyaltyCard | None:
    return await info.context.loaders["loyalty_cards_by_customer"].load(root.pk)


def resolve_loyalty_badge(root: HasPk) -> str:
    return "gold" if root.pk % 2 else "silver"


loyalty_card_field = strawberry.field(resolver=resolve_loyalty_card, name="loyaltyCard", description="The customer's loyalty card, if any.")
loyalty_badge_field = strawberry.field(resolver=resolve_loyalty_badge, name="loyaltyBadge", description="The user's loyalty badge.")


async def load_cards(context: Any, pks: Any) -> list[LoyaltyCard | None]:
    async with context.read() as session:
        rows = (await session.execute(select(models.LoyaltyCard.id, models.LoyaltyCard.customer_id, models.LoyaltyCard.points).where(models.LoyaltyCard.id.in_(list(pks))))).all()
    found = {row.id: LoyaltyCard(pk=row.id, customer_pk=row.customer_id, points=row.points) for row in rows}
    return [found.get(pk) for pk in pks]
