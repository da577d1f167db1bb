"""The ``notifications`` subscription's selection compiled into a projection.

A document that subscribes to ``notifications`` alone, whose selection the projection
covers, is compiled once per (document, operation name) and planned once per variable
values: its fields collected as GraphQL collects them (aliases, named and inline fragments
on ``Notification`` and ``Node``, ``@skip`` / ``@include``, merged repeats) into a list of
``(response key, how to read it)``. :meth:`Projection.project` then turns the records of a
whole group of subscriptions into the plain dicts GraphQL would have answered, with one
loader batch for the nested ``actor`` of them all.

Everything else (another root field, ``target`` / ``subject``, ``actor { teams }``, a
variable of the wrong type, a document any check refuses) is not compiled: such a
subscription runs through Strawberry as before, and the refusal there is the exact one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    parse,
    specified_rules,
    validate,
)
from graphql.language import BooleanValueNode, NullValueNode, StringValueNode
from graphql.utilities import get_operation_ast
from strawberry.extensions import AddValidationRules

from fiche.cost import operation_cost
from fiche.persisted import DocumentRefused
from fiche.relay import encode_id

if TYPE_CHECKING:
    from fiche.context import OperationContext
    from fiche.notifications.service import NotificationRecord

__all__ = ["Plan", "Projection", "compile_plan"]

ROOT_FIELD = "notifications"
_NOTIFICATION_TYPES = frozenset({"Notification", "Node"})
_USER_TYPES = frozenset({"User", "Node"})
_CACHE_SIZE = 512


_encode_id = encode_id.__wrapped__


def _iso(value: Any) -> Any:
    return None if value is None else value.isoformat()


# Notification's leaves: how each is read from a NotificationRecord.
_NOTIFICATION_LEAVES: dict[str, Callable[[NotificationRecord], Any]] = {
    "__typename": lambda record: "Notification",
    # Not through encode_id's cache: each recipient's notification has an id of its own,
    # and ten thousand of them at once would only push out the ids that recur (users).
    "id": lambda record: _encode_id("Notification", record.id),
    "kind": lambda record: record.kind,
    "message": lambda record: record.message,
    "link": lambda record: record.link,
    "createdAt": lambda record: record.created_at.isoformat(),
    "readAt": lambda record: _iso(record.read_at),
    "read": lambda record: record.read_at is not None,
}
# The leaves that differ between the recipients of one event (each has a row of its own);
# every other leaf reads only what the event's recipients share (:func:`_event_key`).
_PER_RECIPIENT_LEAVES = frozenset({"id"})


def _event_key(record: NotificationRecord) -> tuple[Any, ...]:
    """What the shared leaves (and ``actor``) read of a record: equal for the recipients of
    one event, so that their JSON is made once for them all."""
    return (record.kind, record.message, record.link, record.created_at, record.read_at, record.actor_id)

# User's leaves (fiche.accounts.types.User), read from what ``users_by_id`` loads.
_USER_LEAVES: dict[str, Callable[[Any], Any]] = {
    "__typename": lambda user: "User",
    "id": lambda user: user.id,
    "name": lambda user: user.name,
    "handle": lambda user: user.handle,
    "email": lambda user: user.email,
    "role": lambda user: user.role.name,
    "isActive": lambda user: user.is_active,
}


class Unsupported(Exception):
    """The selection holds something the projection does not cover."""


class Plan:
    """A compiled ``notifications`` subscription document (one per document text)."""

    __slots__ = ("_projections", "document", "fragments", "operation", "root", "schema", "settings")

    def __init__(self, schema: Any, settings: Any, document: DocumentNode, operation: OperationDefinitionNode, root: FieldNode) -> None:
        self.schema = schema
        self.settings = settings
        self.document = document
        self.operation = operation
        self.root = root
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self._projections: dict[Any, Projection | None] = {}

    @property
    def operation_name(self) -> str | None:
        return self.operation.name.value if self.operation.name else None

    @property
    def response_key(self) -> str:
        return self.root.alias.value if self.root.alias else self.root.name.value

    def projection(self, variables: Mapping[str, Any] | None) -> Projection | None:
        """The projection for these variable values (None: run it through Strawberry)."""
        values = self._variables(variables or {})
        if values is None:
            return None
        key = tuple(sorted(values.items()))
        if key in self._projections:
            return self._projections[key]
        projection: Projection | None
        try:
            if self.root.selection_set is None:
                raise Unsupported("no selection")
            fields = _collect(self, [self.root.selection_set], values, _NOTIFICATION_TYPES)
            plan: list[tuple[str, Any, Any]] = []
            for response_key, nodes in fields.items():
                name = nodes[0].name.value
                if name == "actor":
                    plan.append((response_key, _ACTOR, _user_fields(self, nodes, values)))
                elif name in _NOTIFICATION_LEAVES and not any(node.selection_set for node in nodes):
                    plan.append((response_key, _NOTIFICATION_LEAVES[name], name in _PER_RECIPIENT_LEAVES))
                else:
                    raise Unsupported(name)
            after = self._after(values)
            if self.operation.variable_definitions and operation_cost(self.schema._schema, self.settings, self.operation, self.fragments, values) > self.settings.max_query_cost:
                raise Unsupported("cost")
            projection = Projection(self, tuple(plan), after, key)
        except Unsupported:
            projection = None
        if len(self._projections) < _CACHE_SIZE:
            self._projections[key] = projection
        return projection

    def _variables(self, given: Mapping[str, Any]) -> dict[str, Any] | None:
        """The declared variables' values when each is a Boolean or an ID given as a string
        (what this subscription takes); None for anything that needs GraphQL's coercion."""
        values: dict[str, Any] = {}
        for definition in self.operation.variable_definitions or ():
            name = definition.variable.name.value
            type_text = _type_text(definition.type)
            non_null = type_text.endswith("!")
            base = type_text.rstrip("!")
            if name in given:
                value = given[name]
            elif definition.default_value is not None:
                value = _literal(definition.default_value)
            else:
                value = None
            if value is None:
                if non_null:
                    return None
            elif base == "Boolean" and type(value) is bool:
                pass
            elif base == "ID" and type(value) is str and "\x00" not in value:
                pass
            else:
                return None
            values[name] = value
        return values

    def _after(self, values: Mapping[str, Any]) -> str | None:
        for argument in self.root.arguments or ():
            if argument.name.value != "after":
                raise Unsupported("argument")
            return _value(argument.value, values)
        return None


def _type_text(node: Any) -> str:
    kind = node.kind
    if kind == "non_null_type":
        return _type_text(node.type) + "!"
    if kind == "list_type":
        raise Unsupported("list variable")
    return str(node.name.value)


def _literal(node: Any) -> Any:
    if isinstance(node, NullValueNode):
        return None
    if isinstance(node, BooleanValueNode | StringValueNode):
        return node.value
    raise Unsupported("literal")


def _value(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, VariableNode):
        return values.get(node.name.value)
    return _literal(node)


def _included(node: Any, values: Mapping[str, Any]) -> bool:
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            raise Unsupported(f"@{name}")
        [argument] = directive.arguments
        condition = _value(argument.value, values)
        if type(condition) is not bool:
            raise Unsupported("directive argument")
        if (name == "skip") is condition:
            return False
    return True


def _collect(plan: Plan, selection_sets: Sequence[SelectionSetNode], values: Mapping[str, Any], types: frozenset[str]) -> dict[str, list[FieldNode]]:
    """The fields of ``selection_sets`` by response key, in GraphQL's collection order."""
    fields: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()

    def visit(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if not _included(selection, values):
                continue
            if isinstance(selection, FieldNode):
                if selection.arguments and selection is not plan.root:
                    raise Unsupported("field arguments")
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or condition.name.value in types:
                    visit(selection.selection_set)
                elif condition.name.value not in plan.schema._schema.type_map:
                    raise Unsupported("unknown type")
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = plan.fragments.get(name)
                if fragment is None:
                    raise Unsupported("fragment")
                if fragment.type_condition.name.value in types:
                    visit(fragment.selection_set)

    for selection_set in selection_sets:
        visit(selection_set)
    return fields


def _user_fields(plan: Plan, nodes: Sequence[FieldNode], values: Mapping[str, Any]) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    sets = [node.selection_set for node in nodes if node.selection_set is not None]
    collected = _collect(plan, sets, values, _USER_TYPES)
    fields = []
    for response_key, subnodes in collected.items():
        name = subnodes[0].name.value
        if name not in _USER_LEAVES or any(node.selection_set for node in subnodes):
            raise Unsupported(name)
        fields.append((response_key, _USER_LEAVES[name]))
    return tuple(fields)


_ACTOR = object()  # the plan's marker for the nested ``actor`` field


class Projection:
    """A plan for given variable values: ``project`` gives each record's ``data``.

    ``fields`` holds ``(response key, getter, extra)``: for ``actor`` the getter is
    :data:`_ACTOR` and ``extra`` its user fields; for a leaf ``extra`` tells whether the leaf
    differs between the recipients of one event."""

    __slots__ = ("after", "fields", "key", "needs_actor", "plan")

    def __init__(self, plan: Plan, fields: tuple[Any, ...], after: str | None, key: Any) -> None:
        self.plan = plan
        self.fields = fields
        self.after = after
        self.key = key
        self.needs_actor = any(getter is _ACTOR for _key, getter, _sub in fields)

    async def _actors(self, context: OperationContext, records: Sequence[NotificationRecord]) -> dict[int, Any]:
        """The actors of ``records`` by id (one loader batch), when the selection has them."""
        if not self.needs_actor:
            return {}
        wanted = sorted({record.actor_id for record in records if record.actor_id is not None})
        if not wanted:
            return {}
        loaded = await context.loaders["users_by_id"].load_many(wanted)
        return dict(zip(wanted, loaded, strict=True))

    def _item(self, record: NotificationRecord, actors: Mapping[int, Any]) -> dict[str, Any]:
        item: dict[str, Any] = {}
        for key, getter, sub in self.fields:
            if getter is _ACTOR:
                user = actors.get(record.actor_id) if record.actor_id is not None else None
                item[key] = None if user is None else {sub_key: read(user) for sub_key, read in sub}
            else:
                item[key] = getter(record)
        return item

    async def project(self, context: OperationContext, records: Sequence[NotificationRecord]) -> list[dict[str, Any]]:
        """The ``data`` of each record: ``{response key: notification}``, in order."""
        actors = await self._actors(context, records)
        root = self.plan.response_key
        return [{root: self._item(record, actors)} for record in records]

    async def serialize(self, context: OperationContext, records: Sequence[NotificationRecord]) -> list[bytes]:
        """The ``data`` of each record as JSON: the bytes ``orjson.dumps`` makes of what
        :meth:`project` answers, but the JSON of what the recipients of one event share is
        made once for them all, and only their own leaves (``id``) per record."""
        actors = await self._actors(context, records)
        templates: dict[tuple[Any, ...], tuple[list[bytes], list[Callable[[NotificationRecord], Any]]]] = {}
        answers = []
        dumps = orjson.dumps
        for record in records:
            key = _event_key(record)
            template = templates.get(key)
            if template is None:
                template = templates[key] = self._template(record, actors)
            texts, getters = template
            if not getters:
                answers.append(texts[0])
                continue
            parts = [texts[0]]
            for getter, text in zip(getters, texts[1:], strict=True):
                parts.append(dumps(getter(record)))
                parts.append(text)
            answers.append(b"".join(parts))
        return answers

    def _template(self, record: NotificationRecord, actors: Mapping[int, Any]) -> tuple[list[bytes], list[Callable[[NotificationRecord], Any]]]:
        """A record's JSON cut around its per-recipient leaves: ``texts`` (one more than
        ``getters``) to be joined with the JSON of each getter's value in between."""
        dumps = orjson.dumps
        item = self._item(record, actors)
        texts: list[bytes] = []
        getters: list[Callable[[NotificationRecord], Any]] = []
        text = b"{" + dumps(self.plan.response_key) + b":{"
        for index, (key, getter, per_recipient) in enumerate(self.fields):
            text += (b"," if index else b"") + dumps(key) + b":"
            if per_recipient is True:
                texts.append(text)
                getters.append(getter)
                text = b""
            else:
                text += dumps(item[key])
        texts.append(text + b"}}")
        return texts, getters


def compile_plan(schema: Any, settings: Any, query: str | None, operation_name: str | None) -> Plan | None:
    """The plan of a ``notifications``-only subscription document, or None (see the module)."""
    if not isinstance(query, str) or not isinstance(operation_name, str | None):
        return None
    return _compile(schema, settings, query, operation_name)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile(schema: Any, settings: Any, query: str, operation_name: str | None) -> Plan | None:
    try:
        body = schema.documents.resolve(query, None)
        if body is None:
            return None
        document = parse(body, max_tokens=settings.max_query_tokens)
    except (DocumentRefused, GraphQLError):
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
        return None
    if validate(schema._schema, document, [*specified_rules, *_fiche_rules(schema)]):
        return None
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode) or selections[0].directives:
        return None
    root = selections[0]
    if root.name.value != ROOT_FIELD:
        return None
    return Plan(schema, settings, document, operation, root)


def _fiche_rules(schema: Any) -> list[Any]:
    """The validation rules the schema adds (limits), as its extensions give them."""
    for extension in schema.extensions:
        if isinstance(extension, functools.partial) and extension.func is AddValidationRules:
            return list(extension.args[0])
    return []
