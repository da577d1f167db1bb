"""Protection (G6): depth, token, alias and page-size limits refuse a query before any SQL
runs; unexpected errors are masked outside debug mode; introspection can be switched off."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from fiche.context import ConnectionContext
from fiche.relay import encode_id
from fiche.schema import build_schema
from tests.gateway.conftest import PROBE
from tests.support import TestOrg, count_statements

VIEWER = "{ viewer { user { name } } }"
USERS_PAGE = "query Users($first: Int) { users(first: $first) { nodes { name } } }"
USERS_OF_TEAM = "query Users($team: ID!) { users(filter: {teamId: $team}) { nodes { name } } }"
NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }"
PROBE_BOOM = "{ probeBoom }"
PROBE_PUBLIC_ERROR = "{ probePublicError }"
PROBE_USER_ERRORS = "{ probeUserErrors }"
PROBE_NOTIFY_FAIL = """
mutation Fail($to: [ID!]!) { probeNotify(recipientIds: $to, fail: true) { notified errors { code message path } } }
"""
PROBE_EXPLODE = "subscription { probeExplode }"
INTROSPECTION = "{ __schema { queryType { name } } }"
TYPE_INTROSPECTION = '{ __type(name: "User") { name } }'


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


def nested(depth: int) -> str:
    """``viewer { user { teams { members { teams ... { name } } } } } }`` with ``depth`` levels."""
    # viewer (1) > user (2) > teams (3) > members (4) > teams (5) ...
    levels = ["viewer", "user"] + ["teams" if index % 2 == 0 else "members" for index in range(depth - 2)]
    return "{ " + " { ".join(levels) + " { name }" + " }" * (len(levels) - 1) + " }"


def with_settings(org: TestOrg, **changes: Any) -> TestOrg:
    """The same organisation seen through a schema built with other settings."""
    settings = dataclasses.replace(org.state.settings, **changes)
    return dataclasses.replace(org, schema=build_schema(org.state.pm, settings))


# ------------------------------------------------------------------ limits: refused before any SQL


async def test_query_at_the_depth_limit_is_answered(org: TestOrg) -> None:
    # given: nested teams and members cost far more than the default limit (see test_cost)
    org = with_settings(org, max_query_cost=10**30)
    query = nested(org.state.settings.max_query_depth - 1)  # the leaf `name` is the last level
    # when
    with count_statements(org.state.db) as counter:
        result = await org.gql(query)
    # then
    assert result.errors == []
    assert counter.count > 0


async def test_query_deeper_than_the_limit_is_refused_before_any_sql(org: TestOrg) -> None:
    # given: a cost limit this nesting stays under, so that only the depth refuses it
    org = with_settings(org, max_query_cost=10**30)
    query = nested(org.state.settings.max_query_depth + 1)
    # when
    with count_statements(org.state.db) as counter:
        result = await org.gql(query)
    # then
    assert result.data is None
    assert len(result.errors) == 1
    assert "exceeds maximum operation depth" in result.errors[0]["message"]
    assert result.error_codes == ["QUERY_TOO_DEEP"]
    assert counter.count == 0


async def test_query_with_too_many_tokens_is_refused_before_any_sql(org: TestOrg) -> None:
    # given
    query = "{ viewer { user { " + "name " * org.state.settings.max_query_tokens + "} } }"
    # when
    with count_statements(org.state.db) as counter:
        result = await org.gql(query)
    # then
    assert result.data is None
    assert len(result.errors) == 1
    assert "tokens" in result.errors[0]["message"]
    assert result.error_codes == ["TOO_MANY_TOKENS"]
    assert counter.count == 0


async def test_query_with_too_many_aliases_is_refused_before_any_sql(org: TestOrg) -> None:
    # given
    count = org.state.settings.max_aliases + 1
    query = "{ " + " ".join(f"a{index}: viewer {{ user {{ name }} }}" for index in range(count)) + " }"
    # when
    with count_statements(org.state.db) as counter:
        result = await org.gql(query)
    # then
    assert result.data is None
    assert len(result.errors) == 1
    assert f"{count} aliases found" in result.errors[0]["message"]
    assert result.error_codes == ["TOO_MANY_ALIASES"]
    assert counter.count == 0


async def test_aliases_up_to_the_limit_are_answered(org: TestOrg) -> None:
    # given
    query = "{ " + " ".join(f"a{index}: viewer {{ user {{ name }} }}" for index in range(org.state.settings.max_aliases)) + " }"
    # when
    result = await org.gql(query)
    # then
    assert result.errors == []


async def test_page_larger_than_the_cap_is_refused_before_any_sql(org: TestOrg) -> None:
    # when
    with count_statements(org.state.db) as counter:
        result = await org.gql(USERS_PAGE, {"first": org.state.settings.max_page_size + 1})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert counter.count == 0


async def test_too_many_node_ids_are_refused_before_any_sql(org: TestOrg) -> None:
    # given
    ids = [encode_id("User", pk) for pk in range(1, org.state.settings.max_page_size + 2)]
    # when
    with count_statements(org.state.db) as counter:
        result = await org.gql(NODES, {"ids": ids})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert counter.count == 0


async def test_limits_follow_the_settings(org: TestOrg) -> None:
    # given
    strict = with_settings(org, max_query_depth=3)
    # when
    result = await strict.gql(nested(4))
    # then
    assert "exceeds maximum operation depth of 3" in result.errors[0]["message"]


# ------------------------------------------------------------------ error masking


async def test_unexpected_error_is_masked(org: TestOrg) -> None:
    # when
    result = await org.gql(PROBE_BOOM)
    # then
    assert [error["message"] for error in result.errors] == ["Unexpected error."]
    assert result.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert "hunter2" not in str(result.errors)


async def test_unexpected_error_shows_its_message_in_debug_mode(org: TestOrg) -> None:
    # given
    debug = with_settings(org, debug=True)
    # when
    result = await debug.gql(PROBE_BOOM)
    # then
    assert [error["message"] for error in result.errors] == ["probe internals: password=hunter2"]


async def test_public_error_is_never_masked(org: TestOrg) -> None:
    # when
    result = await org.gql(PROBE_PUBLIC_ERROR)
    # then
    assert [error["message"] for error in result.errors] == ["The probe refuses, publicly."]
    assert result.error_codes == ["FORBIDDEN"]


async def test_user_errors_in_a_payload_are_never_masked(org: TestOrg) -> None:
    # when
    data = await org.ok(PROBE_NOTIFY_FAIL, {"to": [encode_id("User", org.users["member"].id)]})
    # then
    assert data["probeNotify"]["errors"] == [{"code": "INVALID", "message": "The probe was asked to fail.", "path": ["fail"]}]


async def test_user_errors_raised_outside_a_payload_are_never_masked(org: TestOrg) -> None:
    # when
    result = await org.gql(PROBE_USER_ERRORS)
    # then
    assert [error["message"] for error in result.errors] == ["The probe finds this input wrong."]
    assert result.error_codes == ["INVALID"]


async def test_malformed_id_in_a_filter_is_a_bad_user_input_not_a_masked_error(org: TestOrg) -> None:
    # when
    result = await org.gql(USERS_OF_TEAM, {"team": "garbage"})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["message"] != "Unexpected error."


@pytest.mark.parametrize(
    ("variables", "explanation"),
    [({"first": "ten"}, "Int cannot represent non-integer value"), ({"first": 2**40}, "non 32-bit signed integer")],
)
async def test_invalid_variable_is_explained_not_masked(org: TestOrg, variables: dict[str, Any], explanation: str) -> None:
    # when
    result = await org.gql(USERS_PAGE, variables)
    # then
    assert len(result.errors) == 1
    assert "$first" in result.errors[0]["message"] and explanation in result.errors[0]["message"]


async def test_missing_required_variable_is_explained_not_masked(org: TestOrg) -> None:
    # when
    result = await org.gql("query Page($first: Int!) { users(first: $first) { nodes { name } } }", {})
    # then
    assert "Expected a value of non-null type 'Int!'" in result.errors[0]["message"]


async def test_unexpected_error_in_a_subscription_is_masked(org: TestOrg) -> None:
    # given
    context = ConnectionContext(org.state, viewer=org.viewer("member"))
    # when
    stream = await org.schema.subscribe(PROBE_EXPLODE, context_value=context)
    results = [result async for result in stream]  # type: ignore[union-attr]
    # then
    assert results[0].data == {"probeExplode": 1}
    assert [error.message for error in results[-1].errors or []] == ["Unexpected error."]


# ------------------------------------------------------------------ introspection


async def test_introspection_is_allowed_by_default(org: TestOrg) -> None:
    # when
    data = await org.ok(INTROSPECTION, as_="member")
    # then
    assert data == {"__schema": {"queryType": {"name": "Query"}}}


@pytest.mark.parametrize("query", [INTROSPECTION, TYPE_INTROSPECTION])
async def test_introspection_is_refused_when_switched_off(org: TestOrg, query: str) -> None:
    # given
    closed = with_settings(org, introspection=False)
    # when
    with count_statements(org.state.db) as counter:
        result = await closed.gql(query, as_="member")
    # then
    assert result.data is None
    assert "introspection" in result.errors[0]["message"].lower()
    assert set(result.error_codes) == {"INTROSPECTION_DISABLED"}
    assert counter.count == 0


async def test_typename_is_still_allowed_without_introspection(org: TestOrg) -> None:
    # given
    closed = with_settings(org, introspection=False)
    # when
    data = await closed.ok("{ __typename }", as_="member")
    # then
    assert data == {"__typename": "Query"}
