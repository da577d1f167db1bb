"""Errors clients can read, over HTTP and both WebSocket protocols on a real server: a
syntax error, a limit, a validation error or the introspection switch answers with the
GraphQL errors and their ``extensions.code`` (an ``error`` message over WebSocket, never a
bare ``complete`` nor a closed socket); queries and mutations run over the legacy
``graphql-ws``; and with introspection off no message suggests a name of the schema."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from fiche.app import create_app
from fiche.context import AppState
from fiche.settings import Settings
from tests.gateway.conftest import PROBE
from tests.gateway.ws_client import LEGACY_WS, TRANSPORT_WS, GraphQLSocket, open_socket
from tests.support import TestOrg, live_server
from tests.live_fixtures import each_ws_server  # noqa: F401  (both WebSocket layers)

HTTP = "http"
TRANSPORTS = [HTTP, TRANSPORT_WS, LEGACY_WS]
SOCKETS = [TRANSPORT_WS, LEGACY_WS]

MAX_DEPTH = 4
MAX_ALIASES = 2
MAX_TOKENS = 60
MAX_COST = 2_000

VIEWER = "query Viewer { viewer { user { handle } } }"
BROKEN = "query Broken { viewer { user { "
TOO_DEEP = "query Deep { viewer { user { teams { members { teams { name } } } } } }"
TOO_COSTLY = "query Costly { users(first: 100) { nodes { teams { name } } } }"  # 1 + 100 × (1 + 20)
TOO_MANY_ALIASES = "query Aliases { a: viewer { user { name } } b: viewer { user { name } } c: viewer { user { name } } }"
TOO_LONG = "query Long { viewer { user { " + "name " * MAX_TOKENS + "} } }"
UNKNOWN_FIELD = "query Typo { viewer { usr { name } } }"
SCHEMA_INTROSPECTION = "query Schema { __schema { queryType { name } } }"
TYPE_INTROSPECTION = 'query Type { __type(name: "User") { name } }'
TWO_OPERATIONS = "query One { viewer { user { handle } } } query Two { viewer { user { name } } }"
TEAM_CREATE = 'mutation Create { teamCreate(name: "Sneaky") { errors { code } } }'
USERS_PAGE = "query Users($first: Int) { users(first: $first) { nodes { name } } }"
USERS_BY_ROLE = "query Users($filter: UserFilter) { users(filter: $filter) { nodes { name } } }"

# A typo of a schema name in each place graphql-core would suggest the right one.
TYPOS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("field", UNKNOWN_FIELD, None, "'user'"),
    ("argument", "query Page { users(frist: 2) { nodes { name } } }", None, "'first'"),
    ("type", "query Users($filter: UserFiltr) { users(filter: $filter) { nodes { name } } }", None, "'UserFilter'"),
    ("enum literal", "query Users { users(filter: {role: ADMN}) { nodes { name } } }", None, "'ADMIN'"),
    ("enum variable", USERS_BY_ROLE, {"filter": {"role": "ADMN"}}, "'ADMIN'"),
    ("input field variable", USERS_BY_ROLE, {"filter": {"serch": "a"}}, "'search'"),
]

LIMIT_CODES = {
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COSTLY",
    "TOO_MANY_TOKENS",
    "TOO_MANY_ALIASES",
    "INTROSPECTION_DISABLED",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
}

Ask = Callable[..., Awaitable[tuple[str, dict[str, Any]]]]


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        max_query_depth=MAX_DEPTH,
        max_aliases=MAX_ALIASES,
        max_query_tokens=MAX_TOKENS,
        max_query_cost=MAX_COST,
        introspection=False,
    )


async def _over_socket(socket: GraphQLSocket, query: str, variables: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    await socket.subscribe("op", query, variables)
    message = await socket.receive()
    assert message["id"] == "op"
    result = socket.result_of(message)
    assert result is not None, "the operation completed without an answer"
    if message["type"] in ("next", "data"):
        assert await socket.next("op") is None  # a query's single result, then complete
    return message["type"], result


def asker(org: TestOrg, address: str) -> Ask:
    """``ask(transport, query, variables)``: the kind of the answer (``http``, or the
    WebSocket message type) and the result, as the member of ``org``, on a fresh connection."""

    async def ask(transport: str, query: str, variables: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        if transport == HTTP:
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                response = await http.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {org.token('member')}"},
                )
            assert response.status_code == 200
            return HTTP, dict(response.json())
        async with open_socket(address, protocol=transport) as socket:
            await socket.init({"Authorization": f"Bearer {org.token('member')}"})
            return await _over_socket(socket, query, variables)

    return ask


@pytest.fixture
def ask(org: TestOrg, server: str) -> Ask:
    return asker(org, server)


@pytest.fixture
async def open_server(state: AppState) -> AsyncIterator[str]:
    """The same gateway with introspection switched on."""
    opened = dataclasses.replace(state, settings=dataclasses.replace(state.settings, introspection=True))
    async with live_server(create_app(state=opened)) as address:
        yield address


def codes(result: dict[str, Any]) -> set[str | None]:
    return {(error.get("extensions") or {}).get("code") for error in result["errors"]}


def refusal_kind(transport: str) -> str:
    return HTTP if transport == HTTP else "error"


# ------------------------------------------------------------------ refusals carry a code


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("query", "code"),
    [
        (TOO_DEEP, "QUERY_TOO_DEEP"),
        (TOO_COSTLY, "QUERY_TOO_COSTLY"),
        (TOO_LONG, "TOO_MANY_TOKENS"),
        (TOO_MANY_ALIASES, "TOO_MANY_ALIASES"),
        (SCHEMA_INTROSPECTION, "INTROSPECTION_DISABLED"),
        (TYPE_INTROSPECTION, "INTROSPECTION_DISABLED"),
        (BROKEN, "GRAPHQL_PARSE_FAILED"),
        (UNKNOWN_FIELD, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_refused_document_is_answered_with_coded_errors(ask: Ask, transport: str, query: str, code: str) -> None:
    # when
    kind, result = await ask(transport, query)
    # then
    assert kind == refusal_kind(transport)
    assert result.get("data") is None
    # A document may break several limits (the deep one is costly too): each is reported.
    assert code in codes(result)
    assert codes(result) <= LIMIT_CODES
    assert all(error["message"] != "Unexpected error." for error in result["errors"])


@pytest.mark.parametrize("transport", SOCKETS)
async def test_socket_keeps_serving_after_a_refused_document(org: TestOrg, server: str, transport: str) -> None:
    async with open_socket(server, protocol=transport) as socket:
        await socket.init({"Authorization": f"Bearer {org.token('member')}"})
        # when
        refused = await _over_socket(socket, BROKEN, None)
        answered = await _over_socket(socket, VIEWER, None)
    # then
    assert refused[0] == "error"
    assert answered[1] == {"data": {"viewer": {"user": {"handle": "member"}}}}


@pytest.mark.parametrize("transport", SOCKETS)
async def test_subscription_with_an_unknown_field_is_answered_with_an_error(ask: Ask, transport: str) -> None:
    # when
    kind, result = await ask(transport, "subscription Typo { probeCont(to: 1) }")
    # then
    assert kind == "error"
    assert codes(result) == {"GRAPHQL_VALIDATION_FAILED"}


@pytest.mark.parametrize("transport", SOCKETS)
async def test_unknown_operation_name_is_explained_not_masked(org: TestOrg, server: str, transport: str) -> None:
    async with open_socket(server, protocol=transport) as socket:
        await socket.init({"Authorization": f"Bearer {org.token('member')}"})
        # when
        kind = "subscribe" if transport == TRANSPORT_WS else "start"
        await socket.send({"id": "op", "type": kind, "payload": {"query": TWO_OPERATIONS, "operationName": "Three"}})
        message = await socket.receive()
    # then
    assert message["type"] == "error"
    result = socket.result_of(message)
    assert result is not None and codes(result) == {"BAD_USER_INPUT"}
    assert 'Unknown operation named "Three"' in result["errors"][0]["message"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_variable_that_does_not_coerce_is_a_bad_user_input(ask: Ask, transport: str) -> None:
    # when
    _, result = await ask(transport, USERS_PAGE, {"first": "ten"})
    # then
    assert codes(result) == {"BAD_USER_INPUT"}
    assert "$first" in result["errors"][0]["message"]


# ------------------------------------------------------------------ legacy graphql-ws runs every operation


async def test_query_over_legacy_protocol_answers_data_then_complete(ask: Ask) -> None:
    # when
    kind, result = await ask(LEGACY_WS, VIEWER)
    # then
    assert kind == "data"
    assert result == {"data": {"viewer": {"user": {"handle": "member"}}}}


async def test_mutation_over_legacy_protocol_runs_as_the_connected_user(ask: Ask) -> None:
    # when
    kind, result = await ask(LEGACY_WS, TEAM_CREATE)
    # then: the member's role applies
    assert kind == "data"
    assert result == {"data": {"teamCreate": {"errors": [{"code": "FORBIDDEN"}]}}}


# ------------------------------------------------------------------ no suggestions without introspection


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("case", "query", "variables", "hint"), TYPOS, ids=[typo[0] for typo in TYPOS])
async def test_no_suggestion_without_introspection(
    ask: Ask, transport: str, case: str, query: str, variables: dict[str, Any] | None, hint: str
) -> None:
    # when
    _, result = await ask(transport, query, variables)
    # then: the mistake is still explained, without naming what the schema holds
    messages = " ".join(error["message"] for error in result["errors"])
    assert result["errors"] and "Did you mean" not in messages and hint not in messages
    assert None not in codes(result)


@pytest.mark.parametrize(("case", "query", "variables", "hint"), TYPOS, ids=[typo[0] for typo in TYPOS])
async def test_suggestions_are_given_with_introspection(
    org: TestOrg, open_server: str, case: str, query: str, variables: dict[str, Any] | None, hint: str
) -> None:
    # when
    _, result = await asker(org, open_server)(HTTP, query, variables)
    # then
    messages = " ".join(error["message"] for error in result["errors"])
    assert "Did you mean" in messages and hint in messages
