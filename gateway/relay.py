"""Relay conventions: opaque global IDs, the ``Node`` interface and keyset-paginated
cursor connections (plain and batched per parent)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeGuard, TypeVar, Unpack, cast

import orjson
import strawberry
from sqlalchemy import BigInteger, Integer, Select, SmallInteger, and_, bindparam, false, func, literal_column, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import ColumnElement

from fiche.datetimes import instant_problem
from fiche.db import bindable, bound_keys, in_keys, keys_parameter, keys_shape, prepared, read_rows, statement_shape
from fiche.errors import PublicError, UserErrors
from fiche.execution.batch import batched

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "AnyColumn",
    "AnySelect",
    "Connection",
    "Edge",
    "connection_of",
    "merge_pages",
    "InvalidID",
    "MAX_PK",
    "Node",
    "PageInfo",
    "SelectSource",
    "SortKey",
    "built",
    "Total",
    "TotalCounts",
    "decode_id",
    "decode_input",
    "input_pk",
    "load_input_row",
    "encode_id",
    "page_size",
    "parse_pk",
    "valid_pk",
    "paginate",
    "paginate_grouped",
    "pages_by_parent",
    "rows_by_id",
    "keyed_rows",
    "ranked",
]

T = TypeVar("T")
K = TypeVar("K")
M = TypeVar("M")

# Any ORM-enabled SELECT and any column expression (a mapped attribute included), whatever
# their SQLAlchemy 2.1 type parameters.
AnySelect: TypeAlias = "Select[Unpack[tuple[Any, ...]]]"
AnyColumn: TypeAlias = "ColumnElement[Any] | QueryableAttribute[Any]"
# A statement, or what builds it: with a statement cache (``shape=``), it is only built
# when the cache does not hold the statement yet.
SelectSource: TypeAlias = "AnySelect | Callable[[], AnySelect]"


def built(source: SelectSource) -> AnySelect:
    """The statement of a :data:`SelectSource`."""
    return source if isinstance(source, Select) else source()


class InvalidID(PublicError, ValueError):
    """A string that is not a global ID (or not of the expected type).

    A resolver that does not catch it still gives the client a clear ``BAD_USER_INPUT``
    error instead of a masked "Unexpected error."."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "BAD_USER_INPUT")


# Every primary key is an INTEGER column: PostgreSQL's is 32 bits, and asyncpg refuses a
# larger parameter before the database can answer "no such row".
MAX_PK = 2**31 - 1


@functools.lru_cache(maxsize=16384)  # the same users and types recur in every page
def encode_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode_id(global_id: str, expected: str | Iterable[str] | None = None) -> tuple[str, int]:
    """``(type name, primary key)`` of a global ID; raises :class:`InvalidID`.

    Only the spelling :func:`encode_id` gives is an ID: no padding, no stray characters,
    a key in canonical decimal (``Customer:05``, ``Customer:+5``, ``Customer: 5`` and
    ``Customer:1_0`` name nothing). The key must fit the primary-key column
    (:data:`MAX_PK`): a larger one could only fail in the database."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidID(f"{global_id!r} is not a valid ID") from exc
    type_name, _, key = raw.partition(":")
    value = parse_pk(key)
    if not type_name or value is None or encode_id(type_name, value) != global_id:
        raise InvalidID(f"{global_id!r} is not a valid ID")
    if expected is not None:
        allowed = {expected} if isinstance(expected, str) else set(expected)
        if type_name not in allowed:
            raise InvalidID(f"{global_id!r} is not the ID of a {' or '.join(sorted(allowed))}")
    return type_name, value


def parse_pk(text: str) -> int | None:
    """The primary key ``text`` spells in canonical decimal (``1`` to :data:`MAX_PK`), else None."""
    if not (0 < len(text) <= len(str(MAX_PK)) and text.isascii() and text.isdigit()) or text[0] == "0":
        return None
    value = int(text)
    return value if value <= MAX_PK else None


def valid_pk(value: object) -> TypeGuard[int]:
    """Whether ``value`` can be a primary key (an ``int``, not a ``bool``, in ``1..MAX_PK``)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_PK


def decode_input(global_id: str, expected: str | Iterable[str] | None, *path: str) -> tuple[str, int]:
    """Like :func:`decode_id` for a mutation input: an INVALID :class:`UserErrors` at ``path``."""
    try:
        return decode_id(global_id, expected)
    except InvalidID as exc:
        raise UserErrors.invalid(str(exc), *path) from exc


def input_pk(global_id: str, type_name: str, *path: str) -> int:
    """The primary key behind a global ID of ``type_name`` given in a mutation input."""
    return decode_input(global_id, type_name, *path)[1]


async def load_input_row(
    session: AsyncSession, model: type[M], global_id: str, type_name: str, *path: str, noun: str | None = None
) -> M:
    """The entity behind an input's global ID in the session's organisation; NOT_FOUND
    otherwise (another organisation's ID behaves like a missing one: the tenant filter)."""
    row = await session.get(model, input_pk(global_id, type_name, *path))
    if row is None:
        raise UserErrors.not_found(f"No {noun or type_name} with this ID.", *path)
    return row


@strawberry.interface(description="An object with a global, opaque ID, fetchable with `node(id:)`.")
class Node:
    pk: strawberry.Private[int]
    # A plain attribute computed once at construction: a resolver here would go through
    # Strawberry's whole resolver machinery for every object of every list.
    id: strawberry.ID = strawberry.field(
        default=strawberry.ID(""), description="The object's global ID: opaque, stable, unique across types."
    )

    def __post_init__(self) -> None:
        self.id = strawberry.ID(encode_id(type(self).__strawberry_definition__.name, self.pk))  # type: ignore[attr-defined]


@strawberry.type(description="Where a page stands in its connection.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow `endCursor`.")
    has_previous_page: bool = strawberry.field(description="Whether this page was fetched with `after`.")
    # The sort-key values of the page's first and last items (None: an empty page),
    # encoded only when a client asks for a cursor: most pages (the 50 activity pages of
    # the heavy query) are never asked.
    start_key: strawberry.Private[Sequence[Any] | None] = None
    end_key: strawberry.Private[Sequence[Any] | None] = None

    @strawberry.field(description="Cursor of the first item of the page.")
    def start_cursor(self) -> str | None:
        return None if self.start_key is None else encode_cursor(self.start_key)

    @strawberry.field(description="Cursor of the last item; pass it as `after`.")
    def end_cursor(self) -> str | None:
        return None if self.end_key is None else encode_cursor(self.end_key)


@strawberry.type(description="One item of a connection with its cursor.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    # The sort-key values; encoded into a cursor only when a client asks for it.
    key: strawberry.Private[Sequence[Any]] = ()

    @strawberry.field(description="Opaque position of this item, for `after`.")
    def cursor(self) -> str:
        return encode_cursor(self.key)


class TotalCounts:
    """How many rows a paginated statement has in all, per group, counted on first demand.

    :func:`paginate` and :func:`paginate_grouped` attach one to the connections they build
    (through :class:`Total`); nothing runs unless a client selects ``totalCount``, and then
    one ``COUNT`` statement answers every group at once (all the customers of a page), in
    a read session of its own: the page's session is closed by then. The count ignores
    ``after`` and ``first``: it is the size of the whole list."""

    def __init__(self, stmt: SelectSource, group: AnyColumn | None = None, group_ids: Sequence[Any] = ()) -> None:
        self._stmt = stmt
        self.group = group
        self.group_ids = list(group_ids)
        self._counts: asyncio.Future[dict[Any, int]] | None = None

    @property
    def stmt(self) -> AnySelect:
        if not isinstance(self._stmt, Select):
            self._stmt = self._stmt()
        return self._stmt

    def count_statement(self) -> AnySelect:
        if self.group is None:
            return select(func.count()).select_from(self.stmt.order_by(None).subquery("counted"))
        inner = self.stmt.order_by(None).add_columns(self.group.label("_group")).where(self.group.in_(self.group_ids)).subquery("counted")
        return select(inner.c._group, func.count()).group_by(inner.c._group)

    async def counts(self, context: OperationContext) -> dict[Any, int]:
        """Group → number of rows (the single group of a plain list is ``None``)."""
        if self._counts is None:
            self._counts = asyncio.get_running_loop().create_future()
            try:
                async with context.read() as session:
                    rows = await read_rows(session, self.count_statement())
                    if self.group is None:
                        found = {None: int(rows[0][0] or 0) if rows else 0}
                    else:
                        found = {group: int(count) for group, count in cast('Sequence[tuple[Any, int]]', rows)}
            except BaseException as exc:
                self._counts.set_exception(exc)
                self._counts.exception()  # retrieved: the waiters re-raise it, nobody else must
                raise
            self._counts.set_result(found)
        return await asyncio.shield(self._counts)


@dataclasses.dataclass(frozen=True, slots=True)
class Total:
    """A connection's ``totalCount``: ``known`` items plus the count of each ``(counts,
    group)`` part (a merged list, e.g. a customer and its branches, has several parts)."""

    parts: tuple[tuple[TotalCounts, Any], ...] = ()
    known: int = 0

    def __add__(self, other: Total) -> Total:
        return Total(self.parts + other.parts, self.known + other.known)


@strawberry.type(description="A page of a list, paginated with `first` and `after`.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page with their cursors.")
    page_info: PageInfo = strawberry.field(description="Whether there is more, and where to continue.")
    # How to count the whole list when a client asks for it (see TotalCounts); None when
    # this list cannot be counted beyond the page it shows.
    total: strawberry.Private[Total | None] = None

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(
        description=(
            "How many items the whole list has (every page, whatever `first` and `after`), counted only when asked for. "
            "Null for the few lists that cannot be counted beyond their current page (a timeline with a partner plugin that counts nothing)."
        )
    )
    @batched
    async def total_count(connections: Sequence[Connection[Any]], info: strawberry.Info) -> list[int | None]:
        # One COUNT per distinct TotalCounts: every connection of a paginate_grouped call
        # (all the parents at this position) shares one.
        sources: dict[int, TotalCounts] = {}
        for connection in connections:
            for counts, _group in connection.total.parts if connection.total else ():
                sources.setdefault(id(counts), counts)
        found = {key: await counts.counts(info.context) for key, counts in sources.items()}
        return [
            None
            if connection.total is None
            else connection.total.known + sum(found[id(counts)].get(group, 0) for counts, group in connection.total.parts)
            for connection in connections
        ]

    @classmethod
    def empty(cls) -> Connection[Any]:
        return cls(edges=[], page_info=PageInfo(has_next_page=False, has_previous_page=False), total=Total())


@dataclasses.dataclass(frozen=True, slots=True)
class SortKey:
    """One column of a keyset ordering. The last key of an ordering must be unique (the id).

    NULLs sort last in both directions, on both databases (SQLite puts them first in
    ascending order, PostgreSQL in descending order): the keyset condition relies on it."""

    column: AnyColumn
    descending: bool = False

    @property
    def nullable(self) -> bool:
        """False only for a column known to be NOT NULL (its plain ORDER BY can use an index)."""
        return getattr(self.column, "nullable", True) is not False

    @property
    def order_by(self) -> ColumnElement[Any]:
        ordered = self.column.desc() if self.descending else self.column.asc()
        return ordered.nulls_last() if self.nullable else ordered


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    if first is None:
        return default
    if first < 0:
        raise PublicError.bad_request("`first` must not be negative.")
    if first > maximum:
        raise PublicError.bad_request(f"`first` must be at most {maximum}.")
    return first


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"d": value.isoformat()}
    if isinstance(value, dt.date):
        return {"D": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    """The value ``_encode_value`` encoded; ``ValueError`` for anything it cannot have made."""
    if isinstance(value, dict):
        if len(value) != 1:
            raise ValueError("not an encoded cursor value")
        (tag, text), = value.items()
        if not isinstance(text, str):
            raise ValueError("not an encoded cursor value")
        if tag == "d":
            return dt.datetime.fromisoformat(text)
        if tag == "D":
            return dt.date.fromisoformat(text)
        if tag == "n":
            return Decimal(text)
        raise ValueError("not an encoded cursor value")
    if isinstance(value, list):
        raise ValueError("not an encoded cursor value")
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([_encode_value(v) for v in values])).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError) as exc:
        raise PublicError.bad_request("`after` is not a valid cursor.") from exc
    if not isinstance(values, list) or len(values) != width:
        raise PublicError.bad_request("`after` is not a valid cursor for this list.")
    try:
        return [_decode_value(v) for v in values]
    except (ArithmeticError, ValueError) as exc:  # decimal.InvalidOperation is an ArithmeticError
        raise PublicError.bad_request("`after` is not a valid cursor.") from exc


def _python_type(column: AnyColumn) -> type | None:
    """The Python type of a column's values, seen through type decorators; None if unknown."""
    sql_type = column.type
    for candidate in (sql_type, getattr(sql_type, "impl_instance", None)):
        try:
            python_type = candidate.python_type if candidate is not None else object
        except NotImplementedError:
            continue
        if python_type is not object:
            return python_type
    return None


# The range of each integer column type (SQLAlchemy's types, in subclass-first order).
_INTEGER_BITS = ((BigInteger, 64), (SmallInteger, 16), (Integer, 32))


def _integer_bits(column: AnyColumn) -> int:
    sql_type = getattr(column.type, "impl_instance", column.type)
    return next((bits for kind, bits in _INTEGER_BITS if isinstance(sql_type, kind)), 64)


def _value_fits(key: SortKey, expected: type, value: Any) -> bool:
    """Whether the database can compare ``value`` with the key's column."""
    if expected is int:
        bits = _integer_bits(key.column)
        return -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
    if isinstance(value, Decimal):
        return value.is_finite()
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, dt.datetime):
        timezone = getattr(getattr(key.column.type, "impl_instance", key.column.type), "timezone", False)
        return instant_problem(value) is None if timezone else True
    return True


def _check_value(key: SortKey, value: Any) -> None:
    """Refuse a cursor value the key's column cannot hold.

    Cursors are opaque but client-supplied: a forged one must be a client error, not a
    database error (PostgreSQL refuses to compare a string with an integer, asyncpg an
    integer past the column's width, both a text with a NUL character)."""
    expected = _python_type(key.column)
    if value is None or expected not in (bool, int, float, Decimal, str, dt.date, dt.datetime):
        return
    assert expected is not None
    if expected in (float, Decimal) and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if _value_fits(key, expected, value):
            return
        raise PublicError.bad_request("`after` is not a valid cursor for this list.")
    if (
        not isinstance(value, expected)
        or (expected is int and isinstance(value, bool))
        or (expected is dt.date and isinstance(value, dt.datetime))
        or not _value_fits(key, expected, value)
    ):
        raise PublicError.bad_request("`after` is not a valid cursor for this list.")


def _after_values(after: str, keys: Sequence[SortKey]) -> list[Any]:
    values = decode_cursor(after, len(keys))
    for key, value in zip(keys, values, strict=True):
        _check_value(key, value)
    return values


def _after_condition(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the ordering ``keys`` (mixed directions allowed)."""
    alternatives = []
    for index, key in enumerate(keys):
        # `column == None` compiles to IS NULL, so a NULL prefix matches the NULL rows.
        equal_prefix = [keys[i].column == values[i] for i in range(index)]
        value = values[index]
        if value is None:
            # NULLs sort last (see SortKey); nothing is "after" them on this key.
            continue
        beyond = key.column < value if key.descending else key.column > value
        if key.nullable:
            beyond = or_(beyond, key.column.is_(None))
        alternatives.append(and_(*equal_prefix, beyond))
    return or_(*alternatives) if alternatives else false()


async def paginate(
    session: AsyncSession,
    stmt: SelectSource,
    keys: Sequence[SortKey],
    *,
    first: int,
    after: str | None,
    build: Callable[[Any], T],
    shape: Hashable | None = None,
) -> Connection[T]:
    """Run ``stmt`` ordered by ``keys`` from ``after`` and return one page of ``build(row)``.

    With a ``shape`` (what determines ``stmt`` and ``keys`` entirely, see
    :func:`fiche.db.prepared`; ``stmt`` may then be a function that builds it) the page's
    statement is built once and kept, the page size and the cursor bound parameters:
    building it and computing its cache key cost more Python than running it."""
    width = len(keys)
    total = Total(((TotalCounts(stmt), None),))
    after_values = _after_values(after, keys) if after else None
    if shape is None:
        page = built(stmt).add_columns(*(key.column for key in keys)).order_by(*(key.order_by for key in keys))
        if after_values is not None:
            page = page.where(_after_condition(keys, after_values))
        rows = await read_rows(session, page.limit(first + 1))
    else:

        def make() -> AnySelect:
            page = built(stmt).add_columns(*(key.column for key in keys)).order_by(*(key.order_by for key in keys))
            if after_values is not None:
                bound = [None if value is None else bindparam(f"fiche_after_{i}", type_=key.column.type) for i, (key, value) in enumerate(zip(keys, after_values))]
                page = page.where(_after_condition(keys, bound))
            return page.limit(bindparam("fiche_limit", type_=Integer))

        parameters = {"fiche_limit": first + 1}
        for i, value in enumerate(after_values or ()):
            if value is not None:
                parameters[f"fiche_after_{i}"] = value
        cursor_shape = None if after_values is None else tuple(value is None for value in after_values)
        rows = await read_rows(session, prepared(("paginate", shape, cursor_shape), make), parameters)
    return _connection(rows[:first], len(rows) > first, after is not None, width, build, total)


async def paginate_grouped(
    session: AsyncSession,
    stmt: SelectSource,
    group: AnyColumn,
    group_ids: Sequence[K],
    keys: Sequence[SortKey],
    *,
    first: int,
    after: str | None,
    build: Callable[[Any], T],
    shape: Hashable | None = None,
) -> dict[K, Connection[T]]:
    """One page per group (e.g. the 10 latest notes of each of 50 customers) in one statement.

    ``stmt`` selects the columns ``build`` needs; it is filtered to ``group IN group_ids``,
    numbered per group with a window function, and cut at ``first + 1`` rows per group.

    The statement is built once and kept, the group ids, the page size and the cursor
    being bound parameters, per ``shape`` (what determines ``stmt``, ``group`` and
    ``keys`` entirely: see :func:`fiche.db.prepared`; ``stmt`` may then be a function
    that builds it, called only the first time), or, when the caller gives none, per
    statement and values (:func:`fiche.db.statement_shape`: ``stmt`` is still built by
    each call, the rest is not).
    """
    width = len(keys)
    counts = TotalCounts(stmt, group, group_ids)
    after_values = _after_values(after, keys) if after else None
    if shape is None and isinstance(stmt, Select):
        # The caller's statement, with its values, decides: built anew, kept all the same.
        inner, order = statement_shape(stmt), statement_shape(select(group, *(key.column for key in keys)))
        shape = None if inner is None or order is None else ("statement", inner, order, tuple(key.descending for key in keys))
    if shape is not None:
        cursor_shape = None if after_values is None else tuple(value is None for value in after_values)

        def make(in_groups: ColumnElement[bool]) -> AnySelect:
            bound = [None if value is None else bindparam(f"fiche_after_{i}", type_=key.column.type) for i, (key, value) in enumerate(zip(keys, after_values or ()))]
            return _grouped_statement(session, built(stmt), group, in_groups, keys, None if after_values is None else bound, bindparam("fiche_limit", type_=Integer))

        parameters = {"fiche_limit": first + 1}
        for i, value in enumerate(after_values or ()):
            if value is not None:
                parameters[f"fiche_after_{i}"] = value
        dialect = session.bind.dialect.name if session.bind is not None else ""
        if dialect == "postgresql" and bindable(group_ids):

            def make_lateral() -> AnySelect:
                inner = built(stmt)
                names = list(inner.selected_columns.keys())
                if len(set(names)) != len(names) or "_group" in names:
                    return make(cast("ColumnElement[bool]", bound_keys(dialect, group, group_ids)))  # same parameters
                bound = [None if value is None else bindparam(f"fiche_after_{i}", type_=key.column.type) for i, (key, value) in enumerate(zip(keys, after_values or ()))]
                return _lateral_statement(inner, group, keys, None if after_values is None else bound, bindparam("fiche_limit", type_=Integer))

            kept = prepared(("paginate_lateral", shape, cursor_shape), make_lateral)
            rows = await read_rows(session, kept, {**parameters, "fiche_keys": list(group_ids)})
        else:
            rows = await keyed_rows(session, group, group_ids, make, shape=("paginate_grouped", shape, cursor_shape), parameters=parameters)
    else:
        rows = await read_rows(session, _grouped_statement(session, built(stmt), group, in_keys(session, group, group_ids), keys, after_values, first + 1))
    grouped: dict[Any, list[Any]] = {}
    key_of: Callable[[Any], Sequence[Any]] | None = None
    if rows:
        # By position: a named attribute of a row costs ~0.3 µs. A sort key the statement
        # selects already is read from its own column (see _grouped_statement).
        fields = rows[0]._fields
        at = fields.index("_group")
        positions = [fields.index(f"_k{i}" if f"_k{i}" in fields else _column_name(key.column)) for i, key in enumerate(keys)]
        key_of = itemgetter(*positions) if width > 1 else (lambda row: (row[positions[0]],))
        for row in rows:
            grouped.setdefault(row[at], []).append(row)
    result: dict[K, Connection[T]] = {}
    for group_id in group_ids:
        members = grouped.get(group_id, [])
        result[group_id] = _connection(members[:first], len(members) > first, after is not None, width, build, Total(((counts, group_id),)), key_of)
    return result


def _column_name(column: AnyColumn) -> str:
    return str(getattr(column, "__clause_element__", lambda: column)().name)


def _selects(stmt: AnySelect, column: AnyColumn) -> bool:
    """Whether ``stmt`` selects ``column`` as it is, under its own name (not relabelled)."""
    expression = cast("ColumnElement[Any]", getattr(column, "__clause_element__", lambda: column)())
    name = getattr(expression, "name", None)
    selected = stmt.selected_columns.get(name) if isinstance(name, str) else None
    return selected is not None and getattr(selected, "name", None) == name and selected.compare(expression)


def _grouped_statement(
    session: AsyncSession,
    stmt: AnySelect,
    group: AnyColumn,
    in_groups: ColumnElement[bool],
    keys: Sequence[SortKey],
    after_values: Sequence[Any] | None,
    limit: Any,
) -> AnySelect:
    rank = func.row_number().over(partition_by=group, order_by=[key.order_by for key in keys]).label("_rank")
    # A sort key the statement selects already (an activity's starts_at and id) is not
    # selected twice: every value of every row is sent and decoded.
    sort_columns = (key.column.label(f"_k{i}") for i, key in enumerate(keys) if not _selects(stmt, key.column))
    inner = stmt.add_columns(group.label("_group"), rank, *sort_columns)
    inner = inner.where(in_groups)
    if after_values is not None:
        inner = inner.where(_after_condition(keys, after_values))
    return ranked(session, inner, "page", limit, ("_group", "_rank"), omit=("_rank",))


def _lateral_statement(stmt: AnySelect, group: AnyColumn, keys: Sequence[SortKey], after_values: Sequence[Any] | None, limit: Any) -> AnySelect:
    """:func:`_grouped_statement` for PostgreSQL: each group's page read by its own
    ``ORDER BY ... LIMIT`` in a ``LATERAL`` subquery over the group keys (one bound array,
    ``fiche_keys``).

    A window function over ``group = ANY(keys)`` must read and sort every row of every
    group before it can cut them (the 50 customers of the heavy query: a sequential scan
    of all the activities); the lateral page walks the group's index and stops at the
    limit. Same columns as :func:`_grouped_statement`: the statement's, ``_group``, then
    the sort keys it does not select (``_k<i>``); rows in group order, then page order."""
    parents = func.unnest(bindparam("fiche_keys", type_=ARRAY(Integer))).table_valued("key").render_derived(name="parents")
    sort_columns = [(i, key.column.label(f"_k{i}")) for i, key in enumerate(keys) if not _selects(stmt, key.column)]
    inner = stmt.add_columns(*(column for _, column in sort_columns)).where(group == parents.c.key)
    if after_values is not None:
        inner = inner.where(_after_condition(keys, after_values))
    names = list(stmt.selected_columns.keys())
    page = inner.order_by(*(key.order_by for key in keys)).limit(limit).lateral("page")
    added = {i: f"_k{i}" for i, _ in sort_columns}

    def ordered(i: int, key: SortKey) -> ColumnElement[Any]:
        column = page.c[added[i] if i in added else _column_name(key.column)]
        order = column.desc() if key.descending else column.asc()
        return order.nulls_last() if key.nullable else order

    return (
        select(*(page.c[name] for name in names), parents.c.key.label("_group"), *(page.c[f"_k{i}"] for i, _ in sort_columns))
        .select_from(parents.join(page, true()))
        .order_by(parents.c.key, *(ordered(i, key) for i, key in enumerate(keys)))
    )


async def keyed_rows(
    session: AsyncSession,
    column: AnyColumn,
    keys: Sequence[Any],
    stmt: Callable[[ColumnElement[bool]], AnySelect],
    *,
    shape: Hashable,
    parameters: dict[str, Any] | None = None,
) -> Sequence[Any]:
    """The rows of ``stmt(column IN keys)``, the statement built once per ``shape`` (what
    ``stmt`` depends on: see :func:`fiche.db.prepared`) and kept, the keys one bound
    parameter (``parameters`` gives the values of ``stmt``'s own bound parameters)."""
    dialect = session.bind.dialect.name if session.bind is not None else ""
    if not bindable(keys):
        return await read_rows(session, stmt(in_keys(session, column, keys)), parameters)
    kept = prepared(("keyed_rows", shape, keys_shape(dialect, keys)), lambda: stmt(bound_keys(dialect, column, keys)))  # type: ignore[arg-type]
    return await read_rows(session, kept, {**(parameters or {}), "fiche_keys": keys_parameter(dialect, keys)})


async def rows_by_id(
    session: AsyncSession, stmt: SelectSource, key: AnyColumn, keys: Sequence[Any], build: Callable[[Any], T], *, shape: Hashable | None = None
) -> list[T | None]:
    """A DataLoader batch by primary key: ``stmt`` (which selects an ``id`` column) for the
    ``keys``, in one statement with the keys as one bound parameter; None for a key with no
    row (missing, another organisation's, or filtered out by ``stmt``). The statement is
    built once and kept (:func:`keyed_rows`) per ``shape``, or per statement and values
    (:func:`fiche.db.statement_shape`) when the caller gives none."""
    if shape is None and isinstance(stmt, Select):
        inner, column = statement_shape(stmt), statement_shape(select(key))
        shape = None if inner is None or column is None else ("statement", inner, column)
    if shape is None:
        rows = await read_rows(session, built(stmt).where(in_keys(session, key, keys)))
    else:
        rows = await keyed_rows(session, key, keys, lambda condition: built(stmt).where(condition), shape=shape)
    found = {row.id: build(row) for row in rows}
    return [found.get(pk) for pk in keys]


class PageRequest(Protocol):
    """A loader key asking for one page of a parent's list."""

    @property
    def first(self) -> int: ...

    @property
    def after(self) -> str | None: ...


PK = TypeVar("PK", bound=PageRequest)


async def pages_by_parent(
    session: AsyncSession,
    keys: Sequence[PK],
    parent: Callable[[PK], Any],
    stmt: AnySelect,
    group: AnyColumn,
    order: Sequence[SortKey],
    build: Callable[[Any], T],
) -> list[Connection[T]]:
    """A DataLoader batch of pages of a child list (``Customer.equipment``,
    ``Worksite.interventions``...): :func:`paginate_grouped` once per distinct ``(first,
    after)`` among ``keys`` — one statement for all the parents of a response position —
    and each key's page, in the order of ``keys``.

    :param parent: the key's parent primary key (the value of ``group``)."""
    asked: dict[tuple[int, str | None], list[PK]] = {}
    for key in keys:
        asked.setdefault((key.first, key.after), []).append(key)
    pages: dict[int, Connection[T]] = {}
    for (first, after), members in asked.items():
        by_parent = await paginate_grouped(
            session, stmt, group, sorted({parent(key) for key in members}), order, first=first, after=after, build=build
        )
        for key in members:
            pages[id(key)] = by_parent[parent(key)]
    return [pages[id(key)] for key in keys]


def ranked(session: AsyncSession, inner: AnySelect, name: str, limit: Any, order: Sequence[str], omit: Collection[str] = ()) -> AnySelect:
    """``SELECT <inner's columns> FROM (inner) AS name WHERE name._rank <= limit ORDER BY
    order``: the rows of a window-numbered statement cut per group (``inner`` selects a
    ``_rank`` column). ``limit`` is a number or a bound parameter (a kept statement).

    The outer columns name the subquery's columns as text, with their types: SQLAlchemy
    would otherwise build the subquery's column collection, a proxy of every column (and
    of its foreign keys) on every execution, most of the cost of building the statement.
    A statement whose column keys are not plain unique names keeps that path. The columns
    named in ``omit`` (a page's ``_rank``) are not sent back when the path allows it:
    every value of every row is decoded by the driver."""
    columns = inner.selected_columns
    keys = list(columns.keys())
    numbered = inner.subquery(name)
    plain = len(set(keys)) == len(keys) and all(getattr(column, "name", None) == key for key, column in columns.items())
    if session.bind is None or not plain:
        return select(numbered).where(numbered.c._rank <= limit).order_by(*(numbered.c[key] for key in order))
    quote = session.bind.dialect.identifier_preparer.quote

    def of(key: str) -> ColumnElement[Any]:
        return literal_column(f"{name}.{quote(key)}", type_=columns[key].type)

    return (
        select(*(of(key).label(key) for key in keys if key not in omit))
        .select_from(numbered)
        .where(of("_rank") <= limit)
        .order_by(*(of(key) for key in order))
    )


def _edge(node: T, key: Sequence[Any], new: Callable[[type], Any] = object.__new__) -> Edge[T]:
    """``Edge(node=node, key=key)`` without the dataclass ``__init__`` (a page of the heavy
    query builds 1,500 edges)."""
    edge: Edge[T] = new(Edge)
    edge.__dict__ = {"node": node, "key": key}
    return edge


def _connection(
    rows: Sequence[Any],
    has_next: bool,
    has_previous: bool,
    width: int,
    build: Callable[[Any], T],
    total: Total,
    key_of: Callable[[Any], Sequence[Any]] | None = None,
) -> Connection[T]:
    if key_of is not None:
        return connection_of([_edge(build(row), key_of(row)) for row in rows], has_next, has_previous, total)
    # row[-width:]: the sort-key values in one tuple, one slice per row
    return connection_of([_edge(build(row), row[-width:]) for row in rows], has_next, has_previous, total)


def connection_of(edges: Sequence[Edge[T]], has_next: bool, has_previous: bool, total: Total | None = None) -> Connection[T]:
    """A connection of ready edges (no cursor is encoded until a client asks for one).

    ``total`` counts the whole list (pass on the ``total`` of the page a connection was
    built from); without it, a page that is the whole list (no page before or after it)
    knows its size, and any other page answers ``totalCount`` with null."""
    if total is None and not has_next and not has_previous:
        total = Total(known=len(edges))
    return Connection(
        edges=list(edges),
        total=total,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_key=edges[0].key if edges else None,
            end_key=edges[-1].key if edges else None,
        ),
    )


def merge_pages(pages: Sequence[Connection[T]], first: int, has_previous: bool, order: Callable[[Edge[T]], Any]) -> Connection[T]:
    """One page from the pages of several groups (a customer and its branches), all in the
    same descending ``order`` whose key is also the edges' sort key."""
    edges = sorted((edge for page in pages for edge in page.edges), key=order, reverse=True)
    more = len(edges) > first or any(page.page_info.has_next_page for page in pages)
    totals = [page.total for page in pages]
    total = sum((t for t in totals if t is not None), Total()) if all(t is not None for t in totals) else None
    return connection_of(edges[:first], more, has_previous, total)
