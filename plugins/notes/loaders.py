"""Per-operation loaders of notes, tasks, mentions, categories and follows.

Every list a parent row owns (a customer's notes, its followers, a user's tasks) is one
``paginate_grouped`` statement per batch, grouped by the arguments the parents share, so
``customers(first: 50) { notes(first: 10) }`` costs the same as for 5 customers. Rows are
filtered by the viewer's visibility as they are loaded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiodataloader import DataLoader
from sqlalchemy import func, select

from fiche.accounts import models as accounts
from fiche.accounts.types import USER_COLUMNS, User, user_from_row
from fiche.db import in_keys, utcnow
from fiche.directory import customer_branches
from fiche.relay import AnySelect, Connection, SortKey, merge_pages, paginate_grouped, rows_by_id
from fiche.text import like_pattern
from fiche.plugins.notes import models, services
from fiche.plugins.notes.inputs import NoteQuery, TaskQuery
from fiche.plugins.notes.types import (
    CATEGORY_COLUMNS,
    LEAN_NOTE_COLUMNS,
    NOTE_COLUMNS,
    Mention,
    Note,
    NoteCategory,
    category_from_row,
    lean_note_from_row,
    note_from_row,
)

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "NEWEST_FIRST",
    "CategoriesByIdLoader",
    "FollowersByCustomerLoader",
    "MentionsByNoteLoader",
    "NoteCountsByTargetLoader",
    "NotesByCustomerLoader",
    "NotesByTargetLoader",
    "PageKey",
    "TasksByAssigneeLoader",
    "ViewerFollowsByCustomerLoader",
    "notes_shape",
    "notes_statement",
    "task_sort_keys",
]

NEWEST_FIRST = (SortKey(models.Note.created_at, descending=True), SortKey(models.Note.id, descending=True))
# Undated open tasks sort after dated ones: a keyset cursor needs a non-null sort value.
FAR_FUTURE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class PageKey:
    """One parent's page: ``owner`` is the customer, target or user primary key."""

    owner: int
    first: int
    after: str | None
    query: Any  # NoteQuery or TaskQuery
    type_name: str = "Customer"
    lean: bool = False  # the query reads no more of the notes than types.LEAN_NOTE_SELECTION allows


def notes_shape(context: OperationContext, query: NoteQuery) -> tuple[Any, ...]:
    """What :func:`notes_statement` depends on (a :func:`fiche.db.prepared` shape): the
    viewer's visibility (role, id, teams) and the filter."""
    viewer = context.require_viewer()
    return (viewer.role, viewer.user_id, viewer.team_ids, query.kind, query.category_ids, query.author_id, query.search)


def notes_statement(context: OperationContext, query: NoteQuery, lean: bool = False) -> AnySelect:
    """The notes the viewer may read that match ``query`` (columns of :data:`NOTE_COLUMNS`,
    or of :data:`LEAN_NOTE_COLUMNS` when ``lean``)."""
    viewer = context.require_viewer()
    note = models.Note
    stmt = select(*(LEAN_NOTE_COLUMNS if lean else NOTE_COLUMNS)).where(services.visible_clause(viewer))
    if query.kind is not None:
        stmt = stmt.where(note.is_task.is_(query.kind == "TASK"))
    if query.category_ids is not None:
        stmt = stmt.where(note.category_id.in_(sorted(query.category_ids)))
    if query.author_id is not None:
        stmt = stmt.where(note.author_id == query.author_id)
    if query.search:
        stmt = stmt.where(note.search_text.like(like_pattern(query.search), escape="\\"))
    return stmt


def _target_notes(context: OperationContext, query: NoteQuery, type_name: str) -> AnySelect:
    return notes_statement(context, query).where(models.Note.target_type == type_name)


class _Loader(DataLoader[Any, Any]):
    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context


def _group(keys: Sequence[PageKey]) -> dict[tuple[Any, ...], list[PageKey]]:
    groups: dict[tuple[Any, ...], list[PageKey]] = defaultdict(list)
    for key in keys:
        groups[(key.type_name, key.first, key.after, key.query)].append(key)
    return groups


def _merge(pages: Sequence[Connection[Note]], first: int, after: str | None) -> Connection[Note]:
    """One newest-first page from the pages of a customer and its branches."""
    return merge_pages(pages, first, after is not None, lambda edge: (edge.node.created_at, edge.node.pk))


async def _scopes(context: OperationContext, session: Any, roots: list[int], include_branches: bool) -> dict[int, list[int]]:
    """Each customer with (when asked) its branches, every level down."""
    if not include_branches:
        return {root: [root] for root in roots}
    branches = await customer_branches(context.pm, session, roots)
    return {root: [root, *sorted(set(branches.get(root, ())) - {root})] for root in roots}


class NotesByCustomerLoader(_Loader):
    """``Customer.notes``: pages of a customer's notes (with its branches' when asked)."""

    async def batch_load_fn(self, keys: list[PageKey]) -> list[Connection[Note]]:
        result: dict[PageKey, Connection[Note]] = {}
        async with self.context.read() as session:
            for (_, first, after, query), members in _group(keys).items():
                scopes = await _scopes(self.context, session, sorted({key.owner for key in members}), query.include_branches)
                locations = sorted({location for scope in scopes.values() for location in scope})
                lean = all(key.lean for key in members)
                pages = await paginate_grouped(
                    session,
                    functools.partial(notes_statement, self.context, query, lean=lean),  # built once per shape
                    models.Note.customer_id,
                    locations,
                    NEWEST_FIRST,
                    first=first,
                    after=after,
                    build=lean_note_from_row if lean else note_from_row,
                    shape=("notes_by_customer", lean, *notes_shape(self.context, query)),
                )
                for key in members:
                    scope = scopes[key.owner]
                    result[key] = pages[key.owner] if len(scope) == 1 else _merge([pages[loc] for loc in scope], first, after)
        return [result[key] for key in keys]


class NotesByTargetLoader(_Loader):
    """``<SubjectType>.notes`` for subject types other than ``Customer``."""

    async def batch_load_fn(self, keys: list[PageKey]) -> list[Connection[Note]]:
        result: dict[PageKey, Connection[Note]] = {}
        async with self.context.read() as session:
            for (type_name, first, after, query), members in _group(keys).items():
                owners = sorted({key.owner for key in members})
                pages = await paginate_grouped(
                    session,
                    functools.partial(_target_notes, self.context, query, type_name),
                    models.Note.target_id,
                    owners,
                    NEWEST_FIRST,
                    first=first,
                    after=after,
                    build=note_from_row,
                    shape=("notes_by_target", type_name, *notes_shape(self.context, query)),
                )
                for key in members:
                    result[key] = pages[key.owner]
        return [result[key] for key in keys]


@dataclasses.dataclass(frozen=True, slots=True)
class CountKey:
    type_name: str
    owner: int
    query: NoteQuery


class NoteCountsByTargetLoader(_Loader):
    """``noteCount`` of customers and other subjects: visible notes only."""

    async def batch_load_fn(self, keys: list[CountKey]) -> list[int]:
        groups: dict[tuple[str, NoteQuery], list[CountKey]] = defaultdict(list)
        for key in keys:
            groups[(key.type_name, key.query)].append(key)
        result: dict[CountKey, int] = {}
        async with self.context.read() as session:
            for (type_name, query), members in groups.items():
                owners = sorted({key.owner for key in members})
                if type_name == "Customer":
                    scopes = await _scopes(self.context, session, owners, query.include_branches)
                    column = models.Note.customer_id
                else:
                    scopes = {owner: [owner] for owner in owners}
                    column = models.Note.target_id
                locations = sorted({location for scope in scopes.values() for location in scope})
                stmt = (
                    notes_statement(self.context, query)
                    .with_only_columns(column, func.count(models.Note.id))
                    .where(in_keys(session, column, locations))
                    .group_by(column)
                )
                if type_name != "Customer":
                    stmt = stmt.where(models.Note.target_type == type_name)
                counts: dict[int, int] = {row[0]: row[1] for row in (await session.execute(stmt)).all()}
                for key in members:
                    result[key] = sum(counts.get(location, 0) for location in scopes[key.owner])
        return [result[key] for key in keys]


class MentionsByNoteLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[list[Mention]]:
        mention = models.NoteMention
        async with self.context.read() as session:
            rows = (
                await session.execute(
                    select(mention.note_id, mention.user_id, mention.start, mention.stop, accounts.User.handle)
                    .join(accounts.User, accounts.User.id == mention.user_id)
                    .where(in_keys(session, mention.note_id, keys))
                    .order_by(mention.note_id, mention.start)
                )
            ).all()
        found: dict[int, list[Mention]] = defaultdict(list)
        for row in rows:
            found[row.note_id].append(Mention(handle=row.handle, start=row.start, end=row.stop, user_pk=row.user_id))
        return [found[key] for key in keys]


class CategoriesByIdLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[NoteCategory | None]:
        async with self.context.read() as session:
            return await rows_by_id(session, _categories, models.NoteCategory.id, keys, category_from_row, shape=f"{__name__}.CategoriesByIdLoader")


def _categories() -> AnySelect:
    return select(*CATEGORY_COLUMNS)


class FollowersByCustomerLoader(_Loader):
    """``Customer.followers``: pages of active users, by name."""

    async def batch_load_fn(self, keys: list[PageKey]) -> list[Connection[User]]:
        follow = models.CustomerFollow
        result: dict[PageKey, Connection[User]] = {}
        async with self.context.read() as session:
            for (_, first, after, _query), members in _group(keys).items():
                stmt = select(*USER_COLUMNS).join(follow, follow.user_id == accounts.User.id).where(accounts.User.is_active.is_(True))
                pages = await paginate_grouped(
                    session,
                    stmt,
                    follow.customer_id,
                    sorted({key.owner for key in members}),
                    [SortKey(accounts.User.name), SortKey(accounts.User.id)],
                    first=first,
                    after=after,
                    build=user_from_row,
                )
                for key in members:
                    result[key] = pages[key.owner]
        return [result[key] for key in keys]


class ViewerFollowsByCustomerLoader(_Loader):
    """``Customer.isFollowed``: whether the viewer follows each customer."""

    async def batch_load_fn(self, keys: list[int]) -> list[bool]:
        viewer = self.context.require_viewer()
        follow = models.CustomerFollow
        async with self.context.read() as session:
            followed = set(
                (
                    await session.scalars(
                        select(follow.customer_id).where(follow.user_id == viewer.user_id, in_keys(session, follow.customer_id, keys))
                    )
                ).all()
            )
        return [key in followed for key in keys]


def task_sort_keys(status: str | None) -> tuple[SortKey, ...]:
    note = models.Note
    if status in ("OPEN", "OVERDUE"):
        return (SortKey(func.coalesce(note.due_at, FAR_FUTURE)), SortKey(note.id))
    if status == "DONE":
        return (SortKey(note.completed_at, descending=True), SortKey(note.id, descending=True))
    return NEWEST_FIRST


def tasks_statement(context: OperationContext, query: TaskQuery) -> AnySelect:
    note = models.Note
    stmt = notes_statement(context, NoteQuery(kind="TASK", category_ids=query.category_ids))
    if query.status == "OPEN":
        stmt = stmt.where(note.completed_at.is_(None))
    elif query.status == "DONE":
        stmt = stmt.where(note.completed_at.is_not(None))
    elif query.status == "OVERDUE":
        stmt = stmt.where(note.completed_at.is_(None), note.due_at < utcnow())
    return stmt


class TasksByAssigneeLoader(_Loader):
    """``Viewer.tasks``: pages of the tasks assigned to users."""

    async def batch_load_fn(self, keys: list[PageKey]) -> list[Connection[Note]]:
        result: dict[PageKey, Connection[Note]] = {}
        async with self.context.read() as session:
            for (_, first, after, query), members in _group(keys).items():
                pages = await paginate_grouped(
                    session,
                    tasks_statement(self.context, query),
                    models.Note.assignee_id,
                    sorted({key.owner for key in members}),
                    task_sort_keys(query.status),
                    first=first,
                    after=after,
                    build=note_from_row,
                )
                for key in members:
                    result[key] = pages[key.owner]
        return [result[key] for key in keys]
