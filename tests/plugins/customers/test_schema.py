"""The plugin's part of the schema: what other plugins rely on, and a description on every
type, field, argument, input field and enum value."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import strawberry
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from fiche.plugins.customers import custom_field_types, enums, hooks, inputs, payloads, queries, timeline, types
from fiche.plugins.customers.mutations import MUTATIONS
from tests.plugins.customers.fixtures import company
from tests.support import TestOrg

OWN_MODULES = (custom_field_types, enums, inputs, payloads, queries, timeline, types)
CONNECTIONS = ("Customer", "Contact", "CustomerDocument")
ROOT_CLASSES = (queries.CustomerQueries, *MUTATIONS)  # merged into Query / Mutation, checked field by field

TYPENAMES = """
query Types($id: ID!) { node(id: $id) { __typename ... on Customer { displayName } } }
"""


def own_type_names() -> set[str]:
    names = set()
    for module in OWN_MODULES:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            definition = getattr(cls, "__strawberry_definition__", None)
            if definition is not None and cls.__module__ == module.__name__ and cls not in ROOT_CLASSES:
                names.add(definition.name)
    for name in CONNECTIONS:
        names.update({f"{name}Connection", f"{name}Edge"})
    return names


def own_root_fields() -> dict[str, set[str]]:
    config = strawberry.schema.config.StrawberryConfig()

    def names(classes: tuple[type, ...]) -> set[str]:
        return {config.name_converter.get_graphql_name(field) for cls in classes for field in cls.__strawberry_definition__.fields}

    return {"Query": names((queries.CustomerQueries,)), "Mutation": names(MUTATIONS)}


def foreign_fields(schema: strawberry.Schema) -> set[tuple[str, str]]:
    """``(type, field)`` added to this plugin's types by other plugins (``Customer.notes``):
    their owners document them."""
    config = strawberry.schema.config.StrawberryConfig()
    foreign = set()
    for name in own_type_names():
        definition = schema.get_type_by_name(name)
        for field in getattr(definition, "fields", ()):
            resolver = field.base_resolver
            module = getattr(resolver.wrapped_func, "__module__", "") if resolver is not None else "fiche.plugins.customers"
            if not module.startswith("fiche.plugins.customers") and not module.startswith("fiche.relay"):
                foreign.add((name, config.name_converter.get_graphql_name(field)))
    return foreign


def undocumented(schema: strawberry.Schema) -> Iterator[str]:
    type_map = schema._schema.type_map
    foreign = foreign_fields(schema)
    for name in sorted(own_type_names()):
        gql = type_map[name]
        if not gql.description:
            yield name
        if isinstance(gql, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in gql.fields.items():
                if (name, field_name) in foreign:
                    continue
                if not field.description:
                    yield f"{name}.{field_name}"
                yield from (f"{name}.{field_name}({arg})" for arg, value in field.args.items() if not value.description)
        elif isinstance(gql, GraphQLInputObjectType):
            yield from (f"{name}.{field_name}" for field_name, field in gql.fields.items() if not field.description)
        elif isinstance(gql, GraphQLEnumType):
            yield from (f"{name}.{value_name}" for value_name, value in gql.values.items() if not value.description)
    for root, field_names in own_root_fields().items():
        root_type = type_map[root]
        assert isinstance(root_type, GraphQLObjectType)
        for field_name in sorted(field_names):
            field = root_type.fields[field_name]
            if not field.description:
                yield f"{root}.{field_name}"
            yield from (f"{root}.{field_name}({arg})" for arg, value in field.args.items() if not value.description)


def test_every_type_field_argument_and_enum_value_has_a_description(schema: strawberry.Schema) -> None:
    # when
    missing = list(undocumented(schema))
    # then
    assert missing == []


def test_the_check_covers_the_plugins_types(schema: strawberry.Schema) -> None:
    # then: a control, so the test above cannot pass by checking nothing
    assert {"Customer", "Contact", "Address", "CustomerFilter", "CustomerKind", "CustomerPayload", "CustomerConnection"} <= own_type_names()
    assert {"customers", "customerCreate", "customerMerge", "contactCreate", "addressSetPrimary"} <= set().union(*own_root_fields().values())


def test_customer_implements_node_and_its_contract_fields_exist(schema: strawberry.Schema) -> None:
    # when
    customer = schema._schema.type_map["Customer"]
    # then
    assert isinstance(customer, GraphQLObjectType)
    assert [interface.name for interface in customer.interfaces] == ["Node"]
    contract = {"displayName", "parent", "branches", "contacts", "preferredContact", "addresses", "primaryAddress",
                "memo", "representative", "createdBy", "updatedBy", "createdAt", "updatedAt"}  # fmt: skip
    assert contract <= set(customer.fields)


def test_hook_register_types_returns_the_customer_type_other_plugins_extend() -> None:
    # when
    registered = hooks.register_types()
    # then
    assert types.Customer in registered
    assert types.Customer.__strawberry_definition__.name == "Customer"


def test_hook_register_subject_types_offers_customers() -> None:
    # then
    assert hooks.register_subject_types() == ["Customer"]


def test_hook_register_node_types_covers_every_node_type() -> None:
    # when
    resolvers = hooks.register_node_types()
    # then
    assert set(resolvers) == {"Customer", "Contact", "Address", "CustomerDocument", "CustomerRelation", "CustomField"}


async def test_node_resolves_a_customer_by_its_global_id(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    data = await org.ok(TYPENAMES, {"id": customer["id"]})
    # then
    assert data == {"node": {"__typename": "Customer", "displayName": "Alpha"}}
