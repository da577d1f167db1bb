"""GraphQL inputs, filters and payloads of notes and tasks, and the hashable queries the
loaders are keyed by."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Annotated

import strawberry

from fiche.errors import UserError
from fiche.relay import Node, decode_id
from fiche.text import fold
from fiche.plugins.notes.types import Note, NoteCategory, NoteVisibility

__all__ = [
    "After",
    "CustomerFollowPayload",
    "CustomerId",
    "First",
    "NoteCategoryCreateInput",
    "NoteCategoryDeletePayload",
    "NoteCategoryPayload",
    "NoteCategoryUpdateInput",
    "NoteCreateInput",
    "NoteDeletePayload",
    "NoteFilter",
    "NoteId",
    "NoteKind",
    "NotePayload",
    "NoteQuery",
    "NoteScope",
    "NoteUpdateInput",
    "TaskCreateInput",
    "TaskFilter",
    "TaskId",
    "TaskPayload",
    "TaskQuery",
    "TaskStatus",
    "note_query",
    "task_query",
]


After = Annotated[
    str | None, strawberry.argument(description="Return the items after this cursor (a previous page's `endCursor`).")
]
First = Annotated[int | None, strawberry.argument(description="How many items to return (the page size).")]
NoteId = Annotated[strawberry.ID, strawberry.argument(description="The global ID of the note or task.")]
TaskId = Annotated[strawberry.ID, strawberry.argument(description="The global ID of the task.")]
CustomerId = Annotated[strawberry.ID, strawberry.argument(description="The global ID of the customer.")]


@strawberry.enum(description="Notes or tasks.")
class NoteKind(enum.Enum):
    NOTE = strawberry.enum_value("NOTE", description="Plain notes (no assignee).")
    TASK = strawberry.enum_value("TASK", description="Tasks (notes with an assignee).")


@strawberry.enum(description="Which notes the root `notes` query lists.")
class NoteScope(enum.Enum):
    ALL = strawberry.enum_value("ALL", description="Every note and task you may read.")
    GENERAL = strawberry.enum_value("GENERAL", description="General notes: attached to nothing.")
    MINE = strawberry.enum_value("MINE", description="The notes and tasks you wrote.")
    MENTIONING_ME = strawberry.enum_value("MENTIONING_ME", description="The notes and tasks that mention you.")


@strawberry.enum(description="The state of a task.")
class TaskStatus(enum.Enum):
    OPEN = strawberry.enum_value("OPEN", description="Not completed yet (soonest due first, undated last).")
    DONE = strawberry.enum_value("DONE", description="Completed (most recently completed first).")
    OVERDUE = strawberry.enum_value("OVERDUE", description="Not completed and past the due date (most overdue first).")


@strawberry.input(description="Which notes to list.")
class NoteFilter:
    kind: NoteKind | None = strawberry.field(default=None, description="Only notes or only tasks; both when null.")
    category_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only notes in one of these categories."
    )
    author_id: strawberry.ID | None = strawberry.field(default=None, description="Only the notes of this author.")
    search: str | None = strawberry.field(
        default=None, description="Only notes whose text contains this (case and accents ignored)."
    )
    include_branches: bool = strawberry.field(
        default=False, description="On a customer: also the notes of its branches (ignored elsewhere)."
    )


@strawberry.input(description="Which of your tasks to list.")
class TaskFilter:
    status: TaskStatus | None = strawberry.field(
        default=None, description="Only tasks in this state; all (newest first) when null."
    )
    category_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only tasks in one of these categories."
    )


@strawberry.input(description="A new note.")
class NoteCreateInput:
    body: str = strawberry.field(description="The text; `@handle` mentions a colleague.")
    target_id: strawberry.ID | None = strawberry.field(
        default=None, description="What the note is about: a customer, a branch or another note target; null for a general note."
    )
    category_id: strawberry.ID | None = strawberry.field(default=None, description="A category of your organisation.")
    visibility: NoteVisibility = strawberry.field(default=NoteVisibility.ORGANIZATION, description="Who may read it.")
    team_id: strawberry.ID | None = strawberry.field(default=None, description="With TEAM visibility: one of your teams.")


@strawberry.input(description="A new task: a note assigned to someone.")
class TaskCreateInput:
    body: str = strawberry.field(description="What is to be done; `@handle` mentions a colleague.")
    assignee_id: strawberry.ID | None = strawberry.field(default=None, description="Who does it; yourself when null.")
    target_id: strawberry.ID | None = strawberry.field(
        default=None, description="What the task is about (the context it is created in); null for a general task."
    )
    due_at: dt.datetime | None = strawberry.field(default=None, description="When it is due.")
    category_id: strawberry.ID | None = strawberry.field(default=None, description="A category of your organisation.")
    visibility: NoteVisibility = strawberry.field(default=NoteVisibility.ORGANIZATION, description="Who may read it.")
    team_id: strawberry.ID | None = strawberry.field(default=None, description="With TEAM visibility: one of your teams.")


@strawberry.input(description="Changes to a note or task; fields left out stay as they are.")
class NoteUpdateInput:
    id: strawberry.ID = strawberry.field(description="The note or task to change.")
    body: str | None = strawberry.field(default=None, description="The new text (only newly mentioned colleagues are notified).")
    category_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A category, or null to remove it."
    )
    visibility: NoteVisibility | None = strawberry.field(default=None, description="Who may read it.")
    team_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="With TEAM visibility: one of your teams."
    )
    due_at: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Tasks only: the new due date, or null for none."
    )


# The API spells it `colour` everywhere (activity types too); `color` stays for old clients.
COLOUR_SPELLING = "Use `colour`: one spelling across the API."


@strawberry.input(description="A new category of notes and tasks.")
class NoteCategoryCreateInput:
    name: str = strawberry.field(description="Its name, unique in the organisation.")
    colour: str | None = strawberry.field(default=None, description="Display colour as `#RRGGBB` (`#607d8b` when left out).")
    color: str | None = strawberry.field(
        default=None, description="Display colour as `#RRGGBB`.", deprecation_reason=COLOUR_SPELLING
    )


@strawberry.input(description="Changes to a category; fields left out stay as they are.")
class NoteCategoryUpdateInput:
    id: strawberry.ID = strawberry.field(description="The category to change.")
    name: str | None = strawberry.field(default=None, description="Its new name.")
    colour: str | None = strawberry.field(default=None, description="Its new colour as `#RRGGBB`.")
    color: str | None = strawberry.field(default=None, description="Its new colour as `#RRGGBB`.", deprecation_reason=COLOUR_SPELLING)


@strawberry.type(description="The outcome of a note mutation.")
class NotePayload:
    note: Note | None = strawberry.field(default=None, description="The note, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of a task mutation.")
class TaskPayload:
    task: Note | None = strawberry.field(default=None, description="The task, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of deleting a note or task.")
class NoteDeletePayload:
    deleted_note_id: strawberry.ID | None = strawberry.field(default=None, description="The ID of the deleted note.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of a category mutation.")
class NoteCategoryPayload:
    category: NoteCategory | None = strawberry.field(default=None, description="The category, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of deleting a category (its notes keep existing, uncategorised).")
class NoteCategoryDeletePayload:
    deleted_category_id: strawberry.ID | None = strawberry.field(default=None, description="The ID of the deleted category.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of following or unfollowing a customer.")
class CustomerFollowPayload:
    customer: Node | None = strawberry.field(default=None, description="The customer (a `Customer`).")
    is_followed: bool | None = strawberry.field(default=None, description="Whether you follow it now.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@dataclasses.dataclass(frozen=True, slots=True)
class NoteQuery:
    """A :class:`NoteFilter` as a hashable loader key."""

    kind: str | None = None
    category_ids: frozenset[int] | None = None
    author_id: int | None = None
    search: str | None = None
    include_branches: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class TaskQuery:
    status: str | None = None
    category_ids: frozenset[int] | None = None


def _category_ids(ids: list[strawberry.ID] | None) -> frozenset[int] | None:
    return None if ids is None else frozenset(decode_id(gid, "NoteCategory")[1] for gid in ids)


def note_query(filter: NoteFilter | None) -> NoteQuery:
    if filter is None:
        return NoteQuery()
    return NoteQuery(
        kind=filter.kind.name if filter.kind else None,
        category_ids=_category_ids(filter.category_ids),
        author_id=decode_id(filter.author_id, "User")[1] if filter.author_id is not None else None,
        search=(fold(filter.search).strip() or None) if filter.search else None,
        include_branches=filter.include_branches,
    )


def task_query(filter: TaskFilter | None) -> TaskQuery:
    if filter is None:
        return TaskQuery()
    return TaskQuery(status=filter.status.name if filter.status else None, category_ids=_category_ids(filter.category_ids))
