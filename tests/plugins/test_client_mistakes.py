"""Client mistakes across the built-in plugins get a client error, on SQLite and PostgreSQL:
keys past the INTEGER range in global IDs, cursors and tokens, non-canonical ID spellings,
date-times without a time zone or past year 9999, NUL characters in text. Never a masked
"Unexpected error." nor an HTTP 500."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import graphql
import httpx
import jwt
import pytest

from fiche.app import create_app
from fiche.auth import ALGORITHM
from fiche.context import AppState
from fiche.relay import encode_id
from tests.plugins.activities.fixtures import ACTIVITY_CREATE, customer, type_ids
from tests.support import TestOrg

OUT_OF_RANGE = [2**31, -1, 0, 10**30]
MISSPELLINGS = ["0{}", "+{}", " {}", "{} ", "{}_0", "arabic"]
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
MASKED = "Unexpected error."

NODE = "query ($id: ID!) { node(id: $id) { id } }"
NODES = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
CUSTOMER_UPDATE = """
mutation ($input: CustomerUpdateInput!) { customerUpdate(input: $input) { customer { id } errors { code path message } } }
"""
CUSTOMER_CREATE = """
mutation ($input: CustomerCreateInput!) { customerCreate(input: $input) { customer { id } errors { code path message } } }
"""
CUSTOMERS_BY_CREATION = """
query ($after: String) {
  customers(first: 1, after: $after, orderBy: {field: CREATED_AT}) { edges { cursor node { id } } }
}
"""
ACTIVITY_UPDATE = """
mutation ($input: ActivityUpdateInput!) { activityUpdate(input: $input) { activity { id } errors { code path message } } }
"""
TASK_CREATE = "mutation ($input: TaskCreateInput!) { taskCreate(input: $input) { task { id } errors { code path message } } }"
SEARCH = "query ($search: String) { customers(filter: {search: $search}) { nodes { id } } }"
SEARCH_LITERAL = '{ customers(filter: {search: "a\\u0000b"}) { nodes { id } } }'
TIMELINE = """
query ($id: ID!, $after: String, $filter: TimelineFilter) {
  node(id: $id) { ... on Customer { timeline(first: 5, after: $after, filter: $filter) { edges { cursor } } } }
}
"""
CUSTOMER_ACTIVITIES = """
query ($id: ID!, $filter: ActivityFilter) {
  node(id: $id) { ... on Customer { activities(filter: $filter) { nodes { id } } } }
}
"""


def raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def unmasked(result: Any) -> bool:
    return all(error["message"] != MASKED for error in result.errors)


@pytest.fixture
async def client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(state.settings, state=state)), base_url="http://test") as http:
        yield http


# ------------------------------------------------------------------ global IDs


@pytest.mark.parametrize("key", OUT_OF_RANGE)
async def test_node_with_an_out_of_range_key_is_bad_user_input(org: TestOrg, key: int) -> None:
    # when
    result = await org.gql(NODE, {"id": encode_id("Customer", key)})
    # then
    assert result.data == {"node": None}
    assert result.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("key", OUT_OF_RANGE)
async def test_nodes_with_an_out_of_range_key_is_bad_user_input(org: TestOrg, key: int) -> None:
    # given
    existing = await customer(org)
    # when
    result = await org.gql(NODES, {"ids": [existing, encode_id("Customer", key)]})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("spelling", MISSPELLINGS)
async def test_a_non_canonical_spelling_of_an_existing_id_is_not_an_id(org: TestOrg, spelling: str) -> None:
    # given: Python's int() reads each of these spellings as a number
    existing = await customer(org)
    pk = int(base64.urlsafe_b64decode(existing + "==").decode().partition(":")[2])
    key = str(pk).translate(ARABIC_INDIC) if spelling == "arabic" else spelling.format(pk)
    assert int(key) in (pk, pk * 10)
    # when
    result = await org.gql(NODE, {"id": raw_id(f"Customer:{key}")})
    # then
    assert result.data == {"node": None}
    assert result.error_codes == ["BAD_USER_INPUT"]


def _id_only_mutations(schema: Any) -> list[tuple[str, list[str]]]:
    """Every mutation whose required arguments are all IDs, with those arguments."""
    mutation = schema._schema.mutation_type
    found = []
    for name, field in mutation.fields.items():
        ids = [arg for arg, definition in field.args.items() if graphql.get_named_type(definition.type).name == "ID"]
        required = [arg for arg, definition in field.args.items() if graphql.is_non_null_type(definition.type)]
        if ids and set(required) <= set(ids):
            found.append((name, ids))
    return found


async def test_every_id_only_mutation_answers_an_out_of_range_key_at_its_argument(org: TestOrg) -> None:
    # given
    mutations = _id_only_mutations(org.schema)
    forged = encode_id("Customer", 2**31)
    # when
    answers = {}
    for name, arguments in mutations:
        field = org.schema._schema.mutation_type.fields[name]
        declared = ", ".join(f"${arg}: {field.args[arg].type}" for arg in arguments)
        passed = ", ".join(f"{arg}: ${arg}" for arg in arguments)
        document = f"mutation ({declared}) {{ {name}({passed}) {{ errors {{ code path }} }} }}"
        variables = {arg: [forged] if graphql.is_list_type(graphql.get_nullable_type(field.args[arg].type)) else forged for arg in arguments}
        result = await org.gql(document, variables)
        answers[name] = (result.errors, result.data and result.data[name]["errors"])
    # then
    assert len(mutations) >= 20
    for name, (errors, payload_errors) in answers.items():
        assert errors == [], (name, errors)
        assert payload_errors and payload_errors[0]["code"] in ("INVALID", "NOT_FOUND"), (name, payload_errors)
        assert payload_errors[0]["path"][0] in dict(mutations)[name], (name, payload_errors)


async def test_an_out_of_range_id_inside_an_input_is_invalid_at_its_path(org: TestOrg) -> None:
    # when
    result = await org.gql(CUSTOMER_UPDATE, {"input": {"id": encode_id("Customer", 10**30), "companyName": "X"}})
    # then
    assert result.errors == []
    assert [(e["code"], e["path"]) for e in result.data["customerUpdate"]["errors"]] == [("INVALID", ["input", "id"])]


async def test_activity_create_with_an_out_of_range_location_is_invalid_at_its_path(org: TestOrg) -> None:
    # given
    types = await type_ids(org)
    # when
    result = await org.gql(ACTIVITY_CREATE, {"input": {"typeId": types["visit"], "locationId": encode_id("Customer", 2**31), "startsNow": True}})
    # then
    assert result.errors == []
    assert [(e["code"], e["path"]) for e in result.data["activityCreate"]["errors"]] == [("INVALID", ["input", "locationId"])]


# ------------------------------------------------------------------ cursors


@pytest.mark.parametrize(
    "replace",
    [
        {"int": 2**31},
        {"int": 2**63},
        {"int": -(2**63) - 1},
        {"datetime": "2026-05-04T09:30:00"},
        {"datetime": "9999-12-31T23:59:59-05:00"},
        {"datetime": "0001-01-01T00:00:00+01:00"},
    ],
    ids=lambda replace: f"{next(iter(replace))}={next(iter(replace.values()))}",
)
async def test_a_cursor_with_out_of_range_values_is_bad_user_input(org: TestOrg, replace: dict[str, Any]) -> None:
    # given: a real cursor (created_at, id) with one value replaced
    await customer(org, "A")
    await customer(org, "B")
    real = (await org.ok(CUSTOMERS_BY_CREATION))["customers"]["edges"][0]["cursor"]
    values = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))
    forged = [
        replace["int"] if "int" in replace and isinstance(value, int) else {"d": replace["datetime"]} if "datetime" in replace and isinstance(value, dict) else value
        for value in values
    ]
    assert forged != values
    # when
    result = await org.gql(CUSTOMERS_BY_CREATION, {"after": cursor(forged)})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "values",
    [
        [{"d": "2026-05-04T09:30:00"}, "notes", 1],
        [{"d": "0001-01-01T00:00:00+01:00"}, "notes", 1],
        [{"d": "2026-05-04T09:30:00+00:00"}, "notes", 2**31],
        [{"d": "2026-05-04T09:30:00+00:00"}, "notes", 10**30],
    ],
)
async def test_a_timeline_cursor_with_out_of_range_values_is_bad_user_input(org: TestOrg, values: list[Any]) -> None:
    # given
    location = await customer(org)
    # when
    result = await org.gql(TIMELINE, {"id": location, "after": cursor(values)})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert unmasked(result)


# ------------------------------------------------------------------ date-times


@pytest.mark.parametrize("bound", ["from", "to"])
@pytest.mark.parametrize("value", ["2026-05-04T09:30:00", "0001-01-01T00:00:00+01:00"])
async def test_timeline_filter_needs_an_instant(org: TestOrg, bound: str, value: str) -> None:
    # given
    location = await customer(org)
    # when
    result = await org.gql(TIMELINE, {"id": location, "filter": {bound: value}})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert f"`filter.{bound}`" in result.errors[0]["message"]


async def test_timeline_and_activities_filters_say_the_same_of_a_naive_date_time(org: TestOrg) -> None:
    # given
    location = await customer(org)
    naive = {"from": "2026-05-04T09:30:00"}
    # when
    timeline = await org.gql(TIMELINE, {"id": location, "filter": naive})
    activities = await org.gql(CUSTOMER_ACTIVITIES, {"id": location, "filter": naive})
    # then
    assert timeline.error_codes == activities.error_codes == ["BAD_USER_INPUT"]
    assert timeline.errors[0]["message"] == activities.errors[0]["message"] == "`filter.from` needs a time zone (e.g. `2026-05-04T09:30:00Z`)."


@pytest.mark.parametrize(
    ("times", "path"),
    [
        ({"startsAt": "9999-12-31T23:59:00+00:00", "durationMinutes": 60}, ["input", "durationMinutes"]),
        ({"startsAt": "9999-12-31T23:00:00-05:00"}, ["input", "startsAt"]),
        ({"startsAt": "2026-05-04T09:00:00+00:00", "endsAt": "9999-12-31T23:00:00-05:00"}, ["input", "endsAt"]),
    ],
)
async def test_an_activity_past_year_9999_is_invalid_at_its_field(org: TestOrg, times: dict[str, Any], path: list[str]) -> None:
    # given
    location = await customer(org)
    types = await type_ids(org)
    # when
    result = await org.gql(ACTIVITY_CREATE, {"input": {"typeId": types["visit"], "locationId": location, **times}})
    # then
    assert result.errors == []
    assert [(e["code"], e["path"]) for e in result.data["activityCreate"]["errors"]] == [("INVALID", path)]


async def test_an_activity_starting_at_the_end_of_year_9999_is_accepted(org: TestOrg) -> None:
    # given
    location = await customer(org)
    types = await type_ids(org)
    # when
    result = await org.gql(ACTIVITY_CREATE, {"input": {"typeId": types["visit"], "locationId": location, "startsAt": "9999-12-31T23:59:59+00:00"}})
    # then
    assert result.errors == []
    assert result.data["activityCreate"]["errors"] == []


async def test_moving_a_one_hour_activity_to_the_end_of_year_9999_is_invalid_at_its_start(org: TestOrg) -> None:
    # given: an activity of one hour
    location = await customer(org)
    types = await type_ids(org)
    created = await org.ok(
        ACTIVITY_CREATE, {"input": {"typeId": types["visit"], "locationId": location, "startsAt": "2026-05-04T09:00:00+00:00", "durationMinutes": 60}}
    )
    activity_id = created["activityCreate"]["activity"]["id"]
    # when: its start moves, its duration is kept, and its end would pass year 9999
    result = await org.gql(ACTIVITY_UPDATE, {"input": {"id": activity_id, "startsAt": "9999-12-31T23:30:00+00:00"}})
    # then
    assert result.errors == []
    assert [(e["code"], e["path"]) for e in result.data["activityUpdate"]["errors"]] == [("INVALID", ["input", "startsAt"])]


@pytest.mark.parametrize("due", ["2030-01-02T09:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"])
async def test_a_task_due_date_must_be_an_instant(org: TestOrg, due: str) -> None:
    # when
    result = await org.gql(TASK_CREATE, {"input": {"body": "Call back", "dueAt": due}})
    # then
    assert result.errors == []
    assert [(e["code"], e["path"]) for e in result.data["taskCreate"]["errors"]] == [("INVALID", ["input", "dueAt"])]


# ------------------------------------------------------------------ NUL characters


async def test_nul_in_a_text_input_is_bad_user_input_at_its_path(org: TestOrg) -> None:
    # when
    result = await org.gql(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "Dupré\u0000"}})
    # then
    assert result.data is None
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["inputPath"] == ["$input", "companyName"]


async def test_nul_in_a_search_variable_is_bad_user_input(org: TestOrg) -> None:
    # when
    result = await org.gql(SEARCH, {"search": "a\u0000b"})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["inputPath"] == ["$search"]


async def test_nul_in_a_search_literal_is_bad_user_input_at_its_argument(org: TestOrg) -> None:
    # when
    result = await org.gql(SEARCH_LITERAL)
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["inputPath"] == ["filter", "search"]


async def test_nul_in_a_json_setting_value_is_bad_user_input(org: TestOrg) -> None:
    # when
    result = await org.gql(
        "mutation ($value: JSON!) { organizationSettingSet(key: \"activities.gps_radius_m\", value: $value) { errors { code } } }",
        {"value": {"nested": ["ok", "bad\u0000"]}},
    )
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["inputPath"] == ["$value", "nested", 1]


# ------------------------------------------------------------------ HTTP: downloads and tokens


@pytest.mark.parametrize("key", [2**31, 10**30, -1])
async def test_download_with_an_out_of_range_key_is_404(org: TestOrg, client: httpx.AsyncClient, key: int) -> None:
    # when
    response = await client.get(f"/files/customer-documents/{encode_id('CustomerDocument', key)}", headers={"Authorization": f"Bearer {org.token('admin')}"})
    # then
    assert response.status_code == 404


@pytest.mark.parametrize(("sub", "org_id"), [(str(2**31), None), ("1", 2**31), (str(10**30), None), ("1", -1), ("1", 10**30)])
async def test_a_signed_token_naming_an_out_of_range_id_is_unauthenticated(
    org: TestOrg, client: httpx.AsyncClient, sub: str, org_id: int | None
) -> None:
    # given
    claims = {"sub": sub, "org": org.organization_id if org_id is None else org_id, "exp": 4_000_000_000}
    token = jwt.encode(claims, org.state.settings.secret_key, algorithm=ALGORITHM)
    auth = {"Authorization": f"Bearer {token}"}
    # when
    graphql_response = await client.post("/graphql", json={"query": "{ viewer { user { id } } }"}, headers=auth)
    download = await client.get(f"/files/customer-documents/{encode_id('CustomerDocument', 1)}", headers=auth)
    # then
    assert graphql_response.status_code == 200
    assert [error["extensions"]["code"] for error in graphql_response.json()["errors"]] == ["UNAUTHENTICATED"]
    assert download.status_code == 401
