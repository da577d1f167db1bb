"""Merging duplicates and deleting customers (C4), across every plugin through the hooks.

Both run in the caller's single transaction: if any step (a plugin's hook included)
raises, the caller rolls everything back.
"""

from __future__ import annotations

import inspect
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.errors import ErrorCode, UserErrors
from fiche.plugins.customers import models
from fiche.plugins.customers.services.bounds import MAX_ADDRESSES, MAX_RELATIONS
from fiche.plugins.customers.services.events import record_event
from fiche.plugins.customers.services.hierarchy import descendants, lock_hierarchy
from fiche.plugins.customers.services.locks import lock_location

__all__ = ["delete_customer", "merge_customers"]

# Record fields the kept customer takes from the duplicate when it has none of its own.
FILLED_FROM_DUPLICATE = ("registration_number", "email", "phone", "representative_id")


async def _answers(results: list[Any]) -> list[Any]:
    """Await each plugin's answer in turn. pluggy has already called every implementation,
    so when one raises, the coroutines of the others are closed rather than left pending."""
    pending = list(results)
    answers = []
    try:
        while pending:
            result = pending.pop(0)
            answers.append(await result if inspect.isawaitable(result) else result)
    finally:
        for leftover in pending:
            if inspect.iscoroutine(leftover):
                leftover.close()
    return answers


async def merge_customers(session: AsyncSession, hooks: Any, keep: models.Customer, duplicate: models.Customer) -> models.Customer:
    """Move everything of ``duplicate`` to ``keep``, call every plugin's ``merge_customers``
    hook, then delete the duplicate. ``keep`` keeps its preferred contact, primary address,
    custom values and fields; the duplicate fills in what ``keep`` lacks."""
    if keep.id == duplicate.id:
        raise UserErrors.invalid("A customer cannot be merged into itself.", "duplicateId")
    await lock_hierarchy(session)
    await lock_location(session, keep.id, duplicate.id)
    if keep.id in await descendants(session, duplicate.id):
        raise UserErrors.conflict("A customer cannot be merged into one of its own branches.", "keepId")
    for field in FILLED_FROM_DUPLICATE:
        if getattr(keep, field) is None and getattr(duplicate, field) is not None:
            setattr(keep, field, getattr(duplicate, field))
    source, target = duplicate.id, keep.id
    await _move_flagged(session, models.Contact, models.Contact.preferred, source, target)
    await _move_flagged(session, models.Address, models.Address.is_primary, source, target)
    for model in (models.CustomerDocument, models.CustomerEvent):
        await session.execute(update(model).where(model.customer_id == source).values(customer_id=target))
    await session.execute(update(models.Customer).where(models.Customer.parent_id == source).values(parent_id=target))
    await _move_relations(session, source, target)
    await _move_custom_values(session, source, target)
    await _move_memo(session, source, target)
    await _check_merged_sizes(session, target)
    await _answers(hooks.merge_customers(session=session, source_id=source, target_id=target))
    details = f"Merged {duplicate.display_name} ({duplicate.reference}) into this customer."
    await session.delete(duplicate)
    await session.flush()
    record_event(session, target, models.EventKind.MERGED, details)
    await session.flush()
    return keep


async def _check_merged_sizes(session: AsyncSession, target: int) -> None:
    """The merged customer keeps the list bounds the query cost relies on."""
    address, relation = models.Address, models.CustomerRelation
    addresses = await session.scalar(select(func.count()).select_from(address).where(address.customer_id == target))
    if (addresses or 0) > MAX_ADDRESSES:
        raise UserErrors.one(
            ErrorCode.LIMIT_EXCEEDED, f"Merged, the customer would have {addresses} addresses (at most {MAX_ADDRESSES}): delete some first.", "duplicateId"
        )
    relations = await session.scalar(
        select(func.count()).select_from(relation).where(or_(relation.customer_id == target, relation.related_customer_id == target))
    )
    if (relations or 0) > MAX_RELATIONS:
        raise UserErrors.one(
            ErrorCode.LIMIT_EXCEEDED, f"Merged, the customer would have {relations} relations (at most {MAX_RELATIONS}): delete some first.", "duplicateId"
        )


async def _move_flagged(session: AsyncSession, model: Any, flag: Any, source: int, target: int) -> None:
    """Re-point rows whose partial unique index allows one flagged row per customer: the
    duplicate's flag is dropped first when the kept customer has a flagged row already."""
    kept_flag = await session.scalar(select(model.id).where(model.customer_id == target, flag.is_(True)))
    if kept_flag is not None:
        await session.execute(update(model).where(model.customer_id == source, flag.is_(True)).values({flag.key: False}))
    await session.execute(update(model).where(model.customer_id == source).values(customer_id=target))


async def _move_relations(session: AsyncSession, source: int, target: int) -> None:
    relation = models.CustomerRelation
    rows = (
        await session.scalars(select(relation).where(or_(relation.customer_id == source, relation.related_customer_id == source)))
    ).all()
    existing = {
        (row.customer_id, row.related_customer_id, row.kind)
        for row in (await session.scalars(select(relation).where(or_(relation.customer_id == target, relation.related_customer_id == target)))).all()
    }
    for row in rows:
        ends = (target if row.customer_id == source else row.customer_id, target if row.related_customer_id == source else row.related_customer_id)
        if ends[0] == ends[1] or (*ends, row.kind) in existing or (ends[1], ends[0], row.kind) in existing:
            await session.delete(row)  # a link between the two records, or one keep already has
            continue
        row.customer_id, row.related_customer_id = ends
        existing.add((*ends, row.kind))
    await session.flush()


async def _move_custom_values(session: AsyncSession, source: int, target: int) -> None:
    kept = (await session.scalars(select(models.CustomValue.field_id).where(models.CustomValue.customer_id == target))).all()
    if kept:
        await session.execute(
            delete(models.CustomValue).where(models.CustomValue.customer_id == source, models.CustomValue.field_id.in_(list(kept)))
        )
    await session.execute(update(models.CustomValue).where(models.CustomValue.customer_id == source).values(customer_id=target))


async def _move_memo(session: AsyncSession, source: int, target: int) -> None:
    memos = {
        memo.customer_id: memo
        for memo in (await session.scalars(select(models.CustomerMemo).where(models.CustomerMemo.customer_id.in_([source, target])))).all()
    }
    duplicate, kept = memos.get(source), memos.get(target)
    if duplicate is None:
        return
    if kept is None:
        duplicate.customer_id = target
    else:
        kept.body = f"{kept.body}\n\n{duplicate.body}"
        await session.delete(duplicate)
    await session.flush()


async def delete_customer(session: AsyncSession, context: Any, customer: models.Customer) -> list[str]:
    """Delete a customer and its rows, once no plugin objects. Returns the storage keys of
    its documents, to remove from the file storage after the commit."""
    branches = (await session.scalars(select(models.Customer.display_name).where(models.Customer.parent_id == customer.id))).all()
    if branches:
        raise UserErrors.conflict(
            f"This customer has {len(branches)} branch(es) ({', '.join(sorted(branches)[:5])}): "
            "delete them or attach them elsewhere first.",
            "id",
        )
    hooks = context.pm.hook
    answers = await _answers(hooks.customer_deletion_blockers(session=session, customer_id=customer.id))
    reasons = [reason for answer in answers for reason in answer or ()]
    if reasons:
        raise UserErrors.conflict("This customer cannot be deleted: " + "; ".join(reasons), "id")
    await _answers(hooks.customer_deleted(session=session, customer_id=customer.id, context=context))
    keys = list(
        (await session.scalars(select(models.CustomerDocument.storage_key).where(models.CustomerDocument.customer_id == customer.id))).all()
    )
    relation = models.CustomerRelation
    await session.execute(delete(relation).where(or_(relation.customer_id == customer.id, relation.related_customer_id == customer.id)))
    for model in (
        models.Contact,
        models.Address,
        models.CustomerDocument,
        models.CustomValue,
        models.CustomerMemo,
        models.CustomerEvent,
    ):
        await session.execute(delete(model).where(model.customer_id == customer.id))
    await session.delete(customer)
    await session.flush()
    return keys
