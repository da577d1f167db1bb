"""Typed links between two customers (C6) and the customer memo (C7)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.cost import ensure_room
from fiche.errors import UserErrors
from fiche.plugins.customers import models
from fiche.plugins.customers.services.bounds import MAX_RELATIONS
from fiche.plugins.customers.services.validation import IntegrityRule, optional_text, translate_integrity_error

__all__ = ["MEMO_MAX", "create_relation", "get_relation", "set_memo"]

MEMO_MAX = 20_000
RELATION_RULE = IntegrityRule(
    "uq_customer_relations_customer_id_related_customer_id_kind",
    "customer_relations.customer_id, customer_relations.related_customer_id",
    "These customers are already linked this way.",
    ("input",),
)
MEMO_RULE = IntegrityRule(
    "uq_customer_memos_customer_id",
    "customer_memos.customer_id",
    "The memo was changed by someone else at the same time; try again.",
    ("body",),
)


async def create_relation(
    session: AsyncSession, customer_id: int, related_id: int, kind: models.RelationKind, note: str | None
) -> models.CustomerRelation:
    if customer_id == related_id:
        raise UserErrors.invalid("A customer cannot be linked to itself.", "input", "relatedCustomerId")
    exists = await session.scalar(
        select(func.count())
        .select_from(models.CustomerRelation)
        .where(
            models.CustomerRelation.kind == kind,
            or_(
                (models.CustomerRelation.customer_id == customer_id) & (models.CustomerRelation.related_customer_id == related_id),
                (models.CustomerRelation.customer_id == related_id) & (models.CustomerRelation.related_customer_id == customer_id),
            ),
        )
    )
    if exists:
        raise UserErrors.conflict("These customers are already linked this way.", "input", "kind")
    relation = models.CustomerRelation
    # Both customers list the link: both need room. Locked in id order, so that two links
    # made at once between the same customers cannot wait on each other.
    await session.execute(select(models.Customer.id).where(models.Customer.id.in_([customer_id, related_id])).order_by(models.Customer.id).with_for_update())
    for pk, field in ((customer_id, "customerId"), (related_id, "relatedCustomerId")):
        await ensure_room(
            session,
            select(func.count()).select_from(relation).where(or_(relation.customer_id == pk, relation.related_customer_id == pk)),
            MAX_RELATIONS,
            f"A customer has at most {MAX_RELATIONS} relations.",
            "input",
            field,
        )
    created = models.CustomerRelation(
        customer_id=customer_id,
        related_customer_id=related_id,
        kind=kind,
        note=optional_text(note, 500, "The note", "input", "note"),
    )
    session.add(created)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise translate_integrity_error(exc, [RELATION_RULE]) from exc
    return created


async def get_relation(session: AsyncSession, pk: int, *path: str) -> models.CustomerRelation:
    relation = await session.scalar(select(models.CustomerRelation).where(models.CustomerRelation.id == pk))
    if relation is None:
        raise UserErrors.not_found("No relation with this ID.", *path)
    return relation


async def set_memo(session: AsyncSession, customer_id: int, body: str) -> models.CustomerMemo | None:
    """Replace the memo; an empty text removes it. Who and when are kept by the audit columns."""
    text = body.strip()
    if len(text) > MEMO_MAX:
        raise UserErrors.invalid(f"The memo is longer than {MEMO_MAX} characters.", "body")
    memo = await session.scalar(select(models.CustomerMemo).where(models.CustomerMemo.customer_id == customer_id))
    if not text:
        if memo is not None:
            await session.delete(memo)
            await session.flush()
        return None
    if memo is None:
        memo = models.CustomerMemo(customer_id=customer_id, body=text)
        session.add(memo)
    else:
        memo.body = text
    try:
        await session.flush()
    except IntegrityError as exc:
        raise translate_integrity_error(exc, [MEMO_RULE]) from exc
    return memo
