"""Apollo Client's persisted-query link (npm ``@apollo/client``, in Node) against the
gateway: the first request sends only the hash, the gateway asks for the text, the link
sends both, and from then on the hash alone is enough, over GET for queries (so HTTP caches
can keep them) and over POST for mutations. Then the same client against a gateway in
trusted-documents mode."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fiche.app import create_app
from fiche.persisted import sha256
from tests.clients.support import NodeScript
from tests.support import TestOrg, live_server


def apollo(host: str, token: str) -> contextlib.AbstractAsyncContextManager[NodeScript]:
    config = {"url": f"http://{host}/graphql", "token": token, "useGETForHashedQueries": True}
    return NodeScript.start("apollo_persisted_client.mjs", json.dumps(config))


async def run(client: NodeScript, command: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The HTTP requests Apollo sent for ``command``, and its outcome."""
    await client.send(command)
    requests: list[dict[str, Any]] = []
    while True:
        event = await client.event()
        if event["event"] == "request":
            requests.append(event)
        else:
            return requests, event


def get_params(request: dict[str, Any]) -> dict[str, Any]:
    params = {key: values[0] for key, values in parse_qs(urlsplit(request["url"]).query).items()}
    return {**params, "extensions": json.loads(params["extensions"])}


async def test_apollo_client_registers_a_query_once_then_sends_its_hash_over_get(node_client: None, org: TestOrg, host: str) -> None:
    query = f"query Viewer{uuid.uuid4().hex[:8]} {{ viewer {{ user {{ handle }} }} }}"
    async with apollo(host, org.token("member")) as client:
        # when: the same query twice
        first_requests, first = await run(client, {"id": "one", "query": query})
        second_requests, second = await run(client, {"id": "two", "query": query})
    # then: hash alone over GET, refused; hash and text over POST; then the hash alone over GET
    expected = {"viewer": {"user": {"handle": "member", "__typename": "User"}, "__typename": "Viewer"}}
    assert (first["event"], first.get("data")) == (second["event"], second.get("data")) == ("result", expected), (first, second)
    assert [request["method"] for request in first_requests] == ["GET", "POST"]
    # (Apollo hashes the document it prints, with __typename added)
    digest = {"version": 1, "sha256Hash": sha256(first_requests[1]["body"]["query"])}
    assert "query" not in get_params(first_requests[0])
    assert get_params(first_requests[0])["extensions"] == {"persistedQuery": digest}
    assert first_requests[1]["body"]["extensions"] == {"persistedQuery": digest}
    assert "query" in first_requests[1]["body"]
    assert [request["method"] for request in second_requests] == ["GET"]
    assert "query" not in get_params(second_requests[0])


async def test_apollo_client_sends_mutations_over_post(node_client: None, org: TestOrg, host: str) -> None:
    name = f"Apollo {uuid.uuid4().hex[:6]}"
    mutation = "mutation TeamCreate($name: String!) { teamCreate(name: $name) { errors { code } } }"
    async with apollo(host, org.token("admin")) as client:
        # when
        requests, outcome = await run(client, {"id": "m", "mutation": mutation, "variables": {"name": name}})
    # then
    assert outcome["event"] == "result", outcome
    assert {request["method"] for request in requests} == {"POST"}
    assert {"name": name} in (await org.ok("{ teams { name } }"))["teams"]


async def test_apollo_client_against_trusted_documents(node_client: None, org: TestOrg, tmp_path: Path) -> None:
    # given: a manifest with the one query the app ships
    # Apollo adds __typename to selections: the manifest holds the text it sends.
    shipped = "query Shipped {\n  viewer {\n    user {\n      handle\n      __typename\n    }\n    __typename\n  }\n}"
    manifest = tmp_path / "persisted-query-manifest.json"
    operations = [{"id": sha256(shipped), "name": "Shipped", "type": "query", "body": shipped}]
    manifest.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}))
    state = dataclasses.replace(org.state, settings=dataclasses.replace(org.state.settings, trusted_documents=str(manifest)))
    async with live_server(create_app(state.settings, state=state)) as address, apollo(address, org.token("member")) as client:
        # when
        shipped_requests, ran = await run(client, {"id": "shipped", "query": "query Shipped { viewer { user { handle } } }"})
        _, refused = await run(client, {"id": "other", "query": "query Other { viewer { user { name } } }"})
    # then: the shipped query runs by hash alone; any other is refused with a typed error
    assert ran["data"] == {"viewer": {"user": {"handle": "member", "__typename": "User"}, "__typename": "Viewer"}}, ran
    assert [request["method"] for request in shipped_requests] == ["GET"]
    codes = [error["extensions"]["code"] for error in refused["errors"]]
    assert codes == ["DOCUMENT_NOT_TRUSTED"], refused
