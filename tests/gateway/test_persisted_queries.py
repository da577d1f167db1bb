"""Automatic persisted queries in Apollo's wire format (POST and GET), and the
trusted-documents mode that runs only the documents of a manifest, on every transport."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fiche.app import create_app
from fiche.context import AppState
from fiche.persisted import Documents, DocumentRefused, load_manifest, sha256
from fiche.schema import build_schema
from tests.gateway.conftest import PROBE
from tests.gateway.ws_client import open_socket
from tests.support import TestOrg, live_server


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


def viewer_query() -> str:
    """A document no other test stored yet (the store lives as long as the schema)."""
    return f"query Viewer{uuid.uuid4().hex[:8]} {{ viewer {{ user {{ handle }} }} }}"


def apollo_extensions(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}


def auth(org: TestOrg) -> dict[str, str]:
    # What Apollo Client's HttpLink sends, plus the bearer token.
    return {"Authorization": f"Bearer {org.token('member')}", "Accept": "application/graphql-response+json,application/json;q=0.9"}


async def apollo_post(http: httpx.AsyncClient, org: TestOrg, query: str, *, with_text: bool) -> httpx.Response:
    body: dict[str, Any] = {"operationName": query.split()[1], "variables": {}, "extensions": apollo_extensions(query)}
    if with_text:
        body["query"] = query
    return await http.post("/graphql", json=body, headers=auth(org))


async def apollo_get(http: httpx.AsyncClient, org: TestOrg, query: str, *, with_text: bool = False) -> httpx.Response:
    params = {"operationName": query.split()[1], "variables": "{}", "extensions": json.dumps(apollo_extensions(query), separators=(",", ":"))}
    if with_text:
        params["query"] = query
    return await http.get("/graphql", params=params, headers=auth(org))


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


# ------------------------------------------------------------------ automatic persisted queries


async def test_an_unknown_hash_asks_for_the_text_then_the_hash_alone_runs(org: TestOrg, client: httpx.AsyncClient) -> None:
    query = viewer_query()
    # when: the hash alone, the hash with the text, then the hash alone again
    unknown = await apollo_post(client, org, query, with_text=False)
    registered = await apollo_post(client, org, query, with_text=True)
    by_hash = await apollo_post(client, org, query, with_text=False)
    # then
    assert unknown.status_code == 200
    assert unknown.json()["errors"] == [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    assert unknown.headers["cache-control"] == "no-store"
    expected = {"data": {"viewer": {"user": {"handle": "member"}}}}
    assert registered.json() == expected
    assert by_hash.json() == expected


async def test_a_registered_query_runs_over_get_by_hash(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    query = viewer_query()
    assert codes(await apollo_get(client, org, query)) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert (await apollo_get(client, org, query, with_text=True)).status_code == 200
    # when
    response = await apollo_get(client, org, query)
    # then
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"user": {"handle": "member"}}}}


async def test_a_persisted_mutation_never_runs_over_get(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given: a mutation stored by hash over POST
    name = f"Via GET {uuid.uuid4().hex[:6]}"
    mutation = f'mutation TeamCreate {{ teamCreate(name: "{name}") {{ errors {{ code }} }} }}'
    headers = {"Authorization": f"Bearer {org.token('admin')}"}
    await client.post("/graphql", json={"extensions": apollo_extensions(mutation), "query": mutation, "operationName": "TeamCreate"}, headers=headers)
    teams_before = await org.ok("{ teams { name } }")
    # when: a link anyone could make a browser follow
    params = {"operationName": "TeamCreate", "extensions": json.dumps(apollo_extensions(mutation))}
    response = await client.get("/graphql", params=params, headers={**headers, "Accept": "application/json"})
    # then
    assert response.status_code == 400
    assert await org.ok("{ teams { name } }") == teams_before


async def test_a_hash_that_is_not_the_text_s_is_refused_and_not_stored(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    query, other = viewer_query(), viewer_query()
    body = {"query": other, "operationName": other.split()[1], "extensions": apollo_extensions(query)}
    # when
    response = await client.post("/graphql", json=body, headers=auth(org))
    # then
    assert codes(response) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert "data" not in response.json() or response.json()["data"] is None
    assert codes(await apollo_post(client, org, query, with_text=False)) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize(
    "persisted",
    [{"version": 2, "sha256Hash": "0" * 64}, {"version": 1, "sha256Hash": "not-a-hash"}, {"version": 1}, "v1", [1]],
    ids=["version-2", "bad-hash", "no-hash", "string", "list"],
)
async def test_a_malformed_persisted_query_extension_is_a_typed_error(org: TestOrg, client: httpx.AsyncClient, persisted: Any) -> None:
    # when
    response = await client.post("/graphql", json={"extensions": {"persistedQuery": persisted}}, headers=auth(org))
    # then
    assert response.status_code == 200
    assert codes(response) == ["PERSISTED_QUERY_NOT_SUPPORTED"]


def test_the_store_is_bounded_in_documents_and_characters() -> None:
    # given
    documents = Documents(max_documents=3, max_characters=4000)
    queries = [f"query Q{index} {{ a }}" for index in range(5)]
    # when: hostile volume, and one document larger than a quarter of the budget
    for query in queries:
        documents.resolve(query, apollo_extensions(query))
    huge = "query Huge { a }" + " " * 2000
    documents.resolve(huge, apollo_extensions(huge))
    # then: the three most recent are kept, the huge one ran but was not stored
    assert len(documents) == 3
    for query in queries[2:]:
        assert documents.resolve(None, apollo_extensions(query)) == query
    for query in (queries[0], huge):
        with pytest.raises(DocumentRefused):
            documents.resolve(None, apollo_extensions(query))


# ------------------------------------------------------------------ trusted documents

TRUSTED_VIEWER = "query TrustedViewer { viewer { user { handle } } }"
TRUSTED_COUNT = "subscription TrustedCount { probeCount(to: 2) }"


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """An Apollo persisted-query manifest, as @apollo/generate-persisted-query-manifest writes it."""
    path = tmp_path / "persisted-query-manifest.json"
    operations = [
        {"id": sha256(TRUSTED_VIEWER), "name": "TrustedViewer", "type": "query", "body": TRUSTED_VIEWER},
        {"id": sha256(TRUSTED_COUNT), "name": "TrustedCount", "type": "subscription", "body": TRUSTED_COUNT},
    ]
    path.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}))
    return path


@pytest.fixture
def trusted(state: AppState, manifest: Path) -> AppState:
    return dataclasses.replace(state, settings=dataclasses.replace(state.settings, trusted_documents=str(manifest)))


@pytest.fixture
async def trusted_client(trusted: AppState) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(trusted.settings, state=trusted)), base_url="http://test") as http:
        yield http


async def test_trusted_mode_runs_a_manifest_document_by_id_and_by_text(org: TestOrg, trusted_client: httpx.AsyncClient) -> None:
    expected = {"data": {"viewer": {"user": {"handle": "member"}}}}
    # when / then: by hash over POST and GET, and as its exact text
    assert (await apollo_post(trusted_client, org, TRUSTED_VIEWER, with_text=False)).json() == expected
    assert (await apollo_get(trusted_client, org, TRUSTED_VIEWER)).json() == expected
    assert (await trusted_client.post("/graphql", json={"query": TRUSTED_VIEWER}, headers=auth(org))).json() == expected


async def test_trusted_mode_refuses_any_other_document_with_a_typed_error(org: TestOrg, trusted_client: httpx.AsyncClient) -> None:
    # given: a document outside the manifest, even one that does not validate
    other = "query Probe { viewer { user { handle email } } }"
    typo = "query Probe { viewer { usr } }"
    # when
    as_text = await trusted_client.post("/graphql", json={"query": other}, headers=auth(org))
    typo_text = await trusted_client.post("/graphql", json={"query": typo}, headers=auth(org))
    by_hash = await apollo_post(trusted_client, org, other, with_text=False)
    registered = await apollo_post(trusted_client, org, other, with_text=True)
    introspection = await trusted_client.post("/graphql", json={"query": "{ __schema { types { name } } }"}, headers=auth(org))
    # then: nothing about the schema leaks, not even a "Did you mean"
    assert codes(as_text) == codes(typo_text) == codes(registered) == codes(introspection) == ["DOCUMENT_NOT_TRUSTED"]
    assert codes(by_hash) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert "usr" not in typo_text.text and "Did you mean" not in typo_text.text


async def test_trusted_mode_applies_to_websocket_operations(org: TestOrg, trusted: AppState) -> None:
    async with live_server(create_app(trusted.settings, state=trusted)) as address, open_socket(address) as socket:
        ack = await socket.init({"Authorization": f"Bearer {org.token('member')}"})
        assert ack["type"] == "connection_ack"
        # when
        await socket.subscribe("trusted", TRUSTED_COUNT)
        first = await socket.next("trusted")
        await socket.subscribe("other", "subscription { probeCount(to: 1) }")
        refused = await socket.next("other")
    # then
    assert first is not None and first["data"]["probeCount"].startswith("1:")
    assert refused is not None
    assert [error["extensions"]["code"] for error in refused["errors"]] == ["DOCUMENT_NOT_TRUSTED"]


@pytest.mark.parametrize(
    "content",
    ["not json", "[1, 2]", '{"format": "apollo-persisted-query-manifest", "operations": [{"id": "x"}]}', '{"x": 1}'],
    ids=["not-json", "list", "no-body", "not-a-string"],
)
def test_a_broken_manifest_stops_the_gateway_with_a_clear_message(state: AppState, tmp_path: Path, content: str) -> None:
    # given
    path = tmp_path / "manifest.json"
    path.write_text(content)
    settings = dataclasses.replace(state.settings, trusted_documents=str(path))
    # when / then
    with pytest.raises(ValueError, match="FICHE_TRUSTED_DOCUMENTS"):
        build_schema(state.pm, settings)


def test_a_plain_id_to_document_manifest_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({"abc123": TRUSTED_VIEWER}))
    documents = Documents(load_manifest(str(path)))
    assert documents.resolve(None, {"documentId": "abc123"}) == TRUSTED_VIEWER
    assert documents.resolve(TRUSTED_VIEWER, None) == TRUSTED_VIEWER
