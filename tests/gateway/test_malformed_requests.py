"""Malformed requests are the client's mistake: HTTP 400 with a message saying what is
wrong (a 4400 close over ``graphql-transport-ws``), never a 500, whatever carries the JSON:
a POST body, GET ``variables``/``extensions``, multipart ``operations``/``map`` or a
WebSocket message."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from fiche.jsonlimits import MAX_JSON_DEPTH, JSONTooDeep, NotAnObject, loads, loads_object
from tests.gateway.conftest import PROBE
from tests.gateway.ws_client import LEGACY_WS, open_socket, receive_text
from tests.support import TestOrg

VIEWER = "{ viewer { user { handle } } }"
NODE = "query Node($id: ID!) { node(id: $id) { id } }"
COUNT = "subscription Count($to: Int!) { probeCount(to: $to) }"
TOO_DEEP = 2000


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


def nested(depth: int) -> str:
    """A JSON object nested ``depth`` levels deep (written by hand: encoders refuse it)."""
    return '{"a": ' * depth + "1" + "}" * depth


def body_with_variables(variables: str, query: str = NODE) -> str:
    return f'{{"query": {json.dumps(query)}, "variables": {variables}}}'


def headers(org: TestOrg) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.token('admin')}"}


# ------------------------------------------------------------------ the parser


def test_json_within_the_depth_limit_is_parsed() -> None:
    # given: the envelope and variables together at the limit
    document = nested(MAX_JSON_DEPTH - 1)
    # when
    value = loads(document)
    # then
    depth = 0
    while isinstance(value, dict):
        value, depth = value["a"], depth + 1
    assert depth == MAX_JSON_DEPTH - 1


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, TOO_DEEP, 100_000])
def test_json_past_the_depth_limit_is_a_decoding_error(depth: int) -> None:
    # when / then
    with pytest.raises(json.JSONDecodeError):
        loads(nested(depth))


def test_a_long_flat_list_is_not_deep() -> None:
    # when
    value = loads("[" + ",".join(["[1]"] * 10_000) + "]")
    # then
    assert isinstance(value, list) and len(value) == 10_000


def test_too_deep_json_says_so() -> None:
    # when
    with pytest.raises(JSONTooDeep) as raised:
        loads(nested(MAX_JSON_DEPTH + 1))
    # then
    assert f"deeper than {MAX_JSON_DEPTH} levels" in str(raised.value)


@pytest.mark.parametrize("document", ["[]", "1", '"x"', "null", "true"])
def test_a_request_document_must_be_an_object(document: str) -> None:
    # when / then
    with pytest.raises(NotAnObject):
        loads_object(document)


# ------------------------------------------------------------------ POST


async def test_deeply_nested_post_body_is_a_400_even_anonymous(client: httpx.AsyncClient) -> None:
    # when
    response = await client.post("/graphql", content=body_with_variables(nested(TOO_DEEP)), headers={"Content-Type": "application/json"})
    # then
    assert response.status_code == 400
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in response.text


async def test_deep_but_legitimate_variables_still_pass(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given: an unused variable nested 40 levels, far deeper than any input of the schema
    body = body_with_variables('{"id": "x", "extra": ' + nested(40) + "}", query=VIEWER)
    # when
    response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json", **headers(org)})
    # then
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["user"]["handle"] == "admin"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "Unable to parse request JSON"),
        (b"\xff\xfe{}", "Unable to parse request JSON"),  # not UTF-8
        (b'{"query": NaN}', "Unable to parse request JSON"),
        (b"null", "expected a JSON object"),
        (b"false", "expected a JSON object"),
        (b'"{ viewer { user { handle } } }"', "expected a JSON object"),
        (b"12", "expected a JSON object"),
    ],
)
async def test_malformed_post_bodies_are_400(client: httpx.AsyncClient, body: bytes, message: str) -> None:
    # when
    response = await client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    # then
    assert response.status_code == 400
    assert message in response.text


@pytest.mark.parametrize(
    "body",
    [
        {"query": 12},
        {"query": VIEWER, "variables": [1, 2]},
        {"query": VIEWER, "variables": "x"},
        {"query": VIEWER, "extensions": 3},
        [1, 2],
        [{"query": VIEWER}, "x"],
    ],
)
async def test_bodies_of_the_wrong_shape_are_400(client: httpx.AsyncClient, body: object) -> None:
    # when
    response = await client.post("/graphql", json=body)
    # then
    assert response.status_code == 400


# ------------------------------------------------------------------ GET


@pytest.mark.parametrize("parameter", ["variables", "extensions"])
async def test_deeply_nested_get_parameter_is_a_400(client: httpx.AsyncClient, parameter: str) -> None:
    # when
    response = await client.get("/graphql", params={"query": VIEWER, parameter: nested(TOO_DEEP)}, headers={"Accept": "application/json"})
    # then
    assert response.status_code == 400
    assert "nested deeper than" in response.text


@pytest.mark.parametrize("variables", ["{", "[1]", "null", "7"])
async def test_malformed_get_variables_are_a_400(client: httpx.AsyncClient, variables: str) -> None:
    # when
    response = await client.get("/graphql", params={"query": VIEWER, "variables": variables}, headers={"Accept": "application/json"})
    # then
    assert response.status_code == 400


# ------------------------------------------------------------------ multipart


def multipart(operations: str, map_: str) -> dict[str, object]:
    return {"data": {"operations": operations, "map": map_}, "files": {"0": ("a.txt", b"hello", "text/plain")}}


@pytest.mark.parametrize(
    ("operations", "map_"),
    [
        (nested(TOO_DEEP), '{"0": ["variables.file"]}'),
        (body_with_variables('{"file": null}'), nested(TOO_DEEP)),
        ("{", '{"0": ["variables.file"]}'),
        ("null", '{"0": ["variables.file"]}'),
        (body_with_variables('{"file": null}'), "[1]"),
        (body_with_variables('{"file": null}'), '{"0": "variables.file"}'),
        (body_with_variables('{"file": null}'), '{"0": [3]}'),
        (body_with_variables('{"file": null}'), '{"0": ["variables.nothing.deeper"]}'),
        (body_with_variables('{"file": null}'), '{"1": ["variables.file"]}'),
    ],
)
async def test_malformed_multipart_requests_are_400(client: httpx.AsyncClient, operations: str, map_: str) -> None:
    # when
    response = await client.post("/graphql", **multipart(operations, map_))  # type: ignore[arg-type]
    # then
    assert response.status_code == 400


# ------------------------------------------------------------------ WebSocket


async def test_deeply_nested_websocket_message_closes_the_socket_with_4400(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        assert (await socket.init({"Authorization": f"Bearer {org.token('admin')}"}))["type"] == "connection_ack"
        # when
        await socket.connection.send('{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }", "variables": ' + nested(TOO_DEEP) + "}}")
        # then
        with pytest.raises(ConnectionClosed) as closed:
            await receive_text(socket.connection)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


async def test_deeply_nested_connection_init_closes_the_socket_with_4400(server: str) -> None:
    async with open_socket(server) as socket:
        # when
        await socket.connection.send('{"type": "connection_init", "payload": ' + nested(TOO_DEEP) + "}")
        # then
        with pytest.raises(ConnectionClosed) as closed:
            await receive_text(socket.connection)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


async def test_legacy_protocol_ignores_a_deeply_nested_message_and_keeps_serving(org: TestOrg, server: str) -> None:
    # graphql-ws (legacy) ignores messages it cannot parse; the connection must survive it.
    async with open_socket(server, protocol=LEGACY_WS) as socket:
        assert (await socket.init({"Authorization": f"Bearer {org.token('admin')}"}))["type"] == "connection_ack"
        # when
        await socket.connection.send('{"id": "1", "type": "start", "payload": ' + nested(TOO_DEEP) + "}")
        await socket.subscribe("2", COUNT, {"to": 1})
        results = await socket.results("2", 1)
    # then
    assert results[0]["data"]["probeCount"].startswith("1")


@pytest.mark.parametrize("message", ["1", "null", "[]", '"connection_init"', '{"type": 7}', "{"])
async def test_a_websocket_message_that_is_not_a_message_object_closes_with_4400(server: str, message: str) -> None:
    async with open_socket(server) as socket:
        # when
        await socket.connection.send(message)
        # then
        with pytest.raises(ConnectionClosed) as closed:
            await receive_text(socket.connection)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


@pytest.mark.parametrize("message", ["1", "null", "[]", '"start"', '{"type": 7}'])
async def test_legacy_protocol_survives_messages_that_are_not_message_objects(org: TestOrg, server: str, message: str) -> None:
    async with open_socket(server, protocol=LEGACY_WS) as socket:
        assert (await socket.init({"Authorization": f"Bearer {org.token('admin')}"}))["type"] == "connection_ack"
        # when
        await socket.connection.send(message)
        await socket.subscribe("2", COUNT, {"to": 1})
        results = await socket.results("2", 1)
    # then
    assert results[0]["data"]["probeCount"].startswith("1")


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ('{"id": "1", "type": "start", "payload": 5}', "payload"),
        ('{"id": "1", "type": "start"}', "payload"),
        ('{"id": "1", "type": "start", "payload": {"query": 5}}', "query"),
        ('{"id": "1", "type": "start", "payload": {"query": "{ __typename }", "variables": [1]}}', "variables"),
        ('{"id": "1", "type": "start", "payload": {"query": "{ __typename }", "operationName": 3}}', "operationName"),
        ('{"id": 1, "type": "start", "payload": {"query": "{ __typename }"}}', "id"),
    ],
)
async def test_legacy_start_of_the_wrong_shape_is_answered_with_an_error(org: TestOrg, server: str, message: str, problem: str) -> None:
    async with open_socket(server, protocol=LEGACY_WS) as socket:
        assert (await socket.init({"Authorization": f"Bearer {org.token('admin')}"}))["type"] == "connection_ack"
        # when
        await socket.connection.send(message)
        answer = await socket.receive()
        await socket.subscribe("2", COUNT, {"to": 1})
        results = await socket.results("2", 1)
    # then: a readable error for the client's mistake, and the socket keeps serving
    assert answer["type"] == "error"
    assert problem in answer["payload"]["message"]
    assert answer["payload"]["extensions"]["code"] == "BAD_USER_INPUT"
    assert results[0]["data"]["probeCount"].startswith("1")
