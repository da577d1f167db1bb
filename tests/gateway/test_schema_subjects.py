"""``TypeExtension(SUBJECT_TYPES, ...)``: fields added to every registered subject type."""

from __future__ import annotations

import types
from typing import Any

import pluggy
import pytest
import strawberry

from fiche import PROJECT_NAME, hookimpl, hookspecs
from fiche.accounts.models import Role
from fiche.auth import Viewer
from fiche.context import ConnectionContext
from fiche.relay import Node
from fiche.schema import SUBJECT_TYPES, SchemaAssemblyError, TypeExtension, build_schema
from fiche.settings import Settings


@strawberry.type(description="A first subject type.")
class Widget(Node):
    name: str = strawberry.field(description="Its name.")


@strawberry.type(description="A second subject type.")
class Gadget(Node):
    remarks: str = strawberry.field(description="Clashes with the extension below.")


@strawberry.type(description="Not a subject type.")
class Bystander(Node):
    label: str = strawberry.field(description="Its label.")


@strawberry.type
class ProbeQueries:
    @strawberry.field(description="A widget.")
    def widget(self) -> Widget:
        return Widget(pk=7, name="w")

    @strawberry.field(description="A bystander.")
    def bystander(self) -> Bystander:
        return Bystander(pk=8, label="b")


def resolve_remarks(root: Any) -> str:
    return f"{type(root).__strawberry_definition__.name}:{root.pk}"


REMARKS = strawberry.field(resolver=resolve_remarks, name="remarks", description="Remarks about any subject.")


class Owner:
    def __init__(self, subjects: list[str], registered: list[type]) -> None:
        self.subjects = subjects
        self.registered = registered

    @hookimpl
    def register_types(self) -> list[type]:
        return self.registered

    @hookimpl
    def register_queries(self) -> list[type]:
        return [ProbeQueries]

    @hookimpl
    def register_subject_types(self) -> list[str]:
        return self.subjects


class Extender:
    @hookimpl
    def register_type_extensions(self) -> list[TypeExtension]:
        return [TypeExtension(SUBJECT_TYPES, [REMARKS])]


def manager(*plugins: object) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        pm.register(plugin)
    return pm


def fields_of(schema: strawberry.Schema, name: str) -> set[str]:
    return set(schema._schema.type_map[name].fields)  # type: ignore[attr-defined]


def test_subject_extension_reaches_every_registered_subject_type() -> None:
    # given
    pm = manager(Owner(["Widget", "Widget"], [Widget, Bystander]), Extender())
    # when
    schema = build_schema(pm, Settings(secret_key="k" * 40))
    # then
    assert "remarks" in fields_of(schema, "Widget")
    assert "remarks" not in fields_of(schema, "Bystander")


def test_subject_types_absent_from_the_schema_are_skipped() -> None:
    # given: "Order" is a subject type nobody put in the schema
    pm = manager(Owner(["Widget", "Order"], [Widget]), Extender())
    # when
    schema = build_schema(pm, Settings(secret_key="k" * 40))
    # then
    assert "Order" not in schema._schema.type_map  # type: ignore[attr-defined]
    assert "remarks" in fields_of(schema, "Widget")


async def test_each_copy_resolves_for_its_own_type() -> None:
    # given
    pm = manager(Owner(["Widget", "Bystander"], [Widget, Bystander]), Extender())
    schema = build_schema(pm, Settings(secret_key="k" * 40))
    viewer = Viewer(user_id=1, organization_id=1, role=Role.ADMIN, name="A", handle="a", team_ids=frozenset())
    app = types.SimpleNamespace(settings=Settings(secret_key="k" * 40), db=None, broker=None, pm=pm)
    # when
    result = await schema.execute(
        "{ widget { remarks } bystander { remarks } }", context_value=ConnectionContext(app, viewer=viewer)
    )  # type: ignore[arg-type]
    # then
    assert result.errors is None
    assert result.data == {"widget": {"remarks": "Widget:7"}, "bystander": {"remarks": "Bystander:8"}}


def test_a_subject_type_that_already_has_the_field_is_a_clash() -> None:
    # given
    pm = manager(Owner(["Gadget"], [Gadget]), Extender())
    # when / then
    with pytest.raises(SchemaAssemblyError, match=r"Gadget\.remarks"):
        build_schema(pm, Settings(secret_key="k" * 40))


def test_building_without_the_extender_leaves_subject_types_untouched() -> None:
    # given: a first build added the field
    build_schema(manager(Owner(["Widget"], [Widget]), Extender()), Settings(secret_key="k" * 40))
    # when
    schema = build_schema(manager(Owner(["Widget"], [Widget])), Settings(secret_key="k" * 40))
    # then
    assert "remarks" not in fields_of(schema, "Widget")
