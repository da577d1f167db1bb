"""The breadth-first executor: each field of a selection is resolved once for all the
objects at its position, not once per object.

graphql-core completes a response object by object: a resolve info, a path, an awaitable
check and a leaf completion for each of the ~14,000 fields of the heavy query. Here a
selection position holds a list of parents; a plain attribute field is read with one
getter over the list, a batch field (:mod:`fiche.execution.batch`) is called once, a
field with only a per-object resolver is called per object with its own ``info``; leaves
are coerced in a tight loop and objects are built as plain dicts, in the operation's
field order (aliases and merged fields come from graphql-core's own field collection).

Errors are rare, so the happy path carries no error bookkeeping: a failure marks its
slot (``Failed``) and sets a flag; only then do the wrappers look for marked slots, turn
non-null violations into ``Propagate`` markers that bubble to the nearest nullable
position, and replay the errors, in discovery order, into graphql-core's
``CollectedErrors`` (so an error below an already-nulled position is dropped as
graphql-core drops it).

The class plugs into Strawberry's pipeline as ``execution_context_class``: parsing,
validation, extensions and masking are unchanged. Operations it does not cover
(introspection root fields, ``@defer``, resolver middleware, disabled error propagation)
go to graphql-core's executor and are counted in :data:`FALLBACKS`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Sequence
from itertools import accumulate, chain, repeat
from operator import attrgetter
from typing import Any, cast

import orjson
from graphql import GraphQLError, located_error
from graphql.execution.collect_fields import DeferUsage, FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import invalid_return_type_error
from graphql.execution.values import get_argument_values
from graphql.language import FieldNode
from graphql.pyutils import Undefined, inspect, is_iterable
from graphql.type import (
    GraphQLAbstractType,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInterfaceType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    GraphQLUnionType,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.types.base_scalars import isoformat as strawberry_isoformat
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import PARENT_PARAMSPEC, StrawberryResolver

from fiche.execution.batch import BatchFunction, batch_form
from fiche.execution.positions import ROOT, Failed, FieldSpots, ItemSpots, Propagate, Record, Spots, Subset

__all__ = ["FALLBACKS", "BreadthFirstExecutor"]

# Operations handed to graphql-core's executor, by reason. Read by tests; kept rare.
FALLBACKS: Counter[str] = Counter()

_INTROSPECTION_ROOT_FIELDS = frozenset({"__schema", "__type"})
# Built-in leaves whose output coercion returns a value of this Python type as it is.
_NATIVE_LEAVES: dict[GraphQLLeafType, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}
# Leaf types whose output coercion never answers Undefined (it raises instead).
# (Strawberry's own DateTime, Date, Time, Decimal and UUID serialise to a string or raise.)
_TRUSTED_LEAVES = frozenset({"String", "ID", "Int", "Float", "Boolean", "DateTime", "Date", "Time", "Decimal", "UUID"})
# Values orjson writes exactly as their ``isoformat()`` (Strawberry's DateTime and Date
# serialisation): dates, and datetimes naive or in UTC (tests/gateway/test_execution.py).
_ISO_KINDS = frozenset({dt.datetime, dt.date, type(None)})
_ISO_ZONES = frozenset({id(None), id(dt.UTC)})
_TZINFO = attrgetter("tzinfo")
_DATETIMES = {dt.datetime}

# How a field's values are produced.
_TYPENAME, _ATTRIBUTE, _METHOD, _BATCH, _RESOLVE = range(5)


# Accepted classes of a type whose is_type_of is not Strawberry's own: none, ever.
_NEVER: set[type] = set()
_NONE = type(None)
_LISTS = {list}


def _isoformat_column(values: list[Any]) -> list[Any] | None:
    """``[value.isoformat() ...]`` (None kept) in two C calls, or None when a value is not
    a date, a naive datetime or a UTC datetime. ``isoformat`` costs ~1.2 µs a value, and a
    heavy page has ~2,500 of them; orjson writes the same text ten times faster."""
    kinds = set(map(type, values))
    if not _ISO_KINDS.issuperset(kinds):
        return None
    datetimes = values if kinds == _DATETIMES else [value for value in values if type(value) is dt.datetime]
    if not _ISO_ZONES.issuperset(map(id, map(_TZINFO, datetimes))):  # by identity: some tzinfo are unhashable
        return None
    completed: list[Any] = orjson.loads(orjson.dumps(values))
    return completed


@functools.lru_cache(maxsize=1024)
def _row_builder(names: tuple[str, ...]) -> Callable[..., dict[str, Any]]:
    """A function of one value per name that answers ``{name: value, ...}``, in order.

    A response object built by a dict display is three to four times cheaper than
    ``dict(zip(names, row))`` over the rows of a column set (the heavy page builds ~3,500
    of them). ``names`` are response keys, GraphQL names the parser checked
    (``[_A-Za-z][_0-9A-Za-z]*``), written here as string literals by ``repr``; the
    parameters are positional ``_0``, ``_1``, ... so no name can clash with them."""
    parameters = ", ".join(f"_{index}" for index in range(len(names)))
    entries = ", ".join(f"{name!r}: _{index}" for index, name in enumerate(names))
    builder: Callable[..., dict[str, Any]] = eval(f"lambda {parameters}: {{{entries}}}", {"__builtins__": {}})  # noqa: S307
    return builder


class _Field:
    """What the executor needs to know about one response key of a selection set."""

    __slots__ = (
        "args",
        "args_error",
        "batch",
        "definition",
        "details",
        "field_name",
        "getter",
        "kind",
        "name",
        "nodes",
        "non_null",
        "resolve",
        "strawberry_field",
        "type",
    )

    def __init__(self, name: str, details: FieldDetailsList, definition: GraphQLField) -> None:
        self.name = name
        self.details = details
        self.nodes: list[FieldNode] = [detail.node for detail in details]
        self.field_name = self.nodes[0].name.value
        self.definition = definition
        self.type: GraphQLOutputType = definition.type
        self.non_null = isinstance(definition.type, GraphQLNonNull)
        self.kind = _RESOLVE
        self.getter: Any = None
        self.batch: BatchFunction | None = None
        self.resolve: Any = definition.resolve
        self.strawberry_field: StrawberryField | None = None
        self.args: dict[str, Any] = {}
        self.args_error: Exception | None = None


class BreadthFirstExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with breadth-first execution of covered operations."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Shared (not copied) with each subscription event's executor: the plan of a
        # subscription is made once and reused for every event.
        self._plans: dict[Hashable, tuple[GroupedFieldSet, list[_Field]]] = {}
        self._records: list[Record] = []
        self._failed = False
        self._accepted: dict[str, set[type]] = {}

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = cast("BreadthFirstExecutor", super().build_per_event_executor(payload))
        executor._records = []
        executor._failed = False
        return executor

    # -- entry -------------------------------------------------------------------------

    def _fallback_reason(self, root_type: GraphQLObjectType, grouped: GroupedFieldSet, defers: Sequence[DeferUsage]) -> str | None:
        if defers:
            return "defer"
        if not self.error_propagation:
            return "error-propagation-disabled"
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return "middleware"
        if self.abort_signal is not None:
            return "abort-signal"
        if any(details[0].node.name.value in _INTROSPECTION_ROOT_FIELDS for details in grouped.values()):
            return "introspection"
        return None

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[DeferUsage],
    ) -> Any:
        reason = self._fallback_reason(root_type, grouped_field_set, new_defer_usages)
        if reason is not None:
            FALLBACKS[reason] += 1
            return super().execute_collected_root_fields(root_type, root_value, grouped_field_set, serially, new_defer_usages)
        return self._execute_root(root_type, root_value, grouped_field_set, serially)

    async def _execute_root(self, root_type: GraphQLObjectType, root_value: Any, grouped: GroupedFieldSet, serially: bool) -> dict[str, Any] | None:
        data: dict[str, Any] | None
        if serially:
            # Mutation root fields run one at a time, in document order; a non-null
            # failure stops the rest, as in graphql-core.
            data = {}
            for name, details in grouped.items():
                (row,) = await self._level(root_type, [root_value], ROOT, {name: details}, root=True)
                if type(row) is Propagate:
                    data = None
                    break
                data.update(row)
        else:
            (row,) = await self._level(root_type, [root_value], ROOT, grouped, root=True)
            data = None if type(row) is Propagate else row
        for record in self._records:
            self.collected_errors.add(record.error, record.position)
        return data

    # -- plans -------------------------------------------------------------------------

    def _plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet, root: bool = False) -> list[_Field]:
        # Below the root, graphql-core memoises field collection, so a selection set is
        # the same dict every time. The root fields are collected again for each
        # subscription event: their plan is keyed by the document's nodes instead, and
        # keeps the first collection, so the memo below the root hits on later events.
        key: Hashable = (
            (parent_type.name, tuple((name, id(details[0].node)) for name, details in grouped.items()))
            if root
            else (parent_type.name, id(grouped))
        )
        cached = self._plans.get(key)
        if cached is not None and (root or cached[0] is grouped):
            return cached[1]
        fields = []
        for name, details in grouped.items():
            definition = self.schema.get_field(parent_type, details[0].node.name.value)
            if definition is None:
                continue  # validation makes this unreachable; graphql-core skips it too
            fields.append(self._plan_field(parent_type, name, details, definition))
        self._plans[key] = (grouped, fields)
        return fields

    def _plan_field(self, parent_type: GraphQLObjectType, name: str, details: FieldDetailsList, definition: GraphQLField) -> _Field:
        field = _Field(name, details, definition)
        node = details[0].node
        if field.field_name == "__typename":
            field.kind = _TYPENAME
            return field
        try:
            if definition.args or node.arguments:
                field.args = get_argument_values(
                    definition, node, self.variable_values, details[0].fragment_variable_values, self.hide_suggestions
                )
        except Exception as error:  # an argument that cannot be coerced fails every slot
            field.args_error = error
        strawberry_field = definition.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if field.resolve is None:
            field.resolve = self.field_resolver
        elif isinstance(strawberry_field, StrawberryField):
            field.strawberry_field = strawberry_field
            resolve_name = getattr(field.resolve, "__name__", "")
            if strawberry_field.is_basic_field and resolve_name == "_get_basic_result":
                field.kind = _ATTRIBUTE
                default = strawberry_field.default_resolver
                python_name = strawberry_field.python_name
                field.getter = attrgetter(python_name) if default is getattr else (lambda source: default(source, python_name))
            elif not strawberry_field.extensions and (batch := batch_form(strawberry_field)) is not None:
                field.kind = _BATCH
                field.batch = batch
            elif self._plain_method(strawberry_field, resolve_name):
                field.kind = _METHOD
                field.getter = cast("StrawberryResolver[Any]", strawberry_field.base_resolver).wrapped_func
        return field

    def _plain_method(self, strawberry_field: StrawberryField, resolve_name: str) -> bool:
        """A resolver that takes only ``self`` (``Connection.nodes``, ``Note.isDone``, ...):
        Strawberry's wrapper would build an ``Info`` and convert no arguments, then call
        ``resolver(source)``; calling it directly per source is the same call."""
        resolver = strawberry_field.base_resolver
        if resolver is None or strawberry_field.extensions or resolve_name not in ("_resolver", "_async_resolver"):
            return False
        if isinstance(resolver.wrapped_func, staticmethod | classmethod):
            return False
        if self.schema._strawberry_schema.exception_handlers:  # type: ignore[attr-defined]
            return False  # a handler might turn an exception into a value
        reserved = resolver.reserved_parameters
        return (
            resolver.self_parameter is not None
            and not resolver.arguments
            and resolver.info_parameter is None
            and resolver.root_parameter is None
            and reserved.get(PARENT_PARAMSPEC) is None
            and len(resolver.signature.parameters) == 1
        )

    # -- one selection position --------------------------------------------------------

    async def _level(
        self, parent_type: GraphQLObjectType, sources: list[Any], parents: Spots, grouped: GroupedFieldSet, root: bool = False
    ) -> list[Any]:
        """The completed response objects of ``sources`` (or ``Propagate``) for ``grouped``."""
        fields = self._plan(parent_type, grouped, root)
        if not fields:
            return [{} for _ in sources]
        columns: list[Any] = []
        pending: list[tuple[int, Awaitable[list[Any]]]] = []
        for index, field in enumerate(fields):
            column = self._column(parent_type, field, sources, parents)
            if isinstance(column, list):
                columns.append(column)
            else:
                columns.append(None)
                pending.append((index, column))
        if len(pending) == 1:
            index, awaitable = pending[0]
            columns[index] = await awaitable
        elif pending:
            done = await asyncio.gather(*(awaitable for _, awaitable in pending))
            for (index, _), column in zip(pending, done, strict=True):
                columns[index] = column
        rows: list[Any] = list(map(_row_builder(tuple(field.name for field in fields)), *columns))
        if self._failed:
            for field, column in zip(fields, columns, strict=True):
                if field.non_null:
                    for index, value in enumerate(column):
                        if type(value) is Propagate:
                            row = rows[index]
                            rows[index] = Propagate(row.records + value.records) if type(row) is Propagate else value
        return rows

    def _column(self, parent_type: GraphQLObjectType, field: _Field, sources: list[Any], parents: Spots) -> list[Any] | Awaitable[list[Any]]:
        """The completed values of ``field`` for every source: a list, or an awaitable."""
        spots = FieldSpots(parents, field.name, parent_type.name)
        kind = field.kind
        if kind is _TYPENAME:
            return [parent_type.name] * len(sources)
        if field.args_error is not None:
            error = field.args_error
            return self._complete(field, parent_type, [self._fail(error, field, spots, index) for index in range(len(sources))], spots)
        if kind is _ATTRIBUTE:
            return self._complete(field, parent_type, self._read(field, sources, spots), spots)
        if kind is _METHOD:
            values = self._call_methods(field, sources, spots)
            if any(map(self.is_awaitable, values)):
                return self._await_and_complete(parent_type, field, values, spots)
            return self._complete(field, parent_type, values, spots)
        return self._resolve_and_complete(parent_type, field, sources, spots)

    async def _resolve_and_complete(self, parent_type: GraphQLObjectType, field: _Field, sources: list[Any], spots: FieldSpots) -> list[Any]:
        if field.kind is _BATCH:
            values = await self._call_batch(parent_type, field, sources, spots)
        else:
            values = await self._call_per_object(parent_type, field, sources, spots)
        completed = self._complete(field, parent_type, values, spots)
        return completed if isinstance(completed, list) else await completed

    def _call_methods(self, field: _Field, sources: list[Any], spots: Spots) -> list[Any]:
        method = field.getter
        try:
            return list(map(method, sources))
        except Exception:
            values = []
            for index, source in enumerate(sources):
                try:
                    values.append(method(source))
                except Exception as error:
                    values.append(self._fail(error, field, spots, index))
            return values

    async def _await_and_complete(self, parent_type: GraphQLObjectType, field: _Field, values: list[Any], spots: Spots) -> list[Any]:
        waiting = [index for index, value in enumerate(values) if self.is_awaitable(value)]
        results = await asyncio.gather(*(values[index] for index in waiting), return_exceptions=True)
        for index, result in zip(waiting, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
            values[index] = self._fail(result, field, spots, index) if isinstance(result, Exception) else result
        completed = self._complete(field, parent_type, values, spots)
        return completed if isinstance(completed, list) else await completed

    def _read(self, field: _Field, sources: list[Any], spots: Spots) -> list[Any]:
        getter = field.getter
        try:
            return list(map(getter, sources))
        except Exception:
            values = []
            for index, source in enumerate(sources):
                try:
                    values.append(getter(source))
                except Exception as error:
                    values.append(self._fail(error, field, spots, index))
            return values

    async def _call_per_object(self, parent_type: GraphQLObjectType, field: _Field, sources: list[Any], spots: FieldSpots) -> list[Any]:
        resolve, definition, nodes, args = field.resolve, field.definition, field.nodes, field.args
        is_awaitable = self.is_awaitable
        values: list[Any] = []
        waiting: list[int] = []
        awaitables: list[Any] = []
        for index, source in enumerate(sources):
            info = self.build_resolve_info(definition, nodes, parent_type, spots.at(index))
            try:
                value = resolve(source, info, **args)
            except Exception as error:
                value = self._fail(error, field, spots, index)
            else:
                if is_awaitable(value):
                    waiting.append(index)
                    awaitables.append(value)
            values.append(value)
        if len(awaitables) == 1:
            index = waiting[0]
            try:
                values[index] = await awaitables[0]
            except Exception as error:
                values[index] = self._fail(error, field, spots, index)
        elif awaitables:
            results = await asyncio.gather(*awaitables, return_exceptions=True)
            for index, result in zip(waiting, results, strict=True):
                if isinstance(result, BaseException) and not isinstance(result, Exception):
                    raise result
                values[index] = result
        return values

    async def _call_batch(self, parent_type: GraphQLObjectType, field: _Field, sources: list[Any], spots: FieldSpots) -> list[Any]:
        batch = cast("BatchFunction", field.batch)
        strawberry_field = cast("StrawberryField", field.strawberry_field)
        strawberry_schema = self.schema._strawberry_schema  # type: ignore[attr-defined]
        raw_info = self.build_resolve_info(field.definition, field.nodes, parent_type, spots.at(0))
        info = strawberry_schema.config.info_class(_raw_info=raw_info, _field=strawberry_field)
        try:
            kwargs = convert_arguments(
                field.args,
                strawberry_field.arguments,
                scalar_registry=strawberry_schema.schema_converter.scalar_registry,
                config=strawberry_schema.config,
                info=info,
            )
            values = list(await batch(sources, info, **kwargs))
            if len(values) != len(sources):
                raise TypeError(f"the batch resolver of {parent_type.name}.{field.field_name} returned {len(values)} values for {len(sources)} parents")
        except Exception as error:
            return [self._fail(error, field, spots, index) for index in range(len(sources))]
        return values

    # -- errors ------------------------------------------------------------------------

    def _fail(self, error: Exception, field: _Field, spots: Spots, index: int) -> Failed:
        self._failed = True
        located = located_error(error, field.nodes, spots.at(index).as_list())
        record = Record(located)
        self._records.append(record)
        return Failed(record)

    def _settle(self, field: _Field, parent_type: GraphQLObjectType, values: list[Any], spots: Spots, non_null: bool) -> list[Any]:
        """Turn failed slots and travelling nulls into the nulls the slot's type allows."""
        if self._failed:
            for index, value in enumerate(values):
                kind = type(value)
                if kind is Failed:
                    if non_null:
                        values[index] = Propagate([value.record])
                    else:
                        value.record.position = spots.at(index)
                        values[index] = None
                elif kind is Propagate and not non_null:
                    position = spots.at(index)
                    for record in value.records:
                        record.position = position
                    values[index] = None
        if non_null and None in values:
            message = f"Cannot return null for non-nullable field {parent_type.name}.{field.field_name}."
            for index, value in enumerate(values):
                if value is None:
                    values[index] = Propagate([self._fail(TypeError(message), field, spots, index).record])
        return values

    # -- completion --------------------------------------------------------------------

    def _complete(self, field: _Field, parent_type: GraphQLObjectType, values: list[Any], spots: Spots, type_: GraphQLOutputType | None = None) -> list[Any] | Awaitable[list[Any]]:
        """Complete ``values`` (one per slot) as ``type_`` (the field's type by default)."""
        type_ = field.type if type_ is None else type_
        non_null = isinstance(type_, GraphQLNonNull)
        inner = cast("GraphQLOutputType", type_.of_type) if isinstance(type_, GraphQLNonNull) else type_
        completed = self._complete_nullable(field, parent_type, values, spots, inner)
        if isinstance(completed, list):
            return self._settle(field, parent_type, completed, spots, non_null)

        async def settle_later() -> list[Any]:
            return self._settle(field, parent_type, await completed, spots, non_null)

        return settle_later()

    def _complete_nullable(self, field: _Field, parent_type: GraphQLObjectType, values: list[Any], spots: Spots, type_: GraphQLOutputType) -> list[Any] | Awaitable[list[Any]]:
        if isinstance(type_, GraphQLList):
            return self._complete_list(field, parent_type, values, spots, type_)
        if isinstance(type_, GraphQLObjectType):
            return self._complete_objects(field, parent_type, values, spots, type_)
        if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
            return self._complete_abstract(field, parent_type, values, spots, type_)
        return self._complete_leaves(field, values, spots, cast("GraphQLLeafType", type_))

    def _complete_leaves(self, field: _Field, values: list[Any], spots: Spots, type_: GraphQLLeafType) -> list[Any]:
        coerce = type_.coerce_output_value
        if not self._failed:
            native = _NATIVE_LEAVES.get(type_)
            if native is not None:
                # graphql-core's coercion returns a value of the native type unchanged:
                # skip the call for those, coerce the others (an int as ID, ...).
                kinds = set(map(type, values))
                kinds.discard(_NONE)
                if not kinds or kinds == {native}:
                    return values
                try:
                    completed = [value if type(value) is native or value is None else coerce(value) for value in values]
                except Exception:
                    pass
                else:
                    if completed.count(None) == values.count(None):
                        return completed
            elif coerce is strawberry_isoformat and (written := _isoformat_column(values)) is not None:
                return written
            else:
                try:
                    completed = [None if value is None else coerce(value) for value in values]
                except Exception:
                    pass
                else:
                    if completed.count(None) == values.count(None) and (type_.name in _TRUSTED_LEAVES or not any(item is Undefined for item in completed)):
                        return completed
        completed = []
        for index, value in enumerate(values):
            if value is None or type(value) is Failed:
                completed.append(value)
                continue
            try:
                if isinstance(value, Exception):
                    raise value
                coerced = coerce(value)
                if coerced is Undefined or coerced is None:
                    raise TypeError(
                        f"Expected `{inspect(type_)}.coerce_output_value({inspect(value)})` to return non-nullable value,"
                        f" returned: {inspect(coerced)}"
                    )
            except Exception as error:
                completed.append(self._fail(error, field, spots, index))
            else:
                completed.append(coerced)
        return completed

    def _complete_list(self, field: _Field, parent_type: GraphQLObjectType, values: list[Any], spots: Spots, type_: GraphQLList[Any]) -> list[Any] | Awaitable[list[Any]]:
        if set(map(type, values)) == _LISTS:
            return self._complete_plain_lists(field, parent_type, values, spots, type_)
        items: list[Any] = []
        starts: list[int] = []
        owners: list[int] = []
        bounds: list[tuple[int, int] | None] = []
        for index, value in enumerate(values):
            if value is None or type(value) is Failed:
                bounds.append(None)
                continue
            if isinstance(value, Exception) or not is_iterable(value):
                error = value if isinstance(value, Exception) else GraphQLError(
                    f"Expected Iterable, but did not find one for field '{parent_type.name}.{field.field_name}'."
                )
                values[index] = self._fail(error, field, spots, index)
                bounds.append(None)
                continue
            start = len(items)
            items.extend(value)
            if len(items) > start:
                starts.append(start)
                owners.append(index)
            bounds.append((start, len(items)))
        item_spots = ItemSpots(spots, starts, owners)
        completed = self._complete(field, parent_type, items, item_spots, type_.of_type)
        if isinstance(completed, list):
            return self._regroup(values, bounds, completed)

        async def regroup_later() -> list[Any]:
            return self._regroup(values, bounds, await completed)

        return regroup_later()

    def _complete_plain_lists(self, field: _Field, parent_type: GraphQLObjectType, values: list[list[Any]], spots: Spots, type_: GraphQLList[Any]) -> list[Any] | Awaitable[list[Any]]:
        """:meth:`_complete_list` when every value is a ``list`` (no null, no failure):
        the items are flattened, completed once, and cut back into lists."""
        lengths = list(map(len, values))
        ends = list(accumulate(lengths))
        bounds: list[tuple[int, int] | None] = [(end - length, end) for end, length in zip(ends, lengths, strict=True)]
        owners = [index for index, length in enumerate(lengths) if length]
        starts = [ends[index] - lengths[index] for index in owners]
        items = list(chain.from_iterable(values))
        completed = self._complete(field, parent_type, items, ItemSpots(spots, starts, owners), type_.of_type)
        if isinstance(completed, list):
            return self._regroup(cast("list[Any]", values), bounds, completed)

        async def regroup_later() -> list[Any]:
            return self._regroup(cast("list[Any]", values), bounds, await completed)

        return regroup_later()

    def _regroup(self, values: list[Any], bounds: list[tuple[int, int] | None], items: list[Any]) -> list[Any]:
        lists: list[Any] = [value if bound is None else items[bound[0] : bound[1]] for value, bound in zip(values, bounds, strict=True)]
        if self._failed:
            for index, value in enumerate(lists):
                if type(value) is list:
                    travelling = [record for item in value if type(item) is Propagate for record in item.records]
                    if travelling:
                        lists[index] = Propagate(travelling)
        return lists

    async def _complete_objects(self, field: _Field, parent_type: GraphQLObjectType, values: list[Any], spots: Spots, type_: GraphQLObjectType) -> list[Any]:
        nulls = self._plain_objects(field, parent_type, values, spots, type_) if values else None
        if nulls is not None:
            # Every value is null or an object of a class already accepted for the type
            # (the usual case after the first slot): one level below, no check per value.
            grouped = self.collect_subfields(type_, field.details).grouped_field_set
            if not nulls:
                return await self._level(type_, values, spots, grouped)
            present = [index for index, value in enumerate(values) if value is not None]
            if present:
                rows = await self._level(type_, [values[index] for index in present], Subset(spots, present), grouped)
                for index, row in zip(present, rows, strict=True):
                    values[index] = row
            return values
        is_type_of = type_.is_type_of
        info = self.build_resolve_info(field.definition, field.nodes, parent_type, spots.at(0)) if is_type_of and values else None
        objects: list[Any] = []
        slots: list[int] = []
        # Strawberry's own is_type_of depends only on the class of an object that was not
        # cast (strawberry.cast): a class it accepted once is accepted for the operation.
        accepted = self._accepted_classes(type_)
        for index, value in enumerate(values):
            if value is None or type(value) is Failed:
                continue
            if is_type_of is not None and not (type(value) in accepted and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None):
                try:
                    if isinstance(value, Exception):
                        raise value
                    if not is_type_of(value, cast("GraphQLResolveInfo", info)):
                        raise invalid_return_type_error(type_, value, field.details)
                except Exception as error:
                    values[index] = self._fail(error, field, spots, index)
                    continue
                if accepted is not _NEVER and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None:
                    accepted.add(type(value))
            elif isinstance(value, Exception):
                values[index] = self._fail(value, field, spots, index)
                continue
            objects.append(value)
            slots.append(index)
        if not objects:
            return values
        grouped = self.collect_subfields(type_, field.details).grouped_field_set
        rows = await self._level(type_, objects, Subset(spots, slots), grouped)
        for index, row in zip(slots, rows, strict=True):
            values[index] = row
        return values

    def _plain_objects(self, field: _Field, parent_type: GraphQLObjectType, values: list[Any], spots: Spots, type_: GraphQLObjectType) -> bool | None:
        """Whether some values are null (True) or none (False) when every other value is
        an object that needs no check of its own: it was not cast (strawberry.cast) to a
        type and its class is accepted for ``type_`` (or the type checks nothing); None
        when a value needs checking. A class not seen yet is put to ``is_type_of`` once,
        with its first object (Strawberry's answer depends on the class alone)."""
        classes = set(map(type, values))
        nulls = _NONE in classes
        classes.discard(_NONE)
        if any(map(getattr, values, repeat(TYPE_CAST_ATTRIBUTE), repeat(None))):
            return None
        is_type_of = type_.is_type_of
        if is_type_of is None:
            if any(kind is Failed or issubclass(kind, Exception) for kind in classes):
                return None
            return nulls
        accepted = self._accepted_classes(type_)
        if accepted is _NEVER:
            return None
        for kind in classes - accepted:
            if kind is Failed or issubclass(kind, Exception):
                return None
            index = next(index for index, value in enumerate(values) if type(value) is kind)
            info = self.build_resolve_info(field.definition, field.nodes, parent_type, spots.at(index))
            try:
                if is_type_of(values[index], info) is not True:
                    return None
            except Exception:
                return None  # the per-value path reports it
            accepted.add(kind)
        return nulls

    def _accepted_classes(self, type_: GraphQLObjectType) -> set[type]:
        """The classes ``type_``'s is_type_of accepted so far; :data:`_NEVER` when the
        type's is_type_of is its own (it may look at more than the class)."""
        accepted = self._accepted.get(type_.name)
        if accepted is None:
            definition = type_.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            own = getattr(definition, "is_type_of", True)
            accepted = self._accepted[type_.name] = set() if own is None else _NEVER
        return accepted

    async def _complete_abstract(self, field: _Field, parent_type: GraphQLObjectType, values: list[Any], spots: Spots, type_: GraphQLAbstractType) -> list[Any]:
        resolve_type = type_.resolve_type or self.type_resolver
        info: GraphQLResolveInfo | None = None
        by_type: dict[str, tuple[GraphQLObjectType, list[int]]] = {}
        for index, value in enumerate(values):
            if value is None or type(value) is Failed:
                continue
            if info is None:
                info = self.build_resolve_info(field.definition, field.nodes, parent_type, spots.at(index))
            try:
                if isinstance(value, Exception):
                    raise value
                name = resolve_type(value, info, type_)
                if self.is_awaitable(name):
                    name = await name
                runtime_type = self.ensure_valid_runtime_type(name, type_, field.details, info, value)
            except Exception as error:
                values[index] = self._fail(error, field, spots, index)
                continue
            by_type.setdefault(runtime_type.name, (runtime_type, []))[1].append(index)
        groups = list(by_type.values())
        completions = [
            self._complete_objects(field, parent_type, [values[index] for index in slots], Subset(spots, slots), runtime_type)
            for runtime_type, slots in groups
        ]
        for (_, slots), completed in zip(groups, await asyncio.gather(*completions), strict=True):
            for index, value in zip(slots, completed, strict=True):
                values[index] = value
        return values

