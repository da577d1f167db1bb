"""The operation log: one line per GraphQL operation, over HTTP and WebSocket, with the
request id, the operation, who ran it, how long it took and how it ended; a traceback
only for a bug."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from fiche.context import OperationScope
from fiche.logs import JsonFormatter
from tests.gateway.conftest import PROBE
from tests.gateway.ws_client import LEGACY_WS, TRANSPORT_WS, open_socket
from tests.support import TestOrg

VIEWER = "query Viewer { viewer { user { handle } } }"
TOO_DEEP = "query Deep { viewer { user { " + "teams { members { " * 6 + "name" + " }" * 14 + " }"
TYPO = "query Typo { viewer { usr { name } } }"
BROKEN = "query Broken { viewer { "
USERS_OF_TEAM = "query Users($team: ID!) { users(filter: {teamId: $team}) { nodes { name } } }"
PROBE_PUBLIC_ERROR = "query Refused { probePublicError }"
PROBE_USER_ERRORS = "query Wrong { probeUserErrors }"
PROBE_BOOM = "query Boom { probeBoom }"
MUTATION = 'mutation Create { teamCreate(name: "Via GET") { errors { code } } }'
COUNT = "subscription Count($to: Int!) { probeCount(to: $to) }"
FIELDS = ("request_id", "transport", "operation_type", "operation_name", "user_id", "organization_id", "duration_ms", "outcome")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def fields(self) -> list[dict[str, Any]]:
        return [dict(record.fields) for record in self.records]  # type: ignore[attr-defined]


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


@pytest.fixture
def operations() -> Iterator[Records]:
    """The records of the ``fiche.graphql`` logger, at INFO."""
    logger = logging.getLogger("fiche.graphql")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def bearer(org: TestOrg, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.token(who)}"}


async def test_answered_operation_is_logged_once_with_its_context(org: TestOrg, client: httpx.AsyncClient, operations: Records) -> None:
    # when
    response = await post(client, VIEWER, **bearer(org, "member"))
    # then
    assert response.json()["data"] == {"viewer": {"user": {"handle": "member"}}}
    [record] = operations.records
    fields = operations.fields()[0]
    assert record.levelno == logging.INFO and record.exc_info is None
    assert set(FIELDS) <= fields.keys()
    assert fields["request_id"] == response.headers["X-Request-ID"]
    assert (fields["transport"], fields["operation_type"], fields["operation_name"]) == ("http", "query", "Viewer")
    assert (fields["user_id"], fields["organization_id"]) == (org.users["member"].id, org.organization_id)
    assert fields["outcome"] == "OK" and fields["error_codes"] == []
    assert isinstance(fields["duration_ms"], float) and fields["duration_ms"] >= 0


async def test_incoming_request_id_is_kept_and_returned(org: TestOrg, client: httpx.AsyncClient, operations: Records) -> None:
    # when
    response = await post(client, VIEWER, **bearer(org, "member"), **{"X-Request-ID": "trace-42"})
    # then
    assert response.headers["X-Request-ID"] == "trace-42"
    assert operations.fields()[0]["request_id"] == "trace-42"


async def test_unusable_request_id_is_replaced(org: TestOrg, client: httpx.AsyncClient, operations: Records) -> None:
    # when
    response = await post(client, VIEWER, **bearer(org, "member"), **{"X-Request-ID": "x" * 500})
    # then
    assert response.headers["X-Request-ID"] != "x" * 500
    assert operations.fields()[0]["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("query", "variables", "who", "outcome"),
    [
        (VIEWER, None, None, "UNAUTHENTICATED"),
        (PROBE_PUBLIC_ERROR, None, "member", "FORBIDDEN"),
        (PROBE_USER_ERRORS, None, "member", "INVALID"),
        (USERS_OF_TEAM, {"team": "garbage"}, "member", "BAD_USER_INPUT"),
        (TOO_DEEP, None, "member", "QUERY_TOO_DEEP"),
        (TYPO, None, "member", "GRAPHQL_VALIDATION_FAILED"),
        (BROKEN, None, "member", "GRAPHQL_PARSE_FAILED"),
    ],
)
async def test_expected_failure_is_one_line_without_traceback(
    org: TestOrg, client: httpx.AsyncClient, operations: Records, query: str, variables: dict[str, Any] | None, who: str | None, outcome: str
) -> None:
    # when
    await post(client, query, variables, **(bearer(org, who) if who else {}))
    # then
    [record] = operations.records
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    assert operations.fields()[0]["outcome"] == outcome
    assert "exception" not in orjson.loads(JsonFormatter().format(record))


async def test_request_refused_by_the_transport_is_one_line_without_traceback(
    org: TestOrg, client: httpx.AsyncClient, operations: Records
) -> None:
    # when: mutations are not run over GET
    response = await client.get(
        "/graphql", params={"query": MUTATION}, headers={"Accept": "application/json", **bearer(org, "admin")}
    )
    # then
    assert response.status_code == 400
    [record] = operations.records
    assert record.levelno == logging.INFO and record.exc_info is None
    assert operations.fields()[0]["outcome"] == "BAD_USER_INPUT"


async def test_unexpected_error_is_logged_with_its_traceback_and_masked_for_the_client(
    org: TestOrg, client: httpx.AsyncClient, operations: Records
) -> None:
    # when
    response = await post(client, PROBE_BOOM, **bearer(org, "member"))
    # then
    assert response.json()["errors"][0]["message"] == "Unexpected error."
    [record] = operations.records
    assert record.levelno == logging.ERROR
    assert operations.fields()[0]["outcome"] == "INTERNAL_SERVER_ERROR"
    line = orjson.loads(JsonFormatter().format(record))
    assert "RuntimeError: probe internals: password=hunter2" in line["exception"]
    assert line["operation_name"] == "Boom"


async def test_unexpected_error_raised_by_an_extension_hook_is_masked_and_logged(
    org: TestOrg, client: httpx.AsyncClient, operations: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a bug in a hook that runs before any resolver
    def broken_on_execute(self: OperationScope) -> Iterator[None]:
        raise RuntimeError("hook internals: token=s3cret")
        yield

    monkeypatch.setattr(OperationScope, "on_execute", broken_on_execute)
    # when
    response = await post(client, VIEWER, **bearer(org, "member"))
    # then
    assert response.json()["errors"] == [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
    [record] = operations.records
    assert record.levelno == logging.ERROR
    assert "RuntimeError: hook internals: token=s3cret" in orjson.loads(JsonFormatter().format(record))["exception"]


async def test_nothing_is_logged_when_info_is_disabled(org: TestOrg, client: httpx.AsyncClient, operations: Records) -> None:
    # given
    logging.getLogger("fiche.graphql").setLevel(logging.WARNING)
    # when
    await post(client, VIEWER, **bearer(org, "member"))
    # then
    assert operations.records == []


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_operation_over_a_socket_is_logged_once_it_completes(org: TestOrg, server: str, operations: Records, protocol: str) -> None:
    async with open_socket(server, protocol=protocol) as socket:
        await socket.init(bearer(org, "manager"))
        # when
        await socket.query("1", VIEWER)
        await socket.subscribe("2", COUNT, {"to": 3})
        await socket.results("2", 3)
        assert await socket.next("2") is None
        handshake = socket.connection.response
    # then: one line per operation, not per event
    lines = operations.fields()
    assert [(line["operation_type"], line["operation_name"], line["outcome"]) for line in lines] == [
        ("query", "Viewer", "OK"),
        ("subscription", "Count", "OK"),
    ]
    assert {line["transport"] for line in lines} == {"ws"}
    assert {line["user_id"] for line in lines} == {org.users["manager"].id}
    assert handshake is not None
    assert lines[0]["request_id"] == lines[1]["request_id"] == handshake.headers["X-Request-ID"]  # the connection's id
