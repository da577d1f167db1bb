"""Domain rules of notes and tasks, free of GraphQL: body limits, ``@mention`` parsing,
who may read a note (as a Python predicate and as SQL), who is notified of what, and the
text and deep link of those notifications."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import and_, false, or_, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from fiche.datetimes import instant_problem
from fiche.db import utcnow
from fiche.errors import ErrorCode, UserErrors
from fiche.relay import encode_id
from fiche.plugins.notes import models

__all__ = [
    "FOLLOWED_CUSTOMER_NOTE",
    "MAX_BODY_LENGTH",
    "MAX_CATEGORIES",
    "MAX_MENTIONS",
    "MENTION",
    "MENTION_RE",
    "TASK_ASSIGNED",
    "TASK_COMPLETED",
    "TASK_REASSIGNED",
    "Access",
    "MentionCandidate",
    "NoteAccess",
    "ResolvedMention",
    "UserAccess",
    "can_see",
    "check_body",
    "check_category_name",
    "check_color",
    "check_due",
    "excerpt",
    "find_mention_candidates",
    "follow_statement",
    "handle_variants",
    "is_overdue",
    "note_link",
    "note_recipients",
    "resolve_mentions",
    "target_gid",
    "visible_clause",
]

MAX_BODY_LENGTH = 10_000
# ``@`` + a handle, not preceded by a word character or another ``@`` (so e-mail
# addresses are not mentions). Handles may contain dots, so a sentence-ending dot is
# captured too; resolution strips such trailing punctuation when needed.
MENTION_RE = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._-]{1,39})", re.IGNORECASE)
_TRAILING = "._-"
COLOR_RE = re.compile(r"^#[0-9a-f]{6}$")
MAX_CATEGORY_NAME = 60
# Whole lists the query cost counts (``noteCategories``, ``Note.mentions``), kept true when writing.
MAX_CATEGORIES = 100
MAX_MENTIONS = 20


def check_body(body: str, *path: str) -> str:
    """The body to store (surrounding white space removed); refuses empty or oversized ones."""
    clean = body.strip()
    if not clean:
        raise UserErrors.invalid("A note cannot be empty.", *path)
    if len(clean) > MAX_BODY_LENGTH:
        raise UserErrors.one(
            ErrorCode.LIMIT_EXCEEDED, f"A note is at most {MAX_BODY_LENGTH:,} characters ({len(clean):,} given).", *path
        )
    return clean


def check_due(value: dt.datetime | None, *path: str) -> dt.datetime | None:
    """A due date must say its time zone: a bare local time means different instants to
    colleagues in different places."""
    problem = instant_problem(value) if value is not None else None
    if problem is not None:
        raise UserErrors.invalid(f"The due date {problem}.", *path)
    return value


def check_color(value: str, *path: str) -> str:
    """A colour as ``#rrggbb`` (lowercase)."""
    clean = value.strip().lower()
    if not COLOR_RE.match(clean):
        raise UserErrors.invalid(f"{value!r} is not a colour: use #RRGGBB.", *path)
    return clean


def check_category_name(value: str, *path: str) -> str:
    clean = " ".join(value.split())
    if not clean:
        raise UserErrors.invalid("A category needs a name.", *path)
    if len(clean) > MAX_CATEGORY_NAME:
        raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"A category name is at most {MAX_CATEGORY_NAME} characters.", *path)
    return clean


# -- mentions ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class MentionCandidate:
    """An ``@word`` of a body that may name a user; ``start``/``stop`` cover the ``@``."""

    handle: str  # lowercase, without "@"
    start: int
    stop: int


@dataclasses.dataclass(frozen=True, slots=True)
class ResolvedMention:
    user_id: int
    handle: str
    start: int
    stop: int


def find_mention_candidates(body: str) -> list[MentionCandidate]:
    """Every ``@handle``-shaped word of ``body``, in order (character offsets, end exclusive)."""
    return [MentionCandidate(match.group(1).lower(), match.start(), match.end()) for match in MENTION_RE.finditer(body)]


def handle_variants(handle: str) -> list[str]:
    """``handle`` then shorter forms without trailing punctuation: ``marc.`` -> ``marc.``, ``marc``."""
    variants = [handle]
    while handle and handle[-1] in _TRAILING:
        handle = handle[:-1]
        if len(handle) >= 2:
            variants.append(handle)
    return variants


def resolve_mentions(candidates: Sequence[MentionCandidate], users_by_handle: Mapping[str, int]) -> list[ResolvedMention]:
    """The candidates that name a known user (longest matching form wins); unknown handles
    stay plain text. ``users_by_handle`` maps lowercase handles to user ids."""
    resolved = []
    for candidate in candidates:
        for variant in handle_variants(candidate.handle):
            user_id = users_by_handle.get(variant)
            if user_id is not None:
                stop = candidate.start + 1 + len(variant)
                resolved.append(ResolvedMention(user_id, variant, candidate.start, stop))
                break
    return resolved


# -- visibility ----------------------------------------------------------------------------


class Access(Protocol):
    """Who reads: a :class:`fiche.auth.Viewer` or a recipient's :class:`UserAccess`."""

    @property
    def user_id(self) -> int: ...
    @property
    def is_admin(self) -> bool: ...
    @property
    def is_manager(self) -> bool: ...
    @property
    def team_ids(self) -> frozenset[int]: ...


@dataclasses.dataclass(frozen=True, slots=True)
class UserAccess:
    """A possible recipient's role and teams, to check they may read a note."""

    user_id: int
    is_admin: bool
    is_manager: bool
    team_ids: frozenset[int]


@dataclasses.dataclass(frozen=True, slots=True)
class NoteAccess:
    """What decides who may read a note."""

    visibility: models.Visibility
    team_id: int | None
    author_id: int | None
    assignee_id: int | None = None


def can_see(access: Access, note: NoteAccess) -> bool:
    """Whether ``access`` may read ``note``.

    Admins read everything; the author and the assignee always read their note. Otherwise
    ORGANIZATION notes are for everyone, TEAM notes for the team's members (a manager reads
    the notes of the teams they belong to, not of other teams), MANAGERS notes for managers
    (and admins)."""
    if access.is_admin or access.user_id in (note.author_id, note.assignee_id):
        return True
    if note.visibility is models.Visibility.ORGANIZATION:
        return True
    if note.visibility is models.Visibility.TEAM:
        return note.team_id is not None and note.team_id in access.team_ids
    return note.visibility is models.Visibility.MANAGERS and access.is_manager


def visible_clause(access: Access) -> ColumnElement[bool]:
    """:func:`can_see` as SQL on ``notes``, for every read path (lists, counts, timeline)."""
    if access.is_admin:
        return true()
    note = models.Note
    allowed: list[ColumnElement[bool]] = [
        note.visibility == models.Visibility.ORGANIZATION,
        note.author_id == access.user_id,
        note.assignee_id == access.user_id,
    ]
    if access.team_ids:
        allowed.append(and_(note.visibility == models.Visibility.TEAM, note.team_id.in_(sorted(access.team_ids))))
    if access.is_manager:
        allowed.append(note.visibility == models.Visibility.MANAGERS)
    return or_(*allowed) if allowed else false()


# -- tasks ---------------------------------------------------------------------------------


def is_overdue(due_at: dt.datetime | None, completed_at: dt.datetime | None, now: dt.datetime) -> bool:
    return due_at is not None and completed_at is None and due_at < now


# -- notifications -------------------------------------------------------------------------

MENTION = "MENTION"
FOLLOWED_CUSTOMER_NOTE = "FOLLOWED_CUSTOMER_NOTE"
TASK_ASSIGNED = "TASK_ASSIGNED"
TASK_REASSIGNED = "TASK_REASSIGNED"
TASK_COMPLETED = "TASK_COMPLETED"


def note_recipients(
    *,
    actor_id: int,
    assignee_id: int | None,
    mentioned: Iterable[int],
    followers: Iterable[int],
    may_read: Callable[[int], bool],
) -> list[tuple[str, list[int]]]:
    """Who to notify of a new (or newly edited) note, as rules in priority order.

    Each user gets at most ONE notification per note: the first rule that names them and
    whose kind they have enabled (the caller skips users an earlier rule notified). The
    actor is never notified, nor anyone who may not read the note. Priority: the task's
    assignee (``TASK_ASSIGNED``), then mentioned users (``MENTION``), then followers of the
    customer (``FOLLOWED_CUSTOMER_NOTE``)."""
    rules: list[tuple[str, list[int]]] = []
    if assignee_id is not None:
        rules.append((TASK_ASSIGNED, [assignee_id]))
    rules.append((MENTION, sorted(set(mentioned))))
    rules.append((FOLLOWED_CUSTOMER_NOTE, sorted(set(followers))))
    return [
        (kind, users)
        for kind, users in ((kind, [user for user in users if user != actor_id and may_read(user)]) for kind, users in rules)
        if users
    ]


def excerpt(body: str, length: int = 80) -> str:
    """The start of a body on one line, for notification messages and timeline summaries."""
    line = " ".join(body.split())
    return line if len(line) <= length else line[: length - 1].rstrip() + "…"


def note_link(note_gid: str, target_type: str | None, target_gid: str | None) -> str:
    """Where a notification leads: the target's page scrolled to the note."""
    if target_type is None or target_gid is None:
        return f"/notes/{note_gid}"
    slug = re.sub(r"(?<!^)(?=[A-Z])", "-", target_type).lower()
    return f"/{_plural(slug)}/{target_gid}#note-{note_gid}"


def _plural(word: str) -> str:
    """``customer`` -> ``customers``, ``activity`` -> ``activities``, ``loyalty-box`` -> ``loyalty-boxes``."""
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(?:s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def target_gid(target_type: str | None, target_id: int | None) -> str | None:
    if target_type is None or target_id is None:
        return None
    return encode_id(target_type, target_id)


def follow_statement(session: Any, organization_id: int, customer_id: int, user_id: int) -> Any:
    """``INSERT`` a follow unless it exists (``ON CONFLICT DO NOTHING`` on both databases).

    A Core insert is not stamped by the session, so the organisation is set here, from the
    caller's viewer, never from input."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return (
        insert(models.CustomerFollow)
        .values(organization_id=organization_id, customer_id=customer_id, user_id=user_id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["customer_id", "user_id"])
    )
