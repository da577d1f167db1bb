"""Keeping notes, tasks and follows in step with customers: merges and deletions (C4);
who follows a customer, for other plugins (``customer_followers``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from fiche.accounts import models as accounts
from fiche.notifications import service as inbox
from fiche.relay import encode_id
from fiche.plugins.notes import models
from fiche.plugins.notes.dispatch import DELETED, KINDS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql import ColumnElement

__all__ = ["delete_customer_rows", "delete_subject_notes", "followers_of_customers", "merge_customer_rows"]


async def merge_customer_rows(session: AsyncSession, source_id: int, target_id: int) -> None:
    """Move the duplicate's notes and tasks to the kept customer, and its followers; a user
    who followed both keeps one follow. Notifications about those notes lead to the kept
    customer afterwards."""
    note = models.Note
    await session.execute(
        update(note)
        .where(note.customer_id == source_id)
        .values(customer_id=target_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(note)
        .where(note.target_type == "Customer", note.target_id == source_id)
        .values(target_id=target_id)
        .execution_options(synchronize_session=False)
    )
    source_gid, target_gid = encode_id("Customer", source_id), encode_id("Customer", target_id)
    await inbox.retarget(session, source_gid, target_gid, [kind.name for kind in KINDS])
    follow = models.CustomerFollow
    already = select(follow.user_id).where(follow.customer_id == target_id)
    await session.execute(
        delete(follow)
        .where(follow.customer_id == source_id, follow.user_id.in_(already))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(follow)
        .where(follow.customer_id == source_id)
        .values(customer_id=target_id)
        .execution_options(synchronize_session=False)
    )


async def delete_customer_rows(session: AsyncSession, customer_id: int) -> None:
    """Delete (not detach) a deleted customer's notes, tasks, their mentions, and follows:
    a note about a customer that no longer exists has no place left to be read. The
    notifications about them stay in the inboxes, withdrawn (no quote, no link)."""
    note = models.Note
    await _delete_notes(session, (note.customer_id == customer_id) | ((note.target_type == "Customer") & (note.target_id == customer_id)))
    await session.execute(
        delete(models.CustomerFollow)
        .where(models.CustomerFollow.customer_id == customer_id)
        .execution_options(synchronize_session=False)
    )


async def delete_subject_notes(session: AsyncSession, type_name: str, ids: Sequence[int]) -> None:
    """Delete the notes and tasks attached to deleted objects of another plugin (an
    activity's note history goes with the activity), notifications withdrawn."""
    if ids:
        note = models.Note
        await _delete_notes(session, (note.target_type == type_name) & note.target_id.in_(list(ids)))


async def followers_of_customers(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, list[int]]:
    """``{customer id: [active follower ids]}`` (the ``customer_followers`` hook)."""
    follow, user = models.CustomerFollow, accounts.User
    rows = (
        await session.execute(
            select(follow.customer_id, follow.user_id)
            .join(user, user.id == follow.user_id)
            .where(follow.customer_id.in_(list(customer_ids)), user.is_active.is_(True))
            .order_by(follow.customer_id, follow.user_id)
        )
    ).all()
    followers: dict[int, list[int]] = {}
    for row in rows:
        followers.setdefault(row.customer_id, []).append(row.user_id)
    return followers


async def _delete_notes(session: AsyncSession, condition: ColumnElement[bool]) -> None:
    note = models.Note
    rows = (await session.execute(select(note.id, note.is_task).where(condition))).all()
    ids = [row.id for row in rows]
    for is_task in (False, True):
        subjects = [encode_id("Note", row.id) for row in rows if row.is_task is is_task]
        if subjects:
            # Inbox rows stay, but no longer quote or link to what is gone.
            await inbox.withdraw(session, DELETED.format(what="task" if is_task else "note"), subject_ids=subjects)
    if ids:
        await session.execute(
            delete(models.NoteMention).where(models.NoteMention.note_id.in_(ids)).execution_options(synchronize_session=False)
        )
        await session.execute(delete(note).where(note.id.in_(ids)).execution_options(synchronize_session=False))
