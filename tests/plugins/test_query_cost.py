"""Query cost with every built-in plugin: the benchmark documents are accepted, every list
that is not a connection declares its bound, and each bound is enforced when writing
(LIMIT_EXCEEDED), so that the declared sizes are true. The bounds are lowered in a test so
that a few rows reach them."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    FragmentDefinitionNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    parse,
)

from fiche.accounts import services as accounts
from fiche.cost import COST_KEY, operation_cost
from fiche.relay import encode_id
from fiche.plugins.activities.mutations import activity_types as activity_type_mutations
from fiche.plugins.activities.mutations import forms as form_mutations
from fiche.plugins.activities.mutations import reports as report_mutations
from fiche.plugins.customers.services import addresses, custom_fields, lifecycle, relations
from fiche.plugins.notes import services as notes
from tests.plugins.activities.fixtures import activity, ago, customer, form, link_forms, type_ids
from tests.plugins.customers.fixtures import add_address, company, seed_customers
from tests.plugins.notes.support import note_create
from tests.support import TestOrg

BENCH = Path(__file__).resolve().parents[2] / "bench" / "queries"
TEAM_CREATE = "mutation ($name: String!) { teamCreate(name: $name) { team { name } errors { code message path } } }"
TEAM_SET_MEMBERS = """
mutation ($team: ID!, $users: [ID!]!) { teamSetMembers(teamId: $team, userIds: $users) { team { name } errors { code message path } } }
"""
ADDRESS_CREATE = """
mutation ($input: AddressCreateInput!) { addressCreate(input: $input) { address { id } errors { code message path } } }
"""
MERGE = """
mutation ($keep: ID!, $duplicate: ID!) { customerMerge(keepId: $keep, duplicateId: $duplicate) { customer { id } errors { code message path } } }
"""
ADDRESSES = "query ($id: ID!) { customer(id: $id) { addresses { city } } }"
RELATION_CREATE = """
mutation ($input: CustomerRelationCreateInput!) { customerRelationCreate(input: $input) { relation { id } errors { code message path } } }
"""
TYPE_CREATE = """
mutation ($input: ActivityTypeCreateInput!) { activityTypeCreate(input: $input) { activityType { id } errors { code message path } } }
"""
TYPE_UPDATE = """
mutation ($input: ActivityTypeUpdateInput!) { activityTypeUpdate(input: $input) { activityType { id } errors { code message path } } }
"""
FORM_CREATE = """
mutation ($input: ReportFormCreateInput!) { reportFormCreate(input: $input) { form { id } errors { code message path } } }
"""
CATEGORY_CREATE = """
mutation ($input: NoteCategoryCreateInput!) { noteCategoryCreate(input: $input) { category { id } errors { code message path } } }
"""
CUSTOM_FIELD_CREATE = """
mutation ($input: CustomFieldCreateInput!) { customFieldCreate(input: $input) { field { id } errors { code message path } } }
"""
REPORT_SUBMIT = """
mutation ($input: ReportSubmitInput!) { reportSubmit(input: $input) { report { id } errors { code message path } } }
"""


def errors(payload: dict) -> list[tuple[str, list[str]]]:
    return [(error["code"], error["path"]) for error in payload["errors"]]


@pytest.mark.parametrize("name", ["heavy", "customers_list", "viewer"])
async def test_the_benchmark_documents_are_accepted(org: TestOrg, name: str) -> None:
    # given
    await seed_customers(org, 5)
    document = (BENCH / f"{name}.graphql").read_text()
    # when
    result = await org.gql(document)
    # then
    assert result.errors == []


async def test_the_largest_customer_list_page_is_within_the_limit(org: TestOrg) -> None:
    # given: bench/queries/customers_list.graphql at the largest page size
    document = parse((BENCH / "customers_list.graphql").read_text())
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    settings = org.state.settings
    # when
    cost = operation_cost(org.schema._schema, settings, operation, fragments, {"first": settings.max_page_size})
    # then
    assert 0 < cost <= settings.max_query_cost
    assert (await org.gql((BENCH / "customers_list.graphql").read_text(), {"first": settings.max_page_size})).errors == []


async def test_an_organisation_has_a_bounded_number_of_teams(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: the organisation has North and South
    monkeypatch.setattr(accounts, "MAX_TEAMS", 2)
    # when
    payload = (await org.ok(TEAM_CREATE, {"name": "West"}))["teamCreate"]
    # then
    assert errors(payload) == [("LIMIT_EXCEEDED", ["name"])] and payload["team"] is None


async def test_a_team_has_a_bounded_number_of_members(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr(accounts, "MAX_TEAM_MEMBERS", 1)
    users = [encode_id("User", org.users[who].id) for who in ("admin", "member")]
    # when
    payload = (await org.ok(TEAM_SET_MEMBERS, {"team": encode_id("Team", org.teams["north"].id), "users": users}))["teamSetMembers"]
    # then
    assert errors(payload) == [("LIMIT_EXCEEDED", ["userIds"])]


async def test_a_user_belongs_to_a_bounded_number_of_teams(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: member is in North already
    monkeypatch.setattr(accounts, "MAX_TEAMS_PER_USER", 1)
    south = encode_id("Team", org.teams["south"].id)
    users = [encode_id("User", org.users[who].id) for who in ("member2", "technician", "member")]
    # when
    refused = (await org.ok(TEAM_SET_MEMBERS, {"team": south, "users": users}))["teamSetMembers"]
    kept = (await org.ok(TEAM_SET_MEMBERS, {"team": south, "users": users[:2]}))["teamSetMembers"]
    # then: refused for member; setting South's current members again is fine
    assert errors(refused) == [("LIMIT_EXCEEDED", ["userIds"])] and kept["errors"] == []


async def test_a_customer_has_a_bounded_number_of_addresses(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr(addresses, "MAX_ADDRESSES", 1)
    client = await company(org, "Dupont SA")
    await add_address(org, client["id"])
    # when
    payload = (await org.ok(ADDRESS_CREATE, {"input": {"customerId": client["id"], "line1": "2 rue", "city": "Paris"}}))["addressCreate"]
    # then
    assert errors(payload) == [("LIMIT_EXCEEDED", ["input"])]


async def test_a_merge_that_would_exceed_the_address_bound_is_refused_and_changes_nothing(
    org: TestOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: one address each, one at most
    monkeypatch.setattr(lifecycle, "MAX_ADDRESSES", 1)
    keep, duplicate = await company(org, "Dupont SA"), await company(org, "Dupont")
    await add_address(org, keep["id"], "Lyon")
    await add_address(org, duplicate["id"], "Paris")
    # when
    payload = (await org.ok(MERGE, {"keep": keep["id"], "duplicate": duplicate["id"]}))["customerMerge"]
    # then
    assert errors(payload) == [("LIMIT_EXCEEDED", ["duplicateId"])]
    assert (await org.ok(ADDRESSES, {"id": duplicate["id"]}))["customer"]["addresses"] == [{"city": "Paris"}]


async def test_a_customer_has_a_bounded_number_of_relations_on_both_ends(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: A is linked to B
    monkeypatch.setattr(relations, "MAX_RELATIONS", 1)
    a, b, c = [await company(org, name) for name in ("A", "B", "C")]
    link = {"customerId": a["id"], "relatedCustomerId": b["id"], "kind": "PARTNER"}
    assert (await org.ok(RELATION_CREATE, {"input": link}))["customerRelationCreate"]["errors"] == []
    # when
    from_c = (await org.ok(RELATION_CREATE, {"input": {**link, "customerId": c["id"], "relatedCustomerId": b["id"]}}))["customerRelationCreate"]
    from_a = (await org.ok(RELATION_CREATE, {"input": {**link, "relatedCustomerId": c["id"]}}))["customerRelationCreate"]
    # then: B is full when it is the related end, A when it is the start
    assert errors(from_c) == [("LIMIT_EXCEEDED", ["input", "relatedCustomerId"])]
    assert errors(from_a) == [("LIMIT_EXCEEDED", ["input", "customerId"])]


async def test_an_activity_takes_a_bounded_number_of_reports(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr(report_mutations, "MAX_REPORTS_PER_ACTIVITY", 1)
    form_id = await form(org, [{"key": "mood", "label": "Mood", "type": "RATING"}])
    await link_forms(org, (await type_ids(org))["visit"], [form_id])
    visit = await activity(org, await customer(org), starts_at=ago(hours=1), ends_at=ago(minutes=30))
    report = {"activityId": visit["id"], "formId": form_id, "values": {"mood": 4}}
    assert (await org.ok(REPORT_SUBMIT, {"input": report}))["reportSubmit"]["errors"] == []
    # when
    payload = (await org.ok(REPORT_SUBMIT, {"input": report}))["reportSubmit"]
    # then
    assert errors(payload) == [("LIMIT_EXCEEDED", ["input", "activityId"])] and payload["report"] is None


async def test_a_note_mentions_a_bounded_number_of_colleagues(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr(notes, "MAX_MENTIONS", 1)
    # when
    payload = await note_create(org, "Merci @member et @manager.")
    # then
    assert [(error["code"], error["path"][-1]) for error in payload["errors"]] == [("LIMIT_EXCEEDED", "body")]



def _list_fields_without_a_bound(schema: GraphQLSchema) -> list[str]:
    found = []
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            continue
        fields = type_.fields
        connection = "pageInfo" in fields and ("edges" in fields or "nodes" in fields)
        for name, field in fields.items():
            item = get_named_type(field.type)
            if connection or is_leaf_type(item) or not isinstance(get_nullable_type(field.type), GraphQLList):
                continue
            if (name, item.name) == ("errors", "UserError"):
                continue  # a payload's errors come from the input, not from stored rows
            definition = (field.extensions or {}).get("strawberry-definition")
            if COST_KEY not in (getattr(definition, "metadata", None) or {}):
                found.append(f"{type_.name}.{name}")
    return found


async def test_every_list_that_is_not_a_connection_declares_its_bound(org: TestOrg) -> None:
    # when
    unbounded = _list_fields_without_a_bound(org.schema._schema)
    # then
    assert unbounded == []


async def test_an_organisation_has_a_bounded_number_of_activity_types(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: the five built-in types fill it
    monkeypatch.setattr(activity_type_mutations, "MAX_ACTIVITY_TYPES", 5)
    # when
    payload = (await org.ok(TYPE_CREATE, {"input": {"name": "Demo", "icon": "star", "colour": "#123456"}}))["activityTypeCreate"]
    # then
    assert errors(payload) == [("LIMIT_EXCEEDED", ["input", "name"])]


async def test_an_activity_type_links_a_bounded_number_of_forms(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr(activity_type_mutations, "MAX_FORMS_PER_TYPE", 1)
    forms = [await form(org, [{"key": "mood", "label": "Mood", "type": "RATING"}], name=name) for name in ("A", "B")]
    # when
    payload = (await org.ok(TYPE_UPDATE, {"input": {"id": (await type_ids(org))["visit"], "formIds": forms}}))["activityTypeUpdate"]
    # then
    assert errors(payload) == [("LIMIT_EXCEEDED", ["input", "formIds"])]


async def test_an_organisation_has_a_bounded_number_of_report_forms(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr(form_mutations, "MAX_REPORT_FORMS", 0)
    # when
    payload = (await org.ok(FORM_CREATE, {"input": {"name": "F", "fields": [{"key": "mood", "label": "Mood", "type": "RATING"}]}}))["reportFormCreate"]
    # then
    assert errors(payload) == [("LIMIT_EXCEEDED", ["input", "name"])]


async def test_an_organisation_has_a_bounded_number_of_note_categories(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr(notes, "MAX_CATEGORIES", 0)
    # when
    payload = (await org.ok(CATEGORY_CREATE, {"input": {"name": "Visite", "color": "#123456"}}))["noteCategoryCreate"]
    # then
    assert errors(payload) == [("LIMIT_EXCEEDED", ["input", "name"])]


async def test_an_organisation_has_a_bounded_number_of_custom_fields(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr(custom_fields, "MAX_CUSTOM_FIELDS", 0)
    # when
    payload = (await org.ok(CUSTOM_FIELD_CREATE, {"input": {"key": "sector", "label": "Sector", "type": "TEXT"}}))["customFieldCreate"]
    # then
    assert errors(payload) == [("LIMIT_EXCEEDED", ["input", "key"])]
