"""GraphQL types of notes and tasks: ``Note`` (a task is a note with an assignee),
``Mention``, ``NoteCategory``, the visibility enum and the timeline entries.

Objects are built straight from selected columns (``note_from_row``); only the edges that
need the database (author, category, mentions, target, ...) are async loader calls.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy import select

from fiche.accounts.types import Team, User
from fiche.cost import list_size
from fiche.db import utcnow
from fiche.execution import batched, load_optional
from fiche.relay import InvalidID, Node, encode_id
from fiche.timeline import TimelineEntry
from fiche.plugins.notes import models, services

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "LEAN_NOTE_COLUMNS",
    "LEAN_NOTE_SELECTION",
    "NOTE_COLUMNS",
    "Mention",
    "Note",
    "NoteCategory",
    "NoteTimelineEntry",
    "NoteVisibility",
    "TaskTimelineEntry",
    "category_from_row",
    "lean_note_from_row",
    "note_from_entity",
    "note_from_row",
]


@strawberry.enum(name="NoteVisibility", description="Who may read a note. Its author, its assignee and admins always may.")
class NoteVisibility(enum.Enum):
    ORGANIZATION = strawberry.enum_value("ORGANIZATION", description="Everyone in the organisation.")
    TEAM = strawberry.enum_value(
        "TEAM", description="The members of one team (a manager reads the notes of their own teams only)."
    )
    MANAGERS = strawberry.enum_value("MANAGERS", description="Managers and admins only.")


def visibility_to_graphql(value: models.Visibility) -> NoteVisibility:
    return NoteVisibility[value.name]


def visibility_from_graphql(value: NoteVisibility) -> models.Visibility:
    return models.Visibility[value.name]


@strawberry.type(description="An organisation-defined category of notes and tasks (Visit, Follow-up, ...).")
class NoteCategory(Node):
    name: str = strawberry.field(description="The category's name, unique in the organisation.")
    colour: str = strawberry.field(description="Display colour as `#rrggbb`.")

    @strawberry.field(description="Display colour as `#rrggbb`.", deprecation_reason="Use `colour`: one spelling across the API.")
    def color(self) -> str:
        return self.colour


@strawberry.type(description="A colleague mentioned with `@handle` in a note, with where it stands in the body.")
class Mention:
    handle: str = strawberry.field(description="The handle as resolved (lowercase, without `@`).")
    start: int = strawberry.field(description="Offset of the `@` in the body, in characters (Unicode code points).")
    end: int = strawberry.field(description="Offset just after the handle (exclusive), in characters.")
    user_pk: strawberry.Private[int]

    @strawberry.field(description="The mentioned user.")
    async def user(self, info: strawberry.Info) -> User | None:
        context: OperationContext = info.context
        return await context.loaders["users_by_id"].load(self.user_pk)


@strawberry.type(
    description=(
        "A note about a customer, a branch, any object a plugin registers as a note target, or nothing "
        "(a general note). A task is a note assigned to a user, with an optional due date and a completion."
    )
)
class Note(Node):
    body: str = strawberry.field(description="The text. `mentions` locates the `@handle`s in it.")
    created_at: dt.datetime = strawberry.field(description="When the note was written.")
    updated_at: dt.datetime = strawberry.field(description="When the note (or the task's state) last changed.")
    visibility: NoteVisibility = strawberry.field(description="Who may read the note.")
    is_task: bool = strawberry.field(description="Whether this note is a task (it has an assignee).")
    due_at: dt.datetime | None = strawberry.field(description="When the task is due; null for notes and undated tasks.")
    completed_at: dt.datetime | None = strawberry.field(description="When the task was completed; null while open.")
    author_pk: strawberry.Private[int | None]
    category_pk: strawberry.Private[int | None]
    team_pk: strawberry.Private[int | None]
    target_type: strawberry.Private[str | None]
    target_pk: strawberry.Private[int | None]
    assignee_pk: strawberry.Private[int | None]
    completed_by_pk: strawberry.Private[int | None]

    @strawberry.field(description="Who wrote it (for a task: who assigned it); null if the user was removed.")
    @batched
    async def author(notes: Sequence[Note], info: strawberry.Info) -> list[User | None]:
        context: OperationContext = info.context
        return await load_optional(context.loaders["users_by_id"], [note.author_pk for note in notes])

    @strawberry.field(description="The note's category, if any.")
    async def category(self, info: strawberry.Info) -> NoteCategory | None:
        if self.category_pk is None:
            return None
        context: OperationContext = info.context
        return await context.loaders["categories_by_id"].load(self.category_pk)

    @strawberry.field(description="The team a TEAM note is restricted to; null otherwise.")
    async def team(self, info: strawberry.Info) -> Team | None:
        if self.team_pk is None:
            return None
        context: OperationContext = info.context
        return await context.load_node(encode_id("Team", self.team_pk), "Team")

    @strawberry.field(description="What the note is about (a `Customer`, a branch, ...); null for a general note or when hidden.")
    async def target(self, info: strawberry.Info) -> Node | None:
        gid = services.target_gid(self.target_type, self.target_pk)
        if gid is None:
            return None
        context: OperationContext = info.context
        try:
            return await context.load_node(gid)
        except InvalidID:
            return None

    @strawberry.field(description="The colleagues mentioned in the body, in order of appearance.", metadata=list_size(services.MAX_MENTIONS))
    async def mentions(self, info: strawberry.Info) -> list[Mention]:
        context: OperationContext = info.context
        return await context.loaders["mentions_by_note"].load(self.pk)

    @strawberry.field(description="Who the task is assigned to; null for a note.")
    @batched
    async def assignee(notes: Sequence[Note], info: strawberry.Info) -> list[User | None]:
        context: OperationContext = info.context
        return await load_optional(context.loaders["users_by_id"], [note.assignee_pk for note in notes])

    @strawberry.field(description="Who completed the task; null while open.")
    async def completed_by(self, info: strawberry.Info) -> User | None:
        if self.completed_by_pk is None:
            return None
        context: OperationContext = info.context
        return await context.loaders["users_by_id"].load(self.completed_by_pk)

    @strawberry.field(description="Whether the task is completed (always false for a note).")
    def is_done(self) -> bool:
        return self.completed_at is not None

    @strawberry.field(description="Whether the task is open and past its due date.")
    def is_overdue(self) -> bool:
        return services.is_overdue(self.due_at, self.completed_at, utcnow())

    @strawberry.field(description="Whether you may edit or delete it (its author and admins may).")
    def viewer_can_edit(self, info: strawberry.Info) -> bool:
        viewer = info.context.viewer
        return viewer is not None and (viewer.is_admin or viewer.user_id == self.author_pk)


@strawberry.type(description="A note in a customer's timeline.")
class NoteTimelineEntry(TimelineEntry):
    note: Note = strawberry.field(description="The note.")


@strawberry.type(description="A task in a customer's timeline.")
class TaskTimelineEntry(TimelineEntry):
    task: Note = strawberry.field(description="The task (a note with an assignee).")


NOTE_COLUMNS = (
    models.Note.id,
    models.Note.body,
    models.Note.created_at,
    models.Note.updated_at,
    models.Note.visibility,
    models.Note.is_task,
    models.Note.due_at,
    models.Note.completed_at,
    models.Note.author_id,
    models.Note.category_id,
    models.Note.team_id,
    models.Note.target_type,
    models.Note.target_id,
    models.Note.customer_id,
    models.Note.assignee_id,
    models.Note.completed_by_id,
)


# The names of NOTE_COLUMNS in order: note_from_row unpacks a row by position (a named
# attribute of a SQLAlchemy row costs ~0.3 µs; a page of 500 notes read 7,500), checked
# against the statement at import.
NOTE_FIELDS = (
    "id", "body", "created_at", "updated_at", "visibility", "is_task", "due_at", "completed_at", "author_id",
    "category_id", "team_id", "target_type", "target_id", "customer_id", "assignee_id", "completed_by_id",
)  # fmt: skip
if tuple(select(*NOTE_COLUMNS).selected_columns.keys()) != NOTE_FIELDS:  # pragma: no cover - a programming error
    raise RuntimeError("NOTE_FIELDS must name NOTE_COLUMNS in order")
_NOTE_WIDTH = len(NOTE_FIELDS)


_VISIBILITIES = {member: NoteVisibility[member.name] for member in models.Visibility}
_new = object.__new__


def note_from_row(row: Any) -> Note:
    """A ``Note`` from a row whose first columns are :data:`NOTE_COLUMNS`.

    Made without the dataclass ``__init__`` (its attributes set in one dictionary, the ID
    encoded here, as ``Node.__post_init__`` would): pages of notes are built by the
    hundred; tests/plugins/notes/test_loaders.py checks it makes the same object."""
    (
        pk, body, created_at, updated_at, visibility, is_task, due_at, completed_at, author_pk,
        category_pk, team_pk, target_type, target_pk, _customer_pk, assignee_pk, completed_by_pk,
    ) = row[:_NOTE_WIDTH]  # fmt: skip
    note = _new(Note)
    note.__dict__ = {
        "pk": pk, "id": encode_id("Note", pk), "body": body, "created_at": created_at, "updated_at": updated_at,
        "visibility": _VISIBILITIES[visibility], "is_task": is_task, "due_at": due_at, "completed_at": completed_at,
        "author_pk": author_pk, "category_pk": category_pk, "team_pk": team_pk, "target_type": target_type,
        "target_pk": target_pk, "assignee_pk": assignee_pk, "completed_by_pk": completed_by_pk,
    }  # fmt: skip
    return note


# What a page of notes reads when its query selects no more of them than
# :data:`LEAN_NOTE_SELECTION` allows (the heavy page: id, body, createdAt, author): 4 columns
# instead of 16, no visibility enum to convert. The attributes left unread are None: the
# selection proves no field reads them (a non-null field that ever did would fail loudly).
LEAN_NOTE_COLUMNS = (models.Note.id, models.Note.body, models.Note.created_at, models.Note.author_id)
if tuple(select(*LEAN_NOTE_COLUMNS).selected_columns.keys()) != ("id", "body", "created_at", "author_id"):  # pragma: no cover
    raise RuntimeError("lean_note_from_row unpacks LEAN_NOTE_COLUMNS by position")
# The GraphQL fields of a note a lean row answers (each needs only the four columns above;
# ``mentions`` and ``author`` go through loaders by primary key). Any other field, a
# partner plugin's included, makes the page read every column.
LEAN_NOTE_SELECTION = frozenset({"__typename", "id", "body", "createdAt", "author", "mentions", "viewerCanEdit"})


def lean_note_from_row(row: Any) -> Note:
    """A ``Note`` from a row whose first columns are :data:`LEAN_NOTE_COLUMNS`, made as
    :func:`note_from_row` makes one."""
    pk, body, created_at, author_pk = row[:4]
    note = _new(Note)
    note.__dict__ = {
        "pk": pk, "id": encode_id("Note", pk), "body": body, "created_at": created_at, "updated_at": None,
        "visibility": None, "is_task": None, "due_at": None, "completed_at": None,
        "author_pk": author_pk, "category_pk": None, "team_pk": None, "target_type": None,
        "target_pk": None, "assignee_pk": None, "completed_by_pk": None,
    }  # fmt: skip
    return note


def note_from_entity(note: models.Note) -> Note:
    return note_from_row(tuple(getattr(note, name) for name in NOTE_FIELDS))


CATEGORY_COLUMNS = (models.NoteCategory.id, models.NoteCategory.name, models.NoteCategory.color)


def category_from_row(row: Any) -> NoteCategory:
    return NoteCategory(pk=row.id, name=row.name, colour=row.color)


def timeline_entry_from_row(row: Any) -> TimelineEntry:
    note = note_from_row(row)
    common = {
        "occurred_at": row.created_at,
        "summary": services.excerpt(row.body, 140),
        "location_pk": row.customer_id,
        "source": "notes",
        "source_pk": row.id,
    }
    if row.is_task:
        return TaskTimelineEntry(kind="TASK", task=note, **common)
    return NoteTimelineEntry(kind="NOTE", note=note, **common)
