"""Every type, field, argument, input field and enum value of the assembled schema is
described: the descriptions are GraphiQL's documentation and `schema.graphql`'s."""

from __future__ import annotations

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType, GraphQLUnionType

from fiche.plugin_host import get_plugin_manager
from fiche.schema import build_schema
from fiche.settings import Settings

BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def _undescribed() -> list[str]:
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="x")
    schema = build_schema(get_plugin_manager(settings), settings)._schema
    missing: list[str] = []
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if not type_.description and name not in {"Query", "Mutation", "Subscription"}:
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing.extend(f"{name}.{field_name}({arg})" for arg, value in field.args.items() if not value.description)
        elif isinstance(type_, GraphQLInputObjectType):
            missing.extend(f"{name}.{field_name}" for field_name, field in type_.fields.items() if not field.description)
        elif isinstance(type_, GraphQLEnumType):
            missing.extend(f"{name}.{value_name}" for value_name, value in type_.values.items() if not value.description)
        elif isinstance(type_, GraphQLUnionType) and not type_.description:
            missing.append(name)
    return missing


def test_every_part_of_the_schema_is_described() -> None:
    assert _undescribed() == []
