"""Who hears about a note or a task change, through the gateway's notification core.

``notify()`` writes the inbox rows in the mutation's transaction (honouring each user's
preferences) and publishes them once it commits. A user gets at most one notification
per note: the rules of :func:`services.note_recipients` run in priority order and each
skips the users an earlier rule actually notified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.directory import customer_locations
from fiche.notifications import NotificationKind
from fiche.notifications import service as inbox
from fiche.relay import encode_id
from fiche.plugins.notes import models, services

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["KINDS", "addresses", "load_access", "note_access", "notify_note", "notify_task_change", "redact_notifications", "target_label"]

WITHDRAWN = "A {what} you were notified about is no longer available to you."
DELETED = "A {what} you were notified about was deleted."

KINDS = (
    NotificationKind(services.MENTION, "A colleague mentioned you with @handle in a note or a task."),
    NotificationKind(services.FOLLOWED_CUSTOMER_NOTE, "A colleague added a note to a customer you follow."),
    NotificationKind(services.TASK_ASSIGNED, "A colleague assigned a task to you."),
    NotificationKind(services.TASK_REASSIGNED, "A task was reassigned to you, or a task you assigned or held was reassigned."),
    NotificationKind(services.TASK_COMPLETED, "A task you assigned was completed."),
)


async def load_access(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, services.UserAccess]:
    """Role and teams of the ACTIVE users among ``user_ids`` (others are absent)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    users = (
        await session.execute(
            select(accounts.User.id, accounts.User.role).where(accounts.User.id.in_(wanted), accounts.User.is_active.is_(True))
        )
    ).all()
    memberships = (
        await session.execute(
            select(accounts.TeamMembership.user_id, accounts.TeamMembership.team_id).where(
                accounts.TeamMembership.user_id.in_(wanted)
            )
        )
    ).all()
    teams: dict[int, set[int]] = {}
    for user_id, team_id in memberships:
        teams.setdefault(user_id, set()).add(team_id)
    return {
        row.id: services.UserAccess(
            user_id=row.id,
            is_admin=row.role is accounts.Role.ADMIN,
            is_manager=row.role in (accounts.Role.ADMIN, accounts.Role.MANAGER),
            team_ids=frozenset(teams.get(row.id, ())),
        )
        for row in users
    }


def note_access(note: models.Note) -> services.NoteAccess:
    return services.NoteAccess(note.visibility, note.team_id, note.author_id, note.assignee_id)


async def target_label(context: OperationContext, session: AsyncSession, note: models.Note) -> str:
    if note.customer_id is not None:
        locations = await customer_locations(context.pm, session, [note.customer_id])
        location = locations.get(note.customer_id)
        if location is not None:
            return location.display_name
    return note.target_type or ""


def _what(note: models.Note) -> str:
    return "task" if note.is_task else "note"


async def notify_note(
    context: OperationContext,
    note: models.Note,
    *,
    mentioned: Iterable[int],
    followers: Iterable[int] = (),
    assigned: bool = False,
    access: Mapping[int, services.UserAccess],
) -> dict[int, str]:
    """Notify the assignee (when ``assigned``), the ``mentioned`` users and the
    ``followers`` of a note, at most once each; returns who got which kind."""
    viewer = context.require_viewer()
    rules = services.note_recipients(
        actor_id=viewer.user_id,
        assignee_id=note.assignee_id if assigned else None,
        mentioned=mentioned,
        followers=followers,
        may_read=lambda user_id: user_id in access and services.can_see(access[user_id], note_access(note)),
    )
    if not rules:
        return {}
    session = await context.session()
    label = await target_label(context, session, note)
    where = f" on {label}" if label else ""
    quote = services.excerpt(note.body)
    messages = {
        services.TASK_ASSIGNED: f"{viewer.name} assigned you a task{where}: “{quote}”",
        services.MENTION: f"{viewer.name} mentioned you in a {_what(note)}{where}: “{quote}”",
        services.FOLLOWED_CUSTOMER_NOTE: f"{viewer.name} added a {_what(note)}{where}: “{quote}”",
    }
    target, subject, link = addresses(note)
    # One read of the recipients' preferences for every rule.
    return await inbox.notify_first(
        context, [(kind, users, messages[kind]) for kind, users in rules], target_id=target, subject_id=subject, link=link
    )


async def notify_task_change(context: OperationContext, note: models.Note, kind: str, recipients: Mapping[int, str]) -> list[int]:
    """Send ``kind`` about a task to each recipient (user id -> message), skipping the actor
    and users who may no longer read the task; returns who was notified."""
    viewer = context.require_viewer()
    wanted = {user_id: message for user_id, message in recipients.items() if user_id != viewer.user_id}
    if not wanted:
        return []
    session = await context.session()
    access = await load_access(session, wanted)
    target, subject, link = addresses(note)
    readable = note_access(note)
    rules = [
        (kind, [user_id], message)
        for user_id, message in wanted.items()
        if user_id in access and services.can_see(access[user_id], readable)
    ]
    # Each recipient their own message; one read of their preferences for all.
    return list(await inbox.notify_first(context, rules, target_id=target, subject_id=subject, link=link))


def addresses(note: models.Note) -> tuple[str | None, str, str]:
    """The notification's target (what the note is about), subject (the note) and link."""
    note_gid = encode_id("Note", note.id)
    target = services.target_gid(note.target_type, note.target_id)
    return target, note_gid, services.note_link(note_gid, note.target_type, target)


async def redact_notifications(context: OperationContext, note: models.Note, *, deleted: bool = False) -> int:
    """Withdraw the text of the notifications about ``note`` from whoever may no longer read
    it (everyone when it is ``deleted``): the inbox rows stay, but neither their message
    (which quotes the note) nor their link gives the note away. Returns how many changed."""
    session = await context.session()
    rows = await inbox.recipients_of(session, encode_id("Note", note.id))
    if not rows:
        return 0
    if deleted:
        stale = [notification for notification, _ in rows]
    else:
        access = await load_access(session, {recipient for _, recipient in rows})
        readable = note_access(note)
        stale = [
            notification
            for notification, recipient in rows
            if recipient not in access or not services.can_see(access[recipient], readable)
        ]
    if stale:
        await inbox.withdraw(session, (DELETED if deleted else WITHDRAWN).format(what=_what(note)), ids=stale)
    return len(stale)
