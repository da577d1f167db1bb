"""Fields the plugin adds to types it does not own: ``notes`` and ``noteCount`` on every
subject type (``Customer``, a partner's ``LoyaltyCard``, ...), ``isFollowed`` and
``followers`` on ``Customer``, ``tasks`` and ``followedCustomers`` on ``Viewer``.

Resolvers take ``root`` through small protocols, so this module imports no other plugin.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import strawberry
from sqlalchemy import select

from fiche.accounts.types import User
from fiche.execution import batched
from fiche.selections import connection_nodes, fields_of
from fiche.relay import Connection, Edge, Node, SortKey, encode_id, page_size, paginate
from fiche.plugins.notes import models
from fiche.plugins.notes.inputs import After, First, NoteFilter, TaskFilter, note_query, task_query
from fiche.plugins.notes.loaders import CountKey, PageKey
from fiche.plugins.notes.types import LEAN_NOTE_SELECTION, Note

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["CUSTOMER_FIELDS", "SUBJECT_FIELDS", "VIEWER_FIELDS"]


class HasPk(Protocol):
    pk: int


class HasUserPk(Protocol):
    user_pk: int


def _type_name(root: Any) -> str:
    return str(type(root).__strawberry_definition__.name)


def _size(context: OperationContext, first: int | None) -> int:
    return page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)


NotesFilter = Annotated[NoteFilter | None, strawberry.argument(description="Which notes; all you may read when null.")]


@batched
async def resolve_notes(
    roots: Sequence[HasPk], info: strawberry.Info, filter: NotesFilter = None, first: First = None, after: After = None
) -> list[Connection[Note]]:
    context: OperationContext = info.context
    query = note_query(filter)
    size = _size(context, first)
    lean = _lean_selection(info)
    pages = []
    for root in roots:
        type_name = _type_name(root)
        if type_name == "Customer":
            pages.append(context.loaders["notes_by_customer"].load(PageKey(root.pk, size, after, query, lean=lean)))
        else:
            target_query = dataclasses.replace(query, include_branches=False)
            pages.append(context.loaders["notes_by_target"].load(PageKey(root.pk, size, after, target_query, type_name)))
    return list(await asyncio.gather(*pages))


def _lean_selection(info: strawberry.Info) -> bool:
    """Whether the notes' selection (``edges { node { ... } }`` and ``nodes { ... }``) asks
    only for fields of ``LEAN_NOTE_SELECTION``: the page then reads four columns of each
    note. Computed once per field of the operation (every parent shares the selection)."""
    context: OperationContext = info.context
    memo_key = ("notes.lean_selection", tuple(id(node) for node in info._raw_info.field_nodes))
    lean = context.memo.get(memo_key)
    if lean is None:
        nodes = connection_nodes(info)
        lean = context.memo[memo_key] = all(inner.name in LEAN_NOTE_SELECTION for node in nodes for inner in fields_of(node.selections))
    return bool(lean)


async def resolve_note_count(root: HasPk, info: strawberry.Info, filter: NotesFilter = None) -> int:
    context: OperationContext = info.context
    query = note_query(filter)
    type_name = _type_name(root)
    if type_name != "Customer":
        query = dataclasses.replace(query, include_branches=False)
    return await context.loaders["note_counts_by_target"].load(CountKey(type_name, root.pk, query))


async def resolve_is_followed(root: HasPk, info: strawberry.Info) -> bool:
    context: OperationContext = info.context
    return await context.loaders["viewer_follows_by_customer"].load(root.pk)


async def resolve_followers(root: HasPk, info: strawberry.Info, first: First = None, after: After = None) -> Connection[User]:
    context: OperationContext = info.context
    return await context.loaders["followers_by_customer"].load(PageKey(root.pk, _size(context, first), after, None))


async def resolve_tasks(
    root: HasUserPk,
    info: strawberry.Info,
    filter: Annotated[TaskFilter | None, strawberry.argument(description="Which tasks; all of yours when null.")] = None,
    first: First = None,
    after: After = None,
) -> Connection[Note]:
    context: OperationContext = info.context
    key = PageKey(root.user_pk, _size(context, first), after, task_query(filter), "User")
    return await context.loaders["tasks_by_assignee"].load(key)


async def resolve_followed_customers(
    root: HasUserPk, info: strawberry.Info, first: First = None, after: After = None
) -> Connection[Node]:
    context: OperationContext = info.context
    follow = models.CustomerFollow
    stmt = select(follow.customer_id).where(follow.user_id == root.user_pk)
    keys = [SortKey(follow.created_at, descending=True), SortKey(follow.id, descending=True)]
    async with context.read() as session:
        page = await paginate(session, stmt, keys, first=_size(context, first), after=after, build=lambda row: row.customer_id)
    customers = await context.load_nodes([encode_id("Customer", edge.node) for edge in page.edges])
    # A customer deleted since the page was read is left out rather than shown as null.
    # ``totalCount`` counts the follows: a customer's are deleted with it (lifecycle.py),
    # and every member of the organisation may read every customer.
    edges = [Edge(key=edge.key, node=customer) for edge, customer in zip(page.edges, customers, strict=True) if customer]
    return Connection(edges=edges, page_info=page.page_info, total=page.total)


SUBJECT_FIELDS = [
    strawberry.field(
        resolver=resolve_notes,
        name="notes",
        description="The notes and tasks about this object that you may read, newest first.",
    ),
    strawberry.field(
        resolver=resolve_note_count,
        name="noteCount",
        description="How many notes and tasks about this object you may read.",
    ),
]
CUSTOMER_FIELDS = [
    strawberry.field(
        resolver=resolve_is_followed, name="isFollowed", description="Whether you follow this customer's notes (the bell)."
    ),
    strawberry.field(
        resolver=resolve_followers, name="followers", description="The colleagues who follow this customer's notes, by name."
    ),
]
VIEWER_FIELDS = [
    strawberry.field(
        resolver=resolve_tasks,
        name="tasks",
        description="The tasks assigned to you: open ones soonest due first, done ones latest first, all newest first.",
    ),
    strawberry.field(
        resolver=resolve_followed_customers,
        name="followedCustomers",
        description="The customers you follow (each a `Customer`), most recently followed first.",
    ),
]
