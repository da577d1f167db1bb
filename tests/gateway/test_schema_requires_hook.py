"""``requires_hook``: fields that are in the schema only when some plugin implements a hook."""

from __future__ import annotations

import types

import pluggy
import strawberry

from fiche import PROJECT_NAME, hookimpl, hookspecs
from fiche.accounts.models import Role
from fiche.auth import Viewer
from fiche.context import ConnectionContext
from fiche.schema import build_schema, requires_hook
from fiche.settings import Settings

SETTINGS = Settings(secret_key="k" * 40)


@strawberry.input(description="A filter with one conditional field.")
class ThingFilter:
    name: str | None = strawberry.field(default=None, description="Always there.")
    has_quote: bool | None = strawberry.field(
        default=None, description="Only with a quotes plugin.", metadata=requires_hook("intervention_quote_condition")
    )


@strawberry.type
class ThingQueries:
    @strawberry.field(description="What the filter was given.")
    def things(self, filter: ThingFilter | None = None) -> str:
        return f"{filter.name if filter else None}/{filter.has_quote if filter else None}"

    @strawberry.field(description="Only with a quotes plugin.", metadata=requires_hook("intervention_quote_condition"))
    def quoted(self) -> int:
        return 1


class Owner:
    @hookimpl
    def register_types(self) -> list[type]:
        return [ThingFilter]

    @hookimpl
    def register_queries(self) -> list[type]:
        return [ThingQueries]


class Quotes:
    @hookimpl
    def intervention_quote_condition(self, intervention_id: object, has_quote: bool) -> object:
        return None


def build(*plugins: object) -> strawberry.Schema:
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        pm.register(plugin)
    return build_schema(pm, SETTINGS)


def context(schema: strawberry.Schema) -> ConnectionContext:
    viewer = Viewer(user_id=1, organization_id=1, role=Role.ADMIN, name="A", handle="a", team_ids=frozenset())
    app = types.SimpleNamespace(settings=SETTINGS, db=None, broker=None, pm=None)
    return ConnectionContext(app, viewer=viewer)  # type: ignore[arg-type]


async def test_fields_that_need_a_hook_are_there_when_it_is_implemented() -> None:
    schema = build(Owner(), Quotes())
    assert "quoted" in schema._schema.query_type.fields  # type: ignore[attr-defined]
    assert "hasQuote" in schema._schema.type_map["ThingFilter"].fields  # type: ignore[attr-defined]
    result = await schema.execute('{ things(filter: {name: "a", hasQuote: true}) }', context_value=context(schema))
    assert result.errors is None and result.data == {"things": "a/True"}


async def test_they_leave_cleanly_when_it_is_not_and_come_back_on_the_next_build() -> None:
    without = build(Owner())
    assert "quoted" not in without._schema.query_type.fields  # type: ignore[attr-defined]
    assert "hasQuote" not in without._schema.type_map["ThingFilter"].fields  # type: ignore[attr-defined]
    result = await without.execute('{ things(filter: {name: "a"}) }', context_value=context(without))
    assert result.errors is None and result.data == {"things": "a/None"}  # the Python default
    refused = await without.execute("{ things(filter: {hasQuote: true}) }", context_value=context(without))
    assert refused.errors and "hasQuote" in refused.errors[0].message
    again = build(Owner(), Quotes())
    assert "hasQuote" in again._schema.type_map["ThingFilter"].fields  # type: ignore[attr-defined]
