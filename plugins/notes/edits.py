"""Editing and deleting notes, and changing the state of tasks (complete, reopen,
reassign), with their notifications. Only the author or an admin edits or deletes a note;
a task's state is changed by its assignee, its author (the assigner) or an admin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from strawberry import UNSET

from fiche.accounts import models as accounts
from fiche.db import utcnow
from fiche.errors import UserErrors
from fiche.plugins.notes import dispatch, models, services
from fiche.plugins.notes.writes import (
    check_mentions,
    load_for_edit,
    require_author,
    resolve_category,
    resolve_team,
    resolve_user,
    save_mentions,
)
from fiche.plugins.notes.audience import load_audience

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.auth import Viewer
    from fiche.context import OperationContext

__all__ = ["complete_task", "delete_note", "reassign_task", "reopen_task", "update_note"]


async def _current_mentions(session: AsyncSession, note_id: int) -> list[services.ResolvedMention]:
    mention = models.NoteMention
    rows = (
        await session.execute(
            select(mention.user_id, accounts.User.handle, mention.start, mention.stop)
            .join(accounts.User, accounts.User.id == mention.user_id)
            .where(mention.note_id == note_id)
            .order_by(mention.start)
        )
    ).all()
    return [services.ResolvedMention(row.user_id, row.handle, row.start, row.stop) for row in rows]


async def _apply_visibility(
    session: AsyncSession, viewer: Viewer, note: models.Note, visibility: models.Visibility | None, team: Any, path: Sequence[str]
) -> None:
    if visibility is None and team is UNSET:
        return
    wanted = visibility or note.visibility
    if wanted is models.Visibility.TEAM and team is UNSET and note.team_id is not None:
        note.visibility = wanted  # keeps its team
        return
    note.team_id = await resolve_team(session, viewer, wanted, None if team is UNSET else team, *path)
    note.visibility = wanted


async def update_note(
    context: OperationContext,
    global_id: str,
    *,
    body: str | None = None,
    category: Any = UNSET,
    visibility: models.Visibility | None = None,
    team: Any = UNSET,
    due_at: Any = UNSET,
    path: Sequence[str] = ("input",),
) -> models.Note:
    """Change a note; ``UNSET`` leaves a field as it is. Every mention must still be able to
    read the note; only users mentioned for the first time are notified."""
    viewer = context.require_viewer()
    note = await load_for_edit(context, global_id, *path, "id")
    require_author(viewer, note)
    session = await context.session()
    before = await _current_mentions(session, note.id)
    if body is not None:
        note.body = services.check_body(body, *path, "body")
    if category is not UNSET:
        note.category_id = await resolve_category(session, category, *path, "categoryId")
    audience = (note.visibility, note.team_id)
    await _apply_visibility(session, viewer, note, visibility, team, path)
    if due_at is not UNSET:
        if not note.is_task:
            raise UserErrors.invalid("Only a task has a due date.", *path, "dueAt")
        note.due_at = services.check_due(due_at, *path, "dueAt")
    # The new body's mentions (or the kept ones) and their readers' access: one read.
    readers = await load_audience(session, note.body if body is not None else None, extra=() if body is not None else [m.user_id for m in before])
    mentions = readers.mentions if body is not None else before
    access = readers.access
    check_mentions(dispatch.note_access(note), access, mentions, path)
    if body is not None:
        await save_mentions(session, note.id, mentions)
    await session.flush()
    if (note.visibility, note.team_id) != audience:
        await dispatch.redact_notifications(context, note)
    newly = {m.user_id for m in mentions} - {m.user_id for m in before}
    await dispatch.notify_note(context, note, mentioned=newly, access=access)
    return note


async def delete_note(context: OperationContext, global_id: str, *path: str) -> int:
    viewer = context.require_viewer()
    note = await load_for_edit(context, global_id, *path)
    require_author(viewer, note)
    session = await context.session()
    await dispatch.redact_notifications(context, note, deleted=True)
    await session.execute(delete(models.NoteMention).where(models.NoteMention.note_id == note.id))
    await session.delete(note)
    await session.flush()
    return note.id


def _require_task_actor(viewer: Viewer, note: models.Note) -> None:
    if not (viewer.is_admin or viewer.user_id in (note.assignee_id, note.author_id)):
        raise UserErrors.forbidden("Only the assignee, the person who assigned the task or an admin can change it.")


async def _quote(context: OperationContext, note: models.Note) -> str:
    session = await context.session()
    label = await dispatch.target_label(context, session, note)
    return (f" on {label}" if label else "") + f": “{services.excerpt(note.body)}”"


async def complete_task(context: OperationContext, global_id: str, *path: str) -> models.Note:
    """Mark a task done; its assigner (author) hears of it unless they completed it."""
    viewer = context.require_viewer()
    note = await load_for_edit(context, global_id, *path, task=True)
    _require_task_actor(viewer, note)
    if note.completed_at is not None:
        raise UserErrors.conflict("This task is already completed.", *path)
    note.completed_at = utcnow()
    note.completed_by_id = viewer.user_id
    await (await context.session()).flush()
    if note.author_id is not None:
        message = f"{viewer.name} completed your task{await _quote(context, note)}"
        await dispatch.notify_task_change(context, note, services.TASK_COMPLETED, {note.author_id: message})
    return note


async def reopen_task(context: OperationContext, global_id: str, *path: str) -> models.Note:
    viewer = context.require_viewer()
    note = await load_for_edit(context, global_id, *path, task=True)
    _require_task_actor(viewer, note)
    if note.completed_at is None:
        raise UserErrors.conflict("This task is not completed.", *path)
    note.completed_at = None
    note.completed_by_id = None
    await (await context.session()).flush()
    return note


async def reassign_task(
    context: OperationContext, global_id: str, assignee_gid: str, *, id_path: Sequence[str], assignee_path: Sequence[str]
) -> models.Note:
    """Give a task to someone else: the new assignee, the previous assignee and the
    assigner (author) hear of it, at most once each and never the one who reassigned it.
    The previous assignee hears only while they may still read the task (like every
    notification about a note: a TEAM or MANAGERS task they no longer hold may be hidden
    from them now)."""
    viewer = context.require_viewer()
    note = await load_for_edit(context, global_id, *id_path, task=True)
    _require_task_actor(viewer, note)
    session = await context.session()
    assignee_id = await resolve_user(session, assignee_gid, *assignee_path)
    if assignee_id == note.assignee_id:
        raise UserErrors.conflict("The task is already assigned to this user.", *assignee_path)
    previous = note.assignee_id
    note.assignee_id = assignee_id
    await session.flush()
    quote = await _quote(context, note)
    name = await session.scalar(select(accounts.User.name).where(accounts.User.id == assignee_id))
    recipients = {assignee_id: f"{viewer.name} reassigned a task to you{quote}"}
    if previous is not None and previous != assignee_id:
        recipients[previous] = f"{viewer.name} reassigned a task you held to {name}{quote}"
    if note.author_id is not None and note.author_id != assignee_id:
        recipients[note.author_id] = f"{viewer.name} reassigned your task to {name}{quote}"
    await dispatch.notify_task_change(context, note, services.TASK_REASSIGNED, recipients)
    return note
