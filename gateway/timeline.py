"""The unified customer timeline (G12).

Every plugin contributes entries through the ``timeline_entries`` hook: the newest
``limit`` entries of each location (customer or branch) it is asked about, strictly
older than the cursor. The gateway merges them per customer (with its branches when
asked), newest first, and pages with a stable cursor ``(occurred_at, source, id)``. A
DataLoader batches all customers of a page into one hook call per plugin, so
``customers(first: 50) { timeline(first: 20) }`` costs a constant number of statements.

``totalCount``: :func:`latest_per_location` also records how to count its statement's rows
per location (without the cursor); the merged timeline's count is the sum of those counts,
one ``COUNT`` per recorded statement, run only when a client asks for it. A plugin that
answers without that helper cannot be counted, and then ``totalCount`` is null unless the
whole timeline fits on the page.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import dataclasses
import datetime as dt
import functools
import inspect
import operator
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Annotated, TYPE_CHECKING, Any, Protocol, cast

import strawberry
from aiodataloader import DataLoader
from sqlalchemy import Integer, Select, and_, bindparam, func, literal_column, null, or_, select, true, union_all
from sqlalchemy import cast as cast_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from fiche.cost import list_size
from fiche.datetimes import instant_problem, require_instant
from fiche.db import bindable, bound_keys, in_keys, keys_parameter, keys_shape, prepared, read_rows, statement_shape
from fiche.directory import customer_branches
from fiche.errors import PublicError
from fiche.relay import AnyColumn, AnySelect, Connection, Edge, InvalidID, Node, SelectSource, Total, TotalCounts, built, keyed_rows, connection_of, decode_cursor, decode_id, encode_id, page_size, ranked, valid_pk

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "TimelineEntry",
    "TimelineFilter",
    "TimelineQuery",
    "latest_per_location",
    "together",
    "timeline_field",
    "latest_events_field",
]


@strawberry.interface(description="One event of a customer's timeline, whatever plugin it comes from.")
class TimelineEntry:
    occurred_at: dt.datetime = strawberry.field(description="When it happened (the sort key, newest first).")
    kind: str = strawberry.field(description="What it is: `NOTE`, `TASK`, `ACTIVITY`, `REPORT`, `CUSTOMER_CREATED`, ...")
    summary: str = strawberry.field(description="A one-line description, ready to display.")
    location_pk: strawberry.Private[int]
    source: strawberry.Private[str]  # the contributing plugin's tag, e.g. "notes"
    source_pk: strawberry.Private[int]  # the row's id in that source

    @strawberry.field(description="The customer or branch where it happened.")
    async def location(self, info: strawberry.Info) -> Node | None:
        context: OperationContext = info.context
        return await context.load_node(encode_id("Customer", self.location_pk))


@dataclasses.dataclass(frozen=True, slots=True)
class TimelineQuery:
    """What a ``timeline_entries`` implementation must honour."""

    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None
    kinds: frozenset[str] | None = None  # None: every kind
    team_id: int | None = None
    before: tuple[dt.datetime, str, int] | None = None  # exclusive cursor (occurred_at, source, id)

    def wants(self, *kinds: str) -> bool:
        return self.kinds is None or bool(self.kinds.intersection(kinds))


@strawberry.input(description="Which timeline entries to show.")
class TimelineFilter:
    from_: dt.datetime | None = strawberry.field(default=None, name="from", description="Only entries at or after this time.")
    to: dt.datetime | None = strawberry.field(default=None, description="Only entries before this time.")
    kinds: list[str] | None = strawberry.field(default=None, description="Only these kinds (`NOTE`, `ACTIVITY`, ...).")
    team_id: strawberry.ID | None = strawberry.field(default=None, description="Only entries of this team.")
    include_branches: bool = strawberry.field(default=False, description="Also the entries of the customer's branches.")
    include_planned: bool = strawberry.field(
        default=False, description="Also what is planned: entries dated after now (a visit next week). By default the timeline shows what happened."
    )


class _Timestamped(Protocol):
    occurred_at: dt.datetime
    source: str
    source_pk: int


def _order_key(entry: _Timestamped) -> tuple[dt.datetime, str, int]:
    return (entry.occurred_at, entry.source, entry.source_pk)


def before_condition(occurred: AnyColumn, pk: AnyColumn, source: str, before: tuple[Any, str, Any] | None) -> ColumnElement[bool]:
    """SQL for "strictly older than the cursor" in the merged order, for one source (the
    cursor's instant and id may be bound parameters)."""
    if before is None:
        return true()
    at, cursor_source, cursor_pk = before
    if source < cursor_source:
        return occurred <= at
    if source > cursor_source:
        return occurred < at
    return or_(occurred < at, and_(occurred == at, pk < cursor_pk))


# The counts recorded by latest_per_location during one plugin's timeline_entries call
# (see _collect); None outside of it.
_RECORDED: contextvars.ContextVar[list[TotalCounts] | None] = contextvars.ContextVar("fiche_timeline_counts", default=None)


async def latest_per_location(
    session: AsyncSession,
    stmt: SelectSource,
    *,
    location: AnyColumn,
    occurred: AnyColumn,
    pk: AnyColumn,
    source: str,
    location_ids: Sequence[int],
    query: TimelineQuery,
    limit: int,
    build: Callable[[Any], TimelineEntry],
    shape: Hashable | None = None,
) -> list[TimelineEntry]:
    """The newest ``limit`` rows of ``stmt`` per location, in one statement (window function).

    ``stmt`` selects what ``build`` needs and applies the plugin's own filters (kinds,
    team, visibility); this adds the locations, date range and cursor.

    With ``shape`` (everything ``stmt`` depends on: the kinds, the team, the viewer's
    visibility... see :func:`fiche.db.prepared`), the statement is built once and kept,
    the locations, dates, cursor and limit being bound parameters; ``stmt`` may then be a
    function that builds it, called only the first time."""
    recorded = _RECORDED.get()
    if recorded is not None:
        recorded.append(TotalCounts(lambda: built(stmt).where(*_dated(occurred, query.date_from, query.date_to)), group=location, group_ids=location_ids))
    if shape is None and isinstance(stmt, Select):
        # A plugin that gives no shape (a partner's): its statement and values decide.
        inner, columns = statement_shape(stmt), statement_shape(select(location, occurred, pk))
        shape = None if inner is None or columns is None else ("statement", inner, columns)
    if shape is not None:
        before = query.before
        relation = None if before is None else (before[1] > source) - (before[1] < source)

        def make(in_locations: ColumnElement[bool]) -> AnySelect:
            at = bindparam("fiche_from", type_=occurred.type) if query.date_from is not None else None
            to = bindparam("fiche_to", type_=occurred.type) if query.date_to is not None else None
            cursor = None if before is None else (bindparam("fiche_before_at", type_=occurred.type), before[1], bindparam("fiche_before_pk", type_=pk.type))
            conditions = [in_locations, before_condition(occurred, pk, source, cursor), *_dated(occurred, at, to)]
            return _numbered(session, built(stmt), location, occurred, pk, conditions, bindparam("fiche_limit", type_=Integer))

        parameters: dict[str, Any] = {"fiche_limit": limit}
        if query.date_from is not None:
            parameters["fiche_from"] = query.date_from
        if query.date_to is not None:
            parameters["fiche_to"] = query.date_to
        if before is not None:
            parameters["fiche_before_at"], parameters["fiche_before_pk"] = before[0], before[2]
        kept = ("timeline", shape, source, query.date_from is None, query.date_to is None, relation)
        merged = _MERGED.get()
        dialect = session.bind.dialect.name if session.bind is not None else ""
        if merged is not None and bindable(location_ids):
            branch = prepared(("keyed_rows", kept, keys_shape(dialect, location_ids)), lambda: make(cast("ColumnElement[bool]", bound_keys(dialect, location, location_ids))))
            rows = await merged.rows(("keyed_rows", kept, keys_shape(dialect, location_ids)), branch, {**parameters, "fiche_keys": keys_parameter(dialect, location_ids)})
        else:
            rows = await keyed_rows(session, location, location_ids, make, shape=kept, parameters=parameters)
    else:
        conditions = [in_keys(session, location, location_ids), before_condition(occurred, pk, source, query.before), *_dated(occurred, query.date_from, query.date_to)]
        rows = await read_rows(session, _numbered(session, built(stmt), location, occurred, pk, conditions, limit))
    return [build(row) for row in rows]


class _Merged:
    """The statements of one timeline batch, run as one ``UNION ALL``.

    Every plugin's :func:`latest_per_location` call of a batch hands its kept statement here
    and waits. Once every plugin's hook has either finished or is waiting here (a hook may
    read something else first: the organisation's time zone...), and no new statement has
    come for a whole turn of the event loop (a hook asking for two at once, see
    :func:`together`), all of them run as one statement, each branch padded to the columns
    of all (see :func:`_union`), and each call gets its own rows back. Two statements whose
    bound parameters share a name share their value (the locations, page size, dates,
    cursor and organisation of one batch), so the branches' parameters merge. A call that
    comes after the statement ran (a hook awaiting its first statement's rows before
    asking a second) goes into the next one: at worst a statement more, never a wait on
    a hook that cannot come."""

    def __init__(self, context: OperationContext, hooks: int) -> None:
        self.context = context
        self.hooks = hooks
        self.pending: list[tuple[Hashable, AnySelect, dict[str, Any], asyncio.Future[Sequence[Any]], int | None]] = []
        self.waiting: dict[int, int] = defaultdict(int)  # hook → its statements waiting here
        self.finished: set[int] = set()
        self.scheduled = False
        self.running: set[asyncio.Task[None]] = set()

    async def rows(self, shape: Hashable, stmt: AnySelect, parameters: dict[str, Any]) -> Sequence[Any]:
        future: asyncio.Future[Sequence[Any]] = asyncio.get_running_loop().create_future()
        hook = _HOOK.get()
        self.pending.append((shape, stmt, parameters, future, hook))
        if hook is not None:
            self.waiting[hook] += 1
        self._check(anyway=hook is None)
        return await future

    def done(self, hook: int) -> None:
        """A hook's call has returned (or failed)."""
        self.finished.add(hook)
        self._check()

    def _check(self, anyway: bool = False) -> None:
        if self.scheduled or not self.pending:
            return
        if anyway or all(hook in self.finished or self.waiting[hook] for hook in range(self.hooks)):
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self._settle, len(self.pending))

    def _settle(self, seen: int) -> None:
        if len(self.pending) != seen:  # more came during the last turn: wait one more
            asyncio.get_running_loop().call_soon(self._settle, len(self.pending))
            return
        branches, self.pending, self.scheduled = self.pending, [], False
        for *_, hook in branches:
            if hook is not None:
                self.waiting[hook] -= 1
        task = asyncio.ensure_future(self._run(branches))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _run(self, branches: list[tuple[Hashable, AnySelect, dict[str, Any], asyncio.Future[Sequence[Any]], int | None]]) -> None:
        try:
            async with self.context.read() as session:
                if len(branches) == 1:
                    (_, stmt, parameters, _, _), = branches
                    results: list[Sequence[Any]] = [await read_rows(session, stmt, parameters)]
                else:
                    results = await _merged_rows(session, [(shape, stmt, parameters) for shape, stmt, parameters, _, _ in branches])
        except BaseException as exc:
            for _, _, _, future, _ in branches:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, _, _, future, _), found in zip(branches, results, strict=True):
            if not future.done():
                future.set_result(found)


# The hook (its number in the batch) a latest_per_location call comes from (see _collect).
_HOOK: contextvars.ContextVar[int | None] = contextvars.ContextVar("fiche_timeline_hook", default=None)
# The merge of the current timeline batch (see _collect); None outside of one.
_MERGED: contextvars.ContextVar[_Merged | None] = contextvars.ContextVar("fiche_timeline_merged", default=None)


@functools.lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    """A named tuple of a branch's columns: its builder reads the row by name or position."""
    return collections.namedtuple("TimelineRow", names, rename=True)


def _union(branches: Sequence[AnySelect]) -> tuple[AnySelect, list[list[int]]]:
    """One ``UNION ALL`` of ``branches`` and, for each, the positions of its columns in the
    merged rows (after the branch number at position 0).

    Columns of the same type (by ``repr``: an enum's class, a string's length...) share a
    slot across branches; a branch fills the slots it does not use with a NULL cast to the
    slot's type (PostgreSQL types the NULLs of a union, text by default)."""
    slots: list[Any] = []  # the type of each slot
    placed: list[list[int]] = []
    for branch in branches:
        taken: set[int] = set()
        positions = []
        for column in branch.selected_columns:
            key = repr(column.type)
            slot = next((index for index, type_ in enumerate(slots) if index not in taken and repr(type_) == key), None)
            if slot is None:
                slot = len(slots)
                slots.append(column.type)
            taken.add(slot)
            positions.append(slot)
        placed.append(positions)
    selects = []
    for number, (branch, positions) in enumerate(zip(branches, placed, strict=True)):
        inner = branch.subquery(f"b{number}")
        owners = {slot: column for slot, column in zip(positions, inner.c, strict=True)}
        values = [literal_column(str(number), Integer).label("_branch")]
        values += [(owners[slot] if slot in owners else cast_(null(), type_)).label(f"c{slot}") for slot, type_ in enumerate(slots)]
        selects.append(select(*values))
    merged = union_all(*selects).subquery("merged")
    return select(*merged.c), [[slot + 1 for slot in positions] for positions in placed]


async def _merged_rows(session: AsyncSession, branches: Sequence[tuple[Hashable, AnySelect, dict[str, Any]]]) -> list[Sequence[Any]]:
    """The rows of each branch, read by one statement (see :class:`_Merged`)."""
    for _, stmt, _ in branches:
        keys = list(stmt.selected_columns.keys())
        if len(set(keys)) != len(keys):  # not nameable one by one: each runs on its own
            return [await read_rows(session, stmt, parameters) for _, stmt, parameters in branches]
    order = sorted(range(len(branches)), key=lambda index: repr(branches[index][0]))
    shape = ("timeline_union", tuple(branches[index][0] for index in order))
    ordered = [branches[index][1] for index in order]
    stmt = prepared(shape, lambda: _union(ordered)[0])
    placed = _PLACED.get(shape)
    if placed is None:
        placed = _PLACED[shape] = _union(ordered)[1]
    parameters: dict[str, Any] = {}
    for index in order:
        parameters.update(branches[index][2])
    found: list[list[Any]] = [[] for _ in branches]
    makers = [_row_class(tuple(branches[index][1].selected_columns.keys())) for index in order]
    getters = [operator.itemgetter(*positions) if len(positions) > 1 else (lambda row, at=positions[0]: (row[at],)) for positions in placed]
    for row in await read_rows(session, stmt, parameters):
        number = row[0]
        found[number].append(makers[number]._make(getters[number](row)))
    results: list[Sequence[Any]] = [()] * len(branches)
    for number, index in enumerate(order):
        results[index] = found[number]
    return results


# The column positions of each kept union's branches (see _merged_rows).
_PLACED: dict[Hashable, list[list[int]]] = {}


async def together(*reads: Awaitable[list[TimelineEntry]]) -> list[TimelineEntry]:
    """The entries of several :func:`latest_per_location` calls of one hook on its session:
    asked at once in a timeline batch (they run as one statement with the other plugins',
    see :class:`_Merged`), one after the other outside of one (a session runs one
    statement at a time)."""
    if _MERGED.get() is None:
        found = [await read for read in reads]
    else:
        found = list(await asyncio.gather(*reads))
    return [entry for entries in found for entry in entries]


def _dated(occurred: AnyColumn, date_from: Any, date_to: Any) -> list[ColumnElement[bool]]:
    dated = []
    if date_from is not None:
        dated.append(occurred >= date_from)
    if date_to is not None:
        dated.append(occurred < date_to)
    return dated


def _numbered(session: AsyncSession, stmt: AnySelect, location: AnyColumn, occurred: AnyColumn, pk: AnyColumn, conditions: list[Any], limit: Any) -> AnySelect:
    rank = func.row_number().over(partition_by=location, order_by=[occurred.desc(), pk.desc()]).label("_rank")
    return ranked(session, stmt.add_columns(rank).where(*conditions), "latest", limit, ())


@dataclasses.dataclass(frozen=True, slots=True)
class _Key:
    customer_pk: int
    first: int
    after: str | None
    include_branches: bool
    query: TimelineQuery


class TimelineByCustomerLoader(DataLoader[_Key, Connection[TimelineEntry]]):
    """Pages of the merged timeline of many customers, one hook call per plugin per batch."""

    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context

    async def batch_load_fn(self, keys: list[_Key]) -> list[Connection[TimelineEntry]]:
        groups: dict[tuple[Any, ...], list[_Key]] = defaultdict(list)
        for key in keys:
            groups[(key.first, key.after, key.include_branches, key.query)].append(key)
        pages: dict[_Key, Connection[TimelineEntry]] = {}
        for (first, _after, include_branches, query), members in groups.items():
            roots = sorted({key.customer_pk for key in members})
            scopes: dict[int, set[int]] = {root: {root} for root in roots}
            if include_branches:
                async with self.context.read() as session:
                    branches = await customer_branches(self.context.pm, session, roots)
                for root in roots:
                    scopes[root].update(branches.get(root, ()))
            locations = sorted(set().union(*scopes.values()))
            entries, counts = await _collect(self.context, locations, query, first + 1)
            by_location: dict[int, list[TimelineEntry]] = defaultdict(list)
            for entry in entries:
                by_location[entry.location_pk].append(entry)
            for key in members:
                merged = sorted(
                    (entry for location in scopes[key.customer_pk] for entry in by_location.get(location, ())),
                    key=_order_key,
                    reverse=True,
                )
                page = [Edge(key=_order_key(entry), node=entry) for entry in merged[: key.first]]
                total = None if counts is None else Total(tuple((count, location) for count in counts for location in sorted(scopes[key.customer_pk])))
                pages[key] = connection_of(page, len(merged) > key.first, key.after is not None, total)
        return [pages[key] for key in keys]


async def _collect(
    context: OperationContext, locations: list[int], query: TimelineQuery, limit: int
) -> tuple[list[TimelineEntry], list[TotalCounts] | None]:
    """Every plugin's entries, and how to count the whole timeline: the counts each plugin's
    :func:`latest_per_location` calls recorded, or None when some plugin's share cannot be
    counted (it answered without the helper, or said nothing on a page past the first,
    where silence does not mean it has nothing)."""
    if not locations:
        return [], []
    arguments = {"context": context, "location_ids": locations, "query": query, "limit": limit}

    implementations = context.pm.hook.timeline_entries.get_hookimpls()
    # On SQLite, whose reads run one after the other on the event loop's thread, the hooks'
    # statements run as one (see _Merged). PostgreSQL runs them side by side, each on its
    # own connection, and a page is served sooner that way than by one larger statement
    # (planned anew for each page: bench/RESULTS.md, issue 10, late night).
    merged = _Merged(context, len(implementations)) if context.db.is_sqlite else None

    async def contribution(number: int, implementation: Any) -> tuple[list[TimelineEntry], list[TotalCounts]]:
        # One plugin at a time in a context of its own (each call runs in a task), so that
        # what latest_per_location records is known to be that plugin's.
        recorded: list[TotalCounts] = []
        _RECORDED.set(recorded)
        _HOOK.set(number)
        try:
            result = implementation.function(**{name: arguments[name] for name in implementation.argnames})
            if inspect.isawaitable(result):
                result = await result
        finally:
            if merged is not None:
                merged.done(number)
        return list(result or ()), recorded

    # Their latest_per_location statements run as one (see _Merged): set for the tasks
    # below, which copy this context.
    token = _MERGED.set(merged)
    try:
        contributions = [asyncio.ensure_future(contribution(number, implementation)) for number, implementation in enumerate(implementations)]
    finally:
        _MERGED.reset(token)
    answers = await asyncio.gather(*contributions)
    entries = [entry for found, _ in answers for entry in found]
    countable = all(recorded or (not found and query.before is None) for found, recorded in answers)
    return entries, [count for _, recorded in answers for count in recorded] if countable else None


class HasPk(Protocol):
    pk: int


def _query(context: OperationContext, filter: TimelineFilter | None, after: str | None) -> tuple[TimelineQuery, bool]:
    filter = filter or TimelineFilter()
    team_id = None
    if filter.team_id is not None:
        try:
            team_id = decode_id(filter.team_id, "Team")[1]
        except InvalidID as exc:
            raise PublicError.bad_request(str(exc)) from exc
    before = None
    if after is not None:
        at, source, pk = decode_cursor(after, 3)
        if not isinstance(at, dt.datetime) or instant_problem(at) or not isinstance(source, str) or not valid_pk(pk):
            raise PublicError.bad_request("`after` is not a valid timeline cursor.")
        before = (at, source, pk)
    date_to = require_instant(filter.to, "filter.to")
    if not filter.include_planned:
        date_to = _past_only(context, date_to)
    query = TimelineQuery(
        date_from=require_instant(filter.from_, "filter.from"),
        date_to=date_to,
        kinds=frozenset(filter.kinds) if filter.kinds is not None else None,
        team_id=team_id,
        before=before,
    )
    return query, filter.include_branches


def _past_only(context: OperationContext, date_to: dt.datetime | None) -> dt.datetime:
    """``date_to`` capped at now. "Now" is read once per operation: every customer of a
    page then shares one query, so the loader still batches them into one hook call."""
    now: dt.datetime = context.memo.setdefault("timeline.now", dt.datetime.now(dt.UTC))
    return now if date_to is None or date_to > now else date_to


async def resolve_timeline(
    root: HasPk,
    info: strawberry.Info,
    filter: Annotated[TimelineFilter | None, strawberry.argument(description="Which entries; all kinds, this customer only, by default.")] = None,
    first: Annotated[int | None, strawberry.argument(description="How many entries to return (the page size).")] = None,
    after: Annotated[str | None, strawberry.argument(description="Return the entries after this cursor.")] = None,
) -> Connection[TimelineEntry]:
    context: OperationContext = info.context
    size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
    query, include_branches = _query(context, filter, after)
    return await context.loaders["timeline_by_customer"].load(_Key(root.pk, size, after, include_branches, query))


async def resolve_latest_events(
    root: HasPk,
    info: strawberry.Info,
    first: Annotated[int, strawberry.argument(description="How many events.")] = 5,
    include_planned: Annotated[bool, strawberry.argument(description="Also what is planned after now; by default only what happened.")] = False,
) -> list[TimelineEntry]:
    context: OperationContext = info.context
    size = page_size(first, default=5, maximum=context.settings.max_page_size)
    query = TimelineQuery() if include_planned else TimelineQuery(date_to=_past_only(context, None))
    page = await context.loaders["timeline_by_customer"].load(_Key(root.pk, size, None, True, query))
    return [edge.node for edge in page.edges]


timeline_field = strawberry.field(
    resolver=resolve_timeline,
    name="timeline",
    description="Everything that happened with this customer, from every plugin, newest first; planned entries (after now) only with `filter.includePlanned`.",
)
latest_events_field = strawberry.field(
    resolver=resolve_latest_events,
    name="latestEvents",
    description="The few latest events (branches included), newest first, for the dashboard widget: what happened, planned entries only with `includePlanned`.",
    metadata=list_size(argument="first"),
)
