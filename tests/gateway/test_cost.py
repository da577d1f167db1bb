"""Query cost: an operation that may return too many objects is refused with
QUERY_TOO_COSTLY before any SQL runs; sizes come from `first` (literal, variable or
default), declared list bounds and fragments; introspection costs nothing."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from graphql import get_introspection_query
from strawberry.extensions import AddValidationRules
from strawberry.extensions.validation_cache import _get_validate_cache

from fiche.accounts.services import MAX_TEAM_MEMBERS, MAX_TEAMS, MAX_TEAMS_PER_USER
from fiche.context import ConnectionContext
from fiche.cost import MAX_REPORTED_COST
from fiche.relay import encode_id
from fiche.schema import build_schema
from tests.support import TestOrg, count_statements

EXPONENTIAL = "{ users(first:100) { nodes { teams { members { teams { members { teams { members { id } } } } } } } } }"
EXPONENTIAL_WITH_FRAGMENTS = """
query { users(first: 100) { nodes { ...Teams } } }
fragment Teams on User { teams { members { ... on User { teams { ...Members } } } } }
fragment Members on Team { members { teams { members { id } } } }
"""
TEAMS_OF_USERS = "query ($n: Int) { users(first: $n) { nodes { teams { members { id } } } } }"
TEAMS_OF_USERS_DEFAULT_100 = "query ($n: Int = 100) { users(first: $n) { nodes { teams { members { id } } } } }"
TEAMS_AND_MEMBERS = "{ teams { name members { name } } }"
USERS_DEFAULT_PAGE = "{ users { nodes { teams { name } } } }"
VIEWER = "{ viewer { user { name teams { name members { handle } } } } }"
COSTLY_SUBSCRIPTION = """
subscription ($after: ID) { notifications(after: $after) { actor { teams { members { teams { members { name } } } } } } }
"""
NODES = "query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Team { members { id } } } }"


def users_teams_members(first: int) -> int:
    """The cost of TEAMS_OF_USERS: the connection, then each user, its teams, their members."""
    return 1 + first * (1 + MAX_TEAMS_PER_USER * (1 + MAX_TEAM_MEMBERS))


def exponential_cost() -> int:
    members = MAX_TEAM_MEMBERS * 1
    for _ in range(2):
        members = MAX_TEAM_MEMBERS * (1 + MAX_TEAMS_PER_USER * (1 + members))
    return 1 + 100 * (1 + MAX_TEAMS_PER_USER * (1 + members))


def with_max_cost(org: TestOrg, max_query_cost: int) -> TestOrg:
    settings = dataclasses.replace(org.state.settings, max_query_cost=max_query_cost)
    return dataclasses.replace(org, schema=build_schema(org.state.pm, settings))


def too_costly(errors: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["extensions"]["code"], e["extensions"]["cost"], e["extensions"]["maxCost"]) for e in errors]


async def test_the_exponential_query_is_refused_before_any_sql(org: TestOrg) -> None:
    # when
    with count_statements(org.state.db) as counter:
        result = await org.gql(EXPONENTIAL)
    # then
    assert result.data is None
    assert too_costly(result.errors) == [("QUERY_TOO_COSTLY", exponential_cost(), org.state.settings.max_query_cost)]
    assert counter.count == 0


async def test_a_cost_past_json_numbers_is_reported_at_their_ceiling(org: TestOrg) -> None:
    # given: twenty levels of teams and members, a cost far past 2**53
    query = "{ users(first: 100) { nodes { " + "teams { members { " * 10 + "id" + " } }" * 10 + " } } }"
    settings = dataclasses.replace(org.state.settings, max_query_depth=100)
    org = dataclasses.replace(org, schema=build_schema(org.state.pm, settings))
    # when
    result = await org.gql(query)
    # then: a number every JSON client reads exactly, and an answer that encodes
    assert too_costly(result.errors) == [("QUERY_TOO_COSTLY", MAX_REPORTED_COST, settings.max_query_cost)]
    assert "more than" in result.errors[0]["message"]
    assert orjson.dumps(result.errors)


async def test_named_and_inline_fragments_are_costed_in_full(org: TestOrg) -> None:
    # when
    with count_statements(org.state.db) as counter:
        result = await org.gql(EXPONENTIAL_WITH_FRAGMENTS)
    # then: the same selection as EXPONENTIAL, spread over fragments
    assert too_costly(result.errors) == [("QUERY_TOO_COSTLY", exponential_cost(), org.state.settings.max_query_cost)]
    assert counter.count == 0


async def test_a_variable_first_is_costed_with_its_value_before_any_sql(org: TestOrg) -> None:
    # when
    with count_statements(org.state.db) as counter:
        result = await org.gql(TEAMS_OF_USERS, {"n": 100})
    # then
    assert too_costly(result.errors) == [("QUERY_TOO_COSTLY", users_teams_members(100), org.state.settings.max_query_cost)]
    assert counter.count == 0


async def test_a_small_variable_first_is_accepted(org: TestOrg) -> None:
    # given
    assert users_teams_members(2) <= org.state.settings.max_query_cost
    # when
    result = await org.gql(TEAMS_OF_USERS, {"n": 2})
    # then
    assert result.errors == [] and len(result.data["users"]["nodes"]) == 2


async def test_a_variable_left_out_is_costed_at_its_default_value(org: TestOrg) -> None:
    # when
    result = await org.gql(TEAMS_OF_USERS_DEFAULT_100)
    # then
    assert too_costly(result.errors) == [("QUERY_TOO_COSTLY", users_teams_members(100), org.state.settings.max_query_cost)]


async def test_a_missing_first_is_costed_at_the_default_page_size(org: TestOrg) -> None:
    # given: users (1), a page of 20 users, their teams
    cost = 1 + org.state.settings.default_page_size * (1 + MAX_TEAMS_PER_USER)
    strict = with_max_cost(org, cost - 1)
    # when
    result = await strict.gql(USERS_DEFAULT_PAGE)
    # then
    assert too_costly(result.errors) == [("QUERY_TOO_COSTLY", cost, cost - 1)]


async def test_a_list_sized_by_an_argument_is_costed_with_it(org: TestOrg) -> None:
    # given
    ids = [org.viewer("admin").user_id, org.viewer("member").user_id]
    strict = with_max_cost(org, 1)
    # when
    result = await strict.gql(NODES, {"ids": [encode_id("User", pk) for pk in ids]})
    # then: two nodes, each an object with (if a team) its members
    assert too_costly(result.errors) == [("QUERY_TOO_COSTLY", 2 * (1 + MAX_TEAM_MEMBERS), 1)]


async def test_declared_list_bounds_are_counted(org: TestOrg) -> None:
    # given
    strict = with_max_cost(org, 1)
    # when
    result = await strict.gql(TEAMS_AND_MEMBERS)
    # then
    assert too_costly(result.errors) == [("QUERY_TOO_COSTLY", MAX_TEAMS * (1 + MAX_TEAM_MEMBERS), 1)]


async def test_everyday_queries_are_answered(org: TestOrg) -> None:
    # when
    results = [await org.gql(VIEWER), await org.gql(TEAMS_AND_MEMBERS), await org.gql(TEAMS_OF_USERS, {"n": 10})]
    # then
    assert [result.errors for result in results] == [[], [], []]
    assert {team["name"] for team in results[1].data["teams"]} == {"North", "South"}


async def test_introspection_costs_nothing(org: TestOrg) -> None:
    # given: a limit that refuses any object at all
    strict = with_max_cost(org, 0)
    # when
    result = await strict.gql(get_introspection_query(descriptions=True))
    # then
    assert result.errors == [] and result.data["__schema"]["queryType"]["name"] == "Query"


async def test_the_cost_rule_is_built_once_per_schema_so_validation_is_cached(org: TestOrg) -> None:
    # given
    rules = [
        tuple(extension.validation_rules) for extension in org.schema.get_extensions() if isinstance(extension, AddValidationRules)
    ] + [
        tuple(extension.validation_rules) for extension in org.schema.get_extensions() if isinstance(extension, AddValidationRules)
    ]
    cache = _get_validate_cache(512)
    await org.gql(EXPONENTIAL)
    hits = cache.cache_info().hits
    # when
    result = await org.gql(EXPONENTIAL)
    # then: the same rule classes for every operation, and the refusal came from the cache
    assert rules[0] == rules[1] and any(rule.__name__ == "QueryCostRule" for rule in rules[0])
    assert cache.cache_info().hits == hits + 1
    assert too_costly(result.errors)[0][0] == "QUERY_TOO_COSTLY"


async def test_a_costly_subscription_is_refused_before_it_starts(org: TestOrg) -> None:
    # given
    context = ConnectionContext(org.state, viewer=org.viewer("member"))
    # when
    outcome = await org.schema.subscribe(COSTLY_SUBSCRIPTION, variable_values={"after": None}, context_value=context)
    results = [result async for result in outcome] if hasattr(outcome, "__aiter__") else [outcome]
    # then
    assert len(results) == 1 and results[0].data is None
    assert [(error.extensions or {}).get("code") for error in results[0].errors or []] == ["QUERY_TOO_COSTLY"]
