"""Assembling one GraphQL schema from every plugin's contributions.

Root types are merged field by field and a name two plugins use is an error. Cross-plugin
fields (``TypeExtension``) are appended to a copy-free reset of the target type's own
fields before each build, so building with another plugin set gives another, correct
schema. Protection (depth, tokens, aliases, masking, introspection) is added here: the
rules come from :mod:`fiche.limits`, the shaping of errors and the operation log from
:mod:`fiche.outcome`.
"""

from __future__ import annotations

import copy
import dataclasses
from functools import partial
from collections.abc import AsyncGenerator, Iterable, Sequence
from typing import Any

import pluggy
import strawberry
from graphql import GraphQLError, OperationType as AstOperationType, parse
from graphql.utilities import get_operation_ast
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from fiche import limits
from fiche.context import OperationScope
from fiche.cost import QueryCostCheck, cost_rule
from fiche.errors import is_stale_connection
from fiche.nul import NulInLiterals, NulInVariables
from fiche.persisted import DocumentRefused, Documents
from fiche.tracing import OperationTracing
from fiche.outcome import OperationOutcome
from fiche.execution import executor_class
from fiche.settings import Settings

__all__ = ["SUBJECT_TYPES", "SchemaAssemblyError", "TypeExtension", "build_schema", "export_sdl", "requires_hook"]


class SchemaAssemblyError(RuntimeError):
    """Two plugins contributed the same field, or an extension is malformed."""


# The target of a TypeExtension meant for every subject type (``register_subject_types``).
SUBJECT_TYPES = "@subjects"


@dataclasses.dataclass(frozen=True)
class TypeExtension:
    """Fields a plugin adds to a type another plugin owns, found by GraphQL name.

    With ``target=SUBJECT_TYPES`` the fields go on every type some plugin registers with
    ``register_subject_types`` (``Customer``, a partner's ``LoyaltyCard``, ...), each type
    getting its own copy; subject types absent from the schema are skipped. That is how
    notes adds ``notes`` to subject types it cannot know in advance."""

    target: str
    fields: Sequence[StrawberryField]


# Each extended type's own fields, recorded the first time the host touches it.
_OWN_FIELDS: dict[type, list[StrawberryField]] = {}


def _definition(cls: type) -> StrawberryObjectDefinition:
    definition = getattr(cls, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryObjectDefinition):
        raise SchemaAssemblyError(f"{cls!r} is not a Strawberry type")
    return definition


def _field_names(cls: type) -> dict[str, StrawberryField]:
    config = StrawberryConfig()
    return {config.name_converter.get_graphql_name(field): field for field in _definition(cls).fields}


def _flatten(results: Iterable[Sequence[Any] | None]) -> list[Any]:
    return [item for result in results if result for item in result]


def merge_root(name: str, classes: Sequence[type], description: str) -> type | None:
    """One root type from many plugin classes; raises on a field two classes define."""
    if not classes:
        return None
    owners: dict[str, type] = {}
    for cls in classes:
        for field_name in _field_names(cls):
            if field_name in owners:
                raise SchemaAssemblyError(
                    f"{name}.{field_name} is defined by both {owners[field_name].__qualname__} and {cls.__qualname__}"
                )
            owners[field_name] = cls
    merged = type(name, tuple(reversed(classes)), {})
    return strawberry.type(merged, name=name, description=description)


_REQUIRES_HOOK = "fiche.requires_hook"


def requires_hook(name: str) -> dict[str, str]:
    """``metadata=`` of a field that is in the schema only when some installed plugin
    implements the hook ``name`` (e.g. the interventions plugin's ``hasQuote`` filter,
    which needs the plugin that owns quotes to answer ``intervention_quote_condition``).

    It works on the fields of root classes (``register_queries`` / ``register_mutations``
    / ``register_subscriptions``) and of the types, input types included, that the plugin
    lists in ``register_types``. A dropped input field keeps its Python default."""
    return {_REQUIRES_HOOK: name}


def _drop_unavailable(definition: StrawberryObjectDefinition, pm: pluggy.PluginManager) -> None:
    def available(field: StrawberryField) -> bool:
        metadata: dict[str, Any] = dict(field.metadata or {})
        hook = metadata.get(_REQUIRES_HOOK)
        return hook is None or bool(getattr(pm.hook, hook).get_hookimpls())

    definition.fields = [field for field in definition.fields if available(field)]


def _expand_subjects(extensions: Sequence[TypeExtension], subject_types: Sequence[str]) -> list[TypeExtension]:
    """One extension per subject type for each extension that targets :data:`SUBJECT_TYPES`."""
    expanded: list[TypeExtension] = []
    for extension in extensions:
        if extension.target == SUBJECT_TYPES:
            expanded.extend(TypeExtension(name, extension.fields) for name in dict.fromkeys(subject_types))
        else:
            expanded.append(extension)
    return expanded


def apply_extensions(types: Sequence[type], extensions: Sequence[TypeExtension], subject_types: Sequence[str] = ()) -> set[str]:
    """Reset every known type to its own fields, then append the extension fields
    (extensions of :data:`SUBJECT_TYPES` go to each of ``subject_types``).

    Returns the targets that are not among ``types``, whose extensions were skipped."""
    extensions = _expand_subjects(extensions, subject_types)
    skipped: set[str] = set()
    by_name: dict[str, type] = {}
    for cls in types:
        definition = _definition(cls)
        _OWN_FIELDS.setdefault(cls, list(definition.fields))
        definition.fields = list(_OWN_FIELDS[cls])
        by_name[definition.name] = cls
    for extension in extensions:
        target = by_name.get(extension.target)
        if target is None:
            skipped.add(extension.target)
            continue  # the owner of the type is not installed: its extensions go with it
        cls = target
        definition = _definition(cls)
        existing = _field_names(cls)
        config = StrawberryConfig()
        for field in extension.fields:
            if not isinstance(field, StrawberryField):
                raise SchemaAssemblyError(f"extension of {extension.target} holds {field!r}, not a strawberry field")
            added = copy.copy(field)
            if added.python_name is None:
                added.python_name = added.base_resolver.name if added.base_resolver else None
            if added.python_name is None:
                raise SchemaAssemblyError(f"a field added to {extension.target} has no name")
            added.origin = cls
            graphql_name = config.name_converter.get_graphql_name(added)
            if graphql_name in existing:
                raise SchemaAssemblyError(f"{extension.target}.{graphql_name} is already defined")
            definition.fields.append(added)
            existing[graphql_name] = added
    return skipped


class FicheSchema(strawberry.Schema):
    """Strawberry's schema without its per-error logging (a traceback for every error,
    a client's typo included): :class:`OperationOutcome` logs one line per operation.

    Every operation, whatever its transport, first goes through :attr:`documents`
    (persisted queries, trusted documents: :mod:`fiche.persisted`). A query over HTTP that
    met a dead pooled database connection (the database restarted since it was pooled) runs
    once more on a fresh one; a mutation does not, since its write may have reached the
    database."""

    documents: Documents = Documents()

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None

    async def execute(  # noqa: PLR0917
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        try:
            query = self.documents.resolve(query, operation_extensions)
        except DocumentRefused as refused:
            return ExecutionResult(data=None, errors=[refused.error])
        arguments = (query, variable_values, context_value, root_value, operation_name, allowed_operation_types, operation_extensions)
        result = await super().execute(*arguments)
        if any(is_stale_connection(error.original_error) for error in result.errors or ()) and _is_query(query, operation_name):
            result = await super().execute(*arguments)
        return result

    async def stream(  # noqa: PLR0917
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> Any:
        try:
            query = self.documents.resolve(query, operation_extensions)
        except DocumentRefused as refused:
            return _refusal(refused)
        return await super().stream(
            query, variable_values, context_value, root_value, operation_name, operation_extensions, allowed_operation_types
        )


def _is_query(document: str | None, operation_name: str | None) -> bool:
    """Whether the operation of ``document`` that runs is a query (it parsed once already)."""
    operation = get_operation_ast(parse(document or ""), operation_name)
    return operation is not None and operation.operation is AstOperationType.QUERY


async def _refusal(refused: DocumentRefused) -> AsyncGenerator[PreExecutionError, None]:
    yield PreExecutionError(data=None, errors=[refused.error])


def build_schema(pm: pluggy.PluginManager, settings: Settings) -> strawberry.Schema:
    """The schema of every registered plugin, with the gateway's protections."""
    types = _flatten(pm.hook.register_types())
    queries = _flatten(pm.hook.register_queries())
    mutations = _flatten(pm.hook.register_mutations())
    subscriptions = _flatten(pm.hook.register_subscriptions())
    extensions = _flatten(pm.hook.register_type_extensions())
    subject_types = [name for names in pm.hook.register_subject_types() for name in names or ()]
    skipped = apply_extensions(types, extensions, subject_types)

    query = merge_root("Query", queries, "Everything you can read.")
    if query is None:
        raise SchemaAssemblyError("no plugin contributes a query field")
    mutation = merge_root("Mutation", mutations, "Everything you can change.")
    subscription = merge_root("Subscription", subscriptions, "Live events over WebSocket.")
    # Fields that need a hook nobody implements leave the schema (``requires_hook``); the
    # listed types were just reset to their own fields, so this is repeatable.
    for cls in (*types, query, mutation, subscription):
        if cls is not None:
            _drop_unavailable(_definition(cls), pm)

    # Validation rules are built once per schema: the limiters would otherwise create new
    # rule classes for every operation (CPU on each request, memory for as long as a
    # subscription lives) and ValidationCache, keyed by the rules, would never hit.
    rules = [
        *limits.depth_rules(settings.max_query_depth),
        *limits.alias_rules(settings.max_aliases),
        cost_rule(settings),
        NulInLiterals,
    ]
    if not settings.introspection:
        rules.append(limits.NO_INTROSPECTION)
    # Factories, so that each operation gets fresh extension instances. The outcome comes
    # first: it times the whole operation and sees the final result of each step.
    schema_extensions: list[Any] = [
        OperationTracing,  # no-op unless the app traces (fiche.tracing)
        partial(OperationOutcome, mask=not settings.debug, hide_suggestions=not settings.introspection),
        OperationScope,
        partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
        partial(limits.ParserCache, maxsize=512),
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=512),
        partial(QueryCostCheck, settings=settings),
        NulInVariables,  # after ValidationCache, which replaces the validation errors
    ]
    schema = FicheSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=types,
        extensions=schema_extensions,
        execution_context_class=executor_class(settings.executor),
    )
    schema.documents = Documents.from_settings(settings.trusted_documents)
    # A skipped target that is in the schema after all (reachable from a field but not
    # listed in ``register_types``) would silently lose the extension's fields.
    unextendable = sorted(name for name in skipped if name in schema._schema.type_map)
    if unextendable:
        raise SchemaAssemblyError(f"cannot extend {', '.join(unextendable)}: its plugin must list it in register_types")
    return schema


def export_sdl(schema: strawberry.Schema) -> str:
    return schema.as_str().rstrip() + "\n"
