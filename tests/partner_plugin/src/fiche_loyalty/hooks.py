from __future__ import annotations

from pathlib import Path
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import select, update

from fiche_loyalty import models
from fiche_loyalty.types import (
    LoyaltyCard,
    LoyaltyMutations,
    LoyaltyQueries,
    load_cards,
    loyalty_badge_field,
    loyalty_card_field,
)
from fiche import TypeExtension, hookimpl


@hookimpl
def register_types() -> list[type]:
    return [LoyaltyCard]


@hookimpl
def register_queries() -> list[type]:
    return [LoyaltyQueries]


@hookimpl
def register_mutations() -> list[type]:
    return [LoyaltyMutations]


@hookimpl
def register_type_extensions() -> list[TypeExtension]:
    return [TypeExtension("Customer", [loyalty_card_field]), TypeExtension("User", [loyalty_badge_field])]


class LoyaltyCardsByCustomerLoader(DataLoader[int, "LoyaltyCard | None"]):
    def __init__(self, context: Any) -> None:
        super().__init__()
        self.context = context

    async def batch_load_fn(self, keys: list[int]) -> list[LoyaltyCard | None]:  # type: ignore[override]
        async with self.context.read() as session:
            rows = (
                await session.execute(
                    select(models.LoyaltyCard.id, models.LoyaltyCard.customer_id, models.LoyaltyCard.points).where(
                        models.LoyaltyCard.customer_id.in_(keys)
                    )
                )
            ).all()
        found = {row.customer_id: LoyaltyCard(pk=row.id, customer_pk=row.customer_id, points=row.points) for row in rows}
        return [found.get(key) for key in keys]


@hookimpl
def register_loaders(context: Any) -> dict[str, Any]:
    return {"loyalty_cards_by_customer": LoyaltyCardsByCustomerLoader(context)}


@hookimpl
def register_node_types() -> dict[str, Any]:
    return {"LoyaltyCard": load_cards}


@hookimpl
def register_subject_types() -> list[str]:
    return ["LoyaltyCard"]


@hookimpl
def register_migrations() -> list[Path]:
    return [Path(__file__).resolve().parent / "migrations" / "versions"]


@hookimpl
async def merge_customers(session: Any, source_id: int, target_id: int) -> None:
    kept = await session.scalar(select(models.LoyaltyCard).where(models.LoyaltyCard.customer_id == target_id))
    duplicate = await session.scalar(select(models.LoyaltyCard).where(models.LoyaltyCard.customer_id == source_id))
    if duplicate is None:
        return
    if kept is None:
        await session.execute(
            update(models.LoyaltyCard).where(models.LoyaltyCard.customer_id == source_id).values(customer_id=target_id)
        )
        return
    kept.points += duplicate.points
    await session.delete(duplicate)


@hookimpl
async def customer_deleted(session: Any, customer_id: int) -> None:
    for card in (await session.scalars(select(models.LoyaltyCard).where(models.LoyaltyCard.customer_id == customer_id))).all():
        await session.delete(card)
