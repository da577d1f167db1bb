"""Writing notes and tasks in the operation's transaction: input checks that need the
database (target, category, team, assignee, mentions), then the rows and notifications.

Every function raises :class:`UserErrors` on bad input; mutations and the ``create_task``
hook share them, so the rules cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from fiche.accounts import models as accounts
from fiche.db import utcnow
from fiche.errors import ErrorCode, UserErrors
from fiche.relay import decode_input as decode
from fiche.plugins.notes import dispatch, models, services
from fiche.plugins.notes.audience import load_audience
from fiche.plugins.notes.rows import insert_note

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.auth import Viewer
    from fiche.context import OperationContext

__all__ = [
    "Draft",
    "check_mentions",
    "create_note",
    "decode",
    "load_for_edit",
    "require_author",
    "resolve_category",
    "resolve_target",
    "resolve_team",
    "resolve_user",
    "save_mentions",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Draft:
    """A note or task to create. ``assignee`` is a global ID or a primary key (None: the author)."""

    body: str
    target_gid: str | None = None
    category_gid: str | None = None
    visibility: models.Visibility = models.Visibility.ORGANIZATION
    team_gid: str | None = None
    is_task: bool = False
    assignee: str | int | None = None
    due_at: dt.datetime | None = None


async def resolve_target(context: OperationContext, global_id: str | None, *path: str) -> tuple[str, int] | None:
    """``(type name, pk)`` of a note target the viewer may see; None for a general note."""
    if global_id is None:
        return None
    type_name, pk = decode(global_id, None, *path)
    if type_name not in context.app.subject_types:
        raise UserErrors.invalid(f"A note cannot be attached to a {type_name}.", *path)
    if await context.load_node(global_id) is None:
        raise UserErrors.not_found(f"No {type_name} with this ID.", *path)
    return type_name, pk


async def resolve_category(session: AsyncSession, global_id: str | None, *path: str) -> int | None:
    if global_id is None:
        return None
    _, pk = decode(global_id, "NoteCategory", *path)
    if await session.scalar(select(models.NoteCategory.id).where(models.NoteCategory.id == pk)) is None:
        raise UserErrors.not_found("No category with this ID.", *path)
    return pk


async def resolve_team(
    session: AsyncSession, viewer: Viewer, visibility: models.Visibility, global_id: str | None, *path: str
) -> int | None:
    """The team of a TEAM note: one of the viewer's teams (any team for an admin)."""
    if visibility is not models.Visibility.TEAM:
        if global_id is not None:
            raise UserErrors.invalid("A team goes only with TEAM visibility.", *path, "teamId")
        return None
    if global_id is None:
        raise UserErrors.invalid("TEAM visibility needs a team.", *path, "teamId")
    _, pk = decode(global_id, "Team", *path, "teamId")
    if await session.scalar(select(accounts.Team.id).where(accounts.Team.id == pk)) is None:
        raise UserErrors.not_found("No team with this ID.", *path, "teamId")
    if not viewer.is_admin and pk not in viewer.team_ids:
        raise UserErrors.forbidden("You can restrict a note only to a team you belong to.", *path, "teamId")
    return pk


async def resolve_user(session: AsyncSession, user: str | int, *path: str) -> int:
    """An active user of the organisation, by global ID or primary key."""
    pk = user if isinstance(user, int) else decode(user, "User", *path)[1]
    row = (await session.execute(select(accounts.User.id, accounts.User.is_active).where(accounts.User.id == pk))).one_or_none()
    if row is None:
        raise UserErrors.not_found("No user with this ID.", *path)
    if not row.is_active:
        raise UserErrors.invalid("This user is deactivated.", *path)
    return pk


def check_mentions(
    note: services.NoteAccess,
    access: dict[int, services.UserAccess],
    mentions: Sequence[services.ResolvedMention],
    path: Sequence[str],
) -> None:
    """Refuse to mention someone who could not read the note. ``access`` holds the ACTIVE
    users only: a mention of a since-deactivated user (kept in an old note) is no reason to
    refuse an edit. (A task's assignee always reads it, so assigning needs no check.)"""
    if len(mentions) > services.MAX_MENTIONS:
        raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"A note mentions at most {services.MAX_MENTIONS} colleagues.", *path, "body")
    for mention in mentions:
        reader = access.get(mention.user_id)
        if reader is not None and not services.can_see(reader, note):
            raise UserErrors.invalid(
                f"@{mention.handle} cannot read this note ({_audience(note)}): remove the mention or widen the visibility.",
                *path,
                "body",
            )


def _audience(note: services.NoteAccess) -> str:
    if note.visibility is models.Visibility.TEAM:
        return "it is restricted to a team"
    return "it is restricted to managers"


async def save_mentions(
    session: AsyncSession, note_id: int, mentions: Iterable[services.ResolvedMention], *, replace: bool = True
) -> None:
    """Store a note's mentions (replacing the ones it had, unless it is new)."""
    if replace:
        await session.execute(delete(models.NoteMention).where(models.NoteMention.note_id == note_id))
    session.add_all(
        models.NoteMention(note_id=note_id, user_id=mention.user_id, start=mention.start, stop=mention.stop)
        for mention in mentions
    )


async def create_note(context: OperationContext, draft: Draft, path: Sequence[str] = ("input",)) -> models.Note:
    """Create a note or task, store its mentions and notify (assignee, mentioned, followers).

    The note returned is not in the session (it was written by :func:`rows.insert_note`):
    read it, do not change it."""
    viewer = context.require_viewer()
    body = services.check_body(draft.body, *path, "body")
    target = await resolve_target(context, draft.target_gid, *path, "targetId")
    session = await context.session()
    category_id = await resolve_category(session, draft.category_gid, *path, "categoryId")
    team_id = await resolve_team(session, viewer, draft.visibility, draft.team_gid, *path)
    due_at = services.check_due(draft.due_at, *path, "dueAt")
    assignee_id = None
    if draft.is_task:
        assignee = viewer.user_id if draft.assignee is None else draft.assignee
        assignee_id = await resolve_user(session, assignee, *path, "assigneeId")
    customer_id = target[1] if target is not None and target[0] == "Customer" else None
    # The mentions, the customer's followers and everyone's role and teams: one read.
    audience = await load_audience(session, body, customer_id, () if assignee_id is None else (assignee_id,))
    mentions = audience.mentions
    check_mentions(services.NoteAccess(draft.visibility, team_id, viewer.user_id, assignee_id), audience.access, mentions, path)
    now = utcnow()
    note = models.Note(
        created_at=now,
        updated_at=now,
        body=body,
        author_id=viewer.user_id,
        category_id=category_id,
        visibility=draft.visibility,
        team_id=team_id,
        target_type=target[0] if target else None,
        target_id=target[1] if target else None,
        customer_id=customer_id,
        is_task=draft.is_task,
        assignee_id=assignee_id,
        due_at=due_at,
        completed_at=None,
        completed_by_id=None,
    )
    await insert_note(session, note, mentions)
    await dispatch.notify_note(
        context,
        note,
        mentioned=[m.user_id for m in mentions],
        followers=audience.followers,
        assigned=draft.is_task,
        access=audience.access,
    )
    return note


async def load_for_edit(context: OperationContext, global_id: str, *path: str, task: bool = False) -> models.Note:
    """A note the viewer may read, locked for the change; NOT_FOUND when hidden or missing,
    INVALID when ``task`` is asked and it is a plain note."""
    viewer = context.require_viewer()
    _, pk = decode(global_id, "Note", *path)
    session = await context.session()
    note = await session.scalar(
        select(models.Note).where(models.Note.id == pk, services.visible_clause(viewer)).with_for_update()
    )
    if note is None:
        raise UserErrors.not_found("No note with this ID.", *path)
    if task and not note.is_task:
        raise UserErrors.invalid("This note is not a task.", *path)
    return note


def require_author(viewer: Viewer, note: models.Note) -> None:
    if not (viewer.is_admin or note.author_id == viewer.user_id):
        raise UserErrors.forbidden("Only its author or an admin can change this note.")
