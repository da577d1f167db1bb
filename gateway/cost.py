"""Query cost: how many objects an operation may return, computed before it runs.

Depth, token and alias limits do not stop ``users { nodes { teams { members { teams ... } } } }``:
27 tokens, yet each level multiplies the response by a team's size. As GitHub (node limit)
and Shopify (calculated cost) do, the gateway adds up, over the selection, the product of
the list sizes along each path, and refuses an operation whose cost is over
``FICHE_MAX_QUERY_COST`` with ``extensions: {code: "QUERY_TOO_COSTLY", cost, maxCost}``.

The rules:

- a scalar or enum costs 0; an object costs 1 plus its selection;
- a connection (a type with ``pageInfo`` and ``edges``/``nodes``, on a field with ``first``)
  costs 1 plus its selection, where ``edges`` and ``nodes`` hold ``first`` items (its
  default when absent, ``FICHE_DEFAULT_PAGE_SIZE``; never more than ``FICHE_MAX_PAGE_SIZE``);
- a plain list holds the size its field declares with :func:`list_size` (a bound the
  plugin enforces when writing, or an argument such as ``ids`` or ``first``); a list that
  declares nothing (the ``errors`` of a mutation payload) counts ``FICHE_MAX_PAGE_SIZE``;
- fragments (named or inline) and fields under ``@skip``/``@include`` count in full;
  introspection fields (``__schema``, ``__type``, ``__typename``) cost nothing.

An operation whose sizes come from variables (``first: $n``) cannot be costed by a
validation rule, which runs (and is cached) before variables are known: the rule costs
every other operation, and :class:`QueryCostCheck` costs those with their variable
values in ``on_execute``, before any resolver runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
)
from sqlalchemy import Select, select
from strawberry.extensions import SchemaExtension

from fiche.accounts.models import Organization
from fiche.errors import ErrorCode, UserErrors
from fiche.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["COST_KEY", "ListSize", "QueryCostCheck", "cost_rule", "ensure_room", "list_size", "operation_cost", "too_costly"]

COST_KEY = "fiche.list_size"
_BACKREF = "strawberry-definition"  # where Strawberry keeps a GraphQL field's StrawberryField


@dataclasses.dataclass(frozen=True, slots=True)
class ListSize:
    """How many items a list field returns at most.

    ``maximum`` is a bound the owner of the field makes true (checked when writing, or by
    the resolver); ``None`` means ``FICHE_MAX_PAGE_SIZE``. With ``argument``, the size is
    that argument's value (an Int) or length (a list), ``default`` when it is absent."""

    maximum: int | None = None
    argument: str | None = None
    default: int | None = None


def list_size(maximum: int | None = None, *, argument: str | None = None, default: int | None = None) -> dict[str, ListSize]:
    """Field metadata declaring a list's size for costing: ``strawberry.field(metadata=list_size(20))``."""
    return {COST_KEY: ListSize(maximum, argument, default)}


class _Unknown(Exception):
    """A size depends on a variable whose value is not known (validation)."""


@dataclasses.dataclass
class _Costing:
    schema: GraphQLSchema
    settings: Settings
    fragments: Mapping[str, FragmentDefinitionNode]
    definitions: Mapping[str, ValueNode | None]  # variable -> its default value
    variables: Mapping[str, Any] | None  # None: not known yet
    memo: dict[tuple[str, int | None], int] = dataclasses.field(default_factory=dict)

    def selection(self, selection_set: SelectionSetNode, parent: Any, page: int | None, visiting: frozenset[str]) -> int:
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(node, parent, page, visiting)
            elif isinstance(node, InlineFragmentNode):
                condition = self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                total += self.selection(node.selection_set, condition or parent, page, visiting)
            elif isinstance(node, FragmentSpreadNode):
                total += self.spread(node.name.value, page, visiting)
        return total

    def spread(self, name: str, page: int | None, visiting: frozenset[str]) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in visiting:
            return 0  # unknown or cyclic: other validation rules report it
        key = (name, page)
        if key not in self.memo:  # a fragment spread many times is costed once
            condition = self.schema.get_type(fragment.type_condition.name.value)
            self.memo[key] = self.selection(fragment.selection_set, condition, page, visiting | {name})
        return self.memo[key]

    def field(self, node: FieldNode, parent: Any, page: int | None, visiting: frozenset[str]) -> int:
        if node.name.value.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        field = parent.fields.get(node.name.value)
        if field is None:
            return 0
        named = get_named_type(field.type)
        if is_leaf_type(named):
            return 0
        if _is_connection(named) and "first" in field.args:
            size = self.size(node, field, "first", self.settings.default_page_size, self.settings.max_page_size)
            return 1 + self._children(node, named, size, visiting)
        per_item = 1 + self._children(node, named, None, visiting)
        if not _is_list(field.type):
            return per_item
        declared = _declared(field)
        if declared is not None:
            maximum = declared.maximum if declared.maximum is not None else self.settings.max_page_size
            if declared.argument is None:
                return maximum * per_item
            default = declared.default if declared.default is not None else maximum
            return self.size(node, field, declared.argument, default, maximum) * per_item
        return (page if page is not None else self.settings.max_page_size) * per_item

    def _children(self, node: FieldNode, named: Any, page: int | None, visiting: frozenset[str]) -> int:
        return self.selection(node.selection_set, named, page, visiting) if node.selection_set else 0

    def size(self, node: FieldNode, field: GraphQLField, argument: str, default: int, maximum: int) -> int:
        """The argument's size (capped at ``maximum``); ``default`` when absent or null."""
        given = next((arg.value for arg in node.arguments or () if arg.name.value == argument), None)
        value: Any = None
        if given is None:
            value = _argument_default(field, argument)
        else:
            value = self.value(given)
        if isinstance(value, bool):
            value = None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, list):
            value = len(value)
        if not isinstance(value, int):
            return min(default, maximum)
        return max(0, min(value, maximum))

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            name = node.name.value
            if self.variables is None:
                raise _Unknown(name)
            if name in self.variables:
                return self.variables[name]
            default = self.definitions.get(name)
            return self.value(default) if default is not None else None
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return list(node.values)
        if isinstance(node, NullValueNode):
            return None
        return None


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _argument_default(field: GraphQLField, argument: str) -> Any:
    arg = field.args.get(argument)
    if arg is None:
        return None
    value = arg.default.value if arg.default is not None else arg.default_value
    return value if isinstance(value, int | list) else None


def _is_connection(named: Any) -> bool:
    fields = getattr(named, "fields", None)
    return isinstance(named, GraphQLObjectType) and fields is not None and "pageInfo" in fields and ("edges" in fields or "nodes" in fields)


def _declared(field: GraphQLField) -> ListSize | None:
    definition = (field.extensions or {}).get(_BACKREF)
    declared = (getattr(definition, "metadata", None) or {}).get(COST_KEY)
    return declared if isinstance(declared, ListSize) else None


def operation_cost(
    schema: GraphQLSchema,
    settings: Settings,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of ``operation``; ``_Unknown`` when it depends on a variable and
    ``variables`` is None."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    definitions = {definition.variable.name.value: definition.default_value for definition in operation.variable_definitions or ()}
    costing = _Costing(schema, settings, fragments, definitions, variables)
    return costing.selection(operation.selection_set, root, None, frozenset())


# The largest integer a JSON client (JavaScript's Number) reads exactly; a deeper query's
# cost, which grows without bound, is reported as this ceiling.
MAX_REPORTED_COST = 2**53 - 1


def too_costly(cost: int, settings: Settings, nodes: Any = None) -> GraphQLError:
    reported = min(cost, MAX_REPORTED_COST)
    amount = f"{reported}" if cost == reported else f"more than {reported}"
    return GraphQLError(
        f"The query costs {amount} (the most objects it may return), over the limit of {settings.max_query_cost}: "
        "ask for smaller pages (`first`) or fewer nested lists.",
        nodes,
        extensions={"code": "QUERY_TOO_COSTLY", "cost": reported, "maxCost": settings.max_query_cost},
    )


def cost_rule(settings: Settings) -> type[ValidationRule]:
    """The validation rule refusing costly operations, built once per schema (so the
    validation cache, keyed by the rules, keeps hitting)."""

    class QueryCostRule(ValidationRule):
        def enter_document(self, node: Any, *_args: Any) -> None:
            document = self.context.document
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                try:
                    cost = operation_cost(self.context.schema, settings, definition, fragments, None)
                except _Unknown:
                    continue  # costed with its variables by QueryCostCheck
                if cost > settings.max_query_cost:
                    self.report_error(too_costly(cost, settings, definition))

    return QueryCostRule


# (schema, document, operation name) -> (the document, whether the cost depends on variable
# values): the parse cache hands the same document object to every repeat of a query text,
# and most operations with variables take no list size from them (`customer(id: $id)`),
# so their cost, checked by validation (cached too), need not be computed again per request.
_VARIABLE_COST: dict[tuple[int, int, str | None], tuple[Any, bool]] = {}
_VARIABLE_COST_MAX = 512


class QueryCostCheck(SchemaExtension):
    """Costs an operation that uses variables with their values, before any resolver runs."""

    def __init__(self, *, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document is not None else None
        if document is not None and operation is not None and operation.variable_definitions:
            schema = context.schema._schema
            key = (id(schema), id(document), context.operation_name)
            known = _VARIABLE_COST.get(key)
            if known is not None and known[0] is not document:
                known = None  # another document at a reused address
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)} if known is None or known[1] else {}
            if known is None:
                try:
                    operation_cost(schema, self.settings, operation, fragments, None)
                    depends = False  # the validation rule costed it, without variables
                except _Unknown:
                    depends = True
                if len(_VARIABLE_COST) >= _VARIABLE_COST_MAX:
                    _VARIABLE_COST.clear()
                _VARIABLE_COST[key] = known = (document, depends)
            if known[1]:
                cost = operation_cost(schema, self.settings, operation, fragments, context.variables or {})
                if cost > self.settings.max_query_cost:
                    raise too_costly(cost, self.settings, operation)
        yield


async def ensure_room(
    session: AsyncSession,
    count: Select[Any],
    maximum: int,
    message: str,
    *path: str,
    adding: int = 1,
    lock: Select[Any] | None = None,
) -> None:
    """Keep a declared :func:`list_size` true: LIMIT_EXCEEDED when the rows ``count``
    counts, plus ``adding``, would be more than ``maximum``.

    ``lock`` (a ``SELECT ... FOR UPDATE`` of the list's owner; the session's organisation
    by default) makes two concurrent writers count one after the other on PostgreSQL;
    SQLite runs one writer at a time anyway."""
    if adding <= 0:
        return
    if lock is None:
        lock = select(Organization.id).where(Organization.id == session.info.get("organization_id")).with_for_update()
    await session.execute(lock)
    current = int(await session.scalar(count) or 0)
    if current + adding > maximum:
        raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, message, *path)
